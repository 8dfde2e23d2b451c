"""HTTP(S) probe: one bounded fetch, redirects followed by hand, failures as data.

What it guarantees, because federation servers and the networks in front of them misbehave:

* **Time**: ``timeout`` bounds each connect and each socket read; ``deadline`` (a
  ``time.monotonic()`` value) bounds the whole exchange. The body is read with ``read1`` (returns
  as soon as *some* bytes arrive) and the clock is checked between reads, and each read's socket
  timeout is cut to the time left. A per-read timeout cannot stop a server that drips a header
  line every second, sends 100 Continue forever or never ends its chunked trailers (those reads
  happen inside http.client/urllib3), so a watchdog timer shuts down every socket of the fetch
  at the deadline: whatever read is blocked then ends, and the exchange reports ``deadline``.
* **Memory**: the body is streamed and reading stops once it exceeds ``max_bytes`` (a
  Content-Length above the cap is refused before reading), so a 200 MB answer is never held.
* **Pinning** (curl's ``--resolve``): with ``connect_address`` the TCP connection goes to that
  address while the URL's host name is used for SNI, the Host header and certificate name
  verification (urllib3's ``server_hostname`` / ``assert_hostname`` pool arguments,
  https://urllib3.readthedocs.io/en/stable/advanced-usage.html#custom-sni-hostname).
* **Trust**: the system trust store, certifi's bundle and an optional extra CA bundle.
* **Evidence**: redirects are recorded, and for https the peer chain as sent is captured with
  :func:`adfs_readiness.probes.tls.capture_peer_chain` (also when verification failed).
* **Redirects**: only to URLs that parse; a redirect from https to plain http is refused, since
  anyone on the path could then answer in the server's name.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import certifi
import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.util.ssl_match_hostname import CertificateError

from adfs_readiness.config import HostPort
from adfs_readiness.facts import HttpExchange, ProbeError, ProbeErrorKind, Redirect, TlsPeerChain
from adfs_readiness.probes._http_watchdog import Watchdog as _Watchdog
from adfs_readiness.probes._http_watchdog import watched_pool_classes as _watched_pool_classes
from adfs_readiness.probes.tls import capture_peer_chain

__all__ = ["fetch", "KEPT_HEADERS"]

#: Response headers kept in HttpExchange.headers (lower-case names).
KEPT_HEADERS = ("content-type", "content-length", "date", "server", "location")

_CHUNK_BYTES = 64 * 1024
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# X509_V_ERR_HOSTNAME_MISMATCH (OpenSSL include/openssl/x509_vfy.h).
_OPENSSL_HOSTNAME_MISMATCH = 62


class _TrustAdapter(HTTPAdapter):
    """An adapter whose pool manager uses our SSL context and, when pinned, the URL's host name
    for SNI and certificate name matching while the connection goes to an IP address; its
    sockets are watched by the fetch's watchdog."""

    def __init__(self, ssl_context: ssl.SSLContext | None, server_hostname: str | None = None,
                 watchdog: _Watchdog | None = None) -> None:
        self._ssl_context = ssl_context
        self._server_hostname = server_hostname
        self._watchdog = watchdog
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):  # noqa: ANN001
        if self._ssl_context is not None:
            pool_kwargs["ssl_context"] = self._ssl_context
        if self._server_hostname is not None:
            pool_kwargs["server_hostname"] = self._server_hostname
            pool_kwargs["assert_hostname"] = self._server_hostname
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        if self._watchdog is not None:
            self.poolmanager.pool_classes_by_scheme = _watched_pool_classes(self._watchdog)


@dataclass
class _Progress:
    """What the exchange has seen so far (mutable while fetching, turned into HttpExchange)."""

    url: str
    final_url: str
    status: int | None = None
    reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    redirects: list[Redirect] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    truncated: bool = False
    error: ProbeError | None = None


def _trust_context(ca_bundle: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context()  # the system store
    context.load_verify_locations(cafile=certifi.where())
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return context


def _origin(parts) -> tuple[str, str, int]:  # noqa: ANN001 - urllib's SplitResult
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests -> urllib3 MaxRetryError.reason -> ssl/OS)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        for attribute in ("reason", "__cause__", "__context__"):
            inner = getattr(current, attribute, None)
            if isinstance(inner, BaseException):
                stack.append(inner)


def _ssl_reason(exc: BaseException) -> str:
    """Words for a TLS failure: OpenSSL's verification message, or its reason text."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            message = cause.verify_message or cause.reason or str(cause)
            if cause.verify_code == _OPENSSL_HOSTNAME_MISMATCH:
                return f"certificate name mismatch: {message}"
            return f"certificate verification failed: {message}"
        if isinstance(cause, CertificateError):
            return f"certificate name mismatch: {cause}"
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError):
            match = re.search(r"\] (.+?)(?: \(_ssl\.c:\d+\))?$", str(cause))
            return f"TLS handshake failed: {match.group(1) if match else cause}"
    return f"TLS failed: {exc}"


def _request_error(exc: BaseException, target: str, wait: float, deadline_bound: bool) -> ProbeError:
    """Map a requests/urllib3 exception to a ProbeError. ``wait`` is the time limit that applied;
    ``deadline_bound`` says it was cut short by the whole-run deadline."""
    causes = list(_causes(exc))
    # urllib3's NewConnectionError subclasses ConnectTimeoutError for history's sake: it is not one.
    if any(isinstance(c, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError))
           and not isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes):
        if deadline_bound:
            return ProbeError(ProbeErrorKind.DEADLINE, "the run's deadline passed while waiting for the server",
                              target)
        connect = any(isinstance(c, (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError))
                      and not isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes)
        handshake = any("handshake" in str(c) for c in causes)
        what = ("no TCP connection" if connect else "no TLS handshake" if handshake else "no answer")
        return ProbeError(ProbeErrorKind.TIMEOUT, f"{what} within {wait:g} s", target)
    if any(isinstance(c, (requests.exceptions.SSLError, ssl.SSLError, CertificateError)) for c in causes):
        return ProbeError(ProbeErrorKind.TLS, _ssl_reason(exc), target)
    if any(isinstance(c, (urllib3.exceptions.NameResolutionError, socket.gaierror)) for c in causes):
        return ProbeError(ProbeErrorKind.NAME_NOT_RESOLVED, "the host name does not resolve", target)
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return ProbeError(ProbeErrorKind.REFUSED, "connection refused (nothing listens on that port)", target)
    if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes):
        os_error = next((c for c in causes if isinstance(c, OSError) and c.strerror), None)
        return ProbeError(ProbeErrorKind.REFUSED,
                          f"cannot connect ({os_error.strerror if os_error else exc})", target)
    if any(isinstance(c, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                          requests.exceptions.InvalidSchema)) for c in causes):
        return ProbeError(ProbeErrorKind.HTTP, f"not a usable URL: {exc}", target)
    return ProbeError(ProbeErrorKind.HTTP, f"the server's answer was not usable HTTP: {exc}", target)


def _set_read_timeout(response: requests.Response, seconds: float) -> None:
    # The read timeout requests set applies per socket read; cut it to the time left so a single
    # slow read cannot pass the deadline. Best effort: the pool may have detached the socket.
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(seconds, 0.001))


def _keep_headers(response: requests.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}


_DEADLINE_REASON = "the run's deadline passed while waiting for the server"


def _read_body(response: requests.Response, progress: _Progress, *, timeout: float, deadline: float,
               max_bytes: int, target: str, watchdog: _Watchdog) -> None:
    declared = response.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > max_bytes:
        progress.truncated = True
        progress.error = ProbeError(ProbeErrorKind.TOO_LARGE, f"answer larger than {max_bytes} bytes "
                                    f"(Content-Length {int(declared)}); not read", target)
        return
    body = progress.body
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            progress.error = ProbeError(ProbeErrorKind.DEADLINE, f"the run's deadline passed while reading "
                                        f"the answer ({len(body)} bytes read)", target)
            return
        wait = min(timeout, left)
        _set_read_timeout(response, wait)
        try:
            chunk = response.raw.read1(_CHUNK_BYTES, decode_content=True)
        except Exception as exc:  # noqa: BLE001 - urllib3/ssl/OS errors while streaming are data
            progress.error = (ProbeError(ProbeErrorKind.DEADLINE, f"{_DEADLINE_REASON} ({len(body)} bytes read)",
                                         target) if watchdog.fired
                              else _request_error(exc, target, wait, deadline_bound=wait < timeout))
            return
        if not chunk:
            if watchdog.fired:  # the end came from the watchdog's shutdown, not from the server
                progress.error = ProbeError(ProbeErrorKind.DEADLINE, f"{_DEADLINE_REASON} ({len(body)} bytes "
                                            "read)", target)
            return
        body += chunk
        if len(body) > max_bytes:
            del body[max_bytes:]
            progress.truncated = True
            progress.error = ProbeError(ProbeErrorKind.TOO_LARGE,
                                        f"answer larger than {max_bytes} bytes; stopped reading", target)
            return


def fetch(
    url: str,
    *,
    timeout: float,
    deadline: float,
    max_bytes: int,
    connect_address: HostPort | None = None,
    ca_bundle: Path | None = None,
    accept: str = "*/*",
    max_redirects: int = 5,
    capture_tls: bool = True,
    session: requests.Session | None = None,
    method: str = "GET",
    body: bytes | None = None,
    content_type: str | None = None,
) -> tuple[HttpExchange, bytes]:
    """GET (or ``method``) ``url`` and return the exchange and the body bytes read (at most ``max_bytes``).

    Args:
        url: http or https URL.
        timeout: seconds for each connect and each read.
        deadline: ``time.monotonic()`` value by which the whole exchange (redirects and TLS capture
            included) must end.
        max_bytes: body size cap in bytes.
        connect_address: connect here instead of resolving the URL's host (the host name is still
            used for SNI, Host and certificate verification); kept for redirects to the same
            scheme, host and port.
        ca_bundle: extra CA certificates (PEM file) trusted besides the system store and certifi.
        accept: the Accept header.
        max_redirects: redirects followed at most (each recorded as a Redirect).
        capture_tls: for https, also capture the chain the server sends (HttpExchange.tls).
        session: a requests.Session to use (its https adapters are replaced by ours); by default a
            fresh one, closed afterwards.
        method / body / content_type: another method with a request body (a SOAP POST); the body is
            sent as is and never logged or kept. A redirect is followed with the same method and
            body (callers that POST pass ``max_redirects=0``).

    Returns ``(HttpExchange, body)``. Never raises for network trouble or a malformed URL:
    ``HttpExchange.error`` is a ProbeError of kind timeout, refused, name_not_resolved, tls
    (certificate name mismatch, self-signed, expired, unknown CA, as OpenSSL says), too_large
    (``truncated`` is then True), http (too many redirects, a redirect from https to http, a
    malformed URL or redirect Location, an answer that is not HTTP) or deadline (also when the
    server drips its status line, headers, 1xx answers or chunked trailers past the deadline). Any
    complete answer, whatever its status (404, 500, ...), has ``error`` None: callers judge it.
    """
    started = time.monotonic()
    progress = _Progress(url=url, final_url=url)
    try:
        pinned_origin = _origin(urlsplit(url))
    except ValueError as exc:  # e.g. "http://[::1/", a port above 65535
        progress.error = ProbeError(ProbeErrorKind.HTTP, f"malformed URL {url!r}: {exc}", url)
        return _result(progress, url, connect_address, started, None), b""
    own_session = session is None
    http = session if session is not None else requests.Session()
    final_pinned: HostPort | None = None
    watchdog = _Watchdog(deadline)
    try:
        try:
            context = _trust_context(ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            progress.error = ProbeError(ProbeErrorKind.TLS, f"the CA bundle {ca_bundle} could not be loaded "
                                        f"({exc})", url)
            context = None
        if context is not None:
            http.mount("https://", _TrustAdapter(context, watchdog=watchdog))
            http.mount("http://", _TrustAdapter(None, watchdog=watchdog))
            watchdog.start()
            final_pinned = _exchange(http, progress, context, timeout=timeout, deadline=deadline,
                                     max_bytes=max_bytes, connect_address=connect_address,
                                     pinned_origin=pinned_origin, accept=accept, max_redirects=max_redirects,
                                     watchdog=watchdog, method=method, body=body, content_type=content_type)
    finally:
        watchdog.close()
        if own_session:
            http.close()
    tls = None
    if capture_tls:
        tls = _capture(progress, final_pinned, timeout, deadline)
    return _result(progress, url, connect_address, started, tls), bytes(progress.body)


def _result(progress: _Progress, url: str, connect_address: HostPort | None, started: float,
            tls: TlsPeerChain | None) -> HttpExchange:
    return HttpExchange(
        url=url,
        final_url=progress.final_url,
        connect_address=str(connect_address) if connect_address is not None else None,
        status=progress.status,
        reason=progress.reason,
        headers=progress.headers,
        redirects=tuple(progress.redirects),
        elapsed_seconds=round(time.monotonic() - started, 6),
        body_bytes=len(progress.body),
        truncated=progress.truncated,
        error=progress.error,
        tls=tls,
    )


def _exchange(http: requests.Session, progress: _Progress, context: ssl.SSLContext, *, timeout: float,
              deadline: float, max_bytes: int, connect_address: HostPort | None,
              pinned_origin: tuple[str, str, int], accept: str, max_redirects: int,
              watchdog: _Watchdog, method: str = "GET", body: bytes | None = None,
              content_type: str | None = None) -> HostPort | None:
    """Run the request/redirect loop; returns the pinned address of the last request (or None)."""
    current = progress.url
    for hop in range(max_redirects + 1):
        progress.final_url = current
        parts = urlsplit(current)
        scheme, host, port = _origin(parts)
        pinned = connect_address if connect_address is not None and (scheme, host, port) == pinned_origin else None
        headers = {"Accept": accept, "User-Agent": "adfs-readiness"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        request_url = current
        if pinned is not None:
            ip = f"[{pinned.host}]" if ":" in pinned.host else pinned.host
            request_url = urlunsplit((scheme, f"{ip}:{pinned.port}", parts.path or "/", parts.query, ""))
            headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
            if scheme == "https":
                http.mount(f"https://{ip}:{pinned.port}/", _TrustAdapter(context, server_hostname=host,
                                                                         watchdog=watchdog))
        left = deadline - time.monotonic()
        if left <= 0:
            progress.error = ProbeError(ProbeErrorKind.DEADLINE, "the run's deadline passed before the request",
                                        current)
            return pinned
        wait = min(timeout, left)
        # requests parses a redirect's Location even with allow_redirects=False (to offer
        # Response.next) and raises ValueError for one like "http://[::1/"; the hook keeps the
        # answer, whose Location is then judged below like any other.
        answers: list[requests.Response] = []
        try:
            response = http.request(method, request_url, data=body, headers=headers, timeout=(wait, wait),
                                    allow_redirects=False, stream=True,
                                    hooks={"response": lambda r, *args, **kwargs: answers.append(r)})
        except Exception as exc:  # noqa: BLE001 - every transport failure becomes data
            if answers and isinstance(exc, ValueError) and answers[-1].status_code in _REDIRECT_STATUSES:
                response = answers[-1]
            else:
                progress.error = (ProbeError(ProbeErrorKind.DEADLINE, _DEADLINE_REASON, current) if watchdog.fired
                                  else _request_error(exc, current, wait, deadline_bound=wait < timeout))
                return pinned
        with response:
            progress.status, progress.reason = response.status_code, response.reason
            progress.headers = _keep_headers(response)
            location = response.headers.get("location")
            if response.status_code in _REDIRECT_STATUSES and location:
                try:
                    target = urljoin(current, location)
                    target_scheme = _origin(urlsplit(target))[0]
                except ValueError as exc:  # "http://[::1/", "http://a:b:c/", a port above 65535
                    progress.redirects.append(Redirect(response.status_code, current, location))
                    progress.error = ProbeError(ProbeErrorKind.HTTP, f"malformed redirect Location {location!r}: "
                                                f"{exc}", current)
                    return pinned
                progress.redirects.append(Redirect(response.status_code, current, target))
                if scheme == "https" and target_scheme == "http":
                    progress.error = ProbeError(ProbeErrorKind.HTTP, f"redirect from https to http refused: "
                                                f"{current} -> {target} (plain http can be altered in transit)",
                                                current)
                    return pinned
                if hop == max_redirects:
                    progress.error = ProbeError(ProbeErrorKind.HTTP, f"more than {max_redirects} redirects; "
                                                f"the last one pointed at {target}", current)
                    return pinned
                current = target
                continue
            _read_body(response, progress, timeout=timeout, deadline=deadline, max_bytes=max_bytes,
                       target=current, watchdog=watchdog)
            return pinned
    return None


def _capture(progress: _Progress, pinned: HostPort | None, timeout: float, deadline: float) -> TlsPeerChain | None:
    """The peer chain of the final URL's server, unless the failure shows no handshake can work."""
    parts = urlsplit(progress.final_url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    if progress.error is not None and progress.error.kind in (
            ProbeErrorKind.TIMEOUT, ProbeErrorKind.REFUSED, ProbeErrorKind.NAME_NOT_RESOLVED,
            ProbeErrorKind.DEADLINE):
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    address = pinned or HostPort(parts.hostname, parts.port or 443)
    chain = capture_peer_chain(address, parts.hostname, min(timeout, left))
    return chain if isinstance(chain, TlsPeerChain) else None
