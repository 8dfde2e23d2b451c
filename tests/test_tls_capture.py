"""capture_peer_chain against real loopback servers: the lab's STS simulator, a closed port, a
listener that never speaks TLS and one that answers plain HTTP."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from adfs_readiness.facts import ProbeError, ProbeErrorKind, TlsPeerChain
from adfs_readiness.lab import Lab
from adfs_readiness.lab.sts import SilentListener
from adfs_readiness.probes.tls import capture_peer_chain
from adfs_readiness.settings import HostPort


@pytest.fixture
def healthy_lab(now, tmp_path: Path):
    with Lab("healthy", now, tmp_path) as lab:
        yield lab


def test_chain_as_sent_leaf_then_intermediate(healthy_lab: Lab) -> None:
    result = capture_peer_chain(healthy_lab.address, healthy_lab.fs_name, timeout=5)

    assert isinstance(result, TlsPeerChain), result
    assert result.server_name == "sts.contoso.test"
    assert result.address == f"127.0.0.1:{healthy_lab.address.port}"
    assert [c.sha1 for c in result.chain] == [healthy_lab.material.tls.sha1, healthy_lab.pki.intermediate.sha1]
    assert result.chain[0].subject_cn == "sts.contoso.test"
    assert result.chain[0].san_dns == ("sts.contoso.test",)
    assert result.chain[1].subject_cn == "Contoso Lab Issuing CA 1"
    assert result.protocol in ("TLSv1.2", "TLSv1.3")
    assert result.cipher


def test_sni_is_the_server_name_and_omitted_for_an_ip(healthy_lab: Lab) -> None:
    capture_peer_chain(healthy_lab.address, "sts.contoso.test", timeout=5)
    capture_peer_chain(healthy_lab.address, "127.0.0.1", timeout=5)

    assert healthy_lab.server_names_seen == ("sts.contoso.test", None)


def test_unverified_chain_is_captured_even_for_the_wrong_name(now, tmp_path: Path) -> None:
    with Lab("wrong-tls-name", now, tmp_path) as lab:
        result = capture_peer_chain(lab.address, lab.fs_name, timeout=5)

    assert isinstance(result, TlsPeerChain)
    assert result.chain[0].subject_cn == "www.fabrikam.test"


def test_refused_port() -> None:
    # Bound but not listening: the kernel answers a SYN with a reset.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        address = HostPort("127.0.0.1", closed.getsockname()[1])
        result = capture_peer_chain(address, "sts.contoso.test", timeout=5)

    assert isinstance(result, ProbeError)
    assert result.kind is ProbeErrorKind.REFUSED
    assert result.target == f"{address} (SNI sts.contoso.test)"


def test_listener_that_never_speaks_tls_times_out_within_the_timeout() -> None:
    listener = SilentListener()
    address = listener.start()
    try:
        started = time.monotonic()
        result = capture_peer_chain(address, "sts.contoso.test", timeout=0.5)
        elapsed = time.monotonic() - started
    finally:
        listener.stop()

    assert isinstance(result, ProbeError)
    assert result.kind is ProbeErrorKind.TIMEOUT
    assert "no TLS handshake within 0.5 s" in result.reason
    assert 0.4 <= elapsed < 2.0 + 5


def test_plain_http_answer_is_a_tls_error_with_openssl_reason() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer_plain_http() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(4096)
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer_plain_http)
    thread.start()
    try:
        result = capture_peer_chain(HostPort("127.0.0.1", server.getsockname()[1]), "sts.contoso.test", timeout=5)
    finally:
        thread.join(5)
        server.close()

    assert isinstance(result, ProbeError)
    assert result.kind is ProbeErrorKind.TLS
    # OpenSSL's own words (e.g. "wrong version number" / "packet length too long"), not a Python type.
    assert result.reason.startswith("TLS handshake failed: ")
    assert "Error" not in result.reason
