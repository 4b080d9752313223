"""The real `pmbridge serve` and `pmbridge worker`, started as an operator starts them on an empty
data directory: the schema is created once, under its lock, before the API and the worker begin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.processes import Process, free_port, spawn_pmbridge, stop_processes, wait_until

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0

pytestmark = pytest.mark.xdist_group("processes")


def _fresh_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without its pmbridge settings: the embedded defaults on `data_dir`."""
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith("PMBRIDGE_")},
        "PMBRIDGE_DATA_DIR": str(data_dir),
    }


def _assert_started_cleanly(processes: list[Process]) -> None:
    for process in processes:
        log = "\n".join(process.log_lines())
        assert "Traceback" not in log, f"{process.name}:\n{log}"
        assert process.popen.poll() is None, f"{process.name} exited:\n{log}"


def test_serve_on_an_empty_data_directory_becomes_ready_three_times_out_of_three(tmp_path: Path) -> None:
    servers = []
    for attempt in range(3):
        workdir = tmp_path / f"run-{attempt}"
        workdir.mkdir()
        port = free_port()
        servers.append(
            spawn_pmbridge(
                f"serve-{attempt}",
                ["serve", "--port", str(port)],
                port=port,
                env=_fresh_env(workdir / "data"),
                workdir=workdir,
            )
        )
    try:
        for server in servers:
            wait_until(
                lambda s=server: s.answers("/readyz"), timeout_s=START_TIMEOUT_S, what=f"{server.name} ready"
            )
        _assert_started_cleanly(servers)
    finally:
        stop_processes(servers, timeout_s=STOP_TIMEOUT_S)
    assert [server.popen.returncode for server in servers] == [0, 0, 0]


def test_serve_and_worker_started_together_on_one_fresh_directory_both_run(tmp_path: Path) -> None:
    env = _fresh_env(tmp_path / "data")
    api_port, metrics_port = free_port(), free_port()
    server = spawn_pmbridge(
        "serve", ["serve", "--port", str(api_port)], port=api_port, env=env, workdir=tmp_path
    )
    worker = spawn_pmbridge(
        "worker",
        ["worker"],
        port=metrics_port,
        env={**env, "PMBRIDGE_WORKER_METRICS_PORT": str(metrics_port)},
        workdir=tmp_path,
    )
    processes = [server, worker]
    try:
        wait_until(lambda: server.answers("/readyz"), timeout_s=START_TIMEOUT_S, what="serve ready")
        wait_until(lambda: worker.answers("/metrics"), timeout_s=START_TIMEOUT_S, what="worker up")
        _assert_started_cleanly(processes)
        key = (tmp_path / "data" / "secret.key").read_text().strip()
        assert len(key) == 44
        assert sorted(p.name for p in (tmp_path / "data").iterdir() if p.name.startswith(".secret.key")) == []
    finally:
        stop_processes(processes, timeout_s=STOP_TIMEOUT_S)
