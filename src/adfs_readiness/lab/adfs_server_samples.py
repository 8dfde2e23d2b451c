"""The ``Server`` section of sample collector v2 exports: what one AD FS server or Web Application
Proxy knows about itself, shaped like the collector's output of Microsoft's cmdlets and tools
(Win32_OperatingSystem, Win32_Service, Get-HotFix, Get-AdfsSslCertificate,
Get-WebApplicationProxySslCertificate, ``netsh http show sslcert``, the certificate store and
Get-Acl of the private key file, the SCHANNEL and .NET registry values,
Get-WebApplicationProxyConfiguration), with a switch for each finding the checks exist for.

:class:`ServerSwitches` holds the switches; :func:`server_section` builds the section.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adfs_readiness.lab.pki import LabCertificate

__all__ = ["ServerSwitches", "server_section", "netsh_sslcert_text", "ADFS_APPLICATION_ID", "BUILDS"]

#: http.sys application id of AD FS's bindings (adfsToolbox Constants.ps1).
ADFS_APPLICATION_ID = "{5d89a20c-beab-4389-9447-324788eb944a}"
#: Win32_OperatingSystem BuildNumber and Caption of the Windows Server versions AD FS runs on.
BUILDS = {"2008r2": (7601, "Microsoft Windows Server 2008 R2 Enterprise"),
          "2012r2": (9600, "Microsoft Windows Server 2012 R2 Datacenter"),
          "2016": (14393, "Microsoft Windows Server 2016 Datacenter"),
          "2019": (17763, "Microsoft Windows Server 2019 Datacenter"),
          "2022": (20348, "Microsoft Windows Server 2022 Datacenter"),
          "2025": (26100, "Microsoft Windows Server 2025 Datacenter")}


@dataclass(frozen=True)
class ServerSwitches:
    """What one sample server looks like; the defaults are a healthy Windows Server 2019 node.

    Attributes:
        os: a key of :data:`BUILDS`.
        newest_update_days: days since the newest update was installed (None = no update dated).
        service_state / service_start_mode: of adfssrv (AD FS) or appproxysvc (WAP); None = the
            service is not installed.
        ssl_binding: "ok", "missing" (no http.sys binding for the service name on 443),
            "other-certificate" (http.sys binds another certificate than AD FS is configured with) or
            "no-ctl" (the binding lacks the AdfsTrustedDevices CTL store), "ip-fallback" (no binding for
            the service name, only the IP fallback 0.0.0.0:443 with the configured certificate, as an
            admin adds for clients without SNI) or "ip-fallback-other" (that fallback with another
            certificate).
        certauth_binding: add the certificate-authentication binding (port 49443).
        key_access: the AD FS service account's access to the SSL certificate's private key: "ok",
            "missing" (no access rule for it), "denied" (a Deny rule), "group-only" (only a group the
            collector cannot resolve), "no-key" (the store entry has no private key), "not-in-store".
        tls10 / tls11 / tls12: "enabled" (Enabled=1, DisabledByDefault=0), "disabled" (0 / 1),
            "disabled-by-default" (Enabled=1, DisabledByDefault=1), "dbd-only" (only DisabledByDefault=1
            set), "enabled-only" (only Enabled=1 set) or "default" (no registry value: the OS default);
            ``tls12_client`` overrides TLS 1.2 on the client side (None = as ``tls12``).
        strong_crypto: SchUseStrongCrypto 1 (True), 0 (False) or unset (None).
        computer_name / dns_host_name: the server's names.
        sync_role: Get-AdfsSyncProperties' role (WID farms).
        proxy_trust_days_left: WAP: days left of the proxy-trust certificate.
        farm_reachable: WAP: whether the proxy fetched the farm's MEX when the collector ran.
        trusted_devices: AD FS: thumbprints in LocalMachine\\AdfsTrustedDevices.
        azure_mfa: "none" (not configured), or the MFA adapter certificate's state: "ok",
            "expiring" (20 days left), "expired", "missing" (the adapter is configured but the
            certificate is not in the store).
        raw_enums: write the service state and the key access rules as a raw ConvertTo-Json under
            Windows PowerShell 5.1 would (numbers), not as the collector's names.
    """

    os: str = "2019"
    newest_update_days: int | None = 20
    service_state: str | None = "Running"
    service_start_mode: str = "Auto"
    ssl_binding: str = "ok"
    certauth_binding: bool = True
    key_access: str = "ok"
    tls10: str = "disabled"
    tls11: str = "disabled"
    tls12: str = "enabled"
    tls12_client: str | None = None
    strong_crypto: bool | None = True
    computer_name: str = "ADFS1"
    dns_host_name: str = "adfs1.corp.contoso.test"
    sync_role: str = "PrimaryComputer"
    proxy_trust_days_left: float = 10
    farm_reachable: bool = True
    trusted_devices: tuple[str, ...] = ()
    azure_mfa: str = "none"
    raw_enums: bool = False


def _b64(cert: LabCertificate) -> dict[str, str]:
    return {"RawData": base64.b64encode(cert.der).decode("ascii")}


def netsh_sslcert_text(bindings: list[tuple[str, str, str | None]]) -> str:
    """``netsh http show sslcert`` output (English) for (binding, lower-case hash, CTL store)."""
    lines = ["", "SSL Certificate bindings:", "-------------------------", ""]
    for binding, thumbprint, ctl in bindings:
        label = "IP:port" if binding.split(":")[0].replace(".", "").isdigit() or binding.startswith("[") \
            else "Hostname:port"
        lines += [f"    {label:<29}: {binding}",
                  f"    Certificate Hash             : {thumbprint}",
                  f"    Application ID               : {ADFS_APPLICATION_ID}",
                  "    Certificate Store Name       : MY",
                  "    Verify Client Certificate Revocation : Enabled",
                  "    Verify Revocation Using Cached Client Certificate Only : Disabled",
                  "    Usage Check                  : Enabled",
                  "    Revocation Freshness Time    : 0",
                  "    URL Retrieval Timeout        : 0",
                  "    Ctl Identifier               : (null)",
                  f"    Ctl Store Name               : {ctl or '(null)'}",
                  "    DS Mapper Usage              : Disabled",
                  "    Negotiate Client Certificate : Disabled",
                  "    Reject Connections           : Disabled",
                  "    Disable HTTP2                : Not Set", ""]
    return "\r\n".join(lines)


def _key_access(switch: str, service_account: str, raw: bool) -> list[dict[str, Any]]:
    def rule(identity: str, rights: str, number: int, access: str = "Allow") -> dict[str, Any]:
        return {"IdentityReference": identity, "FileSystemRights": number if raw else rights,
                "AccessControlType": (0 if access == "Allow" else 1) if raw else access, "IsInherited": False}

    rules = [rule("NT AUTHORITY\\SYSTEM", "FullControl", 2032127), rule("BUILTIN\\Administrators", "FullControl", 2032127)]
    if service_account == "LocalSystem" and switch == "ok":
        return rules  # SYSTEM's own rule above is the service's
    if switch == "ok":
        rules.append(rule(service_account, "Read, Synchronize", 1179785))
    elif switch == "denied":
        rules.append(rule(service_account, "Read, Synchronize", 1179785, access="Deny"))
    elif switch == "group-only":
        rules.append(rule("CONTOSO\\ADFS Key Readers", "Read, Synchronize", 1179785))
    return rules


def _store_entry(role: str, cert: LabCertificate, *, key_access: str, service_account: str, raw: bool,
                 is_primary: bool | None = None) -> dict[str, Any]:
    in_store = key_access != "not-in-store"
    has_key = in_store and key_access != "no-key"
    return {"Role": role, "Thumbprint": cert.sha1, "IsPrimary": is_primary, "ManagedByAdfs": False,
            "InStore": in_store, "HasPrivateKey": has_key if in_store else None,
            "KeyProvider": "CNG" if has_key else None,
            "KeyFile": f"8c1f0ea5b7e7c0d0a1d1e6a7b2f9c3d4_{cert.sha1[:8].lower()}" if has_key else None,
            "KeyAccess": _key_access(key_access, service_account, raw) if has_key else None,
            "KeyAccessError": None, "Certificate": _b64(cert) if in_store else None}


def _schannel(s: ServerSwitches) -> list[dict[str, Any]]:
    rows = []
    for protocol, configured in (("TLS 1.0", s.tls10), ("TLS 1.1", s.tls11), ("TLS 1.2", s.tls12)):
        for side in ("Client", "Server"):
            state = s.tls12_client if protocol == "TLS 1.2" and side == "Client" and s.tls12_client else configured
            enabled, disabled_by_default = {"enabled": (1, 0), "disabled": (0, 1), "disabled-by-default": (1, 1),
                                            "dbd-only": (None, 1), "enabled-only": (1, None)}.get(state, (None, None))
            rows.append({"Protocol": protocol, "Side": side, "Enabled": enabled,
                         "DisabledByDefault": disabled_by_default})
    return rows


def server_section(s: ServerSwitches, *, role: str, now: datetime, fs_name: str, ssl: LabCertificate,
                   other_ssl: LabCertificate, token_certificates: list[tuple[str, LabCertificate, bool]],
                   managed_by_adfs: bool, proxy_trust: LabCertificate | None = None,
                   mfa_certificate: LabCertificate | None = None,
                   service_account: str = "CONTOSO\\gmsa-adfs$") -> dict[str, Any]:
    """The ``Server`` section of one export. ``role`` is "AdfsServer" or "WebApplicationProxy";
    ``ssl`` the SSL certificate AD FS / WAP is configured with, ``other_ssl`` the one http.sys
    binds instead under ``ssl_binding="other-certificate"``; ``token_certificates`` (type,
    certificate, is primary) are looked up in the store unless ``managed_by_adfs``."""
    build, caption = BUILDS[s.os]
    adfs = role == "AdfsServer"
    service_name = "adfssrv" if adfs else "appproxysvc"
    account = service_account if adfs else "LocalSystem"
    services = []
    if s.service_state is not None:
        state: Any = s.service_state
        if s.raw_enums:
            state = {"Running": 4, "Stopped": 1}.get(s.service_state, 1)
        services.append({"Name": service_name, "State": state, "StartMode": s.service_start_mode,
                         "StartName": account})
    else:
        services.append({"Name": service_name, "Present": False})
    bound = other_ssl if s.ssl_binding == "other-certificate" else ssl
    ctl = None if s.ssl_binding == "no-ctl" or not adfs else "AdfsTrustedDevices"
    netsh = [] if s.ssl_binding in ("missing", "ip-fallback", "ip-fallback-other") else [
        (f"{fs_name}:443", bound.sha1.lower(), ctl)]
    netsh.append(("localhost:443" if adfs else "0.0.0.0:443", ssl.sha1.lower(), ctl))
    if adfs and s.ssl_binding in ("ip-fallback", "ip-fallback-other"):
        fallback = other_ssl if s.ssl_binding == "ip-fallback-other" else ssl
        netsh.append(("0.0.0.0:443", fallback.sha1.lower(), ctl))
    configured = [{"HostName": fs_name, "PortNumber": 443, "CertificateHash": ssl.sha1},
                  {"HostName": "localhost", "PortNumber": 443, "CertificateHash": ssl.sha1}]
    if s.certauth_binding:
        netsh.append((f"{fs_name}:49443", ssl.sha1.lower(), None))
        configured.append({"HostName": fs_name, "PortNumber": 49443, "CertificateHash": ssl.sha1})
    certificates = [_store_entry("service-communications" if adfs else "wap-ssl", ssl, key_access=s.key_access,
                                 service_account=account, raw=s.raw_enums)]
    if adfs:
        for kind, cert, primary in token_certificates:
            if managed_by_adfs:
                certificates.append({"Role": kind, "Thumbprint": cert.sha1, "IsPrimary": primary, "ManagedByAdfs": True})
            else:
                certificates.append(_store_entry(kind, cert, key_access="ok", service_account=account,
                                                 raw=s.raw_enums, is_primary=primary))
        if s.azure_mfa != "none":
            if s.azure_mfa == "missing" or mfa_certificate is None:
                certificates.append({"Role": "azure-mfa", "Thumbprint": "0" * 40, "InStore": False})
            else:
                certificates.append(_store_entry("azure-mfa", mfa_certificate, key_access="ok",
                                                 service_account=account, raw=s.raw_enums))
    elif proxy_trust is not None:
        certificates.append(_store_entry("proxy-trust", proxy_trust, key_access="ok", service_account=account,
                                         raw=s.raw_enums))
    updates = [{"HotFixID": "KB5005112", "Description": "Update", "InstalledOn": (now - timedelta(days=900)).isoformat()}]
    if s.newest_update_days is not None:
        updates.insert(0, {"HotFixID": "KB5036896", "Description": "Security Update",
                           "InstalledOn": (now - timedelta(days=s.newest_update_days)).isoformat()})
    section: dict[str, Any] = {
        "ComputerName": s.computer_name, "DnsHostName": s.dns_host_name, "Domain": "corp.contoso.test",
        "OperatingSystem": {"Caption": caption, "Version": f"10.0.{build}" if build > 9600 else "6.3.9600",
                            "BuildNumber": str(build), "UBR": 5830, "InstallationType": "Server"},
        "Services": services, "Updates": updates,
        "SslBindings": {("Adfs" if adfs else "Wap"): configured, "Netsh": netsh_sslcert_text(netsh)},
        "Certificates": certificates, "Schannel": _schannel(s),
        "DotNetStrongCrypto": [{"Key": key, "SchUseStrongCrypto": None if s.strong_crypto is None else int(s.strong_crypto),
                                "SystemDefaultTlsVersions": None if s.strong_crypto is None else int(s.strong_crypto)}
                               for key in ("SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
                                           "SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v4.0.30319")]}
    if adfs:
        section["AdfsVersion"] = f"10.0.{build}.1" if build > 9600 else "6.3.9600.17238"
        section["SyncRole"] = s.sync_role
        section["TrustedDevices"] = list(s.trusted_devices)
    else:
        section["WebApplicationProxy"] = {
            "ADFSUrl": f"https://{fs_name}/adfs/ls", "ConnectedServersName": [s.dns_host_name],
            "ProxyTrustThumbprint": proxy_trust.sha1 if proxy_trust is not None else None,
            "FarmReachable": s.farm_reachable,
            "FarmDetail": "HTTP 200" if s.farm_reachable else
            "The remote server returned an error: (401) Unauthorized."}
    return section
