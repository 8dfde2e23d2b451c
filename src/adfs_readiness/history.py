"""Run history: every run recorded in SQLite (stdlib ``sqlite3``), and what changed since the last one.

The database lives in the user data folder (``platformdirs.user_data_path("adfs-readiness")``,
e.g. ``~/.local/share/adfs-readiness/history.sqlite3`` on Linux,
``%LOCALAPPDATA%\\adfs-readiness\\history.sqlite3`` on Windows); the environment
variable ``ADFS_READINESS_DATA_DIR`` or ``--history PATH`` moves it. The schema is versioned
(``PRAGMA user_version``): a database made by a newer release is refused rather than misread.

One row per run: the target key (the federation service name, or a tenant name in a fleet), when
it ran, verdict, score, grade, exit code, the findings (JSON: check id, target, status, severity,
blocker, summary, suppressed) and the certificates with their days left (JSON, see
:mod:`adfs_readiness.cert_inventory`). Reports are not stored: they can be made again from the
JSON report; the history keeps what comparisons need.

Concurrent writers (a fleet's tenants, overlapping cron runs of different tenants) are fine:
each opens its own connection, WAL journaling lets readers go on while one writes, and a busy
database is waited for (``timeout``) rather than failing.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from adfs_readiness.cert_inventory import certificate_rows_from_json, run_certificates
from adfs_readiness.files import PRIVATE_DIR_MODE, check_private_file, create_private_file, ensure_dir
from adfs_readiness.model import (
    CertificateChange,
    FindingChange,
    RunChanges,
    RunResult,
    Status,
    Verdict,
)
from adfs_readiness.json_input import parse_untrusted_json

__all__ = [
    "DamagedRow",
    "HISTORY_SCHEMA_VERSION",
    "DATA_DIR_ENV",
    "HistoryError",
    "RunRecord",
    "History",
    "data_dir",
    "default_history_path",
    "finding_rows",
    "changes_between",
    "failing_checks",
]

#: Version of the database layout (``PRAGMA user_version``).
HISTORY_SCHEMA_VERSION = 1
#: Environment variable that moves the data folder (history database and run locks).
DATA_DIR_ENV = "ADFS_READINESS_DATA_DIR"
#: Scores kept in a "since last run" trend (the current run included).
TREND_LENGTH = 10
_NOT_PASSING = {Status.WARN.value, Status.FAIL.value, Status.ERROR.value}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target_key TEXT NOT NULL,
    target TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    score INTEGER NOT NULL,
    grade TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    tool_version TEXT NOT NULL,
    findings TEXT NOT NULL,
    certificates TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_target ON runs (target_key, id);
"""


class HistoryError(RuntimeError):
    """The history database cannot be used (unreadable, damaged, or made by a newer release)."""


def data_dir() -> Path:
    """The folder for the history database and run locks: ``$ADFS_READINESS_DATA_DIR`` when set,
    else the platform's user data folder for adfs-readiness (not created here)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_data_path("adfs-readiness", appauthor=False)


def default_history_path() -> Path:
    """``data_dir() / "history.sqlite3"``."""
    return data_dir() / "history.sqlite3"


@dataclass(frozen=True)
class RunRecord:
    """One recorded run.

    Attributes:
        id: history id (increasing). target_key: what runs are grouped by. target: as reported.
        started_at / finished_at: aware UTC datetimes.
        verdict / score (0-100) / grade (letter) / exit_code: the grade.
        findings: dicts with check_id, target, title, status, severity, blocker, summary, suppressed.
        certificates: dicts with purpose, subject, sha1, not_after (ISO 8601), days_left.
    """

    id: int
    target_key: str
    target: str
    started_at: datetime
    finished_at: datetime
    verdict: Verdict
    score: int
    grade: str
    exit_code: int
    tool_version: str
    findings: tuple[Mapping[str, Any], ...]
    certificates: tuple[Mapping[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``history show --json``)."""
        return {"id": self.id, "target_key": self.target_key, "target": self.target,
                "started_at": self.started_at.isoformat(), "finished_at": self.finished_at.isoformat(),
                "verdict": self.verdict.value, "score": self.score, "grade": self.grade,
                "exit_code": self.exit_code, "tool_version": self.tool_version,
                "findings": [dict(f) for f in self.findings],
                "certificates": [dict(c) for c in self.certificates]}


def finding_rows(result: RunResult) -> list[dict[str, Any]]:
    """The findings of ``result`` in the form the history stores and compares."""
    return [{"check_id": f.check_id, "target": f.target, "title": f.title, "status": Status(f.status).value,
             "severity": f.severity.value, "blocker": bool(f.blocker), "summary": f.summary,
             "suppressed": f.suppression is not None}
            for f in result.findings]


def failing_checks(findings: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Check ids with a ``fail`` or ``error`` finding that no accepted risk covers: the set whose
    change triggers a notification."""
    return frozenset(f["check_id"] for f in findings
                     if f["status"] in (Status.FAIL.value, Status.ERROR.value) and not f.get("suppressed"))


class History:
    """The run history database at ``path`` (created with its folder on first use).

    Use as a context manager or call :meth:`close`. One instance per thread (sqlite3
    connections are not shared between threads).

    Raises:
        HistoryError: the file is not a database, is damaged, or has a newer schema version.
    """

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = Path(path).expanduser()
        #: Damaged rows skipped while reading (one line each), for the run's warnings.
        self.warnings: list[str] = []
        try:
            _prepare_database_file(self.path)
            # Autocommit mode with explicit BEGIN IMMEDIATE for every write: concurrent runs (a fleet,
            # overlapping cron jobs) then wait for the write lock (``timeout``) instead of two deferred
            # transactions deadlocking on the upgrade to a write lock ("database is locked").
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > HISTORY_SCHEMA_VERSION:
                raise HistoryError(f"{self.path}: history schema version {version} is newer than this "
                                   f"release understands ({HISTORY_SCHEMA_VERSION}); upgrade adfs-readiness")
            try:
                # WAL lets readers and a writer overlap; switching needs a moment alone with the file and
                # SQLite does not wait for that, so a concurrent first run simply keeps the current mode.
                self._db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:
                pass
            with self._write():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {HISTORY_SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{self.path}: not a usable history database ({exc})") from None
        except OSError as exc:
            raise HistoryError(f"{self.path}: {exc.strerror or exc}") from None
        # SQLite opened the file by name: make sure it is still the regular file checked above (a
        # symlink swapped in between would have been followed).
        try:
            _prepare_database_file(self.path)
        except OSError as exc:
            self._db.close()
            raise HistoryError(f"{self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction that takes the write lock up front (waiting up to the timeout)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def record(self, result: RunResult, target_key: str | None = None) -> int:
        """Store ``result`` under ``target_key`` (default ``result.target``); returns its id."""
        certs = [row.as_dict() for row in run_certificates(result)]
        grade = result.grade
        with self._write():
            cursor = self._db.execute(
                "INSERT INTO runs (target_key, target, started_at, finished_at, verdict, score, grade, "
                "exit_code, tool_version, findings, certificates) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (target_key or result.target, result.target, _iso(result.started_at), _iso(result.finished_at),
                 grade.verdict.value, int(grade.score), grade.letter, grade.verdict.exit_code,
                 str(result.metadata.get("tool_version", "")), json.dumps(finding_rows(result)),
                 json.dumps(certs)))
        return int(cursor.lastrowid)

    def get(self, run_id: int) -> RunRecord | None:
        """The run with this id, or None.

        Raises:
            HistoryError: the run's row is damaged (the message says how).
        """
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        try:
            return _record(row)
        except DamagedRow as exc:
            raise HistoryError(f"{self.path}: run {run_id} is damaged ({exc})") from None

    def latest(self, target_key: str) -> RunRecord | None:
        """The most recently recorded run of ``target_key`` that is not damaged, or None. Damaged
        rows are skipped with a line in :attr:`warnings` (they never fail later runs)."""
        cursor = self._db.execute("SELECT * FROM runs WHERE target_key = ? ORDER BY id DESC", (target_key,))
        for row in cursor:
            record = self._readable(row)
            if record is not None:
                return record
        return None

    def runs(self, target_key: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Recorded runs, newest first, of one target key or all; at most ``limit``. Damaged rows
        are left out with a line in :attr:`warnings`."""
        if target_key is None:
            rows = self._db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        else:
            rows = self._db.execute("SELECT * FROM runs WHERE target_key = ? ORDER BY id DESC LIMIT ?",
                                    (target_key, limit)).fetchall()
        return [record for record in map(self._readable, rows) if record is not None]

    def scores(self, target_key: str, limit: int = TREND_LENGTH) -> list[int]:
        """Scores of the last ``limit`` runs of ``target_key``, oldest first (a damaged score, not a
        whole number from 0 to 100, is left out)."""
        rows = self._db.execute("SELECT score FROM runs WHERE target_key = ? ORDER BY id DESC LIMIT ?",
                                (target_key, limit)).fetchall()
        return [r[0] for r in reversed(rows) if _is_score(r[0])]

    def _readable(self, row: sqlite3.Row) -> RunRecord | None:
        try:
            return _record(row)
        except DamagedRow as exc:
            warning = f"history run {_row_id(row)} in {self.path} is damaged and was skipped ({exc})"
            self.warnings.append(warning)
            return None


def changes_between(previous: RunRecord, findings: Iterable[Mapping[str, Any]],
                    certificates: Iterable[Mapping[str, Any]], trend: Iterable[int] = ()) -> RunChanges:
    """What changed from ``previous`` to a later run given by its finding rows (:func:`finding_rows`
    or a record's ``findings``) and certificate dicts.

    Findings are compared per check id, then by target. New: not passing now (warn, fail, error)
    and passing, info, skipped or absent before. Resolved: the reverse, for a check that ran now.
    Changed: not passing in both, with another status. A check whose finding moved between no
    target (service-wide) and per-target findings (per domain) compares its worst status over
    the targets only before with the worst over those only now: it is not "resolved" because it
    now names its target (a replaced certificate, a target named both times, stays per target).
    A check that did not pass before and did not run now (skipped, out of scope) is
    ``not_checked``, never resolved. Certificates: those in both runs
    (same purpose and thumbprint) whose days left went down, soonest expiry first.
    """
    before: dict[str, dict[Any, Mapping[str, Any]]] = {}
    after: dict[str, dict[Any, Mapping[str, Any]]] = {}
    for rows, by_check in ((previous.findings, before), (findings, after)):
        for f in rows:
            by_check.setdefault(f["check_id"], {})[f.get("target")] = f
    new, resolved, changed, not_checked = [], [], [], []

    def compare(check_id: str, b: Mapping[str, Any] | None, a: Mapping[str, Any] | None) -> None:
        b_bad = b is not None and b["status"] in _NOT_PASSING
        a_bad = a is not None and a["status"] in _NOT_PASSING
        latest = a or b
        assert latest is not None
        change = FindingChange(check_id=check_id, target=latest.get("target"), title=str(latest.get("title", "")),
                               before=Status(b["status"]) if b else None, after=Status(a["status"]) if a else None,
                               summary=str(latest.get("summary", "")))
        if a_bad and not b_bad:
            new.append(change)
        elif b_bad and not a_bad:
            resolved.append(change)
        elif a_bad and b_bad and a["status"] != b["status"]:
            changed.append(change)

    for check_id in list(after) + [c for c in before if c not in after]:
        b_rows, a_rows = before.get(check_id, {}), after.get(check_id, {})
        if all(f["status"] == Status.SKIP.value for f in a_rows.values()):
            bad = [f for f in b_rows.values() if f["status"] in _NOT_PASSING]
            if bad:
                worst, now = _worst(bad), next(iter(a_rows.values()), None)
                not_checked.append(FindingChange(check_id=check_id, target=worst.get("target"),
                                                 title=str(worst.get("title", "")), before=Status(worst["status"]),
                                                 after=Status(now["status"]) if now else None,
                                                 summary=str((now or worst).get("summary", ""))))
            continue
        only_before = [f for t, f in b_rows.items() if t not in a_rows]
        only_after = [f for t, f in a_rows.items() if t not in b_rows]
        for target, a in a_rows.items():
            if target in b_rows:
                compare(check_id, b_rows[target], a)
        moved = any(f.get("target") is None for f in (*only_before, *only_after))
        if only_before and only_after and moved:
            compare(check_id, _worst(only_before), _worst(only_after))
        else:
            for a in only_after:
                compare(check_id, None, a)
            for b in only_before:
                compare(check_id, b, None)
    old_certs = {(c.purpose, c.sha1): c for c in certificate_rows_from_json(previous.certificates)}
    moved = []
    for cert in certificate_rows_from_json(list(certificates)):
        old = old_certs.get((cert.purpose, cert.sha1))
        if old is not None and cert.days_left < old.days_left:
            moved.append(CertificateChange(cert.purpose, cert.subject, cert.sha1, cert.not_after,
                                           old.days_left, cert.days_left))
    moved.sort(key=lambda c: (c.not_after, c.purpose))
    return RunChanges(previous_run_id=previous.id, previous_started_at=previous.started_at,
                      previous_score=previous.score, previous_grade=previous.grade,
                      previous_verdict=previous.verdict, new=tuple(new), resolved=tuple(resolved),
                      changed=tuple(changed), certificates=tuple(moved), score_trend=tuple(trend),
                      not_checked=tuple(not_checked))


#: Worst first: which finding of a check's targets stands for it when its targets changed.
_STATUS_WEIGHT = {Status.FAIL.value: 4, Status.ERROR.value: 3, Status.WARN.value: 2}


def _worst(rows: Iterable[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The row of ``rows`` (at least one) with the worst status; the first of equals."""
    return max(rows, key=lambda f: _STATUS_WEIGHT.get(f["status"], 0))


def _prepare_database_file(path: Path) -> None:
    """Create the database file safely (folder 0700 when the tool makes it, file 0600, no link
    followed) and refuse a symlink at it or at the journal files SQLite opens beside it: SQLite
    follows links by name, and the tool runs as root (``history.sqlite3`` linked to another
    application's database must not be modified). Raises OSError (files.UnsafePath)."""
    ensure_dir(path.parent, mode=PRIVATE_DIR_MODE)
    create_private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        check_private_file(path.with_name(path.name + suffix))


def _iso(moment: datetime) -> str:
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return moment.isoformat()


class DamagedRow(ValueError):
    """A history row that does not hold what this release writes (a hand edit, a disk error, a
    bug of another version); the message says which column."""


#: Largest findings / certificates JSON of one row read back (a run of a big farm stores ~10 MB).
MAX_ROW_JSON_CHARS = 64 * 1024 * 1024
#: Entries of one list in such a row: a finding row is at least ~100 characters.
_MAX_ROW_ITEMS = MAX_ROW_JSON_CHARS // 100
_STATUSES = {s.value for s in Status}


def _row_id(row: sqlite3.Row) -> str:
    value = row["id"]
    return str(value) if isinstance(value, int) else "?"


def _is_score(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100


def _text(row: sqlite3.Row, column: str, limit: int = 4096) -> str:
    value = row[column]
    if not isinstance(value, str) or len(value) > limit:
        raise DamagedRow(f"{column} is not text")
    return value


def _moment(row: sqlite3.Row, column: str) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(row, column, 64))
    except ValueError:
        raise DamagedRow(f"{column} is not a date and time") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _json_list(row: sqlite3.Row, column: str) -> list[Any]:
    try:
        # The one untrusted-JSON reader (lone surrogates made safe here); a row holds one entry per
        # finding or certificate, so its list cap follows the row's size cap, not an export's.
        value = parse_untrusted_json(_text(row, column, MAX_ROW_JSON_CHARS), max_items=_MAX_ROW_ITEMS,
                                     items_setting="the history row size")
    except ValueError:
        raise DamagedRow(f"{column} is not JSON") from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise DamagedRow(f"{column} is not a list of objects")
    return value


def _record(row: sqlite3.Row) -> RunRecord:
    """The row as a RunRecord. Raises DamagedRow when a column does not hold what
    :meth:`History.record` writes: every later use (comparisons, notifications, ``history show``)
    can then rely on the shapes."""
    run_id, score, exit_code = row["id"], row["score"], row["exit_code"]
    if not isinstance(run_id, int) or not _is_score(score) or not isinstance(exit_code, int) \
            or exit_code not in (0, 1, 2, 3):
        raise DamagedRow("id, score or exit code is not a number in range")
    try:
        verdict = Verdict(row["verdict"])
    except (ValueError, TypeError):
        raise DamagedRow("verdict is not a verdict") from None
    findings = _json_list(row, "findings")
    for finding in findings:
        status = finding.get("status")
        if not (isinstance(finding.get("check_id"), str) and isinstance(status, str) and status in _STATUSES
                and isinstance(finding.get("target"), (str, type(None)))
                and all(isinstance(finding.get(k, ""), str) for k in ("title", "summary"))):
            raise DamagedRow("findings holds an entry without a check id and status")
    return RunRecord(
        id=run_id, target_key=_text(row, "target_key"), target=_text(row, "target"),
        started_at=_moment(row, "started_at"), finished_at=_moment(row, "finished_at"),
        verdict=verdict, score=score, grade=_text(row, "grade", 2),
        exit_code=exit_code, tool_version=_text(row, "tool_version", 200),
        findings=tuple(findings), certificates=tuple(_json_list(row, "certificates")),
    )
