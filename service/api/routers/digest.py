"""The client's digest: done, next, promises kept and moved, risks, as Markdown or email-ready HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from service.api.auth import ClientCaller, require_client
from service.api.responses import cached_body
from service.api.routers.context import snapshots_of
from service.api.schemas.common import CLIENT_ERRORS, NOT_MODIFIED, ReportDay
from service.app_state import settings_of, store_of
from service.domain.enums import DigestPeriod
from service.feed.digest import build_digest
from service.feed.digest_render import HTML_MEDIA_TYPE, MARKDOWN_MEDIA_TYPE, render_html, render_markdown
from service.store.tenancy import get_client

router = APIRouter(prefix="/v1", tags=["client"])


class DigestFormat(StrEnum):
    MARKDOWN = "md"
    HTML = "html"


@router.get(
    "/digest",
    responses={
        200: {
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            },
            "description": "The digest as Markdown (`format=md`) or as an HTML email body (`format=html`).",
        },
        **CLIENT_ERRORS,
        **NOT_MODIFIED,
    },
    response_class=Response,
    summary="The caller's periodic digest",
)
def get_digest(
    request: Request,
    caller: Annotated[ClientCaller, Depends(require_client)],
    period: Annotated[DigestPeriod, Query(description="How far back the digest looks.")] = DigestPeriod.WEEK,
    output: Annotated[
        DigestFormat, Query(alias="format", description="Markdown or HTML.")
    ] = DigestFormat.MARKDOWN,
    ending: Annotated[
        ReportDay | None,
        Query(
            description="The last day the digest covers (default: today, UTC), from 1970-01-01 to 9998-12-31."
        ),
    ] = None,
) -> Response:
    """Done, coming next, promises kept / missed / moved, open risks, and the ratings asked for.

    Rating links point at this service's portal (`/portal/rate`).
    """
    snapshot = snapshots_of(request).get(caller.client_id)
    last_day = ending or datetime.now(UTC).date()
    with store_of(request).sessions() as session:
        client = get_client(session, client_id=caller.client_id)
        digest = build_digest(
            session, snapshot.grants, client_name=client.name, period=period, ending=last_day
        )
    base_url = settings_of(request).public_url or str(request.base_url)
    if output is DigestFormat.HTML:
        return cached_body(
            request, render_html(digest, base_url=base_url).encode(), media_type=HTML_MEDIA_TYPE
        )
    return cached_body(
        request, render_markdown(digest, base_url=base_url).encode(), media_type=MARKDOWN_MEDIA_TYPE
    )
