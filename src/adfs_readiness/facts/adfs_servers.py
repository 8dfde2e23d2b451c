"""Facts one AD FS server or Web Application Proxy knows about itself, as the bundled collector
(v2) exports them: operating system and updates, services, SSL bindings, the certificates AD FS is
configured with as found in the machine's certificate store (private key, key ACL), SCHANNEL and
.NET strong-crypto settings, and on a proxy its Web Application Proxy configuration.

They hang off :class:`~adfs_readiness.facts.adfs_export.AdfsExport` (``servers``), one per export
file. Every field the export lacks or could not be read is None, and the server's ``problems``
say why. Imports only from :mod:`adfs_readiness.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adfs_readiness.facts import CertificateInfo

__all__ = [
    "ServiceState",
    "SslBinding",
    "KeyAccessEntry",
    "StoredCertificate",
    "OperatingSystem",
    "InstalledUpdate",
    "SchannelSetting",
    "DotNetCryptoSetting",
    "WapConfiguration",
    "AdfsServer",
    "ROLE_ADFS",
    "ROLE_WAP",
]

#: ``AdfsServer.role`` of an AD FS federation server and of a Web Application Proxy.
ROLE_ADFS = "adfs"
ROLE_WAP = "wap"


@dataclass(frozen=True)
class ServiceState:
    """A Windows service (Win32_Service): ``name`` (adfssrv, appproxysvc), ``present`` (False when
    the service does not exist on the server), ``state`` ("Running", "Stopped", ...),
    ``start_mode`` ("Auto", "Manual", "Disabled"; "Auto" covers delayed start) and ``account``
    (StartName: the account it runs as, e.g. ``CONTOSO\\gmsa-adfs$`` or ``LocalSystem``)."""

    name: str
    present: bool | None
    state: str | None = None
    start_mode: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class SslBinding:
    """One http.sys SSL binding. ``source`` is "netsh" (``netsh http show sslcert``, what http.sys
    actually uses), "adfs" (Get-AdfsSslCertificate, what AD FS is configured with) or "wap"
    (Get-WebApplicationProxySslCertificate). ``address`` is the binding as written
    (``sts.contoso.com:443``, ``0.0.0.0:443``, ``[::]:443``), ``host`` / ``port`` its parts,
    ``kind`` "hostname" (SNI), "ip" or "ccs" (central certificate store); ``certificate_hash`` the
    SHA-1 thumbprint (upper-case hex), ``application_id`` the owning application's GUID
    ({5d89a20c-beab-4389-9447-324788eb944a} is AD FS), ``ctl_store`` the CTL store name
    (AdfsTrustedDevices for AD FS's device authentication)."""

    source: str
    address: str
    host: str | None
    port: int | None
    kind: str
    certificate_hash: str | None
    application_id: str | None = None
    ctl_store: str | None = None


@dataclass(frozen=True)
class KeyAccessEntry:
    """One access rule of a private key's file (Get-Acl of the CAPI MachineKeys or CNG Keys file):
    ``identity`` (``CONTOSO\\gmsa-adfs$``, ``NT SERVICE\\adfssrv``, ``BUILTIN\\Administrators``),
    ``rights`` (FileSystemRights names, e.g. "FullControl", "Read, Synchronize"), ``access``
    ("Allow" or "Deny") and ``inherited``."""

    identity: str
    rights: str
    access: str
    inherited: bool | None = None


@dataclass(frozen=True)
class StoredCertificate:
    """A certificate AD FS or WAP is configured with, looked up in the server's LocalMachine\\My
    store.

    Attributes:
        role: "service-communications", "token-signing", "token-decrypting", "azure-mfa",
            "proxy-trust", "ssl-binding" (a binding's certificate) or "wap-ssl".
        thumbprint: SHA-1 thumbprint, upper-case hex.
        is_primary: for token certificates, whether it is the primary one.
        managed_by_adfs: AD FS generated it and keeps it in its configuration database (automatic
            certificate rollover): it is not expected in the store.
        in_store: found in LocalMachine\\My (None = not looked up).
        has_private_key: the store entry has its private key.
        key_provider: "CNG" or "CAPI" (None = no key or not read).
        key_file: the key's file name under ProgramData\\Microsoft\\Crypto.
        key_access: the key file's access rules (None = not read; ``key_access_error`` says why).
        certificate: the certificate itself (from the store or AD FS's configuration).
    """

    role: str
    thumbprint: str
    is_primary: bool | None = None
    managed_by_adfs: bool = False
    in_store: bool | None = None
    has_private_key: bool | None = None
    key_provider: str | None = None
    key_file: str | None = None
    key_access: tuple[KeyAccessEntry, ...] | None = None
    key_access_error: str | None = None
    certificate: CertificateInfo | None = None


@dataclass(frozen=True)
class OperatingSystem:
    """Win32_OperatingSystem and the CurrentVersion registry key: ``caption`` ("Microsoft Windows
    Server 2019 Datacenter", localised), ``version`` ("10.0.17763"), ``build`` (17763), ``ubr``
    (update build revision, the cumulative update level), ``installation_type`` ("Server",
    "Server Core")."""

    caption: str | None
    version: str | None
    build: int | None
    ubr: int | None = None
    installation_type: str | None = None


@dataclass(frozen=True)
class InstalledUpdate:
    """One Get-HotFix entry: ``hotfix_id`` (KB number), ``description`` ("Security Update",
    "Update"), ``installed_on`` (aware UTC; None when Windows does not record it)."""

    hotfix_id: str
    description: str | None
    installed_on: datetime | None


@dataclass(frozen=True)
class SchannelSetting:
    """The SCHANNEL registry values of one protocol and side
    (``HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\<protocol>\\<side>``):
    ``enabled`` and ``disabled_by_default`` as DWORDs, None when the value is not set (the OS
    default then applies)."""

    protocol: str
    side: str
    enabled: int | None
    disabled_by_default: int | None


@dataclass(frozen=True)
class DotNetCryptoSetting:
    """The .NET Framework 4 strong-crypto values of one registry view (``key`` is
    ``SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319`` or its ``Wow6432Node`` twin):
    SchUseStrongCrypto and SystemDefaultTlsVersions as DWORDs, None when not set."""

    key: str
    sch_use_strong_crypto: int | None
    system_default_tls_versions: int | None


@dataclass(frozen=True)
class WapConfiguration:
    """Get-WebApplicationProxyConfiguration on a proxy, and what the collector saw of the farm:
    ``adfs_url`` (the federation service the proxy is registered with), ``connected_servers``,
    ``proxy_trust_thumbprint`` (the proxy-trust certificate WAP authenticates to AD FS with; its
    store entry is in ``AdfsServer.certificates`` with role "proxy-trust"), and
    ``farm_reachable`` / ``farm_detail``: whether the proxy could fetch the farm's federation
    metadata when the collector ran (HTTP status or the error)."""

    adfs_url: str | None
    connected_servers: tuple[str, ...] = ()
    proxy_trust_thumbprint: str | None = None
    farm_reachable: bool | None = None
    farm_detail: str | None = None


@dataclass(frozen=True)
class AdfsServer:
    """One server's export (an AD FS federation server or a Web Application Proxy).

    Attributes:
        source: the export file.
        role: :data:`ROLE_ADFS`, :data:`ROLE_WAP` or None when the export does not say.
        computer_name / dns_host_name / domain: NetBIOS name, DNS host name and AD domain.
        collector_version / collected_at: from the export's header.
        os: the operating system; updates: Get-HotFix entries, newest first.
        adfs_version: the AD FS product (file) version on an AD FS server.
        sync_role: "PrimaryComputer" / "SecondaryComputer" (Get-AdfsSyncProperties, WID farms).
        services: adfssrv / appproxysvc.
        ssl_bindings: what AD FS / WAP is configured with and what http.sys (netsh) has.
        netsh_read: whether ``netsh http show sslcert`` was read (False = its output is missing).
        certificates: the configured certificates as found in the store.
        schannel / dotnet_crypto: protocol settings (None = not exported).
        wap: the proxy configuration (proxies only).
        trusted_devices: thumbprints in LocalMachine\\AdfsTrustedDevices on an AD FS server, where
            AD FS keeps the proxies' proxy-trust certificates (None = not exported).
        problems: what was missing or unreadable in this server's export.
    """

    source: str
    role: str | None
    computer_name: str | None = None
    dns_host_name: str | None = None
    domain: str | None = None
    collector_version: str | None = None
    collected_at: datetime | None = None
    os: OperatingSystem | None = None
    updates: tuple[InstalledUpdate, ...] | None = None
    adfs_version: str | None = None
    sync_role: str | None = None
    services: tuple[ServiceState, ...] | None = None
    ssl_bindings: tuple[SslBinding, ...] | None = None
    netsh_read: bool = False
    certificates: tuple[StoredCertificate, ...] | None = None
    schannel: tuple[SchannelSetting, ...] | None = None
    dotnet_crypto: tuple[DotNetCryptoSetting, ...] | None = None
    wap: WapConfiguration | None = None
    trusted_devices: tuple[str, ...] | None = None
    problems: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How findings name the server: its DNS host name, else its computer name, else the file."""
        return self.dns_host_name or self.computer_name or self.source

    @property
    def described(self) -> bool:
        """True when the export describes the server itself (collector v2's Server section)."""
        return any(v is not None for v in (self.os, self.services, self.certificates, self.ssl_bindings,
                                           self.updates, self.schannel))

    def service(self, name: str) -> ServiceState | None:
        """The exported state of service ``name`` (case-insensitive), None when not exported."""
        return next((s for s in self.services or () if s.name.lower() == name.lower()), None)
