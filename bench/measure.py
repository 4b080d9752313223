"""What the benchmarks share: a free loopback port, a process's CPU time, and a PostgreSQL schema of
their own (dropped and created afresh, and dropped again after the run)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "PMBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used (Linux /proc), to report CPU per request: a measure
    that scheduling noise on a shared machine moves far less than throughput."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fresh_postgres_schema(schema: str) -> str:
    """An empty schema of that name; the URL whose connections use it as their search path."""
    drop_postgres_schema(schema, create=True)
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_postgres_schema(schema: str, *, create: bool = False) -> None:
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        if create:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
