"""Regression tests: values from servers, certificates and files cannot drive the terminal (ANSI
CSI, OSC 8 hyperlinks, CR, NUL, C1 controls) nor forge lines of the text report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sys
import unicodedata
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from report_samples import finding, sample_grade, sample_result

from adfs_readiness.cli import main
from adfs_readiness.model import Status, VerdictReason
from adfs_readiness.report import render_text
from adfs_readiness.text import terminal_safe
from adfs_readiness.report.nagios import render_nagios

sys.path.insert(0, str(Path(__file__).parent))
from _signed_xml import SigningIdentity, build_metadata, sign_metadata  # noqa: E402

EVIL_CN = ("ADFS Signing \x1b[31mRED\x1b[0m \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 "
           "\x9b2J\u202eRTL\r\nInjected: line\x00nul")
# Our own colour codes are SGR sequences; nothing else may start with ESC.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_RAW_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]")


def _unsafe(char: str) -> bool:
    return (unicodedata.category(char) == "Cc" or char in "\u2028\u2029\u061c\u200e\u200f"
            or "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069")


def test_terminal_safe_escapes_exactly_the_unsafe_characters() -> None:
    for code in range(0x3000):
        char = chr(code)
        out = terminal_safe(f"a{char}b")
        if char == "\t":
            assert out == "a b"
        elif _unsafe(char):
            expected = {"\n": "\\n", "\r": "\\r"}.get(char) or (
                f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
            assert out == f"a{expected}b", hex(code)
        else:
            assert out == f"a{char}b", hex(code)
    assert terminal_safe(None) == "None"


def _assert_terminal_clean(text: str, color: bool) -> None:
    shown = _SGR.sub("", text) if color else text
    assert "\x1b" not in shown and not _RAW_CONTROLS.search(shown), repr(shown[:2000])
    if not color:
        assert "\x1b" not in text
    # What the value held is shown, as visible escapes.
    assert "\\x1b[31mRED\\x1b[0m" in shown and "\\x1b]8;;https://evil.example/\\x07click" in shown
    assert "\\x9b2J\\u202eRTL\\r\\nInjected: line\\x00nul" in shown
    # No line of the report starts with the injected text.
    assert not [line for line in shown.splitlines() if line.strip(" │|-").startswith("Injected")]


def _hostile_run():
    bad = finding("token-signing.expiry", Status.FAIL, f"The certificate {EVIL_CN} expired.",
                  target=f"CN={EVIL_CN}")
    reason = VerdictReason("blocker_failed", "token-signing.expiry", f"The certificate {EVIL_CN} expired.",
                           target=f"CN={EVIL_CN}")
    return sample_result(target=f"sts{EVIL_CN}.contoso.com", findings=(bad,),
                         grade=dataclasses.replace(sample_grade(), reasons=(reason,)))


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("width", [80, 400])
def test_text_report_shows_hostile_values_inert(color: bool, width: int) -> None:
    text = render_text(_hostile_run(), color=color, width=width, verbose=True)
    if width == 400:  # wide enough that nothing wraps: the value sits whole on its line
        _assert_terminal_clean(text, color)
    else:
        shown = _SGR.sub("", text)
        assert "\x1b" not in shown and not _RAW_CONTROLS.search(shown)


@pytest.mark.parametrize("color", [False, True])
def test_text_report_line_count_does_not_depend_on_the_value(color: bool) -> None:
    benign = "x" * len(terminal_safe(EVIL_CN))
    run = _hostile_run()
    plain_run = dataclasses.replace(
        run, target=f"sts{benign}.contoso.com",
        findings=tuple(dataclasses.replace(f, summary=f.summary.replace(EVIL_CN, benign),
                                           target=f.target.replace(EVIL_CN, benign)) for f in run.findings),
        grade=dataclasses.replace(run.grade, reasons=tuple(
            dataclasses.replace(r, summary=r.summary.replace(EVIL_CN, benign), target=r.target.replace(EVIL_CN, benign))
            for r in run.grade.reasons)))
    assert len(render_text(run, color=color, width=400).splitlines()) == len(
        render_text(plain_run, color=color, width=400).splitlines())


def test_nagios_line_is_one_clean_line() -> None:
    line = render_nagios(_hostile_run())
    assert line.count("\n") == 1 and line.endswith("\n")
    assert not _RAW_CONTROLS.search(line[:-1]) and "\x1b" not in line


# --- end to end: a certificate CN in signed metadata, through the CLI -------------------------

@pytest.fixture(scope="module")
def evil_metadata(tmp_path_factory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the CN is longer than the 64 characters X.520 allows
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, EVIL_CN, _validate=False)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(12345).not_valid_before(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
            .not_valid_after(dt.datetime(2026, 12, 20, tzinfo=dt.timezone.utc)).sign(key, hashes.SHA256()))
    identity = SigningIdentity(key, cert)
    path = tmp_path_factory.mktemp("evil") / "FederationMetadata.xml"
    path.write_bytes(sign_metadata(build_metadata([identity.b64]), identity))
    return path


@pytest.mark.parametrize("color", ["always", "never"])
def test_cli_text_output_with_a_hostile_certificate_cn(evil_metadata: Path, color: str, capsys,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    main(["check", "--metadata", str(evil_metadata), "--as-of", "2026-11-30", "--color", color, "--verbose"])
    out = capsys.readouterr().out
    assert "token-signing.expiry" in out
    _assert_terminal_clean(out, color == "always")


def test_history_show_list_and_diff_print_hostile_values_inert(tmp_path: Path, capsys) -> None:
    from adfs_readiness.history import History

    path = tmp_path / "history.sqlite3"
    run = _hostile_run()
    with History(path) as history:
        first = history.record(run, f"tenant{EVIL_CN}")
        second = history.record(dataclasses.replace(run, findings=(
            dataclasses.replace(run.findings[0], status=Status.WARN),)), f"tenant{EVIL_CN}")
    for argv in (["show", str(second)], ["list"], ["diff", str(first), str(second)]):
        assert main(["history", "--history", str(path), *argv]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and not _RAW_CONTROLS.search(out), (argv, out)
        assert not [line for line in out.splitlines() if line.lstrip().startswith("Injected")], argv
