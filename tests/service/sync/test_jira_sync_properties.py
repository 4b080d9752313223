"""Property: whatever changes happen while pages are read, however many issues share one updated
minute and however the clocks disagree, incremental syncs end with local == remote.

Clock skew comes two ways: the sandbox's clock sits weeks behind pmbridge's (the cursor must only
ever use Jira's own timestamps), and the server clock steps back and forth between updates of
different issues, as the nodes of a cluster disagree — never behind one issue's own last update,
which Jira serializes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from sandbox.app import Sandbox, create_sandbox_app
from sandbox.emit import CollectingSink
from sandbox.jira.changes import IssueChanges
from sandbox.scenarios import build_sandbox
from sandbox.server import LoopbackServer
from service.domain.enums import SourceKind
from service.settings import Settings
from service.store.runtime import open_store
from service.sync.runs import sync_source_now
from tests.support.jira_sandbox import JiraSandbox, local_snapshot
from tests.support.sources import add_test_source

FROZEN = datetime(2026, 11, 2, 10, 0, 30, tzinfo=UTC)
STATUSES = ("To Do", "In Progress", "Done")
SHARED_MINUTE_ISSUES = 55


class MutatingTransport(httpx.BaseTransport):
    """Changes the remote world right after each search page is served: the next page sees a world
    that moved under the reader, as a busy Jira site does."""

    def __init__(self, sandbox: Sandbox, rng: random.Random, per_page: int) -> None:
        self._inner = httpx.HTTPTransport()
        self._sandbox = sandbox
        self._rng = rng
        self._per_page = per_page

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.url.path.endswith("/search/jql"):
            mutate(self._sandbox, self._rng, self._per_page)
        return response

    def close(self) -> None:
        self._inner.close()


def mutate(sandbox: Sandbox, rng: random.Random, count: int) -> None:
    world = sandbox.jira
    with world.lock:
        issues = list(world.issues.values())
        for _ in range(count):
            issue = rng.choice(issues)
            # Steps of the server clock: mostly within the same minute, sometimes backwards.
            sandbox.clock.advance(timedelta(seconds=rng.choice((0, 0, 1, 7, -20, 45))))
            if world.now_ms() <= issue.updated_ms:
                continue
            world.update_issue(
                issue,
                IssueChanges(
                    status=rng.choice(STATUSES),
                    duedate=f"2027-0{rng.randint(1, 9)}-{rng.randint(10, 28)}",
                ),
            )


def seed_shared_minute(sandbox: Sandbox) -> None:
    world = sandbox.jira
    with world.lock:
        project = next(iter(world.projects.values()))
        for n in range(SHARED_MINUTE_ISSUES):
            world.create_issue(project, summary=f"same minute {n}")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    rounds=st.integers(min_value=1, max_value=3),
    per_page=st.integers(min_value=0, max_value=4),
)
def test_incremental_syncs_under_concurrent_change_converge(
    tmp_path_factory: object, seed: int, rounds: int, per_page: int
) -> None:
    sandbox = build_sandbox("tiny", seed=seed, now=FROZEN, sink=CollectingSink(), with_trello=False)
    seed_shared_minute(sandbox)
    rng = random.Random(seed)
    with LoopbackServer(create_sandbox_app(sandbox)) as server:
        sandbox.bind(server.base_url)
        remote = JiraSandbox(sandbox=sandbox, base_url=server.base_url, sink=CollectingSink())
        data_dir = Path(tmp_path_factory.mktemp("prop"))  # type: ignore[attr-defined]
        store = open_store(Settings(data_dir=data_dir, secret_key=SecretStr(Fernet.generate_key().decode())))
        try:
            source_id = add_test_source(
                store,
                kind=SourceKind.JIRA_CLOUD,
                name="prop",
                webhook_secret=None,
                base_url=server.base_url,
                credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
            )
            sync_source_now(store, source_id=source_id, full=True)
            for _ in range(rounds):
                mutate(sandbox, rng, per_page * 3)
                sync_source_now(
                    store,
                    source_id=source_id,
                    full=False,
                    transport=MutatingTransport(sandbox, rng, per_page),
                )
            sync_source_now(store, source_id=source_id, full=False)

            assert local_snapshot(store, source_id) == remote.snapshot()
        finally:
            store.close()
