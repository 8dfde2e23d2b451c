"""The built-in demo lab: a test PKI, AD FS-shaped signed federation metadata and an STS simulator on
loopback, in named scenarios (see :mod:`adfs_readiness.lab.scenarios`).

Usage::

    with Lab("rollover", now=datetime.now(timezone.utc), workdir=tmp) as lab:
        fetch(lab.metadata_url, connect_address=lab.address, ca_bundle=lab.ca_bundle, ...)
"""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from datetime import datetime
from pathlib import Path

from typing import Any

from adfs_readiness.lab.federation_metadata import METADATA_PATH
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.lab.scenarios import SCENARIOS, LabMaterial, Scenario, build_material, get_scenario
from adfs_readiness.lab.pki import LabCertificate
from adfs_readiness.lab.endpoints_lab import ProbeListener
from adfs_readiness.lab.sts import SilentListener, StsSimulator, legacy_tls_server, weak_tls_server
from adfs_readiness.lab.sts_wstrust import SignInLab
from adfs_readiness.settings import (CloudSettings, DnsSettings, EndpointsSettings, FederationSettings, HostPort,
                                     Settings, SignInTestSettings, TlsSettings)

#: The lab's sign-in test account, and the environment variable its password is put in while the
#: lab runs (a scenario with sign_in other than "off"; the password is random per lab).
LAB_SIGN_IN_UPN = "sso-test@contoso.test"
LAB_SIGN_IN_PASSWORD_ENV = "ADFS_READINESS_LAB_SIGNIN_PASSWORD"

__all__ = ["Lab", "Scenario", "SCENARIOS", "LAB_SIGN_IN_UPN", "LAB_SIGN_IN_PASSWORD_ENV"]


#: The lab's domain: a .test name (RFC 6761) the lab serves as if it were public.
LAB_PUBLIC_DOMAIN = "contoso.test"


class Lab:
    """One lab federation service, started as a context manager (or with :meth:`start`).

    Args:
        scenario: a preset name from SCENARIOS or a Scenario.
        now: the lab's clock (aware UTC datetime); certificate validity is relative to it.
        workdir: a folder for the lab's PEM files (``ca-bundle.pem`` = the root CA to trust).
        fs_name: the federation service name.
        sign_in_password_env: the environment variable the test account's password is put in
            (a background lab names it per lab: several labs' secrets can share one environment).

    Attributes (after start): ``fs_name``, ``scenario``, ``address`` (HostPort 127.0.0.1:port to
    pin the name to), ``ca_bundle`` (Path), ``metadata_url`` (https://<fs_name>/FederationMetadata/
    2007-06/FederationMetadata.xml, reachable only through ``address``), ``material`` (the
    certificates and the metadata bytes served), ``pki``, ``farm_nodes`` / ``proxies`` (HostPorts
    of the extra simulators a scenario asks for). :meth:`config` gives the Settings to check the lab.
    """

    def __init__(self, scenario: str | Scenario, now: datetime, workdir: Path,
                 fs_name: str = "sts.contoso.test", sign_in_password_env: str = LAB_SIGN_IN_PASSWORD_ENV) -> None:
        self.scenario = get_scenario(scenario)
        self.now = now
        self.workdir = Path(workdir)
        self.fs_name = fs_name
        self.sign_in_password_env = sign_in_password_env
        self.metadata_url = f"https://{fs_name}{METADATA_PATH}"
        self.ca_bundle = self.workdir / "ca-bundle.pem"
        self.pki = LabPki(now)
        self.material: LabMaterial | None = None
        self._server: StsSimulator | SilentListener | None = None
        self._extra: dict[str, list[StsSimulator]] = {"node": [], "proxy": []}
        self._probes: list[ProbeListener] = []
        self.sign_in_password = secrets.token_urlsafe(18)
        # The ImmutableID of the lab account: base64 of a GUID's bytes, as Entra Connect derives it.
        self.sign_in_immutable_id = base64.b64encode(uuid.uuid5(uuid.NAMESPACE_DNS, LAB_SIGN_IN_UPN).bytes_le).decode()
        self._sign_in: SignInLab | None = None

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

    @property
    def farm_nodes(self) -> tuple[HostPort, ...]:
        """Addresses of the extra farm-node simulators (empty unless the scenario has nodes)."""
        return tuple(s.address for s in self._extra["node"])

    @property
    def proxies(self) -> tuple[HostPort, ...]:
        """Addresses of the extra proxy simulators."""
        return tuple(s.address for s in self._extra["proxy"])

    @property
    def probe_urls(self) -> tuple[str, ...]:
        """The HTTP /adfs/probe URLs of the nodes and proxies (one plain-HTTP listener each)."""
        return tuple(p.url for p in self._probes)

    def config(self, source: str | None = None, **sections: Any) -> Settings:
        """The Settings that check this lab: the service name pinned to :attr:`address`, the farm
        nodes and proxies, the lab root CA as the enterprise CA (``tls.ca_bundle``) and, because
        the lab cannot be publicly trusted, also as ``tls.external_ca_bundle``; the lab's test
        account when the scenario signs in. ``sections`` change it as
        :meth:`Settings.with_changes` does (``network={"deadline_seconds": 20.0}``)."""
        base = Settings(
            source=f"lab ({self.scenario.name})",
            federation=FederationSettings(service_name=self.fs_name, domains=("contoso.test",),
                                          service_address=self.address, farm_nodes=self.farm_nodes,
                                          proxies=self.proxies),
            tls=TlsSettings(ca_bundle=self.ca_bundle, external_ca_bundle=self.ca_bundle),
            endpoints=EndpointsSettings(probe_urls=self.probe_urls),
            # No login service here: never ask Microsoft about a lab domain (a CloudLab's
            # config_changes() turns realm discovery back on).
            cloud=CloudSettings(realm_discovery=False),
            # The lab's .test names stand for public ones (dns.fs-name-routable).
            dns=DnsSettings(simulated_public_domains=(LAB_PUBLIC_DOMAIN,)))
        if self.scenario.sign_in != "off":
            base = base.with_changes(sign_in_test=self.sign_in_config())
        return base.with_changes(source, **sections)

    def sign_in_config(self) -> SignInTestSettings:
        """The [sign_in_test] settings of the lab's test account (its password is in the environment
        variable :attr:`sign_in_password_env` while the lab runs)."""
        return SignInTestSettings(upn=LAB_SIGN_IN_UPN, password_env=self.sign_in_password_env)

    def config_toml(self) -> str:
        """The same settings as :meth:`config` as a TOML configuration file's text (for tests and
        examples that go through ``--config``). DNS is not configured here: use the DNS lab's
        ``config_toml()`` or skip ``dns.*``, so nothing asks the system resolver."""
        def quoted(items: Any) -> str:
            return "[" + ", ".join(f'"{i}"' for i in items) + "]"

        return (f'[federation]\nservice_name = "{self.fs_name}"\ndomains = ["contoso.test"]\n'
                f'service_address = "{self.address}"\nfarm_nodes = {quoted(self.farm_nodes)}\n'
                f'proxies = {quoted(self.proxies)}\n'
                f'[endpoints]\nprobe_urls = {quoted(self.probe_urls)}\n'
                f'[cloud]\nrealm_discovery = false\n'
                f'[tls]\nca_bundle = "{self.ca_bundle}"\nexternal_ca_bundle = "{self.ca_bundle}"\n'
                + (f'[sign_in_test]\nupn = "{LAB_SIGN_IN_UPN}"\npassword_env = "{self.sign_in_password_env}"\n'
                   if self.scenario.sign_in != "off" else ""))

    def _tls_setup(self) -> Any:
        scenario = self.scenario
        if scenario.tls_protocols == "tls1.0-only":
            return legacy_tls_server
        if scenario.tls_key_bits < 2048 or scenario.tls_hash == "sha1":
            return weak_tls_server
        return None

    def _simulator(self, certificate: LabCertificate, name: str, role: str = "farm") -> StsSimulator:
        chain_file, key_file = self.workdir / f"{name}-chain.pem", self.workdir / f"{name}-key.pem"
        certificate.write_pem(chain_file, key_file)
        assert self.material is not None
        behaviour = self.scenario.behaviour(self.material.metadata, self.now, role=role,  # type: ignore[arg-type]
                                            fs_name=self.fs_name, sign_in=self._sign_in)
        return StsSimulator(behaviour, chain_file, key_file, configure_tls=self._tls_setup())

    def start(self) -> Lab:
        """Make the certificates, write the PEM files and start serving. Returns self."""
        if self._server is not None:
            return self
        self.material = build_material(self.scenario, self.pki, self.fs_name)
        self._sign_in = self._sign_in_lab()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca_bundle.write_bytes(self.pki.ca_bundle_pem())
        if self.scenario.answer == "no-answer":
            server: StsSimulator | SilentListener = SilentListener()
        else:
            server = self._simulator(self.material.tls, "tls")
        server.start()
        self._server = server
        for role, certificates in (("node", self.material.node_tls), ("proxy", self.material.proxy_tls)):
            for index, certificate in enumerate(certificates):
                extra = self._simulator(certificate, f"{role}{index}", "proxy" if role == "proxy" else "farm")
                extra.start()
                self._extra[role].append(extra)
                probe = ProbeListener(self.scenario.probe_status)
                probe.start()
                self._probes.append(probe)
        return self

    def _sign_in_lab(self) -> SignInLab | None:
        """What the STS's WS-Trust endpoint accepts and issues for this scenario (None = off). The
        password goes into the environment for the probe to read, as an admin's would."""
        mode = self.scenario.sign_in
        if mode == "off":
            return None
        assert self.material is not None
        os.environ[self.sign_in_password_env] = self.sign_in_password
        signing = self.material.token_signing[0]
        if mode == "wrong-key":
            signing = self.pki.token_certificate("signing", self.fs_name, self.now.replace(year=self.now.year - 1),
                                                 self.now.replace(year=self.now.year + 1))
        # "multi-domain": the issuerid rule of a SupportMultipleDomain trust (Entra Connect's) makes the
        # token's issuer http://<UPN suffix>/adfs/services/trust/ instead of the service identifier.
        issuer = (f"http://{LAB_SIGN_IN_UPN.rsplit('@', 1)[1]}/adfs/services/trust/" if mode == "multi-domain"
                  else f"http://{self.fs_name}/adfs/services/trust")
        return SignInLab(upn=LAB_SIGN_IN_UPN, immutable_id=self.sign_in_immutable_id,
                         password=self.sign_in_password + ("-other" if mode == "wrong-password" else ""),
                         issuer=issuer, signing=signing, now=self.now,
                         drop_claim="ImmutableID" if mode == "missing-claim" else None,
                         token_type="saml2" if mode == "saml2" else "saml11")

    def stop(self) -> None:
        """Stop serving; quick, idempotent, leaves no thread or port behind."""
        while self._probes:
            self._probes.pop().stop()
        for simulators in self._extra.values():
            while simulators:
                simulators.pop().stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._sign_in is not None and os.environ.get(self.sign_in_password_env) == self.sign_in_password:
            del os.environ[self.sign_in_password_env]
        self._sign_in = None

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
