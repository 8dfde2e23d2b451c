"""Regression tests of the security review of the metadata parser: the c14n namespace bomb and
other work limits, XML comments inside read text, and unusual XML encodings."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree

from adfs_readiness.facts import KeyUse, SignatureStatus
from adfs_readiness.probes.metadata_limits import MetadataLimits
from adfs_readiness.probes.metadata_parser import parse_metadata, read_metadata_file

sys.path.insert(0, str(Path(__file__).parent))
from _signed_xml import build_metadata, make_identity, sign_metadata  # noqa: E402

MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
HERE = Path(__file__).parent
CORPUS_FILES = sorted((HERE / "corpus" / "metadata").glob("*.xml"))


def _parse(data: bytes, **kwargs):
    return parse_metadata(data, source="test", source_kind="file", **kwargs)


@pytest.fixture(scope="module")
def signer():
    return make_identity()


def _sha1(identity) -> str:
    return identity.cert.fingerprint(hashes.SHA1()).hex().upper()


def _same_key_certificate(identity):
    """Another self-signed certificate for ``identity``'s key (a renewal that kept the key)."""
    cert = (x509.CertificateBuilder().subject_name(identity.cert.subject).issuer_name(identity.cert.subject)
            .public_key(identity.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(identity.cert.not_valid_before_utc).not_valid_after(identity.cert.not_valid_after_utc)
            .sign(identity.key, hashes.SHA256()))
    return type(identity)(identity.key, cert)


def _namespace_bomb(identity, uri_chars: int, elements: int) -> bytes:
    """The reviewer's c14n bomb: a long namespace URI declared once on the root and used by
    ``elements`` siblings, so exclusive c14n repeats it on each. Signed before the elements are
    added, so the SignatureValue verifies with the embedded key and signxml goes on to
    canonicalise the whole document to compare the digest."""
    uri = "urn:" + "x" * (uri_chars - 4)
    xml = (f'<?xml version="1.0"?><EntityDescriptor xmlns="{MD_NS}" xmlns:p="{uri}" ID="_x" entityID="e">'
           f'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="placeholder"/>'
           f"<Extensions>BOMB</Extensions></EntityDescriptor>").encode()
    return sign_metadata(xml, identity).replace(b"BOMB", b"<p:a/>" * elements)


# --- 1. the c14n namespace bomb and the other work limits -------------------------------------

_BOMB_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    sys.path.insert(0, sys.argv[1])
    from _signed_xml import make_identity
    from test_metadata_hardening import _namespace_bomb
    from adfs_readiness.probes.metadata_parser import parse_metadata
    data = _namespace_bomb(make_identity(), int(sys.argv[2]), int(sys.argv[3]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    fact = parse_metadata(data, source="bomb", source_kind="file")
    print(json.dumps({"seconds": time.perf_counter() - started, "size": len(data),
                      "grown_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before,
                      "parse_error": fact.parse_error,
                      "status": fact.document.signature.status.value if fact.document else None}))
""")


@pytest.mark.parametrize("uri_chars, elements", [(10_000, 100_000), (30_000, 100_000), (2_048, 19_999)])
def test_c14n_namespace_bomb_ends_fast_with_bounded_memory(uri_chars: int, elements: int) -> None:
    # A subprocess, so that the peak RSS measured is this document's alone.
    done = subprocess.run([sys.executable, "-c", _BOMB_SCRIPT, str(HERE), str(uri_chars), str(elements)],
                          capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout)
    # Unbounded, (10 KB, 100k) canonicalises to ~1 GB and (30 KB, 100k) to ~3 GB.
    assert result["grown_kib"] < 150_000, result
    assert result["seconds"] < 10, result
    assert result["parse_error"].startswith("refused as too costly to process: "), result
    assert result["status"] is None


@pytest.mark.parametrize("uri_chars", [50, 500, 2_000])
@pytest.mark.parametrize("elements", [10, 1_000, 5_000])
def test_whatever_is_accepted_canonicalises_within_the_cap(signer, uri_chars: int, elements: int) -> None:
    # A small download cap (64 KiB -> canonical cap 256 KiB) makes the grid cross the limit.
    max_bytes = 64 * 1024
    cap = MetadataLimits.for_download_cap(max_bytes).max_canonical_bytes
    data = _namespace_bomb(signer, uri_chars, elements)
    canonical = len(etree.tostring(etree.fromstring(data), method="c14n", exclusive=True))
    fact = _parse(data, max_bytes=max_bytes)
    if fact.document is None:
        assert fact.parse_error.startswith("refused as too costly to process: its canonical form"), fact.parse_error
        assert fact.refused_construct is None
        # The estimate is an upper bound, never off by more than the declarations it counts.
        assert canonical > cap // 8
    else:
        assert canonical <= cap
        # Accepted means verified as usual: the key fits, the added elements break the digest.
        assert fact.document.signature.status is SignatureStatus.INVALID
        assert "changed after signing" in fact.document.signature.reason
    # The clear cases either way.
    if uri_chars * elements > 2 * cap:
        assert fact.document is None
    if uri_chars * elements < cap // 4:
        assert fact.document is not None


@pytest.mark.parametrize(
    "extra, words",
    [
        ("<Extensions>" + "<a/>" * 20_001 + "</Extensions>", "more than 20000 elements"),
        ('<IDPSSODescriptor protocolSupportEnumeration="p"/>' * 101, "more than 100 role descriptors"),
        ('<Extensions xmlns:ds="http://www.w3.org/2000/09/xmldsig#">' + "<ds:X509Certificate>AA==</ds:X509Certificate>"
         * 101 + "</Extensions>", "more than 100 X509Certificate elements"),
        (f'<Extensions xmlns:q="urn:{"q" * 2045}"/>', "a namespace URI is 2049 characters long"),
    ],
)
def test_work_limits_are_findings_not_work(extra: str, words: str) -> None:
    data = f'<EntityDescriptor xmlns="{MD_NS}" entityID="e">{extra}</EntityDescriptor>'.encode()
    fact = _parse(data)
    assert fact.document is None and fact.refused_construct is None
    assert fact.parse_error.startswith("refused as too costly to process: ")
    assert words in fact.parse_error


def test_limits_leave_room_for_just_under_them() -> None:
    limits = MetadataLimits()
    extra = ("<Extensions>" + "<a/>" * (limits.max_elements - 3) + "</Extensions>"
             + '<IDPSSODescriptor protocolSupportEnumeration="p"/>')
    fact = _parse(f'<EntityDescriptor xmlns="{MD_NS}" entityID="e">{extra}</EntityDescriptor>'.encode())
    assert fact.parse_error is None and len(fact.document.roles) == 1


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_passes_the_limits_even_at_its_own_size_as_cap(path: Path) -> None:
    before = read_metadata_file(path, 1_000_000)
    at_cap = read_metadata_file(path, path.stat().st_size)
    assert at_cap.parse_error == before.parse_error
    if before.document is not None:
        assert at_cap.document.signature == before.document.signature


def test_a_digest_mismatch_is_canonicalised_once(signer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two listed certificates with the same key (a renewal keeping its key): the first try finds
    # the content changed; the second could only find the same, so it is not run.
    from adfs_readiness.probes import metadata_signature

    renewed = _same_key_certificate(signer)
    tampered = sign_metadata(build_metadata([signer.b64, renewed.b64]), signer).replace(b"PT1H", b"PT2H")
    calls: list[str] = []
    original = metadata_signature._try_verify

    def counting(data, root_id, uri, cert):
        calls.append(cert.sha1)
        return original(data, root_id, uri, cert)

    monkeypatch.setattr(metadata_signature, "_try_verify", counting)
    signature = _parse(tampered).document.signature
    assert signature.status is SignatureStatus.INVALID
    assert "changed after signing" in signature.reason
    assert calls == [_sha1(signer)]


# --- 3. XML comments inside the text that is read ---------------------------------------------

@pytest.mark.parametrize("comment", ["<!-- -->", "<!---->", "<!-- a --><!-- b -->", "<!--\nmulti\nline-->"])
def test_comments_do_not_cut_signed_text(signer, comment: str) -> None:
    signed = sign_metadata(build_metadata([signer.b64]), signer)
    url = b"https://sts.contoso.example/adfs/ls/"
    half = len(signer.b64) // 2
    edited = (signed
              .replace(b"\n          " + url, b"\n          https://sts.contoso.example" + comment.encode()
                       + b"/adfs/ls/")
              .replace(b"nameid-format:persistent", b"nameid-format:" + comment.encode() + b"persistent")
              .replace(signer.b64.encode(), (signer.b64[:half] + comment + signer.b64[half:]).encode()))
    assert edited.count(comment.encode()) >= 4
    doc = _parse(edited).document
    # Comments are outside the signed (c14n without comments) content: still valid ...
    assert doc.signature.status is SignatureStatus.VALID, doc.signature.reason
    # ... and what is read is what was signed, whole.
    assert doc.signature.signer_sha1 == _sha1(signer)
    assert doc.signature.embedded_certificate_sha1 == _sha1(signer)
    assert [c.sha1 for c in doc.certificates(KeyUse.SIGNING)] == [_sha1(signer)]
    sts, idp = doc.roles
    assert sts.endpoints[0].location == "https://sts.contoso.example/adfs/ls/"
    assert idp.nameid_formats == ("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",)


def test_processing_instructions_do_not_cut_text_either(signer) -> None:
    data = build_metadata([signer.b64]).replace(
        b"https://sts.contoso.example/adfs/ls/\n", b"https://sts.contoso.example<?pi x?>/adfs/ls/\n")
    assert _parse(data).document.roles[0].endpoints[0].location == "https://sts.contoso.example/adfs/ls/"


# --- 6. unusual encodings ------------------------------------------------------------------------

_ENCODINGS = ["x-unknown", "UCS-2", "mbcs", "base64", "rot13", "idna", "punycode", "unicode_escape", "utf-7",
              "utf-16-be", "Shift_JIS", "EUC-KR", "iso-2022-kr", "undefined", "oem", "bz2", "hex", "uu", "",
              "\x00", "UTF-16", "UCS-4", "cp65001", "hz"]


@pytest.mark.parametrize("encoding", _ENCODINGS)
def test_any_declared_encoding_gives_a_fact_never_an_exception(signer, encoding: str) -> None:
    body = sign_metadata(build_metadata([signer.b64]), signer).split(b"?>", 1)[1]
    data = f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + body
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under python -W error
        fact = _parse(data)
    if fact.document is None:
        assert fact.parse_error.startswith("not well-formed XML at line 1")
    else:
        # ASCII-compatible encodings read the ASCII document as it is: it still verifies.
        assert encoding in ("Shift_JIS", "EUC-KR", "iso-2022-kr", "hz")
        assert fact.document.signature.status is SignatureStatus.VALID


def test_shift_jis_document_parses() -> None:
    name = "テスト"
    data = (f'<?xml version="1.0" encoding="Shift_JIS"?><EntityDescriptor xmlns="{MD_NS}" ID="_x" '
            f'entityID="urn:{name}"/>').encode("shift_jis")
    fact = _parse(data)
    assert fact.parse_error is None and fact.document.entity_id == f"urn:{name}"


@pytest.mark.parametrize("encoding", ["iso-2022-kr", "x-unknown", "base64"])
def test_dtd_is_refused_when_the_prescan_cannot_read_the_encoding(encoding: str) -> None:
    data = (f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE EntityDescriptor ['
            f'<!ENTITY x SYSTEM "file:///etc/passwd">]><EntityDescriptor xmlns="{MD_NS}" entityID="&x;"/>').encode()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fact = _parse(data)
    assert fact.document is None
    assert fact.refused_construct == "DTD" or fact.parse_error.startswith("not well-formed XML")
    assert "root:" not in json.dumps(fact.parse_error)
