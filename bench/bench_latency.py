"""Change-to-feed and change-to-comment latency: from a change in Jira until the client sees it.

The sandbox serves its small agency (`pmbridge sandbox serve`, a process of its own) and pmbridge
runs as deployed embedded (`pmbridge serve`: API and worker in one process, SQLite in a fresh data
directory), both on loopback. Before pmbridge serves, this script connects the sandbox's Jira as a
source with its webhook secret, syncs it in full, adds one client scoped to every project with a
token, opts every project in to push-back, evaluates the rules and posts their comments, so the
measured run starts from a settled state. Then the sandbox's webhook is pointed at the API and
`--changes` changes are made through the sandbox's control API, `--rate` a second, each on its own
issue and each answered by a signed webhook. In turn:

- `done`: an open issue moves to Done; expected: an `item_done` event for it in the client feed;
- `moved`: an open issue's due date moves 3 days later; expected: a `commitment_moved` event to
  that date;
- `flagged`: an open issue's due date moves 30 days later, past the `promised_date_moved`
  threshold; expected: the `commitment_moved` event, and a Jira comment posted or edited on the
  issue by the push-back.

The feed is polled every 10 ms (`GET /v1/feed?after=<cursor>` with the client's token). Comments are
observed through a second sandbox webhook for comment events, received by this script and timed by
the comment event's own timestamp. Every latency runs from just before the control call. A change
not seen within `--wait` seconds after the last change counts as missing (and as slower than
anything seen in the percentiles). Prints p50, p95 and max with counts, overall and by kind.

    .venv/bin/python bench/bench_latency.py
    .venv/bin/python bench/bench_latency.py --changes 100 --rate 5 --wait 30
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from latency_world import (
    KINDS,
    Change,
    plan_changes,
    register_webhooks,
    serve,
    set_up,
    start_sandbox,
)
from measure import free_port
from pydantic import SecretStr

from service.logging import configure_logging
from service.settings import Settings
from service.store.runtime import open_store

FEED_POLL_S = 0.01
FEED_PAGE = 200


@dataclass
class Observations:
    """What the feed poller and the comment receiver saw, matched to the changes made so far."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    by_key: dict[str, Change] = field(default_factory=dict)
    feed_errors: int = 0

    def add(self, change: Change) -> None:
        with self.lock:
            self.by_key[change.key] = change

    def feed_event(self, event: dict[str, Any], seen_at: float) -> None:
        payload = event.get("payload") or {}
        with self.lock:
            change = self.by_key.get(str(payload.get("item")))
            if change is not None and change.feed_at is None and change.expects(event["kind"], payload):
                change.feed_at = seen_at

    def comment_event(self, key: str, at: float) -> None:
        with self.lock:
            change = self.by_key.get(key)
            if (
                change is not None
                and change.wants_comment
                and change.comment_at is None
                and at >= change.started
            ):
                change.comment_at = at

    def settled(self) -> bool:
        with self.lock:
            return all(
                c.feed_at is not None and (c.comment_at is not None or not c.wants_comment)
                for c in self.by_key.values()
            )


def start_comment_receiver(observations: Observations) -> ThreadingHTTPServer:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received = time.time()
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            self.send_response(200)
            self.end_headers()
            key = (body.get("issue") or {}).get("key")
            if key and body.get("webhookEvent") in ("comment_created", "comment_updated"):
                stamp = body.get("timestamp")
                observations.comment_event(str(key), min(received, stamp / 1000) if stamp else received)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, name="comment-receiver", daemon=True).start()
    return server


def feed_page(api: httpx.Client, cursor: str | None) -> dict[str, Any] | None:
    """One page after `cursor`, or None when the request failed."""
    params: dict[str, str | int] = {"limit": FEED_PAGE} | ({"after": cursor} if cursor else {})
    try:
        response = api.get("/v1/feed", params=params)
    except httpx.TransportError:
        return None
    page: dict[str, Any] | None = response.json() if response.status_code == 200 else None
    return page


def poll_feed(
    api: httpx.Client, cursor: str | None, observations: Observations, stop: threading.Event
) -> None:
    while not stop.is_set():
        page = feed_page(api, cursor)
        seen_at = time.time()
        if page is None:
            observations.feed_errors += 1
        else:
            for event in page["events"]:
                observations.feed_event(event, seen_at)
            cursor = page["next_cursor"] or cursor
        if page is None or not page["has_more"]:
            stop.wait(FEED_POLL_S)


def feed_end(api: httpx.Client) -> str | None:
    """The cursor after every event the feed holds now."""
    cursor: str | None = None
    while (page := feed_page(api, cursor)) is not None:
        cursor = page["next_cursor"] or cursor
        if not page["has_more"]:
            return cursor
    raise RuntimeError("the feed did not answer")


def make_changes(
    control: httpx.Client, changes: list[Change], observations: Observations, rate: float
) -> None:
    start = time.monotonic()
    for n, change in enumerate(changes):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        observations.add(change)
        change.started = time.time()
        if change.kind == "done":
            response = control.post(f"/jira/issues/{change.key}/status", json={"status": "Done"})
        else:
            assert change.new_date is not None
            response = control.post(
                f"/jira/issues/{change.key}/duedate", json={"duedate": change.new_date.isoformat()}
            )
        response.raise_for_status()


def percentile(values: list[float], share: float) -> float:
    """Nearest rank; `math.inf` stands for a change never seen."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def describe(label: str, latencies: list[float | None]) -> str:
    if not latencies:
        return f"{label}: no changes"
    seen = [value for value in latencies if value is not None]
    values = [math.inf if value is None else value for value in latencies]

    def fmt(value: float) -> str:
        return "not seen" if math.isinf(value) else f"{value * 1000:.0f} ms"

    return (
        f"{label}: seen {len(seen)}/{len(latencies)}; p50 {fmt(percentile(values, 0.5))}, "
        f"p95 {fmt(percentile(values, 0.95))}, max {fmt(max(values))}"
    )


def measure(
    api: httpx.Client, control: httpx.Client, changes: list[Change], observations: Observations, args: Any
) -> float:
    """Make the changes while the feed is polled; wait for what they should produce. Returns the
    seconds the changes took."""
    stop = threading.Event()
    poller = threading.Thread(
        target=poll_feed, args=(api, feed_end(api), observations, stop), name="feed-poller", daemon=True
    )
    poller.start()
    try:
        began = time.monotonic()
        make_changes(control, changes, observations, args.rate)
        spent = time.monotonic() - began
        deadline = time.monotonic() + args.wait
        while time.monotonic() < deadline and not observations.settled():
            time.sleep(0.1)
    finally:
        stop.set()
        poller.join(timeout=5)
    return spent


def report(changes: list[Change], observations: Observations, *, spent: float, args: Any) -> None:
    counts = ", ".join(f"{sum(c.kind == kind for c in changes)} {kind}" for kind in KINDS)
    print(
        f"{len(changes)} changes ({counts}) at {args.rate:g}/s over {spent:.1f}s; waited {args.wait:g}s after"
    )
    print(describe("change -> feed event", [c.feed_latency() for c in changes]))
    for kind in KINDS:
        print("  " + describe(kind, [c.feed_latency() for c in changes if c.kind == kind]))
    print(describe("change -> Jira comment", [c.comment_latency() for c in changes if c.wants_comment]))
    if observations.feed_errors:
        print(f"feed polls that failed: {observations.feed_errors}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0, help="changes a second")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait after the last change")
    parser.add_argument("--scenario", choices=["tiny", "small", "large"], default="small")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pmb-bench-latency-"))
    key = Fernet.generate_key().decode()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PMBRIDGE_")},
        "PMBRIDGE_DATA_DIR": str(workdir),
        "PMBRIDGE_SECRET_KEY": key,
        "PMBRIDGE_LOG_LEVEL": "WARNING",
        "PMBRIDGE_ALLOW_PRIVATE_SOURCE_URLS": "true",
        "PMBRIDGE_RATE_LIMIT_PER_SECOND": "1000000",
        "PMBRIDGE_RATE_LIMIT_BURST": "1000000",
    }
    sandbox, info = start_sandbox(args.scenario, args.seed)
    server: subprocess.Popen[bytes] | None = None
    receiver: ThreadingHTTPServer | None = None
    observations = Observations()
    try:
        settings = Settings(
            data_dir=workdir, secret_key=SecretStr(key), allow_private_source_urls=True, log_level="WARNING"
        )
        configure_logging(settings)
        store = open_store(settings)
        source_id, token = set_up(store, info["jira"])
        changes = plan_changes(store, source_id=source_id, count=args.changes, seed=args.seed)
        store.close()
        port = free_port()
        server = serve(env, port)
        receiver = start_comment_receiver(observations)
        control = httpx.Client(base_url=info["control_url"], timeout=10)
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        register_webhooks(
            control,
            api_port=port,
            receiver_port=receiver.server_port,
            source_id=source_id,
            secret=info["jira"]["webhook_secret"],
        )
        spent = measure(api, control, changes, observations, args)
    finally:
        if receiver is not None:
            receiver.shutdown()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        sandbox.terminate()
        sandbox.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    report(changes, observations, spent=spent, args=args)


if __name__ == "__main__":
    main()
