"""Running `pmbridge demo`: the sandbox agency, the API and the worker, set up, watched and summed up."""

from __future__ import annotations

import errno
import json
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
import typer
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import SecretStr
from rich.console import Console

from sandbox.server import LoopbackServer
from service.api.app import create_app
from service.cli.context import fail_on_service_error
from service.cli.demo_world import DemoWorld, start_demo_world, stop_demo_world, utc_now
from service.console import console_router
from service.domain.enums import ScopeRule, SourceKind
from service.errors import ConfigurationError
from service.flags.push import drain_pushes
from service.flags.push_queue import enable_push
from service.flags.run import evaluate_projects
from service.jobs.runner import JobRunner
from service.logging import configure_logging
from service.netcheck import ALLOW_PRIVATE_SETTING
from service.portal import portal_router
from service.settings import Settings
from service.store.db import transaction
from service.store.feed_writes import count_feed_events
from service.store.flags import count_flags_by_state_severity, count_pushed_flags
from service.store.inbox_admin import count_inbox_by_status
from service.store.items import count_work_items
from service.store.projects import list_projects
from service.store.runtime import Store
from service.store.sources import add_source
from service.store.tenancy import add_client, add_scope, issue_token
from service.sync.runs import sync_source_now

# How often the generated agency changes something, and how often rules and push-back run.
CHANGE_EVERY_S = 1.5
EVALUATE_EVERY_S = 10.0


@dataclass
class DemoSetup:
    jira_source_id: int
    trello_source_id: int | None
    client_tokens: dict[str, str]
    admin_token: str


@dataclass(frozen=True)
class DemoOptions:
    duration_s: float | None
    port: int | None
    default_port: int
    scenario: str
    seed: int
    as_json: bool


def run_demo(started: float, base: Settings, options: DemoOptions) -> None:
    """Start everything, watch for `duration_s` (the clock starts once everything runs), then print
    the summary with how long start-up took since `started` (monotonic, when the command began)."""
    console = Console(stderr=options.as_json, soft_wrap=True)
    data_dir = Path(base.data_dir) / "demo"
    shutil.rmtree(data_dir, ignore_errors=True)
    world = start_demo_world(scenario=options.scenario, seed=options.seed)
    stop = threading.Event()
    restore_signals = _stop_on_signals(stop)
    try:
        with fail_on_service_error():
            settings = Settings(
                data_dir=data_dir,
                secret_key=SecretStr(Fernet.generate_key().decode()),
                log_level="WARNING",
                allow_private_source_urls=True,
            )
            configure_logging(settings)
            runner = JobRunner(settings)
            api = _start_api(
                create_app(settings, enqueuer=runner, extra_routers=[portal_router(), console_router()]),
                options,
                console,
            ).start()
            consumer = None
            try:
                store = runner.store
                setup = _set_up(store, world, console)
                # The worker starts after the initial syncs: its tick would otherwise find the
                # sources never synced and race the demo for their sync leases.
                consumer = runner.start_embedded_consumer()
                _connect_webhooks(world, setup, api_base=api.base_url)
                _enable_push(store, source_ids=[setup.jira_source_id, setup.trello_source_id])
                _evaluate_and_push(store, settings)
                _print_welcome(console, api.base_url, world, setup)
                startup_s = time.monotonic() - started
                console.print(f"started in {startup_s:.1f}s")
                watched = time.monotonic()
                _watch(store, settings, world, console, stop=stop, duration=options.duration_s)
                summary: dict[str, object] = {
                    **_summary(store, world),
                    "api_port": api.port,
                    "startup_s": round(startup_s, 1),
                    "duration_s": round(time.monotonic() - watched, 1),
                }
            finally:
                if consumer is not None:
                    consumer.stop(graceful=True)
                api.close()
                runner.close()
    finally:
        stop_demo_world(world)
        restore_signals()
    if options.as_json:
        typer.echo(json.dumps(summary))
    else:
        console.print("[bold]demo summary[/bold]")
        for key, value in summary.items():
            console.print(f"  {key:20s} {value}")


def _start_api(app: FastAPI, options: DemoOptions, console: Console) -> LoopbackServer:
    """The API on the port asked for; with none asked, the default port, or a free one when another
    program holds it (the demo says which)."""
    if options.port is not None:
        try:
            return LoopbackServer(app, port=options.port, lifespan=True)
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on 127.0.0.1:{options.port}: {exc.strerror}") from exc
    try:
        return LoopbackServer(app, port=options.default_port, lifespan=True)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
    server = LoopbackServer(app, port=0, lifespan=True)
    console.print(f"port {options.default_port} is taken: the API listens on port {server.port} instead")
    return server


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """Ctrl-C or SIGTERM ends the demo cleanly; returns what restores the previous handlers."""

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


# The demo's sandbox answers on loopback over http: its sources are added with the opt-in.
_LOOPBACK: dict[str, object] = {ALLOW_PRIVATE_SETTING: True}


def _set_up(store: Store, world: DemoWorld, console: Console) -> DemoSetup:
    sandbox = world.sandbox
    now = utc_now()
    with transaction(store.sessions) as session:
        jira = add_source(
            session,
            cipher=store.cipher,
            kind=SourceKind.JIRA_CLOUD,
            name="Agency Jira",
            base_url=world.base_url,
            credentials={"email": sandbox.jira_email, "api_token": sandbox.jira_api_token},
            webhook_secret=sandbox.jira_webhook_secret,
            settings=_LOOPBACK,
            now=now,
        )
        trello = (
            add_source(
                session,
                cipher=store.cipher,
                kind=SourceKind.TRELLO,
                name="Agency Trello",
                base_url=world.base_url,
                credentials={"api_key": sandbox.trello_api_key, "token": sandbox.trello_token},
                webhook_secret=sandbox.trello_app_secret,
                settings=_LOOPBACK,
                now=now,
            )
            if sandbox.trello is not None
            else None
        )
    assert jira.id is not None
    for source_id, label in ((jira.id, "Jira"), (trello.id if trello else None, "Trello")):
        if source_id is None:
            continue
        with console.status(f"initial {label} sync…"):
            summary = sync_source_now(store, source_id=source_id, full=True)
        console.print(
            f"synced {label}: {summary.items_seen} items, {summary.changes_added} history entries, "
            f"{summary.api_calls.get('total', 0)} API calls in {summary.duration_s:.1f}s"
        )
    return DemoSetup(
        jira_source_id=jira.id,
        trello_source_id=trello.id if trello else None,
        client_tokens=_set_up_clients(store, world),
        admin_token=_issue_admin_token(store),
    )


def _issue_admin_token(store: Store) -> str:
    """The operator's token, for /admin and the console."""
    with transaction(store.sessions) as session:
        return issue_token(
            session, client_id=None, is_admin=True, name="demo-operator", expires_at=None, now=utc_now()
        ).secret


def _set_up_clients(store: Store, world: DemoWorld) -> dict[str, str]:
    """One client per generated customer, scoped to its Jira projects and Trello boards, with a token."""
    owners = world.client_of_jira_project()
    board_owners = world.client_of_trello_board()
    tokens: dict[str, str] = {}
    now = utc_now()
    with transaction(store.sessions) as session:
        clients: dict[str, int] = {}
        for project in list_projects(session):
            name = owners.get(project.key) or board_owners.get(project.external_id)
            if name is None or project.id is None:
                continue
            if name not in clients:
                client = add_client(session, name=name, now=now)
                assert client.id is not None
                clients[name] = client.id
                tokens[name] = issue_token(
                    session, client_id=client.id, is_admin=False, name="demo", expires_at=None, now=now
                ).secret
            add_scope(session, client_id=clients[name], project_id=project.id, rule=ScopeRule.ALL, value=None)
    return tokens


def _connect_webhooks(world: DemoWorld, setup: DemoSetup, *, api_base: str) -> None:
    world.register_jira_webhook(
        url=f"{api_base}/webhooks/jira/{setup.jira_source_id}", secret=world.sandbox.jira_webhook_secret
    )
    if setup.trello_source_id is None or world.sandbox.trello is None:
        return
    for board_id in world.sandbox.trello.boards:
        httpx.post(
            f"{world.base_url}/1/webhooks",
            params={
                "key": world.sandbox.trello_api_key,
                "token": world.sandbox.trello_token,
                "callbackURL": f"{api_base}/webhooks/trello/{setup.trello_source_id}",
                "idModel": board_id,
            },
            timeout=10,
        ).raise_for_status()


def _enable_push(store: Store, *, source_ids: list[int | None]) -> None:
    """Push-back is opt-in per project: the demo opts every project of both sources in."""
    with transaction(store.sessions) as session:
        for source_id in source_ids:
            if source_id is None:
                continue
            for project in list_projects(session, source_id=source_id):
                assert project.id is not None
                enable_push(session, project_id=project.id, dry_run=False, now=utc_now())


def _evaluate_and_push(store: Store, settings: Settings) -> None:
    now = utc_now()
    evaluate_projects(store, now=now, rules_dir=settings.rules_dir)
    drain_pushes(store, now=now)


def _print_welcome(console: Console, api_base: str, world: DemoWorld, setup: DemoSetup) -> None:
    name, token = next(iter(setup.client_tokens.items()))
    console.print(f"\n[bold]pmbridge demo[/bold] — API at {api_base}, sandbox at {world.base_url}")
    console.print(f"client [bold]{name}[/bold] token: {token}")
    console.print("try:")
    console.print(f"  curl -H 'Authorization: Bearer {token}' {api_base}/v1/projects")
    console.print(f"  curl -H 'Authorization: Bearer {token}' '{api_base}/v1/feed?limit=20'")
    console.print(f"  curl -H 'Authorization: Bearer {token}' {api_base}/v1/risks")
    console.print(f"portal: {api_base}/portal (sign in with the token)")
    console.print(f"console: {api_base}/console/ (sign in with the admin token {setup.admin_token})\n")


def _watch(
    store: Store,
    settings: Settings,
    world: DemoWorld,
    console: Console,
    *,
    stop: threading.Event,
    duration: float | None,
) -> None:
    deadline = None if duration is None else time.monotonic() + duration
    next_evaluation = time.monotonic() + EVALUATE_EVERY_S
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        console.print(f"  change: {world.change_something()}")
        if time.monotonic() >= next_evaluation:
            _evaluate_and_push(store, settings)
            next_evaluation = time.monotonic() + EVALUATE_EVERY_S
        stop.wait(CHANGE_EVERY_S)
    world.sandbox.dispatcher.flush(timeout_s=5)
    _evaluate_and_push(store, settings)


def _summary(store: Store, world: DemoWorld) -> dict[str, int]:
    with store.sessions() as session:
        inbox = count_inbox_by_status(session)
        flags = count_flags_by_state_severity(session)
        return {
            "items_synced": count_work_items(session),
            "webhooks_processed": inbox.get("processed", 0) + inbox.get("ignored", 0),
            "flags_open": sum(count for (state, _severity), count in flags.items() if state == "open"),
            "comments_posted": count_pushed_flags(session),
            "feed_events": count_feed_events(session),
            "changes_made": world.changes_made,
        }
