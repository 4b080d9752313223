from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose settings point at a fresh data directory and nothing else of the caller's."""
    for name in ("PMBRIDGE_DATABASE_URL", "PMBRIDGE_SECRET_KEY", "PMBRIDGE_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PMBRIDGE_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()
