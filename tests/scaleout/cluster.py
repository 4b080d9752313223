"""The processes of a scaled-out deployment, started from the installed `pmbridge` command, and a
round-robin balancer in front of the API processes."""

from __future__ import annotations

import itertools
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from service.jobs.runner import JobRunner
from service.settings import Settings
from service.store.runtime import Store, open_store
from tests.support.processes import PMBRIDGE, Process, free_port, spawn_pmbridge, stop_processes, wait_until

# Generous: a loaded machine (the suite on every core) can take tens of seconds to start one process.
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0


@dataclass
class Cluster:
    """The processes, the settings they share, and a job runner of the test's own to enqueue with."""

    settings: Settings
    env: dict[str, str]
    workdir: Path
    apis: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    _runner: JobRunner | None = None
    _store: Store | None = None

    @property
    def runner(self) -> JobRunner:
        if self._runner is None:
            self._runner = JobRunner(self.settings)
        return self._runner

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store

    def upgrade_database(self) -> None:
        subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [PMBRIDGE, "db", "upgrade"], env=self.env, check=True, capture_output=True, timeout=60
        )

    def _spawn(self, name: str, args: list[str], *, port: int, extra_env: dict[str, str]) -> Process:
        return spawn_pmbridge(name, args, port=port, env={**self.env, **extra_env}, workdir=self.workdir)

    def start(self, *, apis: int, workers: int) -> None:
        for n in range(apis):
            port = free_port()
            self.apis.append(
                self._spawn(
                    f"api-{n}", ["serve", "--no-worker", "--port", str(port)], port=port, extra_env={}
                )
            )
        for n in range(workers):
            port = free_port()
            self.workers.append(
                self._spawn(
                    f"worker-{n}",
                    ["worker"],
                    port=port,
                    extra_env={"PMBRIDGE_WORKER_METRICS_PORT": str(port)},
                )
            )
        for process in self.apis:
            wait_until(
                lambda p=process: p.answers("/readyz"),
                timeout_s=START_TIMEOUT_S,
                what=f"{process.name} ready",
            )
        for process in self.workers:
            wait_until(
                lambda p=process: p.answers("/metrics"), timeout_s=START_TIMEOUT_S, what=f"{process.name} up"
            )

    def stop(self) -> None:
        stop_processes([*self.apis, *self.workers], timeout_s=STOP_TIMEOUT_S)
        if self._runner is not None:
            self._runner.huey.storage.flush_all()
            self._runner.close()
        if self._store is not None:
            self._store.close()


class RoundRobinTransport(httpx.BaseTransport):
    """A load balancer in front of the API processes: each request goes to the next port in turn."""

    def __init__(self, ports: list[int]) -> None:
        self._inner = httpx.HTTPTransport()
        self._ports = itertools.cycle(ports)
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            port = next(self._ports)
        request.url = request.url.copy_with(port=port)
        request.headers["Host"] = f"{request.url.host}:{port}"
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
