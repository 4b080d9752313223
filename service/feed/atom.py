"""The feed as Atom (RFC 4287), for feed readers: the same events as the JSON feed, newest first.

Entries come in the feed's order (by id, newest first). Each entry's `<updated>` is when pmbridge
published the event (`recorded_at`) and its `<published>` when it happened at its source
(`occurred_at`): a reader sorting by `<updated>` lists a change learned late among the news of the
day it was learned, dated to the day it happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from service.feed.wording import event_kind_label
from service.store.feed_queries import FeedEventRecord

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"


def _text(parent: Element, tag: str, value: str) -> Element:
    element = SubElement(parent, tag)
    element.text = value
    return element


def render_atom(
    *, feed_id: str, title: str, self_url: str, events: Sequence[FeedEventRecord], updated: datetime
) -> bytes:
    """An Atom document; entry ids are stable URNs so readers never show an event twice. `updated`
    is the feed's time when it has no events."""
    feed = Element("feed", xmlns=ATOM_NAMESPACE)
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    newest = max((event.recorded_at for event in events), default=updated.isoformat(timespec="microseconds"))
    _text(feed, "updated", newest)
    SubElement(feed, "link", rel="self", href=self_url, type=ATOM_MEDIA_TYPE)
    author = SubElement(feed, "author")
    _text(author, "name", "pmbridge")
    for event in sorted(events, key=lambda e: e.id, reverse=True):
        entry = SubElement(feed, "entry")
        _text(entry, "id", f"{feed_id}:event:{event.id}")
        _text(entry, "title", event.summary)
        _text(entry, "updated", event.recorded_at)
        _text(entry, "published", event.occurred_at)
        _text(entry, "summary", event.summary)
        SubElement(entry, "category", term=event.kind, label=event_kind_label(event.kind))
    body: bytes = tostring(feed, encoding="utf-8", xml_declaration=True)
    return body
