"""Sample AD FS exports for the lab and the tests, shaped like the bundled collector's output
(which is ConvertTo-Json of Get-AdfsProperties, Get-AdfsCertificate, Get-AdfsEndpoint,
Get-AdfsRelyingPartyTrust, Get-AdfsClaimsProviderTrust and Get-AdfsFarmInformation with the
property names Microsoft documents for those cmdlets), with switches for each finding.

``windows_powershell_raw=True`` writes what a plain ``ConvertTo-Json`` under Windows PowerShell
5.1 gives instead of the collector's normalised values: enums as numbers and DateTime as
``"\\/Date(ms)\\/"``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adfs_readiness.lab.endpoints_lab import DEFAULT_ENDPOINTS
from adfs_readiness.lab.pki import LabCertificate, LabPki

__all__ = ["adfs_export_document", "write_adfs_export"]


def _ms_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"


def _cert(cert: LabCertificate) -> dict[str, Any]:
    return {"RawData": base64.b64encode(cert.der).decode("ascii"), "Thumbprint": cert.sha1,
            "NotAfter": cert.cert.not_valid_after_utc.isoformat()}


def adfs_export_document(pki: LabPki, fs_name: str, token_signing: LabCertificate, *,
                         auto_certificate_rollover: bool = True, o365_trust: str = "ok",
                         extranet_lockout: bool = True, extranet_lockout_threshold: int = 5,
                         log_level: tuple[str, ...] = ("Errors", "FailureAudits", "Information", "Verbose",
                                                       "SuccessAudits", "Warnings"),
                         extended_protection: str = "Allow", windowstransport_proxy: bool = False,
                         trust_certificate_days_left: float = 200, nodes: int = 2, relying_parties: int = 3,
                         database: str = "WID", windows_powershell_raw: bool = False,
                         drop_sections: tuple[str, ...] = ()) -> dict[str, Any]:
    """The export as a JSON-ready dict. ``o365_trust``: "ok", "missing", "disabled" or "sha1".
    ``trust_certificate_days_left``: days left of a partner's request-signing certificate."""
    now = pki.now
    partner = pki.token_certificate("signing", "partner.fabrikam.test", now - timedelta(days=300),
                                    now + timedelta(days=trust_certificate_days_left))
    connection = ("Data Source=np:\\\\.\\pipe\\microsoft##wid\\tsql\\query;Initial Catalog=AdfsArtifactStore;"
                  "Integrated Security=True" if database == "WID" else
                  "Data Source=sql01.corp.contoso.test;Initial Catalog=AdfsArtifactStore;Integrated Security=True")
    properties: dict[str, Any] = {
        "HostName": fs_name, "Identifier": f"http://{fs_name}/adfs/services/trust",
        "AutoCertificateRollover": auto_certificate_rollover, "CertificateGenerationThreshold": 20,
        "CertificatePromotionThreshold": 5, "EnableExtranetLockout": extranet_lockout,
        "ExtranetLockoutThreshold": extranet_lockout_threshold,
        "ExtranetLockoutMode": 3 if windows_powershell_raw else "AdfsSmartLockoutEnforce",
        "ExtranetObservationWindow": "00:30:00", "LogLevel": list(log_level),
        "ExtendedProtectionTokenCheck": 1 if windows_powershell_raw else extended_protection,
        "ArtifactDbConnection": connection}
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
            "RequestSigningCertificate": [], "EncryptionCertificate": []}
    trusts = [] if o365_trust == "missing" else [o365]
    for index in range(relying_parties - len(trusts)):
        trusts.append({"Name": f"App {index}", "Identifier": [f"https://app{index}.contoso.test/"], "Enabled": True,
                       "SignatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                       "RequestSigningCertificate": [_cert(partner)] if index == 0 else [], "EncryptionCertificate": []})
    document = {
        "CollectorVersion": "1",
        "CollectedAt": _ms_date(now) if windows_powershell_raw else now.isoformat(),
        "ComputerName": "ADFS1",
        "Properties": properties,
        "Certificates": [{"CertificateType": "Token-Signing", "IsPrimary": True, "Thumbprint": token_signing.sha1,
                          "Certificate": _cert(token_signing)}],
        "Endpoints": endpoints,
        "RelyingPartyTrusts": trusts,
        "ClaimsProviderTrusts": [{"Name": "Active Directory", "Identifier": ["AD AUTHORITY"], "Enabled": True,
                                  "SignatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                  "TokenSigningCertificates": [], "EncryptionCertificate": []}],
        "FarmInformation": {"CurrentFarmBehavior": 4,
                            "FarmNodes": [{"FQDN": f"adfs{i + 1}.corp.contoso.test"} for i in range(nodes)]},
    }
    for section in drop_sections:
        document.pop(section, None)
    return document


def write_adfs_export(path: Path, document: dict[str, Any]) -> Path:
    """Write ``document`` as ConvertTo-Json + Out-File -Encoding utf8 would (UTF-8 with a BOM under
    Windows PowerShell 5.1; the slash of ``/Date(`` escaped as ``\\/``)."""
    text = json.dumps(document, indent=4).replace("/Date(", "\\/Date(").replace(")/\"", ")\\/\"")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return path
