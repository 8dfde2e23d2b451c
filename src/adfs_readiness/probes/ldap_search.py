"""The one LDAP read helper: paged search as a generator, ranged retrieval, base reads.

Rules it enforces (DESIGN.md "One LDAP read helper"; RFC 2696 paged results; MS-ADTS 3.1.1.3.1.3.3
range retrieval):

* the page size never exceeds the server's MaxPageSize (1000 by default on AD);
* the next page can be asked for before the current one is decoded (``pipeline``), so the DC
  and the client work at the same time;
* only searchResEntry items are yielded; searchResRef referrals (Configuration, DnsZones, child
  domains) are recorded on the :class:`SearchStatus`;
* a sizeLimitExceeded, timeLimitExceeded, a referral result (the DC did not do the search: RFC
  4511 4.1.10), a lost connection, a message for another operation or any other non-success
  result marks the status ``partial`` with the reason: callers turn that into an ``error``, never
  a pass on a truncated list. When the answers on the connection are out of step with the
  requests (a message for another operation, an answer cut off), the connection is closed, so
  the next operation fails at once instead of reading what was meant for this one;
* attribute values are returned raw (bytes), decoded by :mod:`adfs_readiness.probes.ldap_decode`;
  every value must be an OCTET STRING and an attribute without values is an empty list;
* filter values from outside are escaped with :func:`ldap3.utils.conv.escape_filter_chars`
  (:func:`eq_filter`).
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import warnings

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names pyasn1 has deprecated (tagMap, typeMap): not ours to fix, and it must
    # not break a run under -W error.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import BASE, DEREF_ALWAYS, NO_ATTRIBUTES, SUBTREE, Connection, get_config_parameter
    from ldap3.core import exceptions as ldap_exc
    from ldap3.operation.search import search_operation, search_result_reference_response_to_dict_fast
    from ldap3.protocol.rfc2696 import paged_search_control
    from ldap3.strategy.sync import SyncStrategy
    from ldap3.utils.asn1 import compute_ber_size, decode_message_fast
    from ldap3.utils.ciDict import CaseInsensitiveDict
    from ldap3.utils.conv import escape_filter_chars, to_unicode

__all__ = ["PAGED_RESULTS_OID", "SearchStatus", "eq_filter", "paged_search", "read_entry", "ranged_values",
           "DEFAULT_PAGE_SIZE"]

PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
DEFAULT_PAGE_SIZE = 1000

Entry = tuple[str, Mapping[str, list[bytes]]]


@dataclass
class SearchStatus:
    """What happened to a search while it streamed (filled in as the generator runs).

    Attributes: entries (yielded), pages, referrals (URLs), partial (True when cut short),
    reason (why, in words), result_code (the last LDAP result code).
    """

    entries: int = 0
    pages: int = 0
    referrals: list[str] = field(default_factory=list)
    partial: bool = False
    reason: str | None = None
    result_code: int | None = None

    def cut(self, reason: str) -> None:
        self.partial = True
        self.reason = self.reason or reason


def eq_filter(attribute: str, value: str) -> str:
    """``(attribute=value)`` with the value escaped (RFC 4515)."""
    return f"({attribute}={escape_filter_chars(value)})"


def paged_search(conn: Connection, base: str, ldap_filter: str, attributes: list[str], *,
                 status: SearchStatus, scope: str = SUBTREE, page_size: int = DEFAULT_PAGE_SIZE,
                 size_limit: int = 0, max_page_size: int | None = None, pipeline: bool = False) -> Iterator[Entry]:
    """Yield (dn, raw attributes) for every entry, one page at a time (bounded memory).

    ``page_size`` is capped at ``max_page_size`` (the server's MaxPageSize, when known).
    ``size_limit`` > 0 asks the server to stop after that many entries (a sizeLimitExceeded then
    marks ``status`` partial). With ``pipeline`` the request for the next page goes out as soon as
    the current page's result (and its cookie) has arrived, before the page's entries are decoded
    and handed to the caller: the DC builds page n+1 while we decode and judge page n. The caller
    must then not use ``conn`` for anything else until the generator has finished (or been
    closed, which waits for the outstanding page, at most the connection's receive timeout).
    Never raises for LDAP trouble: it ends the generator and marks ``status`` partial with the
    reason; when the connection's answers are out of step with its requests, it also closes
    ``conn`` (the next operation then raises ldap3's LDAPSocketOpenError).

    Why not ``conn.search(paged_size=...)``: ldap3 decodes a whole page before it returns, and AD
    and Samba build a whole page before they send it, so the two would take turns and neither
    works while the other does (measured at 100,000 users: DC 18 s + decoding 9 s, in series).
    The requests and answers are still ldap3's own (its request encoder, transport and BER
    decoder); only the moment the next page is asked for differs.

    Raises TypeError when ``conn`` does not use ldap3's SYNC strategy (every connection
    :func:`adfs_readiness.net.ldap.connect` opens does).
    """
    if type(conn.strategy) is not SyncStrategy:
        raise TypeError(f"paged_search needs an ldap3 SYNC connection, not {type(conn.strategy).__name__}")
    if max_page_size:
        page_size = min(page_size, max_page_size)
    reader = _PagedReader(conn, base, ldap_filter, attributes, scope, page_size, size_limit, status)
    with closing(reader.pages(pipeline)) as pages:  # closing waits for a pipelined page left on the wire
        for page in pages:
            for item in page:
                status.entries += 1
                yield item


# protocolOp tags (RFC 4511 4.2): [APPLICATION n]; all LDAP operation numbers are below 31.
_SEARCH_RES_ENTRY, _SEARCH_RES_REF, _INTERMEDIATE = 4, 19, 25
# (class, constructed, tag number) as ldap3's decode_sequence reports them (X.690 8.1.2).
_OCTET_STRING, _SEQUENCE, _SET = (0, False, 4), (0, True, 16), (0, True, 17)


def _header(message: bytes) -> tuple[int, int]:
    """(messageID, protocolOp number) of one raw LDAPMessage (SEQUENCE { messageID INTEGER,
    protocolOp, ... }), read from the headers only so a page's result can be found, and a message
    for another operation refused, before any entry is decoded. Raises ValueError/IndexError
    for a malformed header."""
    _, outer = compute_ber_size(message[:10])
    if message[outer] != 0x02:
        raise ValueError("the message does not start with a messageID INTEGER")
    id_length, id_header = compute_ber_size(message[outer:outer + 10])
    start = outer + id_header
    return int.from_bytes(message[start:start + id_length], "big"), message[start + id_length] & 0x1F


class _PagedReader:
    """One paged search (RFC 2696) on a SYNC ldap3 connection, page by page."""

    def __init__(self, conn: Connection, base: str, ldap_filter: str, attributes: list[str], scope: str,
                 page_size: int, size_limit: int, status: SearchStatus) -> None:
        self.conn, self.page_size, self.status = conn, page_size, status
        self.request = search_operation(base, ldap_filter, scope, DEREF_ALWAYS, list(attributes) or [NO_ATTRIBUTES],
                                        size_limit, 0,
                                        False, conn.auto_escape, conn.auto_encode, None, validator=None,
                                        check_names=False)
        self.outstanding: int | None = None  # message id of the page request on the wire
        # False while a request is being sent or its answer read: an exception then leaves the
        # connection's stream at an unknown point, so it must be closed, not reused.
        self.in_step = True

    def _send(self, cookie: bytes | None) -> None:
        self.in_step = False
        self.outstanding = self.conn.send("searchRequest", self.request,
                                          [paged_search_control(False, self.page_size, cookie)])
        self.in_step = True

    def _receive(self) -> tuple[list[bytes], dict[str, Any]]:
        """The raw entry/reference messages of the outstanding page and its decoded result."""
        message_id, self.outstanding = self.outstanding, None
        strategy = self.conn.strategy
        (getattr(strategy, "_outstanding", None) or {}).pop(message_id, None)  # ldap3's own list of unanswered requests
        self.in_step = False
        messages: list[bytes] = []
        while True:
            batch = strategy.receiving()
            if not batch:
                raise ldap_exc.LDAPSessionTerminatedByServerError("the server closed the connection")
            for message in batch:
                answer_to, op = _header(message)
                if answer_to != message_id:  # 0: an unsolicited notice of disconnection
                    raise ldap_exc.LDAPSessionTerminatedByServerError(
                        f"the server sent message {answer_to} (protocolOp {op}) while page {message_id} was expected")
                if op in (_SEARCH_RES_ENTRY, _SEARCH_RES_REF, _INTERMEDIATE):
                    messages.append(message)
                    continue
                result = strategy.decode_response_fast(decode_message_fast(message))
                self.in_step = True
                return messages, result

    def pages(self, pipeline: bool) -> Iterator[list[Entry]]:
        status = self.status
        try:
            self._send(None)
            while True:
                messages, result = self._receive()
                status.pages += 1
                code = result.get("result")
                status.result_code = code
                control = (result.get("controls") or {}).get(PAGED_RESULTS_OID)
                cookie = ((control or {}).get("value") or {}).get("cookie") if code == 0 else None
                if cookie and pipeline:
                    self._send(cookie)
                yield self._decode(messages)
                if code == 4:
                    status.cut(f"the server stopped the search at its size limit (sizeLimitExceeded) after "
                               f"{status.entries} entries")
                    return
                if code == 10:  # RFC 4511 4.1.10: the search was not done here, the entries are not all there
                    urls = [str(u) for u in result.get("referrals") or ()]
                    status.referrals.extend(urls)
                    status.cut(f"the server did not do the search but referred it elsewhere (referral, 10): "
                               f"{', '.join(urls) or 'no URL given'}. This DC does not hold the base DN: "
                               "connect to a DC of that domain or change base_dn")
                    return
                if code != 0:
                    status.cut(f"the search ended with {result.get('description')} ({code}): "
                               f"{(result.get('message') or '').strip()}")
                    return
                if control is None and status.pages > 1:
                    status.cut(f"the server's answer to page {status.pages} had no paged results control "
                               "(RFC 2696): whether more entries follow is unknown")
                    return
                if not cookie:
                    return
                if not pipeline:
                    self._send(cookie)
        except (ldap_exc.LDAPException, OSError) as exc:
            status.cut(f"the search was interrupted: {type(exc).__name__}: {exc}")
        except (ValueError, IndexError, KeyError, TypeError, RecursionError) as exc:  # a malformed answer
            status.cut(f"the server's answer could not be decoded ({type(exc).__name__}: {exc})")
        finally:
            self._drain()

    def _drain(self) -> None:
        """A caller that stops early leaves the pipelined page on the wire: read it, so the
        connection's next operation gets its own answer. A connection whose answers are out of
        step with its requests is closed instead."""
        if self.outstanding is not None and self.in_step:
            try:
                self._receive()
            except Exception:  # noqa: S110 - judged below: the stream is out of step
                pass
        if not self.in_step:
            self.outstanding = None
            try:
                self.conn.strategy.close()
            except Exception:  # noqa: S110 - the socket is gone already
                pass

    def _decode(self, messages: list[bytes]) -> list[Entry]:
        page: list[Entry] = []
        for message in messages:
            decoded = decode_message_fast(message)
            payload = decoded["payload"]
            if decoded["protocolOp"] == _SEARCH_RES_ENTRY:
                if tuple(payload[0][:3]) != _OCTET_STRING or tuple(payload[1][:3]) != _SEQUENCE:
                    raise ValueError("a searchResEntry without an objectName and an attribute list")
                page.append((to_unicode(payload[0][3], from_server=True), _raw_attributes(payload[1][3])))
            elif decoded["protocolOp"] == _SEARCH_RES_REF:
                self.status.referrals.extend(search_result_reference_response_to_dict_fast(payload)["uri"])
        return page


def _raw_attributes(attribute_list: list[Any]) -> Mapping[str, list[bytes]]:
    """ldap3's raw_attributes_to_dict_fast with the types checked (RFC 4511 4.5.2
    PartialAttributeList): every value an OCTET STRING (ldap3 passes any decoded value to bytes(),
    so an INTEGER n becomes n zero bytes, a memory bomb) and an attribute without values an empty
    list (ldap3 gives None). Raises ValueError for another shape."""
    attributes: dict[str, list[bytes]] = (CaseInsensitiveDict() if get_config_parameter("CASE_INSENSITIVE_ATTRIBUTE_NAMES")
                                          else {})
    for attribute in attribute_list:
        parts = attribute[3]
        if (tuple(attribute[:3]) != _SEQUENCE or len(parts) != 2 or tuple(parts[0][:3]) != _OCTET_STRING
                or tuple(parts[1][:3]) != _SET):
            raise ValueError("an attribute that is not a type and a SET of values")
        name = to_unicode(parts[0][3], from_server=True)
        if any(tuple(value[:3]) != _OCTET_STRING for value in parts[1][3]):
            raise ValueError(f"a value of {name} is not an OCTET STRING")
        attributes[name] = [bytes(value[3]) for value in parts[1][3]]
    return attributes


def read_entry(conn: Connection, dn: str, attributes: list[str],
               controls: list[Any] | None = None) -> Mapping[str, list[bytes]] | None:
    """The raw attributes of one entry (a base search), None when it does not exist. ``controls``
    are ldap3 request controls (e.g. the SD-flags control). Raises ldap3's LDAPException on
    connection trouble and RuntimeError on another failure."""
    ok = conn.search(dn, "(objectClass=*)", BASE, attributes=attributes, controls=controls)
    code = (conn.result or {}).get("result")
    if code == 32:  # noSuchObject
        return None
    if not ok and code not in (0,):
        raise RuntimeError(f"reading {dn} failed: {(conn.result or {}).get('description')} "
                           f"{(conn.result or {}).get('message') or ''}".strip())
    for item in conn.response or ():
        if item.get("type") == "searchResEntry":
            return item.get("raw_attributes") or {}
    return None


def ranged_values(conn: Connection, dn: str, attribute: str, *, step: int = 1500,
                  first: Mapping[str, list[bytes]] | None = None) -> list[bytes]:
    """Every value of a large multi-valued attribute (``member``) with range retrieval: ask for
    ``attribute;range=0-{step-1}``, then continue from the end the server returned until it answers
    ``range=N-*``. AD caps values per answer (MaxValRange, 1500); Samba returns all at once but
    honours explicit ranges. ``first`` may carry the attributes of an earlier read. Raises
    RuntimeError when the server answers without the attribute mid-way."""
    values: list[bytes] = []
    low = 0
    attrs = first
    while True:
        if attrs is None:
            attrs = read_entry(conn, dn, [f"{attribute};range={low}-{low + step - 1}"])
            if attrs is None:
                return values
        ranged = [k for k in attrs if k.lower().startswith(attribute.lower() + ";range=")]
        if not ranged:
            plain = [k for k in attrs if k.lower() == attribute.lower()]
            if plain:
                values.extend(attrs[plain[0]])
                return values
            if low == 0:
                return values
            raise RuntimeError(f"range retrieval of {attribute} on {dn} stopped at {low}")
        key = ranged[0]
        values.extend(attrs[key])
        end = key.split("=", 1)[1].split("-", 1)[1]
        if end == "*":
            return values
        low = int(end) + 1
        attrs = None
