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
import re
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Union

from adfs_readiness import __version__
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts import ProbeError
from adfs_readiness.facts.codec import FactDecodeError, decode, encode
from adfs_readiness.files import PRIVATE_MODE, read_capped, write_atomic
from adfs_readiness.json_input import UntrustedJsonError, parse_untrusted_json
from adfs_readiness.model import Provenance, RunResult
from adfs_readiness.probes import ProbeContext, ProbeSpec
from adfs_readiness.redaction import REDACTED, Redactor
from adfs_readiness.settings import Limits, Settings
from adfs_readiness.settings.legacy import is_flat_config, nest_flat_config

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "REDACTED", "SnapshotError", "Snapshot", "collect",
           "write_snapshot", "read_snapshot", "assess", "redact"]

SNAPSHOT_FORMAT = "adfs-readiness-evidence"
#: 2: the configuration is stored in the shape of the TOML file (sections); version 1 stored it
#: flat and is still read (settings.legacy).
SNAPSHOT_VERSION = 2


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
    config: Settings
    only: tuple[str, ...]
    facts: Mapping[str, Any]
    tool_version: str
    host: str | None = None
    source: str = ""


def collect(registry: CheckRegistry, probes: Mapping[str, ProbeSpec], config: Settings, now: datetime, *,
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


def read_snapshot(path: Path, probes: Mapping[str, ProbeSpec], limits: Limits = Limits()) -> Snapshot:
    """Read, validate and decode a snapshot file. ``probes`` gives the fact types
    (``ProbeSpec.fact_type``); ``limits`` are the *local* caps (the snapshot's own never apply).

    A snapshot is untrusted input (a customer's file in a support case). It is refused, with the
    reason and the place, when the file is over ``limits.max_input_bytes``; when its JSON nests
    deeper than 64 levels, has a list over ``limits.max_export_items`` items or a number of more
    than 40 digits (:mod:`adfs_readiness.json_input`); when a top-level key has the wrong shape
    (:func:`_check_shape`); or when a fact or the configuration does not decode to its type (dates
    must carry a time zone). The decoded configuration is made local-safe (:func:`local_config`):
    a snapshot never chooses a file on this machine or the limits of this run.

    Raises:
        SnapshotError: the reason, naming the file.
    """
    try:
        raw = read_capped(path, limits.max_input_bytes, setting=_INPUT_BYTES_SETTING)
        doc = parse_untrusted_json(raw, max_items=limits.max_export_items, items_setting="limits.max_export_items")
    except OSError as exc:
        raise SnapshotError(f"{path}: {exc.strerror or exc}") from None
    except UntrustedJsonError as exc:
        raise SnapshotError(f"{path}: not a usable JSON evidence snapshot ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"{path}: not an adfs-readiness evidence snapshot (made by 'adfs-readiness collect')")
    version = doc.get("snapshot_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SnapshotError(f"{path}: snapshot_version {_short(version)} is not a version number")
    if version > SNAPSHOT_VERSION:
        raise SnapshotError(f"{path}: snapshot version {version} is newer than this release "
                            f"reads ({SNAPSHOT_VERSION}); upgrade adfs-readiness")
    problem = _check_shape(doc)
    if problem:
        raise SnapshotError(f"{path}: {problem}")
    try:
        now = decode(datetime, doc["now"], "now")
        config_doc = doc["config"]
        if version < 2 and isinstance(config_doc, dict) and is_flat_config(config_doc):
            config_doc = nest_flat_config(config_doc)
        config = local_config(decode(Settings, config_doc, "config"), limits)
        types = _types(probes)
        facts = {key: _decode_fact(key, value, types.get(key)) for key, value in doc["facts"].items()}
    except FactDecodeError as exc:
        raise SnapshotError(f"{path}: {exc}") from None
    collected_on = doc.get("collected_on")
    host = collected_on.get("host") if isinstance(collected_on, dict) else None
    return Snapshot(now=now, target=doc.get("target") or "", config=config, only=tuple(doc.get("only") or ()),
                    facts=facts, tool_version=(doc.get("tool") or {}).get("version") or "",
                    host=host[:256] if isinstance(host, str) and host else None, source=str(path))


_INPUT_BYTES_SETTING = "--max-input-bytes"
_CHECK_ID = re.compile(r"^[a-z0-9-]{1,64}\.[a-z0-9*-]{1,64}$")
_MAX_TEXT = 2048


def _check_shape(doc: Mapping[str, Any]) -> str | None:
    """The first top-level key of a snapshot document that has the wrong shape, as a reason; None
    when all are right. The schema (bounds included) of what ``collect`` writes:
    ``now`` ISO string, ``config`` object, ``facts`` object of fact key (a short name) -> value,
    ``only`` list of check ids, ``target`` string of at most 2048 characters, ``tool`` object with
    string ``name``/``version``, ``fact_types`` object of strings."""
    for key, kind in (("now", str), ("config", dict), ("facts", dict)):
        if key not in doc:
            return f"missing '{key}'"
        if not isinstance(doc[key], kind):
            return f"'{key}' is not {'a string' if kind is str else 'an object'}"
    if len(doc["now"]) > 64:
        return "'now' is not a date and time"
    for key in doc["facts"]:
        if len(key) > 64:
            return f"fact key {_short(key)} is not a fact name"
    only = doc.get("only", [])
    if not isinstance(only, list) or not all(isinstance(i, str) and _CHECK_ID.match(i) for i in only):
        return "'only' is not a list of check ids"
    target = doc.get("target", "")
    if not isinstance(target, str) or len(target) > _MAX_TEXT:
        return f"'target' is not a string of at most {_MAX_TEXT} characters"
    tool = doc.get("tool", {})
    if not isinstance(tool, dict) or not all(isinstance(tool.get(k, ""), str) and len(tool.get(k, "")) <= 200
                                             for k in ("name", "version")):
        return "'tool' is not an object with a name and a version"
    fact_types = doc.get("fact_types", {})
    if not isinstance(fact_types, dict) or not all(isinstance(v, str) for v in fact_types.values()):
        return "'fact_types' is not an object of type names"
    return None


def local_config(config: Settings, limits: Limits) -> Settings:
    """``config`` (decoded from a snapshot) with every file path emptied and the local ``limits``:
    the snapshot was written elsewhere, and a path in it must never make ``assess`` read a file on
    this machine (an accepted-risks file, a CA bundle, a certificate) nor its limits lift this
    run's caps. Paths are evidence of the original run only; the JSON report keeps the snapshot's
    configuration source name."""
    def without_paths(value: Any) -> Any:
        changes = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if isinstance(item, Path):
                changes[f.name] = None
            elif isinstance(item, tuple) and item and all(isinstance(i, Path) for i in item):
                changes[f.name] = ()  # several paths ([adfs] export)
            elif dataclasses.is_dataclass(item) and not isinstance(item, type) and f.name != "limits":
                replaced = without_paths(item)
                if replaced is not item:
                    changes[f.name] = replaced
        return dataclasses.replace(value, **changes) if changes else value

    return dataclasses.replace(without_paths(config), limits=limits)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "…"


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
