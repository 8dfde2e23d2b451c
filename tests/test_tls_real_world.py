"""Real-world TLS shapes the tls.* checks must judge as real clients do (issue 11, section 2),
each against a real TLS server on loopback:

* class 1 — certificates strict DER parsers reject but OpenSSL and Windows accept (an explicitly
  encoded DEFAULT such as basicConstraints cA FALSE; a negative serial number): trusted as
  OpenSSL judges them, the encoding problem its own warning, every check reading the leniently
  recovered extensions;
* class 8 — servers without RFC 5746 secure renegotiation (see the second half).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from conftest import FIXED_NOW
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from adfs_readiness.cli import main
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts import ProbeErrorKind
from adfs_readiness.lab import Lab
from adfs_readiness.lab.dns_lab import DnsLab
from adfs_readiness.lab.pki import LabCertificate, LabPki
from adfs_readiness.lab.sts import StsBehaviour, StsSimulator
from adfs_readiness.model import Status
from adfs_readiness.net.budget import TimeBudget
from adfs_readiness.net.http import HttpClient
from adfs_readiness.net.trust import TrustStores
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.report import report_dict
from adfs_readiness.report.json_report import validate_report
from adfs_readiness.settings import FederationSettings, HostPort, NetworkSettings, Settings, TlsSettings

REGISTRY = discover_checks(strict=True)
TLS_IDS = [c.id for c in REGISTRY.checks if c.id.startswith("tls.")]
FS = "sts.contoso.test"
#: basicConstraints with cA FALSE encoded explicitly: SEQUENCE { BOOLEAN FALSE } (X.690 11.5
#: says DER omits it: 30 00). GoDaddy and asn1c-based CA software wrote this.
EXPLICIT_CA_FALSE = bytes.fromhex("3003010100")


@pytest.fixture(scope="module")
def pki() -> LabPki:
    return LabPki(FIXED_NOW)


def _builder(pki: LabPki, key, *, explicit_default: bool) -> x509.CertificateBuilder:
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FS)]))
               .issuer_name(pki.intermediate.cert.subject)
               .public_key(key.public_key())
               .serial_number(0x5EED)
               .not_valid_before(FIXED_NOW - timedelta(days=30))
               .not_valid_after(FIXED_NOW + timedelta(days=300))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(FS)]), critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                   full_name=[x509.UniformResourceIdentifier("http://pki.contoso.test/crl/issuing.crl")],
                   relative_name=None, reasons=None, crl_issuer=None)]), critical=False))
    if explicit_default:
        return builder.add_extension(x509.UnrecognizedExtension(ExtensionOID.BASIC_CONSTRAINTS, EXPLICIT_CA_FALSE),
                                     critical=True)
    return builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)


def _with_negative_serial(cert: x509.Certificate, signer_key) -> x509.Certificate:
    """``cert`` with its serial number made negative and signed again (RFC 5280 4.1.2.2 forbids
    it; old CA software and Entra's 2014 signing certificate have one)."""
    tbs = asn1_x509.TbsCertificate.load(cert.tbs_certificate_bytes)
    tbs["serial_number"] = -0x5EED
    tbs_der = tbs.dump(force=True)
    signature = signer_key.sign(tbs_der, padding.PKCS1v15(), hashes.SHA256())
    whole = asn1_x509.Certificate({"tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
                                   "signature_algorithm": {"algorithm": "sha256_rsa"},
                                   "signature_value": signature})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography warns about the very thing made here
        return x509.load_der_x509_certificate(whole.dump())


def odd_certificate(pki: LabPki, kind: str) -> LabCertificate:
    key = pki.issue_tls([FS], key_slot="odd-encoding").key
    cert = _builder(pki, key, explicit_default=kind == "explicit-default").sign(pki.intermediate.key, hashes.SHA256())
    if kind == "negative-serial":
        cert = _with_negative_serial(cert, pki.intermediate.key)
    return LabCertificate(cert, key, (cert, pki.intermediate.cert))


@contextlib.contextmanager
def serve(tmp_path: Path, certificate: LabCertificate):
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificate.chain))
    key.write_bytes(certificate.key_pem())
    simulator = StsSimulator(StsBehaviour(metadata=b"<EntityDescriptor/>"), chain, key)
    simulator.start()
    try:
        yield simulator.address
    finally:
        simulator.stop()


def judge(address: HostPort, root: Path) -> dict[str, list]:
    config = Settings(federation=FederationSettings(service_name=FS, service_address=address),
                      tls=TlsSettings(ca_bundle=root, external_ca_bundle=root),
                      network=NetworkSettings(timeout_seconds=2.0, deadline_seconds=20.0))
    result = run_checks(REGISTRY, builtin_probes(), config, FIXED_NOW, only=TLS_IDS)
    validate_report(report_dict(result))
    found: dict[str, list] = {}
    for f in result.findings:
        found.setdefault(f.check_id, []).append(f)
    return found


@pytest.mark.parametrize("kind", ["explicit-default", "negative-serial"])
def test_a_chain_strict_parsers_reject_is_judged_as_openssl_and_windows_judge_it(tmp_path, pki, kind):
    certificate = odd_certificate(pki, kind)
    root = tmp_path / "root.pem"
    root.write_bytes(pki.ca_bundle_pem())
    with serve(tmp_path, certificate) as address:
        found = judge(address, root)
    status = {k: [f.status for f in v] for k, v in found.items()}
    # Not a failed blocker: OpenSSL's verifier builds the path to the (externally trusted) lab root.
    (trust,) = found["tls.certificate-trust"]
    assert trust.status is Status.PASS, trust.summary
    view = trust.evidence["verification"]["external"]["chain_only"]
    assert view["trusted"] and view["verifier"] == "openssl" and "strict" in view["message"]
    # The encoding problem is its own warning, naming what is wrong and who refuses it.
    (encoding,) = found["tls.certificate-encoding"]
    assert encoding.status is Status.WARN and encoding.target == certificate.sha1
    phrase = "DEFAULT value is encoded explicitly" if kind == "explicit-default" else "negative serial number"
    assert phrase in encoding.summary and "Python's cryptography" in encoding.summary
    assert "OpenSSL, Windows" in encoding.summary
    # Every check reads the extensions the lenient decoder recovered.
    (revocation,) = found["tls.revocation-info"]
    assert revocation.status is Status.PASS and "1 CRL" in revocation.summary
    assert status["tls.certificate-name"] == [Status.PASS]
    assert status["tls.certificate-expiry"] == [Status.PASS]
    assert status["tls.reachable"] == [Status.PASS]
    assert not any(f.blocker for fs in found.values() for f in fs)


def test_a_clean_chain_has_no_encoding_warning(tmp_path, pki):
    root = tmp_path / "root.pem"
    root.write_bytes(pki.ca_bundle_pem())
    with serve(tmp_path, pki.issue_tls([FS], key_slot="clean-encoding")) as address:
        found = judge(address, root)
    (encoding,) = found["tls.certificate-encoding"]
    assert encoding.status is Status.PASS
    view = found["tls.certificate-trust"][0].evidence["verification"]["external"]["chain_only"]
    assert view["verifier"] == "cryptography"


def profile_chain(pki: LabPki, kind: str) -> tuple[LabCertificate, bytes]:
    """A DER-clean chain the strict verifier refuses for its profile, and the root to trust:
    "leaf-without-aki" (the lab's intermediate signs a leaf with no authorityKeyIdentifier, as
    ``openssl x509 -req`` without an extension file does) or "root-without-key-usage" (a private
    root with basicConstraints but no keyUsage, as ``openssl req -x509`` writes it)."""
    key = pki.issue_tls([FS], key_slot="profile").key
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FS)]))
            .public_key(key.public_key()).serial_number(0x0A1D)
            .not_valid_before(FIXED_NOW - timedelta(days=30)).not_valid_after(FIXED_NOW + timedelta(days=300))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(FS)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if kind == "leaf-without-aki":
        cert = leaf.issuer_name(pki.intermediate.cert.subject).sign(pki.intermediate.key, hashes.SHA256())
        return LabCertificate(cert, key, (cert, pki.intermediate.cert)), pki.ca_bundle_pem()
    root_key = pki.issue_tls(["old-root.contoso.test"], key_slot="profile-root").key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Contoso Old Root CA")])
    root = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(root_key.public_key())
            .serial_number(1).not_valid_before(FIXED_NOW - timedelta(days=3000))
            .not_valid_after(FIXED_NOW + timedelta(days=3000))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    cert = (leaf.issuer_name(name).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256()))
    return LabCertificate(cert, key, (cert,)), root.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("kind", ["leaf-without-aki", "root-without-key-usage"])
def test_a_chain_refused_only_for_the_strict_profile_is_trusted_as_openssl_and_windows_trust_it(tmp_path, pki, kind):
    # Class 1, profile half: RFC 5280 asks CAs for the AKI and a CA's keyUsage, but OpenSSL and
    # Windows build the path without them. The strict verifier's refusal used to be "the chain
    # ends at a root CA that is not trusted" (a root the admin had just configured) or "the
    # verifier refused the chain": a failed blocker for a chain every real client accepts.
    certificate, root_pem = profile_chain(pki, kind)
    root = tmp_path / "root.pem"
    root.write_bytes(root_pem)
    with serve(tmp_path, certificate) as address:
        found = judge(address, root)
    (trust,) = found["tls.certificate-trust"]
    assert trust.status is Status.PASS, trust.summary
    for view in ("service_name", "chain_only"):
        seen = trust.evidence["verification"]["external"][view]
        assert seen["trusted"] and seen["verifier"] == "openssl", seen
        assert "strict verifiers refuse it" in seen["message"] and "2.5.29." in seen["message"]
    assert [f.status for f in found["tls.certificate-encoding"]] == [Status.PASS]
    assert not any(f.blocker for fs in found.values() for f in fs)
    # The same chain as a certificate file: the run is about that file, and READY.
    pem = tmp_path / "ssl.pem"
    pem.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificate.chain))
    config = tmp_path / "c.toml"
    config.write_text(f'[tls]\nexternal_ca_bundle = "{root}"\n')
    out = tmp_path / "r.json"
    code = main(["check", "--certificate", str(pem), "--service-name", FS, "--config", str(config),
                 "--as-of", FIXED_NOW.isoformat(), "--json", str(out), "-q", "--no-history"])
    chain = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "certificate-file.chain")
    assert (code, chain["status"]) == (0, "pass"), chain["summary"]
    # A chain that really ends at an unknown root is still refused, with that reason.
    other = tmp_path / "other.pem"
    other.write_bytes(pki.ca_bundle_pem() if kind == "root-without-key-usage"
                      else profile_chain(pki, "root-without-key-usage")[1])
    config.write_text(f'[tls]\nexternal_ca_bundle = "{other}"\n')
    code = main(["check", "--certificate", str(pem), "--service-name", FS, "--config", str(config),
                 "--as-of", FIXED_NOW.isoformat(), "--json", str(out), "-q", "--no-history"])
    chain = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "certificate-file.chain")
    assert (code, chain["status"]) == (2, "fail"), chain["summary"]
    assert chain["evidence"]["failure"] in ("untrusted_root", "intermediate_missing"), chain["summary"]


# --- class 8: no RFC 5746 secure renegotiation ---------------------------------------------------

GNUTLS_SERV = shutil.which("gnutls-serv")


@contextlib.contextmanager
def legacy_load_balancer(tmp_path: Path, certificate: LabCertificate, http_body: bytes | None = None):
    """GnuTLS's test server with safe renegotiation disabled (%DISABLE_SAFE_RENEGOTIATION: no
    renegotiation_info extension, like load balancers on old firmware) and TLS 1.3 off (TLS 1.3
    has no renegotiation). Started on a free loopback port; ready once it says it listens.
    With ``http_body`` it is an HTTPS server (``--http``) answering every GET with HTTP 200 and
    those bytes (``--httpdata``)."""
    chain, key = tmp_path / "lb-chain.pem", tmp_path / "lb-key.pem"
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificate.chain))
    key.write_bytes(certificate.key_pem())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http: list[str] = []
    if http_body is not None:
        body = tmp_path / "lb-http-body"
        body.write_bytes(http_body)
        http = ["--http", f"--httpdata={body}"]
    proc = subprocess.Popen([GNUTLS_SERV, *http, "--x509certfile", str(chain), "--x509keyfile", str(key),
                             "-p", str(port), "--priority", "NORMAL:-VERS-TLS1.3:%DISABLE_SAFE_RENEGOTIATION"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:  # blocks until gnutls-serv reports its socket
            if "listening" in line.lower():
                break
        yield HostPort("127.0.0.1", port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.skipif(GNUTLS_SERV is None, reason="gnutls-serv (Debian package gnutls-bin, installed by .ci/run) is missing")
def test_a_server_without_secure_renegotiation_is_classified_and_still_judged(tmp_path, pki):
    certificate = pki.issue_tls([FS], key_slot="legacy-lb")
    root = tmp_path / "root.pem"
    root.write_bytes(pki.ca_bundle_pem())
    with legacy_load_balancer(tmp_path, certificate) as address:
        # The server really is what it pretends to be: OpenSSL's own client says so.
        s_client = subprocess.run(["openssl", "s_client", "-connect", str(address), "-servername", FS],
                                  input="", capture_output=True, text=True, timeout=20)
        assert "Secure Renegotiation IS NOT supported" in s_client.stdout
        assert "unsafe legacy renegotiation disabled" in s_client.stdout + s_client.stderr
        found = judge(address, root)
    (reach,) = found["tls.reachable"]
    assert reach.status is Status.WARN and not reach.blocker
    assert reach.evidence["classification"] == "no_secure_renegotiation"
    assert reach.evidence["chain_from_legacy_renegotiation"] is True and reach.evidence["protocol"] == "TLSv1.2"
    assert "RFC 5746" in reach.summary and "OpenSSL 3" in reach.summary
    # The protocol versions it does offer are recorded as offered: never "TLS 1.2 is not accepted".
    (protocols,) = found["tls.protocols"]
    tls12 = protocols.evidence["protocols"]["TLSv1.2"]
    assert tls12["accepted"] is True and "secure renegotiation" in tls12["detail"]
    assert protocols.evidence["protocols"]["TLSv1.3"]["accepted"] is False
    assert protocols.status is not Status.FAIL and "not accepted" not in protocols.summary
    # The certificate collected by the retry is judged like any other.
    for check_id in ("tls.certificate-name", "tls.certificate-expiry", "tls.certificate-trust"):
        assert [f.status for f in found[check_id]] == [Status.PASS], (check_id, found[check_id][0].summary)
    assert not any(f.blocker for fs in found.values() for f in fs)


@pytest.mark.skipif(GNUTLS_SERV is None, reason="gnutls-serv (Debian package gnutls-bin, installed by .ci/run) is missing")
def test_the_http_client_retries_a_server_without_secure_renegotiation_and_marks_the_exchange(tmp_path, pki):
    """Every request goes through the one HTTP client: GET and POST reach such a server by the same
    retry the TLS probe makes, verified against the same trust, and the exchange says so; a server
    with secure renegotiation is not marked."""
    certificate = pki.issue_tls([FS], key_slot="legacy-lb-http")
    root = tmp_path / "root.pem"
    root.write_bytes(pki.ca_bundle_pem())
    client = HttpClient(TrustStores(root))
    budget = TimeBudget(5.0, time.monotonic() + 20.0)
    with legacy_load_balancer(tmp_path, certificate, http_body=b"<EntityDescriptor/>") as address:
        got = client.get(f"https://{FS}/FederationMetadata/2007-06/FederationMetadata.xml", budget=budget,
                         connect_address=address)
        posted = client.post(f"https://{FS}/adfs/services/trust/13/usernamemixed", b"<s:Envelope/>",
                             content_type="application/soap+xml; charset=utf-8", budget=budget,
                             connect_address=address)
        # Trust is still verified on the retry: the server's chain is not trusted without the lab root.
        untrusted = HttpClient(TrustStores()).get(f"https://{FS}/", budget=budget, connect_address=address)
    assert got.error is None and got.status == 200 and got.body == b"<EntityDescriptor/>"
    assert got.exchange.legacy_renegotiation is True
    # gnutls-serv's --http mode answers a POST with a page that is not HTTP: what matters is that
    # the handshake was made (no "unsafe legacy renegotiation disabled") on the marked retry.
    assert posted.exchange.legacy_renegotiation is True
    assert posted.error is None or "renegotiation" not in posted.error.reason
    assert untrusted.error is not None and untrusted.error.kind is ProbeErrorKind.TLS
    assert "certificate verification failed" in untrusted.error.reason
    with serve(tmp_path, certificate) as address:
        modern = client.get(f"https://{FS}/", budget=budget, connect_address=address)
    assert modern.status is not None and modern.exchange.legacy_renegotiation is False


@pytest.mark.skipif(GNUTLS_SERV is None, reason="gnutls-serv (Debian package gnutls-bin, installed by .ci/run) is missing")
def test_a_full_check_run_against_a_server_without_secure_renegotiation_is_not_failed_for_it(tmp_path):
    """Issue 11 §2 class 8, end to end: the whole ``check`` command (every area the lab serves, the
    lab DNS views) against a load balancer without RFC 5746 secure renegotiation. Browsers and
    Windows connect to it, so the metadata and the sign-in endpoint are reachable (marked), the
    server is classified by tls.reachable, and the run is not NOT_READY because of it."""
    now = datetime.now(timezone.utc)
    with Lab("healthy", now=now, workdir=tmp_path / "lab") as lab, DnsLab() as dns_lab:
        assert lab.material is not None
        dns_toml = dns_lab.config_toml()
        assert dns_toml.startswith('[federation]\ndomains = ["contoso.test"]\n')
        config = tmp_path / "adfs-readiness.toml"
        config.write_text(lab.config_toml() + "\n" + dns_toml.split("\n", 2)[2])
        with legacy_load_balancer(tmp_path, lab.material.tls, http_body=lab.material.metadata) as address:
            report = tmp_path / "report.json"
            code = main(["check", "--config", str(config), "--service-address", str(address), "--no-history",
                         "--json", str(report), "-q"])
    doc = json.loads(report.read_text())
    found: dict[str, list[dict]] = {}
    for finding in doc["findings"]:
        found.setdefault(finding["check_id"], []).append(finding)
    (reachable,) = found["metadata.reachable"]
    assert reachable["status"] == "pass", reachable["summary"]
    assert reachable["evidence"]["legacy_renegotiation"] is True
    assert "RFC 5746" in reachable["summary"] and "retry that allows legacy renegotiation" in reachable["summary"]
    (passive,) = found["endpoints.passive"]
    assert passive["status"] == "pass" and passive["evidence"]["legacy_renegotiation"] is True
    assert "RFC 5746" in passive["summary"]
    for check_id in ("metadata.well-formed", "metadata.signature", "token-signing.expiry", "tls.certificate-trust",
                     "tls.certificate-name"):
        assert {f["status"] for f in found[check_id]} == {"pass"}, (check_id, found[check_id])
    (tls_reachable,) = found["tls.reachable"]
    assert tls_reachable["status"] == "warn"
    assert tls_reachable["evidence"]["classification"] == "no_secure_renegotiation"
    # Nothing fails or is left undetermined because of the missing secure renegotiation.
    assert not [f for f in doc["findings"] if f["status"] in ("fail", "error")
                and "renegotiation" in f["summary"]], doc["findings"]
    assert doc["verdict"] != "NOT_READY" and code != 2, doc["verdict_reasons"]
