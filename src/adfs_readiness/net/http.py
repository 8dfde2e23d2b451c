"""The HTTP client: every request of the tool (metadata, endpoints, realm and OpenID discovery,
Graph and its token endpoint, the webhook, WS-Trust) goes through :class:`HttpClient`.

What it guarantees, because federation servers, proxies and anything a redirect points at may
misbehave or be hostile:

* **Time**: each connect and each socket read waits at most the budget's operation time; the
  whole request (connect, TLS, headers, body, redirects) ends by its deadline: the budget's, cut
  to ``total_seconds`` when given (the webhook's 5 s means 5 s, whatever the server drips). The
  body is read with ``read1`` (returns as soon as *some* bytes arrive) and the clock is checked
  between reads. A per-read timeout cannot stop a server that drips a header line every second,
  sends 100 Continue forever or never ends its chunked trailers (those reads happen inside
  http.client/urllib3), so a watchdog shuts down every socket of the request at its deadline:
  whatever read is blocked then ends, and the exchange reports ``deadline``.
* **Memory**: the body is streamed and reading stops once it exceeds the cap, counted after
  decompression (urllib3 >= 2.6 bounds every decompression step by the amount asked for, so a
  gzip bomb never expands beyond one 64 KiB chunk); a Content-Length above the cap is refused
  before reading.
* **Refused targets** (:mod:`adfs_readiness.net.policy`): link-local and cloud metadata
  addresses (literal, pinned, or what a host name resolved to: checked before a byte is sent),
  and URLs with credentials in their userinfo (refused, never sent; URLs are recorded without it).
* **Redirects** (GET only): followed by hand, recorded, at most ``max_redirects``; only to URLs
  that parse; never from https to plain http (anyone on the path could then answer in the
  server's name); never to a refused target. A POST is never redirected: its answer is returned.
* **Pinning** (curl's ``--resolve``): with ``connect_address`` the TCP connection goes to that
  address while the URL's host name is used for SNI, the Host header and certificate name
  verification (urllib3's ``server_hostname`` / ``assert_hostname`` pool arguments,
  https://urllib3.readthedocs.io/en/stable/advanced-usage.html#custom-sni-hostname).
* **Trust**: the run's :class:`~adfs_readiness.net.trust.TrustStores` (system store, certifi, the
  optional CA bundle), built once per run; a bundle this machine cannot load makes the request
  ``local`` (not determined), not a TLS failure of the server.
* **Servers without RFC 5746 secure renegotiation** (often load balancers on old firmware):
  OpenSSL 3 refuses them ("unsafe legacy renegotiation disabled") where browsers and Windows
  (SChannel) connect, so such a refusal is retried once, whole, with the same trust plus
  ``SSL_OP_LEGACY_SERVER_CONNECT`` (https://docs.openssl.org/3.0/man3/SSL_CTX_set_options/,
  "Secure Renegotiation"), as the TLS probe does; the exchange is marked
  ``legacy_renegotiation`` so a finding can say so. The refusal happens in the handshake,
  before a byte of the request is sent, so retrying a POST sends it once.
* **Evidence**: for https the peer chain as sent can be captured by the caller's capture
  function (the metadata probe passes :func:`adfs_readiness.probes.tls.capture_peer_chain`),
  also when verification failed.
* **Failures are data**: nothing here raises for network trouble; ``HttpExchange.error`` is a
  :class:`~adfs_readiness.facts.ProbeError` (see :mod:`adfs_readiness.net.errors`).
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from adfs_readiness.facts import HttpExchange, ProbeError, ProbeErrorKind, Redirect, TlsPeerChain
from adfs_readiness.net._watchdog import Watchdog, watched_pool_classes
from adfs_readiness.net.budget import TimeBudget
from adfs_readiness.net.errors import DEADLINE_REASON, NO_SECURE_RENEGOTIATION, request_error
from adfs_readiness.net.policy import NetPolicy, RefusedTarget, url_credentials_reason, without_userinfo
from adfs_readiness.net.trust import TrustStores
from adfs_readiness.settings import HostPort

__all__ = ["HttpClient", "HttpAnswer", "PeerChainCapture", "fetch", "KEPT_HEADERS", "USER_AGENT"]

#: A TLS handshake that returns the chain a server sends: (address, SNI name, timeout seconds) ->
#: TlsPeerChain or ProbeError (e.g. ``probes.tls.capture_peer_chain`` bound to the run's policy).
PeerChainCapture = Callable[[HostPort, str, float], "TlsPeerChain | ProbeError"]

#: Response headers kept in HttpExchange.headers (lower-case names).
KEPT_HEADERS = ("content-type", "content-length", "date", "server", "location")
USER_AGENT = "adfs-readiness"

_CHUNK_BYTES = 64 * 1024
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class HttpAnswer:
    """What one request gave.

    Attributes:
        exchange: the recorded exchange (status, kept headers, redirects, error, timings).
        body: the body bytes read (at most the cap; empty on error before the body).
        headers: every header of the last answer (lower-case names; repeated ones joined with
            ", "), for callers that need more than :data:`KEPT_HEADERS` (msal reads Retry-After).
    """

    exchange: HttpExchange
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def error(self) -> ProbeError | None:
        """The exchange's error (None when a complete answer arrived, whatever its status)."""
        return self.exchange.error

    @property
    def status(self) -> int | None:
        return self.exchange.status


class _TrustAdapter(HTTPAdapter):
    """An adapter whose pool manager uses the run's SSL context and, when pinned, the URL's host
    name for SNI and certificate name matching while the connection goes to an IP address; its
    sockets are checked against the policy and watched by the request's watchdog."""

    def __init__(self, ssl_context: ssl.SSLContext | None, watchdog: Watchdog, policy: NetPolicy,
                 server_hostname: str | None = None) -> None:
        self._ssl_context = ssl_context
        self._server_hostname = server_hostname
        self._watchdog = watchdog
        self._policy = policy
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        if self._ssl_context is not None:
            pool_kwargs["ssl_context"] = self._ssl_context
        if self._server_hostname is not None:
            pool_kwargs["server_hostname"] = self._server_hostname
            pool_kwargs["assert_hostname"] = self._server_hostname
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = watched_pool_classes(self._watchdog, self._policy)


@dataclass
class _Progress:
    """What the exchange has seen so far (mutable while fetching, turned into HttpExchange)."""

    url: str
    final_url: str
    status: int | None = None
    reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    all_headers: dict[str, str] = field(default_factory=dict)
    redirects: list[Redirect] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    truncated: bool = False
    error: ProbeError | None = None
    legacy_renegotiation: bool = False

    @property
    def refused_renegotiation(self) -> bool:
        """OpenSSL refused the server for lacking RFC 5746 secure renegotiation."""
        return (self.error is not None and self.error.kind is ProbeErrorKind.TLS
                and NO_SECURE_RENEGOTIATION in self.error.reason)


@dataclass(frozen=True)
class _Request:
    method: str
    accept: str
    body: bytes | None
    content_type: str | None
    extra_headers: Mapping[str, str]
    max_bytes: int
    max_redirects: int
    connect_address: HostPort | None


def _origin(parts: Any) -> tuple[str, str, int]:
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def _refusal(url: str, policy: NetPolicy, connect_address: HostPort | None) -> ProbeError | None:
    """The policy's objection to asking ``url`` (credentials in it, a refused literal address or
    pinned address), or None. Checked before anything is sent, for the URL and every redirect."""
    shown = without_userinfo(url)
    credentials = url_credentials_reason(url)
    if credentials is not None:
        return ProbeError(ProbeErrorKind.POLICY, credentials, shown)
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None  # malformed: reported as such by the exchange
    for candidate in (host, connect_address.host if connect_address is not None else ""):
        try:
            policy.check_address(candidate)
        except RefusedTarget as exc:
            return ProbeError(ProbeErrorKind.POLICY, exc.reason, shown)
    return None


def _set_read_timeout(response: requests.Response, seconds: float) -> None:
    # The read timeout requests set applies per socket read; cut it to the time left so a single
    # slow read cannot pass the deadline. Best effort: the pool may have detached the socket.
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(max(seconds, 0.001))


def _headers_of(response: requests.Response) -> tuple[dict[str, str], dict[str, str]]:
    every = {name.lower(): value for name, value in response.headers.items()}
    return {name: every[name] for name in KEPT_HEADERS if name in every}, every


class HttpClient:
    """The one HTTP client of a run: built once per run (``ctx.net.http``) with the run's trust
    stores and policy, and safe to use from several threads (each request has its own session
    and watchdog; the TLS context is shared).

    Args:
        trust: the run's trust stores (system store, certifi, ``tls.ca_bundle``).
        policy: refused targets and the download cap (:class:`~adfs_readiness.net.policy.NetPolicy`).
    """

    def __init__(self, trust: TrustStores | None = None, policy: NetPolicy | None = None) -> None:
        self.trust = trust if trust is not None else TrustStores()
        self.policy = policy if policy is not None else NetPolicy()

    def get(self, url: str, *, budget: TimeBudget, accept: str = "*/*", connect_address: HostPort | None = None,
            max_redirects: int = 5, max_bytes: int | None = None, total_seconds: float | None = None,
            headers: Mapping[str, str] | None = None, capture_tls: PeerChainCapture | None = None) -> HttpAnswer:
        """GET ``url``; redirects followed up to ``max_redirects`` (each recorded).

        Args:
            url: http or https URL (no userinfo: refused).
            budget: the probe's time budget (operation time per connect/read; its deadline).
            accept: the Accept header.
            connect_address: connect here instead of resolving the URL's host (the host name is
                still used for SNI, Host and certificate verification); kept for redirects to the
                same scheme, host and port.
            max_redirects: redirects followed at most.
            max_bytes: body cap in bytes after decompression (default: the policy's download cap).
            total_seconds: the whole request ends within this many seconds (default: by the
                budget's deadline).
            headers: extra request headers (e.g. Authorization).
            capture_tls: for https, also capture the chain the server sends (HttpExchange.tls)
                with this handshake function, within the same budget.

        Returns an :class:`HttpAnswer`; never raises for network trouble or a malformed URL.
        ``exchange.error`` is a ProbeError of kind timeout, refused, name_not_resolved, tls
        (certificate name mismatch, self-signed, expired, unknown CA, as OpenSSL says), too_large
        (``truncated`` is then True), http (too many redirects, a redirect from https to http, a
        malformed URL or Location, an answer that is not HTTP), deadline (also when the server
        drips its status line, headers, 1xx answers or trailers past the deadline), policy (a
        refused target or credentials in a URL) or local (this machine's resolver, route or
        trust store failed). Any complete answer, whatever its status, has ``error`` None.
        ``exchange.legacy_renegotiation`` is True when the answer came from the retry made for a
        server without RFC 5746 secure renegotiation (see the module docstring).
        """
        request = _Request("GET", accept, None, None, dict(headers or {}),
                           self.policy.max_download_bytes if max_bytes is None else max_bytes, max_redirects,
                           connect_address)
        return self._run(url, request, budget.within(total_seconds), capture_tls)

    def post(self, url: str, body: bytes, *, content_type: str, budget: TimeBudget, accept: str = "*/*",
             connect_address: HostPort | None = None, max_bytes: int | None = None,
             total_seconds: float | None = None, headers: Mapping[str, str] | None = None) -> HttpAnswer:
        """POST ``body`` (bytes, sent as they are) with Content-Type ``content_type`` (e.g.
        ``application/json``, ``application/x-www-form-urlencoded``,
        ``application/soap+xml; charset=utf-8``) to ``url``. A redirect is not followed (its 3xx
        answer is returned, Location recorded). Other arguments, the result and the errors as for
        :meth:`get`; ``headers`` may add e.g. SOAPAction."""
        request = _Request("POST", accept, bytes(body), content_type, dict(headers or {}),
                           self.policy.max_download_bytes if max_bytes is None else max_bytes, 0, connect_address)
        return self._run(url, request, budget.within(total_seconds), None)

    # -- the exchange ---------------------------------------------------------------------------

    def _run(self, url: str, request: _Request, budget: TimeBudget,
             capture_tls: PeerChainCapture | None) -> HttpAnswer:
        started = time.monotonic()
        shown = without_userinfo(url)
        progress = _Progress(url=shown, final_url=shown)
        refusal = _refusal(url, self.policy, request.connect_address)
        if refusal is not None:
            progress.error = refusal
            return self._answer(progress, request, started, None)
        try:
            pinned_origin = _origin(urlsplit(url))
        except ValueError as exc:  # e.g. "http://[::1/", a port above 65535
            progress.error = ProbeError(ProbeErrorKind.HTTP, f"malformed URL {shown!r}: {exc}", shown)
            return self._answer(progress, request, started, None)
        # The trust stores are this machine's: one it cannot load makes an https request "not
        # determined" (local), and a plain http one only if it is redirected to https.
        built = self.trust.https_context()
        context = built if isinstance(built, ssl.SSLContext) else None
        if isinstance(built, ProbeError) and pinned_origin[0] == "https":
            progress.error = ProbeError(built.kind, built.reason, shown)
            return self._answer(progress, request, started, None)
        final_pinned = self._attempt(progress, context, request, budget, pinned_origin)
        if progress.refused_renegotiation and not budget.expired:
            legacy = self.trust.https_context(legacy_renegotiation=True)
            if isinstance(legacy, ssl.SSLContext):
                retry = _Progress(url=shown, final_url=shown, legacy_renegotiation=True)
                retry_pinned = self._attempt(retry, legacy, request, budget, pinned_origin)
                if not retry.refused_renegotiation:
                    progress, final_pinned = retry, retry_pinned
        tls = self._capture(progress, final_pinned, budget, capture_tls) if capture_tls is not None else None
        return self._answer(progress, request, started, tls)

    def _attempt(self, progress: _Progress, context: ssl.SSLContext | None, request: _Request, budget: TimeBudget,
                 pinned_origin: tuple[str, str, int]) -> HostPort | None:
        """One try of the whole exchange (redirects included) with ``context`` for https, under
        a watchdog of its own; returns the pinned address of the last request (or None)."""
        watchdog = Watchdog(budget.deadline)
        http = requests.Session()
        try:
            http.mount("https://", _TrustAdapter(context, watchdog, self.policy))
            http.mount("http://", _TrustAdapter(None, watchdog, self.policy))
            watchdog.start()
            return self._exchange(http, progress, context, request, budget, pinned_origin, watchdog)
        finally:
            watchdog.close()
            http.close()

    @staticmethod
    def _answer(progress: _Progress, request: _Request, started: float, tls: TlsPeerChain | None) -> HttpAnswer:
        exchange = HttpExchange(
            url=progress.url,
            final_url=progress.final_url,
            connect_address=str(request.connect_address) if request.connect_address is not None else None,
            status=progress.status,
            reason=progress.reason,
            headers=progress.headers,
            redirects=tuple(progress.redirects),
            elapsed_seconds=round(time.monotonic() - started, 6),
            body_bytes=len(progress.body),
            truncated=progress.truncated,
            error=progress.error,
            tls=tls,
            legacy_renegotiation=progress.legacy_renegotiation,
        )
        return HttpAnswer(exchange, bytes(progress.body), dict(progress.all_headers))

    def _exchange(self, http: requests.Session, progress: _Progress, context: ssl.SSLContext | None,
                  request: _Request, budget: TimeBudget, pinned_origin: tuple[str, str, int],
                  watchdog: Watchdog) -> HostPort | None:
        """The request/redirect loop; returns the pinned address of the last request (or None)."""
        current = progress.url  # already without userinfo (a URL with one was refused)
        for hop in range(request.max_redirects + 1):
            progress.final_url = current
            parts = urlsplit(current)
            scheme, host, port = _origin(parts)
            pinned = (request.connect_address if request.connect_address is not None
                      and (scheme, host, port) == pinned_origin else None)
            headers = {"Accept": request.accept, "User-Agent": USER_AGENT, **request.extra_headers}
            if request.content_type is not None:
                headers["Content-Type"] = request.content_type
            request_url = current
            if pinned is not None:
                ip = f"[{pinned.host}]" if ":" in pinned.host else pinned.host
                request_url = urlunsplit((scheme, f"{ip}:{pinned.port}", parts.path or "/", parts.query, ""))
                headers["Host"] = parts.netloc
                if scheme == "https":
                    http.mount(f"https://{ip}:{pinned.port}/", _TrustAdapter(context, watchdog, self.policy,
                                                                             server_hostname=host))
            if budget.expired:
                progress.error = ProbeError(ProbeErrorKind.DEADLINE, "the run's deadline passed before the request",
                                            current)
                return pinned
            wait = budget.operation()
            # requests parses a redirect's Location even with allow_redirects=False (to offer
            # Response.next) and raises ValueError for one like "http://[::1/"; the hook keeps the
            # answer, whose Location is then judged below like any other.
            answers: list[requests.Response] = []
            try:
                response = http.request(request.method, request_url, data=request.body, headers=headers,
                                        timeout=(wait, wait), allow_redirects=False, stream=True,
                                        hooks={"response": lambda r, *args, seen=answers, **kwargs: seen.append(r)})
            except Exception as exc:  # noqa: BLE001 - every transport failure becomes data
                if answers and isinstance(exc, ValueError) and answers[-1].status_code in _REDIRECT_STATUSES:
                    response = answers[-1]
                else:
                    progress.error = (ProbeError(ProbeErrorKind.DEADLINE, DEADLINE_REASON, current)
                                      if watchdog.fired else
                                      request_error(exc, current, wait, deadline_bound=wait < budget.operation_seconds))
                    return pinned
            with response:
                if watchdog.fired:
                    # The shutdown at the deadline ends a dripped header block as if it were
                    # complete: such an answer is not one (no status is recorded).
                    progress.error = ProbeError(ProbeErrorKind.DEADLINE, DEADLINE_REASON, current)
                    return pinned
                progress.status, progress.reason = response.status_code, response.reason
                progress.headers, progress.all_headers = _headers_of(response)
                location = response.headers.get("location")
                if request.method == "GET" and response.status_code in _REDIRECT_STATUSES and location:
                    target = self._redirect_target(progress, current, location, scheme, hop, request)
                    if target is None:
                        return pinned
                    current = target
                    continue
                self._read_body(response, progress, request.max_bytes, budget, current, watchdog)
                return pinned
        return None

    def _redirect_target(self, progress: _Progress, current: str, location: str, scheme: str, hop: int,
                         request: _Request) -> str | None:
        """The URL a redirect leads to, recorded; None (with ``progress.error`` set) when it is
        refused: malformed, a downgrade to http, a refused target, credentials, one too many."""
        try:
            target = urljoin(current, location)
            target_scheme = _origin(urlsplit(target))[0]
        except ValueError as exc:  # "http://[::1/", "http://a:b:c/", a port above 65535
            shown = without_userinfo(location)
            progress.redirects.append(Redirect(progress.status or 0, current, shown))
            progress.error = ProbeError(ProbeErrorKind.HTTP, f"malformed redirect Location {shown!r}: {exc}",
                                        current)
            return None
        progress.redirects.append(Redirect(progress.status or 0, current, without_userinfo(target)))
        if scheme == "https" and target_scheme == "http":
            progress.error = ProbeError(ProbeErrorKind.HTTP, f"redirect from https to http refused: {current} -> "
                                        f"{without_userinfo(target)} (plain http can be altered in transit)", current)
            return None
        refusal = _refusal(target, self.policy, None)
        if refusal is not None:
            # The server chose that target: a finding about it (HTTP), not this tool's own
            # refusal of an address the admin gave (POLICY, "not determined").
            progress.error = ProbeError(ProbeErrorKind.HTTP, f"redirect refused: {refusal.reason}", current)
            return None
        trust = self.trust.https_context()
        if target_scheme == "https" and isinstance(trust, ProbeError):
            progress.error = ProbeError(trust.kind, trust.reason, current)
            return None
        if hop == request.max_redirects:
            progress.error = ProbeError(ProbeErrorKind.HTTP, f"more than {request.max_redirects} redirects; the "
                                        f"last one pointed at {target}", current)
            return None
        return target

    @staticmethod
    def _read_body(response: requests.Response, progress: _Progress, max_bytes: int, budget: TimeBudget,
                   target: str, watchdog: Watchdog) -> None:
        declared = response.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > max_bytes:
            progress.truncated = True
            progress.error = ProbeError(ProbeErrorKind.TOO_LARGE, f"answer larger than {max_bytes} bytes "
                                        f"(Content-Length {int(declared)}); not read", target)
            return
        body = progress.body
        while True:
            if budget.expired:
                progress.error = ProbeError(ProbeErrorKind.DEADLINE, f"the run's deadline passed while reading "
                                            f"the answer ({len(body)} bytes read)", target)
                return
            wait = budget.operation()
            _set_read_timeout(response, wait)
            try:
                # urllib3 >= 2.6 decodes at most this many bytes per call: the cap holds after
                # decompression (a gzip bomb is cut at the first chunk over the cap).
                chunk = response.raw.read1(_CHUNK_BYTES, decode_content=True)
            except Exception as exc:  # noqa: BLE001 - urllib3/ssl/OS errors while streaming are data
                progress.error = (ProbeError(ProbeErrorKind.DEADLINE, f"{DEADLINE_REASON} ({len(body)} bytes read)",
                                             target) if watchdog.fired
                                  else request_error(exc, target, wait,
                                                     deadline_bound=wait < budget.operation_seconds))
                return
            if not chunk:
                if watchdog.fired:  # the end came from the watchdog's shutdown, not from the server
                    progress.error = ProbeError(ProbeErrorKind.DEADLINE, f"{DEADLINE_REASON} ({len(body)} bytes "
                                                "read)", target)
                return
            body += chunk
            if len(body) > max_bytes:
                del body[max_bytes:]
                progress.truncated = True
                progress.error = ProbeError(ProbeErrorKind.TOO_LARGE,
                                            f"answer larger than {max_bytes} bytes; stopped reading", target)
                return

    @staticmethod
    def _capture(progress: _Progress, pinned: HostPort | None, budget: TimeBudget,
                 capture_peer_chain: PeerChainCapture) -> TlsPeerChain | None:
        """The peer chain of the final URL's server, unless the failure shows no handshake can work."""
        parts = urlsplit(progress.final_url)
        if parts.scheme.lower() != "https" or not parts.hostname:
            return None
        if progress.error is not None and progress.error.kind in (
                ProbeErrorKind.TIMEOUT, ProbeErrorKind.REFUSED, ProbeErrorKind.NAME_NOT_RESOLVED,
                ProbeErrorKind.DEADLINE, ProbeErrorKind.LOCAL, ProbeErrorKind.POLICY):
            return None
        if budget.expired:
            return None
        address = pinned or HostPort(parts.hostname, parts.port or 443)
        chain = capture_peer_chain(address, parts.hostname, budget.operation())
        return chain if isinstance(chain, TlsPeerChain) else None


def fetch(url: str, *, timeout: float, deadline: float, max_bytes: int, connect_address: HostPort | None = None,
          ca_bundle: Path | None = None, accept: str = "*/*", max_redirects: int = 5,
          capture_tls: PeerChainCapture | None = None, policy: NetPolicy | None = None) -> tuple[HttpExchange, bytes]:
    """One GET with a client of its own (for the lab and tools outside a run; probes use the
    run's client, ``ctx.net.http``). ``timeout`` is the operation time, ``deadline`` a
    ``time.monotonic()`` value; the rest as for :meth:`HttpClient.get`. Returns
    ``(exchange, body)``."""
    policy = policy if policy is not None else NetPolicy(max_download_bytes=max_bytes)
    client = HttpClient(TrustStores(ca_bundle), policy)
    answer = client.get(url, budget=TimeBudget(timeout, deadline), accept=accept, connect_address=connect_address,
                        max_redirects=max_redirects, max_bytes=max_bytes, capture_tls=capture_tls)
    return answer.exchange, answer.body
