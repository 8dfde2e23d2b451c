"""Helpers and references shared by the adfs.* check modules (private to ``adfs_readiness_checks``):
reading the export fact, picking the servers of a role, and the Microsoft pages the server-side
rules come from. Nothing here does I/O or reads a clock."""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import CannotDetermine, CheckContext, Outcome, Reference, Status
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT, AdfsExport
from adfs_readiness.facts.adfs_servers import AdfsServer

__all__ = ["export_of", "need", "NO_EXPORT", "servers_of", "REF_CONNECT_HEALTH_ALERTS", "REF_MANAGE_SSL",
           "REF_NETSH_HTTP", "REF_ADFS_TOOLBOX", "REF_WAP_INSTALL", "REF_UPGRADE_FBL", "REF_TLS_ADFS",
           "REF_TLS_ENTRA", "REF_TLS_DISABLEMENT", "REF_AZURE_MFA", "REF_CLAIM_RULE_LANGUAGE",
           "REF_DESIGN_CONCEPTS", "REF_ADFS_REQUIREMENTS", "REF_LIFECYCLE_POLICY"]

NO_EXPORT = Outcome(Status.SKIP, "No AD FS export is given (--adfs-export FILE; write it with the collector: "
                                 "adfs-readiness collector > collect-adfs.ps1).")

REF_CONNECT_HEALTH_ALERTS = Reference(
    "Microsoft Entra Connect Health alert catalog (AD FS alerts)",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-health-alert-catalog")
REF_MANAGE_SSL = Reference(
    "Manage SSL certificates in AD FS and WAP",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/manage-ssl-certificates-ad-fs-wap")
REF_NETSH_HTTP = Reference("Netsh commands for HTTP (show sslcert)",
                           "https://learn.microsoft.com/en-us/windows/win32/http/netsh-commands-for-http")
REF_ADFS_TOOLBOX = Reference("Microsoft adfsToolbox: Test-AdfsServerHealth (TestSslBindings, "
                             "TestComputerNameEqFarmName, TestProxyTrustPropagation)",
                             "https://github.com/microsoft/adfsToolbox")
REF_WAP_INSTALL = Reference(
    "Install-WebApplicationProxy (re-establishes the proxy trust)",
    "https://learn.microsoft.com/en-us/powershell/module/webapplicationproxy/install-webapplicationproxy")
REF_UPGRADE_FBL = Reference(
    "Upgrade an AD FS farm: farm behavior levels",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/deployment/upgrading-to-ad-fs-in-windows-server")
REF_TLS_ADFS = Reference(
    "Managing SSL/TLS protocols and cipher suites for AD FS",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/manage-ssl-protocols-in-ad-fs")
REF_TLS_ENTRA = Reference(
    "TLS 1.2 enforcement for Microsoft Entra Connect (the SchUseStrongCrypto registry values)",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/reference-connect-tls-enforcement")
REF_TLS_DISABLEMENT = Reference(
    "TLS 1.0 and 1.1 disablement in Windows (disabled by default in releases after September 2023)",
    "https://learn.microsoft.com/en-us/windows/whats-new/deprecated-features-resources")
REF_AZURE_MFA = Reference(
    "Configure Azure MFA as authentication provider with AD FS (certificate renewal)",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/configure-ad-fs-and-azure-mfa")
REF_CLAIM_RULE_LANGUAGE = Reference(
    "The Role of the Claim Rule Language",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/technical-reference/the-role-of-the-claim-rule-language")
REF_DESIGN_CONCEPTS = Reference(
    "Microsoft Entra Connect: design concepts (sourceAnchor, ms-DS-ConsistencyGuid)",
    "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/plan-connect-design-concepts")
REF_ADFS_REQUIREMENTS = Reference(
    "AD FS requirements",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/overview/ad-fs-requirements")
REF_LIFECYCLE_POLICY = Reference("Microsoft Fixed Lifecycle Policy",
                                 "https://learn.microsoft.com/en-us/lifecycle/policies/fixed")


def export_of(ctx: CheckContext) -> AdfsExport | None:
    """The export fact, or None when no export was given (the check then skips)."""
    export: AdfsExport = ctx.fact(ADFS_EXPORT_FACT)
    return export if export.configured else None


def need(value: Any, what: str, export: AdfsExport) -> Any:
    """``value``, or CannotDetermine naming what the export does not say."""
    if value is None:
        raise CannotDetermine(f"The AD FS export ({export.source}) does not say {what}.",
                              {"problems": list(export.problems)})
    return value


def servers_of(export: AdfsExport, role: str | None = None, *, need_section: str = "its own configuration"
               ) -> list[AdfsServer]:
    """The servers of ``role`` (None = every role) whose export has a Server section (collector v2).
    Raises CannotDetermine when none has: a v1 export says nothing about the servers themselves."""
    servers = [s for s in export.servers if (role is None or s.role == role) and s.described]
    if not servers:
        kinds = {"adfs": "AD FS server", "wap": "Web Application Proxy"}.get(role or "", "server")
        raise CannotDetermine(f"No {kinds} export carries {need_section} (a Server section): run the bundled "
                              f"collector v2 on each AD FS server and Web Application Proxy and give all the files "
                              f"(--adfs-export, repeatable, or a folder).",
                              {"sources": list(export.sources), "roles": [s.role for s in export.servers]})
    return servers
