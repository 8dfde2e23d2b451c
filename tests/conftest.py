"""Shared test fixtures: paths to the public corpus and a fixed clock."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"

#: The clock of the tests: the session's date, fixed, so tests do not depend on the wall clock.
FIXED_NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def corpus() -> Path:
    """The folder of real AD FS metadata, MEX, RootDSE and certificate files (see SOURCES.md)."""
    return CORPUS


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data folder (run history, locks): tests never write to the user's
    real one, and parallel tests never share a lock or a history."""
    path = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("ADFS_READINESS_DATA_DIR", str(path))
    return path
