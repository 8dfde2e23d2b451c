"""Attacks on the directory area's newest parts: the pipelined paged-search reader, the Kerberos
bind and the source-anchor check.

The reader is driven by a scripted LDAP server on loopback (real BER over TCP, and over TLS)
whose answers break the rules a DC is expected to follow: a message for another operation, an
intermediate response, a referral result, a cookie on a failure, a message larger than any
socket buffer, a stall, an answer cut into one-byte reads, a missing paged-results control, and
values a hostile or broken server could send. After each, the connection's next operation must
get its own answer (or fail cleanly), and the search must end as ``status.partial`` with a
reason, never as a traceback or a hang. The same reader is compared with ldap3's own paged
search on the Samba lab DC.
"""

from __future__ import annotations

import gc
import socket
import ssl
import threading
import time

import pytest
from factories import internal_dns
from ldap3.core import exceptions as ldap_exc

from adfs_readiness.settings import settings_from_mapping
from adfs_readiness.net.ldap import connect, parse_ldap_url
from adfs_readiness.probes.ldap_search import PAGED_RESULTS_OID, SearchStatus, paged_search, read_entry

from test_ldap_search_wire import done, entry, integer, message, reference, tlv

B = "DC=contoso,DC=test"
CLOSE = object()


class Stall:
    """Send nothing more until ``release`` is set (the test's teardown sets it)."""

    def __init__(self) -> None:
        self.release = threading.Event()


class AttackServer:
    """An LDAP server on loopback: a bind succeeds; the n-th search request is answered by
    ``script[n]``, a list of

    * bytes: a protocolOp sent in an LDAPMessage with the request's message id;
    * ("op", op, controls): the same with controls;
    * ("id", message_id, op): an LDAPMessage with another message id;
    * ("raw", data): bytes sent as they are;
    * a Stall: wait until released; CLOSE: shut the connection.

    A search with scope baseObject (read_entry) is answered by ``base`` instead (by default an
    entry whose description is "the base read"). ``requests`` records (message id, protocolOp
    tag, raw request) of every request received. With ``tls`` (an ssl.SSLContext) the server
    speaks LDAPS."""

    def __init__(self, script: list[list[object]], tls: ssl.SSLContext | None = None,
                 base: list[object] | None = None) -> None:
        self.script = list(script)
        self.base = base if base is not None else [entry(dn("x"), description="the base read"), done(0)[0]]
        self.requests: list[tuple[int, int, bytes]] = []
        self.stalls: list[Stall] = [p for page in script for p in page if isinstance(p, Stall)]
        self.tls = tls
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _request(self, conn: socket.socket) -> tuple[int, int, bytes]:
        head = self._read(conn, 2)
        length = head[1]
        extra = b""
        if length & 0x80:
            extra = self._read(conn, length & 0x7F)
            length = int.from_bytes(extra, "big")
        body = self._read(conn, length)
        id_len = body[1]
        return int.from_bytes(body[2:2 + id_len], "big"), body[2 + id_len], head + extra + body

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                return
        with conn:
            try:
                while True:
                    mid, op, raw = self._request(conn)
                    self.requests.append((mid, op, raw))
                    if op == 0x60:
                        conn.sendall(message(mid, tlv(0x61, tlv(0x0A, b"\x00") + tlv(0x04, b"") + tlv(0x04, b""))))
                    elif op == 0x63:
                        for part in (self.base if _scope(raw) == 0 else self.script.pop(0)):
                            if part is CLOSE:
                                conn.shutdown(socket.SHUT_RDWR)
                                return
                            if isinstance(part, Stall):
                                part.release.wait(30)
                            elif isinstance(part, tuple) and part[0] == "raw":
                                conn.sendall(part[1])
                            elif isinstance(part, tuple) and part[0] == "id":
                                conn.sendall(message(part[1], part[2]))
                            elif isinstance(part, tuple) and part[0] == "op":
                                conn.sendall(message(mid, part[1], part[2]))
                            else:
                                conn.sendall(message(mid, part))
                    elif op == 0x42:  # unbind
                        return
            except (EOFError, OSError, IndexError):
                return

    @property
    def searches(self) -> list[tuple[int, bytes]]:
        """The paged (not baseObject) search requests received."""
        return [(mid, raw) for mid, op, raw in self.requests if op == 0x63 and _scope(raw) != 0]

    def close(self) -> None:
        for stall in self.stalls:
            stall.release.set()
        self.sock.close()


def _scope(request: bytes) -> int:
    """The scope of a raw searchRequest LDAPMessage (RFC 4511 4.5.1: baseObject, then scope)."""
    def skip_header(data: bytes, at: int) -> int:
        n = data[at + 1]
        return at + 2 + (n & 0x7F if n & 0x80 else 0)

    at = skip_header(request, 0)                 # LDAPMessage SEQUENCE
    at = skip_header(request, at) + request[at + 1]  # messageID INTEGER (short form)
    at = skip_header(request, at)                # [APPLICATION 3] searchRequest
    n = request[at + 1]
    if n & 0x80:
        size = n & 0x7F
        n = int.from_bytes(request[at + 2:at + 2 + size], "big")
        at += 2 + size + n
    else:
        at += 2 + n                              # baseObject
    return request[at + 2]                       # scope ENUMERATED


@pytest.fixture
def attack():
    servers = []

    def make(script, *, tls: ssl.SSLContext | None = None, ca_file: str | None = None, timeout: float = 5,
             base: list[object] | None = None):
        server = AttackServer(script, tls, base)
        servers.append(server)
        scheme = "ldaps" if tls else "ldap"
        url = f"{scheme}://127.0.0.1:{server.port}"
        cfg = settings_from_mapping({"directory": {"server": url, "bind_user": "reader@contoso.test"}})
        conn, info = connect(parse_ldap_url(url), cfg.directory, "pw", timeout=timeout, ca_file=ca_file)
        assert conn is not None, info.reason
        return server, conn

    yield make
    for server in servers:
        server.close()


def dn(name: str) -> str:
    return f"CN={name},{B}"


def page(*names: str, cookie: bytes | None = b"", code: int = 0, text: str = "") -> list[object]:
    op, controls = done(code, cookie, text)
    return [entry(dn(n), cn=n) for n in names] + [("op", op, controls)]


def scan(conn, status, pipeline, limit=None):
    names = []
    for found_dn, _attrs in paged_search(conn, B, "(objectClass=user)", ["cn"], status=status, page_size=2,
                                        pipeline=pipeline):
        names.append(found_dn.split(",")[0][3:])
        if limit and len(names) == limit:
            break
    return names


def next_read_gets_its_own_answer(conn) -> None:
    attrs = read_entry(conn, dn("x"), ["description"])
    assert attrs is not None and attrs["description"] == [b"the base read"]


# --- early stops ------------------------------------------------------------------------------

def test_an_exception_in_the_consumer_loop_drains_the_pipelined_page(attack):
    server, conn = attack([page("a", "b", cookie=b"c1"), page("c", cookie=b"c2")])
    status = SearchStatus()
    with pytest.raises(ZeroDivisionError):
        for _ in paged_search(conn, B, "(cn=*)", ["cn"], status=status, page_size=2, pipeline=True):
            1 / 0  # noqa: B018 - the consumer's own error, raised inside the generator's loop
    assert len(server.searches) == 2
    next_read_gets_its_own_answer(conn)


def test_a_generator_dropped_mid_page_drains_the_pipelined_page(attack):
    server, conn = attack([page("a", "b", cookie=b"c1"), page("c", cookie=b"c2")])
    search = paged_search(conn, B, "(cn=*)", ["cn"], status=SearchStatus(), page_size=2, pipeline=True)
    next(search)
    del search
    gc.collect()
    next_read_gets_its_own_answer(conn)


def test_a_server_that_closes_during_the_drain_leaves_a_closed_connection_not_a_hang(attack):
    server, conn = attack([page("a", "b", cookie=b"c1"), [entry(dn("c"), cn="c"), CLOSE]])
    status = SearchStatus()
    assert scan(conn, status, True, limit=1) == ["a"]
    assert not status.partial  # the caller stopped; the page it did not want is not its problem
    with pytest.raises(ldap_exc.LDAPException):
        read_entry(conn, dn("x"), ["description"])
    conn.unbind()


def test_a_generator_never_started_sends_nothing(attack):
    server, conn = attack([])
    search = paged_search(conn, B, "(cn=*)", ["cn"], status=SearchStatus(), pipeline=True)
    del search
    next_read_gets_its_own_answer(conn)
    assert server.searches == []


# --- answers that break the rules -------------------------------------------------------------

@pytest.mark.parametrize("pipeline", [False, True])
def test_an_entry_for_another_message_id_is_never_yielded(attack, pipeline):
    # ldap3's own reader refuses such a message ("invalid messageId received"); this one must not
    # hand another operation's entry to the caller as part of the scan. The rest of the page comes
    # after the reader gave up: it must not be read as the next operation's answer.
    stall = Stall()
    server, conn = attack([
        [entry(dn("a"), cn="a"), ("id", 77, entry(dn("intruder"), cn="intruder")), stall,
         entry(dn("b"), cn="b"), ("op", *done(0, None))],
    ])
    status = SearchStatus()
    names = scan(conn, status, pipeline)
    assert "intruder" not in names
    assert status.partial and "message 77" in status.reason
    stall.release.set()
    assert_next_operation_is_clean(conn)


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_result_for_another_message_id_leaves_no_stale_answer_for_the_next_operation(attack, pipeline):
    stall = Stall()
    server, conn = attack([
        [entry(dn("a"), cn="a"), ("id", 77, done(0)[0]), stall, entry(dn("b"), cn="b"), ("op", *done(0, None))],
    ])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == []
    assert status.partial and "message 77" in status.reason
    stall.release.set()
    assert_next_operation_is_clean(conn)


def assert_next_operation_is_clean(conn) -> None:
    """After the session went out of step, the next operation must not read a stale answer: it
    gets its own, or fails at once with an LDAP error (never another operation's data)."""
    try:
        attrs = read_entry(conn, dn("x"), ["description"])
    except (ldap_exc.LDAPException, RuntimeError) as exc:
        assert "invalid messageId" not in str(exc), exc
    else:
        assert attrs is not None and attrs["description"] == [b"the base read"]
    conn.unbind()  # what gather_directory does last: no error on a connection the reader closed


@pytest.mark.parametrize("pipeline", [False, True])
def test_an_intermediate_response_mid_page_is_skipped(attack, pipeline):
    intermediate = tlv(0x79, tlv(0x80, b"1.2.3.4") + tlv(0x81, b"value"))
    server, conn = attack([
        [entry(dn("a"), cn="a"), intermediate, ("op", *done(0, b"c1"))],
        [entry(dn("b"), cn="b"), ("op", *done(0, b""))],
    ])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == ["a", "b"]
    assert not status.partial and status.pages == 2
    next_read_gets_its_own_answer(conn)


def referral_done(url: str, cookie: bytes | None = None) -> tuple[bytes, bytes]:
    op = tlv(0x65, tlv(0x0A, b"\x0a") + tlv(0x04, b"") + tlv(0x04, b"0000202B: RefErr: DSID-0310082F")
             + tlv(0xA3, tlv(0x04, url.encode())))
    if cookie is None:
        return op, b""
    value = tlv(0x30, integer(0) + tlv(0x04, cookie))
    return op, tlv(0xA0, tlv(0x30, tlv(0x04, PAGED_RESULTS_OID.encode()) + tlv(0x04, value)))


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_referral_result_is_partial_and_names_where_the_search_was_referred(attack, pipeline):
    # AD answers a search whose base is in another domain with resultCode referral (10) and no
    # entries: the search was not done here. An empty, complete-looking scan would pass every
    # scan check on zero objects.
    url = "ldap://child.contoso.test/DC=child,DC=contoso,DC=test"
    server, conn = attack([[("op", *referral_done(url))]])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == []
    assert status.partial and status.result_code == 10
    assert "referral" in status.reason and url in status.reason
    assert status.referrals == [url]
    next_read_gets_its_own_answer(conn)


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_referral_mid_paging_with_a_cookie_is_partial_and_asks_for_no_further_page(attack, pipeline):
    url = "ldap://dc2.contoso.test/DC=contoso,DC=test"
    server, conn = attack([
        page("a", "b", cookie=b"c1"),
        [entry(dn("c"), cn="c"), ("op", *referral_done(url, b"c2"))],
    ])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == ["a", "b", "c"]
    assert status.partial and status.result_code == 10 and url in status.reason
    assert len(server.searches) == 2  # no third page asked for after the referral
    next_read_gets_its_own_answer(conn)


@pytest.mark.parametrize("pipeline", [False, True])
@pytest.mark.parametrize("code, words", [(51, "busy (51)"), (4, "sizeLimitExceeded"), (3, "timeLimitExceeded")])
def test_a_cookie_on_a_failure_is_not_followed(attack, pipeline, code, words):
    server, conn = attack([page("a", "b", cookie=b"c1"), page("c", cookie=b"more", code=code, text="stop"),
])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == ["a", "b", "c"]
    assert status.partial and words in status.reason
    assert len(server.searches) == 2
    next_read_gets_its_own_answer(conn)


@pytest.mark.parametrize("pipeline", [False, True])
def test_no_paged_control_on_the_first_page_is_a_server_that_ignored_paging(attack, pipeline):
    server, conn = attack([[entry(dn("a"), cn="a"), entry(dn("b"), cn="b"), entry(dn("c"), cn="c"), done(0)[0]],
])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == ["a", "b", "c"]
    assert not status.partial and status.pages == 1
    next_read_gets_its_own_answer(conn)


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_paged_control_missing_on_a_later_page_is_partial(attack, pipeline):
    # RFC 2696 3: the cookie is empty on the last page; a page after the first without the
    # control says nothing about whether more entries follow.
    server, conn = attack([page("a", "b", cookie=b"c1"), [entry(dn("c"), cn="c"), done(0)[0]],
])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == ["a", "b", "c"]
    assert status.partial and "paged results control" in status.reason
    next_read_gets_its_own_answer(conn)


# --- transport: size, speed, segmentation, TLS --------------------------------------------------

@pytest.mark.parametrize("pipeline", [False, True])
def test_one_message_larger_than_any_socket_buffer_arrives_whole(attack, pipeline):
    big = bytes(range(256)) * 8192  # 2 MiB in one value of one entry
    huge = tlv(0x64, tlv(0x04, dn("big").encode()) + tlv(0x30, tlv(0x30, tlv(0x04, b"jpegPhoto") + tlv(0x31, tlv(0x04, big)))))
    server, conn = attack([[entry(dn("a"), cn="a"), huge, ("op", *done(0, b"c1"))], page("b"),
])
    status = SearchStatus()
    found = list(paged_search(conn, B, "(cn=*)", ["cn", "jpegPhoto"], status=status, page_size=2, pipeline=pipeline))
    assert [d for d, _ in found] == [dn("a"), dn("big"), dn("b")] and not status.partial
    assert found[1][1]["jpegPhoto"] == [big]
    next_read_gets_its_own_answer(conn)


@pytest.mark.parametrize("pipeline", [False, True])
@pytest.mark.parametrize("where", ["before the page", "mid-message"])
def test_a_stalled_server_ends_the_search_as_partial_within_the_receive_timeout(attack, pipeline, where):
    stall = Stall()
    second = [stall] if where == "before the page" else [("raw", message(3, entry(dn("c"), cn="c"))[:9]), stall]
    server, conn = attack([page("a", "b", cookie=b"c1"), second], timeout=1)
    assert conn.receive_timeout == 1
    status = SearchStatus()
    started = time.monotonic()
    assert scan(conn, status, pipeline) == ["a", "b"]
    assert time.monotonic() - started < 8  # 1 s receive timeout, generous slack for a loaded machine
    assert status.partial and "timed out" in status.reason
    with pytest.raises(ldap_exc.LDAPException):  # ldap3 closed the timed-out socket: a clean error
        read_entry(conn, dn("x"), ["description"])


def test_a_stall_on_the_pipelined_page_of_a_caller_that_stopped_early_is_bounded(attack):
    stall = Stall()
    server, conn = attack([page("a", "b", cookie=b"c1"), [stall]], timeout=1)
    status = SearchStatus()
    started = time.monotonic()
    assert scan(conn, status, True, limit=1) == ["a"]
    assert time.monotonic() - started < 8
    with pytest.raises(ldap_exc.LDAPException):
        read_entry(conn, dn("x"), ["description"])


@pytest.mark.parametrize("pipeline", [False, True])
def test_an_answer_read_one_byte_at_a_time_is_reassembled(attack, pipeline):
    # socket_size is ldap3's recv() size: 1 makes every message boundary and every BER length
    # fall across reads, the worst any segmentation of TCP can do.
    server, conn = attack([
        [entry(dn("a"), cn="a", description="é" * 200), reference("ldap://child.contoso.test/DC=child"),
         ("op", *done(0, b"c1"))],
        page("b", "c", cookie=b""),
    ])
    conn.strategy.socket_size = 1
    status = SearchStatus()
    found = list(paged_search(conn, B, "(cn=*)", ["cn", "description"], status=status, page_size=2, pipeline=pipeline))
    assert [d for d, _ in found] == [dn("a"), dn("b"), dn("c")] and not status.partial
    assert found[0][1]["description"] == [("é" * 200).encode()]
    assert status.referrals == ["ldap://child.contoso.test/DC=child"]
    next_read_gets_its_own_answer(conn)


@pytest.fixture(scope="module")
def tls_server_context(tmp_path_factory):
    """A server-side SSLContext with a certificate for 127.0.0.1, and the CA file that trusts it."""
    from conftest import FIXED_NOW
    from adfs_readiness.lab.pki import LabPki

    pki = LabPki(FIXED_NOW)
    cert = pki.issue_tls(["127.0.0.1"])
    d = tmp_path_factory.mktemp("ldaps")
    cert.write_pem(d / "chain.pem", d / "key.pem")
    (d / "ca.pem").write_bytes(pki.ca_bundle_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(d / "chain.pem", d / "key.pem")
    return context, str(d / "ca.pem")


@pytest.mark.parametrize("pipeline", [False, True])
def test_ldaps_paging_early_stop_and_the_next_read(attack, tls_server_context, pipeline):
    context, ca = tls_server_context
    big = b"x" * 100_000  # larger than one TLS record (16 KiB)
    server, conn = attack([
        [entry(dn("a"), cn="a"), entry(dn("b"), cn="b", description=big.decode()), ("op", *done(0, b"c1"))],
        page("c", "d", cookie=b"c2"),
        page("e", cookie=b""),  # asked for only by the pipelined reader
    ], tls=context, ca_file=ca)
    assert isinstance(conn.socket, ssl.SSLSocket)
    conn.strategy.socket_size = 7  # TLS records split across reads too
    status = SearchStatus()
    found = []
    for found_dn, attrs in paged_search(conn, B, "(cn=*)", ["cn", "description"], status=status, page_size=2,
                                        pipeline=pipeline):
        found.append(found_dn)
        if found_dn == dn("b"):
            assert attrs["description"] == [big]
        if len(found) == 3:
            break
    assert found == [dn("a"), dn("b"), dn("c")]
    next_read_gets_its_own_answer(conn)


def test_ldaps_stall_is_partial_within_the_receive_timeout(attack, tls_server_context):
    context, ca = tls_server_context
    stall = Stall()
    server, conn = attack([page("a", "b", cookie=b"c1"), [stall]], tls=context, ca_file=ca, timeout=1)
    status = SearchStatus()
    started = time.monotonic()
    assert scan(conn, status, True) == ["a", "b"]
    assert time.monotonic() - started < 8
    assert status.partial and "timed out" in status.reason


# --- hostile values ---------------------------------------------------------------------------

def attribute(name: bytes, values: bytes) -> bytes:
    return tlv(0x30, tlv(0x04, name) + tlv(0x31, values))


def raw_entry(name: str, *attributes: bytes) -> bytes:
    return tlv(0x64, tlv(0x04, dn(name).encode()) + tlv(0x30, b"".join(attributes)))


@pytest.mark.parametrize("pipeline", [False, True])
def test_an_attribute_without_values_is_an_empty_list_not_none(attack, pipeline):
    # The reader promises list[bytes] per attribute; ldap3's decoder gives None for an empty SET,
    # which breaks every caller that iterates attrs.get(name, ()).
    server, conn = attack([[raw_entry("a", attribute(b"proxyAddresses", b""), attribute(b"cn", tlv(0x04, b"a"))),
                            done(0)[0]]])
    status = SearchStatus()
    found = list(paged_search(conn, B, "(cn=*)", ["cn", "proxyAddresses"], status=status, pipeline=pipeline))
    assert not status.partial
    assert [(d, dict(a)) for d, a in found] == [(dn("a"), {"proxyAddresses": [], "cn": [b"a"]})]
    next_read_gets_its_own_answer(conn)


@pytest.mark.parametrize("pipeline", [False, True])
@pytest.mark.parametrize("value, words", [
    (tlv(0x02, (1 << 70).to_bytes(9, "big")), "not an OCTET STRING"),  # bytes(2**70): OverflowError
    (tlv(0x02, (1 << 62).to_bytes(8, "big")), "not an OCTET STRING"),  # bytes(2**62): MemoryError
    (tlv(0x30, tlv(0x04, b"x")), "not an OCTET STRING"),               # a SEQUENCE where a value belongs
])
def test_a_value_that_is_not_an_octet_string_is_a_partial_search(attack, pipeline, value, words):
    server, conn = attack([[entry(dn("a"), cn="a"), ("op", *done(0, b"c1"))],
                           [raw_entry("b", attribute(b"cn", value)), ("op", *done(0, b""))],
])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == ["a"]
    assert status.partial and "could not be decoded" in status.reason and words in status.reason
    next_read_gets_its_own_answer(conn)


@pytest.mark.parametrize("pipeline", [False, True])
def test_deeply_nested_ber_is_a_partial_search_not_a_recursion_error(attack, pipeline):
    nested = tlv(0x04, b"x")
    for _ in range(3000):
        nested = tlv(0x30, nested)
    server, conn = attack([[raw_entry("a", attribute(b"cn", nested)), ("op", *done(0, b""))],
])
    status = SearchStatus()
    assert scan(conn, status, pipeline) == []
    assert status.partial and "could not be decoded" in status.reason
    next_read_gets_its_own_answer(conn)


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_dn_that_is_not_an_octet_string_is_a_partial_search(attack, pipeline):
    bad = tlv(0x64, tlv(0x30, tlv(0x04, b"CN=a")) + tlv(0x30, b""))
    server, conn = attack([[bad, ("op", *done(0, b""))]])
    status = SearchStatus()
    found = list(paged_search(conn, B, "(cn=*)", ["cn"], status=status, pipeline=pipeline))
    assert found == [] and status.partial and "could not be decoded" in status.reason
    next_read_gets_its_own_answer(conn)


# --- referrals are never followed -----------------------------------------------------------------

def test_a_referral_answer_to_a_base_read_never_sends_the_password_to_the_referred_host(attack):
    # ldap3 follows referrals by default, to any host, binding there with the same user and
    # password (over plain LDAP for an ldap:// referral, even from an LDAPS session).
    elsewhere = AttackServer([[done(0)[0]]])
    try:
        url = f"ldap://127.0.0.1:{elsewhere.port}/CN=x,{B}"
        server, conn = attack([], base=[("op", *referral_done(url))])
        with pytest.raises(RuntimeError, match="referral"):
            read_entry(conn, dn("x"), ["description"])
        assert elsewhere.requests == []
    finally:
        elsewhere.close()


# --- the same data through ldap3's own paged search (Samba lab DC) --------------------------------

def _ldap3_paged(conn, base, attributes, page_size):
    """Every (dn, raw attributes) of a subtree search through ldap3's own conn.search paging."""
    out, cookie = [], None
    while True:
        assert conn.search(base, "(objectClass=*)", attributes=attributes, paged_size=page_size, paged_cookie=cookie)
        out.extend((e["dn"], dict(e["raw_attributes"])) for e in conn.response if e["type"] == "searchResEntry")
        cookie = conn.result["controls"][PAGED_RESULTS_OID]["value"]["cookie"]
        if not cookie:
            return out


@pytest.mark.parametrize("server", ["ldaps://dc1.contoso.test", "ldap://dc1.contoso.test"])
def test_the_pipelined_reader_returns_what_ldap3_returns_for_the_same_search(samba_dc, server):
    from adfs_readiness.probes.directory_scan import SCAN_ATTRIBUTES
    from adfs_readiness.probes.directory_session import _resolve_a

    cfg = settings_from_mapping({"dns": {"internal_resolvers": [f"{samba_dc.address}:{samba_dc.dns_port}"]},
                               "directory": {"server": server, "bind_user": samba_dc.admin_upn,
                                             "ca_bundle": samba_dc.ca_pem}})
    attributes = [*SCAN_ATTRIBUTES, "objectSid", "member", "memberOf", "cn", "name", "whenCreated",
                  "servicePrincipalName", "description", "nTSecurityDescriptor"]

    def both():
        target = parse_ldap_url(server)
        address = _resolve_a(internal_dns(cfg), target.host)
        conn, info = connect(target, cfg.directory, samba_dc.admin_password, timeout=5, ca_file=samba_dc.ca_pem,
                             connect_host=address)
        assert conn is not None, info.reason
        try:
            status = SearchStatus()
            ours = list(paged_search(conn, B, "(objectClass=*)", attributes, status=status, page_size=7,
                                     pipeline=True))
            theirs = _ldap3_paged(conn, B, attributes, 7)
            return ours, status, theirs
        finally:
            conn.unbind()

    ours, status, theirs = samba_dc.run_in_network(both)
    assert not status.partial and status.pages == -(-len(ours) // 7)
    assert len(ours) > 100 and len(ours) == len(theirs)
    assert [d for d, _ in ours] == [d for d, _ in theirs]
    for (found_dn, mine), (_, ldap3s) in zip(ours, theirs):
        assert list(mine) == list(ldap3s), found_dn  # the same attribute names, in the same case and order
        assert {k: v for k, v in mine.items()} == ldap3s, found_dn
    by_dn = dict(ours)
    clean2 = by_dn[f"CN=clean2,OU=Clean,{B}"]
    assert clean2["displayName"] == ["Zoë Ångström-Müller 山田太郎".encode()]
    assert len(clean2["objectGUID"][0]) == 16 and len(clean2["objectClass"]) == 4
    assert any(len(attrs.get("member", ())) > 1 for attrs in by_dn.values())  # multi-valued
    assert len({attrs["objectGUID"][0] for attrs in by_dn.values()}) == len(ours)


# --- Kerberos: the Global Catalog, DCs from SRV records, LDAPS, secrets ----------------------------

def kerberos(test):
    """Skip without gssapi or kinit. Samba's self-made LDAPS certificate has a negative serial
    number, which cryptography warns about when ldap3 reads it for the GSSAPI channel binding (a
    lab artefact: AD certificates have positive serials)."""
    from krb5_lab import kerberos_missing

    test = pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")(test)
    # The reason names what is missing (issue 14: "needs gssapi ... and kinit" did not say which).
    return pytest.mark.skipif(kerberos_missing() is not None, reason=kerberos_missing() or "")(test)


@pytest.fixture(scope="module")
def ticket(samba_single_dc, tmp_path_factory):
    """A krb5.conf for the lab realm and a ticket cache holding Administrator's TGT."""
    from krb5_lab import lab_ticket

    with lab_ticket(samba_single_dc, tmp_path_factory.mktemp("krb5-attack")) as folder:
        yield folder


def kerberos_gather(dc, **directory):
    from adfs_readiness.probes.directory import gather_directory

    cfg = settings_from_mapping({"dns": {"internal_resolvers": [f"{dc.address}:{dc.dns_port}"]},
                               "directory": {"auth": "kerberos", "base_dn": f"OU=Lab,{B}", "ca_bundle": dc.ca_pem,
                                             **directory},
                               "federation": {"service_name": "sts.contoso.test", "domains": ["contoso.com"]}})
    return dc.run_in_network(lambda: gather_directory(cfg, dns=internal_dns(cfg), timeout=5))


@kerberos
@pytest.mark.parametrize("server, transport", [("ldap://dc1.contoso.test", "plain"),
                                               ("ldaps://dc1.contoso.test", "ldaps"),
                                               ("ldaps://dc1.contoso.test:636", "ldaps")])
def test_kerberos_reads_the_global_catalog_with_the_same_ticket(samba_single_dc, ticket, server, transport):
    facts = kerberos_gather(samba_single_dc, server=server)
    c = facts.connection
    assert c.result == "ok" and c.transport == transport, c.reason
    assert facts.section_errors == {}
    assert [r.source for r in facts.spn_registrations] == ["global catalog", "global catalog"]
    assert facts.scan is not None and not facts.scan.partial and facts.scan.objects_read == 1


@kerberos
def test_kerberos_with_the_dc_found_from_srv_records(samba_single_dc, ticket):
    facts = kerberos_gather(samba_single_dc)  # no server: _ldap._tcp.dc._msdcs.contoso.test
    c = facts.connection
    assert c.result == "ok", c.reason
    assert c.discovered_from == "_ldap._tcp.dc._msdcs.contoso.test"
    assert c.server.lower() == "ldaps://dc1.contoso.test:636" and c.transport == "ldaps"
    assert [r.source for r in facts.spn_registrations] == ["global catalog", "global catalog"]
    assert facts.scan is not None and not facts.scan.partial


@kerberos
def test_kerberos_failures_carry_no_secret_and_no_traceback(samba_single_dc, ticket):
    import dataclasses
    import json

    cache = (ticket / "ccache").read_bytes()
    facts = kerberos_gather(samba_single_dc, server="ldap://127.0.0.1")  # no ldap/127.0.0.1 principal
    assert facts.connection.result == "auth_failed"
    text = json.dumps(dataclasses.asdict(facts), default=str)
    assert "not an IP address" in facts.connection.reason
    assert samba_single_dc.admin_password not in text
    for chunk in (cache[i:i + 16] for i in range(0, len(cache) - 16, 16)):  # no piece of the ticket cache
        assert chunk.decode("latin-1") not in text


def test_a_failed_simple_bind_and_a_directory_read_never_show_the_password(samba_single_dc):
    import dataclasses
    import json

    from adfs_readiness.probes.directory import gather_directory

    secret = "Wr0ng-But-Secret-%s" % samba_single_dc.admin_password[::-1]
    cfg = settings_from_mapping({"dns": {"internal_resolvers": [f"{samba_single_dc.address}:{samba_single_dc.dns_port}"]},
                               "directory": {"server": "ldap://dc1.contoso.test", "bind_user": samba_single_dc.admin_upn},
                               "federation": {"service_name": "sts.contoso.test", "domains": ["contoso.com"]}})
    for password in (secret, samba_single_dc.admin_password):
        facts = samba_single_dc.run_in_network(
            lambda password=password: gather_directory(cfg, password=password, dns=internal_dns(cfg),
                                                       timeout=5))
        assert password not in json.dumps(dataclasses.asdict(facts), default=str)
    assert facts.connection.result == "ok"


def test_a_missing_directory_ca_bundle_is_a_tls_failure_not_a_traceback(tmp_path):
    from adfs_readiness.probes.directory import gather_directory
    from adfs_readiness.settings import SettingsError

    # Missing when the configuration is read: a configuration error naming the key and the path.
    mapping = {"directory": {"server": "ldaps://127.0.0.1:1", "bind_user": "reader@contoso.test",
                             "ca_bundle": str(tmp_path / "no-such-ca.pem")}}
    with pytest.raises(SettingsError, match=r"directory\.ca_bundle = .*no such file: .*no-such-ca\.pem"):
        settings_from_mapping(mapping)
    # Gone by the time the probe reads it (removed between load and run): a TLS failure, not a traceback.
    (tmp_path / "no-such-ca.pem").write_text("")
    cfg = settings_from_mapping(mapping)
    (tmp_path / "no-such-ca.pem").unlink()
    facts = gather_directory(cfg, password="pw", timeout=2)
    assert facts.connection.result == "tls_failed"
    assert "no-such-ca.pem" in facts.connection.reason


def test_a_directory_ca_bundle_that_is_not_pem_is_a_tls_failure_not_a_traceback(tmp_path, tls_server_context):
    from adfs_readiness.probes.directory import gather_directory

    context, _ = tls_server_context
    server = AttackServer([], tls=context)
    try:
        bad = tmp_path / "not-a-ca.pem"
        bad.write_text("this is not a certificate\n")
        cfg = settings_from_mapping({"directory": {"server": f"ldaps://127.0.0.1:{server.port}",
                                                 "bind_user": "reader@contoso.test", "ca_bundle": str(bad)}})
        facts = gather_directory(cfg, password="pw", timeout=2)
        assert facts.connection.result == "tls_failed", facts.connection.reason
    finally:
        server.close()


# --- directory.source-anchor: message, evidence, CSV rows, HTML -----------------------------------

def test_source_anchor_fail_over_the_wire_names_the_objects_writes_every_row_and_escapes_the_html(attack, tmp_path):
    """Objects returned without an objectGUID (a deny entry) and one whose objectGUID is 5 bytes
    (malformed data, which no permission explains): each named for what it is, never the one
    blamed on the other; every row in the CSV; hostile DNs escaped in the HTML."""
    import csv
    import io
    import uuid

    import markupsafe

    from adfs_readiness.api import CheckContext
    from adfs_readiness.directory_csv import directory_csv_text
    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.facts import to_jsonable
    from adfs_readiness.facts.directory import DIRECTORY_FACT, BindResult, DirectoryConnection, DirectoryFacts
    from adfs_readiness.model import Area, Status
    from adfs_readiness.probes.directory_scan import scan_objects
    from adfs_readiness.probes.directory_session import DirectorySession
    from adfs_readiness.report.html import render_html
    from report_samples import finding, sample_result

    hostile = '<img src=x onerror=alert(1)>"'
    hidden = [f"CN={hostile} {i:02},OU=Hidden,{B}" for i in range(25)]

    def user(name_dn: str, guid: bytes | None) -> bytes:
        attrs = [attribute(b"objectClass", tlv(0x04, b"top") + tlv(0x04, b"user")),
                 attribute(b"sAMAccountName", tlv(0x04, name_dn[3:10].encode()))]
        if guid is not None:
            attrs.append(attribute(b"objectGUID", tlv(0x04, guid)))
        return tlv(0x64, tlv(0x04, name_dn.encode()) + tlv(0x30, b"".join(attrs)))

    first_page = [user(d, None) for d in hidden[:13]] + [user(dn("seen1"), uuid.UUID(int=1).bytes_le)]
    second_page = ([user(d, None) for d in hidden[13:]] + [user(dn("seen2"), uuid.UUID(int=2).bytes_le)]
                   + [user(dn("short"), b"\x01\x02\x03\x04\x05")])
    server, conn = attack([first_page + [("op", *done(0, b"c1"))], second_page + [("op", *done(0, b""))]])
    cfg = settings_from_mapping({"directory": {"csv_dir": str(tmp_path)}})
    session = DirectorySession(conn, DirectoryConnection(server=None, transport="plain", auth="simple", result="ok"),
                               None, cfg.directory, None, 5, page_size=14)
    scan_result = scan_objects(session, B, {})
    assert not scan_result.partial and scan_result.objects_read == 28
    facts = DirectoryFacts(configured=True, scan=scan_result, connection=DirectoryConnection(
        server="ldap://dc1.contoso.test", transport="plain", auth="simple", result=BindResult.OK,
        bind_user="reader@contoso.test"))
    check = next(c for c in discover_checks().checks if c.id == "directory.source-anchor")
    outcome = check.function(CheckContext(facts={DIRECTORY_FACT: facts}, config=cfg, now=None))

    assert outcome.status is Status.FAIL
    assert outcome.summary.startswith(f"25 of 28 objects were returned without an objectGUID (first: "
                                      f"{hidden[0]}, {hidden[1]}, {hidden[2]}): ")
    assert (f"1 object(s) have a malformed objectGUID (first: {dn('short')}, 5 bytes where a GUID has 16): "
            "malformed data from the directory, not a permission problem") in outcome.summary
    assert outcome.evidence["without_object_guid"] == hidden[:20]  # the first 20; the CSV has all
    assert outcome.evidence["malformed_object_guid"] == [{"dn": dn("short"), "bytes": 5}]
    assert (outcome.evidence["objects"], outcome.evidence["with_object_guid"]) == (28, 2)
    assert outcome.evidence["bind_user"] == "reader@contoso.test"
    text = directory_csv_text(to_jsonable(facts), ())
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    anchor = [r for r in rows if r["check_id"] == "directory.source-anchor"]
    assert [r["dn"] for r in anchor if not r["value"]] == sorted(hidden, key=str.lower)
    assert all("denied" in r["problem"] and "dsacls" in r["suggested_fix"] for r in anchor if not r["value"])
    malformed = [r for r in anchor if r["value"]]
    assert [(r["dn"], r["value"]) for r in malformed] == [(dn("short"), "0102030405")]
    assert "malformed objectGUID: 5 bytes" in malformed[0]["problem"] and "denied" not in malformed[0]["problem"]

    result = sample_result(findings=(finding("directory.source-anchor", Status.FAIL, outcome.summary,
                                             area=Area.DIRECTORY, evidence=dict(outcome.evidence),
                                             remediation=check.meta.remediation),))
    page = render_html(result)
    assert "<img src=x" not in page and 'onerror=alert(1)>"' not in page
    assert f">{markupsafe.escape(hidden[19])}<" in page  # the 20th DN, escaped, whole in its element


@pytest.mark.parametrize("days_valid, offset, words", [(30, -40, "certificate has expired"),
                                                       (30, 5, "certificate is not yet valid")])
def test_a_dc_certificate_outside_its_dates_is_a_non_blocking_fail_other_tls_trouble_is_not_determined(
        tmp_path, days_valid, offset, words):
    """The DC's LDAPS certificate (from the lab CA, trusted) has expired / is not yet valid: a fact
    about the DC (every LDAPS client fails), so directory.connect fails, without blocking SSO. An
    untrusted CA is this machine's trust store: not determined."""
    from conftest import FIXED_NOW

    from adfs_readiness.api import CannotDetermine, CheckContext
    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.facts.directory import DIRECTORY_FACT
    from adfs_readiness.lab.pki import LabPki
    from adfs_readiness.model import Status
    from adfs_readiness.probes.directory import gather_directory

    from datetime import datetime, timezone

    pki = LabPki(datetime.now(timezone.utc))  # the handshake is judged by OpenSSL against the real clock
    pki.issue_tls(["127.0.0.1"], days_valid=days_valid, not_before_offset_days=offset).write_pem(
        tmp_path / "chain.pem", tmp_path / "key.pem")
    (tmp_path / "ca.pem").write_bytes(pki.ca_bundle_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem")
    connect_check = next(c for c in discover_checks().checks if c.id == "directory.connect")
    results = {}
    for label, ca in (("trusted", str(tmp_path / "ca.pem")), ("untrusted", None)):
        server = AttackServer([], tls=context)
        try:
            directory = {"server": f"ldaps://127.0.0.1:{server.port}", "bind_user": "reader@contoso.test"}
            if ca:
                directory["ca_bundle"] = ca
            cfg = settings_from_mapping({"directory": directory})
            facts = gather_directory(cfg, password="pw", timeout=3)
        finally:
            server.close()
        ctx = CheckContext(facts={DIRECTORY_FACT: facts}, config=cfg, now=FIXED_NOW)
        try:
            results[label] = connect_check.function(ctx)
        except CannotDetermine as exc:
            results[label] = exc
    outcome = results["trusted"]
    assert outcome.status is Status.FAIL and outcome.blocker is False and words in outcome.summary
    assert "Every LDAPS client of this DC fails" in outcome.summary
    assert isinstance(results["untrusted"], CannotDetermine)
    assert "from this machine: TLS to the DC failed" in results["untrusted"].reason
