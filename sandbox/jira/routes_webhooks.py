"""Webhook registration: admin webhooks (/rest/webhooks/1.0) and app webhooks (/rest/api/3/webhook)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from sandbox.jira.http import ApiError, Ctx, jira_endpoint, json_response
from sandbox.jira.jql import JqlError
from sandbox.jira.routes_meta import paged
from sandbox.jira.state import JiraWorld
from sandbox.jira.timefmt import format_jira
from sandbox.jira.webhooks import DYNAMIC_TTL_MS, Registration

ADMIN = "/rest/webhooks/1.0/webhook"
JQL_FILTER_KEY = "issue-related-events-section"


def _admin_json(ctx: Ctx, registration: Registration) -> dict[str, Any]:
    return {
        "self": f"{ctx.renderer.base}{ADMIN}/{registration.id}",
        "name": registration.name,
        "url": registration.url,
        "events": list(registration.events),
        "filters": {JQL_FILTER_KEY: registration.jql or ""},
        "excludeBody": registration.exclude_body,
        "enabled": registration.enabled,
        "lastUpdated": format_jira(ctx.world.now_ms(), ctx.world.tz),
    }


def _admin_registration(ctx: Ctx) -> Registration:
    raw = ctx.path("webhookId")
    registration = ctx.world.webhooks.registrations.get(int(raw)) if raw.isdigit() else None
    if registration is None or registration.dynamic:
        raise ApiError(404, [f"Webhook with id {raw} does not exist."])
    return registration


def create_admin(ctx: Ctx) -> Response:
    data = ctx.json_object()
    url, events = data.get("url"), data.get("events")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ApiError(400, [], {"url": "The URL must be a valid http(s) URL."})
    if not isinstance(events, list) or not events:
        raise ApiError(400, [], {"events": "At least one event is required."})
    filters = data.get("filters") or {}
    jql = filters.get(JQL_FILTER_KEY) if isinstance(filters, dict) else None
    try:
        registration = ctx.world.webhooks.register(
            url=url,
            events=tuple(str(e) for e in events),
            jql=str(jql) if jql else None,
            name=str(data.get("name") or ""),
            secret=str(data["secret"]) if data.get("secret") else None,
            exclude_body=bool(data.get("excludeBody", False)),
        )
    except JqlError as error:
        raise ApiError(400, [], {"filters": error.message}) from None
    return json_response(_admin_json(ctx, registration), 201)


def list_admin(ctx: Ctx) -> Response:
    registrations = [r for r in ctx.world.webhooks.registrations.values() if not r.dynamic]
    return json_response([_admin_json(ctx, r) for r in registrations])


def get_admin(ctx: Ctx) -> Response:
    return json_response(_admin_json(ctx, _admin_registration(ctx)))


def delete_admin(ctx: Ctx) -> Response:
    ctx.world.webhooks.remove(_admin_registration(ctx).id)
    return Response(status_code=204)


def _require_app(ctx: Ctx) -> None:
    # Dynamic webhooks are for OAuth 2.0 and Connect apps only (reference §7.1).
    if ctx.caller.kind != "oauth":
        raise ApiError(403, ["Only Connect and OAuth 2.0 apps can use this operation."])


def register_dynamic(ctx: Ctx) -> Response:
    _require_app(ctx)
    data = ctx.json_object()
    url, specs = data.get("url"), data.get("webhooks")
    if not isinstance(url, str) or not isinstance(specs, list) or not specs:
        raise ApiError(400, ["url and webhooks are required."])
    results: list[dict[str, Any]] = []
    for spec in specs:
        if not isinstance(spec, dict) or not spec.get("jqlFilter"):
            results.append({"errors": ["The jqlFilter is required."]})
            continue
        try:
            registration = ctx.world.webhooks.register_dynamic(
                url=url,
                events=tuple(str(e) for e in spec.get("events") or ()),
                jql=str(spec["jqlFilter"]),
                field_ids=tuple(str(f) for f in spec.get("fieldIdsFilter") or ()),
            )
        except JqlError as error:
            results.append({"errors": [error.message]})
            continue
        results.append({"createdWebhookId": registration.id})
    return json_response({"webhookRegistrationResult": results})


def list_dynamic(ctx: Ctx) -> Response:
    _require_app(ctx)
    values = []
    for registration in ctx.world.webhooks.registrations.values():
        if not registration.dynamic:
            continue
        value: dict[str, Any] = {
            "id": registration.id,
            "events": list(registration.events),
            "jqlFilter": registration.jql,
            "expirationDate": registration.expiration_ms,
            "url": registration.url,
        }
        if registration.field_ids_filter:
            value["fieldIdsFilter"] = list(registration.field_ids_filter)
        values.append(value)
    return json_response(paged(ctx, "webhook", values, default_max=100, maximum=100))


def _webhook_ids(ctx: Ctx) -> list[int]:
    ids = ctx.json_object().get("webhookIds")
    if not isinstance(ids, list):
        raise ApiError(400, [], {"webhookIds": "webhookIds must be a list."})
    return [int(i) for i in ids]


def refresh_dynamic(ctx: Ctx) -> Response:
    _require_app(ctx)
    expiration = ctx.world.now_ms() + DYNAMIC_TTL_MS
    for webhook_id in _webhook_ids(ctx):
        registration = ctx.world.webhooks.registrations.get(webhook_id)
        if registration is not None and registration.dynamic:
            registration.expiration_ms = expiration
    return json_response({"expirationDate": expiration})


def delete_dynamic(ctx: Ctx) -> Response:
    _require_app(ctx)
    for webhook_id in _webhook_ids(ctx):
        registration = ctx.world.webhooks.registrations.get(webhook_id)
        if registration is not None and registration.dynamic:
            ctx.world.webhooks.remove(webhook_id)
    return Response(status_code=202)


def webhook_routes(world: JiraWorld) -> list[BaseRoute]:
    return [
        jira_endpoint(world, ADMIN, ["POST"], create_admin),
        jira_endpoint(world, ADMIN, ["GET"], list_admin),
        jira_endpoint(world, f"{ADMIN}/{{webhookId}}", ["GET"], get_admin),
        jira_endpoint(world, f"{ADMIN}/{{webhookId}}", ["DELETE"], delete_admin),
        jira_endpoint(world, "/rest/api/3/webhook/refresh", ["PUT"], refresh_dynamic),
        jira_endpoint(world, "/rest/api/3/webhook", ["POST"], register_dynamic),
        jira_endpoint(world, "/rest/api/3/webhook", ["GET"], list_dynamic),
        jira_endpoint(world, "/rest/api/3/webhook", ["DELETE"], delete_dynamic),
    ]
