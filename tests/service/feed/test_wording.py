"""The client's words for feed events: every kind has a name, and a stored kind this version does
not know is shown as it is stored rather than failing a page."""

from __future__ import annotations

from service.domain.enums import FeedEventKind
from service.feed.wording import EVENT_KIND_LABELS, event_kind_label


def test_every_feed_event_kind_has_a_label_of_its_own() -> None:
    assert set(EVENT_KIND_LABELS) == set(FeedEventKind)
    assert len(set(EVENT_KIND_LABELS.values())) == len(FeedEventKind)


def test_event_kind_label_of_a_kind_unknown_to_this_version_is_the_kind() -> None:
    assert event_kind_label("risk_withdrawn") == "Risk withdrawn"
    assert event_kind_label("something_new") == "something_new"
