"""Evidence snapshots as plain functions: ``collect`` (gather, judge, write the snapshot) and
``assess`` (judge a snapshot again, offline, with accepted risks applied)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.model import RunResult
from adfs_readiness.probes import ProbeSpec
from adfs_readiness.settings import Limits, Settings
from adfs_readiness.suppressions import apply_suppressions, load_suppressions

__all__ = ["Collected", "collect_evidence", "assess_evidence", "AS_OF_COLLECTED"]


@dataclass(frozen=True)
class Collected:
    """A finished ``collect``: the graded ``result`` (same as a live check) and the snapshot
    ``path`` with the number of ``facts`` stored."""

    result: RunResult
    path: Path
    facts: int


def collect_evidence(registry: CheckRegistry, probes: Mapping[str, ProbeSpec], settings: Settings, now: datetime,
                     out: Path, *, only: Sequence[str] = ()) -> Collected:
    """Gather the facts for ``settings``, judge them at ``now`` and write the snapshot (secrets
    redacted, mode 0600) to ``out``.

    Raises:
        OSError: the snapshot cannot be written.
    """
    from adfs_readiness.snapshot import collect, write_snapshot

    from adfs_readiness.app.provenance import provenance_metadata

    result, doc = collect(registry, probes, settings, now, only=list(only), run_metadata=provenance_metadata(settings))
    write_snapshot(out, doc)
    return Collected(result=result, path=out, facts=len(doc["facts"]))


#: ``assess --as-of collected``: judge at the snapshot's own clock.
AS_OF_COLLECTED = "collected"


def assess_evidence(registry: CheckRegistry, probes: Mapping[str, ProbeSpec], snapshot_file: Path, *,
                    as_of: datetime | str | None = None, suppressions_file: Path | None = None,
                    limits: Limits | None = None) -> tuple[RunResult, Settings]:
    """Judge the snapshot in ``snapshot_file`` offline. Certificate dates are judged now by
    default: a snapshot's old (or forged) clock must not make expired certificates look valid;
    ``as_of`` a datetime judges then, :data:`AS_OF_COLLECTED` at the snapshot's own clock. Only
    an accepted-risks file given here (``suppressions_file``) applies: a snapshot never chooses a
    file on this machine. ``limits``: this machine's caps (default ones). Returns the result and
    the snapshot's settings.

    Raises:
        SnapshotError: the file is not a readable snapshot.
        SettingsError: the suppressions file is bad.
    """
    from datetime import timezone

    from adfs_readiness.snapshot import assess, read_snapshot

    snapshot = read_snapshot(snapshot_file, probes, limits or Limits())
    if as_of == AS_OF_COLLECTED:
        now, clock = snapshot.now, "collected"
    elif isinstance(as_of, datetime):
        now, clock = as_of, "as-of"
    else:
        now, clock = datetime.now(timezone.utc), "assessing"
    meta: dict[str, Any] = {"snapshot_file": str(snapshot_file)}
    result = assess(registry, snapshot, now=now, run_metadata=meta, clock=clock)
    if suppressions_file:
        result = apply_suppressions(result, load_suppressions(suppressions_file), now)
    return result, snapshot.config
