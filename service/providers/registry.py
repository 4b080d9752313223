"""The table of providers: the one place a source kind is mapped to the code that speaks to it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from service.domain.enums import SourceKind
from service.providers.base import Provider
from service.providers.jira import JiraProvider
from service.providers.trello import TrelloProvider

PROVIDERS: Mapping[SourceKind, Provider] = MappingProxyType(
    {
        SourceKind.JIRA_CLOUD: JiraProvider(SourceKind.JIRA_CLOUD),
        SourceKind.JIRA_DATA_CENTER: JiraProvider(SourceKind.JIRA_DATA_CENTER),
        SourceKind.TRELLO: TrelloProvider(),
    }
)


def provider_for(kind: SourceKind) -> Provider:
    """The provider of a source kind; every kind has one (tests/service/providers)."""
    return PROVIDERS[kind]
