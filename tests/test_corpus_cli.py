"""End to end through the CLI on the public corpus: `adfs-readiness check --metadata FILE --json`
gives the right status per check for every real metadata file, exits with the code its verdict
calls for, and writes JSON that validates against the committed schema.

Dates: the token-signing certificates of these files expired years ago, so at the session's date
(2026-11-30) token-signing.expiry fails as a blocker (NOT_READY, exit 2); at a date inside their
validity (``--as-of``) it passes.
"""

from __future__ import annotations

import json

import pytest

from adfs_readiness.cli import main
from adfs_readiness.report.json_report import validate_report

TODAY = "2026-11-30"

# file -> (metadata.signature status, a date inside the primary token-signing certificate's validity)
CORPUS_FILES = {
    "msidentitymodel_adfs-v2-metadata.xml": ("pass", "2017-06-01"),
    "msidentitymodel_adfs-v3-metadata.xml": ("pass", "2017-06-01"),
    "msidentitymodel_adfs-v4-metadata.xml": ("pass", "2017-06-01"),
    "ucar_adfs_FederationMetadata_2017.xml": ("pass", "2018-01-01"),
    "rcsj_dev_adfs_FederationMetadata_2023.xml": ("pass", "2023-08-01"),
    # The host name was edited after signing: the signature must be reported invalid.
    "sustainsys_ReadEntityDescriptor_ADFS.xml": ("fail", "2014-06-01"),
    # Microsoft 365's own SP metadata: a valid signature, but RSA-SHA1.
    "msidentitymodel_MicrosoftOnline-SP-metadata.xml": ("warn", "2017-06-01"),
    # Entra metadata with a BOM and a negative-serial certificate, before and after a rollover.
    "ckanadfs_AzureAD_FederationMetadata_old.xml": ("pass", "2015-03-01"),
    "ckanadfs_AzureAD_FederationMetadata_new.xml": ("warn", "2015-06-01"),
}


def run_cli(tmp_path, *args):
    out = tmp_path / "out.json"
    code = main(["check", *args, "--json", str(out), "-q"])
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate_report(doc)
    statuses = {}
    for f in doc["findings"]:
        statuses.setdefault(f["check_id"], []).append(f)
    return code, doc, statuses


def test_every_corpus_file_is_in_the_table(corpus):
    from test_corpus_real_world import STATUSES  # the files issue 11 added, judged there

    assert {p.name for p in (corpus / "metadata").glob("*.xml")} == set(CORPUS_FILES) | set(STATUSES)


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_corpus_file_today(corpus, tmp_path, name):
    signature_status, _ = CORPUS_FILES[name]
    code, doc, f = run_cli(tmp_path, "--metadata", str(corpus / "metadata" / name), "--as-of", TODAY)
    assert f["metadata.reachable"][0]["status"] == "skip"  # read from a file: reachability not tested
    assert f["metadata.well-formed"][0]["status"] == "pass"
    assert f["metadata.signature"][0]["status"] == signature_status
    expiry = f["token-signing.expiry"][0]
    assert expiry["status"] == "fail" and expiry["blocker"] is True and "expired" in expiry["summary"]
    assert doc["verdict"] == "NOT_READY" and doc["grade"] == "F"
    assert code == 2 == doc["exit_code"]
    assert any(r["kind"] == "blocker_failed" and r["check_id"] == "token-signing.expiry"
               for r in doc["verdict_reasons"])
    # No federation service name was given: the entityID is reported, not judged.
    assert f["metadata.entity-id"][0]["status"] == "info"


@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_corpus_file_inside_validity(corpus, tmp_path, name):
    _, inside = CORPUS_FILES[name]
    code, doc, f = run_cli(tmp_path, "--metadata", str(corpus / "metadata" / name), "--as-of", inside)
    assert f["token-signing.expiry"][0]["status"] == "pass", f["token-signing.expiry"][0]["summary"]
    assert doc["verdict"] != "NOT_READY" or any(
        r["check_id"] != "token-signing.expiry" for r in doc["verdict_reasons"] if r["kind"] == "blocker_failed")
    assert code == doc["exit_code"]


def test_invalid_signature_evidence_names_the_listed_certificate(corpus, tmp_path):
    _, _, f = run_cli(tmp_path, "--metadata", str(corpus / "metadata" / "sustainsys_ReadEntityDescriptor_ADFS.xml"),
                      "--as-of", TODAY)
    sig = f["metadata.signature"][0]
    assert sig["evidence"]["status"] == "invalid"
    assert "13CE2299" in json.dumps(sig["evidence"])  # the listed ADFS Signing - sts.unilever.com certificate


def test_sha1_signature_is_named(corpus, tmp_path):
    _, _, f = run_cli(tmp_path, "--metadata", str(corpus / "metadata" / "msidentitymodel_MicrosoftOnline-SP-metadata.xml"),
                      "--as-of", TODAY)
    sig = f["metadata.signature"][0]
    assert "SHA-1" in sig["summary"] or "sha1" in sig["summary"].lower()


def test_entity_id_judged_when_service_name_given(corpus, tmp_path):
    _, _, f = run_cli(tmp_path, "--metadata", str(corpus / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"),
                      "--service-name", "fs.msidlab11.com", "--as-of", "2017-06-01",
                      "--skip", "dns.*")  # a service name would send DNS lookups to the system resolver
    assert f["metadata.entity-id"][0]["status"] == "pass"
    assert f["metadata.endpoints"][0]["status"] == "pass"


@pytest.mark.parametrize("name", ["ckanadfs_AzureAD_FederationMetadata_old.xml",
                                  "ckanadfs_AzureAD_FederationMetadata_new.xml"])
def test_bom_and_negative_serial_under_warnings_as_errors(corpus, tmp_path, name):
    import subprocess
    import sys

    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-W", "error", "-m", "adfs_readiness", "check", "--metadata",
                           str(corpus / "metadata" / name), "--as-of", "2015-03-01", "--json", str(out), "-q"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    doc = json.loads(out.read_text())
    f = {x["check_id"]: x for x in doc["findings"]}
    assert f["metadata.well-formed"]["status"] == "pass"
    keys = json.dumps(doc["facts"]["metadata"])
    assert "negative" in keys  # the negative serial number is reported on its certificate
