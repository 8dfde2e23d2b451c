"""What the lab's STS simulator answers on the AD FS endpoint paths, and a plain-HTTP listener for
``/adfs/probe``.

Each endpoint has a state (:data:`ENDPOINT_STATES`): "proxied" (enabled and published through the
Web Application Proxy), "enabled" (enabled on the farm, not published: a proxy answers 404) or
"disabled" (404 everywhere); for faults, "broken" (published, but a 200 HTML page answers instead
of the document) and, for the OpenID configuration, "wrong-issuer" (published, issuer on another
host) and "issuer-case" (published, the issuer's host in capitals as a HostName typed so gives it:
fine, host names compare case-insensitively). The answers follow what AD FS does for a plain GET (see the docstrings
of ``adfs_readiness_checks.endpoints``): the passive endpoint and the IdP-initiated page answer HTML
(the latter its error page, without a form, when EnableIdpInitiatedSignonPage is off), MEX answers
its WSDL listing the enabled WS-Trust endpoints, the WS-Trust (WCF) endpoints answer a GET with
HTTP 400, the OpenID configuration answers JSON.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Mapping

from adfs_readiness.lab._serving import serve_in_thread, stop_serving
from adfs_readiness.settings import HostPort

__all__ = ["ENDPOINT_STATES", "DEFAULT_ENDPOINTS", "endpoint_answer", "mex_document", "ProbeListener",
           "IDP_INITIATED_PAGE", "IDP_INITIATED_DISABLED_PAGE"]

ENDPOINT_STATES = ("proxied", "enabled", "disabled", "broken", "wrong-issuer", "issuer-case", "plain-http",
                   "message-security")

#: AD FS 2016+ defaults as Microsoft 365 needs them, windowstransport kept off the proxy (the hardening guide).
DEFAULT_ENDPOINTS: Mapping[str, str] = {
    "/adfs/ls/": "proxied",
    "/adfs/services/trust/mex": "proxied",
    "/adfs/services/trust/2005/usernamemixed": "proxied",
    "/adfs/services/trust/13/usernamemixed": "proxied",
    "/adfs/services/trust/2005/windowstransport": "enabled",
    "/adfs/services/trust/13/windowstransport": "enabled",
    "/adfs/ls/IdpInitiatedSignon.aspx": "disabled",
    "/adfs/.well-known/openid-configuration": "proxied",
}

IDP_INITIATED_PAGE = (b'<!DOCTYPE html><html><head><title>Sign In</title></head><body><form method="post" '
                      b'id="idpForm" action="/adfs/ls/IdpInitiatedSignon.aspx"><input type="radio" '
                      b'name="SignInOtherSite" id="idp_SignInThisSiteRadioButton"> Sign in to this site'
                      b'<input type="submit" id="idp_SignInButton" value="Sign in"></form></body></html>')
IDP_INITIATED_DISABLED_PAGE = (b'<!DOCTYPE html><html><head><title>Sign In</title></head><body><div id="errorArea">'
                               b'An error occurred. Contact your administrator for more information.</div>'
                               b'</body></html>')

_WSTRUST_BINDINGS = {
    "2005/windowstransport": "CustomBinding_IWSTrustFeb2005Async",
    "2005/usernamemixed": "UserNameWSTrustBinding_IWSTrustFeb2005Async",
    "13/windowstransport": "CustomBinding_IWSTrust13Async1",
    "13/usernamemixed": "UserNameWSTrustBinding_IWSTrust13Async",
}


def mex_document(fs_name: str, enabled_paths: list[str], *, scheme: str = "https",
                 message_security: bool = False) -> bytes:
    """A WS-MetadataExchange (WSDL) document shaped like AD FS's, listing the enabled WS-Trust
    endpoints (AD FS lists only enabled ones) with ``scheme`` ("http" makes a farm whose MEX
    publishes plain-http addresses, e.g. behind an SSL-offloading load balancer); with
    ``message_security`` also the message-security endpoint /2005/username over http, as
    farms that enabled it publish it."""
    ports = []
    for suffix, binding in _WSTRUST_BINDINGS.items():
        path = f"/adfs/services/trust/{suffix}"
        if path in enabled_paths:
            ports.append(f'<wsdl:port name="{binding}" binding="tns:{binding}"><soap12:address location='
                         f'"{scheme}://{fs_name}{path}"/><wsa10:EndpointReference><wsa10:Address>{scheme}://{fs_name}{path}'
                         f'</wsa10:Address></wsa10:EndpointReference></wsdl:port>')
    if message_security:
        path = "/adfs/services/trust/2005/username"
        ports.append(f'<wsdl:port name="UserNameWSTrustBinding_IWSTrustFeb2005Async1" '
                     f'binding="tns:UserNameWSTrustBinding_IWSTrustFeb2005Async1"><soap12:address location='
                     f'"http://{fs_name}{path}"/><wsa10:EndpointReference><wsa10:Address>http://{fs_name}{path}'
                     f'</wsa10:Address></wsa10:EndpointReference></wsdl:port>')
    return ('<?xml version="1.0" encoding="utf-8"?><wsdl:definitions name="SecurityTokenService" '
            'targetNamespace="http://schemas.microsoft.com/ws/2008/06/identity/securitytokenservice" '
            'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" '
            'xmlns:wsa10="http://www.w3.org/2005/08/addressing" '
            'xmlns:tns="http://schemas.microsoft.com/ws/2008/06/identity/securitytokenservice">'
            '<wsdl:service name="SecurityTokenService">' + "".join(ports) +
            '</wsdl:service></wsdl:definitions>').encode()


def endpoint_answer(path: str, states: Mapping[str, str], role: str, fs_name: str) -> tuple[int, bytes, str] | None:
    """The (status, body, content type) the lab answers for ``path`` on a server of ``role``
    ("farm" or "proxy"); None when ``path`` is not an endpoint path of the lab."""
    if path not in states:
        return None
    state = states[path]
    if state == "broken":
        return 200, b"<!DOCTYPE html><html><body><form method='post'>Sign in</form></body></html>", "text/html"
    visible = state in ("proxied", "wrong-issuer", "issuer-case", "plain-http", "message-security") or (
        state == "enabled" and role == "farm")
    if path == "/adfs/ls/IdpInitiatedSignon.aspx":
        # Disabled in AD FS = the page is off (error page); unpublished = 404 on the proxy.
        if role == "proxy" and states.get("/adfs/ls/", "proxied") != "proxied":
            return 404, b"", "text/html"
        return 200, IDP_INITIATED_PAGE if visible else IDP_INITIATED_DISABLED_PAGE, "text/html; charset=utf-8"
    if not visible:
        return 404, b"<html><body>404 Not Found</body></html>", "text/html"
    if path == "/adfs/services/trust/mex":
        enabled = [p for p, s in states.items() if s == "proxied" or (s == "enabled" and role == "farm")]
        return 200, mex_document(fs_name, enabled, scheme="http" if state == "plain-http" else "https",
                                 message_security=state == "message-security"), "text/xml"
    if path == "/adfs/.well-known/openid-configuration":
        # AD FS 2019's document: the issuer is written with the HostName as configured (capitals
        # kept: "issuer-case"), the endpoints in lower case, access_token_issuer is the http://
        # identifier, and .NET's serializer escapes every "/" as "\/".
        host = "other." + fs_name if state == "wrong-issuer" else fs_name
        issuer_host = host.upper() if state == "issuer-case" else host
        base = f"https://{host}/adfs"
        document = {"issuer": f"https://{issuer_host}/adfs", "authorization_endpoint": f"{base}/oauth2/authorize/",
                    "token_endpoint": f"{base}/oauth2/token/", "jwks_uri": f"{base}/discovery/keys",
                    "access_token_issuer": f"http://{issuer_host}/adfs/services/trust",
                    "userinfo_endpoint": f"{base}/userinfo", "end_session_endpoint": f"{base}/oauth2/logout",
                    "device_authorization_endpoint": f"{base}/oauth2/devicecode"}
        return 200, json.dumps(document, separators=(",", ":")).replace("/", "\\/").encode(), \
            "application/json;charset=UTF-8"
    if path.startswith("/adfs/services/trust/"):
        return 400, b"", "text/html"  # a WCF SOAP endpoint refusing a plain GET
    return None


class _ProbeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        listener: ProbeListener = self.server.listener  # type: ignore[attr-defined]
        status = listener.status if self.path.split("?", 1)[0] == "/adfs/probe" else 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class ProbeListener:
    """A plain-HTTP listener on loopback answering ``GET /adfs/probe`` with ``status`` (200 for a
    healthy node; 503 models a stopped service behind http.sys). :meth:`start` returns the address,
    :meth:`url` the probe URL, :meth:`stop` is idempotent and joins the server thread."""

    def __init__(self, status: int = 200, host: str = "127.0.0.1") -> None:
        self.status = status
        self.host = host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> HostPort:
        self._server = ThreadingHTTPServer((self.host, 0), _ProbeHandler)
        self._server.listener = self  # type: ignore[attr-defined]
        self._thread = serve_in_thread(self._server, "lab-probe")
        return self.address

    @property
    def address(self) -> HostPort:
        if self._server is None:
            raise RuntimeError("the probe listener is not started")
        return HostPort(self.host, self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.address}/adfs/probe"

    def stop(self) -> None:
        stop_serving(self._server, self._thread)
        self._server = self._thread = None
