"""Facts read from the AD FS server exports: the JSON files the bundled PowerShell collector
(``adfs-readiness collector``) writes on each AD FS server and Web Application Proxy, from
Get-AdfsProperties, Get-AdfsCertificate, Get-AdfsEndpoint, Get-AdfsRelyingPartyTrust,
Get-AdfsClaimsProviderTrust, Get-AdfsFarmInformation and Get-AdfsAuthenticationProvider (the farm's
configuration, the same on every node) and, from collector v2 on, what each server knows about
itself (:mod:`adfs_readiness.facts.adfs_servers`).

Fact key: :data:`ADFS_EXPORT_FACT` (:class:`AdfsExport`). Imports only from
:mod:`adfs_readiness.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adfs_readiness.facts import CertificateInfo, ProbeError
from adfs_readiness.facts.adfs_servers import AdfsServer
from adfs_readiness.facts.claim_rules import ClaimRuleSet

__all__ = [
    "ADFS_EXPORT_FACT",
    "AdfsProperties",
    "AdfsCertificateEntry",
    "AdfsEndpointEntry",
    "AdfsTrust",
    "AdfsFarm",
    "AdfsFarmNode",
    "AuthenticationProvider",
    "AdfsExport",
    "AZURE_MFA_PROVIDER",
]

#: Get-AdfsAuthenticationProvider's name of the built-in Azure (Entra) MFA adapter (AD FS 2016+).
AZURE_MFA_PROVIDER = "AzureMfaAuthentication"

#: Fact key of :class:`AdfsExport`.
ADFS_EXPORT_FACT = "adfs_export"


@dataclass(frozen=True)
class AdfsProperties:
    """The Get-AdfsProperties values the adfs.* checks read (None = absent or unreadable; the
    export's ``problems`` say which). ``log_level`` is the LogLevel list; enum values are kept as
    their names (the collector writes names; a number from a raw ConvertTo-Json under Windows
    PowerShell 5.1 is kept as its digits and reported as a problem)."""

    hostname: str | None = None
    identifier: str | None = None
    auto_certificate_rollover: bool | None = None
    certificate_generation_threshold: int | None = None
    certificate_promotion_threshold: int | None = None
    enable_extranet_lockout: bool | None = None
    extranet_lockout_threshold: int | None = None
    extranet_lockout_mode: str | None = None
    extranet_observation_window: str | None = None
    log_level: tuple[str, ...] | None = None
    extended_protection_token_check: str | None = None
    artifact_db_connection: str | None = None
    https_port: int | None = None
    tls_client_port: int | None = None


@dataclass(frozen=True)
class AdfsCertificateEntry:
    """One Get-AdfsCertificate entry: ``certificate_type`` ("Token-Signing", "Token-Decrypting",
    "Service-Communications"), ``is_primary``, ``thumbprint`` (upper-case hex) and the decoded
    ``certificate`` (None when the export carried no certificate bytes). ``store_location`` /
    ``store_name`` say where AD FS finds it ("LocalMachine" / "My"); both empty for a certificate
    AD FS generated and keeps in its configuration database (automatic rollover)."""

    certificate_type: str
    is_primary: bool | None
    thumbprint: str | None
    certificate: CertificateInfo | None = None
    store_location: str | None = None
    store_name: str | None = None


@dataclass(frozen=True)
class AdfsEndpointEntry:
    """One Get-AdfsEndpoint entry: ``address_path`` (e.g. /adfs/services/trust/13/windowstransport),
    ``enabled`` and ``proxy`` (published through the Web Application Proxy), ``protocol``."""

    address_path: str
    enabled: bool | None
    proxy: bool | None
    protocol: str | None = None


@dataclass(frozen=True)
class AdfsTrust:
    """A relying-party or claims-provider trust: ``kind`` ("relying_party"/"claims_provider"),
    ``name``, ``identifiers``, ``enabled``, ``signature_algorithm`` (URI) and the certificates
    the trust holds (request-signing / encryption for a relying party, token-signing for a claims
    provider) with the property they came from. ``issuance_rules`` are its issuance transform rules
    parsed (None when the export does not carry them: collector v1)."""

    kind: str
    name: str
    identifiers: tuple[str, ...]
    enabled: bool | None
    signature_algorithm: str | None = None
    certificates: tuple[tuple[str, CertificateInfo], ...] = ()
    issuance_rules: ClaimRuleSet | None = None


@dataclass(frozen=True)
class AdfsFarmNode:
    """One Get-AdfsFarmInformation farm node: ``fqdn``, ``behavior_level`` (the highest farm
    behavior level its Windows Server version supports) and ``node_type`` (PrimaryComputer /
    SecondaryComputer)."""

    fqdn: str
    behavior_level: int | None = None
    node_type: str | None = None


@dataclass(frozen=True)
class AuthenticationProvider:
    """One Get-AdfsAuthenticationProvider entry: ``name`` (e.g. "AzureMfaAuthentication",
    "FormsAuthentication"), ``display_name``, ``is_custom``; ``in_global_policy`` says whether the
    global authentication policy (Get-AdfsGlobalAuthenticationPolicy) lists it as an additional or
    primary provider (None = the policy was not exported)."""

    name: str
    display_name: str | None = None
    is_custom: bool | None = None
    in_global_policy: bool | None = None


@dataclass(frozen=True)
class AdfsFarm:
    """Get-AdfsFarmInformation: ``behavior_level`` (CurrentFarmBehavior), the ``nodes``' FQDNs and
    the configuration database: "WID" or "SQL" (from the ArtifactDbConnection of the properties),
    None when unknown."""

    behavior_level: int | None
    nodes: tuple[str, ...]
    database: str | None
    node_details: tuple[AdfsFarmNode, ...] = ()


@dataclass(frozen=True)
class AdfsExport:
    """The AD FS export fact (key ``adfs_export``).

    Attributes:
        configured: False when no export file is given (``--adfs-export`` / ``[adfs] export``).
        source: the file the farm configuration was read from (the first AD FS server's export).
        collector_version / collected_at / computer_name: from that file's header (None for a
            hand-made file).
        properties / certificates / endpoints / relying_parties / claims_providers / farm:
            the sections; None for a section the file lacks (it is then listed in ``problems``).
        authentication_providers: Get-AdfsAuthenticationProvider (None = not exported).
        servers: every export given, one per AD FS server or proxy (collector v2 adds what each
            server knows about itself; a v1 file gives a server with only its name).
        sources: every file read.
        problems: what was wrong: unreadable file, missing sections or fields, unknown field
            values, numbers where names were expected (prefixed with the file when several).
        local_failures: files this machine could not read (ProbeError of kind ``local``): the
            checks reading the export are then "not determined", not failed (engine/local_failures.py).
    """

    configured: bool
    source: str | None = None
    collector_version: str | None = None
    collected_at: datetime | None = None
    computer_name: str | None = None
    properties: AdfsProperties | None = None
    certificates: tuple[AdfsCertificateEntry, ...] | None = None
    endpoints: tuple[AdfsEndpointEntry, ...] | None = None
    relying_parties: tuple[AdfsTrust, ...] | None = None
    claims_providers: tuple[AdfsTrust, ...] | None = None
    farm: AdfsFarm | None = None
    authentication_providers: tuple[AuthenticationProvider, ...] | None = None
    servers: tuple[AdfsServer, ...] = ()
    sources: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    local_failures: tuple[ProbeError, ...] = ()
