"""The AD FS endpoints probe: GET each endpoint path through the external path (every configured
Web Application Proxy, else the federation service name) with SNI and Host = the federation
service name, ``/adfs/probe`` over HTTP on every node and proxy, the MEX and OpenID documents,
latency samples and the servers' Date headers.

Each place's requests run one after another (places and /adfs/probe targets in parallel), each
bounded by the probe's time budget (the run's HTTP client honours it); a place that does not answer is asked once.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from adfs_readiness.facts import HttpExchange, ProbeErrorKind
from adfs_readiness.facts.endpoints import (
    PATH_IDP_INITIATED,
    PATH_MEX,
    PATH_OPENID,
    PATH_PASSIVE,
    PATH_PROBE,
    PATH_USERNAMEMIXED,
    PATH_WINDOWSTRANSPORT,
    ClockSample,
    EndpointAnswer,
    EndpointsFacts,
    EndpointVia,
    LatencySample,
)
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes.mex import parse_mex, parse_openid_configuration
from adfs_readiness.settings import HostPort

__all__ = ["probe_endpoints", "PASSIVE_QUERY", "ENDPOINT_PATHS"]

#: The passive request Entra ID sends (WS-Federation sign-in for the Microsoft 365 relying party):
#: AD FS answers it with its sign-in page (forms) or a redirect into Windows authentication.
PASSIVE_QUERY = "?wa=wsignin1.0&wtrealm=urn%3afederation%3aMicrosoftOnline"

#: Paths fetched through each external place, in this order.
ENDPOINT_PATHS = (PATH_PASSIVE, PATH_MEX, *PATH_USERNAMEMIXED, *PATH_WINDOWSTRANSPORT, PATH_IDP_INITIATED,
                  PATH_OPENID)
_MAX_WORKERS = 4
_UNREACHABLE = (ProbeErrorKind.TIMEOUT, ProbeErrorKind.REFUSED, ProbeErrorKind.DEADLINE,
                ProbeErrorKind.NAME_NOT_RESOLVED, ProbeErrorKind.TLS)


def _places(ctx: ProbeContext) -> list[tuple[EndpointVia, str, HostPort | None]]:
    config = ctx.config
    if config.federation.proxies:
        return [(EndpointVia.PROXY, str(p), p) for p in config.federation.proxies]
    federation = config.federation
    label = str(federation.service_address) if federation.service_address else f"{federation.service_name}:443"
    return [(EndpointVia.SERVICE, label, config.federation.service_address)]


def _probe_targets(ctx: ProbeContext) -> list[tuple[EndpointVia, str]]:
    config = ctx.config
    if config.endpoints.probe_urls:
        return [(EndpointVia.NODE, url) for url in config.endpoints.probe_urls]
    targets = [(EndpointVia.NODE, f"http://{_host(n)}{PATH_PROBE}") for n in config.federation.farm_nodes]
    targets += [(EndpointVia.PROXY, f"http://{_host(p)}{PATH_PROBE}") for p in config.federation.proxies]
    return targets


def _host(address: HostPort) -> str:
    return f"[{address.host}]" if ":" in address.host else address.host


def _excerpt(body: bytes) -> tuple[str, bool]:
    text = body[:4096].decode("utf-8", "replace")
    lower = text.lower()
    sign_in = ("<html" in lower or "<!doctype html" in lower) and "<form" in lower
    return text[:300], sign_in


def probe_endpoints(ctx: ProbeContext) -> EndpointsFacts:
    """Gather the ``endpoints`` fact. Never raises for network trouble (each exchange carries its
    error); returns ``configured=False`` without a federation service name."""
    config = ctx.config
    if not config.federation.service_name:
        return EndpointsFacts(configured=False, service_name=None)
    started = time.monotonic()
    places = _places(ctx)

    def get(url: str, pinned: HostPort | None, accept: str = "*/*") -> tuple[HttpExchange, bytes, float]:
        answer = ctx.net.http.get(url, budget=ctx.budget, connect_address=pinned, accept=accept, max_redirects=0)
        return answer.exchange, answer.body, time.monotonic()

    def place_sequence(via: EndpointVia, label: str, pinned: HostPort | None) -> list:
        # One place's requests one after another (a farm sees one client, not a burst); when the
        # place does not answer at all, the remaining paths get the same failure without waiting again.
        out, dead = [], None
        for path in ENDPOINT_PATHS:
            query = PASSIVE_QUERY if path == PATH_PASSIVE else ""
            url = f"https://{config.federation.service_name}{path}{query}"
            if dead is not None:
                out.append(("path", path, via, label, (dataclasses.replace(dead, url=url, final_url=url), b"",
                                                       time.monotonic())))
                continue
            result = get(url, pinned)
            out.append(("path", path, via, label, result))
            if result[0].error is not None and result[0].error.kind in _UNREACHABLE:
                dead = result[0]
        if dead is None:
            latency_url = f"https://{config.federation.service_name}{PATH_PASSIVE}{PASSIVE_QUERY}"
            out.append(("latency", latency_url, via, label,
                        [get(latency_url, pinned) for _ in range(config.endpoints.latency_samples - 1)]))
        return out

    with ThreadPoolExecutor(max_workers=_MAX_WORKERS, thread_name_prefix="endpoints") as pool:
        place_jobs = [pool.submit(place_sequence, via, label, pinned) for via, label, pinned in places]
        probe_jobs = [(via, url, pool.submit(get, url, None)) for via, url in _probe_targets(ctx)]
        results = [item for job in place_jobs for item in job.result()]
        results += [("probe", url, via, url, job.result()) for via, url, job in probe_jobs]

    answers, probes, clocks, mex, openid = [], [], [], None, None
    latency: dict[tuple[EndpointVia, str], list] = {}
    clocked: set[str] = set()
    for kind, what, via, label, result in results:
        if kind == "latency":
            entry = latency.setdefault((via, label), [what, [], []])
            for exchange, _, _ in result:
                entry[1].append(round(exchange.elapsed_seconds, 6) if exchange.error is None else None)
                if exchange.error is not None:
                    entry[2].append(str(exchange.error))
            continue
        exchange, body, arrived = result
        if kind == "path" and what == PATH_PASSIVE:
            # The passive GET is the first latency sample of its place (fewer handshakes on the farm).
            entry = latency.setdefault((via, label), [exchange.url, [], []])
            entry[1].insert(0, round(exchange.elapsed_seconds, 6) if exchange.error is None else None)
            if exchange.error is not None:
                entry[2].insert(0, str(exchange.error))
        excerpt, sign_in = _excerpt(body)
        answer = EndpointAnswer(path=urlsplit(what).path if kind == "probe" else what, via=via, address=label,
                                exchange=exchange, body_excerpt=excerpt, looks_like_sign_in_page=sign_in)
        (probes if kind == "probe" else answers).append(answer)
        date_header = exchange.headers.get("date")
        if date_header and label not in clocked:
            clocked.add(label)
            try:
                server_date = parsedate_to_datetime(date_header)
            except (TypeError, ValueError):
                server_date = None
            local = ctx.now + timedelta(seconds=arrived - started)
            clocks.append(ClockSample(via=via, address=label, date_header=date_header, server_date=server_date,
                                      local_time=local))
        if kind == "path" and answer.served and exchange.status == 200 and label == places[0][1]:
            if what == PATH_MEX and mex is None:
                mex = parse_mex(body, url=exchange.url, via=via, address=label)
            elif what == PATH_OPENID and openid is None:
                openid = parse_openid_configuration(body, url=exchange.url, via=via, address=label)
    return EndpointsFacts(
        configured=True, service_name=config.federation.service_name, external_places=tuple(p[1] for p in places),
        proxies_configured=bool(config.federation.proxies), answers=tuple(answers), probes=tuple(probes), mex=mex,
        openid=openid, clocks=tuple(clocks),
        latency=tuple(LatencySample(url=url, via=via, address=label, seconds=tuple(secs), errors=tuple(errs))
                      for (via, label), (url, secs, errs) in latency.items()))
