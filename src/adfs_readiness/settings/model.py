"""The run's settings: one frozen object with one attribute per TOML table, so code reads a value
where the admin wrote it (``settings.federation.service_name`` is ``[federation] service_name``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from adfs_readiness.settings.cloud import AdfsSettings, CloudSettings, EndpointsSettings
from adfs_readiness.settings.directory import DirectorySettings
from adfs_readiness.settings.federation import DnsSettings, FederationSettings
from adfs_readiness.settings.lab import LabSettings
from adfs_readiness.settings.limits import ChecksSettings, Limits, NetworkSettings, Scope, Thresholds
from adfs_readiness.settings.outputs import CertificateSettings, HistorySettings, SuppressionsSettings, TlsSettings
from adfs_readiness.settings.sign_in import SignInTestSettings

__all__ = ["Settings", "SECTIONS"]


@dataclass(frozen=True)
class Settings:
    """The frozen run configuration, shaped like the TOML file.

    Attributes:
        source: the file it came from ("<defaults>" when none, "command line" when only flags).
        federation, dns, directory, thresholds, scope, checks, network, tls, history, suppressions,
        cloud, adfs, endpoints, certificate, sign_in_test, limits, lab: one section per table (see
        each class).
    """

    source: str = "<defaults>"
    federation: FederationSettings = field(default_factory=FederationSettings)
    dns: DnsSettings = field(default_factory=DnsSettings)
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    thresholds: Thresholds = field(default_factory=Thresholds)
    scope: Scope = field(default_factory=Scope)
    checks: ChecksSettings = field(default_factory=ChecksSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    suppressions: SuppressionsSettings = field(default_factory=SuppressionsSettings)
    cloud: CloudSettings = field(default_factory=CloudSettings)
    adfs: AdfsSettings = field(default_factory=AdfsSettings)
    endpoints: EndpointsSettings = field(default_factory=EndpointsSettings)
    certificate: CertificateSettings = field(default_factory=CertificateSettings)
    sign_in_test: SignInTestSettings = field(default_factory=SignInTestSettings)
    limits: Limits = field(default_factory=Limits)
    lab: LabSettings = field(default_factory=LabSettings)

    @property
    def target(self) -> str | None:
        """What a run of these settings looks at: the federation service name, else the metadata
        file or URL, else None."""
        return self.federation.service_name or self.federation.metadata

    def with_changes(self, source: str | None = None, /, **sections: Any) -> Settings:
        """A copy with sections changed, for code (labs, tests, the app layer); values are not
        validated here (users' values come through the loader and the flags).

        Each keyword is a section name; its value is a section object (replaces the section) or a
        mapping of field -> value (replaces those fields)::

            settings.with_changes(network={"deadline_seconds": 20.0}, scope=Scope())

        Raises TypeError for an unknown section or field.
        """
        changes: dict[str, Any] = {} if source is None else {"source": source}
        for name, change in sections.items():
            if name not in SECTIONS:
                raise TypeError(f"no settings section {name!r} (sections: {', '.join(SECTIONS)})")
            current = getattr(self, name)
            changes[name] = dataclasses.replace(current, **change) if isinstance(change, Mapping) else change
        return dataclasses.replace(self, **changes)


#: Table name -> section class, in the order of the example file.
SECTIONS: dict[str, type] = {
    "federation": FederationSettings, "dns": DnsSettings, "directory": DirectorySettings,
    "thresholds": Thresholds, "scope": Scope, "checks": ChecksSettings, "network": NetworkSettings,
    "tls": TlsSettings, "history": HistorySettings, "endpoints": EndpointsSettings, "cloud": CloudSettings,
    "adfs": AdfsSettings, "suppressions": SuppressionsSettings, "certificate": CertificateSettings,
    "sign_in_test": SignInTestSettings, "limits": Limits, "lab": LabSettings,
}
