"""The LDAP connection factory: connecting to Active Directory read-only (server discovery, binds).

Passwords are not this module's business: the caller resolves one (probes.directory_session)
and passes it in.

Every connection is made with ``read_only=True`` (ldap3 then refuses add/modify/delete/modify_dn
client-side, before anything is sent) and ``get_info=NONE``: ldap3's schema loading makes a whole
search fail with LDAPAttributeError when an attribute such as mailNickname is not in the
directory's schema (a forest without Exchange), so the RootDSE is read by hand instead.

Bind methods and what can stop them:

* simple over LDAPS (636), StartTLS (389 + extended operation), or plain LDAP (the password then
  crosses the network in clear: directory.connect warns);
* NTLM (ldap3's "Sicily" bind) needs MD4, which OpenSSL 3 no longer provides: ldap3 falls back to
  pycryptodome's MD4 (a dependency of ours). Servers that do not implement Sicily (Samba) drop the
  connection: reported as METHOD_UNAVAILABLE saying so, never as "directory unreachable";
* Kerberos (SASL GSSAPI) needs the optional ``gssapi`` package (``winkerberos`` on Windows, which
  uses the signed-in account's tickets) and a ticket (kinit). The service principal is
  ``ldap/<DC name>``: the ticket is asked for the configured or discovered DC name, never for the
  address the connection was opened to. No bind_user or password is needed (the ticket cache
  says who binds); a KDC failure is reported with its Kerberos reason and what to do about it.

Domain controllers come from the SRV record ``_ldap._tcp.dc._msdcs.<domain>`` (RFC 2782,
MS-ADTS 6.3.2.3) when no server is configured, asked through the run's DNS client of the
internal view (:class:`~adfs_readiness.net.dns.DnsClient`), which tells "no such record" from
"this machine could not ask". A connection this machine cannot open (no route, no local address:
:func:`adfs_readiness.net.errors.local_reason`) is recorded as the checker's trouble too.
"""

from __future__ import annotations

import errno
import hashlib
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import warnings

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names pyasn1 has deprecated (tagMap, typeMap): not ours to fix, and it must
    # not break a run under -W error.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import NONE, NTLM, SASL, SIMPLE, Connection, Server, Tls
    from ldap3.core import exceptions as ldap_exc

from adfs_readiness.settings import DirectorySettings
from adfs_readiness.facts import CertificateInfo, ProbeError, ProbeErrorKind
from adfs_readiness.facts.directory import BindResult, DirectoryConnection
from adfs_readiness.facts.dns import DnsLookup, DnsOutcome
from adfs_readiness.net.dns import DnsClient
from adfs_readiness.net.errors import local_reason

__all__ = [
    "kerberos_available",
    "kerberos_failure",
    "ReadOnlyConnection",
    "LdapTarget",
    "md4_provider",
    "nt_hash",
    "discover_domain_controllers",
    "lookup_local_failure",
    "parse_ldap_url",
    "connect",
]


#: Extended operations that change nothing: StartTLS (RFC 4511 4.14) and Who am I? (RFC 4532).
_READ_ONLY_EXTENDED = {"1.3.6.1.4.1.1466.20037", "1.3.6.1.4.1.4203.1.11.3"}


class ReadOnlyConnection(Connection):  # type: ignore[misc]  # ldap3 is untyped
    """An ldap3 Connection that refuses every write before anything is sent.

    ``read_only=True`` alone is not enough: ldap3 2.9.1 checks it in modify, delete and modify_dn
    but not in add, and extended operations (password modify, ...) bypass it. Raises
    LDAPConnectionIsReadOnlyError for add, delete, modify, modify_dn and any extended operation
    other than StartTLS and Who am I?.
    """

    def _refuse(self, what: str) -> None:
        raise ldap_exc.LDAPConnectionIsReadOnlyError(f"connection is read-only: adfs-readiness never writes ({what})")

    def add(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("add")

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("delete")

    def modify(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("modify")

    def modify_dn(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("modify_dn")

    def extended(self, request_name: str, *args: Any, **kwargs: Any) -> Any:
        if request_name not in _READ_ONLY_EXTENDED:
            self._refuse(f"extended operation {request_name}")
        return super().extended(request_name, *args, **kwargs)


@dataclass(frozen=True)
class LdapTarget:
    """Where to connect: ``host`` (name or IP), ``port``, ``use_ssl`` (LDAPS), ``tls_name`` (the
    name the certificate must carry; defaults to host) and ``url`` (for reports)."""

    host: str
    port: int
    use_ssl: bool
    url: str
    tls_name: str | None = None
    address: str | None = None  # the IP to open when the name was resolved through the run's resolver


def parse_ldap_url(url: str) -> LdapTarget:
    """``ldaps://dc1:636`` / ``ldap://10.0.0.4`` -> LdapTarget (default ports 636 / 389).
    Raises ValueError for another scheme or a missing host."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("ldap", "ldaps") or not parts.hostname:
        raise ValueError(f"{url!r} is not an ldap:// or ldaps:// URL with a host")
    use_ssl = scheme == "ldaps"
    port = parts.port or (636 if use_ssl else 389)
    return LdapTarget(parts.hostname, port, use_ssl, f"{scheme}://{parts.netloc}")


def md4_provider() -> tuple[str | None, str | None]:
    """Which MD4 implementation NTLM would use: ("openssl", None), ("pycryptodome", None), or
    (None, why not). OpenSSL 3 moved MD4 to its legacy provider, so hashlib usually lacks it."""
    try:
        hashlib.new("md4", b"")
        return "openssl", None
    except ValueError:
        pass
    try:
        from Crypto.Hash import MD4  # noqa: F401  (pycryptodome)
    except ImportError:
        return None, ("NTLM needs MD4, which this OpenSSL does not provide (OpenSSL 3 moved it to the "
                      "legacy provider) and pycryptodome is not installed: pip install pycryptodome")
    return "pycryptodome", None


def nt_hash(password: str) -> bytes:
    """The NT hash (MD4 of the UTF-16LE password, MS-NLMP 3.3.1) with the provider ldap3 would use.
    Raises ValueError when no MD4 is available."""
    data = password.encode("utf-16-le")
    try:
        return hashlib.new("md4", data).digest()
    except ValueError:
        try:
            from Crypto.Hash import MD4
        except ImportError:
            raise ValueError(md4_provider()[1]) from None
        return MD4.new(data).digest()


def discover_domain_controllers(domain: str, dns: DnsClient) -> tuple[list[tuple[str, int]], DnsLookup]:
    """(host, port) of the DCs of ``domain`` from ``_ldap._tcp.dc._msdcs.<domain>``, by SRV
    priority then descending weight (RFC 2782), and the lookup itself (its outcome, reason and
    ``local_failure`` say why the list is empty). Never raises for DNS trouble."""
    lookup = dns.lookup(f"_ldap._tcp.dc._msdcs.{domain}", "SRV")
    if lookup.outcome is not DnsOutcome.ANSWER:
        return [], lookup
    records = []
    for record in lookup.records:  # "priority weight port target"
        parts = record.split()
        if len(parts) == 4 and all(p.isdigit() for p in parts[:3]) and parts[3] not in ("", "."):
            records.append((int(parts[0]), -int(parts[1]), parts[3].rstrip("."), int(parts[2])))
    return [(host, port) for _, _, host, port in sorted(records)], lookup


def lookup_local_failure(dns: DnsClient, lookup: DnsLookup) -> ProbeError | None:
    """The local failure behind a failed ``lookup`` (no route to the resolvers, or none of them
    answered anything during the run), or None when the failure is the name's."""
    if lookup.outcome.answered:
        return None
    return lookup.local_failure or dns.local_failure()


#: "[Errno 101] Network is unreachable" inside ldap3's LDAPSocketOpenError text (ldap3 keeps only
#: the text of the socket error it met).
_ERRNO_TEXT = re.compile(r"\[Errno (\d{1,4})\]")


def _connect_local_failure(text: str, target: str) -> ProbeError | None:
    """A ``local`` ProbeError when ldap3's socket error text carries an errno that is this
    machine's trouble (ENETUNREACH, EADDRNOTAVAIL, ...; see net.errors), else None."""
    for match in _ERRNO_TEXT.finditer(text):
        number = int(match.group(1))
        reason = local_reason(OSError(number, errno.errorcode.get(number, str(number))))
        if reason is not None:
            return ProbeError(ProbeErrorKind.LOCAL, reason, target)
    return None


def connect(target: LdapTarget, cfg: DirectorySettings, password: str | None, *, timeout: float,
            ca_file: str | None = None, connect_host: str | None = None,
            describe_certificate: Callable[[bytes], CertificateInfo | None] | None = None
            ) -> tuple[Connection | None, DirectoryConnection]:
    """Open and bind one read-only connection.

    ``connect_host`` is the address to open (e.g. the A record found through the run's resolver)
    when it differs from ``target.host``, whose name is then the one the certificate must match.
    ``describe_certificate`` turns the DER of the DC's LDAPS/StartTLS certificate into the
    ``tls_certificate`` of the result (the caller's, so this module needs no certificate code);
    None leaves it out. Returns (connection, description); the connection is None unless the bind
    succeeded.
    """
    transport = "ldaps" if target.use_ssl else ("starttls" if cfg.start_tls else "plain")
    auth = cfg.auth if (cfg.bind_user or cfg.auth == "kerberos") else "anonymous"
    info: dict[str, Any] = dict(server=target.url, transport=transport, auth=auth, bind_user=cfg.bind_user)

    if auth == "ntlm":
        provider, why = md4_provider()
        if provider is None:
            return None, DirectoryConnection(result=BindResult.METHOD_UNAVAILABLE, reason=why, **info)
    if auth == "kerberos" and not kerberos_available():
        return None, DirectoryConnection(
            result=BindResult.METHOD_UNAVAILABLE, **info,
            reason="Kerberos (GSSAPI) needs the optional gssapi package (winkerberos on Windows): pip install "
                   "'adfs-readiness[kerberos]' (building gssapi needs the Kerberos development files, e.g. "
                   "Debian's libkrb5-dev), then a ticket from kinit")
    if auth in ("simple", "ntlm") and not password:
        return None, DirectoryConnection(result=BindResult.NO_PASSWORD, reason="no password available", **info)

    tls = None
    if target.use_ssl or cfg.start_tls:
        try:
            tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file,
                      valid_names=[target.tls_name or target.host], version=ssl.PROTOCOL_TLS_CLIENT)
        except ldap_exc.LDAPSSLConfigurationError as exc:  # ldap3 checks that the CA file exists
            return None, DirectoryConnection(result=BindResult.TLS_FAILED, **info,
                                             reason=f"TLS cannot be set up: {exc} (directory.ca_bundle = {ca_file})")
    server = Server(connect_host or target.address or target.host, port=target.port, use_ssl=target.use_ssl, tls=tls,
                    get_info=NONE, connect_timeout=timeout)
    # auto_referrals=False: ldap3 otherwise follows a referral to whatever host it names and binds
    # there with the same user and password (in clear for an ldap:// referral, even from LDAPS).
    kwargs: dict[str, Any] = dict(read_only=True, auto_bind=False, receive_timeout=max(1, int(timeout + 0.999)),
                                  raise_exceptions=False, return_empty_attributes=False, auto_range=False,
                                  check_names=False, auto_referrals=False)
    if auth == "simple":
        kwargs.update(user=cfg.bind_user, password=password, authentication=SIMPLE)
    elif auth == "ntlm":
        kwargs.update(user=cfg.bind_user, password=password, authentication=NTLM)
    elif auth == "kerberos":
        # The ticket must be for ldap/<DC name>: name the DC explicitly, since the connection may
        # be opened to an address found through the run's resolver.
        kwargs.update(authentication=SASL, sasl_mechanism="GSSAPI", sasl_credentials=(target.tls_name or target.host,))
    conn = ReadOnlyConnection(server, **kwargs)
    stage = "connect"
    try:
        conn.open()
        cert = _peer_certificate(conn, describe_certificate)
        if cfg.start_tls and not target.use_ssl:
            stage = "starttls"
            if not conn.start_tls():
                raise ldap_exc.LDAPStartTLSError(f"StartTLS refused: {conn.result.get('description')} "
                                                 f"{conn.result.get('message') or ''}".strip())
            cert = _peer_certificate(conn, describe_certificate)
        stage = "bind"
        ok = conn.bind() if auth != "anonymous" else True
    except ldap_exc.LDAPSocketOpenError as exc:
        conn.unbind()
        text = str(exc)
        if "ssl" in text.lower() or "certificate" in text.lower() or "handshake" in text.lower():
            return None, DirectoryConnection(result=BindResult.TLS_FAILED, reason=f"TLS failed: {_short(text)}",
                                             tls_failure=_certificate_dates_failure(text), **info)
        return None, DirectoryConnection(result=BindResult.UNREACHABLE,
                                         reason=f"no connection to {target.host}:{target.port}: {_short(text)}",
                                         local_failure=_connect_local_failure(text, f"{target.host}:{target.port}"),
                                         **info)
    except (ldap_exc.LDAPStartTLSError, ssl.SSLError) as exc:
        conn.unbind()
        return None, DirectoryConnection(result=BindResult.TLS_FAILED, reason=f"StartTLS failed: {_short(str(exc))}",
                                         tls_failure=_certificate_dates_failure(str(exc)), **info)
    except (ldap_exc.LDAPSocketReceiveError, ldap_exc.LDAPSessionTerminatedByServerError,
            ldap_exc.LDAPSocketSendError, socket.error) as exc:
        conn.unbind()
        if stage == "bind" and auth == "ntlm":
            return None, DirectoryConnection(
                result=BindResult.METHOD_UNAVAILABLE, **info,
                reason=("the server closed the connection during the NTLM bind: it does not implement the "
                        "Sicily NTLM bind ldap3 uses (Samba does not; Windows DCs do). Use a simple bind over "
                        f"LDAPS or Kerberos. ({_short(str(exc))})"))
        return None, DirectoryConnection(result=BindResult.UNREACHABLE,
                                         reason=f"the connection broke during {stage}: {_short(str(exc))}", **info)
    except ldap_exc.LDAPException as exc:
        conn.unbind()
        kind = BindResult.METHOD_UNAVAILABLE if auth in ("ntlm", "kerberos") else BindResult.AUTH_FAILED
        return None, DirectoryConnection(result=kind, reason=f"{auth} bind failed: {_short(str(exc))}", **info)
    except Exception as exc:  # gssapi.GSSError / winkerberos.GSSError: the KDC or the ticket cache said no
        if auth != "kerberos" or stage != "bind":
            raise
        conn.unbind()
        return None, DirectoryConnection(result=BindResult.AUTH_FAILED, reason=kerberos_failure(str(exc), target),
                                         **info)
    if not ok:
        result = conn.result or {}
        conn.unbind()
        description = result.get("description") or "bind refused"
        message = (result.get("message") or "").strip()
        if description == "strongerAuthRequired":
            reason = ("the DC requires signing or TLS for binds (LDAP server signing requirements): use LDAPS or "
                      f"StartTLS. ({message})")
            return None, DirectoryConnection(result=BindResult.METHOD_UNAVAILABLE, reason=reason, **info)
        return None, DirectoryConnection(result=BindResult.AUTH_FAILED,
                                         reason=f"{auth} bind refused: {description} {message}".strip(), **info)
    return conn, DirectoryConnection(result=BindResult.OK, tls_certificate=cert, **info)


def kerberos_available() -> bool:
    """True when ldap3 can do a GSSAPI bind here: the gssapi package (MIT/Heimdal) or winkerberos
    (Windows SSPI) is importable."""
    import importlib.util

    return any(importlib.util.find_spec(name) is not None for name in ("gssapi", "winkerberos"))


def kerberos_failure(message: str, target: LdapTarget) -> str:
    """The reason for a failed Kerberos bind: the GSSAPI message, then what it means for an AD
    admin. Rules: MIT krb5 error texts; a service ticket is for ``ldap/<DC name>`` (MS-ADTS 6.1.1.2.1
    ldap service principal names); Kerberos' default clock tolerance is 5 minutes (MS-GPSB 2.2.2)."""
    import ipaddress

    text = " ".join(message.split())
    lower = text.lower()
    hints = []
    if "server not found" in lower:
        name = target.tls_name or target.host
        try:
            ipaddress.ip_address(name)
            hints.append(f"the KDC has no ldap/{name} service principal: Kerberos needs the DC's DNS name, not "
                         "an IP address (set directory.server to ldap://<dc fqdn>)")
        except ValueError:
            hints.append(f"the KDC has no ldap/{name} service principal: use the DC's own DNS name (an alias or "
                         "load-balancer name has no SPN), or register the SPN on the DC account")
    elif "no credentials" in lower or "credentials cache" in lower or "no kerberos credentials" in lower:
        hints.append("there is no Kerberos ticket: run kinit <account>@<REALM> first (on Windows, run as a "
                     "signed-in domain account)")
    elif "clock skew" in lower:
        hints.append("this machine's clock and the KDC's differ by more than Kerberos allows (5 minutes by default)")
    elif "expired" in lower:
        hints.append("the Kerberos ticket has expired: run kinit again")
    elif "cannot find kdc" in lower or "cannot contact any kdc" in lower:
        hints.append("no KDC for the realm could be reached (krb5.conf, or DNS _kerberos._tcp SRV records)")
    return f"Kerberos bind failed: {_short(text)}" + (f" — {hints[0]}" if hints else "")


def _certificate_dates_failure(text: str) -> str | None:
    """"expired" / "not_yet_valid" when a TLS failure is OpenSSL's X509_V_ERR_CERT_HAS_EXPIRED /
    X509_V_ERR_CERT_NOT_YET_VALID (read from the message: ldap3 passes on only the text of the ssl
    error), else None."""
    lower = text.lower()
    if "certificate has expired" in lower:
        return "expired"
    if "certificate is not yet valid" in lower:
        return "not_yet_valid"
    return None


def _peer_certificate(conn: Connection, describe: Callable[[bytes], CertificateInfo | None] | None
                      ) -> CertificateInfo | None:
    sock = getattr(conn, "socket", None)
    if describe is not None and isinstance(sock, ssl.SSLSocket):
        der = sock.getpeercert(binary_form=True)
        if der:
            return describe(der)
    return None


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
