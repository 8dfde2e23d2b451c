"""The text sanitiser (text.py) and the one redactor (redaction.py), on their own."""

from __future__ import annotations

import json
from pathlib import Path
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from adfs_readiness.model import Status
from adfs_readiness.redaction import (
    REDACTED,
    RedactingFormatter,
    Redactor,
    protect_logs,
    url_secrets,
    webhook_secrets,
)
from adfs_readiness.json_input import UntrustedJsonError, parse_untrusted_json
from adfs_readiness.text import clean, clean_value, csv_cell, decode_text, terminal_safe


# --- text.py ----------------------------------------------------------------------------------

def test_lone_surrogates_become_replacement_characters_and_pairs_are_joined() -> None:
    data = parse_untrusted_json(b'\xef\xbb\xbf{"a\\ud800": ["\\udfff", "\\ud83d\\ude00", {"k": "x\\ud800y"}], "n": 1}')
    assert data == {"a\ufffd": ["\ufffd", "\U0001f600", {"k": "x\ufffdy"}], "n": 1}
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # every writer can encode it
    assert clean("ok") == "ok" and clean("\ud83d\ude00") == "\U0001f600" and clean("\udc00\ud800") == "\ufffd\ufffd"
    assert clean_value(("\ud800", 2, None)) == ["\ufffd", 2, None]
    assert decode_text(b"\xef\xbb\xbfa\xff") == "a\ufffd"


@pytest.mark.parametrize("document, words", [
    (b"[" * 100_000, "nested deeper than 64 levels"),
    (b"[" * 70 + b"]" * 70, "nested deeper than 64 levels"),
    (b"\xff\xfe", "not UTF-8 text"),
    (b'{"n": ' + b"9" * 5000 + b"}", "a number with 5,000 digits"),
    (b'{"n": NaN}', "NaN is not a JSON value"),
    (b"not json", "not JSON"),
])
def test_the_one_untrusted_json_reader_refuses_with_the_reason(document: bytes, words: str) -> None:
    """One reader for network answers, files and history rows (there used to be a lenient second one
    for network answers, which took NaN and 199 levels of nesting)."""
    with pytest.raises(UntrustedJsonError, match=r".*") as refused:
        parse_untrusted_json(document)
    assert words in str(refused.value)
    assert isinstance(refused.value, ValueError)  # what every caller catches


def test_no_second_json_reader_for_untrusted_input() -> None:
    """Every module that parses JSON from outside goes through json_input.parse_untrusted_json; the
    only other json.loads calls read the tool's own files (its schema, the lab's state)."""
    import re

    src = Path(__file__).resolve().parents[1] / "src" / "adfs_readiness"
    # lab/background.py reads the lab's own state file; probes/recorded.py a directory recording
    # the tool wrote itself (lab record; size-capped read), never a customer's file.
    trusted = {"json_input.py", "report/json_report.py", "lab/samba.py", "lab/background.py", "probes/recorded.py"}
    found = {str(path.relative_to(src)) for path in src.rglob("*.py")
             if re.search(r"\bjson\.loads?\(", path.read_text(encoding="utf-8"))}
    assert found <= trusted, found - trusted


def test_terminal_safe_also_cleans_surrogates() -> None:
    assert terminal_safe("a\x1b[31m\ud800\u202e") == "a\\x1b[31m\ufffd\\u202e"


def test_csv_cell_guards_every_formula_start() -> None:
    for value in ("=1", "+1", "-1", "@x", "\t=1", "\r=1", "\n=1", "  =1", "\uff1d1", "\uff0b1", "\uff0d1", "\uff201"):
        assert csv_cell(value) == "'" + value
    for value in ("sts.contoso.com", "CN=x,DC=y", "", "1.0", "a=b"):
        assert csv_cell(value) == value


# --- redaction.py -----------------------------------------------------------------------------

def test_secrets_are_replaced_in_every_form_a_server_echoes_them() -> None:
    secret = "p@ss word/+=&é"
    redactor = Redactor([secret, "abc"])  # "abc" is too short to search for
    from urllib.parse import quote, quote_plus
    import html

    for echoed in (secret, quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1],
                   html.escape(secret)):
        assert redactor.text(f"got {echoed} back") == f"got {REDACTED} back"
    assert redactor.text("abc stays") == "abc stays"


def test_values_under_secret_keys_and_private_keys_are_replaced() -> None:
    redactor = Redactor()
    data = {"password": "x", "client_secret": "y", "certificate_password": "z", "password_env": "VAR",
            "nested": [{"Authorization": "Bearer t"}],
            "pem": "a -----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY----- b"}
    assert redactor.value(data) == {"password": REDACTED, "client_secret": REDACTED, "certificate_password": REDACTED,
                                    "password_env": "VAR", "nested": [{"Authorization": REDACTED}],
                                    "pem": f"a {REDACTED} b"}
    # A BEGIN line without an END: the rest is redacted (a truncated key is still a key).
    assert redactor.text("x -----BEGIN RSA PRIVATE KEY-----\nMII...") == f"x {REDACTED}"


def test_a_string_full_of_begin_lines_is_redacted_in_one_pass() -> None:
    text = "-----BEGIN PRIVATE KEY-----" * 20_000 + "-----END PRIVATE KEY----- tail"
    assert Redactor().text(text) == f"{REDACTED} tail"


def test_url_and_webhook_secrets() -> None:
    assert url_secrets("https://admin:p%40ss@host/x") == ["admin:p%40ss", "admin:p@ss", "p%40ss", "p@ss"]
    assert url_secrets("https://host/x") == []
    found = webhook_secrets("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?x=1")
    assert "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX?x=1" in found and "XXXXXXXXXXXXXXXXXXXXXXXX" in found


@dataclass(frozen=True)
class _Inner:
    status: Status
    text: str


def test_dataclass_trees_keep_their_types_and_enums() -> None:
    value = (_Inner(Status.FAIL, "sec-ret-1 here"), {"when": datetime(2026, 1, 1, tzinfo=timezone.utc)})
    redacted = Redactor(["sec-ret-1"]).value(value)
    assert redacted[0] == _Inner(Status.FAIL, f"{REDACTED} here") and redacted[0].status is Status.FAIL
    assert redacted[1]["when"] == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_run_config_secrets_are_collected() -> None:
    from adfs_readiness.settings import (CertificateSettings, CloudSettings, DirectorySettings, FederationSettings,
                                         Settings)

    config = Settings(federation=FederationSettings(metadata="https://u:metadata-pw@h/m"),
                      certificate=CertificateSettings(password="pfx-pass"),
                      directory=DirectorySettings(password_env="LDAP_PW"), cloud=CloudSettings(client_secret_env="G_PW"))
    redactor = Redactor.for_run(config, environ={"LDAP_PW": "ldap-pass", "G_PW": "graph-pass"})
    assert {"metadata-pw", "pfx-pass", "ldap-pass", "graph-pass"} <= redactor.secrets


def test_log_lines_are_redacted_after_the_run_teaches_the_formatter() -> None:
    formatter = RedactingFormatter("%(message)s", finish=terminal_safe)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        protect_logs("hook-token-123")
        record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "POST /services/hook-token-123\x1b[2J", (), None)
        assert formatter.format(record) == f"POST /services/{REDACTED}\\x1b[2J"
    finally:
        root.removeHandler(handler)
