"""The demo lab: PKI, AD FS-shaped signed metadata, the STS simulator and the named scenarios."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from adfs_readiness.facts import KeyUse, SignatureStatus
from adfs_readiness.lab import SCENARIOS, Lab
from adfs_readiness.lab.federation_metadata import IMMUTABLE_ID_CLAIM, UPN_CLAIM
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.lab.scenarios import Scenario, build_material, get_scenario
from adfs_readiness.model import Status
from adfs_readiness.probes.metadata_parser import parse_metadata

FS = "sts.contoso.test"
NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "fed": "http://docs.oasis-open.org/wsfed/federation/200706",
    "auth": "http://docs.oasis-open.org/wsfed/authorization/200706",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
# Check ids of CHECKS.md that the lab scenarios speak about.
CATALOG_IDS = {
    "metadata.reachable", "metadata.well-formed", "metadata.signature", "metadata.entity-id",
    "metadata.valid-until", "metadata.endpoints", "metadata.consistency", "metadata.claims-offered",
    "token-signing.expiry", "token-signing.key", "token-signing.rollover", "token-decrypting.expiry",
    "tls.reachable", "tls.certificate-name", "tls.certificate-expiry", "tls.certificate-trust",
    "tls.certificate-key", "tls.protocols", "tls.san-certauth", "tls.san-enterpriseregistration",
    "tls.node-consistency", "tls.revocation-info",
    "endpoints.probe", "endpoints.passive", "endpoints.mex", "endpoints.usernamemixed",
    "endpoints.windowstransport-exposed", "endpoints.idp-initiated-signon", "endpoints.openid-configuration",
    "endpoints.latency", "endpoints.clock-skew", "endpoints.sign-in-test",
}


def _unverified_get(lab: Lab, path: str, timeout: float = 5) -> http.client.HTTPSConnection:
    """Send a GET through TLS without verification (so the test does not depend on the system
    clock), with SNI and Host = the federation service name, to the lab's pinned address. Returns
    the connection; the caller reads ``getresponse()`` and closes it."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(lab.address.host, lab.address.port, timeout=timeout, context=context)
    raw = socket.create_connection((lab.address.host, lab.address.port), timeout=timeout)
    try:
        # SNI follows the connection's host: wrap the socket ourselves with the service name.
        connection.sock = context.wrap_socket(raw, server_hostname=lab.fs_name)
    except BaseException:
        raw.close()
        raise
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", lab.fs_name)
    connection.endheaders()
    return connection


def _material(name: str, now: datetime):
    return build_material(SCENARIOS[name], LabPki(now), FS)


# --- scenarios ----------------------------------------------------------------------------------


def test_presets_cover_the_brief_and_their_expectations_are_catalog_pairs() -> None:
    required = {"healthy", "token-signing-expiring", "token-signing-expired", "token-signing-warn", "rollover",
                "rollover-missing", "tampered-signature", "sha1-signature", "unsigned", "wrong-tls-name",
                "html-login-page", "slow-answer", "oversized-answer", "weak-signing-key",
                "token-decrypting-expiring", "no-answer", "demo"}
    assert required <= set(SCENARIOS)
    statuses = {s.value for s in Status}
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name and scenario.description
        assert scenario.expected, name
        for check_id, status in scenario.expected:
            assert check_id in CATALOG_IDS, (name, check_id)
            assert status in statuses, (name, status)
    assert dict(SCENARIOS["token-signing-expired"].expected)["token-signing.expiry"] == "fail"
    assert dict(SCENARIOS["token-signing-warn"].expected)["token-signing.expiry"] == "warn"
    assert dict(SCENARIOS["rollover-missing"].expected)["token-signing.rollover"] == "warn"
    assert dict(SCENARIOS["sha1-signature"].expected)["metadata.signature"] == "warn"
    assert dict(SCENARIOS["tampered-signature"].expected)["metadata.signature"] == "fail"


def test_unknown_scenario_names_the_presets() -> None:
    with pytest.raises(KeyError, match="no lab scenario 'nope'; known: healthy"):
        get_scenario("nope")
    custom = Scenario("custom", "a custom scenario")
    assert get_scenario(custom) is custom


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_metadata_of_every_preset_verifies_as_the_scenario_says(name: str, now: datetime) -> None:
    scenario = SCENARIOS[name]
    material = _material(name, now)

    fact = parse_metadata(material.metadata, source="lab", source_kind="file")

    assert fact.parse_error is None and fact.document is not None
    document = fact.document
    assert document.entity_id == f"http://{FS}/adfs/services/trust"
    expected_status = (SignatureStatus.UNSIGNED if scenario.signature == "none"
                       else SignatureStatus.INVALID if scenario.tamper
                       else SignatureStatus.VALID_SHA1 if scenario.signature == "rsa-sha1"
                       else SignatureStatus.VALID)
    assert document.signature.status is expected_status, document.signature.reason
    if expected_status in (SignatureStatus.VALID, SignatureStatus.VALID_SHA1):
        assert document.signature.signer_sha1 == material.token_signing[0].sha1
    signing = document.certificates(KeyUse.SIGNING)
    assert [c.sha1 for c in signing] == [c.sha1 for c in material.token_signing]
    assert len(signing) == (2 if scenario.token_signing_successor else 1)
    assert [c.sha1 for c in document.certificates(KeyUse.ENCRYPTION)] == [material.token_decrypting[0].sha1]
    assert signing[0].public_key_bits == scenario.token_signing_key_bits


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_certificate_validity_follows_the_injected_clock(name: str, now: datetime) -> None:
    scenario = SCENARIOS[name]
    material = _material(name, now)

    # "N days left" is N whole days as the checks count them (api.days_left), for 12 hours after
    # the lab's clock: notAfter is N days and 12 hours away (12 hours less for an expired one).
    def expiry(days: float) -> datetime:
        return now + timedelta(days=days) + (timedelta(hours=12) if days >= 0 else -timedelta(hours=12))

    primary = material.token_signing[0].cert
    assert primary.not_valid_after_utc == expiry(scenario.token_signing_days_left)
    assert primary.not_valid_after_utc - primary.not_valid_before_utc == timedelta(days=365)
    if scenario.token_signing_successor:
        successor = material.token_signing[1].cert
        # AD FS makes the successor CertificateGenerationThreshold (20 days) before expiry.
        assert successor.not_valid_before_utc == primary.not_valid_after_utc - timedelta(days=20)
        assert successor.not_valid_before_utc <= now
    decrypting = material.token_decrypting[0].cert
    assert decrypting.not_valid_after_utc == expiry(scenario.token_decrypting_days_left)
    assert material.tls.cert.not_valid_after_utc == expiry(scenario.tls_days_left)


def test_scenario_day_counts(now: datetime) -> None:
    days = {name: (s.token_signing_days_left, s.token_signing_successor, s.token_decrypting_days_left)
            for name, s in SCENARIOS.items()}
    assert days["token-signing-expiring"] == (10, False, 300)
    assert days["token-signing-expired"][0] < 0
    assert days["token-signing-warn"] == (60, False, 300)
    assert days["rollover"] == (15, True, 300)
    assert days["rollover-missing"] == (15, False, 300)
    assert days["token-decrypting-expiring"] == (300, False, 10)
    assert days["demo"][1] is True and days["demo"][2] == 60
    assert SCENARIOS["weak-signing-key"].token_signing_key_bits == 1024


def test_material_is_deterministic_for_a_given_now(now: datetime) -> None:
    first, second = _material("rollover", now), _material("rollover", now)

    assert first.metadata == second.metadata
    assert [c.sha1 for c in first.token_signing] == [c.sha1 for c in second.token_signing]
    assert first.token_signing[0].sha1 != first.token_signing[1].sha1
    assert first.token_signing[0].key is not first.token_signing[1].key


# --- PKI --------------------------------------------------------------------------------------


def test_pki_chain_and_token_certificates(now: datetime) -> None:
    pki = LabPki(now)
    leaf = pki.issue_tls([FS, "certauth." + FS])

    assert leaf.chain == (leaf.cert, pki.intermediate.cert)
    leaf.cert.verify_directly_issued_by(pki.intermediate.cert)
    pki.intermediate.cert.verify_directly_issued_by(pki.root.cert)
    pki.root.cert.verify_directly_issued_by(pki.root.cert)
    san = leaf.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [FS, "certauth." + FS]
    assert leaf.cert.not_valid_before_utc == now - timedelta(days=30)
    assert pki.issue_tls([FS], issuer="root").chain == (pki.issue_tls([FS], issuer="root").cert,)
    self_signed = pki.issue_tls([FS], issuer="self")
    self_signed.cert.verify_directly_issued_by(self_signed.cert)
    assert pki.ca_bundle_pem().startswith(b"-----BEGIN CERTIFICATE-----")

    token = pki.token_certificate("signing", FS, now - timedelta(days=1), now + timedelta(days=364), key_size=1024)
    assert token.cert.subject.rfc4514_string() == f"CN=ADFS Signing - {FS}"
    assert token.cert.issuer == token.cert.subject
    assert isinstance(token.key, rsa.RSAPrivateKey) and token.key.key_size == 1024
    encryption = pki.token_certificate("encryption", FS, now, now + timedelta(days=365))
    assert encryption.cert.subject.rfc4514_string() == f"CN=ADFS Encryption - {FS}"
    with pytest.raises(ValueError):
        LabPki(now.replace(tzinfo=None))


# --- metadata shape ------------------------------------------------------------------------------


def test_metadata_is_shaped_like_adfs(now: datetime) -> None:
    material = _material("rollover", now)
    root = etree.fromstring(material.metadata)

    assert not material.metadata.startswith(b"<?xml")
    assert re.fullmatch(r"_[0-9a-f-]{36}", root.get("ID"))
    assert root.get("entityID") == f"http://{FS}/adfs/services/trust"
    signature = root[0]
    assert signature.tag == f"{{{NS['ds']}}}Signature"
    assert signature.find("ds:SignedInfo/ds:Reference", NS).get("URI") == "#" + root.get("ID")
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == \
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS).get("Algorithm") == \
        "http://www.w3.org/2001/10/xml-exc-c14n#"
    assert signature.find("ds:SignedInfo/ds:Reference/ds:DigestMethod", NS).get("Algorithm") == \
        "http://www.w3.org/2001/04/xmlenc#sha256"
    assert signature.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS)

    children = [etree.QName(c).localname for c in root]
    assert children == ["Signature", "RoleDescriptor", "RoleDescriptor", "SPSSODescriptor", "IDPSSODescriptor"]
    types = [c.get(f"{{{NS['xsi']}}}type") for c in root.findall("md:RoleDescriptor", NS)]
    assert types == ["fed:ApplicationServiceType", "fed:SecurityTokenServiceType"]
    sts = root.findall("md:RoleDescriptor", NS)[1]
    assert [kd.get("use") for kd in sts.findall("md:KeyDescriptor", NS)] == ["signing", "signing"]
    offered = [c.get("Uri") for c in sts.findall("fed:ClaimTypesOffered/auth:ClaimType", NS)]
    assert UPN_CLAIM in offered and IMMUTABLE_ID_CLAIM in offered
    assert sts.findtext("fed:SecurityTokenServiceEndpoint/wsa:EndpointReference/wsa:Address", namespaces=NS) == \
        f"https://{FS}/adfs/services/trust/2005/issuedtokenmixedsymmetricbasic256"
    assert sts.findtext("fed:PassiveRequestorEndpoint/wsa:EndpointReference/wsa:Address", namespaces=NS) == \
        f"https://{FS}/adfs/ls/"
    idp = root.find("md:IDPSSODescriptor", NS)
    assert [kd.get("use") for kd in idp.findall("md:KeyDescriptor", NS)] == ["encryption", "signing", "signing"]
    assert len(idp.findall("md:NameIDFormat", NS)) == 3
    sso = [(s.get("Binding").rsplit(":", 1)[1], s.get("Location")) for s in idp.findall("md:SingleSignOnService", NS)]
    assert sso == [("HTTP-Redirect", f"https://{FS}/adfs/ls/"), ("HTTP-POST", f"https://{FS}/adfs/ls/")]
    assert idp.findall("md:SingleLogoutService", NS)
    assert len(idp.findall("{urn:oasis:names:tc:SAML:2.0:assertion}Attribute")) == len(offered)


def test_sha1_scenario_uses_sha1_signature_and_digest(now: datetime) -> None:
    root = etree.fromstring(_material("sha1-signature", now).metadata)
    assert root.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == \
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    assert root.find("ds:Signature/ds:SignedInfo/ds:Reference/ds:DigestMethod", NS).get("Algorithm") == \
        "http://www.w3.org/2000/09/xmldsig#sha1"


# --- the running lab -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_preset_starts_serves_and_stops_cleanly(name: str, now: datetime, tmp_path: Path) -> None:
    threads_before = threading.active_count()
    scenario = SCENARIOS[name]
    with Lab(name, now, tmp_path) as lab:
        assert lab.ca_bundle.read_bytes() == lab.pki.ca_bundle_pem()
        assert lab.metadata_url == f"https://{FS}/FederationMetadata/2007-06/FederationMetadata.xml"
        assert lab.address.host == "127.0.0.1"
        port = lab.address.port
        path = "/FederationMetadata/2007-06/FederationMetadata.xml"
        if scenario.answer == "no-answer":
            with pytest.raises(TimeoutError):
                _unverified_get(lab, path, timeout=0.3)
        elif scenario.tls_protocols == "tls1.0-only":
            # The point of the scenario: a modern client cannot complete the handshake.
            with pytest.raises(ssl.SSLError):
                _unverified_get(lab, path)
        elif scenario.answer == "slow":
            with closing(_unverified_get(lab, path, timeout=0.3)) as connection, pytest.raises(TimeoutError):
                connection.getresponse()
        else:
            with closing(_unverified_get(lab, path)) as connection:
                response = connection.getresponse()
                if scenario.redirects:
                    assert response.status == 302
                    assert response.getheader("Location") == f"https://{FS}/adfs/metadata/hop/1"
                elif scenario.answer == "html":
                    assert response.status == 200
                    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
                    assert response.read().startswith(b"<!DOCTYPE html>")
                elif scenario.answer == "oversized":
                    assert response.status == 200 and response.getheader("Transfer-Encoding") == "chunked"
                    assert len(response.read(1024 * 1024)) == 1024 * 1024
                else:
                    assert response.status == 200
                    assert response.getheader("Content-Type") == "text/xml"
                    bom = b"\xef\xbb\xbf" if scenario.bom else b""
                    assert response.read() == bom + lab.material.metadata
    assert threading.active_count() == threads_before, [t.name for t in threading.enumerate()]
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_date_header_follows_the_injected_clock(now: datetime, tmp_path: Path) -> None:
    with Lab("healthy", now, tmp_path) as lab, closing(_unverified_get(lab, "/adfs/probe")) as connection:
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Date") in ("Mon, 30 Nov 2026 12:00:00 GMT", "Mon, 30 Nov 2026 12:00:01 GMT")
        assert response.getheader("Server") == "Microsoft-HTTPAPI/2.0"


def test_many_labs_start_and_stop_cleanly(now: datetime, tmp_path: Path) -> None:
    # How fast is measured by benchmarks, not asserted here; what matters is that nothing is left.
    threads_before = threading.active_count()
    for index in range(10):
        with Lab("healthy", now, tmp_path / str(index)) as lab, \
                closing(_unverified_get(lab, "/adfs/ls/")) as connection:
            assert connection.getresponse().status == 200
    assert threading.active_count() <= threads_before


def test_stop_ends_a_slow_answer_and_an_open_connection(now: datetime, tmp_path: Path) -> None:
    lab = Lab("slow-answer", now, tmp_path).start()
    threads_before_request = threading.active_count()
    waiting = socket.create_connection((lab.address.host, lab.address.port))
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    client = tls.wrap_socket(waiting, server_hostname=FS)
    client.sendall(b"GET /FederationMetadata/2007-06/FederationMetadata.xml HTTP/1.1\r\nHost: sts.contoso.test\r\n\r\n")
    idle = socket.create_connection((lab.address.host, lab.address.port))  # never sends a TLS hello
    try:
        started = time.monotonic()
        lab.stop()
        assert time.monotonic() - started < 2 + 5  # neither the 120 s wait nor the 10 s idle timeout
        assert threading.active_count() < threads_before_request + 2
    finally:
        client.close()
        idle.close()
