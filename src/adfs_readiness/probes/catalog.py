"""The probes the engine knows: the built-in ones, plus any a plugin registers under the
entry-point group ``adfs_readiness.probes`` (an entry point naming a ProbeSpec or a list of them).
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Callable

from adfs_readiness.facts import METADATA_FACT, FederationMetadata
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT, AdfsExport
from adfs_readiness.facts.cloud import (
    ENTRA_FEDERATION_FACT,
    REALM_FACT,
    EntraFederationFacts,
    RealmFacts,
)
from adfs_readiness.facts.directory import DIRECTORY_FACT, DirectoryFacts
from adfs_readiness.facts.dns import DNS_EXTERNAL_FACT, DNS_INTERNAL_FACT, DnsView
from adfs_readiness.facts.endpoints import ENDPOINTS_FACT, EndpointsFacts
from adfs_readiness.facts.entra_mfa import ENTRA_MFA_CLIENT_FACT, EntraMfaClient
from adfs_readiness.facts.sign_in import SIGN_IN_FACT, SignInFacts
from adfs_readiness.facts.tls import (
    CERTIFICATE_FILE_FACT,
    TLS_FACT,
    CertificateFile,
    TlsFacts,
)
from adfs_readiness.net import probe_time_limit
from adfs_readiness.probes import ProbeSpec
from adfs_readiness.probes.adfs_export import probe_adfs_export
from adfs_readiness.probes.cloud import probe_realm
from adfs_readiness.probes.directory import probe_directory
from adfs_readiness.probes.dns import (
    dns_probe_timeout,
    probe_dns_external,
    probe_dns_internal,
)
from adfs_readiness.probes.endpoints import probe_endpoints
from adfs_readiness.probes.entra import probe_entra_federation
from adfs_readiness.probes.entra_mfa import probe_entra_mfa_client
from adfs_readiness.probes.sign_in import probe_sign_in
from adfs_readiness.probes.metadata import probe_federation_metadata
from adfs_readiness.probes.recorded import recorded_or_live
from adfs_readiness.probes.tls_endpoints import probe_tls
from adfs_readiness.probes.tls_file import probe_certificate_file
from adfs_readiness.settings import Settings

__all__ = ["PROBE_ENTRY_POINT_GROUP", "builtin_probes", "all_probes", "fact_types"]

PROBE_ENTRY_POINT_GROUP = "adfs_readiness.probes"

log = logging.getLogger(__name__)

#: How to record the lab DC's directory facts again (said when a recording no longer decodes).
DIRECTORY_RERECORD = "sudo .venv/bin/python scripts/record_lab_directory.py  (needs Samba; see the script)"


def _operations(count: int) -> Callable[[Settings], float]:
    """A probe time limit of ``count`` network operations one after another (net.budget)."""
    return lambda config: probe_time_limit(config.network.timeout_seconds, operations=count)


def builtin_probes() -> dict[str, ProbeSpec]:
    """Fact key -> ProbeSpec for the probes shipped with adfs-readiness."""
    specs = [
        ProbeSpec(
            key=METADATA_FACT,
            function=probe_federation_metadata,
            # connect, read, and a redirect or the TLS chain capture, one after another.
            timeout=_operations(3),
            description="Federation metadata (FederationMetadata.xml): fetched or read, parsed, signature verified",
            fact_type=FederationMetadata,
        ),
        ProbeSpec(
            key=DNS_INTERNAL_FACT,
            function=probe_dns_internal,
            timeout=dns_probe_timeout,
            fact_type=DnsView,
            description="DNS, internal view: the federation service name, certauth, enterpriseregistration, AD SRV records",
        ),
        ProbeSpec(
            key=DNS_EXTERNAL_FACT,
            function=probe_dns_external,
            timeout=dns_probe_timeout,
            fact_type=DnsView,
            description="DNS, external view: the federation service name, Microsoft 365 records, SPF tree, CAA climb",
        ),
        ProbeSpec(
            key=TLS_FACT,
            function=probe_tls,
            fact_type=TlsFacts,
            # All handshakes run in parallel (connect + handshake each); a legacy-only server needs
            # a second round: connect, handshake, connect, handshake, and a spare.
            timeout=_operations(5),
            description="TLS: chain, verification (external/internal view) and protocol versions per "
                        "service name, node, proxy and certificate-authentication port",
        ),
        ProbeSpec(
            key=CERTIFICATE_FILE_FACT,
            function=probe_certificate_file,
            fact_type=CertificateFile,
            timeout=_operations(1),
            description="A certificate file (--certificate: PEM, DER or PFX) read and verified",
        ),
        ProbeSpec(
            key=DIRECTORY_FACT,
            # The demo lab without Samba replays a recording of its DC's facts (lab.directory_recording).
            function=recorded_or_live(probe_directory, DirectoryFacts, lambda config: config.lab.directory_recording,
                                      DIRECTORY_RERECORD),
            fact_type=DirectoryFacts,
            # A large directory streams for minutes: the scan is bounded by the run's deadline.
            timeout=lambda config: config.network.deadline_seconds,
            description="Active Directory over LDAP (read-only): bind, RootDSE, forest, accounts, streamed attribute scan",
        ),
        ProbeSpec(
            key=ENDPOINTS_FACT,
            function=probe_endpoints,
            fact_type=EndpointsFacts,
            # Each place's requests run in sequence (a dead place is asked once): the first connect
            # and read, then the rest of the answers, which arrive quickly from a live place.
            timeout=_operations(4),
            description="AD FS endpoints: passive, MEX, usernamemixed, windowstransport, IdP-initiated sign-on, "
                        "OpenID configuration through the external path; /adfs/probe per node; latency; Date headers",
        ),
        ProbeSpec(
            key=REALM_FACT,
            function=probe_realm,
            fact_type=RealmFacts,
            # Realm and OpenID discovery in parallel: connect, read, a redirect.
            timeout=_operations(3),
            description="Entra ID realm discovery (getuserrealm.srf) and OpenID Connect discovery per federated domain",
        ),
        ProbeSpec(
            key=ENTRA_FEDERATION_FACT,
            function=probe_entra_federation,
            fact_type=EntraFederationFacts,
            # The token request (connect, read), then Graph (connect, read).
            timeout=_operations(4),
            description="Entra federation settings per domain (Graph internalDomainFederation): exported JSON or "
                        "live Microsoft Graph",
        ),
        ProbeSpec(
            key=ADFS_EXPORT_FACT,
            function=probe_adfs_export,
            fact_type=AdfsExport,
            timeout=_operations(1),
            description="AD FS server exports (the bundled collector's JSON, one per AD FS server and proxy)",
        ),
        ProbeSpec(
            key=ENTRA_MFA_CLIENT_FACT,
            function=probe_entra_mfa_client,
            fact_type=EntraMfaClient,
            # The token (connect, read), then the service principal (connect, read).
            timeout=_operations(4),
            description="The Azure Multi-Factor Auth Client service principal's key credentials (live Microsoft Graph)",
        ),
        ProbeSpec(
            key=SIGN_IN_FACT,
            function=probe_sign_in,
            fact_type=SignInFacts,
            # The POST (connect, handshake, read), then the metadata GET (the same, plus a spare);
            # a password prompt waits for the admin.
            timeout=lambda config: _operations(7)(config) + (300 if config.sign_in_test.password_source == "prompt"
                                                           else 0),
            description="A real sign-in with the test account: WS-Trust 1.3 usernamemixed token request for "
                        "urn:federation:MicrosoftOnline through the external path, the assertion verified",
        ),
    ]
    return {s.key: s for s in specs}


def all_probes() -> dict[str, ProbeSpec]:
    """Built-in probes plus plugin probes; a plugin may not replace a built-in fact key."""
    probes = builtin_probes()
    for ep in entry_points(group=PROBE_ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
        except Exception:  # a broken plugin must not stop the built-in probes
            log.warning("probe entry point %s failed to load", ep.value, exc_info=True)
            continue
        for spec in loaded if isinstance(loaded, (list, tuple)) else [loaded]:
            if isinstance(spec, ProbeSpec) and spec.key not in probes:
                probes[spec.key] = spec
            else:
                log.warning("probe entry point %s: ignored %r (not a ProbeSpec, or a built-in key)", ep.value, spec)
    return probes


def fact_types(probes: dict[str, ProbeSpec] | None = None) -> dict[str, type]:
    """Fact key -> the dataclass its probe returns, for the probes that declare ``fact_type``
    (evidence snapshots decode facts with it). ``probes`` defaults to :func:`all_probes`."""
    probes = all_probes() if probes is None else probes
    return {key: spec.fact_type for key, spec in probes.items() if spec.fact_type is not None}
