"""The demo: the built-in lab started on loopback, checked end to end, graded, stopped.

What runs (:class:`adfs_readiness.lab.stack.LabStack`): the STS simulator of one federation
service (a lab scenario, see :mod:`adfs_readiness.lab.scenarios`) with its farm nodes and proxy,
the lab DNS server with an internal and an external view, a lab Entra ID (realm discovery, OIDC
discovery, a token endpoint and Graph's domain federation configuration), an AD FS server export,
and the directory area: a throwaway Samba AD domain controller with the directory seed data where
Samba is installed and network namespaces are available (root on Linux), else the facts recorded
from that DC, replayed (the report says so).

The live DC lives in a private network namespace (its LDAP ports cannot be moved), so when it runs
the whole demo — labs and engine — runs inside that namespace (``SambaDcInfo.run_in_network``).
Nothing ever leaves the machine.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from adfs_readiness.app.provenance import provenance_metadata
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.lab.stack import LAB_GRAPH_SECRET_ENV, LAB_LDAP_PASSWORD_ENV, DirectoryMode
from adfs_readiness.model import RunResult

__all__ = ["DemoRun", "run_demo", "DEMO_LDAP_PASSWORD_ENV", "DEMO_GRAPH_SECRET_ENV"]

#: The environment variables the demo puts the lab's throwaway secrets in.
DEMO_LDAP_PASSWORD_ENV = LAB_LDAP_PASSWORD_ENV
DEMO_GRAPH_SECRET_ENV = LAB_GRAPH_SECRET_ENV


@dataclass(frozen=True)
class DemoRun:
    """A finished demo run: the graded ``result`` and ``notes`` for the admin (one line each)."""

    result: RunResult
    notes: tuple[str, ...]


def run_demo(registry: CheckRegistry, probes: dict[str, Any], scenario: str, *, deadline_seconds: float,
             as_of: datetime | None = None, directory: DirectoryMode = "auto", only: Sequence[str] = (),
             log: Callable[[str], None] = lambda line: None) -> DemoRun:
    """Start the labs, run the checks against them, stop the labs; return the result.

    ``scenario`` is a preset name of the STS lab; ``as_of`` judges expiry at another date (the lab's
    certificates are made relative to the real clock). ``directory``: "auto" (a live Samba DC when
    possible, else the recording), "live", "recorded" or "none". ``only`` limits the checks (as
    ``--only``). ``log`` receives progress lines (the DC takes a few seconds to provision).
    """
    from adfs_readiness.lab.stack import LabStack, export_secrets, start_directory

    with tempfile.TemporaryDirectory(prefix="adfs-readiness-lab-") as tmp:
        workdir = Path(tmp)
        served = start_directory(workdir, directory, host_network=False, now=datetime.now(timezone.utc), log=log)

        def run() -> RunResult:
            # The lab's clock starts here, after the DC (which takes seconds): the simulators'
            # Date headers and the run's clock then agree.
            lab_now = datetime.now(timezone.utc)
            with LabStack(scenario, workdir, served, now=lab_now) as stack:
                remove = export_secrets(stack.secrets)
                try:
                    config = stack.settings(f"demo lab ({scenario})", deadline_seconds=deadline_seconds,
                                            timeout_seconds=min(5.0, deadline_seconds / 3))
                    return run_checks(registry, probes, config, as_of or lab_now, started_at=lab_now, only=only,
                                      run_metadata={**stack.run_metadata(), **provenance_metadata(config)})
                finally:
                    remove()

        try:
            result = served.info.run_in_network(run) if served.mode == "live" else run()
        finally:
            served.stop()
    return DemoRun(result=result, notes=(served.note,))
