"""Sandbox search speed: page through a large (100,000-issue) world at the real page size over loopback.

Run: .venv/bin/python bench/bench_sandbox_search.py [--pages N]
Prints generation time and per-page latencies (median, p95, max) for the search shapes pmbridge sends.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from sandbox.app import create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.jira.limits import RateLimitConfig
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer

SHAPES = {
    "incremental, sync fields": (
        "project = {key} AND updated >= '{since}' ORDER BY updated ASC, id ASC",
        "summary,status,issuetype,priority,assignee,updated,created,duedate,fixVersions,parent,labels,"
        "resolutiondate,customfield_10016,customfield_10020,customfield_10021,customfield_10015",
        "",
    ),
    "epoch millis, *all": ("project in ({key}, {key2}) AND updated >= 0 ORDER BY updated ASC", "*all", ""),
    "ids only, 5000/page": ("project = {key} ORDER BY created DESC", "", ""),
    "changelog expanded": (
        "project = {key} AND updated >= -180d ORDER BY updated ASC, id ASC",
        "summary,status",
        "changelog",
    ),
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=40, help="pages per search shape")
    args = parser.parse_args()
    started = time.perf_counter()
    sandbox = build_sandbox("large", 1, sink=CollectingSink(), rate_limits=RateLimitConfig(enabled=False))
    print(f"generated {len(sandbox.jira.issues):,} Jira issues in {time.perf_counter() - started:.1f} s")
    keys = sorted(p.key for p in sandbox.jira.projects.values())
    with (
        LoopbackServer(create_sandbox_app(sandbox)) as server,
        httpx.Client(
            base_url=server.base_url, auth=(sandbox.jira_email, sandbox.jira_api_token), timeout=30
        ) as client,
    ):
        for name, (jql_template, fields, expand) in SHAPES.items():
            jql = jql_template.format(key=keys[0], key2=keys[1], since="2000-01-01 00:00")
            max_results = 5000 if not fields else 100
            timings: list[float] = []
            issues = 0
            token: str | None = None
            for _ in range(args.pages):
                params = {"jql": jql, "maxResults": str(max_results), "fields": fields}
                if expand:
                    params["expand"] = expand
                if token:
                    params["nextPageToken"] = token
                begin = time.perf_counter()
                response = client.get("/rest/api/3/search/jql", params=params)
                timings.append((time.perf_counter() - begin) * 1000)
                response.raise_for_status()
                body = response.json()
                issues += len(body["issues"])
                token = body.get("nextPageToken")
                if not token:
                    break
            print(
                f"{name:28s} pages {len(timings):3d}  issues {issues:6d}  "
                f"median {statistics.median(timings):6.1f} ms  p95 {_percentile(timings, 0.95):6.1f} ms  "
                f"max {max(timings):6.1f} ms"
            )


if __name__ == "__main__":
    main()
