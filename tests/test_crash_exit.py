"""Issue 12 class 9: an unexpected exception ends the run with exit 3 (INCOMPLETE / Nagios
UNKNOWN), one line on standard error and, when the run got as far as a result, every report asked
for written with the verdict INCOMPLETE. Never exit 0, 1 or 2, never a traceback.

The faults are planted in the tool's own code in a child process (tests/hostile.py ``inject``):
each stands for the class of bug that raises at that stage (a renderer tripping over a value, the
history layer, the engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile import run_cli

from adfs_readiness.report.json_report import validate_report

METADATA = Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"
BOOM = '''
def boom(*args, **kwargs):
    raise RuntimeError("injected failure\\nsecond line of the message")
'''


def outputs(tmp_path):
    return {"json": tmp_path / "r.json", "html": tmp_path / "r.html", "junit": tmp_path / "r.xml",
            "metrics": tmp_path / "r.prom", "csv": tmp_path / "r.csv", "markdown": tmp_path / "r.md"}


def output_args(paths):
    return [a for fmt, path in paths.items() for a in (f"--{fmt}", path)]


def assert_one_line_crash(run):
    run.assert_clean()
    assert run.code == 3
    lines = [line for line in run.err.splitlines() if "internal error" in line]
    assert len(lines) == 1, run.err
    assert "RuntimeError: injected failure" in lines[0] and "second line" not in run.err


def assert_incomplete_reports(paths):
    doc = json.loads(paths["json"].read_text())
    assert doc["verdict"] == "INCOMPLETE" and doc["exit_code"] == 3
    assert "internal error" in doc["verdict_reasons"][0]["summary"]
    assert doc["run"]["internal_error"].startswith("RuntimeError: injected failure")
    assert "adfs_readiness_exit_code{" in paths["metrics"].read_text() or \
        "adfs_readiness_exit_code 3" in paths["metrics"].read_text()
    for fmt in ("html", "markdown"):
        assert "INCOMPLETE" in paths[fmt].read_text(encoding="utf-8"), fmt
    # JUnit and CSV list findings, not a verdict: the internal error is a finding of its own there.
    assert "engine.internal-error" in paths["junit"].read_text() and "<error" in paths["junit"].read_text()
    assert "engine.internal-error" in paths["csv"].read_text(encoding="utf-8-sig")
    assert doc["findings"][0]["check_id"] == "engine.internal-error" and doc["findings"][0]["status"] == "error"
    return doc


def test_a_renderer_crash_writes_incomplete_reports_and_exits_3(tmp_path):
    paths = outputs(tmp_path)
    run = run_cli("check", "--metadata", METADATA, "--no-history", "-q", *output_args(paths),
                  inject=BOOM + "import adfs_readiness.report as r\nr.render_html = boom\n")
    assert_one_line_crash(run)
    doc = assert_incomplete_reports(paths)
    validate_report(doc)  # the full JSON renderer still worked: a schema-valid INCOMPLETE report
    assert {f["check_id"] for f in doc["findings"]} >= {"token-signing.expiry"}  # findings made before it kept
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")  # the minimal form: its renderer is broken


def test_a_crash_while_recording_history_still_reports_incomplete(tmp_path):
    paths = outputs(tmp_path)
    run = run_cli("check", "--metadata", METADATA, "--history", tmp_path / "h.sqlite3", "-q", *output_args(paths),
                  inject=BOOM + "import adfs_readiness.history as h\nh.History.record = boom\n")
    assert_one_line_crash(run)
    doc = assert_incomplete_reports(paths)
    validate_report(doc)
    assert "<html" in paths["html"].read_text() and "token-signing.expiry" in paths["html"].read_text()


def test_a_crash_printing_the_summary_turns_the_written_reports_incomplete(tmp_path):
    paths = outputs(tmp_path)
    run = run_cli("check", "--metadata", METADATA, "--no-history", *output_args(paths),
                  inject=BOOM + "import adfs_readiness.report as r\nr.render_text = boom\n")
    assert_one_line_crash(run)
    assert_incomplete_reports(paths)  # they were written NOT_READY, then rewritten INCOMPLETE


def test_a_crash_before_any_result_exits_3_and_writes_nothing(tmp_path):
    paths = outputs(tmp_path)
    run = run_cli("check", "--metadata", METADATA, "--no-history", "-q", *output_args(paths),
                  inject=BOOM + "import adfs_readiness.engine.runner as e\ne.plan_run = boom\n")
    assert_one_line_crash(run)
    assert not any(p.exists() for p in paths.values())


@pytest.mark.parametrize("command", ["assess", "collect"])
def test_assess_and_collect_crashes_exit_3(tmp_path, command):
    snapshot = tmp_path / "evidence.json"
    assert run_cli("collect", "--metadata", METADATA, "--out", snapshot, "-q").code != 3  # the verdict's code
    args = ["assess", snapshot] if command == "assess" else ["collect", "--metadata", METADATA, "--out",
                                                               tmp_path / "again.json"]
    paths = outputs(tmp_path)
    run = run_cli(*args, "-q", *output_args(paths),
                  inject=BOOM + "import adfs_readiness.report as r\nr.render_html = boom\n")
    assert_one_line_crash(run)
    assert_incomplete_reports(paths)


def test_the_traceback_is_in_the_debug_log_with_v(tmp_path):
    run = run_cli("-v", "check", "--metadata", METADATA, "--no-history", "-q",
                  inject=BOOM + "import adfs_readiness.engine.runner as e\ne.plan_run = boom\n")
    assert run.code == 3 and "Traceback" in run.err and "in boom" in run.err


def test_without_a_fault_the_exit_code_is_the_verdict(tmp_path):
    run = run_cli("check", "--metadata", METADATA, "--no-history", "-q", "--json", tmp_path / "r.json")
    run.assert_clean()
    assert run.code == 2 and json.loads((tmp_path / "r.json").read_text())["verdict"] == "NOT_READY"
