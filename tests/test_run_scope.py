"""A run is graded on what it was asked (issue 11, section 1): ``check --certificate FILE`` and
``check --metadata FILE`` judge the file, with no other flag needed, and their verdicts are about
that file; nothing outside the run's scope is probed or can move the verdict.

Every case goes through the real CLI (``main``) and reads the JSON report it wrote.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import FIXED_NOW
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from adfs_readiness.cli import main
from adfs_readiness.lab.pki import LabPki

FS = "sts.contoso.test"
AS_OF = FIXED_NOW.isoformat()
V4 = Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"


@pytest.fixture(scope="module")
def pki():
    return LabPki(FIXED_NOW)


def run(tmp_path: Path, *argv: str) -> tuple[int, dict, dict]:
    out = tmp_path / "r.json"
    code = main(["check", *argv, "--json", str(out), "-q", "--as-of", AS_OF])
    doc = json.loads(out.read_text())
    return code, doc, {f["check_id"]: f for f in doc["findings"]}


def trusted_config(tmp_path: Path, pki: LabPki) -> Path:
    """A config whose external view trusts the lab root (a publicly trusted CA stand-in)."""
    root = tmp_path / "root.pem"
    root.write_bytes(pki.ca_bundle_pem())
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[tls]\nexternal_ca_bundle = "{root}"\n')
    return cfg


def in_scope(found: dict) -> dict:
    return {k: f for k, f in found.items() if not f["summary"].startswith("Not part of this run")}


def test_certificate_file_alone_is_a_run_about_that_file(tmp_path, pki):
    cert = pki.issue_tls([FS, f"certauth.{FS}"], key_slot="scope-good")
    path = tmp_path / "ssl.pem"
    path.write_bytes(cert.chain_pem() + cert.key_pem())
    code, doc, found = run(tmp_path, "--certificate", str(path), "--config", str(trusted_config(tmp_path, pki)))
    assert (code, doc["verdict"]) == (0, "READY")
    judged = in_scope(found)
    assert set(judged) == {k for k in found if k.startswith("certificate-file.")}
    # The names are listed, and judging them is skipped with the reason.
    names = judged["certificate-file.names"]
    assert names["status"] == "skip" and FS in names["summary"] and "no federation service name" in names["summary"]
    assert "(--service-name)" in names["summary"]
    # --domain alone does not say which host the certificate must name: the skip says so, and
    # does not send the admin to the flag just given.
    code, doc, found = run(tmp_path, "--certificate", str(path), "--domain", "contoso.test",
                           "--config", str(trusted_config(tmp_path, pki)))
    names = found["certificate-file.names"]
    assert names["status"] == "skip" and "(--service-name) (--domain contoso.test gives the federated domains, not " \
        "the host the certificate must name)" in names["summary"], names["summary"]
    # Nothing of the live deployment was probed or judged.
    assert all(f["status"] == "skip" for k, f in found.items() if k not in judged)
    assert not {"dns", "tls", "metadata", "endpoints"} & set(doc["facts"])
    assert doc["target"] == cert.sha1 and doc["run"]["scope"]["kind"] == "certificate-file"


@pytest.mark.parametrize("case", ["self-signed", "wrong-name", "cn-only", "expired", "expires-soon", "not-yet-valid",
                                  "weak-key", "client-auth-only"])
def test_a_certificate_that_would_stop_sign_in_makes_the_run_not_ready(tmp_path, pki, case):
    issue = {
        "self-signed": lambda: pki.issue_tls([FS], issuer="self", key_slot="scope-self"),
        "wrong-name": lambda: pki.issue_tls(["www.fabrikam.test"], key_slot="scope-wrong"),
        "cn-only": lambda: pki.issue_tls([FS], key_slot="scope-cn"),
        "expired": lambda: pki.issue_tls([FS], days_valid=20, not_before_offset_days=-30, key_slot="scope-exp"),
        "expires-soon": lambda: pki.issue_tls([FS], days_valid=40, not_before_offset_days=-30, key_slot="scope-soon"),
        "not-yet-valid": lambda: pki.issue_tls([FS], not_before_offset_days=5, key_slot="scope-future"),
        "weak-key": lambda: pki.issue_tls([FS], key_size=1024, key_slot="scope-weak"),
        "client-auth-only": lambda: pki.issue_tls([FS], server_auth=False, key_slot="scope-eku"),
    }[case]
    cert = issue()
    path = tmp_path / "ssl.pem"
    if case == "cn-only":
        # The same certificate without a subjectAltName: rebuilt from the lab's issuing CA.
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        b = (x509.CertificateBuilder().subject_name(cert.cert.subject).issuer_name(pki.intermediate.cert.subject)
             .public_key(cert.key.public_key()).serial_number(4242).not_valid_before(FIXED_NOW - timedelta(days=1))
             .not_valid_after(FIXED_NOW + timedelta(days=300))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
        leaf = b.sign(pki.intermediate.key, hashes.SHA256())
        path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + pki.intermediate.cert_pem())
    else:
        path.write_bytes(cert.chain_pem())
    code, doc, found = run(tmp_path, "--certificate", str(path), "--service-name", FS,
                           "--config", str(trusted_config(tmp_path, pki)))
    assert (code, doc["verdict"]) == (2, "NOT_READY"), {k: f["status"] for k, f in found.items()}
    blockers = {f["check_id"]: f["summary"] for f in doc["findings"] if f["blocker"]}
    expected = {
        "self-signed": ("certificate-file.chain", "self-signed"),
        "wrong-name": ("certificate-file.names", "is for www.fabrikam.test, not for the federation service"),
        "cn-only": ("certificate-file.names", "has no subjectAltName"),
        "expired": ("certificate-file.expiry", "expired"),
        "expires-soon": ("certificate-file.expiry", "fewer than 14 days left"),
        "not-yet-valid": ("certificate-file.expiry", "is not valid before"),
        "weak-key": ("certificate-file.key", "RSA 1024-bit key"),
        "client-auth-only": ("certificate-file.eku", "lacks the Server Authentication EKU"),
    }[case]
    assert expected[0] in blockers and expected[1] in blockers[expected[0]], blockers
    # The real reason, never a wrong one: a self-signed certificate is not "a name mismatch".
    if case == "self-signed":
        assert "does not name" not in blockers["certificate-file.chain"]
        assert found["certificate-file.chain"]["evidence"]["failure"] == "self_signed"
        # ... and its fix is a CA-issued certificate, not exporting a chain it does not have.
        fix = found["certificate-file.chain"]["remediation"]
        assert "publicly trusted CA" in fix and "Include all certificates" not in fix, fix


@pytest.mark.parametrize("content", [b"not a certificate at all\n",
                                     b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                     b"\x30\x82\x01\x00garbage"])
def test_a_file_that_is_not_a_certificate_makes_the_run_not_ready(tmp_path, content):
    path = tmp_path / "ssl.cer"
    path.write_bytes(content)
    code, doc, found = run(tmp_path, "--certificate", str(path))
    assert (code, doc["verdict"]) == (2, "NOT_READY")
    readable = found["certificate-file.readable"]
    assert readable["status"] == "fail" and readable["blocker"] and "cannot be used as a certificate" in readable["summary"]


def test_a_pfx_that_cannot_be_opened_makes_the_run_not_ready(tmp_path, pki, monkeypatch):
    cert = pki.issue_tls([FS], key_slot="scope-pfx")
    path = tmp_path / "ssl.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"ssl", cert.key, cert.cert, None, serialization.BestAvailableEncryption(b"right")))
    monkeypatch.setenv("PFX_PW", "not-the-right-one")  # a secret: redacted wherever it shows
    code, doc, found = run(tmp_path, "--certificate", str(path), "--certificate-password-env", "PFX_PW")
    assert (code, doc["verdict"]) == (2, "NOT_READY")
    assert "wrong password" in found["certificate-file.readable"]["summary"]
    assert "not-the-right-one" not in json.dumps(doc)  # the password is never in the report


def test_metadata_file_run_is_about_the_metadata_even_with_a_service_name(tmp_path):
    # Inside the certificates' validity: the document itself is fine.
    out = tmp_path / "r.json"
    code = main(["check", "--metadata", str(V4), "--service-name", "fs.msidlab11.com", "--as-of", "2017-06-01",
                 "--json", str(out), "-q"])
    doc = json.loads(out.read_text())
    judged = in_scope({f["check_id"]: f for f in doc["findings"]})
    assert judged and all(k.startswith(("metadata.", "token-", "dns.fs-name")) for k in judged), sorted(judged)
    assert not {"dns", "tls", "endpoints", "cloud"} & set(doc["facts"])  # nothing live was probed
    assert doc["target"] == "http://fs.msidlab11.com/adfs/services/trust"
    assert (code, doc["verdict"]) == (0, "READY")
    # After the primary token-signing certificate expired, the same file is NOT_READY.
    code = main(["check", "--metadata", str(V4), "--as-of", "2018-02-01", "--json", str(out), "-q"])
    assert (code, json.loads(out.read_text())["verdict"]) == (2, "NOT_READY")


def history_targets(tmp_path: Path, capsys) -> list[str]:
    capsys.readouterr()
    if main(["history", "--history", str(tmp_path / "h.sqlite3"), "list", "--json"]) != 0:
        return []
    return [r["target_key"] for r in json.loads(capsys.readouterr().out)]


def test_history_holds_real_observations_keyed_by_what_was_checked(tmp_path, pki, capsys):
    history = ["--history", str(tmp_path / "h.sqlite3"), "-q"]
    corpus = Path(__file__).parent / "corpus" / "metadata"
    # Two partners' files, both called FederationMetadata.xml: two targets, by entityID.
    for i, name in enumerate(("msidentitymodel_adfs-v4-metadata.xml", "ucar_adfs_FederationMetadata_2017.xml")):
        folder = tmp_path / f"partner{i}"
        folder.mkdir()
        (folder / "FederationMetadata.xml").write_bytes((corpus / name).read_bytes())
        main(["check", "--metadata", str(folder / "FederationMetadata.xml"), *history])
    cert = pki.issue_tls([FS], key_slot="scope-history")
    pem = tmp_path / "ssl.pem"
    pem.write_bytes(cert.chain_pem())
    main(["check", "--certificate", str(pem), *history])
    expected = [cert.sha1, "https://sts.ucar.edu/adfs/services/trust", "http://fs.msidlab11.com/adfs/services/trust"]
    assert history_targets(tmp_path, capsys) == expected
    # A projection (--as-of) is never recorded, compared or notified, even with a webhook set.
    assert main(["check", "--certificate", str(pem), "--as-of", "2030-01-01", "--notify-webhook",
                 "http://127.0.0.1:9/hook", *history]) == 2
    assert "not recorded in the history and nothing posted" in capsys.readouterr().err
    assert main(["check", "--metadata", str(tmp_path / "partner0" / "FederationMetadata.xml"),
                 "--as-of", "2017-06-01", *history]) == 0
    # An unreadable file identifies nothing: not an observation either.
    junk = tmp_path / "junk.cer"
    junk.write_bytes(b"junk")
    main(["check", "--certificate", str(junk), *history])
    assert history_targets(tmp_path, capsys) == expected
