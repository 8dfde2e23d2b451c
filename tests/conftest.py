"""Shared test fixtures: paths to the public corpus and a fixed clock."""

from __future__ import annotations

import errno
import ipaddress
import socket
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


def _is_loopback_host(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like: not the network
    host = host.split("%", 1)[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Safety net for the project's network rule: inside the test process, a connection, a
    datagram or a name lookup for anything but loopback fails at once, as on a machine with no
    network. A test that forgets to pin an address or configure a resolver then sees
    "not resolved"/"unreachable" instead of reaching a real host. (Not a mock of any library:
    the libraries run unchanged on top of it.)"""
    real_connect, real_connect_ex, real_sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def refuse(address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback_host(host):
            raise OSError(errno.ENETUNREACH, f"test network guard: {host} is not a loopback address")

    def connect(self, address):  # noqa: ANN001
        refuse(address)
        return real_connect(self, address)

    def connect_ex(self, address):  # noqa: ANN001
        refuse(address)
        return real_connect_ex(self, address)

    def sendto(self, data, *args):  # noqa: ANN001
        refuse(args[-1])
        return real_sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):  # noqa: ANN001
        if host is not None and not _is_loopback_host(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: {host} is not resolved in tests")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


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
    after_start = None
    if variant == "contoso":
        build = lambda: samba.SambaDc(state / "lab")  # noqa: E731
        make = lambda dc: samba_seed.seed_contoso(dc, FIXED_NOW)  # noqa: E731
        after_start = samba_seed.seed_contoso_dns
    elif variant == "legacy":
        build = lambda: samba.SambaDc(state / "lab", function_level="2000")  # noqa: E731
        make = lambda dc: samba_seed.seed_legacy(dc, FIXED_NOW)  # noqa: E731
    else:
        build = lambda: samba.SambaDc(state / "lab", function_level="2003")  # noqa: E731
        make = lambda dc: samba_seed.seed_single(dc, FIXED_NOW)  # noqa: E731
    return samba.shared_dc(state, build, version, make, after_start)


@pytest.fixture(scope="session")
def samba_dc():
    """The seeded ``contoso`` Samba AD DC (functional level 2008 R2): a SambaDcInfo."""
    with _samba_lab("contoso") as info:
        yield info


@pytest.fixture(scope="session")
def samba_single_dc():
    """The ``single`` Samba AD DC (functional level 2003, one DC, an object whose objectGUID every
    reader is denied): a SambaDcInfo."""
    with _samba_lab("single") as info:
        yield info


@pytest.fixture(scope="session")
def samba_legacy_dc():
    """The ``legacy`` Samba AD DC (functional level 2000, no KDS root key): a SambaDcInfo."""
    with _samba_lab("legacy") as info:
        yield info
