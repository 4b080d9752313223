"""The feed: JSON pages by opaque cursor, and the same events as Atom.

Async on purpose: the feed is the hot read. Token, scope and freshness come from short-lived
in-process caches and the page is one indexed query, serialized with orjson (docs/ARCHITECTURE.md, hot paths).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from service.api.auth import client_caller
from service.api.direct_route import DirectRoute
from service.api.responses import cached_body
from service.api.routers.context import feed_reader_of, snapshots_of
from service.api.schemas.client import FeedPageOut
from service.api.schemas.common import CLIENT_ERRORS, NOT_MODIFIED, error_responses
from service.feed.atom import ATOM_MEDIA_TYPE, render_atom
from service.feed.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# The hot read: routed directly, the token checked in the endpoint rather than as a dependency
# (resolving one cost as much as the whole page read, profiled under bench/bench_feed.py).
router = APIRouter(prefix="/v1", tags=["feed"], route_class=DirectRoute)


@router.get(
    "/feed",
    response_model=FeedPageOut,
    responses={**CLIENT_ERRORS, **error_responses(400), **NOT_MODIFIED},
    summary="The caller's events in the order published, a page at a time",
)
async def get_feed(
    request: Request,
    after: Annotated[
        str | None, Query(max_length=64, description="`next_cursor` of the previous page; omit to start.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Response:
    """Item done / reopened, milestone progress, commitment moved / met / missed / reopened, risk
    raised / withdrawn / resolved.

    The order is the order pmbridge published the events in, and it is stable: a page never changes
    once read, and new events only ever come after the last cursor. Poll with `next_cursor` until
    `has_more` is false; keep polling with it later. `occurred_at` is when an event happened at its
    source and `recorded_at` when it was published: a change learned late (back-filled by a sync)
    comes after the events published before it, with its true, older `occurred_at`. What an event
    said is never edited; a correction is an event of its own.
    """
    caller = client_caller(request)
    snapshot = snapshots_of(request).get(caller.client_id)
    reader = feed_reader_of(request)
    page = reader.read(
        client_id=caller.client_id, project_ids=snapshot.grants.project_ids, after=after, limit=limit
    )
    body = orjson.dumps(
        {
            "events": orjson.Fragment(page.events_json),
            "next_cursor": page.next_cursor,
            "has_more": page.has_more,
            "freshness": orjson.Fragment(snapshot.freshness_json),
        }
    )
    return cached_body(request, body)


@router.get(
    "/feed.atom",
    responses={
        200: {"content": {ATOM_MEDIA_TYPE: {"schema": {"type": "string"}}}, "description": "An Atom feed."},
        **CLIENT_ERRORS,
        **NOT_MODIFIED,
    },
    response_class=Response,
    summary="The newest events as an Atom feed",
)
async def get_feed_atom(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> Response:
    """The same events as `/v1/feed`, newest published first; each entry's `<updated>` is its
    `recorded_at` and its `<published>` its `occurred_at`."""
    caller = client_caller(request)
    snapshot = snapshots_of(request).get(caller.client_id)
    events = feed_reader_of(request).latest(
        client_id=caller.client_id, project_ids=snapshot.grants.project_ids, limit=limit
    )
    body = render_atom(
        feed_id=f"urn:pmbridge:client:{caller.client_id}:feed",
        title="Delivery updates",
        self_url=str(request.url),
        events=events,
        updated=datetime(1970, 1, 1, tzinfo=UTC),
    )
    return cached_body(request, body, media_type=ATOM_MEDIA_TYPE)
