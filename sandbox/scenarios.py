"""Named, seeded sandboxes: `tiny` (tests), `small` (demo), `large` (100,000 Jira issues, benchmarks)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sandbox.app import Sandbox
from sandbox.clock import SandboxClock
from sandbox.dispatcher import WebhookDispatcher
from sandbox.emit import WebhookSink
from sandbox.faults import Faults
from sandbox.jira.limits import RateLimitConfig
from sandbox.jira.scenario import populate_jira
from sandbox.jira.settings import JiraCredentials, JiraSettings
from sandbox.jira.state import JiraWorld
from sandbox.trello.scenario import populate_trello
from sandbox.trello.state import TrelloWorld

ScenarioName = Literal["tiny", "small", "large"]
_CLIENTS = (
    "Acme Retail", "Borealis Health", "Cobalt Logistics", "Driftwood Media", "Evergreen Bank",
    "Fjord Travel", "Granite Insurance", "Harbor Foods", "Iris Education", "Juniper Energy",
)  # fmt: skip


@dataclass(frozen=True)
class ScenarioSize:
    clients: int
    jira_projects: int
    issues_per_project: int
    trello_boards: int
    cards_per_board: int
    days_of_history: int


SCENARIOS: dict[str, ScenarioSize] = {
    # clients, Jira projects, issues per project, Trello boards, cards per board, days of history
    "tiny": ScenarioSize(2, 2, 12, 2, 8, 45),
    "small": ScenarioSize(4, 6, 250, 4, 60, 120),
    "large": ScenarioSize(10, 20, 5000, 10, 300, 240),
}


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def build_sandbox(
    scenario: ScenarioName,
    seed: int,
    *,
    now: datetime | None = None,
    start: datetime | None = None,
    sink: WebhookSink | None = None,
    dispatcher: WebhookDispatcher | None = None,
    jira_settings: JiraSettings | None = None,
    rate_limits: RateLimitConfig | None = None,
    with_trello: bool = True,
    issues_per_project: int | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Sandbox:
    """A populated sandbox; the same scenario, seed and `now` give the same worlds and credentials.

    `now` freezes the clock (tests); without it the clock follows wall time, from `start` when given
    (a past instant: the worlds are generated as of it, and the clock runs on from it, so a history
    can be built forward to the present; `ClockError` for a start in the future). The worlds are
    generated on one instant (the clock stands still while they are built), so the same scenario,
    seed and `start` (or `now`) give the same worlds. Deliveries go to `sink` when
    given (e.g. a CollectingSink), else to the dispatcher, which the caller starts. `monotonic` times
    search lag and rate limits (tests pass a fake).
    """
    size = SCENARIOS[scenario]
    rng = random.Random(seed)
    clock = SandboxClock(frozen_at=now, start_at=start)
    if now is None:
        clock.hold(start)  # the worlds are laid on one instant; the clock runs on once they are built
    dispatcher = dispatcher or WebhookDispatcher(seed=seed)
    target: WebhookSink = sink if sink is not None else dispatcher
    credentials = JiraCredentials(
        email="integration@agency.example",
        api_token="ATATT3x" + _hex(rng, 40),
        pat="NjE" + _hex(rng, 40),
        oauth_token="eyJ" + _hex(rng, 60),
        webhook_secret=_hex(rng, 32),
    )
    jira = JiraWorld(
        clock=clock,
        sink=target,
        credentials=credentials,
        settings=jira_settings,
        rate_limits=rate_limits,
        monotonic=monotonic,
    )
    clients = list(_CLIENTS[: size.clients])
    populate_jira(
        jira,
        random.Random(rng.random()),
        clients=clients,
        projects=size.jira_projects,
        issues_per_project=issues_per_project or size.issues_per_project,
        days_of_history=size.days_of_history,
    )
    trello: TrelloWorld | None = None
    trello_key, trello_token, trello_secret = _hex(rng, 32), "ATTA" + _hex(rng, 72), _hex(rng, 64)
    if with_trello:
        trello = TrelloWorld(
            clock=clock, sink=target, api_key=trello_key, token=trello_token, app_secret=trello_secret
        )
        populate_trello(
            trello,
            random.Random(rng.random()),
            clients=clients,
            boards=size.trello_boards,
            cards_per_board=size.cards_per_board,
            days_of_history=size.days_of_history,
        )
    if now is None:
        # From the start it was given; without one, on the wall clock, as if it had never stopped.
        clock.run_on(catch_up=start is None)
    return Sandbox(
        clock=clock,
        jira=jira,
        trello=trello,
        dispatcher=dispatcher,
        faults=Faults(seed=seed),
        trello_api_key=trello_key,
        trello_token=trello_token,
        trello_app_secret=trello_secret,
    )
