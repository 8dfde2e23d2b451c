"""The one LDAP read helper: paged search as a generator, ranged retrieval, base reads.

Rules it enforces (DESIGN.md "One LDAP read helper"; RFC 2696 paged results; MS-ADTS 3.1.1.3.1.3.3
range retrieval):

* the page size never exceeds the server's MaxPageSize (1000 by default on AD);
* only searchResEntry items are yielded; searchResRef referrals (Configuration, DnsZones, child
  domains) are recorded on the :class:`SearchStatus`;
* a sizeLimitExceeded, timeLimitExceeded, a lost connection or any other non-success result marks
  the status ``partial`` with the reason: callers turn that into an ``error``, never a pass on a
  truncated list;
* attribute values are returned raw (bytes), decoded by :mod:`adfs_readiness.probes.ldap_decode`;
* filter values from outside are escaped with :func:`ldap3.utils.conv.escape_filter_chars`
  (:func:`eq_filter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

import warnings

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names pyasn1 has deprecated (tagMap, typeMap): not ours to fix, and it must
    # not break a run under -W error.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import BASE, SUBTREE, Connection
    from ldap3.core import exceptions as ldap_exc
    from ldap3.utils.conv import escape_filter_chars

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
                 size_limit: int = 0, max_page_size: int | None = None, prefetch: bool = False) -> Iterator[Entry]:
    """Yield (dn, raw attributes) for every entry, one page at a time (bounded memory).

    ``page_size`` is capped at ``max_page_size`` (the server's MaxPageSize, when known).
    ``size_limit`` > 0 asks the server to stop after that many entries (a sizeLimitExceeded then
    marks ``status`` partial). With ``prefetch`` a helper thread asks for the next page while the
    caller is still working through the current one (at most two pages in memory), so the DC's
    work and ours overlap. Never raises for LDAP trouble: it ends the generator and marks
    ``status`` partial with the reason.
    """
    if max_page_size:
        page_size = min(page_size, max_page_size)
    pages = _pages(conn, base, ldap_filter, attributes, status, scope, page_size, size_limit)
    if prefetch:
        pages = _prefetched(pages, status)
    for page in pages:
        for item in page:
            status.entries += 1
            yield item


def _pages(conn: Connection, base: str, ldap_filter: str, attributes: list[str], status: SearchStatus,
           scope: str, page_size: int, size_limit: int) -> Iterator[list[Entry]]:
    cookie: bytes | None = None
    while True:
        try:
            conn.search(base, ldap_filter, scope, attributes=attributes, paged_size=page_size,
                        paged_cookie=cookie, size_limit=size_limit)
        except ldap_exc.LDAPException as exc:
            status.cut(f"the search was interrupted: {type(exc).__name__}: {exc}")
            return
        status.pages += 1
        result = conn.result or {}
        page: list[Entry] = []
        for item in conn.response or ():
            kind = item.get("type")
            if kind == "searchResEntry":
                page.append((item["dn"], item.get("raw_attributes") or {}))
            elif kind == "searchResRef":
                status.referrals.extend(item.get("uri") or ())
        yield page
        code = result.get("result")
        status.result_code = code
        if code == 4:
            status.cut(f"the server stopped the search at its size limit (sizeLimitExceeded) after "
                       f"{status.entries} entries")
            return
        if code not in (0, 10):  # 10 = referral: the entries so far are complete for this partition
            status.cut(f"the search ended with {result.get('description')} ({code}): "
                       f"{(result.get('message') or '').strip()}")
            return
        control = (result.get("controls") or {}).get(PAGED_RESULTS_OID) or {}
        cookie = (control.get("value") or {}).get("cookie")
        if not cookie:
            return


_DONE = object()


def _prefetched(pages: Iterator[list[Entry]], status: SearchStatus) -> Iterator[list[Entry]]:
    """Run ``pages`` in a helper thread, one page ahead of the consumer."""
    import queue
    import threading

    box: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        box.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except Exception as exc:  # handed to the consumer as a partial search
            status.cut(f"the search was interrupted: {type(exc).__name__}: {exc}")
        finally:
            while not stop.is_set():
                try:
                    box.put(_DONE, timeout=0.2)
                    break
                except queue.Full:
                    continue

    thread = threading.Thread(target=produce, name="ldap-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            page = box.get()
            if page is _DONE:
                return
            yield page
    finally:
        stop.set()
        thread.join(timeout=5)


def read_entry(conn: Connection, dn: str, attributes: list[str]) -> Mapping[str, list[bytes]] | None:
    """The raw attributes of one entry (a base search), None when it does not exist. Raises
    ldap3's LDAPException on connection trouble and RuntimeError on another failure."""
    ok = conn.search(dn, "(objectClass=*)", BASE, attributes=attributes)
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
