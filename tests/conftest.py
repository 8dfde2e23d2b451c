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


# --- the Samba AD DC lab (directory area) -------------------------------------------------------
# One DC per seed, shared by every pytest-xdist worker (and by concurrent test runs) through a
# file lock and a holder count; each DC runs in a private network namespace, so it never clashes
# with anything on the host's LDAP ports. Tests reach it through SambaDcInfo.run_in_network.

def _samba_lab(variant: str):
    import hashlib
    import tempfile

    from adfs_readiness.lab import samba, samba_seed

    reason = samba.samba_missing_reason() or samba.netns_missing_reason()
    if reason:
        pytest.skip(f"Samba AD DC lab unavailable: {reason}")
    code = (Path(samba.__file__).read_bytes() + Path(samba_seed.__file__).read_bytes())
    version = hashlib.sha256(code + variant.encode() + FIXED_NOW.isoformat().encode()).hexdigest()[:12]
    state = Path(tempfile.gettempdir()) / f"adfs-readiness-samba-{variant}-{version}"
    if variant == "contoso":
        build = lambda: samba.SambaDc(state / "lab")  # noqa: E731
        make = lambda dc: samba_seed.seed_contoso(dc, FIXED_NOW)  # noqa: E731
    else:
        build = lambda: samba.SambaDc(state / "lab", function_level="2000")  # noqa: E731
        make = lambda dc: samba_seed.seed_legacy(dc, FIXED_NOW)  # noqa: E731
    return samba.shared_dc(state, build, version, make)


@pytest.fixture(scope="session")
def samba_dc():
    """The seeded ``contoso`` Samba AD DC (functional level 2008 R2): a SambaDcInfo."""
    with _samba_lab("contoso") as info:
        yield info


@pytest.fixture(scope="session")
def samba_legacy_dc():
    """The ``legacy`` Samba AD DC (functional level 2000, no KDS root key): a SambaDcInfo."""
    with _samba_lab("legacy") as info:
        yield info
