"""The lab's Entra ID side on loopback: one HTTPS server answering as Microsoft's login host
(realm discovery ``/getuserrealm.srf``, OpenID Connect discovery, the client-credentials token
endpoint) and as Microsoft Graph (``/v1.0/domains/{id}/federationConfiguration``, and
``/v1.0/servicePrincipals(appId='...')`` with the key credentials of ``service_principals``), told apart by
the Host header. Its certificate names both lab host names and is issued by the lab PKI.

Realm discovery answers the way Microsoft's does (``&xml=1``): ``<RealmInfo Success="true">`` with
NameSpaceType Federated (AuthURL, STSAuthURL, MEXURL), Managed, or Unknown for a domain no tenant
has. OIDC discovery answers 200 with issuer ``https://<login host>/<tenant id>/v2.0`` for a known
domain and HTTP 400 with ``AADSTS90002`` for an unknown one.

Usage::

    with CloudLab(pki, workdir, domains={"contoso.test": CloudDomain("federated", federation={...})}) as cloud:
        config = lab.config(**cloud.config_changes())
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal, Mapping
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from adfs_readiness.lab._serving import serve_in_thread, stop_serving
from adfs_readiness.lab.pki import LabCertificate, LabPki
from adfs_readiness.settings import CloudSettings, HostPort

__all__ = ["CloudDomain", "CloudLab", "federation_configuration", "key_credential", "LAB_TENANT_ID", "LOGIN_HOST",
           "GRAPH_HOST"]

LOGIN_HOST = "login.lab.test"
GRAPH_HOST = "graph.lab.test"
LAB_TENANT_ID = "6babcaad-604b-40ac-a9d7-9fd97c0b779f"
LAB_CLIENT_ID = "3f1c2d4e-0000-4000-8000-00000000a11c"


@dataclass(frozen=True)
class CloudDomain:
    """How the lab's Entra ID knows a domain: ``kind`` "federated" (with ``auth_host``, the host
    AuthURL points at), "managed" or "unknown"; ``tenant_id``; ``federation`` the Graph
    internalDomainFederation object served for it (None = not federated in Graph)."""

    kind: Literal["federated", "managed", "unknown"]
    auth_host: str | None = None
    tenant_id: str = LAB_TENANT_ID
    federation: Mapping[str, Any] | None = None
    #: The shape of its OpenID Connect discovery: "v2" (issuer https://<login>/<id>/v2.0), "v1-only"
    #: (no v2 answer; the v1 document's issuer https://sts.windows.net/<id>/), "china-v1" (v1 only,
    #: issuer https://sts.chinacloudapi.cn/<id>/), "placeholder-issuer" (issuer with {tenantid},
    #: the tenant only in the endpoints, as the common/organizations documents have it).
    discovery: Literal["v2", "v1-only", "china-v1", "placeholder-issuer"] = "v2"


def federation_configuration(domain: str, fs_name: str, signing: LabCertificate | None,
                             next_signing: LabCertificate | None = None, *, issuer_uri: str | None = None,
                             pascal_case: bool = False) -> dict[str, Any]:
    """A Graph internalDomainFederation object for ``domain`` pointing at ``fs_name``, shaped like
    the v1.0 resource (camelCase, as Graph REST answers) or like ``ConvertTo-Json`` of
    Get-MgDomainFederationConfiguration's output (``pascal_case``: PascalCase, plus the
    ``AdditionalProperties`` the SDK adds)."""
    import base64

    def b64(cert: LabCertificate | None) -> str | None:
        return base64.b64encode(cert.der).decode("ascii") if cert is not None else None

    obj = {"id": "2a8ce608-bb34-473f-9e0f-f373ee4cbc5a", "displayName": domain,
           "issuerUri": issuer_uri or f"http://{fs_name}/adfs/services/trust",
           "metadataExchangeUri": f"https://{fs_name}/adfs/services/trust/mex",
           "signingCertificate": b64(signing), "nextSigningCertificate": b64(next_signing),
           "passiveSignInUri": f"https://{fs_name}/adfs/ls/",
           "activeSignInUri": f"https://{fs_name}/adfs/services/trust/2005/usernamemixed",
           "signOutUri": f"https://{fs_name}/adfs/ls/?wa=wsignout1.0",
           "preferredAuthenticationProtocol": "wsFed", "promptLoginBehavior": "nativeSupport",
           "isSignedAuthenticationRequestRequired": None, "federatedIdpMfaBehavior": "rejectMfaByFederatedIdp",
           "passwordResetUri": None, "signingCertificateUpdateStatus": {"certificateUpdateResult": "success",
                                                                         "lastRunDateTime": None}}
    if pascal_case:
        obj = {k[0].upper() + k[1:]: v for k, v in obj.items()}
        obj["AdditionalProperties"] = {}
    return obj


def _realm_xml(login: str, domain: str, info: CloudDomain | None) -> bytes:
    if info is None or info.kind == "unknown":
        body = (f"<State>4</State><UserState>1</UserState><Login>{escape(login)}</Login>"
                f"<NameSpaceType>Unknown</NameSpaceType>")
    elif info.kind == "managed":
        body = (f"<State>4</State><UserState>1</UserState><Login>{escape(login)}</Login>"
                f"<NameSpaceType>Managed</NameSpaceType><DomainName>{escape(domain)}</DomainName>"
                f"<IsFederatedNS>false</IsFederatedNS><FederationBrandName>Contoso</FederationBrandName>"
                f"<CloudInstanceName>microsoftonline.com</CloudInstanceName>")
    else:
        host = info.auth_host or "sts.contoso.test"
        auth = escape(f"https://{host}/adfs/ls/?username={quote(login)}&wa=wsignin1.0&wtrealm="
                      f"urn%3afederation%3aMicrosoftOnline&wctx=")
        body = (f"<State>3</State><UserState>2</UserState><Login>{escape(login)}</Login>"
                f"<NameSpaceType>Federated</NameSpaceType><DomainName>{escape(domain)}</DomainName>"
                f"<FederationGlobalVersion>-1</FederationGlobalVersion><AuthURL>{auth}</AuthURL>"
                f"<IsFederatedNS>true</IsFederatedNS><STSAuthURL>https://{host}/adfs/services/trust/2005/"
                f"usernamemixed</STSAuthURL><MEXURL>https://{host}/adfs/services/trust/mex</MEXURL>"
                f"<PreferredProtocol>1</PreferredProtocol><FederationBrandName>Contoso</FederationBrandName>"
                f"<CloudInstanceName>microsoftonline.com</CloudInstanceName>")
    return f'<?xml version="1.0" encoding="utf-8"?><RealmInfo Success="true">{body}</RealmInfo>'.encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        lab = self.server.lab
        parts = urlsplit(self.path)
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        if host == lab.graph_host:
            return self._graph(segments)
        if parts.path == "/getuserrealm.srf":
            login = parse_qs(parts.query).get("login", [""])[0]
            domain = login.rsplit("@", 1)[-1].lower()
            body = _realm_xml(login, domain, lab.domains.get(domain))
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        v2 = len(segments) == 4 and segments[1:] == ["v2.0", ".well-known", "openid-configuration"]
        v1 = len(segments) == 3 and segments[1:] == [".well-known", "openid-configuration"]
        if v1 or v2:
            key = segments[0].lower()
            known = lab.domains.get(key)
            tenant = key if key == LAB_TENANT_ID else (known.tenant_id if known is not None
                                                      and known.kind != "unknown" else None)
            if tenant is None:
                return self._json(400, {"error": "invalid_tenant", "error_description":
                                        f"AADSTS90002: Tenant '{key}' not found. Check to make sure you have the "
                                        f"correct tenant ID and are signing into the correct cloud."})
            shape = known.discovery if known is not None else "v2"
            base = f"https://{lab.login_host}/{tenant}"
            if v1:
                sts = "sts.chinacloudapi.cn" if shape == "china-v1" else "sts.windows.net"
                return self._json(200, {"issuer": f"https://{sts}/{tenant}/", "token_endpoint": f"{base}/oauth2/token",
                                        "authorization_endpoint": f"{base}/oauth2/authorize",
                                        "jwks_uri": f"https://{lab.login_host}/common/discovery/keys"})
            if shape in ("v1-only", "china-v1"):
                return self._json(404, {"error": "not_found"})
            if shape == "placeholder-issuer":
                return self._json(200, {"issuer": f"https://{lab.login_host}/{{tenantid}}/v2.0",
                                        "token_endpoint": f"{base}/oauth2/v2.0/token",
                                        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"})
            return self._json(200, {"issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
                                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                    "jwks_uri": f"https://{lab.login_host}/{tenant}/discovery/v2.0/keys",
                                    "response_types_supported": ["code", "id_token"],
                                    "subject_types_supported": ["pairwise"],
                                    "id_token_signing_alg_values_supported": ["RS256"]})
        return self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802
        lab = self.server.lab
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        if self.path.endswith("/oauth2/v2.0/token"):
            ok = (form.get("grant_type") == ["client_credentials"] and form.get("client_id") == [lab.client_id]
                  and (form.get("client_secret") == [lab.client_secret] or "client_assertion" in form))
            if not ok:
                return self._json(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid "
                                        "client secret provided."})
            lab.tokens_issued += 1
            return self._json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": lab.access_token})
        return self._json(404, {"error": "not_found"})

    def _graph(self, segments: list[str]) -> None:
        lab = self.server.lab
        if self.headers.get("Authorization") != f"Bearer {lab.access_token}":
            return self._json(401, {"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}})
        if len(segments) == 4 and segments[0] == "v1.0" and segments[1] == "domains" \
                and segments[3] == "federationConfiguration":
            info = lab.domains.get(segments[2].lower())
            if info is None:
                return self._json(404, {"error": {"code": "Request_ResourceNotFound", "message": "Resource not found."}})
            values = [dict(info.federation)] if info.federation is not None else []
            return self._json(200, {"@odata.context": f"https://{lab.graph_host}/v1.0/$metadata#domains('"
                                    f"{segments[2]}')/federationConfiguration", "value": values})
        if len(segments) == 2 and segments[0] == "v1.0" and segments[1].startswith("servicePrincipals(appId="):
            app_id = segments[1][len("servicePrincipals(appId="):].strip(")'")
            if lab.graph_forbidden:
                return self._json(403, {"error": {"code": "Authorization_RequestDenied",
                                                  "message": "Insufficient privileges to complete the operation."}})
            credentials = lab.service_principals.get(app_id)
            if credentials is None:
                return self._json(404, {"error": {"code": "Request_ResourceNotFound", "message": "Resource not found."}})
            return self._json(200, {"@odata.context": f"https://{lab.graph_host}/v1.0/$metadata#servicePrincipals"
                                                      f"(id,appId,displayName,keyCredentials)/$entity",
                                    "id": "0c1f7a3e-5d1b-4f53-9d8a-1f2e3d4c5b6a", "appId": app_id,
                                    "displayName": "Azure Multi-Factor Auth Client",
                                    "keyCredentials": list(credentials)})
        return self._json(404, {"error": {"code": "BadRequest", "message": "Unsupported path."}})


def key_credential(cert: LabCertificate, *, with_key: bool = True) -> dict[str, Any]:
    """A Graph keyCredential for ``cert`` as Add-MgServicePrincipalKey / the portal registers one:
    customKeyIdentifier = base64 of the SHA-1 thumbprint bytes, the validity as start/endDateTime,
    ``key`` = the DER (Graph returns it when keyCredentials is selected on one object)."""
    import base64

    return {"customKeyIdentifier": base64.b64encode(bytes.fromhex(cert.sha1)).decode("ascii"),
            "displayName": cert.cert.subject.rfc4514_string(), "keyId": f"{cert.sha1[:8].lower()}-0000-4000-8000-"
                                                                         f"{cert.sha1[-12:].lower()}",
            "type": "AsymmetricX509Cert", "usage": "Verify",
            "startDateTime": cert.cert.not_valid_before_utc.isoformat().replace("+00:00", "Z"),
            "endDateTime": cert.cert.not_valid_after_utc.isoformat().replace("+00:00", "Z"),
            "key": base64.b64encode(cert.der).decode("ascii") if with_key else None}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, lab: "CloudLab", context: ssl.SSLContext) -> None:
        self.lab = lab
        super().__init__(("127.0.0.1", 0), _Handler)
        self.socket = context.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        pass


@dataclass
class CloudLab:
    """The lab login host + Graph on one loopback port. ``domains`` maps a domain to how the lab's
    Entra ID knows it. :meth:`config_changes` gives the Settings fields that point adfs-readiness at
    it (realm discovery on, login and Graph hosts pinned, an app registration whose secret is in
    the environment variable ``secret_env``: set it with :attr:`client_secret`)."""

    pki: LabPki
    workdir: Path
    domains: dict[str, CloudDomain] = field(default_factory=dict)
    login_host: str = LOGIN_HOST
    graph_host: str = GRAPH_HOST
    client_id: str = LAB_CLIENT_ID
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    access_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    secret_env: str = "ADFS_READINESS_LAB_GRAPH_SECRET"
    tokens_issued: int = 0
    service_principals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    graph_forbidden: bool = False
    _server: _Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def address(self) -> HostPort:
        if self._server is None:
            raise RuntimeError("the cloud lab is not started")
        return HostPort("127.0.0.1", self._server.server_address[1])

    def start(self) -> "CloudLab":
        certificate = self.pki.issue_tls([self.login_host, self.graph_host])
        chain, key = self.workdir / "cloud-chain.pem", self.workdir / "cloud-key.pem"
        self.workdir.mkdir(parents=True, exist_ok=True)
        certificate.write_pem(chain, key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(chain), str(key))
        self._server = _Server(self, context)
        self._thread = serve_in_thread(self._server, "lab-cloud")
        return self

    def stop(self) -> None:
        stop_serving(self._server, self._thread)
        self._server = self._thread = None

    def config_changes(self, *, graph: bool = False, entra_export: Path | None = None) -> dict[str, Any]:
        """The ``cloud`` section for ``Lab.config(**...)`` pointing at this lab; with ``graph`` the
        app registration (tenant and client id) for live Graph; with ``entra_export`` the exported
        JSON file instead."""
        cloud = CloudSettings(login_host=self.login_host, login_address=self.address, graph_host=self.graph_host,
                              graph_address=self.address, entra_export=entra_export,
                              tenant_id=LAB_TENANT_ID if graph else None, client_id=self.client_id if graph else None,
                              client_secret_env=self.secret_env)
        return {"cloud": cloud}

    def __enter__(self) -> "CloudLab":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
