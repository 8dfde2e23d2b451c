"""The paged-search reader against a scripted LDAP server on loopback.

Samba always honours paging and never ends a search with sizeLimitExceeded, a notice of
disconnection or a malformed answer; Windows DCs can do all three. The server here speaks real
BER over TCP (encoded by hand below, the way the messages of RFC 4511 4.1 / 4.5.2 and the paged
results control of RFC 2696 are laid out) and answers each search request with the next scripted
page, so the reader's handling of each of those answers is tested over the wire, with and
without pipelining.
"""

from __future__ import annotations

import socket
import threading

import pytest

from adfs_readiness.settings import settings_from_mapping
from adfs_readiness.net.ldap import connect, parse_ldap_url
from adfs_readiness.probes.ldap_search import PAGED_RESULTS_OID, SearchStatus, paged_search, read_entry

from conftest import FIXED_NOW


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def message(mid: int, op: bytes, controls: bytes = b"") -> bytes:
    return tlv(0x30, integer(mid) + op + controls)


def entry(dn: str, **attrs: str) -> bytes:
    parts = b"".join(tlv(0x30, tlv(0x04, k.encode()) + tlv(0x31, tlv(0x04, v.encode()))) for k, v in attrs.items())
    return tlv(0x64, tlv(0x04, dn.encode()) + tlv(0x30, parts))


def done(code: int, cookie: bytes | None = None, text: str = "") -> tuple[bytes, bytes]:
    op = tlv(0x65, tlv(0x0A, bytes([code])) + tlv(0x04, b"") + tlv(0x04, text.encode()))
    if cookie is None:
        return op, b""
    value = tlv(0x30, integer(0) + tlv(0x04, cookie))
    return op, tlv(0xA0, tlv(0x30, tlv(0x04, PAGED_RESULTS_OID.encode()) + tlv(0x04, value)))


def reference(url: str) -> bytes:
    return tlv(0x73, tlv(0x04, url.encode()))


CLOSE = object()


class ScriptedLdapServer:
    """Answers a bind with success and the n-th search request with ``pages[n]``: a list of
    protocolOps (bytes, sent with the request's message id), (op, controls) pairs, raw bytes
    wrapped in ``("raw", b"...")`` (sent as they are) and CLOSE (shut the connection)."""

    def __init__(self, pages: list[list[object]]) -> None:
        self.pages = list(pages)
        self.searches = 0
        self.second_search = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _request(self, conn: socket.socket) -> tuple[int, int]:
        head = self._read(conn, 2)
        length = head[1]
        if length & 0x80:
            length = int.from_bytes(self._read(conn, length & 0x7F), "big")
        body = self._read(conn, length)
        id_len = body[1]
        return int.from_bytes(body[2:2 + id_len], "big"), body[2 + id_len]

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            try:
                while True:
                    mid, op = self._request(conn)
                    if op == 0x60:  # bindRequest -> bindResponse success
                        conn.sendall(message(mid, tlv(0x61, tlv(0x0A, b"\x00") + tlv(0x04, b"") + tlv(0x04, b""))))
                    elif op == 0x63:  # searchRequest -> the next scripted page
                        self.searches += 1
                        if self.searches == 2:
                            self.second_search.set()
                        for part in self.pages.pop(0):
                            if part is CLOSE:
                                conn.shutdown(socket.SHUT_RDWR)
                                return
                            if isinstance(part, tuple) and part[0] == "raw":
                                conn.sendall(part[1])
                            elif isinstance(part, tuple):
                                conn.sendall(message(mid, part[0], part[1]))
                            else:
                                conn.sendall(message(mid, part))
                    else:  # unbind
                        return
            except (EOFError, OSError, IndexError):
                return

    def connect(self):
        cfg = settings_from_mapping({"directory": {"server": f"ldap://127.0.0.1:{self.port}",
                                                 "bind_user": "reader@contoso.test"}})
        conn, info = connect(parse_ldap_url(f"ldap://127.0.0.1:{self.port}"), cfg.directory, "pw", timeout=5)
        assert conn is not None, info.reason
        return conn

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def scripted():
    servers = []

    def make(pages):
        server = ScriptedLdapServer(pages)
        servers.append(server)
        return server, server.connect()

    yield make
    for server in servers:
        server.close()


def run(conn, status, pipeline, limit=None):
    names = []
    for dn, _attrs in paged_search(conn, "DC=contoso,DC=test", "(objectClass=user)", ["cn"], status=status,
                                  page_size=2, pipeline=pipeline):
        names.append(dn.split(",")[0])
        if limit and len(names) == limit:
            break
    return names


@pytest.mark.parametrize("pipeline", [False, True])
def test_size_limit_exceeded_on_a_later_page_is_partial_with_every_entry_before_it(scripted, pipeline):
    server, conn = scripted([
        [entry("CN=a,DC=contoso,DC=test", cn="a"), entry("CN=b,DC=contoso,DC=test", cn="b"),
         reference("ldap://child.contoso.test/DC=child,DC=contoso,DC=test"), done(0, b"c1")],
        [entry("CN=c,DC=contoso,DC=test", cn="c"), done(4, None, "size limit")],
    ])
    status = SearchStatus()
    assert run(conn, status, pipeline) == ["CN=a", "CN=b", "CN=c"]
    assert status.partial and status.result_code == 4 and status.pages == 2
    assert "sizeLimitExceeded" in status.reason and "after 3 entries" in status.reason
    assert status.referrals == ["ldap://child.contoso.test/DC=child,DC=contoso,DC=test"]


@pytest.mark.parametrize("pipeline", [False, True])
def test_another_result_code_mid_way_is_partial_and_named(scripted, pipeline):
    server, conn = scripted([
        [entry("CN=a,DC=contoso,DC=test"), done(0, b"c1")],
        [done(51, None, "server is busy")],
    ])
    status = SearchStatus()
    assert run(conn, status, pipeline) == ["CN=a"]
    assert status.partial and "busy (51)" in status.reason and "server is busy" in status.reason


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_malformed_entry_is_a_partial_search_not_a_traceback(scripted, pipeline):
    server, conn = scripted([[entry("CN=a,DC=contoso,DC=test"), tlv(0x64, integer(7)), done(0, None)]])
    status = SearchStatus()
    assert run(conn, status, pipeline) == []
    assert status.partial and "could not be decoded" in status.reason


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_notice_of_disconnection_is_an_interrupted_search(scripted, pipeline):
    notice = tlv(0x78, tlv(0x0A, b"\x34") + tlv(0x04, b"") + tlv(0x04, b"shutting down")
                 + tlv(0x8A, b"1.3.6.1.4.1.1466.20036"))
    server, conn = scripted([[entry("CN=a,DC=contoso,DC=test"), ("raw", message(0, notice))]])
    status = SearchStatus()
    assert run(conn, status, pipeline) == []
    assert status.partial and "interrupted" in status.reason and "message 0" in status.reason


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_connection_closed_mid_page_is_an_interrupted_search(scripted, pipeline):
    server, conn = scripted([
        [entry("CN=a,DC=contoso,DC=test"), done(0, b"c1")],
        [("raw", message(9, entry("CN=b,DC=contoso,DC=test"))[:7]), CLOSE],
    ])
    status = SearchStatus()
    assert run(conn, status, pipeline) == ["CN=a"]
    assert status.partial and "interrupted" in status.reason


def test_pipelining_asks_for_the_next_page_before_the_caller_has_the_first_entry(scripted):
    # The last page's control carries an empty cookie (RFC 2696 3), as AD and Samba send it.
    pages = [[entry("CN=a,DC=contoso,DC=test"), done(0, b"c1")], [entry("CN=b,DC=contoso,DC=test"), done(0, b"")]]
    server, conn = scripted([list(p) for p in pages])
    status = SearchStatus()
    search = paged_search(conn, "DC=contoso,DC=test", "(cn=*)", ["cn"], status=status, page_size=1, pipeline=True)
    next(search)
    assert server.second_search.wait(5)  # the request for page 2 is already on its way
    assert [dn for dn, _ in search] == ["CN=b,DC=contoso,DC=test"] and not status.partial

    server2, conn2 = scripted([list(p) for p in pages])
    lazy = paged_search(conn2, "DC=contoso,DC=test", "(cn=*)", ["cn"], status=SearchStatus(), page_size=1)
    next(lazy)
    assert server2.searches == 1  # without pipelining, page 2 is asked for only when page 1 is used up
    assert [dn for dn, _ in lazy] == ["CN=b,DC=contoso,DC=test"]


def test_a_caller_that_stops_early_leaves_the_connection_usable(scripted):
    server, conn = scripted([
        [entry("CN=a,DC=contoso,DC=test"), entry("CN=b,DC=contoso,DC=test"), done(0, b"c1")],
        [entry("CN=c,DC=contoso,DC=test"), done(0, b"c2")],  # pipelined, never used by the caller
        [entry("CN=x,DC=contoso,DC=test", description="the base read"), done(0)],
    ])
    status = SearchStatus()
    assert run(conn, status, True, limit=1) == ["CN=a"]
    assert server.searches == 2
    attrs = read_entry(conn, "CN=x,DC=contoso,DC=test", ["description"])
    assert attrs is not None and attrs["description"] == [b"the base read"]


def test_a_dc_that_drops_the_rootdse_read_makes_every_directory_check_error_not_judge_empty_data():
    from adfs_readiness.api import CannotDetermine, CheckContext
    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.facts.directory import DIRECTORY_FACT, DIRECTORY_SECTIONS
    from adfs_readiness.model import Status
    from adfs_readiness.probes.directory import gather_directory

    server = ScriptedLdapServer([[CLOSE]])  # binds, then closes the connection on the RootDSE read
    try:
        cfg = settings_from_mapping({
            "federation": {"service_name": "sts.contoso.test", "domains": ["contoso.com"]},
            "directory": {"server": f"ldap://127.0.0.1:{server.port}", "bind_user": "reader@contoso.test",
                          "service_account": "gmsa-adfs"}})
        facts = gather_directory(cfg, password="pw", timeout=5)
    finally:
        server.close()
    assert facts.connection.bound and set(facts.section_errors) == set(DIRECTORY_SECTIONS)
    assert all(why.startswith("the RootDSE could not be read") for why in facts.section_errors.values())
    for check in discover_checks().checks:
        if not check.id.startswith("directory."):
            continue
        ctx = CheckContext(facts={DIRECTORY_FACT: facts}, config=cfg, now=FIXED_NOW)
        try:
            status = check.function(ctx).status
        except CannotDetermine as exc:
            status = Status.ERROR
            assert "RootDSE could not be read" in exc.reason, check.id
        assert status is (Status.WARN if check.id == "directory.connect" else Status.ERROR), check.id
