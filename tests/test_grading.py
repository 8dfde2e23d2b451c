"""Grading: verdict rules (failed blocker, undetermined blocker), score weighting, letters."""

from __future__ import annotations

import pytest

from adfs_readiness.grading import grade, letter_for
from adfs_readiness.model import Area, Finding, Severity, Status, Verdict


def finding(check_id="metadata.x", status=Status.PASS, severity=Severity.HIGH, blocker_check=False,
            blocker=None, target=None):
    if blocker is None:
        blocker = blocker_check and status is Status.FAIL
    return Finding(check_id=check_id, area=Area.METADATA, title=check_id, status=status, severity=severity,
                   blocker=blocker, blocker_check=blocker_check, summary=f"{check_id} {status.value}",
                   evidence={}, remediation="fix", references=(), target=target)


def test_all_pass_is_ready_a_100():
    g = grade([finding("a.b"), finding("a.c", severity=Severity.LOW)])
    assert (g.verdict, g.score, g.letter) == (Verdict.READY, 100, "A")
    assert g.reasons == ()
    assert g.counts["pass"] == 2 and g.counts["fail"] == 0


def test_failed_blocker_is_not_ready_and_f_whatever_the_score():
    many = [finding(f"a.p{i}", severity=Severity.CRITICAL) for i in range(20)]
    g = grade(many + [finding("a.block", Status.FAIL, Severity.LOW, blocker_check=True)])
    assert g.verdict is Verdict.NOT_READY and g.letter == "F"
    assert g.score > 90
    assert [(r.kind, r.check_id) for r in g.reasons] == [("blocker_failed", "a.block")]


def test_error_on_blocker_is_incomplete_never_ready():
    g = grade([finding("a.ok"), finding("a.block", Status.ERROR, blocker_check=True)])
    assert g.verdict is Verdict.INCOMPLETE
    assert [(r.kind, r.check_id) for r in g.reasons] == [("blocker_undetermined", "a.block")]


def test_fail_of_blocker_check_marked_not_blocking_is_a_warning_verdict():
    g = grade([finding("t.expiry", Status.FAIL, blocker_check=True, blocker=False)])
    assert g.verdict is Verdict.READY_WITH_WARNINGS
    assert g.reasons[0].kind == "failed"


def test_warn_and_non_blocker_error_are_ready_with_warnings():
    g = grade([finding("a.w", Status.WARN), finding("a.e", Status.ERROR)])
    assert g.verdict is Verdict.READY_WITH_WARNINGS
    assert {r.kind for r in g.reasons} == {"warning", "undetermined"}


def test_everything_skipped_is_incomplete():
    g = grade([finding("a.s", Status.SKIP)])
    assert g.verdict is Verdict.INCOMPLETE and g.reasons[0].kind == "nothing_checked"


def test_score_weights_by_severity_and_shares_weight_among_a_checks_findings():
    # HIGH (6) check fails entirely; LOW (1) passes: 1/7 of the weight kept.
    g = grade([finding("a.high", Status.FAIL, Severity.HIGH), finding("a.low", Status.PASS, Severity.LOW)])
    assert g.score == round(100 * 1 / 7)
    # Ten findings of one HIGH check, one failing: that check loses a tenth of its weight.
    ten = [finding("a.multi", Status.FAIL if i == 0 else Status.PASS, target=str(i)) for i in range(10)]
    assert grade(ten).score == 90
    # warn loses half; skip is left out; error loses all.
    assert grade([finding("a.w", Status.WARN), finding("a.s", Status.SKIP)]).score == 50
    assert grade([finding("a.e", Status.ERROR), finding("a.p")]).score == 50


@pytest.mark.parametrize("score, letter", [(100, "A"), (90, "A"), (89, "B"), (80, "B"), (79, "C"),
                                           (70, "C"), (69, "D"), (60, "D"), (59, "F"), (0, "F")])
def test_letters(score, letter):
    assert letter_for(score) == letter


@pytest.mark.parametrize("severity, cap", [(Severity.LOW, "B"), (Severity.MEDIUM, "B"),
                                           (Severity.HIGH, "C"), (Severity.CRITICAL, "C")])
def test_a_non_blocking_failure_caps_the_letter(severity, cap):
    many = [finding(f"a.p{i}", severity=Severity.CRITICAL) for i in range(40)]
    g = grade(many + [finding("a.failing", Status.FAIL, severity)])
    assert g.score >= 90 and g.letter == cap and g.verdict is Verdict.READY_WITH_WARNINGS


def test_the_cap_never_improves_a_worse_letter():
    g = grade([finding("a.failing", Status.FAIL, Severity.LOW), finding("a.w", Status.WARN, Severity.CRITICAL)])
    assert g.letter == "F"  # score 50/110 -> F, and a cap at B must not lift it


def test_undetermined_checks_with_the_same_cause_are_one_reason():
    same = "Could not be determined: the file could not be read."
    fs = [Finding(check_id=f"m.{i}", area=finding().area, title="t", status=Status.ERROR, severity=Severity.LOW,
                  blocker=False, blocker_check=i == 0, summary=same, evidence={}, remediation="r", references=())
          for i in range(4)]
    g = grade(fs)
    kinds = [(r.kind, r.check_id) for r in g.reasons]
    assert kinds == [("blocker_undetermined", "m.0"), ("undetermined", "m.1")]
    assert g.reasons[1].summary.endswith("(also: m.2, m.3)")
