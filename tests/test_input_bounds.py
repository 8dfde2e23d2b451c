"""The bounding helpers on their own: linear PEM scanning, bounded JSON, bounded report views and
PFX work limits; what they keep and what they refuse, with the reason."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from adfs_readiness.engine.bounds import bound_for_report, bound_text, bound_tree
from adfs_readiness.grading import grade
from adfs_readiness.json_input import UntrustedJsonError, parse_untrusted_json
from adfs_readiness.model import Area, Finding, RunResult, Severity, Status
from adfs_readiness.pem import pem_blocks, strip_pem_blocks
from adfs_readiness.probes.pfx_limits import pfx_refusal
from adfs_readiness.settings import Limits
from adfs_readiness.snapshot import REDACTED, redact

# --- PEM ---------------------------------------------------------------------------------------


def test_pem_blocks_pairs_labels_and_skips_text_between():
    data = (b"subject=CN=x\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\njunk\n"
            b"-----BEGIN X509 CERTIFICATE-----\nBB\n-----END X509 CERTIFICATE-----\n"
            b"-----BEGIN CERTIFICATE-----\nunterminated")
    blocks = list(pem_blocks(data, (b"CERTIFICATE", b"X509 CERTIFICATE")))
    assert [(b.label, b.body.strip()) for b in blocks] == [(b"CERTIFICATE", b"AAAA"), (b"X509 CERTIFICATE", b"BB")]


def test_a_begin_inside_a_block_is_part_of_its_body():
    data = b"-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----"
    assert [b.body for b in pem_blocks(data, (b"CERTIFICATE",))] == [b"\n-----BEGIN CERTIFICATE-----\nA\n"]


@pytest.mark.parametrize("data", [
    b"-----BEGIN CERTIFICATE-----\n" * 200_000,                       # 5.6 MB of BEGIN lines
    b"".join(b"-----BEGIN C%d-----\n" % i for i in range(100_000)),  # 100 000 distinct labels
    b"-----BEGIN " * 500_000,                                         # BEGIN without a label end
])
def test_pem_scanning_is_linear_on_hostile_input(data):
    # The quadratic regex took a minute for 20 000 BEGIN lines; this input is 10-25 times bigger.
    # (A hang here is the failure; no timing is asserted.)
    assert list(pem_blocks(data, (b"CERTIFICATE",))) == []
    assert list(pem_blocks(data)) == []


def test_redact_removes_private_keys_even_with_mismatched_end_labels_and_stays_linear():
    text = "a -----BEGIN RSA PRIVATE KEY-----\nxx\n-----END PRIVATE KEY----- b"
    assert strip_pem_blocks(text, "PRIVATE KEY", REDACTED) == f"a {REDACTED} b"
    hostile = "-----BEGIN RSA PRIVATE KEY-----\n" * 100_000
    # A BEGIN without its END is a truncated key: still key material, redacted to the end of the
    # value (redaction.py); and no minutes spent.
    assert redact({"note": "keep " + hostile})["note"] == f"keep {REDACTED}"


# --- JSON ---------------------------------------------------------------------------------------

def parse(text: str, max_items: int = 100):
    return parse_untrusted_json(text.encode(), max_items=max_items, items_setting="limits.max_export_items")


@pytest.mark.parametrize("text, reason", [
    ('{"a": [' + "1," * 200 + "1]}", "$.a has 201 items, over the cap of 100 (raise it with limits.max_export_items)"),
    ("[" * 65 + "]" * 65, "nested deeper than 64 levels"),
    ("[" * 50_000 + "]" * 50_000, "nested deeper than 64 levels"),
    ("[" + "9" * 5000 + "]", "a number with 5,000 digits"),
    ("[Infinity]", "Infinity is not a JSON value"),
    ('{"a": 1', "not JSON"),
])
def test_untrusted_json_refusals(text, reason):
    with pytest.raises(UntrustedJsonError) as caught:
        parse(text)
    assert reason in str(caught.value)


def test_untrusted_json_total_values_are_bounded():
    # Every list within the per-list cap (10), but 10 x 10 x 10 = 1 110 values over the total (10 x 100).
    inner = "[" + ",".join(["1"] * 10) + "]"
    middle = "[" + ",".join([inner] * 10) + "]"
    with pytest.raises(UntrustedJsonError, match="more than 1,000 values in all"):
        parse("[" + ",".join([middle] * 10) + "]", max_items=10)


def test_untrusted_json_keeps_what_is_fine():
    assert parse_untrusted_json('\ufeff{"a": [1, 2.5, "x", null, true]}'.encode(), max_items=5,
                                items_setting="x") == {"a": [1, 2.5, "x", None, True]}


# --- report bounds ------------------------------------------------------------------------------

def finding(status: Status, target: str, check_id: str = "adfs.trust-certificates") -> Finding:
    return Finding(check_id=check_id, area=Area.ADFS, title="t", status=status, severity=Severity.MEDIUM,
                   blocker=False, blocker_check=False, summary=f"{target} {status.value}", evidence={},
                   remediation="r", references=(), target=target)


def result_of(findings: list[Finding]) -> RunResult:
    now = datetime(2026, 11, 30, tzinfo=timezone.utc)
    return RunResult(target="sts", started_at=now, finished_at=now, findings=tuple(findings), grade=grade(findings),
                     facts={"adfs_export": {"relying_parties": [{"name": str(i)} for i in range(500)]}})


def test_bound_for_report_keeps_the_worst_first_and_counts_the_rest():
    findings = [finding(Status.PASS, f"p{i}") for i in range(300)] + [finding(Status.FAIL, "f1"),
                                                                       finding(Status.WARN, "w1")]
    findings.append(finding(Status.PASS, "other", check_id="adfs.audit"))
    full = result_of(findings)
    shown = bound_for_report(full, 10)
    trust = [f for f in shown.findings if f.check_id == "adfs.trust-certificates"]
    assert len(trust) == 11 and {"f1", "w1"} <= {f.target for f in trust[:10]}
    extra = trust[-1]
    assert extra.target == "(+292 more)" and extra.status is Status.PASS
    assert extra.evidence["findings_not_shown"] == 292 and extra.evidence["by_status"] == {"pass": 292}
    assert [f.check_id for f in shown.findings].count("adfs.audit") == 1
    assert shown.grade == full.grade  # the grade is the one of every finding
    rps = shown.facts["adfs_export"]["relying_parties"]
    assert len(rps) == 11 and rps[-1] == "… 490 more not shown (500 in all)"
    assert len(full.findings) == 303  # the full result is untouched (CSV, history)


def test_the_counting_finding_carries_the_worst_hidden_status():
    findings = [finding(Status.FAIL, f"f{i}") for i in range(5)] + [finding(Status.ERROR, "e")]
    shown = bound_for_report(result_of(findings), 3)
    assert [f.status for f in shown.findings] == [Status.FAIL, Status.FAIL, Status.FAIL, Status.FAIL]


def test_verdict_reasons_are_bounded_per_check():
    findings = [finding(Status.WARN, f"w{i}") for i in range(1000)]
    full = result_of(findings)
    assert len(full.grade.reasons) == 1000
    shown = bound_for_report(full, 20)
    assert len(shown.grade.reasons) == 21 and "980 more like these" in shown.grade.reasons[-1].summary


def test_bound_tree_and_text():
    assert bound_text("x" * 10, 4) == "xxxx… [6 more characters not shown]"
    tree = bound_tree({"k": list(range(5)), "s": "y" * 30, "d": {str(i): i for i in range(4)}}, max_items=3, max_text=10)
    assert tree["k"] == [0, 1, 2, "… 2 more not shown (5 in all)"]
    assert tree["s"].startswith("y" * 10 + "… [20 more")
    assert tree["d"] == {"0": 0, "1": 1, "2": 2, "…": "1 more keys not shown (4 in all)"}


def test_the_engine_bounds_evidence_summary_and_target():
    from adfs_readiness.api import CheckContext  # noqa: F401 - the engine's own path is exercised below
    from adfs_readiness.settings import Settings
    from adfs_readiness.engine.runner import _finding
    from adfs_readiness.model import Outcome

    class Meta:
        id, area, title, severity, blocker, remediation, references = ("adfs.x", Area.ADFS, "t", Severity.LOW, False,
                                                                       "r", ())

    check = type("C", (), {"meta": Meta})()
    config = dataclasses.replace(Settings(), limits=Limits(max_report_rows=5))
    made = _finding(check, Outcome(Status.WARN, "s" * 10_000, evidence={"problems": list(range(1000))},
                                   target="t" * 10_000), config)
    assert len(made.evidence["problems"]) == 6 and len(made.summary) < 4_100 and len(made.target) < 600


# --- PFX ----------------------------------------------------------------------------------------

def test_pfx_refusal_ignores_what_is_not_pkcs12():
    assert pfx_refusal(b"not der at all", 10, "x") is None
    assert pfx_refusal(b"\x30\x03\x02\x01\x03", 10, "x") is None
