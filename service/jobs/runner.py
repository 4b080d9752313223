"""Huey queue and tasks. A task opens the store of its own process and works from the rows."""

from __future__ import annotations

import threading
from pathlib import Path

from huey import Huey, SqliteHuey
from huey.api import TaskWrapper
from huey.consumer import Consumer

from service.logging import get_logger
from service.settings import Settings
from service.store.runtime import Store, open_store
from service.sync.deliveries import process_delivery_now
from service.sync.runs import sync_source_now

log = get_logger(__name__)

JOBS_FILE = "jobs.db"
# Huey retries a task that raised; a transient provider error usually clears within minutes.
TASK_RETRIES = 3
TASK_RETRY_DELAY_S = 5


class JobRunner:
    """Builds the huey instance and its tasks for one process; implements `service.queue.Enqueuer`."""

    def __init__(self, settings: Settings, *, immediate: bool = False) -> None:
        self.settings = settings
        self.huey: Huey = SqliteHuey(
            "pmbridge",
            filename=str(Path(settings.data_dir) / JOBS_FILE),
            immediate=immediate,
            results=False,
            utc=True,
        )
        self._store: Store | None = None
        self._store_lock = threading.Lock()

        def process_delivery(inbox_id: int) -> None:
            process_delivery_now(self.store, inbox_id=inbox_id)

        def sync_source(source_id: int) -> None:
            sync_source_now(self.store, source_id=source_id, full=False)

        task = self.huey.task(retries=TASK_RETRIES, retry_delay=TASK_RETRY_DELAY_S)
        self._process_delivery: TaskWrapper = task(process_delivery)
        self._sync_source: TaskWrapper = task(sync_source)

    @property
    def store(self) -> Store:
        with self._store_lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    def process_delivery(self, inbox_id: int) -> None:
        self._process_delivery(inbox_id)

    def sync_source(self, source_id: int) -> None:
        self._sync_source(source_id)

    def start_embedded_consumer(self, *, workers: int = 2) -> Consumer:
        """Consume in threads of this process (`pmbridge serve`); stop it with `.stop(graceful=True)`."""
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False)
        # start() runs the workers without installing signal handlers, which only the main thread may do.
        consumer.start()
        return consumer

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
