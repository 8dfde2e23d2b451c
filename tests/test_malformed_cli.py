"""Malformed and hostile metadata through the whole pipeline (CLI -> probe -> checks -> reports):
each ends as findings with a clear reason, the run completes, and no local file content leaks
into any output."""

from __future__ import annotations

import json

import pytest

from adfs_readiness.cli import main
from adfs_readiness.report.json_report import validate_report

SECRET = "TOP-SECRET-MARKER-7f3a9c"

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol9;"/>
"""


def xxe(path) -> bytes:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM "file://{path}">]>\n'
            '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&x;"/>\n').encode()


def check_file(tmp_path, data: bytes, *extra):
    src = tmp_path / "metadata.xml"
    src.write_bytes(data)
    js, html = tmp_path / "out.json", tmp_path / "out.html"
    code = main(["check", "--metadata", str(src), "--json", str(js), "--html", str(html), "-q", *extra])
    doc = json.loads(js.read_text())
    validate_report(doc)
    findings = {f["check_id"]: f for f in doc["findings"]}
    return code, doc, findings, js.read_text() + html.read_text()


def test_entity_bomb_is_refused(tmp_path):
    code, doc, f, _ = check_file(tmp_path, BOMB)
    wf = f["metadata.well-formed"]
    assert wf["status"] == "fail" and ("DTD" in wf["summary"] or "entity" in wf["summary"].lower())
    assert code == 2 and doc["verdict"] == "NOT_READY"
    assert f["metadata.signature"]["status"] == "error"  # never a pass on a refused document


def test_external_entity_to_a_local_file_leaks_nothing(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    code, doc, f, everything = check_file(tmp_path, xxe(secret))
    assert f["metadata.well-formed"]["status"] == "fail"
    assert SECRET not in everything


@pytest.mark.parametrize("data, words", [
    (b'<?xml version="1.0"?><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><IDPSSO',
     "line"),
    (b"", "empty"),
    (b"<!DOCTYPE html><html><body><form>Sign in</form></body></html>", "HTML"),
    (b'<?xml version="1.0"?><root/>', "root"),
])
def test_broken_documents_fail_well_formed_with_a_reason(tmp_path, data, words):
    code, doc, f, _ = check_file(tmp_path, data)
    wf = f["metadata.well-formed"]
    assert wf["status"] == "fail" and words.lower() in wf["summary"].lower(), wf["summary"]
    assert code == 2
    assert all(f[c]["status"] == "error" for c in ("metadata.signature", "token-signing.expiry"))


def test_file_over_the_download_cap(tmp_path):
    big = b"<?xml version='1.0'?><!-- " + b"x" * (2 * 1024 * 1024) + b" -->"
    cfg = tmp_path / "c.toml"
    cfg.write_text("[network]\nmax_download_bytes = 1048576\n")
    code, doc, f, _ = check_file(tmp_path, big, "--config", str(cfg))
    assert "1048576" in json.dumps(f["metadata.well-formed"]) or "cap" in f["metadata.well-formed"]["summary"]


def test_missing_metadata_file_is_a_configuration_error_not_a_traceback(tmp_path, capsys):
    # As --certificate, --adfs-export, --entra-export and --suppressions: one error naming the
    # option and the path, nothing run (it used to be 11 "not determined" findings).
    js = tmp_path / "o.json"
    code = main(["check", "--metadata", str(tmp_path / "nope.xml"), "--json", str(js), "-q"])
    err = capsys.readouterr().err
    assert code == 3 and not js.exists()
    assert f"--metadata = '{tmp_path / 'nope.xml'}'" in err and f"no such file: {tmp_path / 'nope.xml'}" in err
