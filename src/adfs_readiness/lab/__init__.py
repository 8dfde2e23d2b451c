"""The built-in demo lab: a test PKI, AD FS-shaped signed federation metadata and an STS simulator on
loopback, in named scenarios (see :mod:`adfs_readiness.lab.scenarios`).

Usage::

    with Lab("rollover", now=datetime.now(timezone.utc), workdir=tmp) as lab:
        fetch(lab.metadata_url, connect_address=lab.address, ca_bundle=lab.ca_bundle, ...)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from adfs_readiness.config import HostPort
from adfs_readiness.lab.federation_metadata import METADATA_PATH
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.lab.scenarios import SCENARIOS, LabMaterial, Scenario, build_material, get_scenario
from adfs_readiness.lab.sts import SilentListener, StsSimulator

__all__ = ["Lab", "Scenario", "SCENARIOS"]


class Lab:
    """One lab federation service, started as a context manager (or with :meth:`start`).

    Args:
        scenario: a preset name from SCENARIOS or a Scenario.
        now: the lab's clock (aware UTC datetime); certificate validity is relative to it.
        workdir: a folder for the lab's PEM files (``ca-bundle.pem`` = the root CA to trust).
        fs_name: the federation service name.

    Attributes (after start): ``fs_name``, ``scenario``, ``address`` (HostPort 127.0.0.1:port to
    pin the name to), ``ca_bundle`` (Path), ``metadata_url`` (https://<fs_name>/FederationMetadata/
    2007-06/FederationMetadata.xml, reachable only through ``address``), ``material`` (the
    certificates and the metadata bytes served), ``pki``.
    """

    def __init__(self, scenario: str | Scenario, now: datetime, workdir: Path,
                 fs_name: str = "sts.contoso.test") -> None:
        self.scenario = get_scenario(scenario)
        self.now = now
        self.workdir = Path(workdir)
        self.fs_name = fs_name
        self.metadata_url = f"https://{fs_name}{METADATA_PATH}"
        self.ca_bundle = self.workdir / "ca-bundle.pem"
        self.pki = LabPki(now)
        self.material: LabMaterial | None = None
        self._server: StsSimulator | SilentListener | None = None

    @property
    def address(self) -> HostPort:
        """The loopback address the federation service name is pinned to."""
        if self._server is None:
            raise RuntimeError("the lab is not started")
        return self._server.address

    @property
    def server_names_seen(self) -> tuple[str | None, ...]:
        """SNI names the STS simulator received (empty for the no-answer listener)."""
        return self._server.server_names_seen if isinstance(self._server, StsSimulator) else ()

    def start(self) -> Lab:
        """Make the certificates, write the PEM files and start serving. Returns self."""
        if self._server is not None:
            return self
        self.material = build_material(self.scenario, self.pki, self.fs_name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca_bundle.write_bytes(self.pki.ca_bundle_pem())
        chain_file, key_file = self.workdir / "tls-chain.pem", self.workdir / "tls-key.pem"
        self.material.tls.write_pem(chain_file, key_file)
        if self.scenario.answer == "no-answer":
            server: StsSimulator | SilentListener = SilentListener()
        else:
            server = StsSimulator(self.scenario.behaviour(self.material.metadata, self.now), chain_file, key_file)
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving; quick, idempotent, leaves no thread or port behind."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
