"""An unexpected exception ends the run as INCOMPLETE (exit 3), never as a verdict.

Exit codes follow Nagios: 0 READY, 1 READY_WITH_WARNINGS, 2 NOT_READY, 3 INCOMPLETE / UNKNOWN. A
traceback used to end the process with Python's exit 1, which monitoring reads as "READY with
warnings". Here:

* :func:`crash_line` makes the one line printed on standard error (the exception's type and the
  first line of its message, cut, control characters made visible); the traceback goes to the
  debug log (``-v``).
* :class:`RunCrashed` carries the run's result when the exception came after the checks had run
  (while recording the history, notifying, rendering or writing a report), so the reports the
  admin asked for can still be written.
* :func:`incomplete` marks such a result INCOMPLETE with the reason first among the verdict's
  reasons; :func:`write_incomplete_reports` writes each requested report from it and, when a
  renderer fails again, a minimal report of that format that says INCOMPLETE and why.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import logging
import traceback
from pathlib import Path
from typing import Callable, Iterable

from adfs_readiness.model import Area, Finding, RunResult, Severity, Status, Verdict, VerdictReason
from adfs_readiness.text import csv_cell

__all__ = ["EXIT_CRASH", "INTERNAL_ERROR_CHECK_ID", "RunCrashed", "crash_line", "log_traceback", "incomplete",
           "write_incomplete_reports"]

#: The check id of the finding that says the run ended with an internal error.
INTERNAL_ERROR_CHECK_ID = "engine.internal-error"

#: The exit code of a run that ended with an unexpected exception (Nagios UNKNOWN).
EXIT_CRASH = 3

log = logging.getLogger("adfs_readiness.crash")


class RunCrashed(Exception):
    """An unexpected exception (``error``) after the run produced ``result``."""

    def __init__(self, result: RunResult, error: BaseException) -> None:
        super().__init__(str(error))
        self.result, self.error = result, error


def crash_line(error: BaseException) -> str:
    """One line for standard error: ``TypeError: message`` (first line, secrets redacted
    (:func:`adfs_readiness.redaction.redact_known`), at most 300 characters, control characters
    shown as escapes)."""
    from adfs_readiness.redaction import redact_known

    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    # An exception's message may quote what a server sent or a library was given (a bind password
    # echoed by a DC, a URL with its userinfo): this line reaches standard error and every report,
    # after the run's result was redacted.
    message = redact_known(message)
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return text if len(text) <= 300 else text[:300] + "…"


def log_traceback(error: BaseException) -> None:
    """The traceback of ``error`` in the debug log (shown with ``-v``)."""
    log.debug("internal error\n%s", "".join(traceback.format_exception(error)))


def incomplete(result: RunResult, error: BaseException) -> RunResult:
    """``result`` with the verdict INCOMPLETE (exit 3), first among the reasons that the run ended
    with an internal error, and one ``error`` finding :data:`INTERNAL_ERROR_CHECK_ID` saying so
    (so every format shows it: a JUnit error case, a CSV row, a report line). The other findings,
    the score and the facts are kept: they were made before the failure."""
    line = crash_line(error)
    summary = (f"The run ended with an internal error ({line}): the findings were made before it, but the run "
               f"could not be completed, so readiness is not determined.")
    reason = VerdictReason("blocker_undetermined", INTERNAL_ERROR_CHECK_ID, summary)
    area = result.findings[0].area if result.findings else Area.METADATA
    finding = Finding(
        check_id=INTERNAL_ERROR_CHECK_ID, area=area, title="The run completed without an internal error",
        status=Status.ERROR, severity=Severity.CRITICAL, blocker=False, blocker_check=True, summary=summary,
        evidence={"exception": line},
        remediation=("Run again with -v and report the traceback it prints (it names the failing code); the "
                     "verdict of this run is not determined."),
        references=())
    counts = {**result.grade.counts, Status.ERROR.value: result.grade.counts.get(Status.ERROR.value, 0) + 1}
    grade = dataclasses.replace(result.grade, verdict=Verdict.INCOMPLETE, reasons=(reason, *result.grade.reasons),
                                counts=counts)
    metadata = {**result.metadata, "internal_error": line}
    return dataclasses.replace(result, grade=grade, metadata=metadata, findings=(finding, *result.findings))


def write_incomplete_reports(result: RunResult, outputs: Iterable[tuple[str, Path]],
                             renderers: dict[str, Callable[[RunResult], str]],
                             write: Callable[[Path, str], None]) -> list[Path]:
    """Write each ``(format, path)`` of ``outputs`` from ``result`` (already :func:`incomplete`)
    with ``renderers[format]``; when that renderer raises, a minimal report of the format instead
    (``json``, ``html``, ``junit``, ``metrics``, ``csv``, ``markdown``). Returns the paths written;
    a path that cannot be written is skipped (the crash line already tells the admin)."""
    written = []
    for fmt, path in outputs:
        try:
            text = renderers[fmt](result)
        except Exception as exc:  # the renderer may be what failed: fall back to the minimal form
            log_traceback(exc)
            text = _minimal(fmt, result)
        try:
            write(path, text)
        except OSError:
            continue
        written.append(path)
    return written


def _minimal(fmt: str, result: RunResult) -> str:
    reason = result.metadata.get("internal_error", "internal error")
    target = str(result.target)
    message = f"INCOMPLETE: the run of {target} ended with an internal error ({reason}); readiness is not determined."
    if fmt == "json":
        return json.dumps({"target": target, "verdict": Verdict.INCOMPLETE.value, "exit_code": EXIT_CRASH,
                           "error": message}, indent=2) + "\n"
    if fmt == "html":
        return (f"<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>INCOMPLETE</title>"
                f"<h1>INCOMPLETE</h1><p>{html.escape(message)}</p></html>\n")
    if fmt == "junit":
        text = html.escape(message, quote=True)
        return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites><testsuite name=\"adfs-readiness\" tests=\"1\" "
                f"errors=\"1\"><testcase classname=\"adfs-readiness\" name=\"run\"><error message=\"{text}\"/>"
                "</testcase></testsuite></testsuites>\n")
    if fmt == "metrics":
        return ("# HELP adfs_readiness_exit_code Exit code of the run: 0 READY, 1 READY_WITH_WARNINGS, 2 NOT_READY, "
                "3 INCOMPLETE.\n# TYPE adfs_readiness_exit_code gauge\n"
                f"adfs_readiness_exit_code {EXIT_CRASH}\n")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["target", "verdict", "summary"])
        writer.writerow([csv_cell(v) for v in (target, Verdict.INCOMPLETE.value, message)])
        return out.getvalue()
    return f"# INCOMPLETE\n\n{message}\n"
