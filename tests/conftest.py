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
