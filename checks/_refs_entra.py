"""References of the endpoints, cloud and adfs check modules: the Microsoft Learn pages (seen
through the project's search tool) and RFCs the rules come from. Frozen dataclasses: sharing them
shares no mutable state."""

from __future__ import annotations

from adfs_readiness.api import Reference

REF_ADFS_REQUIREMENTS = Reference(
    "AD FS requirements (load balancer health probe /adfs/probe)",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/overview/ad-fs-requirements")
REF_SECURING_ADFS = Reference(
    "Best practices for securing Active Directory Federation Services",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/deployment/best-practices-securing-ad-fs")
REF_SET_ADFSENDPOINT = Reference("Set-AdfsEndpoint", "https://learn.microsoft.com/en-us/powershell/module/adfs/set-adfsendpoint")
REF_DISABLE_ADFSENDPOINT = Reference(
    "Disable-AdfsEndpoint", "https://learn.microsoft.com/powershell/module/adfs/disable-adfsendpoint?view=windowsserver2025-ps")
REF_SET_ADFSPROPERTIES = Reference(
    "Set-AdfsProperties", "https://learn.microsoft.com/en-us/powershell/module/adfs/set-adfsproperties")
REF_EXTRANET_LOCKOUT = Reference(
    "AD FS Extranet Lockout and Extranet Smart Lockout",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/configure-ad-fs-extranet-smart-lockout-protection")
REF_INTERNAL_DOMAIN_FEDERATION = Reference(
    "internalDomainFederation resource type (Microsoft Graph)",
    "https://learn.microsoft.com/en-us/graph/api/resources/internaldomainfederation")
REF_GET_MG_FEDERATION = Reference(
    "Get-MgDomainFederationConfiguration",
    "https://learn.microsoft.com/powershell/module/microsoft.graph.identity.directorymanagement/get-mgdomainfederationconfiguration")
REF_MULTIPLE_DOMAINS = Reference(
    "Multiple domain support for federating with Microsoft Entra ID",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-install-multiple-domains")
REF_RENEW_FEDERATION_CERTS = Reference(
    "Renew federation certificates for Microsoft 365 and Microsoft Entra ID",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-fed-o365-certs")
REF_ENTRA_TRUST = Reference(
    "Manage AD FS trust with Microsoft Entra ID using Microsoft Entra Connect",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-azure-ad-trust")
REF_TS_TD_CERTS = Reference(
    "Obtain and configure TS and TD certificates for AD FS",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/configure-ts-td-certs-ad-fs")
REF_HTTP_DATE = Reference("RFC 9110 section 6.6.1: Date", "https://www.rfc-editor.org/rfc/rfc9110#section-6.6.1")
REF_OIDC_DISCOVERY = Reference("OpenID Connect Discovery 1.0",
                               "https://openid.net/specs/openid-connect-discovery-1_0.html")
REF_UPDATE_MG_FEDERATION = Reference(
    "Update-MgDomainFederationConfiguration (Microsoft Graph PowerShell)",
    "https://learn.microsoft.com/powershell/module/microsoft.graph.identity.directorymanagement/"
    "update-mgdomainfederationconfiguration")
