"""Evidence snapshots: ``collect`` the facts on the box that can reach AD FS and AD, ``assess``
them elsewhere, offline, later, or in a support case.

``collect`` runs the probes exactly as ``check`` does and writes one JSON file: the gathered facts
(each fact, or the probe error that stood in for it), the run's clock ``now``, the configuration
and the ``--only`` selection. ``assess`` decodes the facts back into the fact dataclasses
(:mod:`adfs_readiness.facts.codec`, with the fact types the probes declare in
``ProbeSpec.fact_type``) and runs the same engine over them with "replay" probes that hand back
the stored facts, at the stored ``now``: the findings are those the live run gave.

Secrets: facts carry none by design (passwords come from the environment, a prompt or the
keyring and are never part of a fact). As a second line of defence the snapshot is scrubbed
before it is written by the one redactor (:mod:`adfs_readiness.redaction`): values under keys
that name a secret (``password``, ``secret``, ``private_key``, ``authorization``, ...), PEM
private-key blocks anywhere in a string, and every occurrence of the secrets the run knows (the
LDAP password and Graph client secret from their environment variables, URL userinfo, ...)
become ``"[REDACTED]"``.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Union

from adfs_readiness import __version__
from adfs_readiness.config import Config
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts import ProbeError
from adfs_readiness.facts.codec import FactDecodeError, decode, encode
from adfs_readiness.files import PRIVATE_MODE, write_atomic
from adfs_readiness.model import Provenance, RunResult
from adfs_readiness.probes import ProbeContext, ProbeSpec
from adfs_readiness.redaction import REDACTED, Redactor
from adfs_readiness.text import loads_json

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "REDACTED", "SnapshotError", "Snapshot", "collect",
           "write_snapshot", "read_snapshot", "assess", "redact"]

SNAPSHOT_FORMAT = "adfs-readiness-evidence"
SNAPSHOT_VERSION = 1


class SnapshotError(ValueError):
    """A snapshot file cannot be read or decoded; the message names the file and the place."""


@dataclass(frozen=True)
class Snapshot:
    """A run's evidence.

    Attributes:
        now: the run's clock (aware UTC). target: what was checked.
        config: the configuration (no secrets: it never holds any).
        only: the ``--only`` selection of the run (empty = all checks).
        facts: fact key -> fact dataclass, ProbeError, or raw JSON for a fact type nobody declared.
        tool_version: the release that collected it.
        host: the host name of the collecting machine (None in snapshots of older releases).
        source: the file it was read from.
    """

    now: datetime
    target: str
    config: Config
    only: tuple[str, ...]
    facts: Mapping[str, Any]
    tool_version: str
    host: str | None = None
    source: str = ""


def collect(registry: CheckRegistry, probes: Mapping[str, ProbeSpec], config: Config, now: datetime, *,
            only: Iterable[str] = (), run_metadata: Mapping[str, Any] | None = None) -> tuple[RunResult, dict[str, Any]]:
    """Run the probes and checks live and return (the run's result, the snapshot document).

    The document is JSON-ready and already redacted (:func:`redact`); write it with
    :func:`write_snapshot`. Raises nothing for probe trouble (it is in the facts).
    """
    only = tuple(only)
    result = run_checks(registry, probes, config, now, only=only, run_metadata=run_metadata)
    doc = {
        "format": SNAPSHOT_FORMAT,
        "snapshot_version": SNAPSHOT_VERSION,
        "tool": {"name": "adfs-readiness", "version": __version__},
        "target": result.target,
        "now": now.isoformat(),
        # Which machine gathered the facts: the report of an assessment names it.
        "collected_on": {"host": socket.gethostname()},
        "only": list(only),
        "config": encode(config),
        "fact_types": {k: f"{t.__module__}:{t.__qualname__}" for k, t in _types(probes).items()
                       if k in result.facts},
        "facts": dict(result.facts),
    }
    return result, Redactor.for_run(config).value(doc)


def write_snapshot(path: Path, doc: Mapping[str, Any]) -> None:
    """Write the document atomically as UTF-8 JSON, never through a link, with mode 0600 (evidence
    is sensitive even redacted): :func:`adfs_readiness.files.write_atomic`. Raises OSError."""
    write_atomic(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n", mode=PRIVATE_MODE)


def read_snapshot(path: Path, probes: Mapping[str, ProbeSpec]) -> Snapshot:
    """Read and decode a snapshot file. ``probes`` gives the fact types (``ProbeSpec.fact_type``).

    Raises:
        SnapshotError: unreadable, not JSON, not a snapshot, a newer snapshot version, or a fact
            that does not decode to its type (the message names the key and the place).
    """
    try:
        # Where the snapshot's bytes become text: lone surrogates ("\ud800") made safe here, once.
        doc = loads_json(Path(path).read_bytes())
    except OSError as exc:
        raise SnapshotError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SnapshotError(f"{path}: not a JSON evidence snapshot ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"{path}: not an adfs-readiness evidence snapshot (made by 'adfs-readiness collect')")
    if not isinstance(doc.get("snapshot_version"), int) or doc["snapshot_version"] > SNAPSHOT_VERSION:
        raise SnapshotError(f"{path}: snapshot version {doc.get('snapshot_version')!r} is newer than this release "
                            f"reads ({SNAPSHOT_VERSION}); upgrade adfs-readiness")
    try:
        now = decode(datetime, doc["now"], "now")
        config = decode(Config, doc["config"], "config")
        facts = {key: _decode_fact(key, value, _types(probes).get(key)) for key, value in doc["facts"].items()}
    except KeyError as exc:
        raise SnapshotError(f"{path}: missing {exc}") from None
    except FactDecodeError as exc:
        raise SnapshotError(f"{path}: {exc}") from None
    collected_on = doc.get("collected_on")
    host = collected_on.get("host") if isinstance(collected_on, dict) else None
    return Snapshot(now=now, target=str(doc.get("target", "")), config=config,
                    only=tuple(doc.get("only") or ()), facts=facts,
                    tool_version=str((doc.get("tool") or {}).get("version", "")),
                    host=str(host) if isinstance(host, str) and host else None, source=str(path))


def assess(registry: CheckRegistry, snapshot: Snapshot, *, now: datetime | None = None,
           run_metadata: Mapping[str, Any] | None = None, clock: str | None = None) -> RunResult:
    """Judge a snapshot offline: the engine runs with probes that return the stored facts, at
    ``now`` (default: the snapshot's clock, so the findings equal the live run's). The result
    carries its :class:`~adfs_readiness.model.Provenance` (``clock`` names which clock ``now``
    is: "assessing", "collected" or "as-of"; default "collected" when ``now`` is None)."""
    replay = {key: ProbeSpec(key=key, function=_replay(value), timeout=lambda config: 5.0,
                             description=f"stored fact {key!r} from an evidence snapshot")
              for key, value in snapshot.facts.items()}
    meta = {"assessed_from_snapshot": True, "snapshot_tool_version": snapshot.tool_version,
            "snapshot_now": snapshot.now.isoformat(), **(run_metadata or {})}
    # Only replayed facts can be wrong here; no network is touched, so the deadline is generous.
    judged_at = now or snapshot.now
    result = run_checks(registry, replay, snapshot.config, judged_at, target=snapshot.target,
                        only=snapshot.only, run_metadata=meta)
    provenance = Provenance(source=snapshot.source or "(snapshot)", collected_at=snapshot.now,
                            collected_on=snapshot.host, collected_by=snapshot.tool_version, judged_at=judged_at,
                            clock=clock or ("collected" if now is None else "as-of"))
    return dataclasses.replace(result, provenance=provenance)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a JSON-ready value with secrets replaced by ``"[REDACTED]"``: the one redactor
    (:class:`adfs_readiness.redaction.Redactor`) with ``secrets`` as the literal values to remove
    (empty ones and values shorter than 4 characters are ignored: they would redact innocent
    text); values under secret-named keys and PEM private keys are replaced too."""
    return Redactor(secrets).value(value)


def _types(probes: Mapping[str, ProbeSpec]) -> dict[str, type]:
    return {k: s.fact_type for k, s in probes.items() if getattr(s, "fact_type", None) is not None}


def _decode_fact(key: str, value: Any, fact_type: type | None) -> Any:
    if fact_type is None:
        # No declared type (a plugin probe without fact_type): a probe error still decodes; a
        # fact stays raw JSON, and checks that read attributes from it end as `error` findings.
        try:
            return decode(ProbeError, value, key)
        except FactDecodeError:
            return value
    return decode(Union[fact_type, ProbeError], value, key)


def _replay(value: Any) -> Any:
    def probe(ctx: ProbeContext) -> Any:
        return value

    return probe
