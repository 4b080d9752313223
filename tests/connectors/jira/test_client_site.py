from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
import respx

from connectors.http import AuthError, CallAccounting, TransientError
from connectors.jira import JiraClient, JiraDeployment, JiraSite

MakeClient = Callable[[JiraSite, respx.Router], JiraClient]
MYSELF = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "pmbridge bot", "active": True}


def test_cloud_basic_site_sends_basic_auth(cloud: JiraClient, cloud_router: respx.Router) -> None:
    route = cloud_router.get("/rest/api/3/myself").mock(return_value=httpx.Response(200, json=MYSELF))

    user = cloud.get_myself()

    expected = base64.b64encode(b"bot@acme.example:cloud-api-token-xyz").decode()
    assert route.calls.last.request.headers["Authorization"] == f"Basic {expected}"
    assert user.identity == "5b10ac8d82e05b22cc7d4ef5"


def test_cloud_oauth_site_uses_gateway_base_url_and_bearer(make_client: MakeClient) -> None:
    router = respx.Router(assert_all_called=False)
    route = router.get("https://api.atlassian.com/ex/jira/cloud-123/rest/api/3/myself").mock(
        return_value=httpx.Response(200, json=MYSELF)
    )
    client = make_client(JiraSite.cloud_oauth("cloud-123", access_token="oauth-access"), router)

    client.get_myself()

    assert route.calls.last.request.headers["Authorization"] == "Bearer oauth-access"


def test_data_center_site_uses_v2_and_pat_bearer(dc: JiraClient, dc_router: respx.Router) -> None:
    route = dc_router.get("/rest/api/2/myself").mock(
        return_value=httpx.Response(
            200, json={"name": "pmbridge", "key": "JIRAUSER10100", "displayName": "Bot"}
        )
    )

    user = dc.get_myself()

    assert route.calls.last.request.headers["Authorization"] == "Bearer dc-personal-access-token-abc"
    assert user.identity == "JIRAUSER10100"


def test_jira_site_repr_hides_credentials() -> None:
    sites = [
        JiraSite.cloud_basic("https://acme.atlassian.net", email="a@b.c", api_token="tok-1"),
        JiraSite.cloud_oauth("c1", access_token="tok-2"),
        JiraSite.data_center("https://jira.test", personal_access_token="tok-3"),
    ]

    assert not any(f"tok-{n}" in repr(site) for n, site in enumerate(sites, start=1))
    assert [site.deployment for site in sites] == [
        JiraDeployment.CLOUD,
        JiraDeployment.CLOUD,
        JiraDeployment.DATA_CENTER,
    ]


@pytest.mark.parametrize("status", [401, 403], ids=["unauthorized", "forbidden"])
def test_auth_failure_raises_auth_error_without_credentials(
    cloud: JiraClient, cloud_router: respx.Router, status: int
) -> None:
    route = cloud_router.get("/rest/api/3/myself").mock(
        return_value=httpx.Response(status, json={"errorMessages": ["cloud-api-token-xyz is not valid"]})
    )

    with pytest.raises(AuthError) as caught:
        cloud.get_myself()

    assert route.call_count == 1
    assert "cloud-api-token-xyz" not in str(caught.value)


def test_server_info_parses_deployment_type(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.get("/rest/api/3/serverInfo").mock(
        return_value=httpx.Response(
            200,
            json={
                "baseUrl": "https://acme.atlassian.net",
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100285,
                "serverTime": "2026-03-02T12:00:00.000+0000",
                "serverTitle": "Jira",
            },
        )
    )

    info = cloud.get_server_info()

    assert info.is_cloud and info.version_numbers == [1001, 0, 0]


def test_list_fields_exposes_custom_schema(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.get("/rest/api/3/field").mock(
        return_value=httpx.Response(
            200,
            json=[
                {
                    "id": "summary",
                    "name": "Summary",
                    "custom": False,
                    "schema": {"type": "string", "system": "summary"},
                },
                {
                    "id": "customfield_10020",
                    "key": "customfield_10020",
                    "name": "Sprint",
                    "custom": True,
                    "clauseNames": ["cf[10020]", "Sprint"],
                    "schema": {
                        "type": "array",
                        "items": "json",
                        "custom": "com.pyxis.greenhopper.jira:gh-sprint",
                        "customId": 10020,
                    },
                },
            ],
        )
    )

    fields = cloud.list_fields()

    sprint = fields[1]
    assert sprint.field_schema is not None
    assert (sprint.id, sprint.field_schema.custom) == (
        "customfield_10020",
        "com.pyxis.greenhopper.jira:gh-sprint",
    )


def test_cloud_iter_projects_pages_project_search(cloud: JiraClient, cloud_router: respx.Router) -> None:
    def page(start: int, keys: list[str], is_last: bool) -> httpx.Response:
        values = [{"id": str(i), "key": key, "name": key.title()} for i, key in enumerate(keys)]
        return httpx.Response(
            200, json={"startAt": start, "maxResults": 2, "total": 3, "isLast": is_last, "values": values}
        )

    route = cloud_router.get("/rest/api/3/project/search").mock(
        side_effect=[page(0, ["ED", "OPS"], False), page(2, ["WEB"], True)]
    )

    keys = [project.key for project in cloud.iter_projects(page_size=2)]

    assert keys == ["ED", "OPS", "WEB"]
    assert route.calls[1].request.url.params["startAt"] == "2"


def test_cloud_iter_projects_query_without_match_yields_nothing(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    cloud_router.get("/rest/api/3/project/search").mock(return_value=httpx.Response(404))

    assert list(cloud.iter_projects(query="nothing")) == []


def test_dc_iter_projects_lists_all_projects(dc: JiraClient, dc_router: respx.Router) -> None:
    dc_router.get("/rest/api/2/project").mock(
        return_value=httpx.Response(
            200,
            json=[{"id": "1", "key": "ED", "name": "E-commerce"}, {"id": "2", "key": "OPS", "name": "Ops"}],
        )
    )

    assert [project.key for project in dc.iter_projects(query="ops")] == ["OPS"]


def test_list_versions_parses_release_dates(cloud: JiraClient, cloud_router: respx.Router) -> None:
    cloud_router.get("/rest/api/3/project/ED/versions").mock(
        return_value=httpx.Response(
            200,
            json=[
                {
                    "id": "10100",
                    "name": "2026.06",
                    "archived": False,
                    "released": False,
                    "releaseDate": "2026-06-05",
                    "projectId": 10000,
                },
                {"id": "10101", "name": "Backlog", "archived": False, "released": False, "projectId": 10000},
            ],
        )
    )

    versions = cloud.list_versions("ED")

    assert [(v.name, v.release_date and v.release_date.isoformat()) for v in versions] == [
        ("2026.06", "2026-06-05"),
        ("Backlog", None),
    ]


def test_client_retries_transient_failure_and_accounts_calls(make_client: MakeClient) -> None:
    router = respx.Router(base_url="https://acme.atlassian.net", assert_all_called=False)
    router.get("/rest/api/3/myself").mock(
        side_effect=[httpx.Response(503), httpx.ConnectError("down"), httpx.Response(200, json=MYSELF)]
    )
    client = make_client(JiraSite.cloud_basic("https://acme.atlassian.net", email="e", api_token="t"), router)

    client.get_myself()

    assert client.accounting.snapshot()["by_endpoint"] == {
        "GET /rest/api/3/myself": {"200": 1, "503": 1, "error": 1}
    }


def test_client_shares_injected_accounting_and_http_client() -> None:
    router = respx.Router(base_url="https://acme.atlassian.net", assert_all_called=False)
    router.get("/rest/api/3/myself").mock(return_value=httpx.Response(200, json=MYSELF))
    accounting = CallAccounting()
    http_client = httpx.Client(transport=httpx.MockTransport(router.handler))
    site = JiraSite.cloud_basic("https://acme.atlassian.net", email="e", api_token="t")

    with JiraClient(site, http_client=http_client, accounting=accounting) as client:
        client.get_myself()

    assert accounting.total == 1
    assert not http_client.is_closed


def test_client_timeout_exhausting_retries_raises_transient(
    cloud: JiraClient, cloud_router: respx.Router
) -> None:
    cloud_router.get("/rest/api/3/myself").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(TransientError):
        cloud.get_myself()
