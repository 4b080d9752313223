"""The provider registry: one `Provider` per source kind, asked instead of comparing kinds.

`provider_for(source.kind)` answers every "which provider is this?" question. The table in
`service.providers.registry` is the one place that maps a `SourceKind` to its provider: Jira Cloud
and Jira Data Center share `JiraProvider`, parameterised by the kind; Trello has `TrelloProvider`.

A provider knows what needs nothing but a client: testing a connection, verifying a webhook
delivery and telling its identity, and registering webhooks where the provider lets an integration
do so (Trello). Its module opens the typed client from a stored source and its credentials, paced by
the site's shared rate limiter (`jira.open_jira_client`, `trello.open_trello_client`). This package
is a leaf any layer may import, like `service.errors`: it imports the connectors, the domain and
nothing of the layers above (an import-linter contract keeps it so).

The operations that belong to a higher layer stay in it, as one object per provider family in one
table keyed by `ProviderFamily`: syncing a source and applying a stored delivery in
`service.sync.providers`, the push-back comment channel in `service.flags.push_channels`. Those
layers ask `provider_for(kind).family` which entry to use, so they never compare kinds, and the
layers still point down (`sync` and `flags` are siblings and may not import each other). Tests
check that every family has its entry in every table.
"""

from __future__ import annotations

from service.providers.base import ConnectionInfo, DeliveryVerifier, Provider, ProviderFamily
from service.providers.registry import PROVIDERS, provider_for

__all__ = ["PROVIDERS", "ConnectionInfo", "DeliveryVerifier", "Provider", "ProviderFamily", "provider_for"]
