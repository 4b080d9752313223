"""Webhook registrations (admin and dynamic) and deliveries the way Jira Cloud sends them (reference §7).

Payloads use the REST v2 representation; admin webhooks with a secret are signed with
`X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`; every delivery carries an
`X-Atlassian-Webhook-Identifier` that stays the same across retries (the dispatcher adds
`X-Atlassian-Webhook-Retry` on redeliveries).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from sandbox.emit import OutgoingWebhook, WebhookSink
from sandbox.jira.fields import NAVIGABLE_FIELD_IDS
from sandbox.jira.jql import JqlError, parse_jql
from sandbox.jira.jqlcompile import Predicate, compile_query
from sandbox.jira.model import ChangeItem, Comment, History, Issue
from sandbox.jira.render import Renderer

if TYPE_CHECKING:
    from sandbox.jira.state import JiraWorld

ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
COMMENT_EVENTS = ("comment_created", "comment_updated", "comment_deleted")
PROPERTY_EVENTS = ("issue_property_set", "issue_property_deleted")
DYNAMIC_EVENTS = ISSUE_EVENTS + COMMENT_EVENTS + PROPERTY_EVENTS
# Events of the site's plan, not of one issue: admin webhooks only, and no JQL filter applies (the
# filter is the "issue-related events" section, reference §7.1). Prefixes as Jira spells them.
VERSION_EVENTS = (
    "jira:version_created", "jira:version_updated", "jira:version_released", "jira:version_unreleased",
)  # fmt: skip
SPRINT_EVENTS = ("sprint_created", "sprint_updated", "sprint_started", "sprint_closed")
PLAN_EVENTS = ("project_created", *VERSION_EVENTS, "board_created", *SPRINT_EVENTS)
# Dynamic webhooks "expire after 30 days" unless refreshed (reference §7.1).
DYNAMIC_TTL_MS = 30 * 86_400_000


@dataclass
class Registration:
    id: int
    url: str
    events: tuple[str, ...]
    jql: str | None
    name: str = ""
    secret: str | None = None
    exclude_body: bool = False
    dynamic: bool = False
    expiration_ms: int | None = None
    enabled: bool = True
    field_ids_filter: tuple[str, ...] = ()
    _matcher: Predicate | None = field(default=None, repr=False)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class JiraWebhooks:
    def __init__(self, world: JiraWorld, sink: WebhookSink) -> None:
        self.world = world
        self.sink = sink
        self.registrations: dict[int, Registration] = {}
        self._ids = itertools.count(1)
        self._deliveries = itertools.count(1)

    def _compile_filter(self, jql: str | None) -> Predicate | None:
        if not jql:
            return None
        return compile_query(parse_jql(jql), self.world).predicate

    def register(
        self,
        *,
        url: str,
        events: tuple[str, ...],
        jql: str | None = None,
        name: str = "",
        secret: str | None = None,
        exclude_body: bool = False,
    ) -> Registration:
        """An admin webhook (POST /rest/webhooks/1.0/webhook); raises JqlError for a bad filter."""
        matcher = self._compile_filter(jql)
        registration = Registration(
            next(self._ids), url, events, jql, name=name, secret=secret, exclude_body=exclude_body
        )
        registration._matcher = matcher
        self.registrations[registration.id] = registration
        return registration

    def register_dynamic(
        self, *, url: str, events: tuple[str, ...], jql: str, field_ids: tuple[str, ...]
    ) -> Registration:
        unknown = [e for e in events if e not in DYNAMIC_EVENTS]
        if unknown:
            raise JqlError(f"The event {unknown[0]} is not supported.")
        matcher = self._compile_filter(jql)
        registration = Registration(
            next(self._ids),
            url,
            events,
            jql,
            dynamic=True,
            expiration_ms=self.world.now_ms() + DYNAMIC_TTL_MS,
            field_ids_filter=field_ids,
        )
        registration._matcher = matcher
        self.registrations[registration.id] = registration
        return registration

    def remove(self, registration_id: int) -> bool:
        return self.registrations.pop(registration_id, None) is not None

    def _targets(self, event: str, issue: Issue, items: tuple[ChangeItem, ...] = ()) -> list[Registration]:
        now = self.world.now_ms()
        targets = []
        for registration in self.registrations.values():
            if not registration.enabled or event not in registration.events:
                continue
            if registration.expiration_ms is not None and registration.expiration_ms < now:
                continue
            wanted_fields = registration.field_ids_filter
            if wanted_fields and items and not any(i.field_id in wanted_fields for i in items):
                continue
            if registration._matcher is not None and not registration._matcher(issue):
                continue
            targets.append(registration)
        return targets

    def _send(self, registration: Registration, payload: dict[str, Any], *, flow: str = "Primary") -> None:
        body = b"" if registration.exclude_body else orjson.dumps(payload)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": str(next(self._deliveries)),
            "X-Atlassian-Webhook-Flow": flow,
        }
        if registration.secret:
            headers["X-Hub-Signature"] = sign(registration.secret, body)
        self.sink(
            OutgoingWebhook(
                url=registration.url,
                headers=headers,
                body=body,
                provider="jira",
                retry_headers={"X-Atlassian-Webhook-Retry": "{attempt}"},
            )
        )

    def _renderer(self) -> Renderer:
        return Renderer(self.world, base_url=self.world.site_url, api_version="2")

    def _issue_payload(self, renderer: Renderer, issue: Issue) -> dict[str, Any]:
        return renderer.issue(issue, fields=NAVIGABLE_FIELD_IDS, expand=set())

    def issue_event(self, event: str, issue: Issue, actor_id: str, history: History | None = None) -> None:
        items = history.items if history is not None else ()
        targets = self._targets(event, issue, items)
        if not targets:
            return
        renderer = self._renderer()
        payload: dict[str, Any] = {
            "timestamp": self.world.now_ms(),
            "webhookEvent": event,
            "issue_event_type_name": _event_type_name(event, items),
            "user": renderer.user(actor_id),
            "issue": self._issue_payload(renderer, issue),
        }
        if history is not None:
            payload["changelog"] = {"id": str(history.id), "items": renderer.history(history)["items"]}
        for registration in targets:
            self._send(registration, payload)

    def site_event(self, event: str, payload: dict[str, Any]) -> None:
        """A plan event (PLAN_EVENTS): `payload` is what follows `timestamp` and `webhookEvent`."""
        now = self.world.now_ms()
        targets = [
            r
            for r in self.registrations.values()
            if r.enabled and not r.dynamic and event in r.events
            and (r.expiration_ms is None or r.expiration_ms >= now)
        ]  # fmt: skip
        if not targets:
            return
        body = {"timestamp": now, "webhookEvent": event, **payload}
        for registration in targets:
            self._send(registration, body)

    def renderer(self) -> Renderer:
        """The v2 representation webhook payloads use, linking to where the site is served."""
        return self._renderer()

    def comment_event(self, event: str, issue: Issue, comment: Comment, *, flow: str = "Primary") -> None:
        targets = self._targets(event, issue)
        if not targets:
            return
        renderer = self._renderer()
        short_fields = ("summary", "issuetype", "project", "assignee", "priority", "status")
        issue_json = renderer.issue(issue, fields=short_fields, expand=set())
        del issue_json["expand"]
        payload = {
            "timestamp": self.world.now_ms(),
            "webhookEvent": event,
            "comment": renderer.comment(comment),
            "issue": issue_json,
        }
        for registration in targets:
            self._send(registration, payload, flow=flow)

    def property_event(self, event: str, issue: Issue, key: str, value: Any, actor_id: str) -> None:
        targets = self._targets(event, issue)
        if not targets:
            return
        renderer = self._renderer()
        payload = {
            "timestamp": self.world.now_ms(),
            "webhookEvent": event,
            "user": renderer.user(actor_id),
            "issue": {"id": str(issue.id), "key": issue.key, "self": f"{renderer.api}/issue/{issue.id}"},
            "property": {"key": key, "value": value},
        }
        for registration in targets:
            self._send(registration, payload)


def _event_type_name(event: str, items: tuple[ChangeItem, ...]) -> str:
    if event == "jira:issue_created":
        return "issue_created"
    if event == "jira:issue_deleted":
        return "issue_deleted"
    fields = {i.field_id for i in items}
    if fields == {"assignee"}:
        return "issue_assigned"
    if "status" in fields:
        return "issue_generic"
    return "issue_updated"
