"""Removing a source: its rows go in one transaction (`service.store.source_removal`), then the flag
comments it had pushed to Jira or Trello are edited to say the item is no longer tracked, where the
source still answers.

The comments are edited after the commit, from what the transaction read (the source, its
credentials, its flags whose comments were posted): a slow or vanished provider never holds the
removal, and a removal that fails has edited nothing. Reaching the source is best effort: a comment
that is gone on the provider is counted as gone; the first failure of any other kind (the site does
not answer, the credentials no longer work) is logged and returned, and the comments after it are
counted as not edited rather than each waiting on the same failure. The removal stands either way:
the source's credentials are gone with it, so nothing could retry later.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from connectors.http import ConnectorError, RetryPolicy
from connectors.http import NotFoundError as ProviderNotFoundError
from service.domain.work import Source
from service.errors import ServiceError
from service.flags.push import pushed_flag_of
from service.flags.push_channels import open_comment_channel
from service.logging import get_logger
from service.store.db import transaction
from service.store.flags import PushedItemFlag, list_pushed_item_flags
from service.store.runtime import Store
from service.store.source_removal import SourceRemoval, delete_source
from service.store.sources import get_source, read_credentials

log = get_logger(__name__)

# The operator waits on a removal: one retry at most, a short wait for a site that does not answer.
REMOVAL_RETRY = RetryPolicy(max_attempts=2, max_retry_after=5.0)
REMOVAL_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass(frozen=True, slots=True)
class UntrackedComments:
    """What became of the removed source's pushed comments."""

    edited: int = 0
    gone: int = 0  # the comment, or its issue or card, no longer exists on the provider
    not_edited: int = 0
    error: str | None = None  # why the first comment not edited was not


@dataclass(frozen=True, slots=True)
class SourceRemoved:
    removal: SourceRemoval
    comments: UntrackedComments


def remove_source(
    store: Store,
    *,
    source_id: int,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy = REMOVAL_RETRY,
) -> SourceRemoved:
    """Delete the source with everything of it, then mark its pushed comments no longer tracked.

    Raises `NotFoundError` for a source that does not exist; never for a provider that fails.
    """
    with transaction(store.sessions) as session:
        source = get_source(session, source_id=source_id)
        credentials = read_credentials(session, cipher=store.cipher, source_id=source_id)
        pushed = list_pushed_item_flags(session, source_id=source_id)
        removal = delete_source(session, source_id=source_id)
    log.info("sources.source.removed", source_id=source_id, pushed_comments=len(pushed))
    comments = untrack_comments(source, credentials, pushed, transport=transport, retry=retry)
    return SourceRemoved(removal=removal, comments=comments)


def untrack_comments(
    source: Source,
    credentials: dict[str, str],
    pushed: list[PushedItemFlag],
    *,
    transport: httpx.BaseTransport | None,
    retry: RetryPolicy,
) -> UntrackedComments:
    """Edit each pushed comment to say its item is no longer tracked (see the module docstring)."""
    if not pushed:
        return UntrackedComments()
    edited = gone = 0
    try:
        channel = open_comment_channel(
            source, credentials, transport=transport, retry=retry, timeout=REMOVAL_TIMEOUT
        )
    except (ConnectorError, ServiceError) as exc:
        return _gave_up(source, pushed, done=0, edited=0, gone=0, error=exc)
    try:
        for done, entry in enumerate(pushed):
            comment_id = entry.flag.pushed_comment_id
            assert comment_id is not None
            try:
                channel.update(
                    target=entry.item_external_id,
                    comment_id=comment_id,
                    flag=pushed_flag_of(entry.flag, untracked=True),
                )
            except ProviderNotFoundError:
                gone += 1
            except (ConnectorError, ServiceError) as exc:
                return _gave_up(source, pushed, done=done, edited=edited, gone=gone, error=exc)
            else:
                edited += 1
    finally:
        channel.close()
    return UntrackedComments(edited=edited, gone=gone)


def _gave_up(
    source: Source, pushed: list[PushedItemFlag], *, done: int, edited: int, gone: int, error: Exception
) -> UntrackedComments:
    reason = f"{type(error).__name__}: {str(error)[:300]}"
    log.warning(
        "sources.comments.not_edited",
        source_id=source.id,
        not_edited=len(pushed) - done,
        error=reason,
    )
    return UntrackedComments(edited=edited, gone=gone, not_edited=len(pushed) - done, error=reason)
