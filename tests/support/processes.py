"""pmbridge processes started from the installed command, as an operator starts them, and the waits
that go with them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

PMBRIDGE = str(Path(sys.executable).parent / "pmbridge")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str, every_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(every_s)


@dataclass
class Process:
    """A `pmbridge` subprocess whose output goes to a log file; `port` is where it answers HTTP."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def answers(self, path: str) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.popen.returncode}: {self.log_tail()}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_lines()[-lines:])


def spawn_pmbridge(
    name: str, args: list[str], *, port: int, env: Mapping[str, str], workdir: Path
) -> Process:
    """Start `pmbridge ARGS` in `workdir`, its output to `workdir/NAME.log`."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [PMBRIDGE, *args], env=dict(env), stdout=log, stderr=subprocess.STDOUT, cwd=workdir
        )
    return Process(name=name, popen=popen, port=port, log_path=log_path)


def stop_processes(processes: list[Process], *, timeout_s: float) -> None:
    """SIGTERM each, then wait; one that does not stop in time is killed."""
    for process in processes:
        if process.popen.poll() is None:
            process.popen.terminate()
    for process in processes:
        try:
            process.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(timeout=timeout_s)
