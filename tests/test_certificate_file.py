"""``check --certificate FILE``: PEM, DER and PFX files (made here with cryptography's serializers)
read by the certificate-file probe and judged by the certificate-file.* checks; damaged and
non-conforming certificates (negative serial, truncated DER) described without crashing, also under
``python -W error``; the certificate calendar in the JSON (schema-valid) and HTML reports; RFC 6125
name matching."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXED_NOW
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from adfs_readiness.calendar import build_calendar
from adfs_readiness.cli import main
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts.tls import CERTIFICATE_FILE_FACT
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.model import Status, Verdict
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.probes.tls_file import read_certificate_file
from adfs_readiness.report import render_html, report_dict
from adfs_readiness.report.json_report import validate_report
from adfs_readiness.settings import CertificateSettings, FederationSettings, Scope, Settings, TlsSettings
from adfs_readiness_checks._tls import name_matches

REGISTRY = discover_checks(strict=True)
FILE_IDS = [c.id for c in REGISTRY.checks if c.id.startswith("certificate-file.")]
FS = "sts.contoso.test"


@pytest.fixture(scope="module")
def pki() -> LabPki:
    return LabPki(FIXED_NOW)


@pytest.fixture(scope="module")
def good(pki):
    return pki.issue_tls([FS, f"certauth.{FS}", "enterpriseregistration.contoso.test"], key_slot="file-good")


def pfx(cert, *, password: bytes | None, chain=True, key=True) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption())
    return pkcs12.serialize_key_and_certificates(b"adfs ssl", cert.key if key else None, cert.cert,
                                                 list(cert.chain[1:]) if chain else None, encryption)


def judge(path: Path | None, password: str | None = None, **sections):
    cfg = Settings(federation=FederationSettings(service_name=FS, domains=("contoso.test",)),
                   certificate=CertificateSettings(file=path, password=password), **sections)
    result = run_checks(REGISTRY, builtin_probes(), cfg, FIXED_NOW, only=FILE_IDS)
    validate_report(report_dict(result))
    return {f.check_id: f for f in result.findings}, result


def lab_trust(pki, tmp_path) -> dict:
    bundle = tmp_path / "root.pem"
    bundle.write_bytes(pki.ca_bundle_pem())
    return {"tls": TlsSettings(ca_bundle=bundle, external_ca_bundle=bundle)}


def test_no_file_skips_everything():
    found, _ = judge(None)
    assert {f.status for f in found.values()} == {Status.SKIP} and set(found) == set(FILE_IDS)


def test_pem_with_chain_and_key_passes(pki, good, tmp_path):
    path = tmp_path / "ssl.pem"
    path.write_bytes(good.chain_pem() + good.key_pem())
    scope = Scope(certificate_authentication=True, device_registration=True)
    found, result = judge(path, scope=scope, **lab_trust(pki, tmp_path))
    assert {k: f.status for k, f in found.items()} == {k: Status.PASS for k in FILE_IDS}
    fact = result.facts[CERTIFICATE_FILE_FACT]
    assert fact["file_format"] == "PEM" and fact["private_key_matches"] is True
    assert [c["sha1"] for c in fact["certificates"]] == [good.sha1, pki.intermediate.sha1]


def test_der_leaf_only_misses_the_intermediate_and_has_no_key(pki, good, tmp_path):
    path = tmp_path / "ssl.cer"
    path.write_bytes(good.der)
    found, result = judge(path, **lab_trust(pki, tmp_path))
    assert result.facts[CERTIFICATE_FILE_FACT]["file_format"] == "DER"
    assert found["certificate-file.chain"].status is Status.FAIL
    assert found["certificate-file.chain"].evidence["failure"] == "intermediate_missing"
    # The reason in a file's words: no server "sent" anything here.
    summary = found["certificate-file.chain"].summary
    assert "the file holds only the certificate itself" in summary and "server sent" not in summary, summary
    assert found["certificate-file.key"].status is Status.INFO
    assert found["certificate-file.names"].status is Status.PASS


def test_pfx_with_password_from_the_environment_through_the_cli(pki, good, tmp_path, monkeypatch):
    path = tmp_path / "ssl.pfx"
    path.write_bytes(pfx(good, password=b"s3cret!"))
    monkeypatch.setenv("TEST_PFX_PASSWORD", "s3cret!")
    js, html = tmp_path / "r.json", tmp_path / "r.html"
    code = main(["check", "--service-name", FS, "--certificate", str(path), "--certificate-password-env",
                 "TEST_PFX_PASSWORD", "--ca-bundle", str(lab_trust(pki, tmp_path)["tls"].ca_bundle),
                 "--json", str(js), "--html", str(html), "-q", "--as-of", FIXED_NOW.isoformat(),
                 *[arg for cid in FILE_IDS for arg in ("--only", cid)]])
    doc = json.loads(js.read_text())
    validate_report(doc)
    statuses = {f["check_id"]: f["status"] for f in doc["findings"]}
    # Without the lab root in the external view the private CA is not publicly trusted.
    assert statuses == {"certificate-file.readable": "pass", "certificate-file.names": "pass",
                        "certificate-file.key": "pass", "certificate-file.chain": "fail",
                        "certificate-file.eku": "pass", "certificate-file.expiry": "pass"}
    # A certificate external clients do not trust would stop sign-in once deployed: NOT_READY.
    assert code == 2 and doc["verdict"] == "NOT_READY"
    assert "s3cret" not in js.read_text() and "s3cret" not in html.read_text()
    # The calendar: the file's leaf and its intermediate.
    roles = {(c["role"], c["sha1"]) for c in doc["certificates"]}
    assert roles == {("SSL (file)", good.sha1), ("SSL chain (file)", pki.intermediate.sha1)}
    leaf = next(c for c in doc["certificates"] if c["role"] == "SSL (file)")
    assert leaf["days_left"] == (good.cert.not_valid_after_utc - FIXED_NOW).days == 365
    assert leaf["sha256"] == good.cert.fingerprint(hashes.SHA256()).hex().upper()
    page = html.read_text()
    assert 'id="certificates"' in page and good.sha1 in page and "Certificate calendar" in page


def test_pfx_wrong_password_fails_the_run_with_the_reason_not_a_crash(good, tmp_path):
    path = tmp_path / "ssl.pfx"
    path.write_bytes(pfx(good, password=b"right"))
    fact = read_certificate_file(path, "wrong")
    assert fact.file_format == "PKCS12" and fact.error and "wrong password" in fact.error
    assert not fact.password_missing
    found, result = judge(path, "wrong")
    readable = found.pop("certificate-file.readable")
    assert readable.status is Status.FAIL and readable.blocker and "could not be opened" in readable.summary
    assert {f.status for f in found.values()} == {Status.ERROR}
    assert all("see certificate-file.readable" in f.summary for f in found.values())
    assert result.grade.verdict is Verdict.NOT_READY


def test_pfx_without_its_password_is_not_determined_and_says_how_to_give_it(good, tmp_path, capsys):
    """A missing password is missing input, not a broken certificate: INCOMPLETE (exit 3) with the
    way to give the password, never NOT_READY / F / "export the certificate again"."""
    path = tmp_path / "ssl.pfx"
    path.write_bytes(pfx(good, password=b"right"))
    fact = read_certificate_file(path, None)
    assert fact.password_missing and fact.file_format == "PKCS12" and not fact.certificates
    found, result = judge(path, None)
    readable = found.pop("certificate-file.readable")
    assert readable.status is Status.ERROR and not readable.blocker
    assert readable.summary.startswith(f"The PKCS12 file {path} is protected by a password and none was given")
    assert "--certificate-password-env VAR" in readable.remediation and "Export" not in readable.remediation
    assert {f.status for f in found.values()} == {Status.ERROR}
    assert all("protected by a password and none was given" in f.summary for f in found.values())
    assert result.grade.verdict is Verdict.INCOMPLETE
    # Through the command line, non-interactive (no prompt) and without --certificate-password-env.
    js = tmp_path / "r.json"
    code = main(["check", "--service-name", FS, "--certificate", str(path), "--json", str(js), "--no-history",
                 "--as-of", FIXED_NOW.isoformat()])
    out = capsys.readouterr().out
    doc = json.loads(js.read_text())
    assert code == 3 and doc["verdict"] == "INCOMPLETE" and doc["exit_code"] == 3
    assert "BLOCKS SSO" not in out and "Export the certificate again" not in out and "NOT READY" not in out
    assert "--certificate-password-env VAR" in out
    # A .pfx that is no PKCS#12 structure at all stays a broken file, password or not.
    junk = tmp_path / "junk.pfx"
    junk.write_bytes(b"\x30\x03\x02\x01\x05" + b"not a pfx" * 10)
    broken = read_certificate_file(junk, None)
    assert not broken.password_missing and "not a PFX/PKCS#12 file" in (broken.error or "")
    assert judge(junk, None)[0]["certificate-file.readable"].status is Status.FAIL


def test_an_encrypted_pem_key_without_password_is_not_judged_as_no_key(pki, good, tmp_path):
    path = tmp_path / "ssl.pem"
    key = good.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.BestAvailableEncryption(b"right"))
    path.write_bytes(good.chain_pem() + key)
    found, _ = judge(path, None, **lab_trust(pki, tmp_path))
    assert found["certificate-file.readable"].status is Status.PASS
    assert found["certificate-file.key"].status is Status.ERROR
    assert "encrypted and no password was given" in found["certificate-file.key"].summary
    found, _ = judge(path, "right", **lab_trust(pki, tmp_path))
    assert found["certificate-file.key"].status is Status.PASS


def test_chain_remediation_tells_an_incomplete_chain_from_an_untrusted_root(pki, good, tmp_path):
    # Leaf alone (DER): the file lacks the intermediate; exporting with the chain fixes it.
    leaf_only = tmp_path / "leaf.cer"
    leaf_only.write_bytes(good.der)
    chain = judge(leaf_only, **lab_trust(pki, tmp_path))[0]["certificate-file.chain"]
    assert chain.evidence["cause"] == "incomplete_chain" and "-ChainOption BuildChain" in chain.remediation
    # Leaf + intermediate + root, the root private (not in the external view): complete, untrusted.
    full = tmp_path / "full.pem"
    full.write_bytes(good.chain_pem() + pki.root.cert.public_bytes(serialization.Encoding.PEM))
    chain = judge(full)[0]["certificate-file.chain"]
    assert chain.status is Status.FAIL and chain.evidence["failure"] == "untrusted_root"
    assert chain.evidence["cause"] == "untrusted_root"
    assert "The chain is complete but ends at" in chain.remediation and "publicly trusted CA" in chain.remediation
    assert "Include all certificates" not in chain.remediation
    # Leaf + intermediate, the enterprise bundle holding the root (internal view trusts it): the same.
    inside = tmp_path / "inside.pem"
    inside.write_bytes(good.chain_pem())
    bundle = tmp_path / "root.pem"
    bundle.write_bytes(pki.ca_bundle_pem())
    chain = judge(inside, tls=TlsSettings(ca_bundle=bundle))[0]["certificate-file.chain"]
    assert chain.evidence["cause"] == "untrusted_root" and "enterprise root CA" in chain.remediation


def test_unencrypted_pfx_without_password_and_mismatched_key(pki, good, tmp_path):
    path = tmp_path / "plain.p12"
    path.write_bytes(pfx(good, password=None))
    fact = read_certificate_file(path, None)
    assert fact.private_key_matches is True and fact.private_key_type == "RSA"
    other = pki.issue_tls([FS], key_slot="file-other")
    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes(good.cert_pem() + other.key_pem())
    found, _ = judge(mixed)
    assert found["certificate-file.key"].status is Status.FAIL
    assert "belongs to another certificate" in found["certificate-file.key"].summary


def test_weak_wrong_name_wrong_eku_and_expiry(pki, tmp_path):
    cases = {
        "weak": (pki.issue_tls([FS], key_size=1024, key_slot="file-weak"), "certificate-file.key", Status.FAIL),
        "sha1": (pki.issue_tls([FS], hash=hashes.SHA1(), key_slot="file-sha1"), "certificate-file.key", Status.WARN),
        "name": (pki.issue_tls(["www.fabrikam.test"]), "certificate-file.names", Status.FAIL),
        "eku": (pki.issue_tls([FS], server_auth=False, key_slot="file-eku"), "certificate-file.eku", Status.FAIL),
        "expired": (pki.issue_tls([FS], days_valid=20), "certificate-file.expiry", Status.FAIL),
        "soon": (pki.issue_tls([FS], days_valid=90), "certificate-file.expiry", Status.WARN),
        "self": (pki.issue_tls([FS], issuer="self"), "certificate-file.chain", Status.FAIL),
    }
    for name, (cert, check_id, status) in cases.items():
        path = tmp_path / f"{name}.pem"
        path.write_bytes(cert.chain_pem() + cert.key_pem())
        found, _ = judge(path, **lab_trust(pki, tmp_path))
        assert found[check_id].status is status, (name, found[check_id].summary)
    found, _ = judge(tmp_path / "self.pem", **lab_trust(pki, tmp_path))
    assert found["certificate-file.chain"].evidence["failure"] == "self_signed"
    scoped, _ = judge(tmp_path / "weak.pem", scope=Scope(certificate_authentication=True))
    assert scoped["certificate-file.names"].status is Status.WARN
    assert scoped["certificate-file.names"].evidence["missing"] == [f"certauth.{FS}"]


def test_damaged_files_are_described(corpus, good, tmp_path):
    truncated = tmp_path / "cut.cer"
    truncated.write_bytes(good.der[:300])
    fact = read_certificate_file(truncated, None)
    assert fact.file_format == "DER" and not fact.certificates[0].decodable
    found, _ = judge(truncated)
    assert found["certificate-file.expiry"].status is Status.ERROR
    negative = read_certificate_file(corpus / "certs" / "negative_serial_2014.pem", None)
    assert negative.certificates[0].serial_number.startswith("-")
    assert any("negative" in p for p in negative.certificates[0].problems)
    garbage = tmp_path / "nothing.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert read_certificate_file(garbage, None).error == "the PEM file holds no certificate"


def test_cli_under_python_w_error_with_a_negative_serial_certificate(corpus, tmp_path):
    js = tmp_path / "r.json"
    command = [sys.executable, "-W", "error", "-m", "adfs_readiness", "check", "--service-name", FS,
               "--certificate", str(corpus / "certs" / "negative_serial_2014.pem"), "--json", str(js), "-q",
               "--as-of", "2026-11-30", *[arg for cid in FILE_IDS for arg in ("--only", cid)]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode in (1, 2), done.stderr
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr
    doc = json.loads(js.read_text())
    assert {f["check_id"] for f in doc["findings"]} == set(FILE_IDS)
    assert doc["certificates"][0]["role"] == "SSL (file)"


def test_calendar_merges_roles_and_places_and_sorts_by_expiry():
    import factories
    from adfs_readiness.facts import ProbeError, ProbeErrorKind, TlsPeerChain
    from adfs_readiness.facts.tls import EndpointRole, TlsEndpoint, TlsFacts

    signing = factories.certificate(valid_days=30)
    decrypting = factories.certificate("ADFS Encryption - sts.contoso.com", valid_days=200)
    ssl = factories.certificate("sts.contoso.com", valid_days=90)
    broken = factories.undecodable_certificate()
    metadata = factories.metadata_fact(factories.document(signing=[signing], encryption=[decrypting]))

    def endpoint(role, address, cert):
        chain = TlsPeerChain("sts.contoso.com", address, "TLSv1.3", "TLS_AES_256_GCM_SHA384", (cert,))
        return TlsEndpoint(role, address, "sts.contoso.com", address, chain, None)

    tls = TlsFacts("sts.contoso.com", (endpoint(EndpointRole.NODE, "10.0.0.11:443", ssl),
                                       endpoint(EndpointRole.PROXY, "203.0.113.10:443", ssl),
                                       endpoint(EndpointRole.NODE, "10.0.0.12:443", broken)), ())
    entries = build_calendar({"metadata": metadata, "tls": tls,
                              "dns": ProbeError(ProbeErrorKind.TIMEOUT, "x")}, FIXED_NOW)
    assert [(e.role, e.days_left) for e in entries] == [
        ("token-signing", 30), ("SSL", 90), ("token-decrypting", 200), ("SSL", None)]
    assert entries[1].where == ("node 10.0.0.11:443", "proxy 203.0.113.10:443")
    assert entries[0].sha1 == signing.sha1 and entries[0].sha256 == signing.sha256


@pytest.mark.parametrize("pattern, host, expected", [
    ("sts.contoso.com", "STS.contoso.com.", True),
    ("*.contoso.com", "sts.contoso.com", True),
    ("*.contoso.com", "a.b.contoso.com", False),
    ("*.contoso.com", "contoso.com", False),
    ("*.com", "contoso.com", False),
    ("s*.contoso.com", "sts.contoso.com", False),
    ("sts.*.com", "sts.contoso.com", False),
])
def test_rfc6125_name_matching(pattern, host, expected):
    assert name_matches(pattern, host) is expected


def test_html_without_certificates_has_no_calendar(good):
    result = run_checks(REGISTRY, builtin_probes(), Settings(federation=FederationSettings(service_name=FS)), FIXED_NOW,
                        only=FILE_IDS)
    assert result.certificates == () and 'id="certificates"' not in render_html(result)
    assert build_calendar({}, FIXED_NOW) == ()
