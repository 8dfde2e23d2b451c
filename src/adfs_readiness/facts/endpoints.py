"""Facts of the AD FS HTTP endpoints: what each endpoint answered through the external path (the
federation service name, or each Web Application Proxy) and on each farm node, the
WS-MetadataExchange document, the OpenID Connect discovery document, latency samples and the
servers' ``Date`` headers.

Fact key: :data:`ENDPOINTS_FACT` (:class:`EndpointsFacts`). Imports only from
:mod:`adfs_readiness.facts` (DESIGN.md, "Layers").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from adfs_readiness.facts import HttpExchange

__all__ = [
    "ENDPOINTS_FACT",
    "EndpointVia",
    "EndpointAnswer",
    "MexEndpoint",
    "MexDocument",
    "OpenIdConfiguration",
    "LatencySample",
    "ClockSample",
    "EndpointsFacts",
    "PATH_PASSIVE",
    "PATH_MEX",
    "PATH_USERNAMEMIXED",
    "PATH_WINDOWSTRANSPORT",
    "PATH_IDP_INITIATED",
    "PATH_OPENID",
    "PATH_PROBE",
]

#: Fact key of :class:`EndpointsFacts`.
ENDPOINTS_FACT = "endpoints"

PATH_PASSIVE = "/adfs/ls/"
PATH_MEX = "/adfs/services/trust/mex"
PATH_USERNAMEMIXED = ("/adfs/services/trust/2005/usernamemixed", "/adfs/services/trust/13/usernamemixed")
PATH_WINDOWSTRANSPORT = ("/adfs/services/trust/2005/windowstransport", "/adfs/services/trust/13/windowstransport")
PATH_IDP_INITIATED = "/adfs/ls/IdpInitiatedSignon.aspx"
PATH_OPENID = "/adfs/.well-known/openid-configuration"
PATH_PROBE = "/adfs/probe"


class EndpointVia(str, Enum):
    """Where a request went: the federation service name (pinned to ``service_address`` or
    resolved), a configured Web Application Proxy, or a farm node."""

    SERVICE = "service"
    PROXY = "proxy"
    NODE = "node"


@dataclass(frozen=True)
class EndpointAnswer:
    """One GET of an AD FS path.

    Attributes:
        path: the path asked for (one of the ``PATH_*`` constants).
        via: where the request went; ``address`` is that place ("host:port", or the probe URL).
        exchange: the HTTP exchange (status, headers, redirects, error as data).
        body_excerpt: the first 300 characters of the body (text, for evidence).
        looks_like_sign_in_page: the body is an HTML page with a form (a sign-in page).
    """

    path: str
    via: EndpointVia
    address: str
    exchange: HttpExchange
    body_excerpt: str = ""
    looks_like_sign_in_page: bool = False

    @property
    def answered(self) -> bool:
        """The server gave a complete HTTP answer (any status)."""
        return self.exchange.error is None and self.exchange.status is not None

    @property
    def served(self) -> bool:
        """The path is served: answered with a status other than 404 (not registered with
        http.sys / not published by the proxy) and 503 (WAP: no backend for the path)."""
        return self.answered and self.exchange.status not in (404, 503)


@dataclass(frozen=True)
class MexEndpoint:
    """One ``wsdl:port`` of a WS-MetadataExchange document: its ``name``, ``binding`` (local
    name), the SOAP 1.2 ``address`` (white space stripped) and that address's ``path``."""

    name: str | None
    binding: str | None
    address: str | None
    path: str | None


@dataclass(frozen=True)
class MexDocument:
    """The WS-MetadataExchange document at ``url``, parsed with the safe parser (no DTD, no
    entities, no network). ``parse_error`` says why it is not usable (None when it is);
    ``refused_construct`` names a refused DTD/entity; ``endpoints`` in document order."""

    url: str
    via: EndpointVia
    address: str
    has_bom: bool
    parse_error: str | None
    endpoints: tuple[MexEndpoint, ...] = ()
    root_element: str | None = None
    refused_construct: str | None = None


@dataclass(frozen=True)
class OpenIdConfiguration:
    """AD FS's OpenID Connect discovery document (``/adfs/.well-known/openid-configuration``):
    ``issuer`` (``https://<federation service name>/adfs``), the endpoint URLs as published (AD FS
    2016: authorization, token, jwks, userinfo, end_session; 2019 and later also
    device_authorization) and ``access_token_issuer`` (AD FS's federation service identifier, by
    default ``http://<name>/adfs/services/trust``: http is the identifier's form, not a downgrade);
    ``parse_error`` when it is not a JSON object or names no issuer."""

    url: str
    via: EndpointVia
    address: str
    issuer: str | None
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    jwks_uri: str | None = None
    access_token_issuer: str | None = None
    parse_error: str | None = None
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None
    device_authorization_endpoint: str | None = None


@dataclass(frozen=True)
class LatencySample:
    """Repeated GETs of ``url`` through ``via``/``address``: each request's time in seconds
    (None for a request that failed) and the failures' reasons."""

    url: str
    via: EndpointVia
    address: str
    seconds: tuple[float | None, ...]
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClockSample:
    """A server's ``Date`` header against our clock: ``server_date`` (aware UTC, from the header)
    and ``local_time`` (the run's clock plus the time elapsed since the probe started, at the
    moment the answer arrived). ``date_header`` is the header as received."""

    via: EndpointVia
    address: str
    date_header: str
    server_date: datetime | None
    local_time: datetime


@dataclass(frozen=True)
class EndpointsFacts:
    """The endpoints fact (key ``endpoints``).

    Attributes:
        configured: False when there is no federation service name (the checks skip).
        service_name: the federation service name (SNI and Host of every HTTPS request).
        external_places: the places judged as "the external path": each proxy when proxies are
            configured, else the service name.
        proxies_configured: whether ``federation.proxies`` lists any proxy.
        answers: every GET of the endpoint paths, per place.
        probes: ``/adfs/probe`` over HTTP per node and proxy (or the configured probe URLs).
        mex: the MEX document as fetched through the first external place (None when not served).
        openid: the OpenID configuration as fetched through the first external place.
        latency: per external place, repeated GETs of the passive endpoint.
        clocks: Date headers seen, one per place.
        expected_issuer: the configured expected issuer (entityID) of the service.
    """

    configured: bool
    service_name: str | None
    external_places: tuple[str, ...] = ()
    proxies_configured: bool = False
    answers: tuple[EndpointAnswer, ...] = ()
    probes: tuple[EndpointAnswer, ...] = ()
    mex: MexDocument | None = None
    openid: OpenIdConfiguration | None = None
    latency: tuple[LatencySample, ...] = ()
    clocks: tuple[ClockSample, ...] = ()

    def answers_for(self, path: str, via: EndpointVia | None = None) -> list[EndpointAnswer]:
        """The answers for ``path`` (optionally only through ``via``), in probe order."""
        return [a for a in self.answers if a.path == path and (via is None or a.via is via)]

    def external_answers(self, path: str) -> list[EndpointAnswer]:
        """The answers for ``path`` through the external path (proxies, or the service name)."""
        via = EndpointVia.PROXY if self.proxies_configured else EndpointVia.SERVICE
        return self.answers_for(path, via)
