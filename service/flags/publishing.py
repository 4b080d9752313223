"""An operator's publish or withdrawal of a flag, with what the clients who see its subject are told.

Publishing an open flag shows it to those clients as a risk in the operator's wording, and their
feed (with Atom and subscriptions, which read it) gets a `risk_raised` event; keeping a published
one internal again gets a `risk_withdrawn` event. Both events are derived in
`service.feed.derive.derive_publication` and written in the same transaction as the flag.
"""

from __future__ import annotations

from datetime import datetime

from service.domain.enums import FlagState
from service.domain.signals import Flag
from service.errors import UnprocessableInputError
from service.feed.derive import derive_publication, risk_of
from service.store.db import Session
from service.store.feed_writes import lock_feed_writes, publish_events
from service.store.flags import find_flag_project_id, get_flag, keep_flag_internal, publish_flag

# The longest wording a client is shown for a risk (the admin API's `PublishIn` holds the same bound).
MAX_CLIENT_TEXT = 2000


def check_client_text(client_text: str) -> str:
    """The wording, or `UnprocessableInputError` when it is empty or longer than `MAX_CLIENT_TEXT`."""
    if not client_text:
        raise UnprocessableInputError(
            "the text clients see may not be empty", details={"field": "client_text"}
        )
    if len(client_text) > MAX_CLIENT_TEXT:
        raise UnprocessableInputError(
            f"the text clients see is {len(client_text)} characters long; at most {MAX_CLIENT_TEXT}",
            details={"field": "client_text", "max_length": MAX_CLIENT_TEXT},
        )
    return client_text


def publish_risk(
    session: Session, *, flag_id: int, client_text: str, now: datetime, by: str | None = None
) -> Flag:
    """Show the flag to the clients who see its subject, in `client_text` (never the rule's words);
    an empty or too long text is `UnprocessableInputError` (`check_client_text`)."""
    check_client_text(client_text)
    before = get_flag(session, flag_id=flag_id)
    after = publish_flag(session, flag_id=flag_id, client_text=client_text, now=now, by=by)
    _tell_clients(session, before=before, after=after, now=now)
    return after


def keep_risk_internal(session: Session, *, flag_id: int, now: datetime, by: str | None = None) -> Flag:
    """Hide the flag from clients again; those who were shown it read that it was withdrawn."""
    before = get_flag(session, flag_id=flag_id)
    after = keep_flag_internal(session, flag_id=flag_id, now=now, by=by)
    _tell_clients(session, before=before, after=after, now=now)
    return after


def _tell_clients(session: Session, *, before: Flag, after: Flag, now: datetime) -> None:
    project_id = find_flag_project_id(session, flag=after)
    if project_id is None:
        return
    drafts = derive_publication(
        risk_of(before),
        risk_of(after),
        still_open=after.state is FlagState.OPEN,
        project_id=project_id,
        now=now,
    )
    if drafts:
        lock_feed_writes(session)
        publish_events(session, drafts=drafts, now=now)
