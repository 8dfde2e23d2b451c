"""fetch() against the lab's STS simulator on loopback: pinning, trust, redirects, caps and clocks."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from adfs_readiness.facts import ProbeErrorKind, Redirect
from adfs_readiness.lab import Lab
from adfs_readiness.lab.scenarios import with_switches
from adfs_readiness.net.http import KEPT_HEADERS, fetch
from adfs_readiness.probes.tls import capture_peer_chain
from adfs_readiness.settings import HostPort

MiB = 1024 * 1024


@pytest.fixture
def now() -> datetime:
    """The lab's clock for these tests is the real one: OpenSSL checks certificate validity against
    the system clock while verifying, so the lab's certificates must be valid around it (the only
    place the tests read the wall clock; nothing asserted depends on its value)."""
    return datetime.now(timezone.utc)


def _fetch(lab: Lab, url: str | None = None, *, timeout: float = 5, budget: float = 30, max_bytes: int = MiB,
           ca_bundle: Path | None | bool = True, capture_tls: bool = True, **kwargs):
    bundle = lab.ca_bundle if ca_bundle is True else (ca_bundle or None)
    return fetch(url or lab.metadata_url, timeout=timeout, deadline=time.monotonic() + budget,
                 max_bytes=max_bytes, connect_address=lab.address, ca_bundle=bundle,
                 capture_tls=capture_peer_chain if capture_tls else None, **kwargs)


def _peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def test_pinned_fetch_of_lab_metadata(now, tmp_path: Path) -> None:
    with Lab("healthy", now, tmp_path) as lab:
        exchange, body = _fetch(lab, accept="text/xml")
        server_names = lab.server_names_seen
        port = lab.address.port

    assert exchange.error is None
    assert exchange.status == 200 and exchange.reason == "OK"
    assert body == lab.material.metadata
    assert exchange.body_bytes == len(body) and not exchange.truncated
    assert exchange.url == exchange.final_url == "https://sts.contoso.test/FederationMetadata/2007-06/FederationMetadata.xml"
    assert exchange.connect_address == f"127.0.0.1:{port}"
    assert exchange.redirects == ()
    assert exchange.headers["content-type"] == "text/xml"
    assert exchange.headers["content-length"] == str(len(body))
    assert exchange.headers["server"] == "Microsoft-HTTPAPI/2.0"
    # The lab's Date header follows the lab's clock (plus the seconds since it started).
    assert 0 <= (parsedate_to_datetime(exchange.headers["date"]) - now.replace(microsecond=0)).total_seconds() < 10
    assert set(exchange.headers) <= set(KEPT_HEADERS)
    # SNI is the federation service name for both the request and the chain capture.
    assert server_names and set(server_names) == {"sts.contoso.test"}
    assert exchange.tls is not None
    assert exchange.tls.server_name == "sts.contoso.test"
    assert [c.sha1 for c in exchange.tls.chain] == [lab.material.tls.sha1, lab.pki.intermediate.sha1]


def test_wrong_name_is_a_tls_error_naming_the_mismatch(now, tmp_path: Path) -> None:
    with Lab("wrong-tls-name", now, tmp_path) as lab:
        exchange, body = _fetch(lab)

    assert exchange.status is None and body == b""
    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.TLS
    assert "name mismatch" in exchange.error.reason
    assert "www.fabrikam.test" in exchange.error.reason
    # The chain is still recorded: it is the evidence of the failure.
    assert exchange.tls is not None and exchange.tls.chain[0].subject_cn == "www.fabrikam.test"


def test_untrusted_ca_is_a_tls_error(now, tmp_path: Path) -> None:
    with Lab("healthy", now, tmp_path) as lab:
        exchange, _ = _fetch(lab, ca_bundle=None)

    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.TLS
    assert exchange.error.reason.startswith("certificate verification failed: ")
    assert "issuer" in exchange.error.reason  # OpenSSL: "unable to get local issuer certificate"
    assert exchange.tls is not None and len(exchange.tls.chain) == 2


@pytest.mark.parametrize(("switches", "words"), [
    ({"tls_days_left": -2}, "certificate has expired"),
    ({"tls_issuer": "self"}, "self-signed certificate"),
])
def test_verification_failures_say_what_openssl_says(now, tmp_path: Path, switches: dict, words: str) -> None:
    with Lab(with_switches("healthy", **switches), now, tmp_path) as lab:
        exchange, _ = _fetch(lab)

    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.TLS
    assert exchange.error.reason == f"certificate verification failed: {words}"


def test_redirects_are_followed_by_hand_recorded_and_stay_pinned(now, tmp_path: Path) -> None:
    with Lab("redirected", now, tmp_path) as lab:
        exchange, body = _fetch(lab)

    base = "https://sts.contoso.test"
    assert exchange.error is None and exchange.status == 200
    assert body == lab.material.metadata
    assert exchange.redirects == (
        Redirect(302, f"{base}/FederationMetadata/2007-06/FederationMetadata.xml", f"{base}/adfs/metadata/hop/1"),
        Redirect(301, f"{base}/adfs/metadata/hop/1", f"{base}/adfs/metadata/hop/2"),
    )
    assert exchange.final_url == f"{base}/adfs/metadata/hop/2"


def test_too_many_redirects(now, tmp_path: Path) -> None:
    with Lab(with_switches("redirected", redirects=3), now, tmp_path) as lab:
        exchange, body = _fetch(lab, max_redirects=2)

    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.HTTP
    assert "more than 2 redirects" in exchange.error.reason
    assert len(exchange.redirects) == 3 and exchange.status == 301 and body == b""


def test_oversized_stream_stops_at_the_cap_with_bounded_memory(now, tmp_path: Path) -> None:
    with Lab("oversized-answer", now, tmp_path) as lab:
        assert lab.scenario.oversized_bytes == 200 * MiB and not lab.scenario.oversized_declares_length
        peak_before = _peak_rss_bytes()
        started = time.monotonic()
        exchange, body = _fetch(lab, max_bytes=2 * MiB)
        elapsed = time.monotonic() - started
        peak_growth = _peak_rss_bytes() - peak_before

    assert exchange.status == 200
    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.TOO_LARGE
    assert exchange.error.reason == f"answer larger than {2 * MiB} bytes; stopped reading"
    assert exchange.truncated and exchange.body_bytes == len(body) == 2 * MiB
    assert body.startswith(b'<?xml version="1.0"?><EntityDescriptor')
    assert peak_growth < 40 * MiB  # nowhere near the 200 MB the server offers
    assert elapsed < 10


def test_declared_oversize_is_refused_before_reading(now, tmp_path: Path) -> None:
    with Lab(with_switches("oversized-answer", oversized_declares_length=True), now, tmp_path) as lab:
        exchange, body = _fetch(lab)

    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.TOO_LARGE
    assert f"Content-Length {200 * MiB}" in exchange.error.reason
    assert exchange.truncated and exchange.body_bytes == 0 and body == b""


def test_slow_answer_times_out_well_within_the_deadline(now, tmp_path: Path) -> None:
    lab = Lab("slow-answer", now, tmp_path).start()
    try:
        started = time.monotonic()
        exchange, _ = _fetch(lab, timeout=0.5, budget=30)
        elapsed = time.monotonic() - started
    finally:
        stop_started = time.monotonic()
        lab.stop()
        stop_took = time.monotonic() - stop_started

    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.TIMEOUT
    assert exchange.error.reason == "no answer within 0.5 s"
    assert 0.4 <= elapsed < 3 + 5
    assert stop_took < 2 + 5  # the server's 120 s wait ended when the lab stopped


def test_deadline_beats_a_slow_drip_sender(now, tmp_path: Path) -> None:
    # One byte every 0.1 s: each read succeeds well within the 5 s timeout, only the deadline stops it.
    with Lab(with_switches("healthy", answer="drip", drip_interval_seconds=0.1), now, tmp_path) as lab:
        started = time.monotonic()
        exchange, body = _fetch(lab, timeout=5, budget=0.8)
        elapsed = time.monotonic() - started

    assert exchange.status == 200
    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.DEADLINE
    assert 0 < len(body) < 100
    assert body == lab.material.metadata[:len(body)]
    assert elapsed < 1.8 + 5  # the deadline, not the drip (slack for a loaded machine)


def test_listener_that_never_speaks_tls(now, tmp_path: Path) -> None:
    with Lab("no-answer", now, tmp_path) as lab:
        started = time.monotonic()
        exchange, _ = _fetch(lab, timeout=0.5)
        elapsed = time.monotonic() - started

    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.TIMEOUT
    assert exchange.error.reason == "no TLS handshake within 0.5 s"
    assert exchange.tls is None  # no second wait for a capture that cannot work
    assert elapsed < 2 + 5  # the timeout (slack for a loaded machine)


def test_refused_port() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        address = HostPort("127.0.0.1", closed.getsockname()[1])
        exchange, body = fetch("https://sts.contoso.test/FederationMetadata/2007-06/FederationMetadata.xml",
                               timeout=5, deadline=time.monotonic() + 10, max_bytes=MiB, connect_address=address,
                               capture_tls=capture_peer_chain)

    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.REFUSED
    assert exchange.status is None and body == b"" and exchange.tls is None
    assert exchange.connect_address == str(address)


def test_not_found_is_an_answer_not_an_error(now, tmp_path: Path) -> None:
    with Lab("healthy", now, tmp_path) as lab:
        exchange, body = _fetch(lab, "https://sts.contoso.test/adfs/nothing-here", capture_tls=False)

    assert exchange.error is None and exchange.status == 404
    assert b"404" in body and exchange.tls is None


def test_past_deadline_does_not_connect(now, tmp_path: Path) -> None:
    with Lab("healthy", now, tmp_path) as lab:
        exchange, _ = _fetch(lab, budget=-1)
        server_names = lab.server_names_seen

    assert exchange.error is not None and exchange.error.kind is ProbeErrorKind.DEADLINE
    assert server_names == ()


@pytest.mark.parametrize("bom", [False, True])
def test_bom_is_served_as_is(now, tmp_path: Path, bom: bool) -> None:
    with Lab(with_switches("healthy", bom=bom), now, tmp_path) as lab:
        _, body = _fetch(lab, capture_tls=False)

    assert body == (b"\xef\xbb\xbf" if bom else b"") + lab.material.metadata
