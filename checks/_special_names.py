"""Special-use and non-routable DNS names: the names a federation service name must not be,
because nobody on the internet can resolve them and no public CA can issue a certificate for them.

Sources: the IANA Special-Use Domain Names registry (RFC 6761 section 6: ``test``, ``localhost``,
``invalid``, ``example``; RFC 6762: ``local``, multicast DNS; RFC 7686: ``onion``; RFC 8375:
``home.arpa``; RFC 9476: ``alt``), ICANN's reservation of ``internal`` for private use (board
resolution 2024.07.29.06), the top-level names ICANN's name-collision work found in use inside
networks and never delegates (SSAC SAC045/SAC062: ``corp``, ``home``, ``lan``, ...), and
single-label names (no public name has only one label).

Pure data and string functions; no I/O.
"""

from __future__ import annotations

import ipaddress

__all__ = ["special_use_reason"]

#: Top-level labels reserved by RFC (IANA Special-Use Domain Names registry) -> the RFC.
_SPECIAL_USE_TLDS = {
    "local": "RFC 6762 (multicast DNS): answered only on the local link",
    "localhost": "RFC 6761: the local host itself",
    "test": "RFC 6761: reserved for testing, never delegated",
    "invalid": "RFC 6761: guaranteed never to exist",
    "example": "RFC 6761: reserved for documentation",
    "onion": "RFC 7686: Tor onion services",
    "alt": "RFC 9476: outside the DNS",
    "internal": "ICANN reserved it for private use (2024): never delegated on the internet",
}
#: Top-level labels found in private use and never delegated (ICANN name collision, SSAC SAC045/SAC062;
#: ``corp``, ``home`` and ``mail`` are the three high-risk strings ICANN's board declined to delegate,
#: resolution 2018.02.04.12).
_PRIVATE_USE_TLDS = ("lan", "corp", "home", "mail", "intranet", "private", "priv", "localdomain", "localnet", "intra",
                     "domain", "workgroup")
#: Special-use names below a public TLD.
_SPECIAL_USE_SUFFIXES = {"home.arpa": "RFC 8375: residential home networks",
                         "example.com": "RFC 6761/RFC 2606: reserved for documentation",
                         "example.net": "RFC 6761/RFC 2606: reserved for documentation",
                         "example.org": "RFC 6761/RFC 2606: reserved for documentation"}


def special_use_reason(name: str) -> str | None:
    """Why ``name`` cannot be a federation service name reachable from the internet, or None.

    Case-insensitive, a trailing dot ignored. Returns e.g. "a .local name (RFC 6762 (multicast
    DNS): answered only on the local link)" or "a single-label name (no public DNS name has only
    one label)"; None for an ordinary name (whether it is delegated is for the DNS checks)."""
    host = name.strip().rstrip(".").lower().strip("[]")
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        where = ("a private or otherwise non-routable address (RFC 1918 / RFC 6890)" if not address.is_global
                 else "a public address")
        return (f"an IP address, {where}, not a DNS name (Microsoft 365 federates a domain through the DNS "
                f"name of the federation service, and public CAs issue certificates for names)")
    labels = host.split(".")
    if len(labels) == 1:
        return "a single-label name (no public DNS name has only one label)"
    for suffix, why in _SPECIAL_USE_SUFFIXES.items():
        if host == suffix or host.endswith("." + suffix):
            return f"a name under {suffix} ({why})"
    tld = labels[-1]
    if tld in _SPECIAL_USE_TLDS:
        return f"a .{tld} name ({_SPECIAL_USE_TLDS[tld]})"
    if tld in _PRIVATE_USE_TLDS:
        return (f"a .{tld} name (a top-level name used inside private networks and never delegated on the "
                f"internet; ICANN SSAC SAC045/SAC062)")
    return None
