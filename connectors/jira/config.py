"""Which Jira a client talks to, and how it authenticates."""

from __future__ import annotations

import base64
from collections.abc import Generator
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

from connectors.http import BearerAuth

ATLASSIAN_API_GATEWAY = "https://api.atlassian.com"


class JiraDeployment(StrEnum):
    CLOUD = "cloud"
    DATA_CENTER = "data_center"


class _BasicAuth(httpx.Auth):
    """HTTP Basic with the credentials kept out of `repr`."""

    def __init__(self, username: str, password: str) -> None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._header = f"Basic {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BasicAuth(<redacted>)"


@dataclass(frozen=True, slots=True)
class JiraSite:
    """A Jira to call: base URL, deployment and credentials (never shown in `repr`).

    Cloud with an API token: `https://{site}.atlassian.net` + Basic email:token. Cloud with OAuth 2.0
    (3LO): `https://api.atlassian.com/ex/jira/{cloudid}` + Bearer access token. Data Center:
    the server URL (with any context path) + Bearer personal access token.
    """

    base_url: str
    deployment: JiraDeployment
    auth: httpx.Auth = field(repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def cloud_basic(cls, base_url: str, *, email: str, api_token: str) -> JiraSite:
        return cls(
            base_url=base_url.rstrip("/"),
            deployment=JiraDeployment.CLOUD,
            auth=_BasicAuth(email, api_token),
            secrets=(api_token, base64.b64encode(f"{email}:{api_token}".encode()).decode("ascii")),
        )

    @classmethod
    def cloud_oauth(
        cls, cloud_id: str, *, access_token: str, gateway: str = ATLASSIAN_API_GATEWAY
    ) -> JiraSite:
        return cls(
            base_url=f"{gateway.rstrip('/')}/ex/jira/{cloud_id}",
            deployment=JiraDeployment.CLOUD,
            auth=BearerAuth(access_token),
            secrets=(access_token,),
        )

    @classmethod
    def data_center(cls, base_url: str, *, personal_access_token: str) -> JiraSite:
        return cls(
            base_url=base_url.rstrip("/"),
            deployment=JiraDeployment.DATA_CENTER,
            auth=BearerAuth(personal_access_token),
            secrets=(personal_access_token,),
        )

    @property
    def is_cloud(self) -> bool:
        return self.deployment is JiraDeployment.CLOUD

    @property
    def api_version(self) -> str:
        """Cloud speaks v3 (ADF); Data Center only has v2 (plain/wiki text)."""
        return "3" if self.is_cloud else "2"
