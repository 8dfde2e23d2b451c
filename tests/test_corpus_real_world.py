"""The real-world corpus added for issue 11 (section 5): every file judged through the CLI at a
fixed clock, every check's status asserted, and the statuses that follow from an independently
established truth (tests/corpus/SOURCES.md: ``xmlsec1 --verify`` pinned to the document's own
certificate, ``openssl x509``, ``openssl verify``) cross-checked against that truth.

The truth values below were measured with those tools, not with this product."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adfs_readiness.cli import main
from adfs_readiness.facts.endpoints import EndpointVia
from adfs_readiness.probes.cloud import tenant_id_from_discovery
from adfs_readiness.probes.mex import parse_mex, parse_openid_configuration

CORPUS = Path(__file__).parent / "corpus"
AS_OF = "2026-11-30"
_SHORT = {"P": "pass", "W": "warn", "F": "fail", "E": "error", "S": "skip", "I": "info"}

#: file -> (verdict, every in-scope check's statuses at AS_OF, one letter per finding).
STATUSES = {
    "jmfixit_entra_three_signing_certs_2017.xml": ("NOT_READY", "dns.fs-name-routable=PP metadata.reachable=S metadata.well-formed=P metadata.signature=P metadata.entity-id=I metadata.valid-until=P metadata.endpoints=P metadata.consistency=P metadata.claims-offered=W token-signing.expiry=F token-signing.key=PPP token-signing.rollover=W token-decrypting.expiry=S"),
    "mathivanan_entra_app_edited_after_signing.xml": ("NOT_READY", "dns.fs-name-routable=PP metadata.reachable=S metadata.well-formed=P metadata.signature=F metadata.entity-id=I metadata.valid-until=P metadata.endpoints=P metadata.consistency=P metadata.claims-offered=W token-signing.expiry=F token-signing.key=P token-signing.rollover=W token-decrypting.expiry=S"),
    "yamabass_adfs_maclog_2020.xml": ("NOT_READY", "dns.fs-name-routable=P metadata.reachable=S metadata.well-formed=P metadata.signature=P metadata.entity-id=I metadata.valid-until=P metadata.endpoints=P metadata.consistency=P metadata.claims-offered=P token-signing.expiry=F token-signing.key=P token-signing.rollover=W token-decrypting.expiry=F"),
    "yoda_adfs_maybank_truncated.xml": ("NOT_READY", "dns.fs-name-routable=S metadata.reachable=S metadata.well-formed=F metadata.signature=E metadata.entity-id=E metadata.valid-until=E metadata.endpoints=E metadata.consistency=E metadata.claims-offered=E token-signing.expiry=E token-signing.key=E token-signing.rollover=E token-decrypting.expiry=E"),
    "inumidun_adfs_cecurepractice_2024.xml": ("NOT_READY", "dns.fs-name-routable=P metadata.reachable=S metadata.well-formed=P metadata.signature=P metadata.entity-id=I metadata.valid-until=P metadata.endpoints=P metadata.consistency=P metadata.claims-offered=P token-signing.expiry=F token-signing.key=P token-signing.rollover=W token-decrypting.expiry=F"),
    "leejeffreys_adfs_melco_2018.xml": ("NOT_READY", "dns.fs-name-routable=P metadata.reachable=S metadata.well-formed=P metadata.signature=P metadata.entity-id=I metadata.valid-until=P metadata.endpoints=P metadata.consistency=P metadata.claims-offered=P token-signing.expiry=F token-signing.key=P token-signing.rollover=W token-decrypting.expiry=F"),
    "luisifhy_okta_rsa_sha1.xml": ("NOT_READY", "dns.fs-name-routable=PP metadata.reachable=S metadata.well-formed=P metadata.signature=W metadata.entity-id=I metadata.valid-until=P metadata.endpoints=F metadata.consistency=I metadata.claims-offered=W token-signing.expiry=P token-signing.key=P token-signing.rollover=P token-decrypting.expiry=S"),
    "mlaitechio_adfs_adityabirla_2021.xml": ("NOT_READY", "dns.fs-name-routable=P metadata.reachable=S metadata.well-formed=P metadata.signature=P metadata.entity-id=I metadata.valid-until=P metadata.endpoints=P metadata.consistency=P metadata.claims-offered=P token-signing.expiry=F token-signing.key=P token-signing.rollover=W token-decrypting.expiry=F"),
    "nadeemkhan_adfs_testad_local_2019.xml": ("NOT_READY", "dns.fs-name-routable=F metadata.reachable=S metadata.well-formed=P metadata.signature=P metadata.entity-id=I metadata.valid-until=P metadata.endpoints=P metadata.consistency=P metadata.claims-offered=P token-signing.expiry=P token-signing.key=P token-signing.rollover=P token-decrypting.expiry=P"),
    "swapnilmalap_rp_ip_host_unsigned.xml": ("NOT_READY", "dns.fs-name-routable=F metadata.reachable=S metadata.well-formed=P metadata.signature=W metadata.entity-id=I metadata.valid-until=P metadata.endpoints=F metadata.consistency=S metadata.claims-offered=S token-signing.expiry=E token-signing.key=E token-signing.rollover=E token-decrypting.expiry=S"),
    "tmschbgr_ofis_unsigned_sha1.xml": ("NOT_READY", "dns.fs-name-routable=P metadata.reachable=S metadata.well-formed=P metadata.signature=W metadata.entity-id=I metadata.valid-until=P metadata.endpoints=P metadata.consistency=P metadata.claims-offered=P token-signing.expiry=F token-signing.key=W token-signing.rollover=W token-decrypting.expiry=F"),
    "msidentitymodel_shibboleth_idp-metadata.xml": ("NOT_READY", "dns.fs-name-routable=P metadata.reachable=S metadata.well-formed=P metadata.signature=W metadata.entity-id=I metadata.valid-until=P metadata.endpoints=F metadata.consistency=I metadata.claims-offered=S token-signing.expiry=F token-signing.key=P token-signing.rollover=W token-decrypting.expiry=S"),
}

#: Independent truth (tests/corpus/SOURCES.md): the signature as xmlsec1 judged it pinned to each of the
#: document's certificates ("valid:<sha1>", "digest-mismatch", "unsigned", "not-xml"), its algorithm,
#: and the primary signing certificate's notAfter as openssl x509 printed it.
TRUTH = {
    "jmfixit_entra_three_signing_certs_2017.xml": ("valid:FD482A5C6FED30B76E489D53F1C687C54EDC3AD7", "rsa-sha256", "2019-01-04"),
    "mathivanan_entra_app_edited_after_signing.xml": ("digest-mismatch", "rsa-sha256", "2025-03-22"),
    "yamabass_adfs_maclog_2020.xml": ("valid:6CBBA0639938DAB1CD548528C6C788CB49BEC22A", "rsa-sha256", "2021-03-10"),
    "yoda_adfs_maybank_truncated.xml": ("not-xml", None, None),
    "inumidun_adfs_cecurepractice_2024.xml": ("valid:D20C834C070589F1FE9D63AFE969C5D2E916609D", "rsa-sha256", "2025-08-07"),
    "leejeffreys_adfs_melco_2018.xml": ("valid:C2067C7D2E82AD0F67DE286E7104ABC1E9DB14CB", "rsa-sha256", "2023-04-18"),
    "luisifhy_okta_rsa_sha1.xml": ("valid:306BD73C9A134B894E25521EFBBD5547D6AE6EDD", "rsa-sha1", "2032-02-21"),
    "mlaitechio_adfs_adityabirla_2021.xml": ("valid:6B6528CC3B183A63789F0019AB9D978C0FEF8CD7", "rsa-sha256", "2026-02-22"),
    "nadeemkhan_adfs_testad_local_2019.xml": ("valid:A6A1A91DA27AEAE025B31B61A0C5F479381208CA", "rsa-sha256", "2029-10-27"),
    "swapnilmalap_rp_ip_host_unsigned.xml": ("unsigned", None, None),
    "tmschbgr_ofis_unsigned_sha1.xml": ("unsigned", None, "2020-02-17"),
    "msidentitymodel_shibboleth_idp-metadata.xml": ("unsigned", None, "2018-02-14"),
}


def _run(tmp_path: Path, *argv: str) -> tuple[int, dict]:
    out = tmp_path / "r.json"
    code = main(["check", *argv, "--as-of", AS_OF, "--json", str(out), "-q"])
    return code, json.loads(out.read_text())


@pytest.mark.parametrize("name", sorted(STATUSES))
def test_every_check_on_real_metadata(tmp_path, name):
    code, doc = _run(tmp_path, "--metadata", str(CORPUS / "metadata" / name))
    verdict, expected = STATUSES[name]
    found: dict[str, str] = {}
    for f in doc["findings"]:
        if not f["summary"].startswith("Not part of this run"):
            found[f["check_id"]] = found.get(f["check_id"], "") + next(k for k, v in _SHORT.items() if v == f["status"])
    assert " ".join(f"{k}={v}" for k, v in found.items()) == expected
    assert doc["verdict"] == verdict and code == doc["exit_code"]
    by_id = {f["check_id"]: f for f in doc["findings"]}
    signature, algorithm, not_after = TRUTH[name]
    sig = by_id["metadata.signature"]
    if signature.startswith("valid:"):
        assert sig["evidence"]["signer_sha1"] == signature.split(":", 1)[1]
        assert sig["status"] == ("warn" if algorithm == "rsa-sha1" else "pass")
    elif signature == "digest-mismatch":
        assert sig["status"] == "fail" and "changed after signing" in sig["summary"]
    elif signature == "unsigned":
        assert sig["status"] == "warn" and "not signed" in sig["summary"]
    else:
        assert by_id["metadata.well-formed"]["status"] == "fail" and sig["status"] == "error"
    if not_after is not None:
        expiry = by_id["token-signing.expiry"]
        assert expiry["evidence"]["certificate"]["not_after"].startswith(not_after)
        assert (expiry["status"] == "fail") == (not_after < AS_OF)


def test_the_local_federation_service_name_of_a_real_farm_blocks(tmp_path):
    # Class 4 on a real file: an AD FS farm named adfs-testad.testad.local, signature valid, certificates valid.
    _, doc = _run(tmp_path, "--metadata", str(CORPUS / "metadata" / "nadeemkhan_adfs_testad_local_2019.xml"))
    reasons = [r for r in doc["verdict_reasons"] if r["kind"] == "blocker_failed"]
    assert [r["check_id"] for r in reasons] == ["dns.fs-name-routable"] and ".local name" in reasons[0]["summary"]


#: MEX documents: the endpoints grep counts in each file, and the plain-http ones (SOURCES.md).
MEX = {
    "adal_mex_address.insecure.xml": (14, ["http://arvmserver2012.archan.us/adfs/services/trust/13/usernamemixed",
                                           "http://arvmserver2012.archan.us/adfs/services/trust/13/windowstransport"]),
    "adal_mex_archan.us.mex.xml": (13, []),
    "adal_mex_common.mex.xml": (12, []),
    # ADAL's own syntax-error fixture: Python's xml.dom.minidom says "mismatched tag: line 912".
    "adal_mex_syntax.related.mex.xml": (None, []),
}


@pytest.mark.parametrize("name", sorted(MEX))
def test_real_mex_documents(name):
    from adfs_readiness_checks.endpoints import _transport_secured

    doc = parse_mex((CORPUS / "mex" / name).read_bytes(), url="u", via=EndpointVia.SERVICE, address="a")
    count, plain = MEX[name]
    if count is None:
        assert doc.parse_error and "line 912" in doc.parse_error and doc.endpoints == ()
        return
    assert doc.parse_error is None and len(doc.endpoints) == count
    found = [e.address for e in doc.endpoints if e.address.startswith("http://")]
    assert found == plain
    # Class 3: the plain-http ones are transport-secured endpoints (rich clients skip them).
    assert all(_transport_secured(e.path) for e in doc.endpoints if e.address in plain)


#: OIDC discovery documents: issuer as python's json module reads it, and the Entra tenant id.
OIDC = {
    "msidentitymodel_IssuerMetadata_v1.json": ("https://sts.windows.net/d062b2b0-9aca-4ff7-b32a-ba47231a4002/",
                                              "d062b2b0-9aca-4ff7-b32a-ba47231a4002"),
    "msidentitymodel_google-openid-configuration.json": ("accounts.google.com", None),
    "msidentitymodel_PingLabs-openid-configuration.json": ("https://connect-interop.pinglabs.org:9031", None),
    "djangoadfs_adfs-openid-configuration.json": ("https://adfs.example.com/adfs", None),
}


@pytest.mark.parametrize("name", sorted(OIDC))
def test_real_openid_discovery_documents(name):
    raw = (CORPUS / "oidc" / name).read_bytes()
    issuer, tenant = OIDC[name]
    assert tenant_id_from_discovery(json.loads(raw.decode("utf-8-sig")))[0] == tenant
    doc = parse_openid_configuration(raw, url="u", via=EndpointVia.SERVICE, address="a")
    assert doc.issuer == issuer


#: Certificate files: what openssl x509 / openssl verify say (SOURCES.md). Their extension profile
#: is not judged (profile=S): no view trusts a self-signed certificate.
CERTS = {
    # self-signed (openssl verify against itself: OK), no extensions (no SAN), RSA 2048, SHA-256, valid to 2039
    "msidentitymodel_SelfSigned2048_SHA256_Public.cer": ("F021E9B63596419D66DE93050D5994FAF7085DD8",
                                                         "readable=P names=S key=I chain=F profile=S eku=P expiry=P"),
    # self-signed, no extensions, RSA 1024, SHA-1 signature, valid to 2039, and a negative serial
    # (openssl x509 -serial: -3208F6F5BCCA9E57BC4AEE674F459E54): the encoding warning
    "sustainsys_stubidp.sustainsys.com.cer": ("F36DCECFAC19E2AF0F6482EAC612DA06AC7F4B06",
                                              "readable=W names=S key=F chain=F profile=S eku=P expiry=P"),
}


@pytest.mark.parametrize("name", sorted(CERTS))
def test_real_certificate_files(tmp_path, name):
    code, doc = _run(tmp_path, "--certificate", str(CORPUS / "certs" / name))
    sha1, expected = CERTS[name]
    found = {f["check_id"].split(".", 1)[1]: next(k for k, v in _SHORT.items() if v == f["status"])
             for f in doc["findings"] if f["check_id"].startswith("certificate-file.")}
    assert " ".join(f"{k}={v}" for k, v in found.items()) == expected
    assert doc["target"] == sha1 and doc["verdict"] == "NOT_READY" and code == 2
    chain = next(f for f in doc["findings"] if f["check_id"] == "certificate-file.chain")
    assert chain["evidence"]["failure"] == "self_signed" and "self-signed" in chain["summary"]
