"""A Prometheus textfile (text exposition format 0.0.4) for node_exporter's textfile collector.

https://prometheus.io/docs/instrumenting/exposition_formats/ describes the format; the
textfile collector (node_exporter ``--collector.textfile.directory``) reads ``*.prom`` files,
so a scheduler writes one file per tenant and the collector picks them all up. Write it
atomically (the CLI writes to a temporary name and renames), as the collector may read at any time.

Metrics (gauges; every sample has a ``target`` label):

* ``adfs_readiness_score`` 0-100, ``adfs_readiness_exit_code`` 0-3,
  ``adfs_readiness_verdict{verdict}`` 1 for the run's verdict and 0 for the three others;
* ``adfs_readiness_last_run_timestamp_seconds`` (Unix time of the run's clock);
* ``adfs_readiness_findings{status}`` findings by status (accepted risks not counted),
  ``adfs_readiness_suppressed_findings``;
* ``adfs_readiness_check_status{check_id,status,suppressed}`` 1 per check, with its worst status
  (so ``adfs_readiness_check_status{status="fail",suppressed="false"} == 1`` alerts on failures);
* ``adfs_readiness_certificate_days_left{purpose,subject,sha1}`` and
  ``adfs_readiness_certificate_not_after_timestamp_seconds{...}`` per certificate.
"""

from __future__ import annotations

from typing import Iterable

from adfs_readiness.cert_inventory import run_certificates
from adfs_readiness.model import RunResult, Status, Verdict
from adfs_readiness.report._common import utc
from adfs_readiness.report._outputs import check_statuses

__all__ = ["render_metrics"]


def render_metrics(result: RunResult) -> str:
    """The textfile of ``result`` (str, ``\\n`` line ends, trailing newline)."""
    target = {"target": result.target}
    grade = result.grade
    lines: list[str] = []

    def family(name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        lines.append(f"# HELP {name} {_help(help_text)}")
        lines.append(f"# TYPE {name} gauge")
        for labels, value in samples:
            lines.append(f"{name}{_labels({**target, **labels})} {_number(value)}")

    family("adfs_readiness_score", "Readiness score of the run (0-100).", [({}, grade.score)])
    family("adfs_readiness_exit_code", "Exit code of the run: 0 READY, 1 READY_WITH_WARNINGS, 2 NOT_READY, "
           "3 INCOMPLETE.", [({}, grade.verdict.exit_code)])
    family("adfs_readiness_verdict", "1 for the verdict of the run, 0 for the others.",
           [({"verdict": v.value}, 1 if v is grade.verdict else 0) for v in Verdict])
    family("adfs_readiness_last_run_timestamp_seconds", "When the run started (Unix time).",
           [({}, utc(result.started_at).timestamp())])
    counts = {s.value: 0 for s in Status}
    for f in result.findings:
        if f.suppression is None:
            counts[Status(f.status).value] += 1
    family("adfs_readiness_findings", "Findings by status (accepted risks not counted).",
           [({"status": k}, v) for k, v in counts.items()])
    family("adfs_readiness_suppressed_findings", "Findings covered by an accepted risk.",
           [({}, sum(1 for f in result.findings if f.suppression is not None))])
    family("adfs_readiness_check_status", "1 per check with its worst status (suppressed=true when an accepted "
           "risk covers it).",
           [({"check_id": c.check_id, "status": c.status.value, "suppressed": "true" if c.suppressed else "false"}, 1)
            for c in check_statuses(result)])
    certs = run_certificates(result)
    if certs:
        family("adfs_readiness_certificate_days_left", "Whole days until the certificate expires (negative once "
               "expired).", [(_cert_labels(c), c.days_left) for c in certs])
        family("adfs_readiness_certificate_not_after_timestamp_seconds", "When the certificate expires (Unix time).",
               [(_cert_labels(c), c.not_after.timestamp()) for c in certs])
    return "\n".join(lines) + "\n"


def _cert_labels(cert) -> dict[str, str]:
    return {"purpose": cert.purpose, "subject": cert.subject, "sha1": cert.sha1}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))
