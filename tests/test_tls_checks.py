"""Every tls.* check against real TLS servers on loopback (the lab's STS simulators and a few
purpose-made ones), for every status each can take, with the verification failures told apart
(leaf only vs untrusted root vs expired vs self-signed vs wrong EKU).

The labs are made for FIXED_NOW and judged at FIXED_NOW: the TLS probe captures chains without
verifying them and cryptography's verifier takes the run's time, so nothing depends on the wall
clock."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

import pytest
from conftest import FIXED_NOW

from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.lab import Lab
from adfs_readiness.lab.pki import LabCertificate, LabPki
from adfs_readiness.lab.scenarios import with_switches
from adfs_readiness.lab.sts import StsBehaviour, StsSimulator, weak_tls_server
from adfs_readiness.model import Status
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.report import report_dict
from adfs_readiness.report.json_report import validate_report
from adfs_readiness.settings import FederationSettings, HostPort, NetworkSettings, Scope

REGISTRY = discover_checks(strict=True)
TLS_IDS = [c.id for c in REGISTRY.checks if c.id.startswith("tls.")]
FS = "sts.contoso.test"
LAB_NAMES = ("healthy", "wrong-tls-name", "tls-leaf-only", "tls-expired", "tls-expiring", "tls-self-signed",
             "tls-sha1", "tls-weak-key", "tls-1.0-only", "farm-consistent", "farm-renewed-node",
             "farm-different-certs")


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    started = {}
    with contextlib.ExitStack() as stack:
        for name in LAB_NAMES:
            started[name] = stack.enter_context(Lab(name, FIXED_NOW, tmp_path_factory.mktemp(name)))
        started["tls-ten-days"] = stack.enter_context(
            Lab(with_switches("healthy", name="tls-ten-days", tls_days_left=10), FIXED_NOW,
                tmp_path_factory.mktemp("ten")))
        yield started


@pytest.fixture(scope="module")
def pki() -> LabPki:
    return LabPki(FIXED_NOW)


@contextlib.contextmanager
def serve(tmp_path: Path, certificate: LabCertificate, configure=None):
    """An STS simulator presenting ``certificate`` (chain as given)."""
    chain, key = tmp_path / f"{certificate.sha1}-chain.pem", tmp_path / f"{certificate.sha1}-key.pem"
    certificate.write_pem(chain, key)
    simulator = StsSimulator(StsBehaviour(metadata=b"<EntityDescriptor/>"), chain, key, configure_tls=configure)
    simulator.start()
    try:
        yield simulator.address
    finally:
        simulator.stop()


@contextlib.contextmanager
def closed_port():
    """A loopback port nothing listens on (bound, not listening: the kernel refuses)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield HostPort("127.0.0.1", sock.getsockname()[1])


def run(config, *ids):
    result = run_checks(REGISTRY, builtin_probes(), config, FIXED_NOW, only=ids or TLS_IDS)
    validate_report(report_dict(result))
    return result


def findings(result, check_id):
    return [f for f in result.findings if f.check_id == check_id]


def one(result, check_id):
    (finding,) = findings(result, check_id)
    return finding


def base_config(lab: Lab, **changes):
    return lab.config(network={"timeout_seconds": 2.0, "deadline_seconds": 20.0}, **changes)


# --- tls.reachable -------------------------------------------------------------------------------

def test_reachable_pass_and_unreachable_node_does_not_block(labs):
    lab = labs["healthy"]
    with closed_port() as dead:
        result = run(base_config(lab, federation={"farm_nodes": (dead,)}), "tls.reachable")
    service, node = findings(result, "tls.reachable")
    assert service.status is Status.PASS and service.target == f"service {lab.address}"
    assert service.evidence["protocol"] == "TLSv1.3"
    assert node.status is Status.FAIL and not node.blocker and node.evidence["error_kind"] == "refused"
    assert "cannot be reached" in node.summary


def test_reachable_handshake_failure_is_a_server_finding(labs):
    result = run(base_config(labs["tls-1.0-only"]), "tls.reachable", "tls.certificate-name")
    reach = one(result, "tls.reachable")
    assert reach.status is Status.FAIL and reach.blocker
    assert reach.evidence["error_kind"] == "tls" and reach.evidence["chain_from_legacy_handshake"] is True
    assert "not a network outage" in reach.summary and "legacy handshake" in reach.summary
    # The legacy handshake's chain still lets the certificate be judged.
    assert one(result, "tls.certificate-name").status is Status.PASS


def test_without_service_name_every_tls_check_skips():
    from adfs_readiness.settings import Settings

    result = run(Settings(network=NetworkSettings(timeout_seconds=1.0, deadline_seconds=5.0)))
    assert {f.check_id: f.status for f in result.findings} == {cid: Status.SKIP for cid in TLS_IDS}


def test_every_tls_check_is_an_error_when_the_probe_failed():
    # The engine's path for a fact that could not be gathered (e.g. the run's deadline cut the probe).
    from adfs_readiness.settings import Settings
    from adfs_readiness.engine.runner import judge, plan_run
    from adfs_readiness.facts import ProbeError, ProbeErrorKind

    config = Settings(federation=FederationSettings(service_name=FS))
    plan = plan_run(REGISTRY, config, TLS_IDS)
    cut = ProbeError(ProbeErrorKind.DEADLINE, "the run's deadline (1 s) passed before the probe finished")
    found = judge(plan, {"tls": cut}, config, FIXED_NOW)
    assert {f.check_id: f.status for f in found} == {cid: Status.ERROR for cid in TLS_IDS}
    assert all("deadline" in f.summary for f in found)


# --- tls.certificate-name ------------------------------------------------------------------------

def test_name_pass_fail_and_error(labs):
    assert one(run(base_config(labs["healthy"]), "tls.certificate-name"), "tls.certificate-name").status is Status.PASS
    wrong = one(run(base_config(labs["wrong-tls-name"]), "tls.certificate-name"), "tls.certificate-name")
    assert wrong.status is Status.FAIL and wrong.blocker
    assert wrong.evidence["san_dns"] == ["www.fabrikam.test"] and wrong.evidence["matched_by"] is None
    with closed_port() as dead:
        result = run(base_config(labs["healthy"], federation={"service_address": dead}), "tls.certificate-name")
    assert one(result, "tls.certificate-name").status is Status.ERROR


def test_name_wildcard_pass_and_cn_only_warn(pki, tmp_path):
    wildcard = pki.issue_tls(["*.contoso.test"])
    with serve(tmp_path, wildcard) as address:
        finding = one(run(_plain_config(address), "tls.certificate-name"), "tls.certificate-name")
    assert finding.status is Status.PASS and finding.evidence["matched_entry"] == "*.contoso.test"
    # A certificate without a SAN, named only in its CN.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = pki.intermediate.key
    ca = pki.intermediate
    from cryptography.hazmat.primitives.asymmetric import rsa

    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FS)]))
            .issuer_name(ca.cert.subject).public_key(leaf_key.public_key()).serial_number(77)
            .not_valid_before(FIXED_NOW.replace(year=2026, month=1)).not_valid_after(FIXED_NOW.replace(year=2027))
            .sign(key, hashes.SHA256()))
    with serve(tmp_path, LabCertificate(cert, leaf_key, (cert, ca.cert))) as address:
        finding = one(run(_plain_config(address), "tls.certificate-name"), "tls.certificate-name")
    assert finding.status is Status.WARN and finding.evidence["matched_by"] == "CN"


def _plain_config(address: HostPort, **sections):
    from adfs_readiness.settings import Settings

    return Settings(federation=FederationSettings(service_name=FS, service_address=address, domains=("contoso.test",)),
                    network=NetworkSettings(timeout_seconds=2.0, deadline_seconds=20.0)).with_changes(**sections)


# --- tls.certificate-expiry ----------------------------------------------------------------------

@pytest.mark.parametrize("lab_name, status, blocker, days", [
    ("healthy", Status.PASS, False, 365),
    ("tls-expiring", Status.WARN, False, 45),
    ("tls-ten-days", Status.FAIL, False, 10),
    ("tls-expired", Status.FAIL, True, -5),
])
def test_expiry_statuses(labs, lab_name, status, blocker, days):
    finding = one(run(base_config(labs[lab_name]), "tls.certificate-expiry"), "tls.certificate-expiry")
    assert finding.status is status and finding.blocker is blocker
    assert finding.evidence["certificate"]["days_left"] == days
    assert finding.evidence["seen_at"] == [f"service {labs[lab_name].address}"]


def test_expiry_not_yet_valid_blocks_and_no_certificate_is_error(pki, tmp_path, labs):
    future = pki.issue_tls([FS], not_before_offset_days=3)
    with serve(tmp_path, future) as address:
        finding = one(run(_plain_config(address), "tls.certificate-expiry"), "tls.certificate-expiry")
    assert finding.status is Status.FAIL and finding.blocker and "not valid before" in finding.summary
    with closed_port() as dead:
        finding = one(run(base_config(labs["healthy"], federation={"service_address": dead}), "tls.certificate-expiry"),
                      "tls.certificate-expiry")
    assert finding.status is Status.ERROR


# --- tls.certificate-trust: the failure categories told apart ------------------------------------

def test_trust_pass_in_external_view_with_lab_root(labs):
    finding = one(run(base_config(labs["healthy"]), "tls.certificate-trust"), "tls.certificate-trust")
    assert finding.status is Status.PASS
    external = finding.evidence["verification"]["external"]["service_name"]
    assert external["trusted"] and len(external["path_sha1"]) == 3


def test_trust_private_ca_fails_externally_but_internal_view_trusts(labs):
    finding = one(run(base_config(labs["healthy"], tls={"external_ca_bundle": None}), "tls.certificate-trust"),
                  "tls.certificate-trust")
    assert finding.status is Status.FAIL and finding.blocker
    assert finding.evidence["failure"] == "untrusted_root"
    assert finding.evidence["verification"]["internal"]["chain_only"]["trusted"] is True
    assert "enterprise CA" in finding.summary


def test_trust_leaf_only_is_intermediate_missing_in_both_views(labs):
    finding = one(run(base_config(labs["tls-leaf-only"]), "tls.certificate-trust"), "tls.certificate-trust")
    assert finding.status is Status.FAIL and finding.evidence["failure"] == "intermediate_missing"
    assert finding.evidence["verification"]["internal"]["chain_only"]["failure"] == "intermediate_missing"
    assert len(finding.evidence["sent_chain"]) == 1


def test_trust_expired_is_classified_expired_not_untrusted(labs):
    finding = one(run(base_config(labs["tls-expired"]), "tls.certificate-trust"), "tls.certificate-trust")
    # The chain itself is trusted; the service verification at the run's time says why it fails.
    assert finding.status is Status.PASS
    assert finding.evidence["verification"]["external"]["service_name"]["failure"] == "expired"
    wrong = one(run(base_config(labs["wrong-tls-name"]), "tls.certificate-trust"), "tls.certificate-trust")
    assert wrong.evidence["verification"]["external"]["service_name"]["failure"] == "name_mismatch"


def test_trust_self_signed_and_wrong_eku(labs, pki, tmp_path):
    finding = one(run(base_config(labs["tls-self-signed"]), "tls.certificate-trust"), "tls.certificate-trust")
    assert finding.status is Status.FAIL and finding.evidence["failure"] == "self_signed"
    client_only = pki.issue_tls([FS], server_auth=False, key_slot="tls-client-only")
    with serve(tmp_path, client_only) as address:
        bundle = labs["healthy"].ca_bundle
        config = _plain_config(address, tls={"ca_bundle": bundle, "external_ca_bundle": bundle})
        finding = one(run(config, "tls.certificate-trust"), "tls.certificate-trust")
    assert finding.status is Status.FAIL and finding.evidence["failure"] == "wrong_eku"
    assert finding.evidence["server_auth_eku"] is False


def test_trust_sha1_signed_leaf_is_a_weak_signature_not_an_untrusted_root(labs):
    finding = one(run(base_config(labs["tls-sha1"]), "tls.certificate-trust"), "tls.certificate-trust")
    assert finding.status is Status.FAIL and finding.evidence["failure"] == "weak_signature"
    assert "SHA-1" in finding.summary


def test_trust_error_without_certificate(labs):
    with closed_port() as dead:
        finding = one(run(base_config(labs["healthy"], federation={"service_address": dead}), "tls.certificate-trust"),
                      "tls.certificate-trust")
    assert finding.status is Status.ERROR


# --- tls.certificate-key -------------------------------------------------------------------------

@pytest.mark.parametrize("lab_name, status, text", [
    ("healthy", Status.PASS, "RSA 2048-bit key, SHA256 signature"),
    ("tls-sha1", Status.WARN, "signature made with SHA1"),
    ("tls-weak-key", Status.FAIL, "RSA 1024-bit key (below 2048)"),
])
def test_key_statuses(labs, lab_name, status, text):
    finding = one(run(base_config(labs[lab_name]), "tls.certificate-key"), "tls.certificate-key")
    assert finding.status is status and text in finding.summary and not finding.blocker


def test_key_error_without_certificate(labs):
    with closed_port() as dead:
        finding = one(run(base_config(labs["healthy"], federation={"service_address": dead}), "tls.certificate-key"),
                      "tls.certificate-key")
    assert finding.status is Status.ERROR


# --- tls.protocols -------------------------------------------------------------------------------

def test_protocols_pass_fail_warn_error(labs, pki, tmp_path):
    ok = one(run(base_config(labs["healthy"]), "tls.protocols"), "tls.protocols")
    assert ok.status is Status.PASS
    assert {v: p["accepted"] for v, p in ok.evidence["protocols"].items()} == {
        "TLSv1": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True}
    assert ok.evidence["protocols"]["TLSv1"]["security_level_lowered"] is True
    assert ok.evidence["protocols"]["TLSv1.2"]["security_level_lowered"] is False

    legacy = one(run(base_config(labs["tls-1.0-only"]), "tls.protocols"), "tls.protocols")
    assert legacy.status is Status.FAIL and legacy.blocker
    assert legacy.evidence["protocols"]["TLSv1"]["accepted"] is True

    def everything(context):
        import ssl
        import warnings

        weak_tls_server(context)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1

    with serve(tmp_path, pki.issue_tls([FS]), configure=everything) as address:
        lax = one(run(_plain_config(address), "tls.protocols"), "tls.protocols")
    assert lax.status is Status.WARN and "TLSv1, TLSv1.1" in lax.summary

    with closed_port() as dead:
        unknown = one(run(base_config(labs["healthy"], federation={"service_address": dead}), "tls.protocols"),
                      "tls.protocols")
    assert unknown.status is Status.ERROR


# --- tls.san-certauth ----------------------------------------------------------------------------

def test_certauth_skip_san_port_fail_error(labs, pki, tmp_path):
    scope = Scope(certificate_authentication=True)
    healthy = labs["healthy"]
    assert one(run(base_config(healthy), "tls.san-certauth"), "tls.san-certauth").status is Status.SKIP

    with serve(tmp_path, pki.issue_tls([FS, f"certauth.{FS}"])) as address:
        by_san = one(run(_plain_config(address, scope=scope), "tls.san-certauth"), "tls.san-certauth")
    assert by_san.status is Status.PASS and by_san.evidence["matched_entry"] == f"certauth.{FS}"

    # Port "49443": the farm lab's node simulator serves the same certificate on another port.
    farm = labs["farm-consistent"]
    config = base_config(farm, scope=scope, federation={"farm_nodes": (), "proxies": ()},
                         tls={"certauth_port": farm.farm_nodes[0].port})
    by_port = one(run(config, "tls.san-certauth"), "tls.san-certauth")
    assert by_port.status is Status.PASS and by_port.evidence["ports"][0]["same_certificate"] is True

    different = base_config(healthy, scope=scope, tls={"certauth_port": labs["wrong-tls-name"].address.port})
    other = one(run(different, "tls.san-certauth"), "tls.san-certauth")
    assert other.status is Status.FAIL and "different certificate" in other.summary
    with closed_port() as dead:
        none = one(run(base_config(healthy, scope=scope, tls={"certauth_port": dead.port}), "tls.san-certauth"),
                   "tls.san-certauth")
        assert none.status is Status.FAIL and "does not answer" in none.summary
        error = one(run(base_config(healthy, scope=scope, federation={"service_address": dead}), "tls.san-certauth"),
                    "tls.san-certauth")
    assert error.status is Status.ERROR


# --- tls.san-enterpriseregistration --------------------------------------------------------------

def test_enterpriseregistration_skip_pass_fail_error(labs, pki, tmp_path):
    scope = Scope(device_registration=True)
    healthy = labs["healthy"]
    key = "tls.san-enterpriseregistration"
    assert one(run(base_config(healthy), key), key).status is Status.SKIP
    missing = one(run(base_config(healthy, scope=scope), key), key)
    assert missing.status is Status.FAIL and missing.evidence["missing"] == ["enterpriseregistration.contoso.test"]
    assert "federation.domains" in missing.evidence["upn_suffix_source"]
    cert = pki.issue_tls([FS, "enterpriseregistration.contoso.test", "enterpriseregistration.fabrikam.test"])
    with serve(tmp_path, cert) as address:
        config = _plain_config(address, scope=scope, federation={"domains": ("contoso.test", "fabrikam.test")})
        assert one(run(config, key), key).status is Status.PASS
        no_domains = one(run(_plain_config(address, scope=scope, federation={"domains": ()}), key), key)
    assert no_domains.status is Status.ERROR


# --- tls.node-consistency ------------------------------------------------------------------------

@pytest.mark.parametrize("lab_name, status", [
    ("healthy", Status.SKIP),
    ("farm-consistent", Status.PASS),
    ("farm-renewed-node", Status.WARN),
    ("farm-different-certs", Status.WARN),
])
def test_node_consistency_statuses(labs, lab_name, status):
    finding = one(run(base_config(labs[lab_name]), "tls.node-consistency"), "tls.node-consistency")
    assert finding.status is status, finding.summary
    if lab_name == "farm-different-certs":
        # Microsoft's requirement, with what it really affects: the WAP ends TLS itself, so only
        # Windows Integrated Authentication through it (Extended Protection's channel binding) breaks;
        # forms and certificate sign-in through the proxy do not (it used to fail "sign-in").
        assert finding.summary.startswith(f"proxy {labs[lab_name].proxies[0]} present a certificate with another key")
        assert "ExtendedProtectionTokenCheck" in finding.summary and "password prompt" in finding.summary
        assert "Forms-based and certificate sign-in through the proxies (the extranet default) are not affected" \
            in finding.summary
        assert not finding.blocker
    elif status is Status.WARN:
        assert "same key" in finding.summary


def test_node_consistency_error_when_a_node_presents_nothing(labs):
    farm = labs["farm-consistent"]
    with closed_port() as dead:
        finding = one(run(base_config(farm, federation={"farm_nodes": farm.farm_nodes + (dead,)}),
                          "tls.node-consistency"),
                      "tls.node-consistency")
    assert finding.status is Status.ERROR and f"node {dead}" in finding.summary


# --- tls.revocation-info -------------------------------------------------------------------------

def _ca_issued_without_revocation(pki):
    """A server certificate the lab's issuing CA signed with no CRL distribution point and no AIA."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from adfs_readiness.lab.pki import LabCertificate

    key = pki.issue_tls([FS], key_slot="no-revocation").key
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FS)]))
            .issuer_name(pki.intermediate.cert.subject).public_key(key.public_key()).serial_number(0x7E7)
            .not_valid_before(FIXED_NOW - timedelta(days=30)).not_valid_after(FIXED_NOW + timedelta(days=300))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(FS)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(pki.intermediate.key, hashes.SHA256()))
    return LabCertificate(cert, key, (cert, pki.intermediate.cert))


def test_revocation_pass_warn_skip_error(labs, tmp_path, pki):
    ok = one(run(base_config(labs["healthy"]), "tls.revocation-info"), "tls.revocation-info")
    assert ok.status is Status.PASS and ok.evidence["crl_urls"] == ["http://pki.contoso.test/crl/issuing.crl"]
    # Self-signed: no CA publishes revocation for it, so none is expected (it used to warn).
    own = one(run(base_config(labs["tls-self-signed"]), "tls.revocation-info"), "tls.revocation-info")
    assert own.status is Status.SKIP and own.summary.startswith("Not applicable:") and "self-signed" in own.summary
    # A CA-issued certificate naming no CRL or OCSP location is the warning.
    bare = _ca_issued_without_revocation(pki)
    with serve(tmp_path, bare) as address:
        found = one(run(_plain_config(address), "tls.revocation-info"), "tls.revocation-info")
    assert found.status is Status.WARN and "names no CRL or OCSP location" in found.summary
    with closed_port() as dead:
        error = one(run(base_config(labs["healthy"], federation={"service_address": dead}), "tls.revocation-info"),
                    "tls.revocation-info")
    assert error.status is Status.ERROR


# --- facts ---------------------------------------------------------------------------------------

def test_facts_say_which_address_presented_which_chain(labs):
    farm = labs["farm-different-certs"]
    result = run(base_config(farm), "tls.node-consistency")
    endpoints = result.facts["tls"]["endpoints"]
    assert [(e["role"], e["address"]) for e in endpoints] == (
        [("service", str(farm.address))] + [("node", str(a)) for a in farm.farm_nodes]
        + [("proxy", str(a)) for a in farm.proxies])
    assert [e["chain"]["chain"][0]["sha1"] for e in endpoints] == [
        farm.material.tls.sha1, farm.material.node_tls[0].sha1, farm.material.node_tls[1].sha1,
        farm.material.proxy_tls[0].sha1]
    assert all(e["server_name"] == FS for e in endpoints)
    assert {s["view"] for s in result.facts["tls"]["trust_stores"]} == {"external", "internal"}
