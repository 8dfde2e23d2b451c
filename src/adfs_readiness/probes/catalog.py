"""The probes the engine knows: the built-in ones, plus any a plugin registers under the
entry-point group ``adfs_readiness.probes`` (an entry point naming a ProbeSpec or a list of them).
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from adfs_readiness.facts import METADATA_FACT
from adfs_readiness.probes import ProbeSpec
from adfs_readiness.probes.metadata import probe_federation_metadata
from adfs_readiness.facts.directory import DIRECTORY_FACT
from adfs_readiness.probes.directory import probe_directory

__all__ = ["PROBE_ENTRY_POINT_GROUP", "builtin_probes", "all_probes"]

PROBE_ENTRY_POINT_GROUP = "adfs_readiness.probes"

log = logging.getLogger(__name__)


def builtin_probes() -> dict[str, ProbeSpec]:
    """Fact key -> ProbeSpec for the probes shipped with adfs-readiness."""
    specs = [
        ProbeSpec(
            key=METADATA_FACT,
            function=probe_federation_metadata,
            # connect + read, a few redirects: the fetch itself also honours the run's deadline.
            timeout=lambda config: config.timeout_seconds * 3,
            description="Federation metadata (FederationMetadata.xml): fetched or read, parsed, signature verified",
        ),
        ProbeSpec(
            key=DIRECTORY_FACT,
            function=probe_directory,
            # A large directory streams for minutes: the scan is bounded by the run's deadline.
            timeout=lambda config: config.deadline_seconds,
            description="Active Directory over LDAP (read-only): bind, RootDSE, forest, accounts, streamed attribute scan",
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
