"""Huey queue and tasks. Tasks carry ids only; a task opens the store of its own process and works
from the rows, so a lost task loses no data (the periodic sweep re-triggers what was left behind)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Collection, Mapping
from contextvars import Token
from datetime import UTC, datetime, timedelta
from pathlib import Path

from huey import Huey, RedisHuey, crontab
from huey.api import Task, TaskWrapper
from huey.consumer import Consumer
from huey.storage import SqliteStorage
from structlog.contextvars import bind_contextvars, reset_contextvars

from service.errors import ConflictError, ServiceError
from service.feed.cursor import FeedCursorCodec
from service.feed.subscriptions import deliver_due
from service.flags.backtest import queue_scheduled_backtest
from service.flags.push import drain_pushes
from service.flags.rule_runs import run_queued_rule_run
from service.flags.run import evaluate_projects
from service.jobs.evaluations import OwedEvaluations
from service.jobs.schedule import SWEEP_AFTER, census_due, evaluation_due, sources_due_for_sync
from service.logging import get_logger
from service.metrics import record_job, serve_metrics
from service.settings import Settings
from service.store.db import transaction
from service.store.inbox import list_pending_deliveries
from service.store.rule_runs import Claim, list_queued_rule_runs, requeue_stalled_rule_runs
from service.store.runtime import Store, open_store
from service.store.sources import list_sources
from service.sync.deliveries import apply_delivery_now
from service.sync.runs import sync_source_now

log = get_logger(__name__)

JOBS_FILE = "jobs.db"
# Huey retries a task that raised; a transient provider error usually clears within minutes.
TASK_RETRIES = 3
TASK_RETRY_DELAY_S = 5
# A rule run that finds as many runs running as allowed waits this long before it asks again.
RULE_RUN_RETRY_S = 5
# Longer than any rule run takes (a year's dry run of the large agency takes about a minute): a run
# still running after this has lost its process, and is queued again.
RULE_RUN_STALLED_AFTER = timedelta(hours=1)
# Polling of the embedded (SQLite) queue when it is empty: backs off from the first to the second.
POLL_INITIAL_S = 0.02
POLL_MAX_S = 0.2


class _EmbeddedStorage(SqliteStorage):  # type: ignore[misc]  # huey has no type information
    """huey's SQLite storage with WAL's `synchronous=NORMAL` (huey offers only FULL or OFF).

    FULL syncs the file on every enqueue, which cost more than storing the webhook delivery itself;
    NORMAL survives a crash of the process, and a power loss can drop only the latest jobs, never
    corrupt the file. Jobs carry ids only: the sweep re-triggers deliveries whose job was lost.
    """

    def _create_connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = super()._create_connection()
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection


def build_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """SQLite storage in the data directory when embedded; Redis when `PMBRIDGE_REDIS_URL` is set."""
    if settings.redis_url:
        return RedisHuey(
            settings.queue_name, url=settings.redis_url, immediate=immediate, results=False, utc=True
        )
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return Huey(
        settings.queue_name,
        storage_class=_EmbeddedStorage,
        filename=str(Path(settings.data_dir) / JOBS_FILE),
        immediate=immediate,
        results=False,
        utc=True,
    )


class JobRunner:
    """The huey instance and its tasks for one process; implements `service.queue.Enqueuer`."""

    def __init__(self, settings: Settings, *, immediate: bool = False) -> None:
        self.settings = settings
        self.huey = build_huey(settings, immediate=immediate)
        self._store: Store | None = None
        self._store_lock = threading.Lock()
        self._running = threading.local()
        # Webhook changes reach flags, comments and the client feed now, not at the next beat.
        self._owed = OwedEvaluations()
        self.huey.pre_execute(name="observe")(self._job_started)
        self.huey.post_execute(name="observe")(self._job_finished)
        task = self.huey.task(retries=TASK_RETRIES, retry_delay=TASK_RETRY_DELAY_S)

        def process_delivery(inbox_id: int) -> None:
            self._owed.mark(apply_delivery_now(self.store, inbox_id=inbox_id))
            self._owed.run(self._evaluate_owed)

        def process_deliveries(inbox_ids: list[int]) -> None:
            for inbox_id in inbox_ids:
                try:
                    result = apply_delivery_now(self.store, inbox_id=inbox_id)
                except Exception as exc:
                    # The attempt is recorded on the row; its own job retries it with huey's backoff.
                    log.warning("jobs.delivery.retry_scheduled", inbox_id=inbox_id, error=type(exc).__name__)
                    self._process_delivery.schedule((inbox_id,), delay=TASK_RETRY_DELAY_S)
                    continue
                self._owed.mark(result)
            self._owed.run(self._evaluate_owed)

        def sync_source(source_id: int, full: bool = False, census: bool = False) -> None:
            try:
                sync_source_now(self.store, source_id=source_id, full=full, census=census)
            except ConflictError:
                # Another worker holds this source's lease: its run covers this trigger.
                log.info("jobs.sync.skipped", source_id=source_id, reason="lease held elsewhere")
                return
            self.evaluate(source_id=source_id)

        def evaluate_all() -> None:
            self.evaluate(source_id=None)

        def push_flags() -> None:
            drain_pushes(self.store, now=datetime.now(UTC))

        def deliver_subscriptions() -> None:
            deliver_due(
                self.store,
                codec=FeedCursorCodec(self.settings.secret_keys[0]),
                now=datetime.now(UTC),
                allow_private=self.settings.allow_private_source_urls,
            )

        def run_rules(run_id: int) -> None:
            claim = run_queued_rule_run(self.store, run_id=run_id, at_once=self.settings.rule_runs_at_once)
            if claim is Claim.BUSY:
                self._run_rules.schedule((run_id,), delay=RULE_RUN_RETRY_S)

        def tick() -> None:
            self.run_tick(datetime.now(UTC))

        self._process_delivery: TaskWrapper = task(process_delivery)
        self._process_deliveries: TaskWrapper = task(process_deliveries)
        self._sync_source: TaskWrapper = task(sync_source)
        self._evaluate_all: TaskWrapper = task(evaluate_all)
        self._push_flags: TaskWrapper = task(push_flags)
        self._deliver_subscriptions: TaskWrapper = task(deliver_subscriptions)
        # A rule run records its own failure; huey retrying it would only find it finished.
        self._run_rules: TaskWrapper = self.huey.task()(run_rules)
        self._tick: TaskWrapper = self.huey.periodic_task(crontab(minute="*"), name="tick")(tick)

    def _job_started(self, task: Task) -> None:
        """Bind the job's id to every log line it writes, and start its clock (same thread as the job)."""
        tokens = bind_contextvars(job_id=task.id, job=task.name)
        self._running.job = (tokens, time.perf_counter())

    def _job_finished(self, task: Task, _value: object, exc: BaseException | None) -> None:
        job: tuple[Mapping[str, Token[object]], float] | None = getattr(self._running, "job", None)
        if job is None:
            return
        tokens, started = job
        self._running.job = None
        record_job(task=task.name, succeeded=exc is None, seconds=time.perf_counter() - started)
        reset_contextvars(**tokens)

    @property
    def store(self) -> Store:
        with self._store_lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    def process_delivery(self, inbox_id: int) -> None:
        self._process_delivery(inbox_id)

    def process_deliveries(self, inbox_ids: list[int]) -> None:
        self._process_deliveries(list(inbox_ids))

    def sync_source(self, source_id: int) -> None:
        self._sync_source(source_id)

    def run_rules(self, run_id: int) -> None:
        self._run_rules(run_id)

    def evaluate_all(self) -> None:
        self._evaluate_all()

    def _evaluate_owed(self, owed: dict[int, Collection[int] | None]) -> None:
        """The projects webhook deliveries changed, then their comments."""
        now = datetime.now(UTC)
        for source_id, project_ids in owed.items():
            evaluate_projects(
                self.store,
                now=now,
                rules_dir=self.settings.rules_dir,
                source_id=source_id,
                project_ids=project_ids,
            )
        drain_pushes(self.store, now=now)

    def evaluate(self, *, source_id: int | None) -> None:
        """Rules over what is stored now: after a sync (its source) and on the schedule (all)."""
        now = datetime.now(UTC)
        evaluate_projects(self.store, now=now, rules_dir=self.settings.rules_dir, source_id=source_id)
        drain_pushes(self.store, now=now)

    def run_tick(self, now: datetime) -> None:
        """Trigger due syncs, the daily census, and deliveries and rule runs left pending; only ids are
        enqueued."""
        try:
            with self.store.sessions() as session:
                sources = list_sources(session)
                stranded = list_pending_deliveries(session, received_before=now - SWEEP_AFTER, now=now)
            with transaction(self.store.sessions) as session:
                requeue_stalled_rule_runs(session, now=now, running_longer_than=RULE_RUN_STALLED_AFTER)
                waiting_runs = list_queued_rule_runs(session, created_before=now - SWEEP_AFTER)
        except ServiceError as exc:
            log.warning("jobs.tick.failed", error=exc.message)
            return
        interval = timedelta(minutes=self.settings.sync_interval_minutes)
        for source_id in sources_due_for_sync(sources, now=now, interval=interval):
            self._sync_source(source_id)
        if census_due(now, hour_utc=self.settings.census_hour_utc):
            for source in sources:
                if source.id is not None:
                    self._sync_source(source.id, census=True)
            if sources and self.settings.backtest_every_days:
                waiting_runs.extend(self._scheduled_backtest(now))
        if evaluation_due(now, every_minutes=self.settings.evaluate_interval_minutes):
            self._evaluate_all()
        self._push_flags()
        self._deliver_subscriptions()
        if stranded:
            self._process_deliveries(stranded)
            log.info("jobs.sweep.retriggered", deliveries=len(stranded))
        for run_id in waiting_runs:
            self._run_rules(run_id)

    def _scheduled_backtest(self, now: datetime) -> list[int]:
        """The backtest push-back's precision gate reads, queued when one is due."""
        try:
            with transaction(self.store.sessions) as session:
                run = queue_scheduled_backtest(
                    session,
                    now=now,
                    every=timedelta(days=self.settings.backtest_every_days),
                    max_waiting=self.settings.rule_runs_waiting,
                )
        except ServiceError as exc:
            log.warning("jobs.backtest.not_queued", error=exc.message)
            return []
        if run is None:
            return []
        log.info("jobs.backtest.queued", run_id=run.id)
        return [run.id]

    def create_consumer(self, *, workers: int | None = None) -> Consumer:
        """The consumer of a worker process; it serves /metrics when `worker_metrics_port` is set."""
        if self.settings.worker_metrics_port is not None:
            token = self.settings.metrics_token
            serve_metrics(
                port=self.settings.worker_metrics_port,
                token=token.get_secret_value() if token is not None else None,
            )
        return self._consumer(workers=workers)

    def _consumer(self, *, workers: int | None = None) -> Consumer:
        # Redis storage blocks on the queue; SQLite storage is polled, and huey's default backoff
        # (up to 10 s between polls) would leave a webhook's job waiting that long on a quiet queue.
        return self.huey.create_consumer(
            workers=workers or self.settings.worker_threads,
            worker_type="thread",
            periodic=True,
            initial_delay=POLL_INITIAL_S,
            max_delay=POLL_MAX_S,
        )

    def start_embedded_consumer(self) -> Consumer:
        """Consume in threads of this process (`pmbridge serve`, whose API serves /metrics); stop it
        with `.stop(graceful=True)`."""
        consumer = self._consumer()
        # start() runs the workers without installing signal handlers, which only the main thread may do.
        consumer.start()
        return consumer

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
