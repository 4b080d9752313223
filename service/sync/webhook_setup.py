"""Webhooks as the operator manages them: registering (or confirming) a source's webhooks at the
provider, and how its deliveries stand.

Only a provider with a `webhook_registration` (Trello) lets an integration register webhooks; a
Jira source's are set up by its site administrator, with the secret pmbridge verifies them with.
Trello probes the callback with HEAD before it creates a webhook, so the service must already answer
at `PMBRIDGE_PUBLIC_URL`; without one nothing is registered and the report's `callback_url` is None.
`sources add trello` and `sources webhooks` (CLI) and `POST /admin/sources/{id}/webhooks` call this.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.http import ConnectorError
from service.domain.work import Source
from service.errors import ConfigurationError, InvalidInputError, UnprocessableInputError
from service.providers import provider_for
from service.providers.trello import open_trello_client
from service.store.db import Session
from service.store.inbox_admin import WebhookDeliveryStatus, list_webhook_delivery_statuses
from service.store.runtime import Store
from service.store.sources import get_source, list_sources, read_credentials
from service.sync.trello_settings import TrelloSyncSettings


@dataclass(frozen=True, slots=True)
class WebhookReport:
    """What registering did: the outcome per watched board, by id, at `callback_url` (None: no
    public URL, so nothing was registered)."""

    source_id: int
    webhooks: dict[str, str]
    callback_url: str | None

    def to_json(self) -> dict[str, object]:
        return {"id": self.source_id, "webhooks": dict(self.webhooks), "callback_url": self.callback_url}


def find_trello_boards(
    source: Source, credentials: dict[str, str], *, wanted: list[str]
) -> tuple[str, list[str]]:
    """The member the credentials act as, and the boards to watch: `wanted`, each checked readable,
    else every open board of the member. `InvalidInputError` when Trello refuses or cannot be reached."""
    try:
        with open_trello_client(source, credentials) as client:
            member = client.get_member("me")
            if not wanted:
                return member.username or member.id, [b.id.lower() for b in client.list_member_boards("me")]
            missing = [
                board_id
                for board_id, result in zip(wanted, client.get_boards(wanted), strict=True)
                if not result.ok
            ]
    except (ConnectorError, ConfigurationError) as exc:
        raise InvalidInputError(f"cannot connect to Trello at {source.base_url}: {exc}") from exc
    if missing:
        raise InvalidInputError(f"the token cannot read the boards {', '.join(missing)}")
    return member.username or member.id, wanted


def register_webhooks(
    source: Source, credentials: dict[str, str], *, board_ids: list[str], public_url: str | None
) -> WebhookReport:
    """Register (or confirm) one webhook per board at the source's callback under `public_url`."""
    assert source.id is not None
    registration = provider_for(source.kind).webhook_registration
    if registration is None:
        raise _set_up_at_the_provider(source)
    if not public_url:
        return WebhookReport(source_id=source.id, webhooks={}, callback_url=None)
    callback_url = registration.callback_url(public_url, source.id)
    outcome = registration.register(source, credentials, callback_url=callback_url, model_ids=board_ids)
    return WebhookReport(source_id=source.id, webhooks=dict(outcome), callback_url=callback_url)


def register_source_webhooks(store: Store, *, source_id: int, public_url: str | None) -> WebhookReport:
    """Register (or confirm) a stored source's webhooks for the boards it syncs (its `board_ids`, else
    every open board). `NotFoundError` for no such source; `UnprocessableInputError` for a source
    whose webhooks are set up at the provider (Jira); `InvalidInputError` when Trello refuses."""
    with store.sessions() as session:
        source = get_source(session, source_id=source_id)
        credentials = read_credentials(session, cipher=store.cipher, source_id=source_id)
    if provider_for(source.kind).webhook_registration is None:
        raise _set_up_at_the_provider(source)
    wanted = list(TrelloSyncSettings.from_settings(source.settings).board_ids)
    _, board_ids = find_trello_boards(source, credentials, wanted=wanted)
    return register_webhooks(source, credentials, board_ids=board_ids, public_url=public_url)


def _set_up_at_the_provider(source: Source) -> UnprocessableInputError:
    label = provider_for(source.kind).family.label
    return UnprocessableInputError(
        f"source {source.id} is a {label} source: its webhooks are set up by its administrator at "
        f"{label}, with the webhook secret pmbridge verifies them with, not registered from here",
        details={"source_id": source.id, "kind": source.kind.value},
    )


def read_webhook_status(session: Session, *, source_id: int) -> WebhookDeliveryStatus:
    """A source's deliveries: when the last was received, how many wait to be processed, how many
    failed for good (dead letters). `NotFoundError` for no such source."""
    get_source(session, source_id=source_id)
    return list_webhook_delivery_statuses(session, source_ids=[source_id])[source_id]


def list_webhook_statuses(session: Session) -> list[WebhookDeliveryStatus]:
    """Every source's deliveries, as `read_webhook_status`, by source id."""
    ids = [source.id for source in list_sources(session) if source.id is not None]
    statuses = list_webhook_delivery_statuses(session, source_ids=ids)
    return [statuses[source_id] for source_id in ids]
