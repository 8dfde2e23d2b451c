"""The demo: the built-in lab started on loopback, checked end to end, graded.

What runs: the STS simulator of one federation service (a lab scenario, see
:mod:`adfs_readiness.lab.scenarios`) with its farm nodes and proxy, the lab DNS server with an
internal and an external view, a lab Entra ID (realm discovery, OIDC discovery, a token endpoint
and Graph's domain federation configuration), an AD FS server export, and — where Samba is installed and network namespaces are
available (root on Linux) — a throwaway Samba AD domain controller with the directory area's seed
data. Without Samba the demo says so and the directory checks are skipped.

The DC lives in a private network namespace (its LDAP ports cannot be moved), so when it runs the
whole demo — labs and engine — runs inside that namespace (``SambaDcInfo.run_in_network``).
Nothing ever leaves the machine.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from adfs_readiness.config import Config, DirectoryConfig, Scope
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.model import RunResult

__all__ = ["DemoRun", "run_demo", "DEMO_LDAP_PASSWORD_ENV", "DEMO_GRAPH_SECRET_ENV"]

#: The environment variable the demo puts the lab DC's throwaway password in (the directory probe
#: reads passwords from the environment, never from the configuration).
DEMO_LDAP_PASSWORD_ENV = "ADFS_READINESS_LAB_LDAP_PASSWORD"
#: ... and the lab Graph app registration's client secret.
DEMO_GRAPH_SECRET_ENV = "ADFS_READINESS_LAB_GRAPH_SECRET"


@dataclass(frozen=True)
class DemoRun:
    """A finished demo run: the graded ``result`` and ``notes`` for the admin (one line each)."""

    result: RunResult
    notes: tuple[str, ...]


def run_demo(registry: CheckRegistry, probes: dict[str, Any], scenario: str, *, deadline_seconds: float,
             as_of: datetime | None = None, with_directory: bool = True,
             log: Callable[[str], None] = lambda line: None) -> DemoRun:
    """Start the labs, run every check against them, stop the labs; return the result.

    ``scenario`` is a preset name of the STS lab; ``as_of`` judges expiry at another date (the lab's
    certificates are made relative to the real clock). ``with_directory`` starts the Samba DC when
    it can; ``log`` receives progress lines (the DC takes a few seconds to provision).
    """
    from adfs_readiness.lab import Lab
    from adfs_readiness.lab.dns_lab import DnsLab

    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="adfs-readiness-lab-") as tmp:
        workdir = Path(tmp)
        dc, info = (_start_directory_lab(workdir, datetime.now(timezone.utc), notes, log) if with_directory
                    else (None, None))
        if not with_directory:
            notes.append("Directory area: not started (--no-directory); its checks are skipped.")

        def run() -> RunResult:
            # The lab's clock starts here, after the DC (which takes seconds): the simulators'
            # Date headers and the run's clock then agree.
            lab_now = datetime.now(timezone.utc)
            # The demo tenant's deliberate leftovers (DNS, AD FS exports) belong to "demo"; each
            # fault scenario shows its own fault (and "healthy" nothing).
            leftovers = scenario == "demo"
            with Lab(scenario, now=lab_now, workdir=workdir / "sts") as lab, \
                    DnsLab(internal_zones=_internal_zones(info, leftovers), leftovers=leftovers) as dns_lab, \
                    _cloud_lab(lab, workdir) as cloud:
                # Entra ID's side comes from the lab's Graph (app credentials), the AD FS side from an
                # export shaped like the bundled collector's.
                os.environ[cloud.secret_env] = cloud.client_secret
                export = _adfs_export(lab, workdir)
                # The lab's Entra Connect anchors on ms-DS-ConsistencyGuid (its default), as an admin
                # states it in [adfs] source_anchor for adfs.o365-claim-rules.
                config = lab.config(source=f"demo lab ({scenario})", deadline_seconds=deadline_seconds,
                                    timeout_seconds=min(5.0, deadline_seconds / 3),
                                    adfs_export=export, adfs_source_anchor="ms-DS-ConsistencyGuid",
                                    **cloud.config_changes(graph=True))
                # The lab's internal and external DNS views (demo zones of contoso.test).
                config = config.with_overrides(**dns_lab.config_fragment())
                if scenario != "demo":
                    # Fault scenarios serve a certificate for the service name only: keep certificate
                    # authentication and device registration out of scope so each shows its own fault.
                    config = config.with_overrides(scope=Scope())
                config = _with_directory(config, info)
                return run_checks(registry, probes, config, as_of or lab_now, started_at=lab_now,
                                  run_metadata={"lab_scenario": scenario, "lab_address": str(lab.address),
                                                "lab_dns_internal": str(dns_lab.internal.address),
                                                "lab_dns_external": str(dns_lab.external.address),
                                                "lab_directory": info.dc_host if info else None})

        try:
            result = info.run_in_network(run) if info is not None else run()
        finally:
            if dc is not None:
                dc.stop()
            for name in (DEMO_LDAP_PASSWORD_ENV, DEMO_GRAPH_SECRET_ENV):
                os.environ.pop(name, None)
    return DemoRun(result=result, notes=tuple(notes))


def _cloud_lab(lab: Any, workdir: Path) -> Any:
    """The lab's Entra ID: realm discovery says contoso.test is federated with the lab's service,
    and Graph holds the token-signing certificates AD FS publishes (primary, and the successor as
    nextSigningCertificate during a rollover) and the Azure MFA adapter's certificate on the Azure
    Multi-Factor Auth Client service principal (next to an expired one nobody removed)."""
    from adfs_readiness.facts.entra_mfa import AZURE_MFA_CLIENT_APP_ID
    from adfs_readiness.lab.adfs_samples import DEMO_MFA, mfa_certificate
    from adfs_readiness.lab.cloud_lab import CloudDomain, CloudLab, federation_configuration, key_credential

    signing = list(lab.material.token_signing)[:2]
    federation = federation_configuration("contoso.test", lab.fs_name, *signing)
    credentials = [key_credential(mfa_certificate(lab.pki, "expired-stale")), key_credential(mfa_certificate(lab.pki, DEMO_MFA))]
    return CloudLab(lab.pki, workdir / "cloud", secret_env=DEMO_GRAPH_SECRET_ENV,
                    domains={"contoso.test": CloudDomain("federated", auth_host=lab.fs_name, federation=federation)},
                    service_principals={AZURE_MFA_CLIENT_APP_ID: credentials})


def _adfs_export(lab: Any, workdir: Path) -> Path:
    """The AD FS side of the lab farm as `collect-adfs.ps1` writes it on each server: a folder with
    the primary AD FS node's export (Windows PowerShell 5.1) and the proxy's (PowerShell 7)."""
    from adfs_readiness.lab.adfs_samples import demo_exports

    return demo_exports(lab, workdir / "adfs-exports")


def _start_directory_lab(workdir: Path, now: datetime, notes: list[str],
                         log: Callable[[str], None]) -> tuple[Any, Any]:
    """Provision, seed and start the Samba DC, or say why not. Returns (dc, info) or (None, None)."""
    from adfs_readiness.lab.samba import SambaDc, netns_missing_reason, samba_missing_reason
    from adfs_readiness.lab.samba_seed import seed_contoso

    reason = samba_missing_reason() or netns_missing_reason()
    if reason:
        notes.append(f"Directory area: no Samba AD lab on this machine ({reason}); its checks are skipped.")
        return None, None
    log("Starting a throwaway Samba AD domain controller for the directory area (a few seconds)...")
    dc = SambaDc(workdir / "samba")
    try:
        dc.provision()
        seed_contoso(dc, now)
        info = dc.start()
    except Exception as exc:  # the demo goes on without the directory, and says why
        dc.stop()
        notes.append(f"Directory area: the Samba AD lab did not start ({type(exc).__name__}: {exc}); "
                     f"its checks are skipped.")
        return None, None
    os.environ[DEMO_LDAP_PASSWORD_ENV] = info.admin_password
    notes.append(f"Directory area: Samba AD domain controller {info.dc_host} ({info.realm}) on loopback.")
    return dc, info


def _internal_zones(info: Any, leftovers: bool = True) -> Any:
    """The shipped internal zones, plus the lab DC's A record when it runs (None = shipped only)."""
    if info is None:
        return None
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    from adfs_readiness.lab.dns_lab import load_view_zones

    zones = load_view_zones("internal", leftovers=leftovers)
    host = info.dc_host.lower().rstrip(".")
    for zone in zones:
        origin = zone.origin.to_text(omit_final_dot=True).lower()
        if host.endswith("." + origin):
            with zone.writer() as txn:
                txn.add(dns.name.from_text(host), 300,
                        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.A, info.address))
            return zones
    return zones


def _with_directory(config: Config, info: Any) -> Config:
    if info is None:
        return config.with_overrides(skip_checks=tuple(config.skip_checks) + ("directory.*",))
    return config.with_overrides(directory=DirectoryConfig(
        server=f"ldaps://{info.dc_host}", base_dn="OU=Lab,DC=contoso,DC=test", bind_user=info.admin_upn,
        ca_bundle=Path(info.ca_pem), service_account="gmsa-adfs", password_env=DEMO_LDAP_PASSWORD_ENV,
        ad_domain=config.directory.ad_domain, forest_root=config.directory.forest_root))
