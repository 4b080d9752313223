"""The feed as Atom (RFC 4287), for feed readers: the same events as the JSON feed, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring

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
    """An Atom document; entry ids are stable URNs so readers never show an event twice."""
    feed = Element("feed", xmlns=ATOM_NAMESPACE)
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    newest = max((event.occurred_at for event in events), default=updated.isoformat(timespec="microseconds"))
    _text(feed, "updated", newest)
    SubElement(feed, "link", rel="self", href=self_url, type=ATOM_MEDIA_TYPE)
    author = SubElement(feed, "author")
    _text(author, "name", "pmbridge")
    for event in sorted(events, key=lambda e: e.id, reverse=True):
        entry = SubElement(feed, "entry")
        _text(entry, "id", f"{feed_id}:event:{event.id}")
        _text(entry, "title", event.summary)
        _text(entry, "updated", event.occurred_at)
        _text(entry, "summary", event.summary)
        SubElement(entry, "category", term=event.kind)
    body: bytes = tostring(feed, encoding="utf-8", xml_declaration=True)
    return body
