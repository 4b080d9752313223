"""What a command imports before it answers: `pmbridge version` and `--help` nothing of the service's
weight, a command that reads the database not the API, the job queue, Alembic or the HTTP clients.
(How long they take is measured by bench/bench_cli_startup.py, not here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.settings import DATABASE_FILE
from service.store.db import build_engine
from service.store.migrate import upgrade_schema

# Each costs a noticeable share of a second to import on this kind of machine.
HEAVY = (
    "alembic",
    "fastapi",
    "httpx",
    "huey",
    "jinja2",
    "msgspec",
    "prometheus_client",
    "pydantic_settings",
    "redis",
    "sqlalchemy",
    "structlog",
    "uvicorn",
    "yaml",
    "cel",
    "sandbox.app",
)
STORE = frozenset({"pydantic_settings", "sqlalchemy", "structlog"})

RUN_AND_LIST_IMPORTS = """
import json, sys
from service.cli import app
heavy = json.loads(sys.argv[1])
try:
    app(sys.argv[2:])
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
print(json.dumps(sorted(name for name in heavy if name in sys.modules)), file=sys.stderr)
"""


def _imports_of(command: list[str], data_dir: Path) -> set[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PMBRIDGE_")},
        "PMBRIDGE_DATA_DIR": str(data_dir),
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", RUN_AND_LIST_IMPORTS, json.dumps(HEAVY), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("command", [["version"], ["--help"], ["sources", "--help"]], ids=str)
def test_cli_answers_without_importing_the_service(command: list[str], tmp_path: Path) -> None:
    assert _imports_of(command, tmp_path / "data") == set()


@pytest.mark.parametrize(
    "command",
    [["db", "current"], ["sources", "list"], ["clients", "list"], ["flags", "list"]],
    ids=" ".join,
)
def test_cli_read_commands_import_only_the_store(command: list[str], tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'data' / DATABASE_FILE}")
    upgrade_schema(engine)
    engine.dispose()

    assert _imports_of(command, tmp_path / "data") <= STORE
