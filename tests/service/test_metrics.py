"""The process's metrics: what each recorder counts, and the scrape output with the store gauges."""

from __future__ import annotations

from service.metrics import (
    REGISTRY,
    StoreGauges,
    record_evaluation,
    record_job,
    record_sync_run,
    render_metrics,
)


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_record_sync_run_counts_api_calls_by_endpoint_and_status() -> None:
    endpoint = "GET /rest/api/3/search/jql"
    ok = {"provider": "jira_cloud", "endpoint": endpoint, "status": "200"}
    limited = {"provider": "jira_cloud", "endpoint": endpoint, "status": "429"}
    before = (
        sample("pmbridge_provider_api_calls_total", ok),
        sample("pmbridge_provider_api_calls_total", limited),
    )

    record_sync_run(
        provider="jira_cloud",
        kind="incremental",
        status="succeeded",
        seconds=1.5,
        api_calls={endpoint: {"200": 7, "429": 2}},
    )

    after = (
        sample("pmbridge_provider_api_calls_total", ok),
        sample("pmbridge_provider_api_calls_total", limited),
    )
    assert (after[0] - before[0], after[1] - before[1]) == (7, 2)


def test_record_sync_run_counts_the_run_by_status() -> None:
    labels = {"provider": "trello", "kind": "full", "status": "failed"}
    before = sample("pmbridge_sync_runs_total", labels)

    record_sync_run(provider="trello", kind="full", status="failed", seconds=0.2, api_calls={})

    assert sample("pmbridge_sync_runs_total", labels) - before == 1


def test_record_evaluation_counts_flag_changes_by_kind() -> None:
    kinds = ("opened", "updated", "resolved")
    before = [sample("pmbridge_flag_changes_total", {"change": k}) for k in kinds]
    evaluations = sample("pmbridge_rule_evaluations_total")

    record_evaluation(subjects=40, findings=5, failures=0, opened=2, updated=1, resolved=3)

    after = [sample("pmbridge_flag_changes_total", {"change": k}) for k in kinds]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 3]
    assert sample("pmbridge_rule_evaluations_total") - evaluations == 1


def test_record_job_failed_is_counted_apart_from_succeeded() -> None:
    failed = {"task": "sync_source", "outcome": "failed"}
    before = sample("pmbridge_jobs_total", failed)

    record_job(task="sync_source", succeeded=False, seconds=0.01)

    assert sample("pmbridge_jobs_total", failed) - before == 1


def test_render_metrics_with_store_gauges_appends_them() -> None:
    gauges = StoreGauges(
        inbox_by_status={"pending": 12, "dead": 1},
        outbox_by_status={"pending": 4},
        flags_by_state_severity={("open", "critical"): 3},
    )

    text = render_metrics(gauges).decode()

    assert 'pmbridge_inbox_rows{status="pending"} 12.0' in text
    assert 'pmbridge_outbox_rows{status="pending"} 4.0' in text
    assert 'pmbridge_flags{severity="critical",state="open"} 3.0' in text


def test_render_metrics_without_store_gauges_has_only_process_counters() -> None:
    text = render_metrics().decode()

    assert "pmbridge_jobs_total" in text
    assert "pmbridge_inbox_rows" not in text


def test_render_metrics_has_no_created_series() -> None:
    record_job(task="tick", succeeded=True, seconds=0.001)

    assert "_created" not in render_metrics().decode()
