"""Prometheus metrics of one process: counters where things happen, store gauges read on scrape.

A leaf like settings and logging: any layer may record here, and it imports nothing of the service.
Each process counts its own work (API processes count requests and webhook intake, workers count
jobs, syncs and evaluations); Prometheus scrapes every process and sums. The store gauges (inbox,
outbox, flags) describe the whole database, so every API process reports the same values: aggregate
them with `max`, not `sum`.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse
from wsgiref.types import WSGIApplication as WSGIApp

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED_ROUTE = "unmatched"

# The `_created` series double every counter's output and no dashboard here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# Buckets in seconds: webhook acks and feed reads sit in the low milliseconds, syncs in minutes.
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_JOB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

HTTP_REQUESTS = Counter(
    "pmbridge_http_requests",
    "HTTP requests answered, by route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_REQUEST_SECONDS = Histogram(
    "pmbridge_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["method", "route"],
    buckets=_REQUEST_BUCKETS,
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "pmbridge_webhook_deliveries",
    "Webhook deliveries received, by provider and outcome (accepted, duplicate, rejected).",
    ["provider", "outcome"],
    registry=REGISTRY,
)
SYNC_RUNS = Counter(
    "pmbridge_sync_runs",
    "Sync runs finished, by provider, kind and status.",
    ["provider", "kind", "status"],
    registry=REGISTRY,
)
SYNC_RUN_SECONDS = Histogram(
    "pmbridge_sync_run_duration_seconds",
    "Duration of sync runs, by provider and kind.",
    ["provider", "kind"],
    buckets=_JOB_BUCKETS,
    registry=REGISTRY,
)
PROVIDER_API_CALLS = Counter(
    "pmbridge_provider_api_calls",
    "Provider API calls made by sync runs, by provider, endpoint template and status ('error': no answer).",
    ["provider", "endpoint", "status"],
    registry=REGISTRY,
)
RULE_EVALUATIONS = Counter(
    "pmbridge_rule_evaluations",
    "Project evaluations run (all rules over one project's items, milestones and the project).",
    registry=REGISTRY,
)
RULE_SUBJECTS = Counter(
    "pmbridge_rule_subjects_evaluated",
    "Subjects (items, milestones, projects) the rules were evaluated on.",
    registry=REGISTRY,
)
RULE_FINDINGS = Counter(
    "pmbridge_rule_findings",
    "Findings produced by rule evaluations.",
    registry=REGISTRY,
)
RULE_FAILURES = Counter(
    "pmbridge_rule_failures",
    "Rule conditions that failed to evaluate on a subject.",
    registry=REGISTRY,
)
FLAG_CHANGES = Counter(
    "pmbridge_flag_changes",
    "Flags opened, updated and resolved by evaluations.",
    ["change"],
    registry=REGISTRY,
)
JOBS = Counter(
    "pmbridge_jobs",
    "Jobs executed, by task and outcome (succeeded, failed).",
    ["task", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "pmbridge_job_duration_seconds",
    "Time a job ran, by task.",
    ["task"],
    buckets=_JOB_BUCKETS,
    registry=REGISTRY,
)


# Each request records two samples; looking their children up by labels every time cost ~2% of a
# feed request (bench/bench_feed.py). Route templates, methods and statuses are few.
_http_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def record_http_request(*, method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _http_children.get(key)
    if children is None:
        count, duration = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_REQUEST_SECONDS.labels(method, route),
        )
        children = _http_children[key] = (count, duration)
    children[0].inc()
    children[1].observe(seconds)


def record_webhook_delivery(*, provider: str, outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(provider, outcome).inc()


def record_sync_run(
    *,
    provider: str,
    kind: str,
    status: str,
    seconds: float,
    api_calls: Mapping[str, Mapping[str, int]],
) -> None:
    """`api_calls` maps "METHOD /route/{template}" to status (or "error") to count."""
    SYNC_RUNS.labels(provider, kind, status).inc()
    SYNC_RUN_SECONDS.labels(provider, kind).observe(seconds)
    for endpoint, by_status in api_calls.items():
        for call_status, count in by_status.items():
            PROVIDER_API_CALLS.labels(provider, endpoint, call_status).inc(count)


def record_evaluation(
    *, subjects: int, findings: int, failures: int, opened: int, updated: int, resolved: int
) -> None:
    RULE_EVALUATIONS.inc()
    RULE_SUBJECTS.inc(subjects)
    RULE_FINDINGS.inc(findings)
    RULE_FAILURES.inc(failures)
    for change, count in (("opened", opened), ("updated", updated), ("resolved", resolved)):
        FLAG_CHANGES.labels(change).inc(count)


def record_job(*, task: str, succeeded: bool, seconds: float) -> None:
    JOBS.labels(task, "succeeded" if succeeded else "failed").inc()
    JOB_SECONDS.labels(task).observe(seconds)


@dataclass(frozen=True, slots=True)
class StoreGauges:
    """Row counts read from the database at scrape time, each keyed by its label values."""

    inbox_by_status: Mapping[str, int] = field(default_factory=dict)
    outbox_by_status: Mapping[str, int] = field(default_factory=dict)
    flags_by_state_severity: Mapping[tuple[str, str], int] = field(default_factory=dict)


class _StoreCollector(Collector):
    def __init__(self, gauges: StoreGauges) -> None:
        self._gauges = gauges

    def collect(self) -> Iterable[Metric]:
        yield _family(
            "pmbridge_inbox_rows",
            "Webhook deliveries in the inbox by status; pending is the depth still to process.",
            ["status"],
            [((status,), count) for status, count in self._gauges.inbox_by_status.items()],
        )
        yield _family(
            "pmbridge_outbox_rows",
            "Provider writes (flag comments) in the outbox by status; pending is the depth still to send.",
            ["status"],
            [((status,), count) for status, count in self._gauges.outbox_by_status.items()],
        )
        yield _family(
            "pmbridge_flags",
            "Flags by state and severity.",
            ["state", "severity"],
            list(self._gauges.flags_by_state_severity.items()),
        )


def _family(
    name: str, documentation: str, labels: list[str], samples: list[tuple[tuple[str, ...], int]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for label_values, value in sorted(samples):
        family.add_metric(list(label_values), value)
    return family


def render_metrics(gauges: StoreGauges | None = None) -> bytes:
    """This process's metrics in the Prometheus text format, with the store gauges when given."""
    rendered = generate_latest(REGISTRY)
    if gauges is None:
        return rendered
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_StoreCollector(gauges))
    return rendered + generate_latest(scrape)


_server_lock = threading.Lock()
_server_ports: set[int] = set()


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries this bearer token (compared in constant time)."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return False
    return hmac.compare_digest(authorization[7:].strip().encode(), token.encode())


def _protected(app: WSGIApp, token: str) -> WSGIApp:
    def guarded(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if bearer_matches(environ.get("HTTP_AUTHORIZATION"), token):
            return app(environ, start_response)
        start_response("401 Unauthorized", [("WWW-Authenticate", "Bearer"), ("Content-Length", "0")])
        return [b""]

    return guarded


def serve_metrics(
    *,
    port: int,
    host: str = "0.0.0.0",  # noqa: S104 - scraped from other hosts
    token: str | None = None,
) -> None:
    """Expose this process's counters at http://host:port/metrics (a worker has no API of its own);
    with `token`, only to a scraper that sends it as a bearer token."""
    with _server_lock:
        if port in _server_ports:
            return
        app: WSGIApp = make_wsgi_app(REGISTRY)
        if token:
            app = _protected(app, token)
        server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
        threading.Thread(target=server.serve_forever, name="pmbridge-metrics", daemon=True).start()
        _server_ports.add(port)


class _QuietHandler(WSGIRequestHandler):
    """Scrapes are not logged: they come every few seconds."""

    def log_message(self, format: str, *args: Any) -> None:
        return
