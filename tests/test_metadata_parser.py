"""Tests of adfs_readiness.probes.metadata_parser: parsing, safety refusals and signature status."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import re
import resource
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from adfs_readiness.facts import HttpExchange, KeyUse, SignatureStatus, to_jsonable
from adfs_readiness.probes.metadata_parser import parse_metadata, read_metadata_file

sys.path.insert(0, str(Path(__file__).parent))
from _signed_xml import build_metadata, key_descriptor, make_identity, sign_metadata  # noqa: E402

UTC = dt.timezone.utc
NEG_SERIAL_SHA1 = "92B88C3DD981BF1EBCB244FCFA63C007706C79E0"
CKAN_OTHER_SHA1 = "3270BF5597004DF339A4E62224731B6BD82810A6"
MD_NS = 'xmlns="urn:oasis:names:tc:SAML:2.0:metadata"'


def _parse(data: bytes, **kwargs):
    source = kwargs.pop("source", "test")
    return parse_metadata(data, source=source, source_kind=kwargs.pop("source_kind", "file"), **kwargs)


@pytest.fixture(scope="module")
def signer():
    return make_identity()


@pytest.fixture(scope="module")
def stranger():
    return make_identity("Someone Else Signing")


# --- the public corpus -------------------------------------------------------------------------

@pytest.mark.parametrize(
    "name, status",
    [
        ("sustainsys_ReadEntityDescriptor_ADFS.xml", SignatureStatus.INVALID),
        ("msidentitymodel_MicrosoftOnline-SP-metadata.xml", SignatureStatus.VALID_SHA1),
        ("msidentitymodel_adfs-v2-metadata.xml", SignatureStatus.VALID),
        ("msidentitymodel_adfs-v3-metadata.xml", SignatureStatus.VALID),
        ("msidentitymodel_adfs-v4-metadata.xml", SignatureStatus.VALID),
        ("ucar_adfs_FederationMetadata_2017.xml", SignatureStatus.VALID),
        ("rcsj_dev_adfs_FederationMetadata_2023.xml", SignatureStatus.VALID),
        ("ckanadfs_AzureAD_FederationMetadata_old.xml", SignatureStatus.VALID),
        ("ckanadfs_AzureAD_FederationMetadata_new.xml", SignatureStatus.VALID),
    ],
)
def test_corpus_signature_status(corpus: Path, name: str, status: SignatureStatus) -> None:
    fact = read_metadata_file(corpus / "metadata" / name, 1_000_000)
    assert fact.parse_error is None and fact.refused_construct is None and not fact.looks_like_html
    assert fact.document is not None
    signature = fact.document.signature
    assert signature.status is status, signature.reason
    assert signature.reference_uri == f"#{fact.document.document_id}"
    if status in (SignatureStatus.VALID, SignatureStatus.VALID_SHA1):
        signing = {c.sha1 for c in fact.document.certificates(KeyUse.SIGNING)}
        assert signature.signer_sha1 in signing
    else:
        assert signature.signer_sha1 is None
    json.dumps(to_jsonable(fact))  # the fact serialises


def test_sustainsys_edited_after_signing(corpus: Path) -> None:
    fact = read_metadata_file(corpus / "metadata" / "sustainsys_ReadEntityDescriptor_ADFS.xml", 1_000_000)
    signature = fact.document.signature
    assert fact.document.entity_id == "http://adfs.server.url/adfs/services/trust"
    assert signature.embedded_certificate_sha1 == "13CE2299E9E824410C1DCB5819042FBAE8793E17"
    assert "does not verify" in signature.reason and "13CE2299E9E824410C1DCB5819042FBAE8793E17" in signature.reason


def test_microsoft_online_sha1_two_signing_certs(corpus: Path) -> None:
    fact = read_metadata_file(corpus / "metadata" / "msidentitymodel_MicrosoftOnline-SP-metadata.xml", 1_000_000)
    doc = fact.document
    assert doc.entity_id == "urn:federation:MicrosoftOnline"
    assert [(r.element, r.role_type) for r in doc.roles] == [("SPSSODescriptor", "SPSSODescriptor")]
    assert [kd.use for kd in doc.roles[0].key_descriptors] == [KeyUse.SIGNING, KeyUse.SIGNING]
    assert [c.sha1 for c in doc.certificates(KeyUse.SIGNING)] == [
        "791BC6AD9893AA570DF03452B4F8069C8A743C29",
        "DCED98D330C1D33A26AA3F7FD15B961573E5DA6A",
    ]
    assert doc.signature.signature_method == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    assert doc.signature.digest_methods == ("http://www.w3.org/2000/09/xmldsig#sha1",)
    assert doc.signature.signer_sha1 == "791BC6AD9893AA570DF03452B4F8069C8A743C29"


@pytest.mark.parametrize("variant, signer_sha1", [("old", NEG_SERIAL_SHA1), ("new", CKAN_OTHER_SHA1)])
def test_ckanadfs_bom_negative_serial_rollover(corpus: Path, variant: str, signer_sha1: str) -> None:
    path = corpus / "metadata" / f"ckanadfs_AzureAD_FederationMetadata_{variant}.xml"
    fact = read_metadata_file(path, 1_000_000)
    assert fact.has_bom is True
    assert fact.size_bytes == path.stat().st_size
    doc = fact.document
    assert doc.entity_id == "https://sts.windows.net/03159e92-72c6-4b23-a64a-af50e790adbf/"
    assert [(r.element, r.role_type) for r in doc.roles] == [
        ("RoleDescriptor", "SecurityTokenServiceType"),
        ("RoleDescriptor", "ApplicationServiceType"),
        ("IDPSSODescriptor", "IDPSSODescriptor"),
    ]
    assert [len(r.key_descriptors) for r in doc.roles] == [2, 2, 2]
    signing = doc.certificates(KeyUse.SIGNING)
    assert [c.sha1 for c in signing] == [NEG_SERIAL_SHA1, CKAN_OTHER_SHA1]
    negative = signing[0]
    assert negative.decodable and negative.serial_number.startswith("-")
    assert negative.problems == ("serial number is negative (RFC 5280 4.1.2.2 requires a positive integer)",)
    assert signing[1].problems == ()
    assert all(kd.problems == () for _, kd in doc.key_descriptors())
    assert doc.signature.status is SignatureStatus.VALID
    assert doc.signature.signer_sha1 == signer_sha1  # each file is signed by a different one of its certs
    idp = doc.roles[2]
    assert [(e.kind, e.binding) for e in idp.endpoints] == [
        ("SingleLogoutService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"),
        ("SingleSignOnService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"),
        ("SingleSignOnService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"),
    ]


def test_ckanadfs_under_python_W_error(corpus: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from adfs_readiness.facts import KeyUse
        from adfs_readiness.probes.metadata_parser import read_metadata_file
        fact = read_metadata_file(Path(sys.argv[1]), 1_000_000)
        doc = fact.document
        print(doc.signature.status.value, doc.signature.signer_sha1, doc.certificates(KeyUse.SIGNING)[0].problems[0])
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script,
         str(corpus / "metadata" / "ckanadfs_AzureAD_FederationMetadata_old.xml")],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(" ", 2)[:2] == ["valid", NEG_SERIAL_SHA1]
    assert "serial number is negative" in done.stdout


def test_adfs_v2_shape(corpus: Path) -> None:
    fact = read_metadata_file(corpus / "metadata" / "msidentitymodel_adfs-v2-metadata.xml", 1_000_000)
    doc = fact.document
    assert fact.has_bom is False and fact.source_kind == "file" and fact.fetch is None
    assert doc.entity_id == "http://fs.msidlab7.com/adfs/services/trust"
    assert doc.document_id == "_43144f19-220f-44a7-b8d9-12207fc27b25"
    assert doc.valid_until is None and doc.valid_until_raw is None and doc.cache_duration is None
    assert [(r.element, r.role_type) for r in doc.roles] == [
        ("RoleDescriptor", "ApplicationServiceType"),
        ("RoleDescriptor", "SecurityTokenServiceType"),
        ("SPSSODescriptor", "SPSSODescriptor"),
        ("IDPSSODescriptor", "IDPSSODescriptor"),
    ]
    assert [[kd.use for kd in r.key_descriptors] for r in doc.roles] == [
        [KeyUse.ENCRYPTION],
        [KeyUse.SIGNING],
        [KeyUse.ENCRYPTION, KeyUse.SIGNING],
        [KeyUse.ENCRYPTION, KeyUse.SIGNING],
    ]
    assert len(doc.key_descriptors()) == 6
    assert [c.sha1 for c in doc.certificates(KeyUse.SIGNING)] == ["28D1BE71EBAB715A8F53CB9FD9D84C4373CD3708"]
    sts = doc.roles[1]
    assert sts.endpoints[0].kind == "SecurityTokenServiceEndpoint"
    assert sts.endpoints[0].location == "https://fs.msidlab7.com/adfs/services/trust/2005/certificatemixed"
    assert sts.endpoints[1].kind == "PassiveRequestorEndpoint"
    assert (sts.endpoints[1].binding, sts.endpoints[1].location) == (None, "https://fs.msidlab7.com/adfs/ls/")
    assert "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" in sts.claim_types_offered
    idp = doc.roles[3]
    assert idp.protocols == ("urn:oasis:names:tc:SAML:2.0:protocol",)
    assert [e.kind for e in idp.endpoints] == ["SingleLogoutService"] * 2 + ["SingleSignOnService"] * 2
    assert idp.nameid_formats == (
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    )
    assert len(idp.claim_types_offered) == 21  # saml:Attribute names of the IDPSSODescriptor
    assert len(doc.roles[2].endpoints) == 5  # 2 SingleLogoutService + 3 AssertionConsumerService


def test_rcsj_counts(corpus: Path) -> None:
    doc = read_metadata_file(corpus / "metadata" / "rcsj_dev_adfs_FederationMetadata_2023.xml", 1_000_000).document
    assert doc.entity_id == "https://d-sts.devrcsj.com/adfs/services/trust"
    assert len(doc.roles) == 4
    assert len(doc.key_descriptors()) == 6
    assert len(doc.key_descriptors(KeyUse.SIGNING)) == 3
    assert doc.signature.signer_sha1 == "011BB9D94A7D8B160E86827DDCC3FA714D882473"


# --- generated, signed documents ---------------------------------------------------------------

def test_generated_valid_rsa_sha256(signer) -> None:
    fact = _parse(sign_metadata(build_metadata([signer.b64]), signer))
    doc = fact.document
    assert doc.signature.status is SignatureStatus.VALID
    assert doc.signature.signer_sha1 == signer.cert.fingerprint(hashes.SHA1()).hex().upper()
    assert doc.signature.embedded_certificate_sha1 == doc.signature.signer_sha1
    assert doc.signature.signature_method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert doc.signature.digest_methods == ("http://www.w3.org/2001/04/xmlenc#sha256",)
    assert doc.signature.reference_uri == "#_doc-1"
    # Shape of the generated document.
    assert doc.valid_until == dt.datetime(2027, 6, 1, 10, 20, 30, 123456, tzinfo=UTC)
    assert doc.valid_until_raw == "2027-06-01T10:20:30.1234567Z"
    assert doc.cache_duration == "PT1H"
    sts, idp = doc.roles
    assert sts.role_type == "SecurityTokenServiceType"
    assert sts.endpoints[0].location == "https://sts.contoso.example/adfs/ls/"  # whitespace stripped
    assert sts.claim_types_offered == (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID",
    )
    assert idp.nameid_formats == ("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",)
    assert idp.claim_types_offered == ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",)
    assert [(e.kind, e.binding) for e in idp.endpoints] == [
        ("SingleLogoutService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"),
        ("SingleSignOnService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"),
        ("SingleSignOnService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"),
    ]


def test_generated_rsa_sha1(signer) -> None:
    signature = _parse(sign_metadata(build_metadata([signer.b64]), signer, sha1=True)).document.signature
    assert signature.status is SignatureStatus.VALID_SHA1
    assert signature.signature_method == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    assert signature.signer_sha1 == signature.embedded_certificate_sha1


def test_generated_unknown_signer(signer, stranger) -> None:
    signature = _parse(sign_metadata(build_metadata([signer.b64]), stranger)).document.signature
    assert signature.status is SignatureStatus.UNKNOWN_SIGNER
    assert signature.signer_sha1 is None
    assert signature.embedded_certificate_sha1 == stranger.cert.fingerprint(hashes.SHA1()).hex().upper()


def test_generated_modified_after_signing(signer) -> None:
    signed = sign_metadata(build_metadata([signer.b64]), signer)
    tampered = signed.replace(b"https://sts.contoso.example/adfs/ls/", b"https://evil.example.net/adfs/ls/", 1)
    assert tampered != signed
    signature = _parse(tampered).document.signature
    assert signature.status is SignatureStatus.INVALID
    assert "changed after signing" in signature.reason


def test_generated_unsigned(signer) -> None:
    signature = _parse(build_metadata([signer.b64], signature_placeholder=False)).document.signature
    assert signature.status is SignatureStatus.UNSIGNED
    assert signature.signature_method is None and signature.reference_uri is None
    assert signature.embedded_certificate_sha1 is None


def test_generated_reference_to_non_root_element(signer) -> None:
    signed = sign_metadata(build_metadata([signer.b64]), signer, reference_uri="#_sts-role")
    signature = _parse(signed).document.signature
    assert signature.status is SignatureStatus.INVALID
    assert signature.reference_uri == "#_sts-role"
    assert "does not cover the document" in signature.reason


def test_generated_garbage_certificate_next_to_good_one(signer) -> None:
    garbage = base64.b64encode(b"this is not a certificate").decode()
    kds = key_descriptor("signing", signer.b64) + key_descriptor("signing", garbage) + key_descriptor(None)
    fact = _parse(sign_metadata(build_metadata([signer.b64], sts_key_descriptors=kds), signer))
    good, bad, empty = fact.document.roles[0].key_descriptors
    assert good.problems == () and good.certificates[0].decodable
    assert len(bad.certificates) == 1 and bad.certificates[0].decodable is False
    assert len(bad.problems) == 1 and "could not be decoded" in bad.problems[0]
    assert bad.certificates[0].sha1 in bad.problems[0]
    assert empty.use is KeyUse.UNSPECIFIED and empty.certificates == ()
    assert empty.problems == ("no ds:X509Certificate in its KeyInfo",)
    assert fact.document.signature.status is SignatureStatus.VALID


def test_generated_no_decodable_listed_certificate(signer) -> None:
    garbage = base64.b64encode(b"junk").decode()
    signed = sign_metadata(build_metadata([garbage]), signer)
    # The listed certificate cannot be read, so whether the signer is listed cannot be told.
    assert _parse(signed).document.signature.status is SignatureStatus.UNVERIFIABLE
    tampered = signed.replace(b"persistent", b"transient")
    assert _parse(tampered).document.signature.status is SignatureStatus.INVALID


def test_unknown_and_foreign_role_types_kept(signer) -> None:
    extra = f"""
  <RoleDescriptor xsi:type="contoso:CustomServiceType" protocolSupportEnumeration="urn:contoso:proto"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:contoso="urn:contoso">
    {key_descriptor("encryption", signer.b64)}
  </RoleDescriptor>
  <RoleDescriptor xsi:type="evil:SecurityTokenServiceType" protocolSupportEnumeration="urn:x"
      xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:evil="urn:evil"/>"""
    doc = _parse(sign_metadata(build_metadata([signer.b64], extra_roles=extra), signer)).document
    assert [r.role_type for r in doc.roles] == [
        "SecurityTokenServiceType",
        "IDPSSODescriptor",
        "CustomServiceType",
        "{urn:evil}SecurityTokenServiceType",
    ]
    custom = doc.roles[2]
    assert custom.element == "RoleDescriptor" and custom.protocols == ("urn:contoso:proto",)
    assert custom.key_descriptors[0].use is KeyUse.ENCRYPTION
    assert doc.signature.status is SignatureStatus.VALID


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2027-01-02T03:04:05Z", dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2027-01-02T03:04:05+02:00", dt.datetime(2027, 1, 2, 1, 4, 5, tzinfo=UTC)),
        ("2027-01-02T03:04:05", dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("next tuesday", None),
    ],
)
def test_valid_until(raw: str, expected) -> None:
    doc = _parse(build_metadata([], valid_until=raw, cache_duration="P1D", signature_placeholder=False)).document
    assert doc.valid_until == expected
    assert doc.valid_until_raw == raw and doc.cache_duration == "P1D"


def test_utf16_document_is_parsed_from_bytes(signer) -> None:
    text = build_metadata([signer.b64], signature_placeholder=False).decode("utf-8")
    data = text.replace('encoding="utf-8"', 'encoding="UTF-16"').encode("utf-16")
    fact = _parse(data)
    assert fact.parse_error is None and fact.has_bom is False
    assert fact.document.entity_id == "http://sts.contoso.example/adfs/services/trust"
    assert fact.document.certificates(KeyUse.SIGNING)[0].decodable


# --- refusals, HTML, broken input --------------------------------------------------------------

def _json(fact) -> str:
    return json.dumps(to_jsonable(fact))


def test_billion_laughs_is_refused_fast_and_small() -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 12)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE EntityDescriptor [{entities}]>'
        f'<EntityDescriptor {MD_NS} entityID="&lol11;">&lol11;</EntityDescriptor>'
    ).encode()
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    fact = _parse(bomb)
    elapsed = time.perf_counter() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_rss
    assert fact.refused_construct == "entity declaration"
    assert fact.document is None and "refused for safety" in fact.parse_error
    assert elapsed < 2.0 + 5  # generous; a bomb expanded would take far longer
    assert grown_kib < 50_000  # 10^11 "lol"s expanded would be ~300 GB
    assert len(_json(fact)) < 2_000


def test_xxe_local_file_is_refused_and_never_read(tmp_path: Path) -> None:
    marker = "SECRET-MARKER-4f1c9e"
    secret = tmp_path / "credentials.txt"
    secret.write_text(marker)
    uri = secret.as_uri()
    for doc in (
        f'<?xml version="1.0"?><!DOCTYPE EntityDescriptor [<!ENTITY xxe SYSTEM "{uri}">]>'
        f'<EntityDescriptor {MD_NS} ID="_a" entityID="&xxe;"><Organization>&xxe;</Organization></EntityDescriptor>',
        f'<!DOCTYPE EntityDescriptor [<!ENTITY % p SYSTEM "{uri}"> %p;]><EntityDescriptor {MD_NS} entityID="x"/>',
    ):
        fact = _parse(doc.encode())
        assert fact.refused_construct == "external reference"
        assert fact.document is None
        assert marker not in _json(fact)
        assert uri in fact.parse_error  # says what it refused to fetch


def test_xinclude_is_refused(tmp_path: Path) -> None:
    marker = "SECRET-MARKER-xi-77"
    secret = tmp_path / "x.txt"
    secret.write_text(marker)
    doc = (
        f'<EntityDescriptor {MD_NS} entityID="x" xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="{secret.as_uri()}" parse="text"/></EntityDescriptor>'
    )
    fact = _parse(doc.encode())
    assert fact.refused_construct == "external reference"
    assert "XInclude" in fact.parse_error and marker not in _json(fact)


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.hits.append(self.path)
        body = b'<!ENTITY x "fetched">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_external_dtd_url_is_refused_and_never_fetched() -> None:
    hits: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/evil.dtd"
        doc = f'<!DOCTYPE EntityDescriptor SYSTEM "{url}"><EntityDescriptor {MD_NS} entityID="&x;"/>'
        fact = _parse(doc.encode())
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert fact.refused_construct == "external reference"
    assert url in fact.parse_error
    assert hits == []  # parse_metadata is synchronous: a fetch would have happened before it returned


def test_plain_doctype_and_internal_entity_are_refused() -> None:
    fact = _parse(f'<!DOCTYPE EntityDescriptor><EntityDescriptor {MD_NS} entityID="x"/>'.encode())
    assert fact.refused_construct == "DTD" and fact.document is None
    fact = _parse(f'<!DOCTYPE EntityDescriptor [<!ENTITY e "x">]><EntityDescriptor {MD_NS} entityID="&e;"/>'.encode())
    assert fact.refused_construct == "entity declaration" and "(e)" in fact.parse_error


ADFS_SIGNIN_PAGE = b"""<!DOCTYPE html>
<html lang="en-US"><head><meta http-equiv="X-UA-Compatible" content="IE=edge"/>
<meta name="viewport" content="width=device-width, initial-scale=1.0, maximum-scale=2.0, user-scalable=yes">
<meta http-equiv="content-type" content="text/html;charset=UTF-8" />
<title>Sign In</title></head><body dir="ltr" class="body"><div id="fullPage">&nbsp;
<form method="post" id="loginForm" action="/adfs/ls/?SAMLRequest=x"><input id="userNameInput" name="UserName"></form>
</div></body></html>"""


@pytest.mark.parametrize(
    "page",
    [
        ADFS_SIGNIN_PAGE,
        b"\xef\xbb\xbf  <html><head><meta charset=utf-8><title>Error</title></head>"
        b"<body>Service Unavailable</body></html>",
        b'<?xml version="1.0"?><!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    ],
)
def test_html_page_instead_of_metadata(page: bytes) -> None:
    fact = _parse(page, source="https://sts.contoso.example/FederationMetadata/2007-06/FederationMetadata.xml",
                  source_kind="url", content_type="text/html; charset=utf-8")
    assert fact.looks_like_html is True
    assert fact.refused_construct is None
    assert fact.document is None
    assert "an HTML page was returned instead of metadata" in fact.parse_error
    assert fact.content_type == "text/html; charset=utf-8"


def test_truncated_xml_reports_line_and_column(corpus: Path) -> None:
    data = (corpus / "metadata" / "sustainsys_ReadEntityDescriptor_ADFS.xml").read_bytes()[:3000]
    fact = _parse(data)
    assert fact.document is None and not fact.looks_like_html and fact.refused_construct is None
    match = re.match(r"not well-formed XML at line (\d+), column (\d+): (.+)$", fact.parse_error)
    assert match, fact.parse_error
    assert int(match.group(1)) == data.count(b"\n") + 1
    assert match.group(3).startswith("Premature end of data in tag X509Certificate")
    assert not re.search(r"line \d+, column \d+", match.group(3))  # the position is stated once


@pytest.mark.parametrize(
    "xml, named",
    [
        (f'<EntitiesDescriptor {MD_NS}><EntityDescriptor entityID="a"/></EntitiesDescriptor>',
         "{urn:oasis:names:tc:SAML:2.0:metadata}EntitiesDescriptor (an aggregate"),
        ('<foo xmlns="urn:example"><bar/></foo>', "{urn:example}foo"),
        ('<EntityDescriptor entityID="no namespace"/>', "the root element is EntityDescriptor,"),
    ],
)
def test_wrong_root_element(xml: str, named: str) -> None:
    fact = _parse(xml.encode())
    assert fact.document is None
    assert named in fact.parse_error and "md:EntityDescriptor" in fact.parse_error


@pytest.mark.parametrize("data", [b"", b"   \r\n", b"\xef\xbb\xbf"])
def test_empty_document(data: bytes) -> None:
    fact = _parse(data)
    assert fact.parse_error == "the document is empty" and fact.size_bytes == len(data)


def test_garbage_bytes() -> None:
    fact = _parse(bytes(range(256)))
    assert fact.document is None and fact.parse_error.startswith("not well-formed XML at line 1")


def test_truncated_download_is_not_parsed(signer) -> None:
    exchange = HttpExchange(
        url="https://sts.contoso.example/FederationMetadata/2007-06/FederationMetadata.xml",
        final_url="https://sts.contoso.example/FederationMetadata/2007-06/FederationMetadata.xml",
        connect_address="127.0.0.1:443", status=200, reason="OK", headers={"content-type": "text/xml"},
        redirects=(), elapsed_seconds=0.5, body_bytes=1000, truncated=True,
    )
    data = build_metadata([signer.b64])[:1000]
    fact = _parse(data, source_kind="url", fetch=exchange, content_type="text/xml")
    assert fact.fetch is exchange and fact.document is None
    assert "download size cap" in fact.parse_error and "1000 bytes" in fact.parse_error


def test_read_metadata_file_size_cap_and_errors(tmp_path: Path, signer) -> None:
    data = build_metadata([signer.b64], signature_placeholder=False)
    path = tmp_path / "FederationMetadata.xml"
    path.write_bytes(data)
    fact = read_metadata_file(path, len(data))  # exactly at the cap: accepted
    assert fact.parse_error is None and fact.source == str(path) and fact.source_kind == "file"
    assert fact.size_bytes == len(data)
    big = read_metadata_file(path, len(data) - 1)
    assert big.document is None
    assert big.parse_error == f"the file is larger than the size cap of {len(data) - 1} bytes; it was not parsed"
    missing = read_metadata_file(tmp_path / "nope.xml", 1000)
    assert missing.parse_error == "the file could not be read: No such file or directory"
    assert missing.size_bytes is None and missing.sha256 is None
    directory = read_metadata_file(tmp_path, 1000)
    assert directory.parse_error == "the file could not be read: Is a directory"


def test_generated_empty_reference_uri_covers_the_document(signer) -> None:
    doc = _parse(sign_metadata(build_metadata([signer.b64], document_id=None), signer)).document
    signature = doc.signature
    assert doc.document_id is None
    assert signature.reference_uri == ""
    assert signature.status is SignatureStatus.VALID


def test_comment_mentioning_doctype_is_not_a_dtd(signer) -> None:
    data = build_metadata([signer.b64], signature_placeholder=False).replace(
        b"<EntityDescriptor", b"<!-- <!DOCTYPE x [<!ENTITY e 'x'>]> -->\n<EntityDescriptor", 1
    )
    fact = _parse(data)
    assert fact.refused_construct is None and fact.parse_error is None
    assert fact.document.signature.status is SignatureStatus.UNSIGNED


# --- undeclared namespace prefixes (found by the coverage-guided fuzzer, tests/test_fuzz.py) ------
# libxml2 reports a prefix that is never declared as a non-fatal namespace error: depending on where
# it stands, lxml raised or kept the element with a bare "fed:X" tag, and lxml's QName then raised
# ValueError inside the parser (a crash). Such a document is not namespace-well-formed (Namespaces
# in XML 1.0, section 5) and .NET's XmlReader refuses it: one parse error, wherever it stands.

_MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
_FUZZ_REGRESSIONS = Path(__file__).parent / "fuzz" / "regressions"


@pytest.mark.parametrize("where", ["role child", "role", "root"])
def test_an_element_with_an_undeclared_prefix_is_a_parse_error_never_a_crash(where: str) -> None:
    odd = "<fed:TokenTypesOffered/>"
    role = (f'<RoleDescriptor xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="x">{odd}</RoleDescriptor>')
    if where == "root":
        data = f"<fed:EntityDescriptor entityID='https://sts.contoso.com/adfs/services/trust'>{role}</fed:EntityDescriptor>"
    else:
        inner = role if where == "role child" else odd + role
        data = f'<EntityDescriptor xmlns="{_MD_NS}" entityID="https://sts.contoso.com/adfs/services/trust">{inner}</EntityDescriptor>'
    document = parse_metadata(data.encode(), source="odd.xml", source_kind="file", max_bytes=1 << 20)
    assert document.document is None
    assert document.parse_error and "Namespace prefix fed on" in document.parse_error and \
        "is not defined" in document.parse_error, document.parse_error


def test_the_fuzzers_undeclared_prefix_document_is_a_parse_error() -> None:
    # A real AD FS metadata file (tests/corpus) with the fed: declaration mutated away: lxml did
    # not raise for it, and the parser crashed on the first fed: element.
    data = (_FUZZ_REGRESSIONS / "metadata-undeclared-prefix.xml").read_bytes()
    document = parse_metadata(data, source="fuzz.xml", source_kind="file", max_bytes=1 << 20)
    assert document.document is None
    assert document.parse_error and "Namespace prefix fed on TokenTypesOffered is not defined" in \
        document.parse_error and "line 36" in document.parse_error, document.parse_error


def test_a_mex_document_with_an_undeclared_prefix_is_a_parse_error() -> None:
    from adfs_readiness.facts.endpoints import EndpointVia
    from adfs_readiness.probes.mex import parse_mex

    doc = parse_mex(b"<definitions xmlns='http://schemas.xmlsoap.org/wsdl/'><wsp:Policy/></definitions>",
                    url="u", via=EndpointVia.SERVICE, address="a")
    assert doc.parse_error and "Namespace prefix wsp on Policy is not defined" in doc.parse_error, doc.parse_error
