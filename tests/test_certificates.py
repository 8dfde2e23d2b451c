"""Tests of adfs_readiness.probes.certificates: tolerant X.509 decoding."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from adfs_readiness.probes.certificates import (
    certificate_from_base64,
    describe_certificate,
    load_pem_certificates,
)

NEGATIVE_SERIAL_SHA1 = "92B88C3DD981BF1EBCB244FCFA63C007706C79E0"


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso")]
    )


def _build(
    *,
    key=None,
    cn: str = "sts.contoso.example",
    extensions: bool = True,
    issuer: x509.Name | None = None,
    issuer_key=None,
) -> bytes:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(0x1234ABCD)
        .not_valid_before(dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc))
        .not_valid_after(dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc))
    )
    if extensions:
        builder = (
            builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("sts.contoso.example"),
                        x509.DNSName("certauth.sts.contoso.example"),
                        x509.IPAddress(ipaddress.ip_address("192.0.2.1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            full_name=[x509.UniformResourceIdentifier("http://pki.contoso.example/crl/ca.crl")],
                            relative_name=None,
                            reasons=None,
                            crl_issuer=None,
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier("http://ocsp.contoso.example"),
                        ),
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier("http://pki.contoso.example/ca.crt"),
                        ),
                    ]
                ),
                critical=False,
            )
        )
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def generated_der() -> bytes:
    return _build()


def test_generated_certificate_all_fields(generated_der: bytes) -> None:
    info = describe_certificate(generated_der)
    assert info.decodable
    assert info.problems == ()
    assert info.sha1 == hashlib.sha1(generated_der).hexdigest().upper()
    assert info.sha256 == hashlib.sha256(generated_der).hexdigest().upper()
    assert info.der == generated_der
    assert info.subject == "O=Contoso,CN=sts.contoso.example"
    assert info.issuer == info.subject
    assert info.subject_cn == "sts.contoso.example"
    assert info.serial_number == str(0x1234ABCD)
    assert info.not_before == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert info.not_after == dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert info.not_after.tzinfo is not None
    assert (info.public_key_type, info.public_key_bits) == ("RSA", 2048)
    assert info.signature_algorithm == "sha256WithRSAEncryption"
    assert info.signature_hash == "sha256"
    assert info.san_dns == ("sts.contoso.example", "certauth.sts.contoso.example")
    assert info.eku == ("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")
    assert info.is_ca is False
    assert info.self_signed is True
    assert info.crl_urls == ("http://pki.contoso.example/crl/ca.crl",)
    assert info.ocsp_urls == ("http://ocsp.contoso.example",)
    assert info.ca_issuer_urls == ("http://pki.contoso.example/ca.crt",)
    assert info.label == f"sts.contoso.example (SHA-1 {info.sha1})"


def test_ec_key_and_not_self_signed() -> None:
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Contoso Issuing CA")])
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    info = describe_certificate(_build(key=leaf_key, extensions=False, issuer=ca_name, issuer_key=ca_key))
    assert (info.public_key_type, info.public_key_bits) == ("EC", 256)
    assert info.signature_algorithm == "ecdsa-with-SHA256"
    assert info.self_signed is False
    assert info.issuer == "CN=Contoso Issuing CA"
    assert info.is_ca is None and info.san_dns == () and info.eku == ()


def test_same_name_but_other_key_is_not_self_signed() -> None:
    # Subject == issuer, but signed by a different key: not self-signed.
    name = _name("sts.contoso.example")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info = describe_certificate(_build(extensions=False, issuer=name, issuer_key=other))
    assert info.subject == info.issuer
    assert info.self_signed is False


def test_negative_serial_corpus_cert(corpus: Path) -> None:
    [info] = load_pem_certificates((corpus / "certs" / "negative_serial_2014.pem").read_bytes())
    assert info.decodable
    assert info.sha1 == NEGATIVE_SERIAL_SHA1
    assert info.serial_number == "-104881540349699977310931643744665695531"
    assert info.problems == ("serial number is negative (RFC 5280 4.1.2.2 requires a positive integer)",)
    assert info.subject == "CN=accounts.accesscontrol.windows.net"
    assert info.not_after == dt.datetime(2016, 1, 1, 7, 0, tzinfo=dt.timezone.utc)
    assert info.signature_hash == "sha1"
    assert info.signature_algorithm == "sha1WithRSASignature"
    assert info.self_signed is True


def test_windows_enterprise_root_ca_sha1(corpus: Path) -> None:
    [info] = load_pem_certificates((corpus / "certs" / "ldap3_local-forest-lab-ca.pem").read_bytes())
    assert info.decodable and info.problems == ()
    assert info.subject == "CN=FOREST-WIN1-CA,DC=FOREST,DC=LAB"
    assert info.subject_cn == "FOREST-WIN1-CA"
    assert info.signature_algorithm == "sha1WithRSAEncryption"
    assert info.signature_hash == "sha1"
    assert info.is_ca is True
    # cryptography's verify_directly_issued_by refuses SHA-1; the fallback still proves it.
    assert info.self_signed is True
    assert info.sha1 == "18EED935BFB2D0C70C9444F9DBD3223F0C72C594"


def test_negative_serial_under_python_W_error(corpus: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from adfs_readiness.probes.certificates import describe_certificate, load_pem_certificates
        pem = Path(sys.argv[1]).read_bytes()
        [info] = load_pem_certificates(pem)
        again = describe_certificate(info.der)
        assert again.serial_number.startswith("-"), again
        print(again.sha1, again.problems[0])
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, str(corpus / "certs" / "negative_serial_2014.pem")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(NEGATIVE_SERIAL_SHA1 + " serial number is negative")


def test_truncated_der(generated_der: bytes) -> None:
    truncated = generated_der[:200]
    info = describe_certificate(truncated)
    assert info.decodable is False
    assert info.sha1 == hashlib.sha1(truncated).hexdigest().upper()
    assert info.sha256 == hashlib.sha256(truncated).hexdigest().upper()
    assert info.der == truncated
    assert len(info.problems) == 1 and "could not decode the certificate DER (200 bytes)" in info.problems[0]
    assert info.subject is None and info.not_after is None
    assert info.label.startswith("undecodable certificate (SHA-1 ")


@pytest.mark.parametrize("garbage", [b"", b"garbage", b"\x30\x03\x02\x01", bytes(range(256))])
def test_garbage_der(garbage: bytes) -> None:
    info = describe_certificate(garbage)
    assert info.decodable is False
    assert info.sha1 == hashlib.sha1(garbage).hexdigest().upper()
    assert info.problems and "could not decode" in info.problems[0]


def test_unparseable_extension_keeps_other_fields() -> None:
    der = _build()
    # Re-tag the first SAN entry as GeneralName [9], which does not exist: the extension set
    # becomes unparseable while the rest of the certificate stays readable.
    marker = b"\x82\x13sts.contoso.example"
    assert marker in der
    damaged = der.replace(marker, b"\x89" + marker[1:], 1)
    info = describe_certificate(damaged)
    assert info.decodable
    assert info.subject_cn == "sts.contoso.example"
    assert info.serial_number == str(0x1234ABCD)
    # The damaged SAN is named; the other extensions are read one by one by the lenient parser.
    assert info.san_dns == ()
    assert info.eku == ("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")
    assert info.problems[0].startswith("extensions could not be parsed")
    assert any(p.startswith("extension subject_alt_name could not be read") for p in info.problems)


def test_non_utf8_name_keeps_other_fields() -> None:
    der = _build(cn="ZZZZ", extensions=True)
    damaged = der.replace(b"ZZZZ", b"\xff\xfe\xff\xfe")
    info = describe_certificate(damaged)
    assert info.decodable
    assert info.subject is None and info.issuer is None and info.subject_cn is None
    assert any(p.startswith("subject name could not be decoded") for p in info.problems)
    assert any(p.startswith("issuer name could not be decoded") for p in info.problems)
    assert info.san_dns == ("sts.contoso.example", "certauth.sts.contoso.example")
    assert info.public_key_bits == 2048
    assert info.not_before == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def test_certificate_from_base64_with_xml_whitespace(generated_der: bytes) -> None:
    b64 = base64.b64encode(generated_der).decode()
    wrapped = "\n      " + "\r\n\t ".join(b64[i : i + 64] for i in range(0, len(b64), 64)) + "\n   "
    info = certificate_from_base64(wrapped)
    assert info.decodable and info.sha1 == hashlib.sha1(generated_der).hexdigest().upper()


def test_certificate_from_bad_base64(generated_der: bytes) -> None:
    b64 = base64.b64encode(generated_der).decode()
    info = certificate_from_base64(b64[:100] + "!*" + b64[100:])
    assert info.decodable is False
    assert info.problems[0].startswith("the certificate text is not base64")
    # Class 6: no invented thumbprint (not of salvaged bytes, never the SHA-1 of empty bytes).
    assert info.sha1 == info.sha256 == "" and "no thumbprint" in info.label

    empty = certificate_from_base64("  \n ")
    assert empty.decodable is False and empty.problems == ("the certificate element is empty",)
    assert empty.sha1 == "" and empty.sha1 != hashlib.sha1(b"").hexdigest().upper()

    for placeholder in ("MIIBIj%%%", "REPLACE_WITH_YOUR_CERTIFICATE", "{{ signing_certificate }}", "MIIC...=="):
        odd = certificate_from_base64(placeholder)
        assert odd.decodable is False and odd.der == b"" and odd.sha1 == "", placeholder


def test_pem_bundle_with_garbage_between_blocks(corpus: Path, generated_der: bytes) -> None:
    generated_pem = x509.load_der_x509_certificate(generated_der).public_bytes(serialization.Encoding.PEM)
    bundle = (
        b"subject=CN=whatever\nsome garbage \x00\xff between blocks\n"
        + (corpus / "certs" / "ldap3_local-forest-lab-ca.pem").read_bytes()
        + b"\n# comment\n-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
        + generated_pem
        + b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\ntrailing junk"
    )
    infos = load_pem_certificates(bundle)
    assert [i.decodable for i in infos] == [True, False, True, False]
    assert infos[0].subject_cn == "FOREST-WIN1-CA"
    assert infos[2].sha1 == hashlib.sha1(generated_der).hexdigest().upper()
    assert "not base64" in infos[1].problems[0]
    assert "could not decode the certificate DER" in infos[3].problems[0]
    assert load_pem_certificates(b"no certificates here") == []


def test_explicitly_encoded_default_keeps_the_other_extensions():
    """Regression (issue 5, tolerance): basicConstraints with cA FALSE spelled out (a DER
    violation some older CAs produce) makes cryptography refuse every extension; the SAN, EKU,
    CRL and AIA locations are still read, and the problem is said."""
    import datetime as _dt
    import subprocess
    import sys

    from cryptography import x509 as _x509
    from cryptography.hazmat.primitives import hashes as _hashes
    from cryptography.hazmat.primitives import serialization as _ser
    from cryptography.hazmat.primitives.asymmetric import ec as _ec
    from cryptography.x509.oid import AuthorityInformationAccessOID as _AIA
    from cryptography.x509.oid import ExtendedKeyUsageOID as _EKU
    from cryptography.x509.oid import ExtensionOID as _EXT
    from cryptography.x509.oid import NameOID as _N

    key = _ec.generate_private_key(_ec.SECP256R1())
    name = _x509.Name([_x509.NameAttribute(_N.COMMON_NAME, "sts.contoso.test")])
    start = _dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc)
    cert = (_x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(start).not_valid_after(start + _dt.timedelta(days=90))
            .add_extension(_x509.UnrecognizedExtension(_EXT.BASIC_CONSTRAINTS, b"\x30\x03\x01\x01\x00"), critical=True)
            .add_extension(_x509.SubjectAlternativeName([_x509.DNSName("sts.contoso.test"),
                                                         _x509.DNSName("certauth.sts.contoso.test")]), critical=False)
            .add_extension(_x509.ExtendedKeyUsage([_EKU.SERVER_AUTH]), critical=False)
            .add_extension(_x509.CRLDistributionPoints([_x509.DistributionPoint(
                [_x509.UniformResourceIdentifier("http://pki.contoso.test/root.crl")], None, None, None)]), critical=False)
            .add_extension(_x509.AuthorityInformationAccess([_x509.AccessDescription(
                _AIA.OCSP, _x509.UniformResourceIdentifier("http://ocsp.contoso.test"))]), critical=False)
            .sign(key, _hashes.SHA256()))
    der = cert.public_bytes(_ser.Encoding.DER)
    info = describe_certificate(der)
    assert info.decodable and info.subject == "CN=sts.contoso.test"
    assert info.san_dns == ("sts.contoso.test", "certauth.sts.contoso.test")
    assert info.eku == ("1.3.6.1.5.5.7.3.1",)
    assert info.is_ca is False
    assert info.crl_urls == ("http://pki.contoso.test/root.crl",) and info.ocsp_urls == ("http://ocsp.contoso.test",)
    assert any("EncodedDefault" in p for p in info.problems)
    assert any("lenient parser" in p for p in info.problems)
    code = ("import sys; from adfs_readiness.probes.certificates import describe_certificate;"
            "i = describe_certificate(sys.stdin.buffer.read()); print(i.san_dns)")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], input=der, capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert b"certauth.sts.contoso.test" in out.stdout
