"""Sample AD FS exports for the lab and the tests, shaped like the bundled collector's output: the
farm's configuration (Get-AdfsProperties, Get-AdfsCertificate, Get-AdfsEndpoint,
Get-AdfsRelyingPartyTrust with its IssuanceTransformRules, Get-AdfsClaimsProviderTrust,
Get-AdfsFarmInformation, Get-AdfsAuthenticationProvider, Get-AdfsGlobalAuthenticationPolicy, with
the property names Microsoft documents for those cmdlets) and, for collector v2, each server's own
``Server`` section (:mod:`adfs_readiness.lab.adfs_server_samples`), with switches for each finding.

:func:`write_adfs_export` writes a document the way the collector's ``ConvertTo-Json | Out-File
-Encoding utf8`` does under Windows PowerShell 5.1 (``shape="ps51"``: UTF-8 with a BOM, CRLF,
four-space indentation with two spaces after the colon, ``<>&'`` escaped as ``\\u003c``...,
``/Date(`` escaped as ``\\/Date(``) or PowerShell 7 (``shape="ps7"``: no BOM, two-space
indentation). ``windows_powershell_raw=True`` writes what a plain ``ConvertTo-Json`` under Windows
PowerShell 5.1 gives instead of the collector's normalised values: enums as numbers and DateTime
as ``"\\/Date(ms)\\/"``.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adfs_readiness.lab.adfs_server_samples import ServerSwitches, server_section
from adfs_readiness.lab.endpoints_lab import DEFAULT_ENDPOINTS
from adfs_readiness.lab.pki import LabCertificate, LabPki

__all__ = ["adfs_export_document", "wap_export_document", "write_adfs_export", "o365_issuance_rules",
           "MFA_TENANT_ID", "ServerSwitches", "mfa_certificate", "demo_exports", "DEMO_MFA"]

#: The state of the demo farm's Azure MFA adapter certificate (see :func:`demo_exports`).
DEMO_MFA = "ok"

#: The lab tenant the Azure MFA adapter certificate is made for (CN=<tenant id>).
MFA_TENANT_ID = "6babcaad-604b-40ac-a9d7-9fd97c0b779f"
_UPN = "http://schemas.xmlsoap.org/claims/UPN"
_IMMUTABLE_ID = "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"
_WINDOWS_ACCOUNT = "http://schemas.microsoft.com/ws/2008/06/identity/claims/windowsaccountname"
_USER_FROM_ACCOUNT = 'regexreplace(c.Value, "(?<domain>[^\\\\]+)\\\\(?<user>.+)", "${user}")'


def o365_issuance_rules(kind: str = "consistencyguid") -> str:
    """The Microsoft Office 365 Identity Platform trust's issuance transform rules as Entra Connect
    writes them (https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-fed-management:
    "Issuance transform rules set by Microsoft Entra Connect"), or a broken variant:
    "consistencyguid" (ms-DS-ConsistencyGuid, objectGUID when empty), "objectguid" (the older
    set), "no-immutableid", "no-upn", "mail-upn" (UPN from mail: alternate login ID), "employeeid"
    (ImmutableID from employeeID), "invalid" (not claim rule language)."""
    upn_attribute = "mail" if kind == "mail-upn" else "userPrincipalName"
    upn = (f'@RuleName = "Issue UPN"\r\nc:[Type == "{_WINDOWS_ACCOUNT}"]\r\n => issue(store = "Active Directory", '
           f'types = ("{_UPN}"), query = "samAccountName={{0}};{upn_attribute};{{1}}", param = {_USER_FROM_ACCOUNT}, '
           f'param = c.Value);\r\n\r\n')
    consistency = (
        f'@RuleName = "Query objectguid and msdsconsistencyguid for custom ImmutableId claim"\r\n'
        f'c:[Type == "{_WINDOWS_ACCOUNT}"]\r\n => add(store = "Active Directory", types = '
        f'("http://schemas.microsoft.com/ws/2016/02/identity/claims/objectguid", '
        f'"http://schemas.microsoft.com/ws/2016/02/identity/claims/msdsconsistencyguid"), query = '
        f'"samAccountName={{0}};objectGUID,mS-DS-ConsistencyGuid;{{1}}", param = {_USER_FROM_ACCOUNT}, param = c.Value);'
        f'\r\n\r\n@RuleName = "Check for the existence of msdsconsistencyguid"\r\nNOT EXISTS([Type == '
        f'"http://schemas.microsoft.com/ws/2016/02/identity/claims/msdsconsistencyguid"])\r\n => add(Type = '
        f'"urn:federation:tmp/idflag", Value = "useguid");\r\n\r\n'
        f'@RuleName = "Issue msdsconsistencyguid as Immutable ID if it exists"\r\nc:[Type == '
        f'"http://schemas.microsoft.com/ws/2016/02/identity/claims/msdsconsistencyguid"]\r\n => issue(Type = '
        f'"{_IMMUTABLE_ID}", Value = c.Value);\r\n\r\n'
        f'@RuleName = "Issue objectGuidRule if msdsConsistencyGuid rule does not exist"\r\nc1:[Type == '
        f'"urn:federation:tmp/idflag", Value =~ "useguid"]\r\n && c2:[Type == '
        f'"http://schemas.microsoft.com/ws/2016/02/identity/claims/objectguid"]\r\n => issue(Type = '
        f'"{_IMMUTABLE_ID}", Value = c2.Value);\r\n\r\n')
    attribute = "employeeID" if kind == "employeeid" else "objectGUID"
    single = (f'@RuleName = "Issue Immutable ID"\r\nc:[Type == "{_WINDOWS_ACCOUNT}"]\r\n => issue(store = '
              f'"Active Directory", types = ("{_IMMUTABLE_ID}"), query = "samAccountName={{0}};{attribute};{{1}}", '
              f'param = {_USER_FROM_ACCOUNT}, param = c.Value);\r\n\r\n')
    name_id = (f'@RuleName = "Issue nameidentifier"\r\nc:[Type == "{_IMMUTABLE_ID}"]\r\n => issue(Type = '
               f'"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", Value = c.Value, '
               f'Properties["http://schemas.xmlsoap.org/ws/2005/05/identity/claimproperties/format"] = '
               f'"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified");\r\n\r\n')
    rest = ('@RuleTemplate = "PassThroughClaims"\r\n@RuleName = "Pass through claim - insideCorporateNetwork"\r\n'
            'c:[Type == "http://schemas.microsoft.com/ws/2012/01/insidecorporatenetwork"]\r\n => issue(claim = c);\r\n')
    if kind == "invalid":
        return upn + 'c:[Type == "x" => issue(claim = c);\r\n'
    if kind == "no-upn":
        upn = ""
    immutable = {"consistencyguid": consistency, "no-immutableid": ""}.get(kind, single)
    if kind in ("mail-upn", "no-upn"):
        immutable = consistency
    return upn + immutable + name_id + rest


def _ms_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"


def _cert(cert: LabCertificate) -> dict[str, Any]:
    return {"RawData": base64.b64encode(cert.der).decode("ascii"), "Thumbprint": cert.sha1,
            "NotAfter": cert.cert.not_valid_after_utc.isoformat()}


def mfa_certificate(pki: LabPki, state: str) -> LabCertificate:
    """The Azure MFA adapter certificate New-AdfsAzureMfaTenantCertificate makes: self-signed,
    subject CN=<tenant id>, OU=Microsoft AD FS Azure MFA, two years. ``state``: "ok" (400 days
    left), "expiring" (20), "expired" (-5), or "expired-stale" (the one before it, expired a year
    ago). The same ``pki`` and state give the same certificate."""
    days_left = {"ok": 400.0, "expiring": 20.0, "expired": -5.0, "expired-stale": -330.0}.get(state, 400.0)
    return pki.self_signed(MFA_TENANT_ID, pki.now - timedelta(days=730 - days_left), pki.now + timedelta(days=days_left),
                           organizational_unit="Microsoft AD FS Azure MFA",
                           key_slot="azure-mfa-stale" if state == "expired-stale" else "azure-mfa")




def adfs_export_document(pki: LabPki, fs_name: str, token_signing: LabCertificate, *,
                         auto_certificate_rollover: bool = True, o365_trust: str = "ok",
                         extranet_lockout: bool = True, extranet_lockout_threshold: int = 5,
                         extranet_lockout_mode: str = "AdfsSmartLockoutEnforce",
                         log_level: tuple[str, ...] = ("Errors", "FailureAudits", "Information", "Verbose",
                                                       "SuccessAudits", "Warnings"),
                         extended_protection: str = "Allow", windowstransport_proxy: bool = False,
                         trust_certificate_days_left: float = 200, nodes: int = 2, relying_parties: int = 3,
                         database: str = "WID", windows_powershell_raw: bool = False,
                         drop_sections: tuple[str, ...] = (), claim_rules: str = "consistencyguid",
                         farm_behavior_level: int = 4, node_levels: tuple[int, ...] | None = None,
                         server: ServerSwitches | None = ServerSwitches(), collector_version: str = "2",
                         ssl_certificate: LabCertificate | None = None) -> dict[str, Any]:
    """An AD FS server's export as a JSON-ready dict. ``o365_trust``: "ok", "missing", "disabled"
    or "sha1"; ``claim_rules``: see :func:`o365_issuance_rules`; ``trust_certificate_days_left``:
    days left of a partner's request-signing certificate; ``server``: the Server section's
    switches (None = a collector v1 export without one)."""
    now = pki.now
    partner = pki.token_certificate("signing", "partner.fabrikam.test", now - timedelta(days=300),
                                    now + timedelta(days=trust_certificate_days_left))
    ssl = ssl_certificate or pki.issue_tls([fs_name, f"certauth.{fs_name}"])
    decrypting = pki.token_certificate("encryption", fs_name, now - timedelta(days=100), now + timedelta(days=265))
    connection = ("Data Source=np:\\\\.\\pipe\\microsoft##wid\\tsql\\query;Initial Catalog=AdfsArtifactStore;"
                  "Integrated Security=True" if database == "WID" else
                  "Data Source=sql01.corp.contoso.test;Initial Catalog=AdfsArtifactStore;Integrated Security=True")
    properties: dict[str, Any] = {
        "HostName": fs_name, "Identifier": f"http://{fs_name}/adfs/services/trust",
        "AutoCertificateRollover": auto_certificate_rollover, "CertificateGenerationThreshold": 20,
        "CertificatePromotionThreshold": 5, "EnableExtranetLockout": extranet_lockout,
        "ExtranetLockoutThreshold": extranet_lockout_threshold,
        "ExtranetLockoutMode": 3 if windows_powershell_raw else extranet_lockout_mode,
        "ExtranetObservationWindow": "00:30:00", "LogLevel": list(log_level),
        "ExtendedProtectionTokenCheck": 1 if windows_powershell_raw else extended_protection,
        "ArtifactDbConnection": connection, "HttpsPort": 443, "TlsClientPort": 49443}
    endpoints = [{"AddressPath": path, "Enabled": state != "disabled",
                  "Proxy": state == "proxied" or (windowstransport_proxy and "windowstransport" in path),
                  "Protocol": "WS-Trust 2005" if "/2005/" in path else "WS-Trust 1.3" if "/13/" in path
                  else "SAML 2.0/WS-Federation"}
                 for path, state in DEFAULT_ENDPOINTS.items()]
    endpoints.append({"AddressPath": "/FederationMetadata/2007-06/FederationMetadata.xml", "Enabled": True, "Proxy": True,
                      "Protocol": "Federation Metadata"})
    o365 = {"Name": "Microsoft Office 365 Identity Platform", "Identifier": ["urn:federation:MicrosoftOnline"],
            "Enabled": o365_trust != "disabled",
            "SignatureAlgorithm": "http://www.w3.org/2000/09/xmldsig#rsa-sha1" if o365_trust == "sha1"
            else "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "RequestSigningCertificate": [], "EncryptionCertificate": [],
            "IssuanceTransformRules": o365_issuance_rules(claim_rules)}
    trusts = [] if o365_trust == "missing" else [o365]
    for index in range(relying_parties - len(trusts)):
        trusts.append({"Name": f"App {index}", "Identifier": [f"https://app{index}.contoso.test/"], "Enabled": True,
                       "SignatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                       "RequestSigningCertificate": [_cert(partner)] if index == 0 else [], "EncryptionCertificate": [],
                       "IssuanceTransformRules": 'c:[Type == "http://schemas.xmlsoap.org/claims/UPN"] => issue(claim = c);'})
    stored = "" if auto_certificate_rollover else "LocalMachine"
    certificates = [
        {"CertificateType": "Token-Signing", "IsPrimary": True, "Thumbprint": token_signing.sha1,
         "Certificate": _cert(token_signing), "StoreLocation": stored, "StoreName": "My" if stored else ""},
        {"CertificateType": "Token-Decrypting", "IsPrimary": True, "Thumbprint": decrypting.sha1,
         "Certificate": _cert(decrypting), "StoreLocation": stored, "StoreName": "My" if stored else ""},
        {"CertificateType": "Service-Communications", "IsPrimary": True, "Thumbprint": ssl.sha1,
         "Certificate": _cert(ssl), "StoreLocation": "LocalMachine", "StoreName": "My"}]
    levels = node_levels or tuple(farm_behavior_level for _ in range(nodes))
    providers = [{"Name": "FormsAuthentication", "DisplayName": "Forms Authentication", "IsCustom": False},
                 {"Name": "WindowsAuthentication", "DisplayName": "Windows Authentication", "IsCustom": False},
                 {"Name": "CertificateAuthentication", "DisplayName": "Certificate Authentication", "IsCustom": False}]
    additional: list[str] = []
    mfa_state = server.azure_mfa if server is not None else "none"
    if mfa_state != "none":
        providers.append({"Name": "AzureMfaAuthentication", "DisplayName": "Azure Multi-Factor Authentication",
                          "IsCustom": False})
        additional.append("AzureMfaAuthentication")
    document: dict[str, Any] = {
        "CollectorVersion": collector_version,
        "CollectedAt": _ms_date(now) if windows_powershell_raw else now.isoformat(),
        "ComputerName": server.computer_name if server is not None else "ADFS1",
        "Role": "AdfsServer",
        "Properties": properties,
        "Certificates": certificates,
        "Endpoints": endpoints,
        "RelyingPartyTrusts": trusts,
        "ClaimsProviderTrusts": [{"Name": "Active Directory", "Identifier": ["AD AUTHORITY"], "Enabled": True,
                                  "SignatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                  "TokenSigningCertificates": [], "EncryptionCertificate": []}],
        "FarmInformation": {"CurrentFarmBehavior": farm_behavior_level,
                            "FarmNodes": [{"FQDN": f"adfs{i + 1}.corp.contoso.test", "BehaviorLevel": level,
                                           "NodeType": "PrimaryComputer" if i == 0 else "SecondaryComputer"}
                                          for i, level in enumerate(levels)]},
        "AuthenticationProviders": providers,
        "GlobalAuthenticationPolicy": {"AdditionalAuthenticationProvider": additional,
                                       "PrimaryExtranetAuthenticationProvider": ["FormsAuthentication"],
                                       "PrimaryIntranetAuthenticationProvider": ["WindowsAuthentication",
                                                                                 "FormsAuthentication"]},
    }
    if collector_version == "1":
        for key in ("Role", "AuthenticationProviders", "GlobalAuthenticationPolicy"):
            document.pop(key)
        for trust in trusts:
            trust.pop("IssuanceTransformRules", None)
    if server is not None and collector_version != "1":
        other_ssl = pki.issue_tls([fs_name], key_slot="tls-stale")
        tokens = [("token-signing", token_signing, True), ("token-decrypting", decrypting, True)]
        mfa = mfa_certificate(pki, mfa_state) if mfa_state in ("ok", "expiring", "expired") else None
        document["Server"] = server_section(server, role="AdfsServer", now=now, fs_name=fs_name, ssl=ssl,
                                            other_ssl=other_ssl, token_certificates=tokens,
                                            managed_by_adfs=auto_certificate_rollover, mfa_certificate=mfa)
    for section in drop_sections:
        document.pop(section, None)
    if windows_powershell_raw:
        _raw_dates(document)
    return document


def _raw_dates(document: dict[str, Any]) -> None:
    """Dates the way a raw Windows PowerShell 5.1 ConvertTo-Json writes DateTime values."""
    for update in (document.get("Server") or {}).get("Updates", []):
        moment = datetime.fromisoformat(update["InstalledOn"])
        update["InstalledOn"] = _ms_date(moment)


def wap_export_document(pki: LabPki, fs_name: str, *, server: ServerSwitches | None = None,
                        ssl_certificate: LabCertificate | None = None,
                        windows_powershell_raw: bool = False) -> tuple[dict[str, Any], LabCertificate]:
    """A Web Application Proxy's export and its proxy-trust certificate (CN=ADFS ProxyTrust -
    <computer name>, self-signed for two weeks and renewed by WAP, as Install-WebApplicationProxy
    makes it)."""
    switches = server or ServerSwitches(computer_name="WAP1", dns_host_name="wap1.dmz.contoso.test",
                                        certauth_binding=True)
    now = pki.now
    days = switches.proxy_trust_days_left
    proxy_trust = pki.self_signed(f"ADFS ProxyTrust - {switches.computer_name}", now - timedelta(days=14 - days),
                                  now + timedelta(days=days), key_slot="proxy-trust")
    ssl = ssl_certificate or pki.issue_tls([fs_name, f"certauth.{fs_name}"])
    other_ssl = pki.issue_tls([fs_name], key_slot="tls-stale")
    document = {"CollectorVersion": "2", "CollectedAt": _ms_date(now) if windows_powershell_raw else now.isoformat(),
                "ComputerName": switches.computer_name, "Role": "WebApplicationProxy",
                "Server": server_section(switches, role="WebApplicationProxy", now=now, fs_name=fs_name, ssl=ssl,
                                         other_ssl=other_ssl, token_certificates=[], managed_by_adfs=True,
                                         proxy_trust=proxy_trust, service_account="LocalSystem")}
    if windows_powershell_raw:
        _raw_dates(document)
    return document, proxy_trust


def _ps51_json(document: Any) -> str:
    # Windows PowerShell 5.1's ConvertTo-Json: four-space indentation, two spaces after the colon,
    # <, >, & and ' escaped (JavaScriptSerializer), and "\/Date(...)\/".
    text = json.dumps(document, indent=4, ensure_ascii=False).replace('": ', '":  ')
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")
    text = re.sub(r'"/Date\((-?\d+)\)/"', r'"\\/Date(\1)\\/"', text)
    return text.replace("\n", "\r\n")


def write_adfs_export(path: Path, document: dict[str, Any], shape: str = "ps51") -> Path:
    """Write ``document`` as ``ConvertTo-Json -Depth 8 | Out-File -Encoding utf8`` does under
    Windows PowerShell 5.1 (``shape="ps51"``, the default: a BOM, CRLF, its spacing and escapes)
    or PowerShell 7 (``"ps7"``: no BOM, two-space indentation)."""
    if shape == "ps7":
        path.write_bytes(json.dumps(document, indent=2, ensure_ascii=False).replace("\n", "\r\n").encode("utf-8"))
    else:
        path.write_bytes(b"\xef\xbb\xbf" + _ps51_json(document).encode("utf-8"))
    return path


def with_server(switches: ServerSwitches, **changes: Any) -> ServerSwitches:
    """A copy of ``switches`` with some changed (a convenience for tests)."""
    return replace(switches, **changes)


def demo_exports(lab: Any, folder: Path, *, leftovers: bool | None = None) -> Path:
    """The demo farm's exports, written into ``folder`` (returned): the primary AD FS node
    (Windows PowerShell 5.1 shape) and the Web Application Proxy (PowerShell 7 shape), for the lab's
    federation service, certificates and Azure MFA adapter. Like a real farm the "demo" scenario's
    exports carry a few problems on purpose (``leftovers``; default: the lab's scenario is "demo"):
    the newest update on the AD FS node is 75 days old, Extranet Smart Lockout only logs, the farm
    behavior level was not raised after the move to Windows Server 2019, and the proxy still
    accepts TLS 1.0. The fault scenarios get the same farm without them, so that each shows its own
    fault (and "healthy" is READY)."""
    if leftovers is None:
        leftovers = getattr(getattr(lab, "scenario", None), "name", "demo") == "demo"
    folder.mkdir(parents=True, exist_ok=True)
    material = lab.material
    proxy = ServerSwitches(computer_name="WAP1", dns_host_name="wap1.dmz.contoso.test",
                           tls10="enabled" if leftovers else "disabled")
    wap, proxy_trust = wap_export_document(lab.pki, lab.fs_name, server=proxy,
                                           ssl_certificate=material.proxy_tls[0] if material.proxy_tls else material.tls)
    node = ServerSwitches(newest_update_days=75 if leftovers else 20, azure_mfa=DEMO_MFA,
                          trusted_devices=(proxy_trust.sha1,))
    write_adfs_export(folder / "adfs1.json", adfs_export_document(
        lab.pki, lab.fs_name, material.token_signing[0], server=node, ssl_certificate=material.tls,
        extranet_lockout_mode="AdfsSmartLockoutLogOnly" if leftovers else "AdfsSmartLockoutEnforce",
        farm_behavior_level=3 if leftovers else 4, node_levels=(4, 4)), shape="ps51")
    write_adfs_export(folder / "wap1.json", wap, shape="ps7")
    return folder
