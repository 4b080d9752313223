from __future__ import annotations

from connectors.http import CallAccounting


def test_call_accounting_snapshot_groups_by_endpoint_and_status() -> None:
    accounting = CallAccounting()
    accounting.record(method="post", route="/rest/api/3/search/jql", status=200)
    accounting.record(method="POST", route="/rest/api/3/search/jql", status=200)
    accounting.record(method="POST", route="/rest/api/3/search/jql", status=429)
    accounting.record(method="GET", route="/rest/api/3/issue/{issue}", status=None)

    assert accounting.snapshot() == {
        "total": 4,
        "by_endpoint": {
            "GET /rest/api/3/issue/{issue}": {"error": 1},
            "POST /rest/api/3/search/jql": {"200": 2, "429": 1},
        },
        "by_status": {"200": 2, "429": 1, "error": 1},
    }


def test_call_accounting_new_instance_is_empty() -> None:
    accounting = CallAccounting()

    assert accounting.total == 0
    assert accounting.snapshot() == {"total": 0, "by_endpoint": {}, "by_status": {}}
