"""The whole demo lab in one object: the STS farm of a scenario, the DNS views, the lab Entra ID,
an AD FS server export, and the directory area — a throwaway Samba AD DC where Samba runs, else
a recording of that DC's facts (:mod:`adfs_readiness.probes.recorded`).

``adfs-readiness demo`` starts it, checks it once and stops it; ``adfs-readiness lab up`` keeps it
running in the background (:mod:`adfs_readiness.lab.background`) and writes the configuration that
checks it (:meth:`LabStack.config_toml`).

Where the DC runs: the demo puts it in a private network namespace (its LDAP ports cannot be moved;
the demo's checks join that namespace); a lab that other processes check (``lab up``) binds it to
the host's loopback (:data:`HOST_DC_ADDRESS`, ``bind interfaces only``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Literal

from adfs_readiness.settings import DirectorySettings, LabSettings, Scope, Settings

__all__ = ["LabStack", "DirectoryLab", "DirectoryMode", "start_directory", "packaged_recording", "lab_secret_names",
           "LAB_LDAP_PASSWORD_ENV", "LAB_GRAPH_SECRET_ENV", "HOST_DC_ADDRESS", "LAB_BASE_DN"]

#: The environment variable holding the lab DC's throwaway password (the directory probe reads
#: passwords from the environment, never from the configuration).
LAB_LDAP_PASSWORD_ENV = "ADFS_READINESS_LAB_LDAP_PASSWORD"
#: ... and the lab Graph app registration's client secret.
LAB_GRAPH_SECRET_ENV = "ADFS_READINESS_LAB_GRAPH_SECRET"


def lab_secret_names(suffix: str = "") -> dict[str, str]:
    """The environment variables of one lab's secrets: {"graph", "ldap", "sign_in"} -> name. With
    ``suffix`` (a background lab's id, :func:`adfs_readiness.lab.background.lab_id`) each name ends
    in ``_<suffix>``: every ``lab up`` writes its own random secrets into its ``lab.env``, and a
    fleet of two labs loads both files into one environment — with shared names, the second file
    would overwrite the first lab's secrets and that tenant's checks would be refused
    (AADSTS7000215, a wrong bind password)."""
    from adfs_readiness.lab import LAB_SIGN_IN_PASSWORD_ENV

    end = f"_{suffix}" if suffix else ""
    return {"graph": LAB_GRAPH_SECRET_ENV + end, "ldap": LAB_LDAP_PASSWORD_ENV + end,
            "sign_in": LAB_SIGN_IN_PASSWORD_ENV + end}


#: The loopback address a background lab's DC binds on the host ("bind interfaces only": Samba binds
#: only addresses assigned to an interface, and 127.0.0.1 is the one lo has everywhere). When its
#: ports 389/636/3268/3269 are taken, the lab replays the recording instead, saying why.
HOST_DC_ADDRESS = "127.0.0.1"
#: Where the directory area's scan starts in the lab domain.
LAB_BASE_DN = "OU=Lab,DC=contoso,DC=test"

DirectoryMode = Literal["auto", "live", "recorded", "none"]


def packaged_recording() -> Path:
    """The recording of the lab DC's directory facts shipped with the package
    (``scripts/record_lab_directory.py`` makes it)."""
    return Path(str(resources.files("adfs_readiness.lab") / "recordings" / "directory.json"))


@dataclass
class DirectoryLab:
    """How a lab serves the directory area.

    Attributes:
        mode: "live" (a Samba DC runs: ``info``), "recorded" (``recording`` is replayed) or "none".
        note: one line for the admin saying which, and why.
        info: the running DC (``SambaDcInfo``) in live mode.
        recording: the recording file in recorded mode.
        dc: the ``SambaDc`` to stop (live mode).
    """

    mode: Literal["live", "recorded", "none"]
    note: str
    info: Any = None
    recording: Path | None = None
    dc: Any = None
    host_claim: int | None = None

    def stop(self) -> None:
        """Stop the DC this lab started (by PID) and give up the host's DC ports; idempotent."""
        if self.dc is not None:
            self.dc.stop()
        if self.host_claim is not None:
            os.close(self.host_claim)
            self.host_claim = None


def start_directory(workdir: Path, mode: DirectoryMode, *, host_network: bool, now: datetime,
                    log: Callable[[str], None] = lambda line: None) -> DirectoryLab:
    """Serve the directory area for a lab in ``workdir``.

    ``auto``: a live Samba DC when this machine can run one, else the recording. ``live`` falls
    back to the recording too, saying why. ``host_network``: bind the DC on the host's loopback
    (:data:`HOST_DC_ADDRESS`) instead of a private network namespace. Never raises: trouble with
    Samba is said in the note and the recording is used.
    """
    if mode == "none":
        return DirectoryLab("none", "Directory area: left out (--no-directory); its checks are skipped.")
    if mode == "recorded":
        return _recorded(workdir, "recorded facts asked for")
    from adfs_readiness.lab.samba import SambaDc, SambaUnavailable, netns_missing_reason, samba_missing_reason
    from adfs_readiness.lab.samba_seed import seed_contoso

    reason = samba_missing_reason() or (None if host_network else netns_missing_reason())
    if reason:
        return _recorded(workdir, f"no Samba AD DC on this machine ({reason})")
    claim = _claim_host_dc() if host_network else None
    if host_network and claim is None:
        return _recorded(workdir, f"another lab's Samba DC already holds {HOST_DC_ADDRESS}:389 on this machine")
    log("Starting a throwaway Samba AD domain controller for the directory area (a few seconds)...")
    dc = SambaDc(workdir / "samba", address=HOST_DC_ADDRESS if host_network else "127.0.0.1",
                 private_network=not host_network, max_runtime=7 * 86400 if host_network else 5400)
    try:
        dc.provision()
        seed_contoso(dc, now)
        info = dc.start()
    except (SambaUnavailable, RuntimeError, OSError) as exc:  # the lab goes on with the recording
        dc.stop()
        if claim is not None:
            os.close(claim)
        return _recorded(workdir, f"the Samba AD DC did not start ({type(exc).__name__}: {str(exc)[:300]})")
    return DirectoryLab("live", f"Directory area: Samba AD domain controller {info.dc_host} ({info.realm}) at "
                                f"{info.address}.", info=info, dc=dc, host_claim=claim)


#: Held (flock) by the lab whose DC uses the host's 127.0.0.1:389 for as long as it runs; in /run,
#: which only root writes (a host DC needs root), so no other user can plant a link there.
_HOST_DC_CLAIM = Path("/run/adfs-readiness-lab-dc.lock")


def _claim_host_dc() -> int | None:
    """An open descriptor holding the host DC claim, or None when another lab holds it (its DC
    owns the ports; the kernel drops the claim when that lab's process ends)."""
    import fcntl

    try:
        fd = os.open(_HOST_DC_CLAIM, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _recorded(workdir: Path, why: str) -> DirectoryLab:
    recording = workdir / "directory-recording.json"
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(packaged_recording(), recording)
    return DirectoryLab("recorded", f"Directory area: {why}; the facts recorded from the lab's Samba AD DC are "
                                    f"replayed (the report says so).", recording=recording)


class LabStack:
    """Every lab server of one scenario, started together (a context manager).

    The Entra side is read from the lab's Graph with app credentials (the secret in
    ``secret_names["graph"]``, see :attr:`secrets`), the AD FS side from a folder of exports
    shaped like the bundled collector's (the AD FS node and the proxy).

    Args:
        scenario: a lab scenario name (:data:`adfs_readiness.lab.scenarios.SCENARIOS`).
        workdir: the lab's folder (PEM files, the exports, the recording).
        directory: how the directory area is served (:func:`start_directory`).
        now: the lab's clock (certificates are made relative to it); default: the real clock.
        secret_suffix: ends the names of the lab's secret variables (:func:`lab_secret_names`);
            empty for the one-process demo.
    """

    def __init__(self, scenario: str, workdir: Path, directory: DirectoryLab, *, now: datetime | None = None,
                 secret_suffix: str = "") -> None:
        self.scenario = scenario
        self.secret_names = lab_secret_names(secret_suffix)
        self.workdir = Path(workdir)
        self.directory = directory
        self.now = now or datetime.now(timezone.utc)
        self._stack = contextlib.ExitStack()
        self.sts: Any = None
        self.dns: Any = None
        self.cloud: Any = None
        self.adfs_export: Path | None = None

    def start(self) -> LabStack:
        """Start the servers and write the files. Returns self."""
        from adfs_readiness.lab import Lab
        from adfs_readiness.lab.adfs_samples import demo_exports
        from adfs_readiness.lab.dns_lab import DnsLab

        # The demo tenant's deliberate leftovers (DNS, AD FS exports) belong to "demo"; each fault
        # scenario shows its own fault (and "healthy" nothing).
        leftovers = self.scenario == "demo"
        try:
            self.sts = self._stack.enter_context(Lab(self.scenario, now=self.now, workdir=self.workdir / "sts",
                                                     sign_in_password_env=self.secret_names["sign_in"]))
            self.dns = self._stack.enter_context(DnsLab(internal_zones=_internal_zones(self.directory.info, leftovers),
                                                        leftovers=leftovers))
            self.cloud = self._stack.enter_context(self._cloud_lab())
            # The AD FS node's export (Windows PowerShell 5.1) and the proxy's (PowerShell 7).
            self.adfs_export = demo_exports(self.sts, self.workdir / "adfs-exports")
        except BaseException:
            self._stack.close()
            raise
        return self

    def stop(self) -> None:
        """Stop every server (not the DC: :meth:`DirectoryLab.stop`)."""
        self._stack.close()

    def __enter__(self) -> LabStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def secrets(self) -> dict[str, str]:
        """The throwaway lab secrets a run needs in its environment (variable -> value): the lab
        Graph's client secret, the DC's password (live DC), the sign-in test account's password
        (scenarios that sign in)."""
        names = self.secret_names
        values = {names["graph"]: self.cloud.client_secret}
        if self.directory.mode == "live":
            values[names["ldap"]] = self.directory.info.admin_password
        if self.sts.scenario.sign_in != "off":
            values[names["sign_in"]] = self.sts.sign_in_password
        return values

    def settings(self, source: str, *, deadline_seconds: float, timeout_seconds: float) -> Settings:
        """The Settings that check this lab (the secrets are read from :attr:`secrets`' variables)."""
        # The lab's Entra Connect anchors on ms-DS-ConsistencyGuid (its default), as an admin states
        # it in [adfs] source_anchor for adfs.o365-claim-rules.
        config = self.sts.config(source, network={"deadline_seconds": deadline_seconds,
                                                  "timeout_seconds": timeout_seconds},
                                 adfs={"export": (self.adfs_export,), "source_anchor": "ms-DS-ConsistencyGuid"},
                                 **self.cloud.config_changes(graph=True), **self.dns.config_fragment())
        if self.scenario != "demo":
            # Fault scenarios serve a certificate for the service name only: keep certificate
            # authentication and device registration out of scope so each shows its own fault.
            config = config.with_changes(scope=Scope())
        return self._with_directory(config)

    def _with_directory(self, config: Settings) -> Settings:
        d = self.directory
        if d.mode == "none":
            return config.with_changes(checks={"skip": tuple(config.checks.skip) + ("directory.*",)})
        server = f"ldaps://{d.info.dc_host}" if d.mode == "live" else "ldaps://DC1.contoso.test"
        bind_user = d.info.admin_upn if d.mode == "live" else "Administrator@CONTOSO.TEST"
        ca = Path(d.info.ca_pem) if d.mode == "live" else None
        return config.with_changes(
            directory=DirectorySettings(server=server, base_dn=LAB_BASE_DN, bind_user=bind_user, ca_bundle=ca,
                                        service_account="gmsa-adfs", password_env=self.secret_names["ldap"],
                                        ad_domain=config.directory.ad_domain, forest_root=config.directory.forest_root),
            lab=LabSettings(directory_recording=d.recording))

    def run_metadata(self) -> dict[str, Any]:
        """What a report of this lab says about it."""
        return {"lab_scenario": self.scenario, "lab_address": str(self.sts.address),
                "lab_dns_internal": str(self.dns.internal.address), "lab_dns_external": str(self.dns.external.address),
                "lab_directory": self.directory.mode}

    def _cloud_lab(self) -> Any:
        """The lab's Entra ID: realm discovery says contoso.test is federated with the lab's
        service, and Graph holds the token-signing certificates AD FS publishes (primary, and the
        successor as nextSigningCertificate during a rollover) and the Azure MFA adapter's
        certificate on the Azure Multi-Factor Auth Client service principal (next to an expired
        one nobody removed)."""
        from adfs_readiness.facts.entra_mfa import AZURE_MFA_CLIENT_APP_ID
        from adfs_readiness.lab.adfs_samples import DEMO_MFA, mfa_certificate
        from adfs_readiness.lab.cloud_lab import CloudDomain, CloudLab, federation_configuration, key_credential

        pki = self.sts.pki
        signing = list(self.sts.material.token_signing)[:2]
        federation = federation_configuration("contoso.test", self.sts.fs_name, *signing)
        credentials = [key_credential(mfa_certificate(pki, "expired-stale")),
                       key_credential(mfa_certificate(pki, DEMO_MFA))]
        return CloudLab(pki, self.workdir / "cloud", secret_env=self.secret_names["graph"],
                        domains={"contoso.test": CloudDomain("federated", auth_host=self.sts.fs_name,
                                                             federation=federation)},
                        service_principals={AZURE_MFA_CLIENT_APP_ID: credentials})


def _internal_zones(info: Any, leftovers: bool = True) -> Any:
    """The shipped internal zones (with the demo tenant's leftovers or not), plus the lab DC's A
    record when it runs (None = shipped only)."""
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
        if zone.origin is None:
            continue
        origin = zone.origin.to_text(omit_final_dot=True).lower()
        if host.endswith("." + origin):
            with zone.writer() as txn:
                txn.add(dns.name.from_text(host), 300,
                        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.A, info.address))
            return zones
    return zones


def export_secrets(values: dict[str, str]) -> Callable[[], None]:
    """Put lab secrets into this process's environment; returns the function that removes them."""
    os.environ.update(values)

    def remove() -> None:
        for name in values:
            os.environ.pop(name, None)

    return remove
