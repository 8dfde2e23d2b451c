"""Recording the lab DC's directory facts, so the demo and ``lab up`` show the directory area on a
machine without Samba (:mod:`adfs_readiness.probes.recorded` replays them).

The recording is made by the real probe against the real lab: a throwaway Samba AD DC provisioned
and seeded exactly as the demo does, read through the demo's own settings. ``scripts/
record_lab_directory.py`` writes it to ``adfs_readiness/lab/recordings/directory.json``; run it
again whenever the directory fact's shape or the lab's seed data changes (a test fails loudly when
the committed recording no longer decodes).
"""

from __future__ import annotations

import subprocess
from typing import Any

from adfs_readiness import __version__
from adfs_readiness.facts.directory import DIRECTORY_FACT, DirectoryFacts
from adfs_readiness.probes.recorded import RECORDING_FORMAT, RECORDING_VERSION

__all__ = ["record_directory", "RecordingFailed"]


class RecordingFailed(RuntimeError):
    """The lab DC could not be recorded (Samba missing, the DC did not start, the probe failed)."""


def record_directory(deadline_seconds: float = 180.0) -> dict[str, Any]:
    """Start the demo lab with a live Samba DC, gather the directory fact through the demo's
    settings, stop the lab; return the recording document (JSON-ready).

    Raises:
        RecordingFailed: no live DC (the reason), or the probe returned an error instead of facts.
    """
    from adfs_readiness.app.demo import run_demo
    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.probes.catalog import all_probes

    demo = run_demo(discover_checks(), all_probes(), "demo", deadline_seconds=deadline_seconds, directory="live",
                    only=("directory.*",))
    if demo.result.metadata.get("lab_directory") != "live":
        raise RecordingFailed(f"no live lab DC to record: {' '.join(demo.notes)}")
    fact = demo.result.facts.get(DIRECTORY_FACT)
    if not isinstance(fact, dict) or "kind" in fact and "reason" in fact:
        raise RecordingFailed(f"the directory probe did not gather facts: {fact!r}")
    samba = subprocess.run(["samba", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "format": RECORDING_FORMAT,
        "version": RECORDING_VERSION,
        "fact_key": DIRECTORY_FACT,
        "fact_type": f"{DirectoryFacts.__module__}:{DirectoryFacts.__qualname__}",
        "recorded_at": demo.result.started_at.isoformat(),
        "recorded_with": {
            "source": "the lab's Samba AD DC",
            "tool_version": __version__,
            "samba_version": samba,
            "seed": "adfs_readiness.lab.samba_seed.seed_contoso",
            "script": "scripts/record_lab_directory.py",
        },
        "fact": fact,
    }
