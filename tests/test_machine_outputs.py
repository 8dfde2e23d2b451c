"""JUnit, Nagios, Prometheus, CSV and Markdown outputs of one run, each read back by a real
consumer: junitparser for JUnit, prometheus_client's exposition-format parser for the textfile,
the csv module for CSV; exact values asserted."""

from __future__ import annotations

import csv
import io
import re

import junitparser
import pytest
from prometheus_client.parser import text_string_to_metric_families
from conftest import CORPUS
from report_samples import FS, HOSTILE, SIGNING_SHA1, finding, sample_result
from sched_samples import DECRYPT_SHA1, SUCCESSOR_SHA1, TLS_SHA1, run_with_certificates_and_a_risk

from adfs_readiness.cert_inventory import run_certificates
from adfs_readiness.cli import main
from adfs_readiness.model import Status
from adfs_readiness.report._outputs import DayThresholds
from adfs_readiness.report.csv_report import CSV_COLUMNS, render_csv
from adfs_readiness.report.junit import render_junit
from adfs_readiness.report.markdown import md_escape, render_markdown
from adfs_readiness.report.metrics import render_metrics
from adfs_readiness.report.nagios import render_nagios


@pytest.fixture
def result():
    return run_with_certificates_and_a_risk()


def test_certificates_are_read_from_the_facts_soonest_first(result):
    rows = [(c.purpose, c.sha1, c.days_left) for c in run_certificates(result)]
    # 2026-11-30 12:00 is the run's clock: the primary expired 10 days ago.
    assert rows == [("token-signing", SIGNING_SHA1, -10), ("token-decrypting", DECRYPT_SHA1, 10),
                    ("SSL", TLS_SHA1, 182), ("token-signing", SUCCESSOR_SHA1, 335)]


def test_a_certificate_calendar_on_the_result_is_preferred(result):
    import dataclasses

    from adfs_readiness.calendar import CalendarEntry

    not_after = result.started_at.replace(year=2027)
    entry = CalendarEntry(role="tls", subject="CN=wap1", sha1="ABCDEF0123", sha256="00" * 32, not_after=not_after,
                          days_left=(not_after - result.started_at).days, where=("proxy wap1",))
    base = dataclasses.replace(result, certificates=(entry,))
    assert [(c.purpose, c.sha1, c.days_left) for c in run_certificates(base)] == [("tls", "ABCDEF0123", 365)]


def test_junit_is_read_by_junitparser_with_the_right_cases(result, tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(render_junit(result), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert [s.name for s in suites] == [f"{FS}: Federation metadata and token certificates",
                                        f"{FS}: Service-communications (SSL) certificate and TLS",
                                        f"{FS}: AD FS endpoints"]
    cases = {c.name: c for s in suites for c in s}
    assert len(cases) == 8
    expiry = cases[f"token-signing.expiry [CN=ADFS Signing - {FS} (SHA-1 {SIGNING_SHA1})]"]
    (failure,) = expiry.result
    assert isinstance(failure, junitparser.Failure) and failure.type == "fail"
    assert failure.message.startswith("The primary token-signing certificate expired on 2026-11-20")
    reach = cases["metadata.reachable [203.0.113.10:443]"]
    assert isinstance(reach.result[0], junitparser.Error)
    signature = cases["metadata.signature"]  # a warning covered by an accepted risk
    assert isinstance(signature.result[0], junitparser.Skipped)
    assert "accepted risk (warn): RSA-SHA1 until the partner upgrades" in signature.result[0].message
    assert isinstance(cases["tls.san-certauth"].result[0], junitparser.Skipped)
    assert cases["metadata.well-formed"].is_passed
    assert cases["metadata.well-formed"].classname == "adfs_readiness.metadata"
    meta = suites[0]
    assert (meta.tests, meta.failures, meta.errors, meta.skipped) == (5, 1, 1, 1)
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (8, 1, 1, 2)


def test_junit_warning_without_risk_is_a_failure_of_type_warning(tmp_path):
    path = tmp_path / "j.xml"
    path.write_text(render_junit(sample_result()), encoding="utf-8")
    case = next(c for s in junitparser.JUnitXml.fromfile(str(path)) for c in s if c.name == "metadata.signature")
    assert isinstance(case.result[0], junitparser.Failure) and case.result[0].type == "warning"


def test_junit_escapes_hostile_and_control_characters(tmp_path):
    result = sample_result(target=HOSTILE, findings=(finding("metadata.signature", Status.FAIL,
                                                              HOSTILE + "\x00\x07 end"),))
    path = tmp_path / "j.xml"
    path.write_text(render_junit(result), encoding="utf-8")
    (case,) = [c for s in junitparser.JUnitXml.fromfile(str(path)) for c in s]
    assert case.result[0].message == HOSTILE + "\ufffd\ufffd end"


def test_prometheus_textfile_parses_with_exact_samples(result):
    families = {f.name: f for f in text_string_to_metric_families(render_metrics(result))}
    def samples(name):
        return [(s.labels, s.value) for s in families[name].samples]
    assert samples("adfs_readiness_score") == [({"target": FS}, 38.0)]
    assert samples("adfs_readiness_exit_code") == [({"target": FS}, 2.0)]
    assert {s[0]["verdict"]: s[1] for s in samples("adfs_readiness_verdict")} == {
        "READY": 0.0, "READY_WITH_WARNINGS": 0.0, "NOT_READY": 1.0, "INCOMPLETE": 0.0}
    assert samples("adfs_readiness_last_run_timestamp_seconds") == [({"target": FS}, 1796040000.0)]
    # The accepted warning is not counted; it is in the suppressed count.
    assert {s[0]["status"]: s[1] for s in samples("adfs_readiness_findings")} == {
        "pass": 3.0, "warn": 0.0, "fail": 1.0, "error": 1.0, "skip": 1.0, "info": 1.0}
    assert samples("adfs_readiness_suppressed_findings") == [({"target": FS}, 1.0)]
    status = {s[0]["check_id"]: (s[0]["status"], s[0]["suppressed"]) for s in samples("adfs_readiness_check_status")}
    assert status["token-signing.expiry"] == ("fail", "false")
    assert status["metadata.signature"] == ("warn", "true")
    assert status["metadata.reachable"] == ("error", "false")
    days = {(s[0]["purpose"], s[0]["sha1"]): s[1] for s in samples("adfs_readiness_certificate_days_left")}
    assert days == {("token-signing", SIGNING_SHA1): -10.0, ("token-decrypting", DECRYPT_SHA1): 10.0,
                    ("SSL", TLS_SHA1): 182.0, ("token-signing", SUCCESSOR_SHA1): 335.0}
    assert all(f.type == "gauge" for f in families.values())


def test_prometheus_label_values_are_escaped():
    text = render_metrics(sample_result(target='a"b\\c\nd'))
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == "adfs_readiness_score"]
    assert family.samples[0].labels == {"target": 'a"b\\c\nd'}


def test_nagios_line_status_text_and_perfdata(result):
    line = render_nagios(result)
    assert line.endswith("\n") and line.count("\n") == 1
    text, perf = line.rstrip("\n").split(" | ")
    assert text.startswith(f"ADFS-READINESS CRITICAL - {FS} NOT_READY, grade F, score 38/100, 1 fail, 0 warn, "
                           "1 not determined")
    assert f"soonest certificate: token-signing {SIGNING_SHA1[:8]} in -10 days" in text
    assert text.endswith("blockers: token-signing.expiry, metadata.reachable")
    items = perf.split(" ")
    assert items[0] == "score=38;90:;60:;0;100"
    assert f"days_token-signing_{SIGNING_SHA1[:8]}=-10;90:;14:;;" in items
    assert f"days_token-decrypting_{DECRYPT_SHA1[:8]}=10;90:;14:;;" in items
    assert f"days_SSL_{TLS_SHA1[:8]}=182;90:;14:;;" in items
    # Every item is 'label'=value[UOM];warn;crit;min;max (Monitoring Plugins guidelines).
    for item in items:
        assert re.fullmatch(r"[^=' ]+=-?\d+(\.\d+)?;[\d:]*;[\d:]*;\d*;\d*", item), item


def test_nagios_thresholds_come_from_the_caller(result):
    line = render_nagios(result, {"token-decrypting": DayThresholds(30, 7)})
    assert f"days_token-decrypting_{DECRYPT_SHA1[:8]}=10;30:;7:;;" in line


def test_csv_rows_and_formula_guard(result):
    rows = list(csv.DictReader(io.StringIO(render_csv(result), newline="")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["check_id"] for r in rows] == [f.check_id for f in result.findings]
    expiry = next(r for r in rows if r["check_id"] == "token-signing.expiry")
    assert (expiry["status"], expiry["severity"], expiry["blocker"], expiry["suppressed"]) == ("fail", "critical",
                                                                                              "yes", "no")
    assert expiry["started_at"] == "2026-11-30T12:00:00+00:00"
    assert expiry["references"].startswith("https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/")
    sig = next(r for r in rows if r["check_id"] == "metadata.signature")
    assert (sig["suppressed"], sig["accepted_by"], sig["suppression_expires"]) == ("yes", "j.doe@contoso.com",
                                                                                 "2027-01-15")
    hostile = render_csv(sample_result(findings=(finding("metadata.signature", Status.FAIL, "=HYPERLINK(1)"),)))
    (row,) = csv.DictReader(io.StringIO(hostile, newline=""))
    assert row["summary"] == "'=HYPERLINK(1)"


def test_markdown_summary(result):
    md = render_markdown(result)
    assert md.startswith(f"# AD FS readiness: {FS}\n\n**NOT_READY** · grade **F** · score **38/100** · exit code 2")
    assert "## What blocks single sign-on\n\n- `token-signing.expiry` The primary token-signing" in md
    table = md.split("## Findings that do not pass\n\n")[1].split("\n\n")[0].splitlines()
    assert table[0] == "| status | check | target | summary |"
    assert table[2].startswith("| FAIL (BLOCKER) | `token-signing.expiry` |")
    sig = next(line for line in table if "`metadata.signature`" in line)
    assert sig.startswith("| WARN (suppressed) |")
    assert "*Accepted risk: RSA-SHA1 until the partner upgrades \\| see CHG-42 (by j.doe@contoso.com, until 2027-01-15)*" in sig
    assert all(line.count(" | ") == 3 for line in table[2:])  # the '|' in the reason did not add a cell
    assert f"| token-decrypting | CN=ADFS Encryption - {FS} | `{DECRYPT_SHA1}` | 2026-12-10 | 10 |" in md


def test_markdown_escapes_server_text():
    assert md_escape("[x](javascript:1) <b>*y*</b> a|b") == "\\[x\\](javascript:1) &lt;b>\\*y\\*&lt;/b> a\\|b"


def test_several_outputs_from_one_cli_run(tmp_path, capsys):
    paths = {name: tmp_path / name for name in ("r.json", "j.xml", "m.prom", "f.csv", "s.md")}
    code = main(["check", "--metadata", str(CORPUS / "metadata" /
                                            "msidentitymodel_adfs-v4-metadata.xml"),
                 "--as-of", "2026-11-30", "--no-history", "--json", str(paths["r.json"]), "--junit", str(paths["j.xml"]),
                 "--metrics", str(paths["m.prom"]), "--csv", str(paths["f.csv"]), "--markdown", str(paths["s.md"]),
                 "--nagios"])
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("ADFS-READINESS ")
    state = out.split()[1]
    assert {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[state] == code
    assert all(p.stat().st_size > 0 for p in paths.values())
    junit = junitparser.JUnitXml.fromfile(str(paths["j.xml"]))
    assert junit.tests == len(list(csv.DictReader(paths["f.csv"].open(newline=""))))
    assert list(text_string_to_metric_families(paths["m.prom"].read_text()))
