"""The lab's DNS server: UDP and TCP on a loopback port, answering from zone files, with fault modes.

It plays the part of a *recursive resolver* over a small, closed lab internet: it knows the zones
it was given (parsed with ``dns.zone.from_text``), chases CNAMEs across them the way a recursive
resolver does (the chain in the answer section, RFC 1034 section 4.3.2), answers NXDOMAIN for names
under no zone, and adds the zone's SOA to NXDOMAIN and NODATA answers (RFC 2308). One server is one
view: the lab runs an internal and an external one (:class:`adfs_readiness.lab.dns_lab.DnsLab`).

Fault modes (:class:`DnsFault`), for the whole server or per name:

* ``silent``: never answers (the client times out),
* ``servfail`` / ``refused``: answers with that RCODE,
* ``truncate``: UDP answers carry the TC flag and no records, so the client must ask over TCP
  (RFC 7766); TCP answers are complete.

CNAME loops and dangling CNAMEs are zone data (a loop of CNAMEs, a CNAME to a name that does not
exist). UDP answers larger than the client's EDNS payload (512 bytes without EDNS) are truncated
the same way.

One thread serves both sockets through a selector; :meth:`LabDnsServer.stop` wakes it through a
socket pair, joins it and closes every socket, so nothing is left behind.
"""

from __future__ import annotations

import logging
import selectors
import socket
import struct
import threading
from enum import Enum
from typing import Iterable, Mapping

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

from adfs_readiness.settings import HostPort

__all__ = ["DnsFault", "LabDnsServer", "parse_zone"]

_log = logging.getLogger(__name__)

#: CNAME hops chased before giving up (a loop returns the chain so far with NOERROR, as BIND does).
_MAX_CHASE = 16
#: Seconds a TCP client may take to send its query; stop() does not depend on it.
_TCP_READ_SECONDS = 2.0


class DnsFault(str, Enum):
    """How the lab server misbehaves (see the module docstring)."""

    SILENT = "silent"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TRUNCATE = "truncate"


def parse_zone(text: str, origin: str | None = None) -> dns.zone.Zone:
    """Parse zone-file ``text`` (RFC 1035 master file format, ``$ORIGIN`` allowed) with dnspython.
    ``origin`` is needed when the text has no ``$ORIGIN``. Raises ``dns.exception.SyntaxError``
    (or another ``dns.exception.DNSException``) for a bad zone."""
    return dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)


class LabDnsServer:
    """A lab DNS server (one view) on ``host``, an ephemeral port shared by UDP and TCP.

    Args:
        zones: the zones it answers from.
        mode: a fault for every query (None = answer normally).
        faults: name (lower case, no final dot) -> fault for queries of that name.
        host: loopback address to listen on.

    Attributes (after :meth:`start`): ``address`` (HostPort), ``queries`` (list of
    (name, type, "udp"|"tcp") received, for tests).
    """

    def __init__(self, zones: Iterable[dns.zone.Zone], *, mode: DnsFault | None = None,
                 faults: Mapping[str, DnsFault] | None = None, host: str = "127.0.0.1") -> None:
        self.zones = sorted(zones, key=lambda z: len(z.origin), reverse=True)  # most specific first
        self.mode = DnsFault(mode) if mode else None
        self.faults = {k.lower().rstrip("."): DnsFault(v) for k, v in (faults or {}).items()}
        self.host = host
        self.queries: list[tuple[str, str, str]] = []
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def address(self) -> HostPort:
        if self._udp is None:
            raise RuntimeError("the lab DNS server is not started")
        return HostPort(self.host, self._udp.getsockname()[1])

    def start(self) -> LabDnsServer:
        """Bind UDP and TCP on the same free port and start serving. Returns self."""
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(20):  # the UDP port may be taken on TCP by someone else: try another
            udp = socket.socket(family, socket.SOCK_DGRAM)
            udp.bind((self.host, 0))
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            break
        else:
            raise OSError("no free port for UDP and TCP together on " + self.host)
        tcp.listen(16)
        self._udp, self._tcp = udp, tcp
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name=f"lab-dns-{self.address}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, join the thread and close the sockets; idempotent."""
        if self._thread is None:
            return
        assert self._wake is not None
        self._wake[1].send(b"x")
        self._thread.join()
        for s in (self._udp, self._tcp, *self._wake):
            if s is not None:
                s.close()
        self._thread = None
        self._udp = self._tcp = None
        self._wake = None

    def __enter__(self) -> LabDnsServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- serving -----------------------------------------------------------------------------

    def _serve(self) -> None:
        assert self._udp is not None and self._tcp is not None and self._wake is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._udp, selectors.EVENT_READ, "udp")
            selector.register(self._tcp, selectors.EVENT_READ, "tcp")
            selector.register(self._wake[0], selectors.EVENT_READ, "wake")
            while True:
                for key, _ in selector.select():
                    if key.data == "wake":
                        return
                    try:
                        if key.data == "udp":
                            self._serve_udp()
                        else:
                            self._serve_tcp()
                    except Exception:  # a bad packet must not stop the lab
                        _log.debug("lab DNS server: error while answering", exc_info=True)

    def _serve_udp(self) -> None:
        assert self._udp is not None
        wire, peer = self._udp.recvfrom(65535)
        answer = self._answer(wire, "udp")
        if answer is not None:
            self._udp.sendto(answer, peer)

    def _serve_tcp(self) -> None:
        assert self._tcp is not None
        conn, _ = self._tcp.accept()
        with conn:
            conn.settimeout(_TCP_READ_SECONDS)
            try:
                while True:
                    head = _recv_exactly(conn, 2)
                    if head is None:
                        return
                    wire = _recv_exactly(conn, struct.unpack("!H", head)[0])
                    if wire is None:
                        return
                    answer = self._answer(wire, "tcp")
                    if answer is None:
                        return
                    conn.sendall(struct.pack("!H", len(answer)) + answer)
            except OSError:
                return

    def _answer(self, wire: bytes, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if not query.question:
            return None
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        with self._lock:
            self.queries.append((name, dns.rdatatype.to_text(question.rdtype), transport))
        fault = self.faults.get(name) or self.mode
        if fault is DnsFault.SILENT:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if fault is DnsFault.SERVFAIL:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        if fault is DnsFault.REFUSED:
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        if fault is DnsFault.TRUNCATE and transport == "udp":
            response.flags |= dns.flags.TC
            return response.to_wire()
        self._resolve(response, question.name, question.rdtype)
        if transport == "udp":
            limit = query.payload if query.edns >= 0 else 512
            try:
                return response.to_wire(max_size=limit)
            except dns.exception.TooBig:
                truncated = dns.message.make_response(query)
                truncated.flags |= dns.flags.TC | dns.flags.RA
                return truncated.to_wire()
        # Over TCP the EDNS payload size does not apply (RFC 6891 section 6.2.5): up to 65535 bytes.
        return response.to_wire(max_size=65535)

    def _zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        return next((z for z in self.zones if name.is_subdomain(z.origin)), None)

    def _resolve(self, response: dns.message.Message, name: dns.name.Name, rdtype: int) -> None:
        """Fill ``response`` the way a recursive resolver would from the lab's zones."""
        current = name
        seen: set[dns.name.Name] = set()
        for _ in range(_MAX_CHASE):
            zone = self._zone_for(current)
            if zone is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return
            node = zone.get_node(current)
            if node is None:
                if not any(n.is_subdomain(current) for n in zone.nodes):  # not an empty non-terminal
                    response.set_rcode(dns.rcode.NXDOMAIN)
                self._add_soa(response, zone)
                return
            rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if rdataset is not None:
                response.answer.append(_rrset(current, rdataset))
                return
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None or rdtype == dns.rdatatype.CNAME:
                self._add_soa(response, zone)
                return
            response.answer.append(_rrset(current, cname))
            seen.add(current)
            current = cname[0].target
            if current in seen:
                return  # a loop: the chain so far, NOERROR, as BIND answers

    @staticmethod
    def _add_soa(response: dns.message.Message, zone: dns.zone.Zone) -> None:
        soa = zone.get_rdataset(zone.origin, dns.rdatatype.SOA)
        if soa is not None:
            response.authority.append(_rrset(zone.origin, soa))


def _rrset(name: dns.name.Name, rdataset) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))


def _recv_exactly(conn: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data
