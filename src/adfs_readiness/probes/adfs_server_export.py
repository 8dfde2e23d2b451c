"""Reading the ``Server`` section of a collector v2 export (what one AD FS server or Web
Application Proxy knows about itself) into :class:`~adfs_readiness.facts.adfs_servers.AdfsServer`,
and parsing ``netsh http show sslcert``.

netsh's labels are localised ("Hostname:port", "Hostname:Port", "Nom d'hôte:port", ...), so the
parser recognises each value by its shape rather than its label: a binding is ``host:port``,
``ip:port`` or a bare port (central certificate store), a certificate hash is 40 hex digits, an
application id a braced GUID; the CTL store is read from the English label when present, else
recognised by the name AD FS uses (AdfsTrustedDevices). Output format:
https://learn.microsoft.com/windows/win32/http/netsh-commands-for-http (show sslcert).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from adfs_readiness.facts.adfs_servers import (
    ROLE_ADFS,
    ROLE_WAP,
    AdfsServer,
    DotNetCryptoSetting,
    InstalledUpdate,
    KeyAccessEntry,
    OperatingSystem,
    SchannelSetting,
    ServiceState,
    SslBinding,
    StoredCertificate,
    WapConfiguration,
)
from adfs_readiness.probes._export_json import ExportReader, items

__all__ = ["read_server_section", "parse_netsh_sslcert", "role_of", "MAX_NETSH_LINES"]

#: netsh output beyond this many lines is not parsed (a server has a few dozen bindings).
MAX_NETSH_LINES = 20000

_HASH = re.compile(r"^[0-9A-Fa-f]{40}$")
_GUID = re.compile(r"^\{[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}$")
_ROLES = {"adfsserver": ROLE_ADFS, "adfs": ROLE_ADFS, "federationserver": ROLE_ADFS,
          "webapplicationproxy": ROLE_WAP, "wap": ROLE_WAP, "proxy": ROLE_WAP}
# ServiceControllerStatus / AccessControlType numbers, as a raw Windows PowerShell 5.1 ConvertTo-Json
# writes them (https://learn.microsoft.com/dotnet/api/system.serviceprocess.servicecontrollerstatus).
_SERVICE_STATES = {1: "Stopped", 2: "Start Pending", 3: "Stop Pending", 4: "Running", 5: "Continue Pending",
                   6: "Pause Pending", 7: "Paused"}
_ACCESS_TYPES = {0: "Allow", 1: "Deny"}


def role_of(value: Any) -> str | None:
    """The export's Role ("AdfsServer", "WebApplicationProxy") as ROLE_ADFS / ROLE_WAP; None when
    absent or unknown."""
    if not isinstance(value, str):
        return None
    return _ROLES.get(re.sub(r"[^a-z]", "", value.lower()))


def _split_binding(value: str) -> tuple[str | None, int | None, str]:
    """(host, port, kind) of a netsh binding value."""
    value = value.strip()
    if value.isdigit():
        return None, int(value), "ccs"
    host, _, port = value.rpartition(":")
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
        kind = "ip"
    except ValueError:
        kind = "hostname"
    return bare or None, int(port) if port.isdigit() else None, kind


def parse_netsh_sslcert(text: str) -> list[SslBinding]:
    """The bindings of ``netsh http show sslcert`` output (any display language). A block without
    a recognisable binding line is skipped; never raises."""
    bindings: list[SslBinding] = []
    lines = text.splitlines()[:MAX_NETSH_LINES]
    block: list[tuple[str, str]] = []

    def flush() -> None:
        if not block:
            return
        label, value = block[0]
        host, port, kind = _split_binding(value)
        if port is None and kind != "ccs":
            block.clear()
            return
        certificate_hash = next((v.upper() for _, v in block if _HASH.match(v)), None)
        application_id = next((v.lower() for _, v in block if _GUID.match(v)), None)
        ctl = next((v for k, v in block if k.lower().replace(" ", "") == "ctlstorename"), None)
        if ctl is None:
            ctl = next((v for _, v in block if v.lower() == "adfstrusteddevices"), None)
        ctl = None if ctl in (None, "(null)") else ctl
        bindings.append(SslBinding("netsh", value.strip(), host, port, kind, certificate_hash, application_id, ctl))
        block.clear()

    for line in lines:
        if " : " not in line and not line.rstrip().endswith(":"):
            # A blank line, a title or an underline: it ends the current binding's block.
            if not line.strip() or set(line.strip()) <= {"-", "="}:
                flush()
            continue
        label, _, value = line.partition(" : ") if " : " in line else (line.rstrip(": "), "", "")
        label, value = label.strip(), value.strip()
        if not block and not re.search(r":\d+$|^\d+$", value):
            continue  # not a binding's first line (e.g. the "SSL Certificate bindings:" title)
        block.append((label, value))
    flush()
    return bindings


class _ServerReader:
    def __init__(self, r: ExportReader, where: str) -> None:
        self.r, self.where = r, where

    def operating_system(self, s: dict) -> OperatingSystem | None:
        o = self.r.section(s, "OperatingSystem", self.where)
        if o is None:
            self.r.problem(f"{self.where}: no OperatingSystem")
            return None
        w = f"{self.where}.OperatingSystem"
        return OperatingSystem(caption=self.r.text(o, "Caption", w), version=self.r.text(o, "Version", w),
                               build=self.r.integer(o, "BuildNumber", w), ubr=self.r.integer(o, "UBR", w),
                               installation_type=self.r.text(o, "InstallationType", w))

    def services(self, s: dict) -> tuple[ServiceState, ...] | None:
        listed = self.r.listing(s, "Services", self.where)
        if listed is None:
            self.r.problem(f"{self.where}: no Services")
            return None
        result = []
        for index, item in enumerate(listed):
            w = f"{self.where}.Services[{index}]"
            name = self.r.text(item, "Name", w)
            if not name:
                self.r.problem(f"{w}: no Name")
                continue
            state: Any = item.get("state")
            if isinstance(state, int) and not isinstance(state, bool):
                self.r.problem(f"{w}.State is the number {state} (ServiceControllerStatus); re-run the bundled "
                               f"collector")
                state = _SERVICE_STATES.get(state, str(state))
            result.append(ServiceState(name=name, present=self.r.boolean(item, "Present", w) if "present" in item
                                       else True,
                                       state=state if isinstance(state, str) else None,
                                       start_mode=self.r.text(item, "StartMode", w),
                                       account=self.r.text(item, "StartName", w)))
        return tuple(result)

    def updates(self, s: dict) -> tuple[InstalledUpdate, ...] | None:
        listed = self.r.listing(s, "Updates", self.where)
        if listed is None:
            self.r.problem(f"{self.where}: no Updates (Get-HotFix)")
            return None
        result = []
        for index, item in enumerate(listed):
            w = f"{self.where}.Updates[{index}]"
            hotfix = self.r.text(item, "HotFixID", w)
            if hotfix:
                result.append(InstalledUpdate(hotfix, self.r.text(item, "Description", w),
                                              self.r.date(item, "InstalledOn", w)))
        # Newest first; undated entries last.
        result.sort(key=lambda u: (u.installed_on is None, -(u.installed_on.timestamp() if u.installed_on else 0)))
        return tuple(result)

    def ssl_bindings(self, s: dict) -> tuple[tuple[SslBinding, ...] | None, bool]:
        b = self.r.section(s, "SslBindings", self.where)
        if b is None:
            self.r.problem(f"{self.where}: no SslBindings")
            return None, False
        w = f"{self.where}.SslBindings"
        result: list[SslBinding] = []
        for key, source in (("Adfs", "adfs"), ("Wap", "wap")):
            for index, item in enumerate(self.r.listing(b, key, w) or ()):
                hostname = self.r.text(item, "HostName", f"{w}.{key}[{index}]")
                port = self.r.integer(item, "PortNumber", f"{w}.{key}[{index}]")
                thumbprint = self.r.text(item, "CertificateHash", f"{w}.{key}[{index}]")
                address = f"{hostname}:{port}" if hostname else f"*:{port}"
                result.append(SslBinding(source, address, hostname, port, "hostname",
                                         thumbprint.upper().replace(" ", "") if thumbprint else None))
        netsh = b.get("netsh")
        netsh_read = isinstance(netsh, (str, list))
        if isinstance(netsh, list):
            netsh = "\n".join(str(line) for line in netsh)
        if isinstance(netsh, str):
            result.extend(parse_netsh_sslcert(netsh))
        else:
            self.r.problem(f"{w}: no Netsh output (netsh http show sslcert)")
        return tuple(result), netsh_read

    def certificates(self, s: dict) -> tuple[StoredCertificate, ...] | None:
        listed = self.r.listing(s, "Certificates", self.where)
        if listed is None:
            self.r.problem(f"{self.where}: no Certificates (the configured certificates in the store)")
            return None
        result = []
        for index, item in enumerate(listed):
            w = f"{self.where}.Certificates[{index}]"
            role, thumbprint = self.r.text(item, "Role", w), self.r.text(item, "Thumbprint", w)
            if not role or not thumbprint:
                self.r.problem(f"{w}: no Role or Thumbprint")
                continue
            access = None
            if item.get("keyaccess") is not None:
                access = tuple(self._access_rule(rule, f"{w}.KeyAccess[{i}]")
                               for i, rule in enumerate(self.r.listing(item, "KeyAccess", w) or ()))
            cert = self.r.certificate(item["certificate"], w) if item.get("certificate") is not None else None
            result.append(StoredCertificate(
                role=role.lower(), thumbprint=thumbprint.upper().replace(" ", ""),
                is_primary=self.r.boolean(item, "IsPrimary", w),
                managed_by_adfs=bool(self.r.boolean(item, "ManagedByAdfs", w)),
                in_store=self.r.boolean(item, "InStore", w), has_private_key=self.r.boolean(item, "HasPrivateKey", w),
                key_provider=self.r.text(item, "KeyProvider", w), key_file=self.r.text(item, "KeyFile", w),
                key_access=access, key_access_error=self.r.text(item, "KeyAccessError", w), certificate=cert))
        return tuple(result)

    def _access_rule(self, rule: dict, w: str) -> KeyAccessEntry:
        access: Any = rule.get("accesscontroltype")
        if isinstance(access, int) and not isinstance(access, bool):
            access = _ACCESS_TYPES.get(access, str(access))
        rights: Any = rule.get("filesystemrights")
        # A raw ConvertTo-Json writes FileSystemRights as its number: kept as digits, judged by bits.
        rights = str(rights) if isinstance(rights, (int, str)) and not isinstance(rights, bool) else ""
        return KeyAccessEntry(identity=self.r.text(rule, "IdentityReference", w) or "?", rights=rights,
                              access=access if isinstance(access, str) else "?",
                              inherited=self.r.boolean(rule, "IsInherited", w))

    def schannel(self, s: dict) -> tuple[SchannelSetting, ...] | None:
        listed = self.r.listing(s, "Schannel", self.where)
        if listed is None:
            self.r.problem(f"{self.where}: no Schannel settings")
            return None
        result = []
        for index, item in enumerate(listed):
            w = f"{self.where}.Schannel[{index}]"
            protocol, side = self.r.text(item, "Protocol", w), self.r.text(item, "Side", w)
            if protocol and side:
                result.append(SchannelSetting(protocol, side, self.r.integer(item, "Enabled", w),
                                              self.r.integer(item, "DisabledByDefault", w)))
        return tuple(result)

    def dotnet(self, s: dict) -> tuple[DotNetCryptoSetting, ...] | None:
        listed = self.r.listing(s, "DotNetStrongCrypto", self.where)
        if listed is None:
            self.r.problem(f"{self.where}: no DotNetStrongCrypto settings")
            return None
        return tuple(DotNetCryptoSetting(self.r.text(i, "Key", self.where) or "?",
                                         self.r.integer(i, "SchUseStrongCrypto", self.where),
                                         self.r.integer(i, "SystemDefaultTlsVersions", self.where)) for i in listed)

    def wap(self, s: dict) -> WapConfiguration | None:
        p = self.r.section(s, "WebApplicationProxy", self.where)
        if p is None:
            self.r.problem(f"{self.where}: no WebApplicationProxy configuration on a proxy")
            return None
        w = f"{self.where}.WebApplicationProxy"
        thumbprint = self.r.text(p, "ProxyTrustThumbprint", w)
        return WapConfiguration(adfs_url=self.r.text(p, "ADFSUrl", w),
                                connected_servers=self.r.text_list(p, "ConnectedServersName", w) or (),
                                proxy_trust_thumbprint=thumbprint.upper() if thumbprint else None,
                                farm_reachable=self.r.boolean(p, "FarmReachable", w),
                                farm_detail=self.r.text(p, "FarmDetail", w))


def read_server_section(r: ExportReader, top: dict, source: str, role: str | None) -> AdfsServer:
    """The AdfsServer of one export. ``top`` is the export's top level (lower-cased keys); a v1
    export (no Server section) gives a server with only its name, and says so in ``problems``."""
    version = top.get("collectorversion") if isinstance(top.get("collectorversion"), str) else None
    collected_at = r.date(top, "CollectedAt", "header")
    name = top.get("computername") if isinstance(top.get("computername"), str) else None
    where = "Server"
    s = r.section(top, "Server", "export")
    if s is None:
        r.problem("the export has no Server section (collector v1, or a hand-made file): re-run the bundled "
                  "collector v2 on each AD FS server and proxy to judge them one by one")
        return AdfsServer(source=source, role=role, computer_name=name, collector_version=version,
                          collected_at=collected_at)
    sr = _ServerReader(r, where)
    bindings, netsh_read = sr.ssl_bindings(s)
    trusted = None
    if s.get("trusteddevices") is not None:
        trusted = tuple(str(t).upper() for t in items(s.get("trusteddevices")) if isinstance(t, str))
    return AdfsServer(
        source=source, role=role, computer_name=r.text(s, "ComputerName", where) or name,
        dns_host_name=r.text(s, "DnsHostName", where), domain=r.text(s, "Domain", where),
        collector_version=version, collected_at=collected_at,
        os=sr.operating_system(s), updates=sr.updates(s),
        adfs_version=r.text(s, "AdfsVersion", where) if role == ROLE_ADFS else None,
        sync_role=r.text(s, "SyncRole", where) if role == ROLE_ADFS else None,
        services=sr.services(s), ssl_bindings=bindings, netsh_read=netsh_read, certificates=sr.certificates(s),
        schannel=sr.schannel(s), dotnet_crypto=sr.dotnet(s), wap=sr.wap(s) if role == ROLE_WAP else None,
        trusted_devices=trusted)

