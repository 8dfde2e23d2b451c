"""Accepted risks: the file format and its errors, suppressed findings visible in every format
and out of the grade, and expired entries as engine.suppression-expired findings."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from conftest import CORPUS, FIXED_NOW
from report_samples import FS, SIGNING_SHA1, sample_result

from adfs_readiness.cli import main
from adfs_readiness.grading import grade
from adfs_readiness.model import Status, Verdict
from adfs_readiness.report import render_html, render_text, report_dict
from adfs_readiness.report.json_report import validate_report
from adfs_readiness.settings import SettingsError
from adfs_readiness.suppressions import EXPIRED_CHECK_ID, Suppression, apply_suppressions, load_suppressions

RISKS = '''
[[accepted_risk]]
check = "metadata.signature"
reason = "Partner <b>app</b> needs RSA-SHA1 until 2027"
expires = 2027-01-15
accepted_by = "j.doe@contoso.com"

[[accepted_risk]]
check = "token-signing.*"
target = "fs.contoso.com"
reason = "Renewal booked"
expires = 2026-11-01
accepted_by = "ops"
'''


@pytest.fixture
def risks_file(tmp_path):
    path = tmp_path / "risks.toml"
    path.write_text(RISKS, encoding="utf-8")
    return path


def test_load(risks_file):
    first, second = load_suppressions(risks_file)
    assert first == Suppression(check="metadata.signature", reason="Partner <b>app</b> needs RSA-SHA1 until 2027",
                                expires=date(2027, 1, 15), accepted_by="j.doe@contoso.com", target=None,
                                source=str(risks_file), index=0)
    assert (second.check, second.target, second.index) == ("token-signing.*", "fs.contoso.com", 1)
    assert second.expired(FIXED_NOW) and not first.expired(FIXED_NOW)
    assert not first.expired(datetime(2027, 1, 15, 23, 59, tzinfo=timezone.utc))  # the last valid day


@pytest.mark.parametrize("text, key, expected", [
    ('[[accepted_risk]]\ncheck="x"\nreason="r"\nexpires=2027-01-01\naccepted_by="a"', "accepted_risk[0].check",
     "a check id"),
    ('[[accepted_risk]]\ncheck="dns.*"\nreason="r"\nexpires="2027-01-01"\naccepted_by="a"',
     "accepted_risk[0].expires", "a TOML date"),
    ('[[accepted_risk]]\ncheck="dns.*"\nexpires=2027-01-01\naccepted_by="a"', "accepted_risk[0].reason",
     "a non-empty string"),
    ('[[accepted_risk]]\ncheck="dns.*"\nreason="r"\nexpires=2027-01-01\naccepted_by="a"\nowner="b"',
     "accepted_risk[0].owner", "one of"),
    ('[risk]\ncheck="dns.*"', "risk", "only [[accepted_risk]] tables"),
    ('[[accepted_risk]\n', "(syntax)", "valid TOML"),
])
def test_errors_name_the_file_and_key(tmp_path, text, key, expected):
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as info:
        load_suppressions(path)
    assert info.value.key == key and expected in info.value.expected and str(path) in str(info.value)


def test_apply_keeps_findings_visible_and_out_of_the_grade(risks_file):
    result = apply_suppressions(sample_result(), load_suppressions(risks_file), FIXED_NOW)
    signature = next(f for f in result.findings if f.check_id == "metadata.signature")
    assert signature.status is Status.WARN and signature.suppression.accepted_by == "j.doe@contoso.com"
    # The expired token-signing.* entry covers nothing: the expired blocker still fails the run.
    expiry = next(f for f in result.findings if f.check_id == "token-signing.expiry")
    assert expiry.suppression is None and result.grade.verdict is Verdict.NOT_READY
    unsuppressed = grade([f for f in result.findings if f.suppression is None])
    assert result.grade.score == unsuppressed.score
    assert "metadata.signature" not in [r.check_id for r in result.grade.reasons]
    assert result.grade.counts["warn"] == 2  # the accepted warning and the expired-entry warning, both shown
    (expired,) = [f for f in result.findings if f.check_id == EXPIRED_CHECK_ID]
    assert (expired.status, expired.severity.value, expired.blocker, expired.area.value) == (
        Status.WARN, "low", False, "metadata")
    assert expired.target == "token-signing.*@fs.contoso.com"
    assert expired.evidence["days_since_expiry"] == 29 and expired.evidence["entry"] == "accepted_risk[1]"
    assert expired.evidence["covered_findings"] == [
        {"check_id": "token-signing.expiry", "target": f"CN=ADFS Signing - {FS} (SHA-1 {SIGNING_SHA1})",
         "status": "fail"}]
    assert "expired on 2026-11-01, 29 day(s) ago. 1 finding(s) it covered count again" in expired.summary
    assert result.metadata["accepted_risks"]["suppressed_findings"] == 1


def test_an_active_entry_on_a_blocker_changes_the_verdict(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('[[accepted_risk]]\ncheck="token-signing.expiry"\nreason="r"\nexpires=2026-12-31\n'
                    'accepted_by="ciso"\n[[accepted_risk]]\ncheck="metadata.reachable"\nreason="r"\n'
                    'expires=2026-12-31\naccepted_by="ciso"\n')
    result = apply_suppressions(sample_result(), load_suppressions(path), FIXED_NOW)
    assert result.grade.verdict is Verdict.READY_WITH_WARNINGS  # only the signature warning is left


def test_suppressed_findings_are_marked_in_json_html_and_text(risks_file):
    result = apply_suppressions(sample_result(), load_suppressions(risks_file), FIXED_NOW)
    doc = report_dict(result)
    validate_report(doc)
    sig = next(f for f in doc["findings"] if f["check_id"] == "metadata.signature")
    assert sig["suppression"] == {"reason": "Partner <b>app</b> needs RSA-SHA1 until 2027",
                                  "accepted_by": "j.doe@contoso.com", "expires": "2027-01-15",
                                  "source": str(risks_file)}
    assert "suppression" not in next(f for f in doc["findings"] if f["check_id"] == "metadata.well-formed")
    page = render_html(result)
    assert "Suppressed: accepted risk" in page and "Partner &lt;b&gt;app&lt;/b&gt; needs RSA-SHA1" in page
    assert "<b>app</b>" not in page
    text = render_text(result, width=200)
    assert "SUPPRESSED" in text
    text = " ".join(text.split())  # the table wraps long cells
    assert "accepted risk: Partner <b>app</b> needs RSA-SHA1 until 2027 (by j.doe@contoso.com, until 2027-01-15)" in text


def test_cli_suppressions_option(tmp_path, risks_file):
    out = tmp_path / "r.json"
    code = main(["check", "--metadata", str(CORPUS / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"),
                 "--as-of", "2026-11-30", "--no-history", "--suppressions", str(risks_file), "--json", str(out), "-q"])
    doc = json.loads(out.read_text())
    assert code == doc["exit_code"]
    assert [f["check_id"] for f in doc["findings"] if f["check_id"] == EXPIRED_CHECK_ID] == [EXPIRED_CHECK_ID]
    assert doc["run"]["accepted_risks"]["files"] == [str(risks_file)]


def test_the_example_file_loads():
    from pathlib import Path

    example = Path(__file__).parent.parent / "examples" / "scheduling" / "accepted-risks.toml"
    entries = load_suppressions(example)
    assert [(e.check, e.target) for e in entries] == [("metadata.signature", None),
                                                     ("token-signing.rollover", "sts.contoso.com")]
