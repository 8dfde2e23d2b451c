"""``[cloud]`` (the Entra ID side), ``[adfs]`` (the AD FS server export) and ``[endpoints]``
(the load balancer health probe and latency sampling); see docs/cloud.md and docs/endpoints.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adfs_readiness.settings._schema import setting
from adfs_readiness.settings.values import (Address, Boolean, CaseChoice, EnvName, FilePath, HostName, HostPort,
                                            HttpUrl, ListOf, Number, OneOrList, Pattern, Text)

__all__ = ["CloudSettings", "AdfsSettings", "EndpointsSettings"]

_MICROSOFT_HOST = HostName(example="login.microsoftonline.com", what="a host name")


@dataclass(frozen=True)
class CloudSettings:
    """The ``[cloud]`` table.

    Attributes:
        login_host: Microsoft's sign-in host for realm and OIDC discovery: login.microsoftonline.com
            (worldwide), login.microsoftonline.us (US Government), login.chinacloudapi.cn (China).
        login_address: connect the login host to this address (curl --resolve; tests and labs).
        entra_export: JSON written by ``Get-MgDomainFederationConfiguration -DomainId <d> |
            ConvertTo-Json -Depth 5`` (one or several domains); formerly ``federation_export``.
        graph_host / graph_address: Microsoft Graph host (graph.microsoft.com,
            graph.microsoft.us, microsoftgraph.chinacloudapi.cn) and an optional pinned address.
        authority_host / authority_address: the token authority host (default: login_host).
        tenant_id / client_id: the app registration used for live Graph (client credentials).
        client_secret_env: environment variable holding the client secret.
        client_certificate: PEM file with the app's certificate and private key (instead of a
            secret).
        realm_discovery: ask the login host about each federated domain (cloud.realm-discovery,
            cloud.tenant); false = those checks skip (offline runs, labs without a login service).
    """

    refused = {"client_secret": "no secret in the file: put it in the environment variable named by "
                                "client_secret_env"}

    login_host: str = setting("login.microsoftonline.com", _MICROSOFT_HOST)
    login_address: HostPort | None = setting(None, Address(443))
    entra_export: Path | None = setting(None, FilePath("JSON file (Get-MgDomainFederationConfiguration)",
                                                       must_exist=True), renamed_from="federation_export")
    graph_host: str = setting("graph.microsoft.com", HostName(example="graph.microsoft.com", what="a host name"))
    graph_address: HostPort | None = setting(None, Address(443))
    authority_host: str | None = setting(None, _MICROSOFT_HOST)
    authority_address: HostPort | None = setting(None, Address(443))
    tenant_id: str | None = setting(None, Text("a tenant id (GUID)"))
    client_id: str | None = setting(None, Text("an application (client) id (GUID)"))
    client_secret_env: str = setting("ADFS_READINESS_GRAPH_SECRET", EnvName())
    client_certificate: Path | None = setting(None, FilePath("PEM file with certificate and private key",
                                                                            must_exist=True))
    realm_discovery: bool = setting(True, Boolean())

    @property
    def graph_configured(self) -> bool:
        """True when live Graph is configured (a tenant and an app id)."""
        return bool(self.tenant_id and self.client_id)


@dataclass(frozen=True)
class AdfsSettings:
    """The ``[adfs]`` table.

    Attributes:
        export: the JSON files the bundled collector writes on each AD FS server and proxy
            (``adfs-readiness collector > collect-adfs.ps1``; also ``--adfs-export``, repeatable):
            one path or several; a folder stands for every ``*.json`` in it. Empty = none.
        source_anchor: the sourceAnchor Entra Connect uses ("ms-DS-ConsistencyGuid" or
            "objectGUID"); None = inferred (adfs.o365-claim-rules).
        upn_attribute: the AD attribute Entra Connect syncs as userPrincipalName (another one =
            alternate login ID).
    """

    export: tuple[Path, ...] = setting((), OneOrList(FilePath("JSON file (the AD FS collector's export)",
                                                              must_exist=True, allow_dir=True),
                                                     example='["adfs1.json", "wap1.json"]'))
    source_anchor: str | None = setting(None, CaseChoice(("ms-DS-ConsistencyGuid", "objectGUID")))
    upn_attribute: str = setting("userPrincipalName", Pattern(r"[A-Za-z][A-Za-z0-9-]*",
                                                              "an AD attribute name such as userPrincipalName or mail"))

    def __post_init__(self) -> None:
        # Code may hand one path (as the file may give one): it stands for a list of one.
        if isinstance(self.export, (str, Path)):
            object.__setattr__(self, "export", (Path(self.export),))


@dataclass(frozen=True)
class EndpointsSettings:
    """The ``[endpoints]`` table.

    Attributes:
        probe_urls: the load balancer health probe URLs (HTTP); default
            ``http://<node or proxy>/adfs/probe``.
        latency_samples: requests per place for endpoints.latency (the median is judged).
    """

    probe_urls: tuple[str, ...] = setting((), ListOf(HttpUrl(), example='["http://adfs1.corp.contoso.com/adfs/probe"]'))
    latency_samples: int = setting(3, Number(1, 100, integer=True))
