"""The provider registry: every source kind has one provider, and every layer's table has an entry
for every provider family, so no caller needs to compare kinds."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from connectors.http import RetryPolicy
from service.api.webhooks import router as jira_webhooks
from service.api.webhooks_trello import router as trello_webhooks
from service.domain.enums import SourceKind
from service.domain.work import Source
from service.errors import ConfigurationError, InvalidInputError
from service.flags.push_channels import (
    CHANNELS,
    JiraCommentChannel,
    TrelloCommentChannel,
    open_comment_channel,
)
from service.netcheck import ALLOW_PRIVATE_SETTING
from service.providers import PROVIDERS, ProviderFamily, provider_for
from service.providers.base import route_url
from service.providers.jira import JiraProvider
from service.providers.trello import TrelloProvider, trello_callback_url
from service.sync.providers import SYNCING, JiraSyncing, TrelloSyncing, syncing_for
from tests.support.jira_sandbox import serve_jira_sandbox
from tests.support.trello_sandbox import serve_trello_sandbox

SERVICE = Path(__file__).resolve().parents[3] / "service"
# Where a kind is spelled out: the registry's table, and where the kind is data (the admin API's
# discriminated bodies, the CLI, the console's connect form and the demo choosing which kind to
# create, the domain's names of
# each provider's promised-date field in a raw changelog).
KIND_IS_DATA = {
    "service/providers/jira.py",
    "service/providers/trello.py",
    "service/providers/registry.py",
    "service/api/schemas/admin.py",
    "service/cli/sources.py",
    "service/console/sources.py",
    "service/cli/demo_run.py",
    "service/domain/ledger.py",
}
_KIND_CHECK = re.compile(r"SourceKind\.(JIRA_CLOUD|JIRA_DATA_CENTER|TRELLO)\b|JIRA_KINDS")

# The sandboxes answer on loopback over http: sources reaching them carry the opt-in.
LOOPBACK: dict[str, object] = {ALLOW_PRIVATE_SETTING: True}


def test_every_source_kind_has_exactly_one_provider() -> None:
    assert set(PROVIDERS) == set(SourceKind)
    for kind in SourceKind:
        assert provider_for(kind) is PROVIDERS[kind]
        assert provider_for(kind).kind is kind


def test_both_jira_kinds_share_one_implementation() -> None:
    cloud, data_center = provider_for(SourceKind.JIRA_CLOUD), provider_for(SourceKind.JIRA_DATA_CENTER)
    assert isinstance(cloud, JiraProvider) and isinstance(data_center, JiraProvider)
    assert cloud.family is data_center.family is ProviderFamily.JIRA
    assert isinstance(provider_for(SourceKind.TRELLO), TrelloProvider)
    assert provider_for(SourceKind.TRELLO).family is ProviderFamily.TRELLO
    assert {provider.family for provider in PROVIDERS.values()} == set(ProviderFamily)


def test_every_family_is_wired_in_every_layer() -> None:
    assert set(SYNCING) == set(ProviderFamily)
    assert set(CHANNELS) == set(ProviderFamily)
    assert isinstance(syncing_for(SourceKind.JIRA_CLOUD), JiraSyncing)
    assert isinstance(syncing_for(SourceKind.JIRA_DATA_CENTER), JiraSyncing)
    assert isinstance(syncing_for(SourceKind.TRELLO), TrelloSyncing)


@pytest.mark.parametrize(
    ("kind", "base_url", "credentials", "channel"),
    [
        (
            SourceKind.JIRA_CLOUD,
            "https://acme.atlassian.net",
            {"email": "a@b.c", "api_token": "t"},
            JiraCommentChannel,
        ),
        (SourceKind.JIRA_DATA_CENTER, "https://jira.acme.test", {"token": "pat"}, JiraCommentChannel),
        (SourceKind.TRELLO, "https://api.trello.com", {"api_key": "k", "token": "t"}, TrelloCommentChannel),
    ],
)
def test_each_kind_opens_its_comment_channel(
    kind: SourceKind, base_url: str, credentials: dict[str, str], channel: type
) -> None:
    source = Source(id=1, kind=kind, name="s", base_url=base_url)
    opened = open_comment_channel(source, credentials, transport=None, retry=RetryPolicy(max_attempts=1))
    try:
        assert isinstance(opened, channel)
    finally:
        opened.close()


def test_every_provider_receives_deliveries_at_a_webhook_route() -> None:
    paths = {getattr(route, "path", None) for route in (*jira_webhooks.routes, *trello_webhooks.routes)}
    for provider in PROVIDERS.values():
        assert provider.webhooks.path in paths
        assert provider.webhooks.path.format(source_id=7).endswith(f"/{provider.family.value}/7")


def test_only_trello_registers_webhooks_at_its_intake_route() -> None:
    for kind in (SourceKind.JIRA_CLOUD, SourceKind.JIRA_DATA_CENTER):
        assert provider_for(kind).webhook_registration is None
    trello = provider_for(SourceKind.TRELLO)
    registration = trello.webhook_registration
    assert registration is not None
    url = registration.callback_url("https://pm.example/", 7)
    assert url == "https://pm.example/webhooks/trello/7"
    assert url == trello_callback_url("https://pm.example", 7)
    assert url == route_url("https://pm.example", trello.webhooks.path, 7)


def test_jira_deliveries_are_keyed_by_their_identifier_else_by_the_body() -> None:
    verifier = provider_for(SourceKind.JIRA_CLOUD).webhooks
    body = b'{"webhookEvent": "jira:issue_updated"}'
    payload: dict[str, object] = {"webhookEvent": "jira:issue_updated"}
    keyed = verifier.identify(
        body=body, headers={"X-Atlassian-Webhook-Identifier": "abc"}, payload=payload, max_id_chars=200
    )
    assert keyed == ("abc", "jira:issue_updated")
    digest = verifier.identify(body=body, headers={}, payload={}, max_id_chars=200)
    assert digest == (f"sha256:{hashlib.sha256(body).hexdigest()}", "unknown")
    with pytest.raises(InvalidInputError, match="X-Atlassian-Webhook-Identifier is over 3 characters"):
        verifier.identify(
            body=body, headers={"X-Atlassian-Webhook-Identifier": "abcd"}, payload=payload, max_id_chars=3
        )


def test_trello_deliveries_are_keyed_by_their_action() -> None:
    verifier = provider_for(SourceKind.TRELLO).webhooks
    payload: dict[str, object] = {"action": {"id": "a1", "type": "x" * 150}}
    assert verifier.identify(body=b"", headers={}, payload=payload, max_id_chars=200) == ("a1", "x" * 100)
    with pytest.raises(InvalidInputError, match="the body has no action object"):
        verifier.identify(body=b"", headers={}, payload={}, max_id_chars=200)
    with pytest.raises(InvalidInputError, match="the action has no id"):
        verifier.identify(body=b"", headers={}, payload={"action": {"id": ""}}, max_id_chars=200)


@pytest.mark.parametrize("kind", list(SourceKind))
def test_an_unsigned_delivery_is_refused_by_every_provider(kind: SourceKind) -> None:
    verifier = provider_for(kind).webhooks
    verdict = verifier.check(body=b"{}", headers={}, callback_url="https://pm.example/x", secret="s")
    assert verdict == "missing"


def test_kinds_are_compared_only_in_the_registry_and_where_the_kind_is_data() -> None:
    offending = sorted(
        f"{path.relative_to(SERVICE.parent)}:{number}"
        for path in SERVICE.rglob("*.py")
        if str(path.relative_to(SERVICE.parent)) not in KIND_IS_DATA
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _KIND_CHECK.search(line)
    )
    assert offending == []


@pytest.mark.parametrize("kind", [SourceKind.JIRA_CLOUD, SourceKind.JIRA_DATA_CENTER])
def test_each_jira_kind_tests_its_connection(kind: SourceKind) -> None:
    with serve_jira_sandbox("tiny", seed=7) as jira:
        sandbox = jira.sandbox
        credentials = (
            {"email": sandbox.jira_email, "api_token": sandbox.jira_api_token}
            if kind is SourceKind.JIRA_CLOUD
            else {"token": sandbox.jira_pat}
        )
        source = Source(id=1, kind=kind, name="s", base_url=jira.base_url, settings=LOOPBACK)
        connection = provider_for(kind).test_connection(
            source, credentials, retry=RetryPolicy(max_attempts=1)
        )

    assert connection.server_url.rstrip("/") == jira.base_url.rstrip("/")
    assert connection.detail == f"connected to {connection.server_url} as {connection.account}"


def test_trello_tests_its_connection() -> None:
    with serve_trello_sandbox("tiny", seed=7) as trello:
        credentials = {"api_key": trello.sandbox.trello_api_key, "token": trello.sandbox.trello_token}
        source = Source(id=1, kind=SourceKind.TRELLO, name="s", base_url=trello.base_url, settings=LOOPBACK)
        connection = provider_for(SourceKind.TRELLO).test_connection(source, credentials)

    assert connection.account is not None
    assert connection.detail == f"connected to Trello as {connection.account}"


def test_a_connection_test_with_credentials_of_another_kind_is_a_configuration_error() -> None:
    source = Source(id=1, kind=SourceKind.JIRA_CLOUD, name="s", base_url="https://acme.atlassian.net")
    with pytest.raises(ConfigurationError, match="lacks the credential 'email'"):
        provider_for(SourceKind.JIRA_CLOUD).test_connection(source, {"api_key": "k", "token": "t"})
