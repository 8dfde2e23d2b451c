"""The terminal report: the summary (verdict, fix first, skips by reason) and --all (reasons,
every finding by area), plain vs colour, markup."""

from __future__ import annotations

import re

import pytest
from report_samples import HOSTILE, finding, hostile_result, sample_result

from adfs_readiness.grading import grade
from adfs_readiness.model import Area, Grade, Severity, Status, Verdict
from adfs_readiness.report import render_text

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PASSING = ("metadata.well-formed", "metadata.entity-id", "tls.certificate-name")


@pytest.fixture(scope="module")
def plain() -> str:
    return render_text(sample_result())


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_plain_has_no_escape_sequences(plain: str) -> None:
    assert "\x1b" not in plain
    assert plain.endswith("\n")
    assert all(line == line.rstrip() for line in _lines(plain))


def test_header_and_verdict_line(plain: str) -> None:
    lines = _lines(plain)
    assert lines[0] == "AD FS readiness of fs.contoso.com"
    assert lines[1] == "Run 2026-11-30 12:00:00 UTC · 12.3 s · adfs-readiness 0.1.0"
    assert lines[3] == " NOT READY   grade F  score 38/100  (exit code 2)"
    assert lines[4] == "1 fail · 1 not determined · 1 warn · 1 info · 3 pass · 1 skip"


@pytest.fixture(scope="module")
def everything() -> str:
    return render_text(sample_result(), verbose=True)


def test_reasons_follow_the_verdict_with_all(everything: str) -> None:
    lines = _lines(everything)
    start = lines.index("Why this verdict")
    assert lines[start + 1].startswith(
        "  - Blocker failed token-signing.expiry: The primary token-signing certificate"
    )
    joined = " ".join(line.strip() for line in lines[start:])
    assert "Blocker not determined metadata.reachable:" in joined
    assert "Warning metadata.signature: The metadata is signed with RSA-SHA1." in joined


def test_every_finding_grouped_by_area_worst_first_with_all(everything: str) -> None:
    lines = _lines(everything)
    headings = [
        "Federation metadata and token certificates  (2 passed)",
        "Service-communications (SSL) certificate and TLS  (1 passed)",
        "AD FS endpoints",
    ]
    positions = [lines.index(h) for h in headings]
    assert positions == sorted(positions)
    status_row = re.compile(r"^(FAIL|ERROR|WARN|INFO|PASS|SKIP) ")
    rows = [line.split()[:2] for line in lines if status_row.match(line)]
    assert rows == [
        ["FAIL", "token-signing.expiry"],
        ["ERROR", "metadata.reachable"],
        ["WARN", "metadata.signature"],
        ["PASS", "metadata.well-formed"],
        ["PASS", "metadata.entity-id"],
        ["PASS", "tls.certificate-name"],
        ["SKIP", "tls.san-certauth"],
        ["INFO", "endpoints.idp-initiated-signon"],
    ]
    # The failed blocker is marked on the line below its status.
    fail = next(i for i, line in enumerate(lines) if line.startswith("FAIL "))
    assert lines[fail + 1].startswith("BLOCKER ")
    error_line = next(line for line in lines if line.startswith("ERROR"))
    assert "203.0.113.10:443" in error_line


def test_summary_is_the_plan_the_skips_by_reason_and_what_is_not_listed(plain: str) -> None:
    for check_id in _PASSING:
        assert check_id not in plain
    lines = _lines(plain)
    start = lines.index("Fix first (3)")
    assert lines[start + 1].split()[:3] == ["1", "FAIL", "token-signing.expiry"]
    first = " ".join(" ".join(lines[start + 1:start + 4]).split())
    assert "· due now · service-wide · BLOCKS SSO" in first
    assert "Update-AdfsCertificate -CertificateType Token-Signing -Urgent" in plain
    order = [line.split()[2] for line in lines[start + 1:] if re.match(r"^ +\d+ (FAIL|ERROR|WARN) ", line)]
    assert order == ["token-signing.expiry", "metadata.reachable", "metadata.signature"]
    assert "Why this verdict" not in plain  # --all prints the reasons
    skipped = lines.index("Skipped (1)")
    assert lines[skipped + 1].split() == ["1", "Certificate", "authentication", "is", "not", "in", "scope.",
                                          "(tls.san-certauth)"]
    assert " ".join(plain.split()).endswith(
        "Not listed: 3 pass, 1 info (--all prints every finding; --html has the evidence).")


def test_summary_of_a_big_run_fits_a_screen() -> None:
    many = tuple(finding(f"directory.check{i}", (Status.FAIL, Status.WARN, Status.SKIP, Status.PASS)[i % 4],
                         f"Problem {i}.", area=Area.DIRECTORY, severity=Severity.MEDIUM,
                         evidence={"objects_with_problem": i}) for i in range(200))
    text = render_text(sample_result(findings=many, grade=grade(many)))
    assert len(_lines(text)) <= 50
    assert "...and 90 more: --all prints them, --action-plan PATH writes the plan as CSV." in text
    assert len(_lines(render_text(sample_result(findings=many, grade=grade(many)), verbose=True))) > 200


def test_the_grade_is_explained_in_one_line() -> None:
    mixed = tuple(finding(f"metadata.ok{i}", Status.PASS, "ok", severity=Severity.CRITICAL) for i in range(4)) + (
        finding("metadata.signature", Status.FAIL, "Unsigned.", severity=Severity.HIGH),)
    text = render_text(sample_result(findings=mixed, grade=grade(mixed)))
    assert "Grade C: score 87 = B, capped at C: a failed high or critical check (metadata.signature)" in text


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_lines_fit_the_width(width: int) -> None:
    # Every line but a command fits; a command is printed whole (the terminal folds it), so that
    # it pastes as one command.
    command = "Update-AdfsCertificate -CertificateType Token-Signing -Urgent"
    for text in (render_text(sample_result(), width=width), render_text(sample_result(), width=width, verbose=True)):
        assert max(len(line) for line in _lines(text) if line.strip() != command) <= width
        assert f"\n           {command}\n" in text
    # Narrow terminals get the target under the summary instead of a column.
    assert ("Target" in text) == (width >= 90)
    assert "203.0.113.10:443" in text


def test_color_output_has_styles_and_the_same_words() -> None:
    colored = render_text(sample_result(), color=True)
    assert "\x1b[" in colored
    stripped = _ANSI.sub("", colored)
    assert "\x1b" not in stripped
    assert " NOT READY " in stripped and "grade F  score 38/100" in stripped
    assert "token-signing.expiry" in stripped
    # The verdict badge is white on red for NOT_READY.
    assert "\x1b[1;37;41m NOT READY \x1b[0m" in colored


def test_directory_values_with_markup_print_as_written() -> None:
    for color in (False, True):
        text = _ANSI.sub("", render_text(hostile_result(), color=color, width=400, verbose=True))
        assert "[bold]not bold[/bold] [/] :smile:" in text
        assert "[bold]x[/bold] [/] :smile:" in text  # the reason summary
        assert "([red]CN=x[/red])" in text  # the reason target
        assert f"CN={HOSTILE} [/],OU=Users" in text
        assert f"AD FS readiness of {HOSTILE}.contoso.com" in text


@pytest.mark.parametrize(
    ("verdict", "word"),
    [(Verdict.READY, " READY "), (Verdict.READY_WITH_WARNINGS, " READY WITH WARNINGS "),
     (Verdict.INCOMPLETE, " INCOMPLETE ")],
)
def test_other_verdicts(verdict: Verdict, word: str) -> None:
    result = sample_result(
        findings=(finding("metadata.signature", Status.PASS, "Signed with RSA-SHA256."),),
        grade=Grade(100, "A", verdict, (), {"pass": 1}),
    )
    text = render_text(result)
    assert _lines(text)[3].startswith(word)
    assert f"(exit code {verdict.exit_code})" in text
    assert "Why this verdict" not in text and "Fix first" not in text
    assert "Not listed: 1 pass (--all" in text
    everything = render_text(result, verbose=True)
    assert "Federation metadata and token certificates  (1 passed)" in everything


def test_empty_run() -> None:
    result = sample_result(findings=(), grade=Grade(0, "F", Verdict.INCOMPLETE, (), {}))
    text = render_text(result)
    assert "No check produced a finding." in text
    assert "0 fail · 0 not determined" in text
