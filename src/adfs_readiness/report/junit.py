"""JUnit XML of a run, for CI systems and dashboards that show test results.

The shape is the common JUnit XML that Jenkins, GitLab, Azure DevOps and junitparser read: one
``<testsuites>`` with one ``<testsuite>`` per report area, and one ``<testcase>`` per finding
(``classname`` = ``adfs_readiness.<area>``, ``name`` = the check id and the finding's target).
Statuses map as follows:

* ``fail`` -> ``<failure type="fail">``; ``warn`` -> ``<failure type="warning">`` (a CI page should
  show warnings; the exit code, not JUnit, is what gates a pipeline);
* ``error`` (could not be determined) -> ``<error>``;
* ``skip``, and any finding covered by an accepted risk -> ``<skipped>`` with the reason;
* ``pass`` / ``info`` -> a passing test case; the summary is in ``<system-out>``.

The document is built with ``xml.etree.ElementTree`` (writing only), so every value is escaped;
characters XML 1.0 cannot carry are replaced.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from adfs_readiness.model import Finding, RunResult, Status
from adfs_readiness.report._common import duration_seconds, findings_by_area, iso_utc
from adfs_readiness.report._outputs import xml_safe

__all__ = ["render_junit"]


def render_junit(result: RunResult) -> str:
    """The JUnit XML document of ``result`` (str, UTF-8 declaration, trailing newline)."""
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root = ET.Element("testsuites", name=xml_safe(f"adfs-readiness {result.target}"))
    for area, findings in findings_by_area(result.findings):
        suite = ET.SubElement(root, "testsuite", name=xml_safe(f"{result.target}: {area.title}"),
                              timestamp=iso_utc(result.started_at)[:19], hostname=xml_safe(result.target))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for f in findings:
            counts["tests"] += 1
            kind = _testcase(suite, f, area.value)
            if kind:
                counts[kind] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{duration_seconds(result):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, f: Finding, area: str) -> str | None:
    name = f.check_id + (f" [{f.target}]" if f.target else "")
    case = ET.SubElement(suite, "testcase", classname=f"adfs_readiness.{area}", name=xml_safe(name), time="0")
    status = Status(f.status)
    detail = xml_safe(f"{f.summary}\n\nRemediation: {f.remediation}" if status is not Status.PASS else f.summary)
    if f.suppression is not None and status in (Status.WARN, Status.FAIL, Status.ERROR):
        s = f.suppression
        ET.SubElement(case, "skipped", message=xml_safe(
            f"accepted risk ({status.value}): {s.reason} (accepted by {s.accepted_by}, until {s.expires.isoformat()})"))
        _out(case, detail)
        return "skipped"
    if status is Status.FAIL:
        ET.SubElement(case, "failure", message=xml_safe(f.summary), type="fail").text = detail
        return "failures"
    if status is Status.WARN:
        ET.SubElement(case, "failure", message=xml_safe(f.summary), type="warning").text = detail
        return "failures"
    if status is Status.ERROR:
        ET.SubElement(case, "error", message=xml_safe(f.summary), type="undetermined").text = detail
        return "errors"
    if status is Status.SKIP:
        ET.SubElement(case, "skipped", message=xml_safe(f.summary))
        return "skipped"
    _out(case, detail)
    return None


def _out(case: ET.Element, text: str) -> None:
    ET.SubElement(case, "system-out").text = text
