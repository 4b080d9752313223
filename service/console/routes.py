"""The console's pages: sign-in and out, Today, the flags and one flag with its actions.

Every page resolves the operator from the session cookie and re-checks its token, which must be an
admin token. Forms that change state carry the session's CSRF token and are refused without it; a
form with bad input is shown again with what was typed and a message next to the field (422), and
nothing of it is saved. The other pages are in `feedback`, `sources`, `rules` and `clients`, on the
same router.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from starlette.responses import Response

from service.app_state import store_of
from service.console.render import (
    checked_target,
    message,
    not_found,
    page,
    parse_id,
    render_page,
    router,
)
from service.console.views import build_flag_page, build_today, group_by_milestone
from service.console.web import CONSOLE, HOME_PATH, Operator, current_operator
from service.domain.enums import DismissReason, FlagListState, FlagState, Severity
from service.errors import NotFoundError, UnprocessableInputError
from service.feed.digest import RiskLine
from service.feed.digest_render import render_risk_html, render_risk_markdown
from service.flags.listing import FlagFilter, list_flags_for_operator
from service.flags.publishing import MAX_CLIENT_TEXT, check_client_text, keep_risk_internal, publish_risk
from service.flags.triage import acknowledge, dismiss, snooze
from service.store.db import reading, transaction
from service.store.flags import find_flag
from service.store.tenancy import list_clients
from service.web.client_pages import risk_row
from service.web.forms import FormFields, redirect, sign_in_redirect
from service.web.render import stylesheet_response
from service.web.signing import show_sign_in, submit_sign_in, submit_sign_out

PAGE_SIZE = 50
DISMISS_REASONS = {
    DismissReason.FALSE_POSITIVE: "False positive: the rule is wrong here",
    DismissReason.KNOWN: "Known: we know, and it needs no flag",
    DismissReason.NOT_CLIENT_RELEVANT: "Not client relevant",
}
NOTICES = {
    "acknowledged": "Acknowledged.",
    "snoozed": "Snoozed.",
    "dismissed": "Dismissed.",
    "published": "Published to the clients who see it.",
    "unpublished": "Kept internal again; clients who saw it read that it was withdrawn.",
}


def _sign_in_page(*, csrf: str, next_path: str, error: str | None, status_code: int) -> Response:
    return render_page(
        "sign_in.html",
        status_code=status_code,
        operator=None,
        csrf=csrf,
        active="",
        next_path=next_path,
        error=error,
    )


@router.get("/sign-in")
def sign_in_form(
    request: Request, next_path: Annotated[str | None, Query(alias="next", max_length=500)] = None
) -> Response:
    return show_sign_in(request, CONSOLE, _sign_in_page, next_path=next_path)


@router.post("/sign-in")
def sign_in_submit(request: Request, form: FormFields) -> Response:
    return submit_sign_in(request, CONSOLE, _sign_in_page, form)


@router.post("/sign-out")
def sign_out(request: Request, form: FormFields) -> Response:
    response = submit_sign_out(request, CONSOLE, form)
    if response is None:
        operator = current_operator(request)
        return message(operator, status_code=403, title="Not signed out", text="The form expired; try again.")
    return response


@router.get("/static/console.css")
def console_stylesheet() -> Response:
    return stylesheet_response("service.console", "console.css")


@router.get("")
@router.get("/")
def today(request: Request) -> Response:
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    with reading(store_of(request).sessions) as session:
        view = build_today(session, now=datetime.now(UTC))
    return page(operator, "today.html", active="today", page=view)


@dataclass
class FlagQuery:
    """The flag filter as typed, with a message per field that was not understood."""

    client: str = ""
    project: str = ""
    rule: str = ""
    severity: str = ""
    state: str = ""
    errors: dict[str, str] | None = None

    def to_filter(self) -> FlagFilter | None:
        errors: dict[str, str] = {}
        severity = state = None
        if self.severity:
            try:
                severity = Severity(self.severity)
            except ValueError:
                errors["severity"] = "Choose a severity from the list."
        if self.state:
            try:
                state = FlagListState(self.state)
            except ValueError:
                errors["state"] = "Choose a state from the list."
        self.errors = errors
        if errors:
            return None
        return FlagFilter(
            client=self.client or None,
            project=self.project or None,
            rule=self.rule or None,
            severity=severity,
            state=state,
        )

    def link(self, **changes: str) -> str:
        values = {
            "client": self.client,
            "project": self.project,
            "rule": self.rule,
            "severity": self.severity,
            "state": self.state,
            **changes,
        }
        return f"{HOME_PATH}/flags?" + urlencode({k: v for k, v in values.items() if v})


Text = Annotated[str, Query(max_length=200)]


@router.get("/flags")
def flags(
    request: Request,
    client: Text = "",
    project: Text = "",
    rule: Text = "",
    severity: Text = "",
    state: Text = "",
    after: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    query = FlagQuery(
        client=client.strip(), project=project.strip(), rule=rule.strip(), severity=severity, state=state
    )
    filters = query.to_filter()
    after_id = parse_id(after) or 0
    now = datetime.now(UTC)
    groups = []
    next_after: int | None = None
    with reading(store_of(request).sessions) as session:
        clients = [c.name for c in list_clients(session, limit=500)]
        if filters is not None:
            try:
                listed = list_flags_for_operator(
                    session, filters=filters, now=now, after_id=after_id, limit=PAGE_SIZE + 1
                )
            except NotFoundError as exc:
                field = "project" if "project" in exc.details else "client"
                query.errors = {field: f"No {field} is named {getattr(query, field)!r}."}
                listed = []
            if len(listed) > PAGE_SIZE:
                listed = listed[:PAGE_SIZE]
                next_after = listed[-1].flag.id
            groups = group_by_milestone(session, listed)
    return page(
        operator,
        "flags.html",
        active="flags",
        status_code=422 if query.errors else 200,
        query=query,
        errors=query.errors or {},
        clients=clients,
        severities=[s.value for s in Severity],
        states=[s.value for s in FlagListState],
        groups=groups,
        next_link=None if next_after is None else query.link(after=str(next_after)),
        first_link=query.link() if after_id else None,
    )


def _flag_page(
    request: Request,
    operator: Operator,
    flag_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    with reading(store_of(request).sessions) as session:
        flag = find_flag(session, flag_id=flag_id)
        if flag is None:
            return not_found(operator)
        view = build_flag_page(session, flag, now=datetime.now(UTC))
    return page(
        operator,
        "flag.html",
        active="flags",
        status_code=status_code,
        page=view,
        errors=errors or {},
        typed=typed or {},
        notice=NOTICES.get(notice or ""),
        reasons=DISMISS_REASONS,
        open=view.flag.state is FlagState.OPEN,
    )


@router.get("/flags/{flag_id}")
def flag(request: Request, flag_id: str, done: Annotated[str, Query(max_length=16)] = "") -> Response:
    operator = current_operator(request)
    if operator is None:
        return sign_in_redirect(request, CONSOLE)
    parsed = parse_id(flag_id)
    if parsed is None:
        return not_found(operator)
    return _flag_page(request, operator, parsed, notice=done)


@dataclass(frozen=True, slots=True)
class FlagAction:
    operator: Operator
    flag_id: int


def _flag_action(request: Request, flag_id: str, form: dict[str, str]) -> FlagAction | Response:
    """The operator and flag of an action's form, or the response that refuses it."""
    checked = checked_target(request, form, flag_id)
    if isinstance(checked, Response):
        return checked
    operator, parsed = checked
    return FlagAction(operator=operator, flag_id=parsed)


def _done(flag_id: int, what: str) -> Response:
    return redirect(f"{HOME_PATH}/flags/{flag_id}?done={what}")


@router.post("/flags/{flag_id}/acknowledge")
def post_acknowledge(request: Request, flag_id: str, form: FormFields) -> Response:
    action = _flag_action(request, flag_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action.operator, action.flag_id
    try:
        with transaction(store_of(request).sessions) as session:
            acknowledge(session, flag_id=parsed, now=datetime.now(UTC), by=operator.by)
    except NotFoundError:
        return not_found(operator)
    return _done(parsed, "acknowledged")


@router.post("/flags/{flag_id}/snooze")
def post_snooze(request: Request, flag_id: str, form: FormFields) -> Response:
    action = _flag_action(request, flag_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action.operator, action.flag_id
    until = form.get("until", "").strip()
    try:
        with transaction(store_of(request).sessions) as session:
            if not until:
                raise UnprocessableInputError("Choose the date the snooze ends.", details={"field": "until"})
            snooze(session, flag_id=parsed, until=until, now=datetime.now(UTC), by=operator.by)
    except NotFoundError:
        return not_found(operator)
    except UnprocessableInputError as exc:
        text = "Choose a date after today." if "future" in exc.message else "Enter a date as YYYY-MM-DD."
        if not until:
            text = exc.message
        return _flag_page(
            request, operator, parsed, status_code=422, errors={"until": text}, typed={"until": until}
        )
    return _done(parsed, "snoozed")


@router.post("/flags/{flag_id}/dismiss")
def post_dismiss(request: Request, flag_id: str, form: FormFields) -> Response:
    action = _flag_action(request, flag_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action.operator, action.flag_id
    reason = form.get("reason", "")
    try:
        with transaction(store_of(request).sessions) as session:
            dismiss(session, flag_id=parsed, reason=reason, now=datetime.now(UTC), by=operator.by)
    except NotFoundError:
        return not_found(operator)
    except UnprocessableInputError:
        return _flag_page(
            request,
            operator,
            parsed,
            status_code=422,
            errors={"reason": "Choose why the flag is dismissed."},
            typed={"reason": reason},
        )
    return _done(parsed, "dismissed")


def _wording_error(wording: str) -> str | None:
    """The message beside the wording field when publishing would refuse it (`check_client_text`)."""
    try:
        check_client_text(wording)
    except UnprocessableInputError:
        if not wording:
            return "Write what the client should read."
        return f"Keep it under {MAX_CLIENT_TEXT:,} characters ({len(wording):,} now)."
    return None


@router.post("/flags/{flag_id}/publish")
def post_publish(request: Request, flag_id: str, form: FormFields) -> Response:
    """Without `confirm`: the preview, exactly as the portal and the digest will show the risk.
    With it: published."""
    action = _flag_action(request, flag_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action.operator, action.flag_id
    wording = " ".join(form.get("wording", "").split())
    error = _wording_error(wording)
    if error is not None:
        return _flag_page(
            request,
            operator,
            parsed,
            status_code=422,
            errors={"wording": error},
            typed={"wording": form.get("wording", "")},
        )
    if form.get("confirm") != "yes":
        with reading(store_of(request).sessions) as session:
            found = find_flag(session, flag_id=parsed)
            if found is None:
                return not_found(operator)
            view = build_flag_page(session, found, now=datetime.now(UTC))
        digest_line = RiskLine(project=view.subject.project_name, severity=found.severity, text=wording)
        return page(
            operator,
            "publish.html",
            active="flags",
            page=view,
            wording=wording,
            portal_risk=risk_row(found.severity, wording),
            digest_html=render_risk_html(digest_line),
            digest_markdown=render_risk_markdown(digest_line),
        )
    try:
        with transaction(store_of(request).sessions) as session:
            publish_risk(session, flag_id=parsed, client_text=wording, now=datetime.now(UTC), by=operator.by)
    except NotFoundError:
        return not_found(operator)
    return _done(parsed, "published")


@router.post("/flags/{flag_id}/unpublish")
def post_unpublish(request: Request, flag_id: str, form: FormFields) -> Response:
    action = _flag_action(request, flag_id, form)
    if isinstance(action, Response):
        return action
    operator, parsed = action.operator, action.flag_id
    try:
        with transaction(store_of(request).sessions) as session:
            keep_risk_internal(session, flag_id=parsed, now=datetime.now(UTC), by=operator.by)
    except NotFoundError:
        return not_found(operator)
    return _done(parsed, "unpublished")
