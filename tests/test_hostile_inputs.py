"""Issue 12 classes 5 and 6 on real hostile files through the real command line, each in a child
process under a memory limit (tests/hostile.py) and a time limit far below what the unguarded
tool took: unbounded exports, PEM files of BEGIN lines, PFX iteration bombs, oversized files and
FIFOs; snapshots with naive dates, deep nesting, 5,000-digit numbers, local paths and lifted
limits; a damaged history row. Each asserts the exit code, the reason an admin reads, bounded
output, and no traceback."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12
from cryptography.x509.oid import NameOID
from hostile import run_cli

from adfs_readiness.lab.adfs_samples import adfs_export_document, write_adfs_export
from adfs_readiness.lab.pki import LabPki

METADATA = Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"
FS = "sts.contoso.test"
NOW = datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def pki():
    return LabPki(NOW)


@pytest.fixture(scope="module")
def export_document(pki):
    token_signing = pki.token_certificate("signing", FS, NOW - timedelta(days=100), NOW + timedelta(days=200))
    return adfs_export_document(pki, FS, token_signing)


def findings_of(path: Path) -> dict[str, dict]:
    doc = json.loads(path.read_text())
    return {f["check_id"]: f for f in doc["findings"] if f.get("target") is None or f["check_id"] not in ()}


def check_export(tmp_path, export: Path, *extra, deadline="20", mem_mb=768, timeout=90):
    out = {"json": tmp_path / "r.json", "html": tmp_path / "r.html", "csv": tmp_path / "r.csv"}
    run = run_cli("check", "--adfs-export", export, "--no-history", "-q", "--deadline", deadline,
                  "--json", out["json"], "--html", out["html"], "--csv", out["csv"], *extra,
                  mem_mb=mem_mb, timeout=timeout)
    run.assert_clean()
    return run, json.loads(out["json"].read_text()), out


# --- class 5: unbounded input files and CPU ------------------------------------------------------

def test_a_two_million_item_list_is_refused_within_the_deadline(tmp_path, export_document):
    hostile = dict(export_document, Endpoints=[1] * 2_000_000)
    export = write_adfs_export(tmp_path / "export.json", hostile)
    run, doc, out = check_export(tmp_path, export, deadline="5", timeout=5 + 25)
    readable = next(f for f in doc["findings"] if f["check_id"] == "adfs.export-readable")
    assert readable["status"] == "fail"
    assert "$.Endpoints has 2,000,000 items, over the cap of 20,000" in readable["summary"]
    assert "limits.max_export_items" in readable["summary"]
    assert run.code == 3 and doc["verdict"] == "INCOMPLETE"  # the export's checks are not determined
    assert out["html"].stat().st_size < 1_000_000


def test_the_deadline_cuts_reading_an_export_the_admin_allowed_to_be_huge(tmp_path, export_document):
    hostile = dict(export_document, RelyingPartyTrusts=[{"Name": "a", "Identifier": ["x"]}] * 400_000)
    export = write_adfs_export(tmp_path / "export.json", hostile)
    config = tmp_path / "c.toml"
    config.write_text(f'[adfs]\nexport = "{export}"\n[limits]\nmax_export_items = 1000000\n')
    out = tmp_path / "r.json"
    run = run_cli("check", "--config", config, "--no-history", "-q", "--deadline", "1", "--json", out,
                  timeout=1 + 30)
    run.assert_clean()
    doc = json.loads(out.read_text())
    readable = next(f for f in doc["findings"] if f["check_id"] == "adfs.export-readable")
    assert readable["status"] == "error" and "deadline" in readable["summary"]
    assert run.code == 3


def test_many_relying_parties_make_a_bounded_report_and_a_complete_csv(tmp_path, pki, export_document):
    partner = pki.token_certificate("signing", "partner.test", NOW - timedelta(days=300), NOW + timedelta(days=5))
    raw = base64.b64encode(partner.der).decode()
    trusts = [{"Name": f"App {i}", "Identifier": [f"https://app{i}.test/"], "Enabled": True,
               "SignatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
               "RequestSigningCertificate": [{"RawData": raw}], "EncryptionCertificate": []} for i in range(3000)]
    export = write_adfs_export(tmp_path / "export.json",
                               dict(export_document, RelyingPartyTrusts=export_document["RelyingPartyTrusts"] + trusts))
    run, doc, out = check_export(tmp_path, export)
    shown = [f for f in doc["findings"] if f["check_id"] == "adfs.trust-certificates"]
    assert len(shown) == 101  # 100 shown (limits.max_report_rows) and one counting the rest
    assert shown[-1]["target"].startswith("(+") and "the CSV report (--csv) lists every finding" in shown[-1]["summary"]
    assert doc["counts"]["warn"] >= 3000  # the grade counts every finding
    csv_rows = out["csv"].read_text(encoding="utf-8-sig").count("adfs.trust-certificates")
    assert csv_rows == 100 + shown[-1]["evidence"]["findings_not_shown"] >= 3000  # every finding
    assert out["html"].stat().st_size < 3_000_000 and out["json"].stat().st_size < 3_000_000


def test_an_export_over_the_size_cap_names_the_cap_and_the_setting(tmp_path, export_document):
    export = write_adfs_export(tmp_path / "export.json", export_document)
    run, doc, _ = check_export(tmp_path, export, "--max-input-bytes", "2000")
    readable = next(f for f in doc["findings"] if f["check_id"] == "adfs.export-readable")
    assert "over the size cap of 2,000 bytes" in readable["summary"]
    assert "limits.max_input_bytes (or --max-input-bytes)" in readable["summary"]


def test_a_fifo_as_an_export_does_not_hang(tmp_path):
    fifo = tmp_path / "export.json"
    os.mkfifo(fifo)
    run = run_cli("check", "--adfs-export", fifo, "--no-history", "-q", timeout=60)  # the flag checks it
    assert run.code == 3 and "expected an existing JSON file" in run.err
    config = tmp_path / "c.toml"  # the file's key goes through the same validator (issue 14), without blocking
    config.write_text(f'[adfs]\nexport = "{fifo}"\n')
    run = run_cli("check", "--config", config, "--no-history", "-q", timeout=60)
    run.assert_clean()
    assert run.code == 3 and "adfs.export" in run.err and f"not a regular file: {fifo}" in run.err


def test_a_config_file_over_its_fixed_cap_is_a_configuration_error(tmp_path):
    config = tmp_path / "big.toml"
    config.write_text("# padding\n" * 120_000)
    run = run_cli("check", "--config", config)
    run.assert_clean()
    assert run.code == 3 and "over the size cap of 1,048,576 bytes (this limit is fixed)" in run.err


def test_a_certificate_file_of_begin_lines_is_read_in_linear_time(tmp_path):
    pem = tmp_path / "new-ssl.pem"
    pem.write_bytes(b"-----BEGIN CERTIFICATE-----\n" * 37_000)  # just under the 1 MiB cap
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n" * 250_000)  # 8 MB CA bundle
    out = tmp_path / "r.json"
    run = run_cli("check", "--metadata", METADATA, "--certificate", pem, "--ca-bundle", bundle, "--no-history",
                  "-q", "--json", out, timeout=60)
    run.assert_clean()
    names = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "certificate-file.names")
    assert names["status"] == "error" and "holds no certificate" in names["summary"]


def _pfx(tmp_path: Path, mac_iterations: int | None = None, kdf_iterations: int | None = None) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FS)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=300))
            .sign(key, hashes.SHA256()))
    encryption = (PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2000)
                  .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256()).build(b"pw"))
    pfx = asn1_pkcs12.Pfx.load(pkcs12.serialize_key_and_certificates(b"ssl", key, cert, None, encryption))
    # The counts a hostile file chooses (its MAC no longer matches: the guard must refuse before
    # anything derives a key, which is what a valid bomb would make cryptography do for minutes).
    if mac_iterations is not None:
        pfx["mac_data"]["iterations"] = mac_iterations
    if kdf_iterations is not None:
        parts = pfx.authenticated_safe
        for part in parts:
            if part["content_type"].native == "encrypted_data":
                algorithm = part["content"]["encrypted_content_info"]["content_encryption_algorithm"]
                algorithm["parameters"]["key_derivation_func"]["parameters"]["iteration_count"] = kdf_iterations
        pfx["auth_safe"]["content"] = asn1_pkcs12.OctetString(parts.dump(force=True))
    path = tmp_path / "new-ssl.pfx"
    path.write_bytes(pfx.dump(force=True))
    return path


@pytest.mark.parametrize("counts, what", [
    ({"mac_iterations": 2**31 - 1}, "its integrity MAC is 2,147,483,647"),
    ({"kdf_iterations": 50_000_000}, "its encrypted part 1 is 50,000,000"),
])
def test_a_pfx_with_a_huge_iteration_count_is_refused_fast(tmp_path, counts, what):
    pfx = _pfx(tmp_path, **counts)
    out = tmp_path / "r.json"
    run = run_cli("check", "--metadata", METADATA, "--certificate", pfx, "--certificate-password-env", "PFX_PW",
                  "--no-history", "-q", "--json", out, env={"PFX_PW": "pw"}, timeout=30)
    run.assert_clean()
    names = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "certificate-file.names")
    assert names["status"] == "error"
    assert what in names["summary"] and "limits.max_pfx_iterations" in names["summary"]


def test_a_normal_pfx_still_opens(tmp_path):
    out = tmp_path / "r.json"
    run = run_cli("check", "--metadata", METADATA, "--certificate", _pfx(tmp_path), "--certificate-password-env",
                  "PFX_PW", "--no-history", "-q", "--json", out, env={"PFX_PW": "pw"})
    run.assert_clean()
    key = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "certificate-file.key")
    assert key["status"] == "pass" and "the file's private key belongs to it" in key["summary"]


# --- class 6: snapshots and history are untrusted ------------------------------------------------

@pytest.fixture
def snapshot(tmp_path) -> Path:
    path = tmp_path / "evidence.json"
    run = run_cli("collect", "--metadata", METADATA, "--out", path, "-q")
    assert run.code != 3 and path.exists(), run.err  # collect exits with the verdict's code, like check
    return path


def assess(snapshot: Path, *extra: str | Path, **kw):
    out = snapshot.with_name("assessed.json")
    run = run_cli("assess", snapshot, "-q", "--json", out, *extra, **kw)
    run.assert_clean()
    return run, (json.loads(out.read_text()) if out.exists() else None)


def edit(snapshot: Path, change) -> Path:
    doc = json.loads(snapshot.read_text())
    change(doc)
    snapshot.write_text(json.dumps(doc))
    return snapshot


def test_a_snapshot_date_without_time_zone_is_refused(snapshot):
    edit(snapshot, lambda d: d.update(now="2026-11-30T12:00:00"))
    run, doc = assess(snapshot)
    assert run.code == 3 and "now: '2026-11-30T12:00:00' has no time zone" in run.err and doc is None


def test_a_fact_date_without_time_zone_is_refused(snapshot):
    def naive(doc):
        cert = doc["facts"]["metadata"]["document"]["roles"][0]["key_descriptors"][0]["certificates"][0]
        cert["not_after"] = cert["not_after"][:19]
    edit(snapshot, naive)
    run, _ = assess(snapshot)
    assert run.code == 3 and "has no time zone" in run.err and "metadata.document.roles[0]" in run.err


@pytest.mark.parametrize("payload, reason", [
    ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
    ("[" * 70 + "]" * 70, "nested deeper than 64 levels"),
    ("9" * 5000, "a number with 5,000 digits"),
    ("NaN", "NaN is not a JSON value"),
])
def test_hostile_json_in_a_snapshot_is_refused_with_the_reason(snapshot, payload, reason):
    text = snapshot.read_text().replace('"facts": {', f'"junk": {payload}, "facts": {{', 1)
    snapshot.write_text(text)
    run, _ = assess(snapshot)
    assert run.code == 3 and reason in run.err


def test_a_snapshot_cannot_make_assess_read_a_local_file(snapshot, tmp_path):
    # An accepted-risks file on this machine that would hide the snapshot's failing blocker, and a
    # FIFO for every other path (reading one would hang the run).
    accepted = tmp_path / "accepted.toml"
    accepted.write_text('[[accepted_risk]]\ncheck = "token-signing.*"\nreason = "x"\naccepted_by = "x"\n'
                        'expires = "2099-01-01"\n')
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def plant(doc):
        config = doc["config"]  # the settings, one object per TOML table
        config["suppressions"]["file"] = str(accepted)
        for section, key in (("tls", "ca_bundle"), ("tls", "external_ca_bundle"), ("certificate", "file"),
                             ("history", "path"), ("cloud", "entra_export"), ("lab", "directory_recording")):
            config[section][key] = str(fifo)
        config["adfs"]["export"] = [str(fifo)]
        config["directory"]["csv_dir"] = str(tmp_path / "written-by-a-snapshot")
        config["limits"] = {"max_report_rows": 1_000_000, "max_input_bytes": 4 * 1024 ** 3}
    edit(snapshot, plant)
    run, doc = assess(snapshot, timeout=60)
    assert run.code == 2 and doc["verdict"] == "NOT_READY"  # the token-signing blocker is not hidden
    assert not any(f.get("suppression") for f in doc["findings"])
    assert not (tmp_path / "written-by-a-snapshot").exists()


def test_a_snapshot_over_the_size_cap_names_the_flag(snapshot):
    run, _ = assess(snapshot, "--max-input-bytes", "1024")
    assert run.code == 3 and "over the size cap of 1,024 bytes (raise it with --max-input-bytes)" in run.err


@pytest.mark.parametrize("change, reason", [
    (lambda d: d.update(only=[["x"]]), "'only' is not a list of check ids"),
    (lambda d: d.update(tool=["x"]), "'tool' is not an object"),
    (lambda d: d.update(target="x" * 5000), "'target' is not a string"),
    (lambda d: d.update(snapshot_version=True), "not a version number"),
    (lambda d: d.pop("facts"), "missing 'facts'"),
    (lambda d: d["facts"]["metadata"].update(fetch=[1, 2]), "metadata"),
])
def test_a_misshapen_snapshot_is_refused(snapshot, change, reason):
    edit(snapshot, change)
    run, _ = assess(snapshot)
    assert run.code == 3 and reason in run.err


def test_a_damaged_history_row_is_skipped_with_a_warning(tmp_path):
    history = tmp_path / "history.sqlite3"
    first = run_cli("check", "--metadata", METADATA, "--history", history, "-q")
    assert first.code == 2
    with sqlite3.connect(history) as db:
        key, target = db.execute("SELECT target_key, target FROM runs WHERE id = 1").fetchone()
        db.execute("INSERT INTO runs (target_key, target, started_at, finished_at, verdict, score, grade, exit_code, "
                   "tool_version, findings, certificates) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (key, target, "yesterday", "x", "MAYBE", 500, "Z", 9, "0", "{not json", "[]"))
        db.execute("INSERT INTO runs (target_key, target, started_at, finished_at, verdict, score, grade, exit_code, "
                   "tool_version, findings, certificates) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (key, target, NOW.isoformat(), NOW.isoformat(), "READY", 100, "A", 0, "0",
                    json.dumps([{"check_id": ["not", "a", "string"], "status": "pass"}]), "[]"))
    db.close()
    run = run_cli("check", "--metadata", METADATA, "--history", tmp_path / "history.sqlite3", "-q")
    run.assert_clean()
    assert run.code == 2  # the verdict, not a crash
    assert "history run 2 in" in run.err and "history run 3 in" in run.err and "damaged and was skipped" in run.err
    later = run_cli("check", "--metadata", METADATA, "--history", history, "-q")  # compares with the good run 4
    later.assert_clean()
    assert later.code == 2 and "damaged" not in later.err
    listing = run_cli("history", "--history", history, "list")
    listing.assert_clean()
    assert listing.code == 0 and "is damaged and was skipped" in listing.err
    assert listing.out.count("NOT_READY") == 3 and listing.out.count("READY") == 3  # rows 1, 4, 5
    show = run_cli("history", "--history", history, "show", "2")
    show.assert_clean()
    assert show.code == 3 and "run 2 is damaged (id, score or exit code is not a number in range)" in show.err
