"""The report options of the command line: --action-plan, --all, explain --grading, and the title
of a metadata-file run (the service it describes, not the operator's path)."""

from __future__ import annotations

import csv
import io
import re
import json
from pathlib import Path

import lxml.html

from adfs_readiness.cli import main

CORPUS = Path(__file__).parent / "corpus"
METADATA = CORPUS / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"


def _check(tmp_path, *extra):
    return main(["check", "--metadata", str(METADATA), "--as-of", "2026-11-30", "--no-history", *extra])


def test_action_plan_csv_html_title_and_summary_of_a_metadata_file(tmp_path, capsys):
    plan, page, report = tmp_path / "plan.csv", tmp_path / "r.html", tmp_path / "r.json"
    code = _check(tmp_path, "--action-plan", str(plan), "--html", str(page), "--json", str(report))
    out = capsys.readouterr().out
    doc = json.loads(report.read_text())
    assert code == doc["exit_code"] == 2
    rows = list(csv.DictReader(io.StringIO(plan.read_text())))
    assert rows[0]["priority"] == "1" and rows[0]["check_id"] == "token-signing.expiry"
    assert rows[0]["blocks_sso"] == "yes" and rows[0]["due_date"] == "2026-11-30"
    assert f"Action plan report: {plan}" in out
    # The title is the service the metadata describes (its entityID's host), not the local path.
    tree = lxml.html.document_fromstring(page.read_text())
    assert tree.findtext(".//h1") == "fs.msidlab11.com"
    assert str(METADATA) not in tree.find_class("top")[0].text_content()
    assert out.startswith("AD FS readiness of fs.msidlab11.com\n")
    # The summary fits a screen: skips one line per reason, passes counted.
    assert len(out.splitlines()) < 50 and re.search(r"^Skipped \(\d{2,}\)$", out, re.M) and "PASS " not in out


def test_all_prints_every_finding(tmp_path, capsys):
    _check(tmp_path, "--all")
    out = capsys.readouterr().out
    assert "Why this verdict" in out and "PASS " in out and "SKIP " in out


def test_explain_grading_rules_and_a_reports_points(tmp_path, capsys):
    assert main(["explain", "--grading"]) == 0
    rules = capsys.readouterr().out
    assert rules.startswith("How the grade is made") and "critical 10, high 6, medium 3, low 1" in " ".join(rules.split())
    report = tmp_path / "r.json"
    _check(tmp_path, "--json", str(report), "-q")
    assert main(["explain", "--grading", str(report)]) == 0
    out = capsys.readouterr().out
    doc = json.loads(report.read_text())
    assert f"score {doc['score']}, grade {doc['grade']}" in out
    first = doc["grading"]["points_lost"][0]
    assert f"{-first['points']:6.1f}  {first['check_id']}" in out
    # An older report without the "grading" object is graded again from its findings: same figures.
    del doc["grading"]
    older = tmp_path / "old.json"
    older.write_text(json.dumps(doc))
    assert main(["explain", "--grading", str(older)]) == 0
    assert capsys.readouterr().out == out.replace(str(report), str(older))


def test_explain_grading_refuses_what_is_not_a_report(tmp_path, capsys):
    for content in (b"not json", b'{"findings": 3}', b"\xff\xfe garbage"):
        bad = tmp_path / "bad.json"
        bad.write_bytes(content)
        assert main(["explain", "--grading", str(bad)]) == 3
        err = capsys.readouterr().err
        assert err.startswith("adfs-readiness: ") and str(bad) in err
    assert main(["explain", "--grading", str(tmp_path / "missing.json")]) == 3
    assert main(["explain"]) == 3
