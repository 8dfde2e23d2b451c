"""The run history: records, ordering, exact "since last run" comparisons, schema versioning."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta

import pytest
from report_samples import FS, SIGNING_SHA1, finding, sample_result
from sched_samples import DECRYPT_SHA1, result_with_certificates, run_with_certificates_and_a_risk

from adfs_readiness.history import (
    HISTORY_SCHEMA_VERSION,
    History,
    HistoryError,
    changes_between,
    default_history_path,
    failing_checks,
    finding_rows,
)
from adfs_readiness.model import Status, Verdict
from adfs_readiness.report import render_html, render_text, report_dict
from adfs_readiness.report.json_report import validate_report


def test_default_path_follows_the_data_dir_variable(_private_data_dir):
    assert default_history_path() == _private_data_dir / "history.sqlite3"


def test_record_and_read_back(tmp_path):
    result = run_with_certificates_and_a_risk()
    with History(tmp_path / "h" / "history.sqlite3") as history:
        first = history.record(result)
        second = history.record(result, "tenant-a")
        run = history.get(first)
        assert (first, second) == (1, 2)
        assert (run.target_key, run.target, run.verdict, run.score, run.grade, run.exit_code) == (
            FS, FS, Verdict.NOT_READY, 38, "F", 2)
        assert run.started_at == result.started_at and run.tool_version == "0.1.0"
        assert run.findings == tuple(finding_rows(result))
        signature = next(f for f in run.findings if f["check_id"] == "metadata.signature")
        assert signature["suppressed"] is True and signature["status"] == "warn"
        assert [c["sha1"] for c in run.certificates][:2] == [SIGNING_SHA1, DECRYPT_SHA1]
        assert history.latest(FS).id == 1 and history.latest("tenant-a").id == 2 and history.latest("x") is None
        assert [r.id for r in history.runs()] == [2, 1] and [r.id for r in history.runs(FS)] == [1]
        assert history.scores(FS) == [38] and history.get(99) is None
    with sqlite3.connect(tmp_path / "h" / "history.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == HISTORY_SCHEMA_VERSION


def test_changes_between_new_resolved_changed_and_certificates(tmp_path):
    before = result_with_certificates()
    # Later: reachable now passes (resolved), the signature fails instead of warning (changed),
    # a new failing check appears (new); the decrypting certificate is 2 days closer to expiry.
    later_findings = [dataclasses.replace(f, status=Status.PASS) if f.check_id == "metadata.reachable"
                      else dataclasses.replace(f, status=Status.FAIL) if f.check_id == "metadata.signature"
                      else f for f in before.findings]
    later_findings.append(finding("metadata.valid-until", Status.FAIL, "validUntil is in the past."))
    later = result_with_certificates(findings=tuple(later_findings),
                          started_at=before.started_at + timedelta(days=2))
    with History(tmp_path / "h.sqlite3") as history:
        previous = history.get(history.record(before))
    later_certs = [{**c, "days_left": c["days_left"] - 2} for c in previous.certificates]
    changes = changes_between(previous, finding_rows(later), later_certs, (38, 40))
    assert [(c.check_id, c.before, c.after) for c in changes.new] == [("metadata.valid-until", None, Status.FAIL)]
    assert [(c.check_id, c.target, c.before, c.after) for c in changes.resolved] == [
        ("metadata.reachable", "203.0.113.10:443", Status.ERROR, Status.PASS)]
    assert [(c.check_id, c.before, c.after) for c in changes.changed] == [
        ("metadata.signature", Status.WARN, Status.FAIL)]
    assert [(c.purpose, c.sha1, c.days_left_before, c.days_left_after) for c in changes.certificates][:2] == [
        ("token-signing", SIGNING_SHA1, -10, -12), ("token-decrypting", DECRYPT_SHA1, 10, 8)]
    assert changes.score_trend == (38, 40) and changes.previous_verdict is Verdict.NOT_READY and changes.any

    # Every format shows it.
    shown = dataclasses.replace(later, changes=changes)
    text = render_text(shown, width=200)
    assert "Since last run" in text and "new      metadata.valid-until absent -> fail: validUntil is in the past." in text
    assert "resolved metadata.reachable error -> pass" in text and "changed  metadata.signature warn -> fail" in text
    assert f"token-decrypting CN=ADFS Encryption - {FS} (A1B2C3D4): 10 -> 8 days left" in text
    page = render_html(shown)
    assert 'id="since"' in page and "Compared with run 1 of 2026-11-30 12:00:00 UTC" in page
    doc = report_dict(shown)
    validate_report(doc)
    assert doc["since_last_run"]["score_delta"] == doc["score"] - 38
    assert [c["check_id"] for c in doc["since_last_run"]["new"]] == ["metadata.valid-until"]


def test_failing_checks_leave_out_accepted_risks_and_warnings():
    rows = finding_rows(run_with_certificates_and_a_risk())
    assert failing_checks(rows) == {"token-signing.expiry", "metadata.reachable"}


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {HISTORY_SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryError, match="newer than this release understands"):
        History(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(HistoryError, match="not a usable history database"):
        History(path)


def test_concurrent_runs_share_one_new_history_without_locking_errors(tmp_path):
    """Regression: a fleet's tenants opening and writing one new history database at the same time
    failed with "database is locked" (deferred transactions deadlocking on the upgrade to a write
    lock; about 1 trial in 5 of this test failed before the fix)."""
    import threading

    for trial in range(8):
        path = tmp_path / f"shared-{trial}.sqlite3"
        errors: list[str] = []
        start = threading.Barrier(16)

        def tenant(i: int, path=path, errors=errors, start=start) -> None:
            try:
                start.wait()
                with History(path) as history:
                    for _ in range(3):
                        history.record(sample_result(), target_key=f"tenant-{i}")
                        history.runs(f"tenant-{i}")
            except Exception as exc:  # collected and asserted below
                errors.append(repr(exc))

        threads = [threading.Thread(target=tenant, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with History(path) as history:
            assert len(history.runs(limit=100)) == 48


def test_a_finding_that_now_names_its_target_is_compared_not_resolved(tmp_path, capsys):
    # cloud.signing-cert-match: "not determined" service-wide before (no Entra settings read),
    # per domain now. Not "resolved error -> absent": compared per check id.
    from adfs_readiness.cli import main

    base = sample_result()
    before = dataclasses.replace(base, findings=base.findings + (
        finding("cloud.signing-cert-match", Status.ERROR, "Could not be determined: no Graph secret."),
        finding("cloud.issuer-uri", Status.ERROR, "Could not be determined: no Graph secret."),
        finding("dns.msoid", Status.FAIL, "msoid points to login.microsoftonline.com.")))
    after = dataclasses.replace(base, started_at=base.started_at + timedelta(days=1), findings=base.findings + (
        finding("cloud.signing-cert-match", Status.FAIL, "Entra holds another certificate.", target="contoso.com"),
        finding("cloud.signing-cert-match", Status.PASS, "Entra holds it.", target="fabrikam.com"),
        finding("cloud.issuer-uri", Status.PASS, "Matches.", target="contoso.com"),
        finding("dns.msoid", Status.SKIP, "Skipped by configuration (command line: --skip).")))
    path = tmp_path / "h.sqlite3"
    with History(path) as history:
        first, second = history.record(before), history.record(after)
        changes = changes_between(history.get(first), history.get(second).findings, [])
    triples = {(c.check_id, c.target, c.before, c.after) for c in (*changes.new, *changes.resolved, *changes.changed)}
    assert ("cloud.signing-cert-match", "contoso.com", Status.ERROR, Status.FAIL) in triples
    assert ("cloud.issuer-uri", "contoso.com", Status.ERROR, Status.PASS) in triples
    assert not any(after_ is None for _, _, _, after_ in triples)  # nothing "-> absent"
    assert [(c.check_id, c.before, c.after) for c in changes.not_checked] == [("dns.msoid", Status.FAIL, Status.SKIP)]
    assert "dns.msoid" not in {c.check_id for c in changes.resolved}

    assert main(["history", "--history", str(path), "diff", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert "  changed  cloud.signing-cert-match [contoso.com]: error -> fail: Entra holds another certificate." in out
    assert "  resolved cloud.issuer-uri [contoso.com]: error -> pass: Matches." in out
    assert "  not run  dns.msoid: fail -> skip: " in out and "-> absent" not in out
