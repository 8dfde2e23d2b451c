"""Facts read from the AD FS server export: the JSON file the bundled PowerShell collector
(``adfs-readiness collector``) writes from Get-AdfsProperties, Get-AdfsCertificate,
Get-AdfsEndpoint, Get-AdfsRelyingPartyTrust, Get-AdfsClaimsProviderTrust and
Get-AdfsFarmInformation.

Fact key: :data:`ADFS_EXPORT_FACT` (:class:`AdfsExport`). Imports only from
:mod:`adfs_readiness.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adfs_readiness.facts import CertificateInfo

__all__ = [
    "ADFS_EXPORT_FACT",
    "AdfsProperties",
    "AdfsCertificateEntry",
    "AdfsEndpointEntry",
    "AdfsTrust",
    "AdfsFarm",
    "AdfsExport",
]

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


@dataclass(frozen=True)
class AdfsCertificateEntry:
    """One Get-AdfsCertificate entry: ``certificate_type`` ("Token-Signing", "Token-Decrypting",
    "Service-Communications"), ``is_primary``, ``thumbprint`` (upper-case hex) and the decoded
    ``certificate`` (None when the export carried no certificate bytes)."""

    certificate_type: str
    is_primary: bool | None
    thumbprint: str | None
    certificate: CertificateInfo | None = None


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
    provider) with the property they came from."""

    kind: str
    name: str
    identifiers: tuple[str, ...]
    enabled: bool | None
    signature_algorithm: str | None = None
    certificates: tuple[tuple[str, CertificateInfo], ...] = ()


@dataclass(frozen=True)
class AdfsFarm:
    """Get-AdfsFarmInformation: ``behavior_level`` (CurrentFarmBehavior), the ``nodes``' FQDNs and
    the configuration database: "WID" or "SQL" (from the ArtifactDbConnection of the properties),
    None when unknown."""

    behavior_level: int | None
    nodes: tuple[str, ...]
    database: str | None


@dataclass(frozen=True)
class AdfsExport:
    """The AD FS export fact (key ``adfs_export``).

    Attributes:
        configured: False when no export file is given (``--adfs-export`` / ``[adfs] export``).
        source: the file path.
        collector_version / collected_at / computer_name: from the collector's header (None for
            a hand-made file).
        properties / certificates / endpoints / relying_parties / claims_providers / farm:
            the sections; None for a section the file lacks (it is then listed in ``problems``).
        problems: what was wrong: unreadable file, missing sections or fields, unknown field
            values, numbers where names were expected.
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
    problems: tuple[str, ...] = ()
