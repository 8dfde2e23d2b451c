"""Network failures as data: every exception the network layer meets becomes a
:class:`~adfs_readiness.facts.ProbeError`, classified the same way for every caller.

The one distinction every check depends on: **whose trouble is it?** A name that does not
exist, a refused port, a server that does not answer, a certificate the server sends: the
target's. This machine's own resolver failing ("temporary failure in name resolution"), no route
from this machine to the network, its trust store or CA bundle unreadable, no file descriptor or
memory left: the checker's (kind ``local``), which makes the affected checks "not determined"
and the run INCOMPLETE, never a failure of the target (issue 11, section 1).

Ambiguous cases are decided towards what can be defended:

* ``EAI_AGAIN`` / ``EAI_FAIL`` from getaddrinfo (glibc: the resolver did not answer, or answered
  SERVFAIL / REFUSED) are local: the name's own absence is ``EAI_NONAME``, which stays the
  target's ("the name does not resolve").
* ``ENETUNREACH`` ("Network is unreachable": no route in this machine's table) is local;
  ``EHOSTUNREACH`` ("No route to host") usually comes from a router on the way and stays the
  target's ("cannot connect").
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from collections.abc import Iterator

from adfs_readiness.facts import ProbeError, ProbeErrorKind
from adfs_readiness.net.policy import RefusedTarget

__all__ = ["causes", "local_reason", "connect_error", "ssl_reason", "request_error", "DEADLINE_REASON",
           "NO_SECURE_RENEGOTIATION"]

DEADLINE_REASON = "the run's deadline passed while waiting for the server"

#: OpenSSL's reason when a server does not do RFC 5746 secure renegotiation (OpenSSL 3 clients
#: refuse such servers unless SSL_OP_LEGACY_SERVER_CONNECT is set).
NO_SECURE_RENEGOTIATION = "unsafe legacy renegotiation disabled"

# X509_V_ERR_HOSTNAME_MISMATCH (OpenSSL include/openssl/x509_vfy.h).
_OPENSSL_HOSTNAME_MISMATCH = 62

#: getaddrinfo failures that are this machine's resolver failing (glibc netdb.h), with words.
_LOCAL_GAI = {
    getattr(socket, "EAI_AGAIN", -3): "this machine's DNS resolver did not answer (temporary failure in name "
                                      "resolution): its name servers are unreachable or failing",
    getattr(socket, "EAI_FAIL", -4): "this machine's DNS resolver failed (non-recoverable failure in name "
                                     "resolution): its name servers refused or could not answer",
    getattr(socket, "EAI_MEMORY", -10): "this machine ran out of memory while resolving the name",
    getattr(socket, "EAI_SYSTEM", -11): "this machine's resolver failed with a system error",
}
#: Socket errors that say this machine cannot send at all, with words.
_LOCAL_ERRNO = {
    errno.ENETUNREACH: "this machine has no route to that network (network is unreachable)",
    errno.EADDRNOTAVAIL: "this machine has no usable local address for that destination",
    errno.EAFNOSUPPORT: "this machine does not support that address family (no IPv6?)",
    errno.EACCES: "this machine's own firewall or policy forbids the connection",
    errno.EPERM: "this machine's own firewall or policy forbids the connection",
    errno.EMFILE: "this process has no file descriptor left",
    errno.ENFILE: "this machine has no file descriptor left",
    errno.ENOBUFS: "this machine has no buffer space left",
    errno.ENOMEM: "this machine has no memory left for the connection",
}


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests -> urllib3 MaxRetryError.reason -> ssl/OS),
    each once."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        for attribute in ("reason", "__cause__", "__context__"):
            inner = getattr(current, attribute, None)
            if isinstance(inner, BaseException):
                stack.append(inner)


def local_reason(exc: BaseException) -> str | None:
    """Words for a failure of this machine (see the module docstring) found anywhere in ``exc``'s
    causes, or None when the failure is not a local one."""
    for cause in causes(exc):
        if isinstance(cause, socket.gaierror) and cause.errno in _LOCAL_GAI:
            return _LOCAL_GAI[cause.errno]
        # ssl.SSLError is an OSError whose errno is OpenSSL's error code (1 = SSL_ERROR_SSL, which
        # would read as EPERM): only plain socket errors say anything about this machine.
        if (isinstance(cause, OSError) and not isinstance(cause, (socket.gaierror, ssl.SSLError))
                and cause.errno in _LOCAL_ERRNO):
            return _LOCAL_ERRNO[cause.errno]
    return None


def connect_error(exc: OSError, target: str, timeout: float) -> ProbeError:
    """A :class:`ProbeError` for an error raised while opening a TCP connection: ``policy``
    (refused before sending), ``local`` (this machine's trouble), ``name_not_resolved``,
    ``timeout`` or ``refused`` (other OS errors, such as "no route to host", with the OS message)."""
    if isinstance(exc, RefusedTarget):
        return ProbeError(ProbeErrorKind.POLICY, exc.reason, target)
    local = local_reason(exc)
    if local is not None:
        return ProbeError(ProbeErrorKind.LOCAL, local, target)
    if isinstance(exc, socket.gaierror):
        return ProbeError(ProbeErrorKind.NAME_NOT_RESOLVED, f"the name does not resolve ({exc.strerror})", target)
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError since 3.10
        return ProbeError(ProbeErrorKind.TIMEOUT, f"no TCP connection within {timeout:g} s", target)
    if isinstance(exc, ConnectionRefusedError):
        return ProbeError(ProbeErrorKind.REFUSED, "connection refused (nothing listens on that port)", target)
    return ProbeError(ProbeErrorKind.REFUSED, f"cannot connect ({exc.strerror or exc})", target)


def ssl_reason(exc: BaseException) -> str:
    """Words for a TLS failure: OpenSSL's verification message, or its reason text."""
    from urllib3.util.ssl_match_hostname import CertificateError

    for cause in causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            message = cause.verify_message or cause.reason or str(cause)
            if cause.verify_code == _OPENSSL_HOSTNAME_MISMATCH:
                return f"certificate name mismatch: {message}"
            return f"certificate verification failed: {message}"
        if isinstance(cause, CertificateError):
            return f"certificate name mismatch: {cause}"
    for cause in causes(exc):
        if isinstance(cause, ssl.SSLError):
            match = re.search(r"\] (.+?)(?: \(_ssl\.c:\d+\))?$", str(cause))
            return f"TLS handshake failed: {match.group(1) if match else cause}"
    return f"TLS failed: {exc}"


def request_error(exc: BaseException, target: str, wait: float, deadline_bound: bool) -> ProbeError:
    """Map a requests/urllib3 exception to a ProbeError. ``wait`` is the time limit that applied;
    ``deadline_bound`` says it was cut short by the deadline."""
    import requests
    import urllib3.exceptions
    from urllib3.util.ssl_match_hostname import CertificateError

    found = list(causes(exc))
    refused = next((c for c in found if isinstance(c, RefusedTarget)), None)
    if refused is not None:
        return ProbeError(ProbeErrorKind.POLICY, refused.reason, target)
    local = local_reason(exc)
    if local is not None:
        return ProbeError(ProbeErrorKind.LOCAL, local, target)
    # urllib3's NewConnectionError subclasses ConnectTimeoutError for history's sake: it is not one.
    if any(isinstance(c, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
           and not isinstance(c, urllib3.exceptions.NewConnectionError) for c in found):
        if deadline_bound:
            return ProbeError(ProbeErrorKind.DEADLINE, DEADLINE_REASON, target)
        connect = any(isinstance(c, (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError))
                      and not isinstance(c, urllib3.exceptions.NewConnectionError) for c in found)
        handshake = any("handshake" in str(c) for c in found)
        what = ("no TCP connection" if connect else "no TLS handshake" if handshake else "no answer")
        return ProbeError(ProbeErrorKind.TIMEOUT, f"{what} within {wait:g} s", target)
    if any(isinstance(c, (requests.exceptions.SSLError, ssl.SSLError, CertificateError)) for c in found):
        return ProbeError(ProbeErrorKind.TLS, ssl_reason(exc), target)
    if any(isinstance(c, (urllib3.exceptions.NameResolutionError, socket.gaierror)) for c in found):
        return ProbeError(ProbeErrorKind.NAME_NOT_RESOLVED, "the host name does not resolve", target)
    if any(isinstance(c, ConnectionRefusedError) for c in found):
        return ProbeError(ProbeErrorKind.REFUSED, "connection refused (nothing listens on that port)", target)
    if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in found):
        os_error = next((c for c in found if isinstance(c, OSError) and c.strerror), None)
        return ProbeError(ProbeErrorKind.REFUSED,
                          f"cannot connect ({os_error.strerror if os_error else exc})", target)
    if any(isinstance(c, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                          requests.exceptions.InvalidSchema)) for c in found):
        return ProbeError(ProbeErrorKind.HTTP, f"not a usable URL: {exc}", target)
    return ProbeError(ProbeErrorKind.HTTP, f"the server's answer was not usable HTTP: {exc}", target)
