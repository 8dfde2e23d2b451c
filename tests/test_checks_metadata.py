"""Tests of the ``metadata.*`` checks (checks/metadata.py) on built facts and on real corpus files."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import entry_points

import pytest
from conftest import CORPUS, FIXED_NOW
from factories import (
    HOST,
    IMMUTABLE_ID,
    METADATA_URL,
    NAMEID_FORMATS,
    POST,
    REDIRECT,
    UPN,
    app_service_role,
    certificate,
    corpus_document,
    document,
    http_exchange,
    idp_role,
    metadata_fact,
    redirect,
    signature,
    sts_role,
    transport_error,
)

import adfs_readiness_checks.metadata as metadata_checks
import adfs_readiness_checks.token_certificates as token_checks
from adfs_readiness.api import Area, CannotDetermine, Check, CheckContext, Status
from adfs_readiness.facts import METADATA_FACT, ProbeErrorKind, SignatureStatus
from adfs_readiness.settings import FederationSettings, Settings

#: The metadata table of CHECKS.md: id -> whether a failure blocks SSO.
CATALOG = {
    "metadata.reachable": True,
    "metadata.well-formed": True,
    "metadata.signature": False,
    "metadata.entity-id": False,
    "metadata.valid-until": False,
    "metadata.endpoints": True,
    "metadata.consistency": False,
    "metadata.claims-offered": False,
    "token-signing.expiry": True,
    "token-signing.key": False,
    "token-signing.rollover": False,
    "token-decrypting.expiry": False,
}
ADFS_CORPUS = {
    "msidentitymodel_adfs-v2-metadata.xml": "fs.msidlab7.com",
    "msidentitymodel_adfs-v3-metadata.xml": "fs.msidlab2.com",
    "msidentitymodel_adfs-v4-metadata.xml": "fs.msidlab11.com",
    "ucar_adfs_FederationMetadata_2017.xml": "sts.ucar.edu",
    "rcsj_dev_adfs_FederationMetadata_2023.xml": "d-sts.devrcsj.com",
    "sustainsys_ReadEntityDescriptor_ADFS.xml": "adfs.server.url",
}


def for_service(name: str | None, **federation) -> Settings:
    """Settings naming the federation service (and other [federation] keys)."""
    return Settings(federation=FederationSettings(service_name=name, **federation))


def run(chk: Check, fact, config: Settings | None = None):
    ctx = CheckContext(facts={METADATA_FACT: fact}, config=config or for_service(HOST), now=FIXED_NOW)
    return chk.function(ctx)


def all_checks() -> list[Check]:
    return [v for mod in (metadata_checks, token_checks) for v in vars(mod).values() if isinstance(v, Check)]


# --- declarations ------------------------------------------------------------------------------

def test_module_checks_match_the_catalog_exactly():
    checks = all_checks()
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(CATALOG)
    for c in checks:
        assert c.meta.area is Area.METADATA
        assert c.meta.blocker is CATALOG[c.id], c.id
        assert c.meta.requires == (METADATA_FACT,)
        assert len(c.meta.remediation) > 80 and c.meta.rule
        assert any(r.url.startswith("https://") for r in c.meta.references), c.id
        assert all(r.url.startswith("https://") for r in c.meta.references), c.id


def test_modules_are_registered_as_entry_points():
    names = {ep.value for ep in entry_points(group="adfs_readiness.checks")}
    assert {"adfs_readiness_checks.metadata", "adfs_readiness_checks.token_certificates"} <= names


@pytest.mark.parametrize("chk", [c for c in all_checks() if c.id not in ("metadata.reachable", "metadata.well-formed")],
                         ids=lambda c: c.id)
def test_every_document_check_cannot_determine_without_a_document(chk):
    fact = metadata_fact(document=None, parse_error="root element is {http://www.w3.org/1999/xhtml}html, "
                                                    "not md:EntityDescriptor")
    with pytest.raises(CannotDetermine) as err:
        run(chk, fact)
    assert "not md:EntityDescriptor" in err.value.reason


def test_cannot_determine_names_the_fetch_failure_when_nothing_was_parsed():
    fact = metadata_fact(document=None, fetch=transport_error(ProbeErrorKind.TIMEOUT, "read timed out after 10 s"),
                         size_bytes=None)
    with pytest.raises(CannotDetermine) as err:
        run(metadata_checks.signature, fact)
    assert "timeout: read timed out after 10 s" in err.value.reason


# --- metadata.reachable ------------------------------------------------------------------------

def test_reachable_pass_with_evidence():
    out = run(metadata_checks.reachable, metadata_fact())
    assert out.status is Status.PASS
    assert METADATA_URL in out.summary and "200" in out.summary
    ev = out.evidence
    for key in ("url", "connect_address", "status", "content_type", "redirects", "elapsed_seconds", "bytes"):
        assert key in ev
    assert ev["status"] == 200 and ev["content_type"] == "application/samlmetadata+xml" and ev["bytes"] == 48_213
    assert ev["expected_url"] == METADATA_URL


def test_reachable_pass_reports_pinned_address_and_redirects():
    exchange = http_exchange(connect_address="203.0.113.10:443",
                             redirects=(redirect(f"http://{HOST}/FederationMetadata/2007-06/FederationMetadata.xml",
                                                 METADATA_URL, 301),))
    out = run(metadata_checks.reachable, metadata_fact(fetch=exchange))
    assert out.status is Status.PASS
    assert "via 203.0.113.10:443" in out.summary and "1 redirect" in out.summary
    assert out.evidence["redirects"] == [{"status": 301, "url": f"http://{HOST}/FederationMetadata/2007-06/"
                                          "FederationMetadata.xml", "location": METADATA_URL}]


def test_reachable_skips_a_file():
    out = run(metadata_checks.reachable, metadata_fact(fetch=None, source="/tmp/FederationMetadata.xml"))
    assert out.status is Status.SKIP
    assert "/tmp/FederationMetadata.xml" in out.summary and "not tested" in out.summary


@pytest.mark.parametrize("kind", [ProbeErrorKind.TIMEOUT, ProbeErrorKind.REFUSED, ProbeErrorKind.NAME_NOT_RESOLVED,
                                  ProbeErrorKind.TLS, ProbeErrorKind.TOO_LARGE, ProbeErrorKind.DEADLINE])
def test_reachable_fails_on_transport_errors(kind):
    fact = metadata_fact(document=None, size_bytes=None, fetch=transport_error(kind, "it went wrong"))
    out = run(metadata_checks.reachable, fact)
    assert out.status is Status.FAIL and out.blocker is None  # the check's default: a blocker
    assert f"({kind.value})" in out.summary and "it went wrong" in out.summary
    assert "Entra" in out.summary
    assert out.evidence["error_kind"] == kind.value and out.evidence["status"] is None
    if kind is ProbeErrorKind.TOO_LARGE:
        assert "download cap 10485760 bytes" in out.summary


@pytest.mark.parametrize("status", [404, 503, 302])
def test_reachable_fails_on_other_status(status):
    out = run(metadata_checks.reachable, metadata_fact(document=None, fetch=http_exchange(status=status,
                                                                                          content_type="text/html")))
    assert out.status is Status.FAIL
    assert f"HTTP {status}" in out.summary and out.evidence["status"] == status


def test_reachable_fails_on_an_html_page():
    fact = metadata_fact(document=None, looks_like_html=True,
                         fetch=http_exchange(content_type="text/html; charset=utf-8"),
                         parse_error="HTML page")
    out = run(metadata_checks.reachable, fact)
    assert out.status is Status.FAIL and "HTML page, not metadata" in out.summary


def test_reachable_fails_on_non_xml_content():
    fact = metadata_fact(document=None, fetch=http_exchange(content_type="application/octet-stream"),
                         parse_error="not XML")
    out = run(metadata_checks.reachable, fact)
    assert out.status is Status.FAIL and "application/octet-stream" in out.summary


def test_reachable_passes_xml_body_with_an_unusual_content_type():
    out = run(metadata_checks.reachable, metadata_fact(fetch=http_exchange(content_type="text/plain")))
    assert out.status is Status.PASS


def test_reachable_fails_on_an_empty_body():
    out = run(metadata_checks.reachable, metadata_fact(document=None, fetch=http_exchange(body_bytes=0),
                                                       parse_error="empty document"))
    assert out.status is Status.FAIL and "empty body" in out.summary


def test_reachable_cannot_determine_without_exchange():
    with pytest.raises(CannotDetermine):
        run(metadata_checks.reachable, metadata_fact(fetch=None, source=METADATA_URL, source_kind="url"))


# --- metadata.well-formed ----------------------------------------------------------------------

def test_well_formed_pass():
    out = run(metadata_checks.well_formed, metadata_fact())
    assert out.status is Status.PASS
    assert f"http://{HOST}/adfs/services/trust" in out.summary and "byte-order mark" not in out.summary


def test_well_formed_pass_mentions_a_bom_as_fine():
    out = run(metadata_checks.well_formed, metadata_fact(has_bom=True))
    assert out.status is Status.PASS and "byte-order mark, which is fine" in out.summary
    assert out.evidence["has_bom"] is True


def test_well_formed_cannot_determine_when_nothing_was_read():
    fact = metadata_fact(document=None, size_bytes=None, sha256=None,
                         fetch=transport_error(ProbeErrorKind.REFUSED, "connection refused"))
    with pytest.raises(CannotDetermine) as err:
        run(metadata_checks.well_formed, fact)
    assert "refused: connection refused" in err.value.reason


@pytest.mark.parametrize("construct", ["DTD", "entity declaration", "external reference"])
def test_well_formed_fails_on_unsafe_xml(construct):
    out = run(metadata_checks.well_formed, metadata_fact(document=None, refused_construct=construct,
                                                         parse_error=f"{construct} refused"))
    assert out.status is Status.FAIL and construct in out.summary and "unsafe XML" in out.summary


def test_well_formed_fails_on_html_sign_in_page():
    out = run(metadata_checks.well_formed, metadata_fact(document=None, looks_like_html=True, parse_error="HTML"))
    assert out.status is Status.FAIL
    assert "HTML page" in out.summary and "sign-in page" in out.summary and "pre-authenticates" in out.summary


def test_well_formed_fails_with_the_parse_error():
    out = run(metadata_checks.well_formed, metadata_fact(document=None, parse_error="line 1: mismatched tag"))
    assert out.status is Status.FAIL and "line 1: mismatched tag" in out.summary


# --- metadata.signature ------------------------------------------------------------------------

def test_signature_statuses():
    signer = certificate()
    expectations = {
        SignatureStatus.VALID: Status.PASS,
        SignatureStatus.VALID_SHA1: Status.WARN,
        SignatureStatus.UNSIGNED: Status.WARN,
        SignatureStatus.INVALID: Status.FAIL,
        SignatureStatus.UNKNOWN_SIGNER: Status.FAIL,
    }
    for state, expected in expectations.items():
        doc = document(signing=[signer], sig=signature(state, signer))
        out = run(metadata_checks.signature, metadata_fact(doc))
        assert out.status is expected, state
        assert out.blocker is None
        assert set(out.evidence) >= {"status", "method", "digests", "signer_sha1", "embedded_certificate_sha1",
                                     "reason"}
        assert out.evidence["status"] == state.value


def test_signature_pass_names_the_signer_and_sha1_warns_to_use_sha256():
    signer = certificate()
    ok = run(metadata_checks.signature, metadata_fact(document(signing=[signer])))
    assert signer.sha1 in ok.summary
    weak = run(metadata_checks.signature,
               metadata_fact(document(signing=[signer], sig=signature(SignatureStatus.VALID_SHA1, signer))))
    assert "SHA-1" in weak.summary and "SHA-256" in weak.summary and "rsa-sha256" in weak.remediation
    assert weak.evidence["digests"] == ["http://www.w3.org/2000/09/xmldsig#sha1"]


def test_signature_invalid_and_unknown_signer_explain():
    signer = certificate()
    stranger = certificate("Somebody else")
    bad = run(metadata_checks.signature,
              metadata_fact(document(signing=[signer], sig=signature(SignatureStatus.INVALID, signer))))
    assert "does not verify" in bad.summary and "digest mismatch" in bad.summary
    unknown = run(metadata_checks.signature,
                  metadata_fact(document(signing=[signer], sig=signature(SignatureStatus.UNKNOWN_SIGNER, stranger))))
    assert stranger.sha1 in unknown.summary and "does not list" in unknown.summary
    assert unknown.evidence["embedded_certificate_sha1"] == stranger.sha1 and unknown.evidence["signer_sha1"] is None


# --- metadata.entity-id ------------------------------------------------------------------------

def test_entity_id_pass_with_adfs_default():
    out = run(metadata_checks.entity_id, metadata_fact())
    assert out.status is Status.PASS and f"http://{HOST}/adfs/services/trust" in out.summary


@pytest.mark.parametrize("found, hint", [
    (f"http://{HOST}/adfs/services/trust/", "trailing slash"),
    (f"https://{HOST}/adfs/services/trust", "scheme"),
    (f"http://{HOST}/ADFS/services/trust", "letter case"),  # the path is case-sensitive; the host is not
    ("http://other.contoso.com/adfs/services/trust", ""),
])
def test_entity_id_fail_names_both(found, hint):
    out = run(metadata_checks.entity_id, metadata_fact(document(entity_id=found)))
    # Only a scheme change from the default is a warning (common, works when Entra agrees).
    assert out.status is (Status.WARN if hint == "scheme" else Status.FAIL)
    assert found in out.summary and f"http://{HOST}/adfs/services/trust" in out.summary and hint in out.summary
    assert out.evidence == {"entity_id": found, "expected_issuer": f"http://{HOST}/adfs/services/trust",
                            "source": METADATA_URL}


@pytest.mark.parametrize("entity_id", [
    f"http://{HOST.upper()}/adfs/services/trust",
    f"http://{HOST.title()}/adfs/services/trust",
    f"HTTP://{HOST}/adfs/services/trust",
    f"http://{HOST}./adfs/services/trust",
    f"http://{HOST}:80/adfs/services/trust",
])
def test_entity_id_host_compares_as_dns_compares(entity_id):
    # Class 5: STS.Contoso.com is sts.contoso.com; only what follows the host is exact.
    out = run(metadata_checks.entity_id, metadata_fact(document(entity_id=entity_id)))
    assert out.status is Status.PASS, out.summary
    # Also against an expected issuer spelled with capitals.
    cfg = Settings(federation=FederationSettings(service_name=HOST, expected_issuer=f"http://{HOST.upper()}/adfs/services/trust"))
    assert run(metadata_checks.entity_id, metadata_fact(document(entity_id=entity_id)), cfg).status is Status.PASS


def test_capital_letters_in_the_metadata_host_and_the_service_name_through_the_cli(tmp_path, corpus):
    # A real AD FS document whose host is written with capitals, judged with --service-name spelled
    # exactly the same: nothing may fail "only by letter case".
    import json as _json

    from adfs_readiness.cli import main as cli_main

    text = (corpus / "metadata" / "msidentitymodel_adfs-v4-metadata.xml").read_text(encoding="utf-8")
    path = tmp_path / "FederationMetadata.xml"
    path.write_text(text.replace("fs.msidlab11.com", "FS.MsIdLab11.com"), encoding="utf-8")
    out = tmp_path / "r.json"
    cli_main(["check", "--metadata", str(path), "--service-name", "FS.MsIdLab11.com", "--as-of", "2017-06-01",
              "--json", str(out), "-q"])
    found = {f["check_id"]: f for f in _json.loads(out.read_text())["findings"]}
    assert found["metadata.entity-id"]["status"] == "pass", found["metadata.entity-id"]["summary"]
    assert found["metadata.endpoints"]["status"] == "pass", found["metadata.endpoints"]["summary"]
    assert not any("letter case" in f["summary"] for f in found.values())


def test_entity_id_configured_issuer_wins():
    custom = "https://sts.contoso.com/adfs/services/trust"
    cfg = Settings(federation=FederationSettings(service_name=HOST, expected_issuer=custom))
    assert run(metadata_checks.entity_id, metadata_fact(document(entity_id=custom)), cfg).status is Status.PASS
    assert run(metadata_checks.entity_id, metadata_fact(), cfg).status is Status.FAIL


def test_entity_id_info_without_expectation():
    out = run(metadata_checks.entity_id, metadata_fact(), Settings())
    assert out.status is Status.INFO and f"http://{HOST}/adfs/services/trust" in out.summary


def test_entity_id_on_real_files(corpus):
    ucar = corpus_document(corpus / "metadata" / "ucar_adfs_FederationMetadata_2017.xml")
    # This farm changed its identifier to https: a warning against the default expectation...
    out = run(metadata_checks.entity_id, metadata_fact(ucar), for_service("sts.ucar.edu"))
    assert out.status is Status.WARN and "IssuerUri" in out.summary
    # ...and a failure against a configured one that differs.
    cfg_http = for_service("sts.ucar.edu", expected_issuer="http://sts.ucar.edu/adfs/services/trust")
    assert run(metadata_checks.entity_id, metadata_fact(ucar), cfg_http).status is Status.FAIL
    cfg = for_service("sts.ucar.edu", expected_issuer="https://sts.ucar.edu/adfs/services/trust")
    assert run(metadata_checks.entity_id, metadata_fact(ucar), cfg).status is Status.PASS
    v4 = corpus_document(corpus / "metadata" / "msidentitymodel_adfs-v4-metadata.xml")
    assert run(metadata_checks.entity_id, metadata_fact(v4), for_service("fs.msidlab11.com")).status \
        is Status.PASS


# --- metadata.valid-until ----------------------------------------------------------------------

def test_valid_until_absent_is_pass():
    out = run(metadata_checks.valid_until, metadata_fact())
    assert out.status is Status.PASS and "no validUntil" in out.summary
    assert out.evidence["valid_until"] is None and out.evidence["cache_duration"] is None


def test_valid_until_future_pass_with_days_and_cache_duration():
    until = FIXED_NOW + timedelta(days=30, hours=2)
    out = run(metadata_checks.valid_until, metadata_fact(document(valid_until=until, valid_until_raw=until.isoformat(),
                                                                  cache_duration="PT1H")))
    assert out.status is Status.PASS and "30 day(s) left" in out.summary and "PT1H" in out.summary
    assert out.evidence["days_left"] == 30 and out.evidence["cache_duration"] == "PT1H"


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(days=-3)])
def test_valid_until_past_fails(delta):
    until = FIXED_NOW + delta
    out = run(metadata_checks.valid_until, metadata_fact(document(valid_until=until, valid_until_raw=until.isoformat())))
    assert out.status is Status.FAIL and until.isoformat() in out.summary


def test_valid_until_one_second_ahead_passes():
    until = FIXED_NOW + timedelta(seconds=1)
    out = run(metadata_checks.valid_until, metadata_fact(document(valid_until=until, valid_until_raw="x")))
    assert out.status is Status.PASS and "0 day(s) left" in out.summary


def test_valid_until_unparseable_warns():
    out = run(metadata_checks.valid_until, metadata_fact(document(valid_until_raw="next tuesday")))
    assert out.status is Status.WARN and "next tuesday" in out.summary


# --- metadata.endpoints ------------------------------------------------------------------------

def test_endpoints_pass():
    out = run(metadata_checks.endpoints, metadata_fact())
    assert out.status is Status.PASS and f"on {HOST}" in out.summary
    assert out.evidence["passive_endpoints"] == [f"https://{HOST}/adfs/ls/"]
    assert out.evidence["sso_endpoints"] == [{"binding": REDIRECT, "location": f"https://{HOST}/adfs/ls/"},
                                             {"binding": POST, "location": f"https://{HOST}/adfs/ls/"}]
    assert out.evidence["problems"] == []


def test_endpoints_host_is_case_insensitive():
    cert = certificate()
    doc = document(roles=[sts_role([cert], host="STS.Contoso.COM"), idp_role([cert], host="STS.Contoso.COM")])
    assert run(metadata_checks.endpoints, metadata_fact(doc)).status is Status.PASS


def test_endpoints_fail_when_sso_missing_or_only_artifact():
    cert = certificate()
    doc = document(roles=[sts_role([cert]), idp_role([cert], sso=[("urn:oasis:names:tc:SAML:2.0:bindings:"
                                                                   "HTTP-Artifact", f"https://{HOST}/adfs/ls/")])])
    out = run(metadata_checks.endpoints, metadata_fact(doc))
    assert out.status is Status.FAIL and out.blocker is None
    assert "no SAML SingleSignOnService" in out.summary


def test_endpoints_fail_when_passive_missing():
    cert = certificate()
    doc = document(roles=[sts_role([cert], passive=None), idp_role([cert])])
    out = run(metadata_checks.endpoints, metadata_fact(doc))
    assert out.status is Status.FAIL and "no WS-Federation PassiveRequestorEndpoint" in out.summary


def test_endpoints_fail_lists_each_http_and_wrong_host_endpoint():
    cert = certificate()
    doc = document(roles=[sts_role([cert], passive=f"http://{HOST}/adfs/ls/"),
                          idp_role([cert], sso=[(REDIRECT, "https://adfs01.corp.contoso.com/adfs/ls/"),
                                                (POST, f"https://{HOST}/adfs/ls/")])])
    out = run(metadata_checks.endpoints, metadata_fact(doc))
    assert out.status is Status.FAIL
    assert out.evidence["problems"] == [
        f"SingleSignOnService HTTP-Redirect https://adfs01.corp.contoso.com/adfs/ls/ is on host "
        f"adfs01.corp.contoso.com, not {HOST}",
        f"PassiveRequestorEndpoint http://{HOST}/adfs/ls/ is not https",
    ]


def test_endpoints_without_service_name_check_presence_and_https_only():
    cert = certificate()
    doc = document(roles=[sts_role([cert], host="partner.example"), idp_role([cert], host="partner.example")])
    out = run(metadata_checks.endpoints, metadata_fact(doc), Settings())
    assert out.status is Status.PASS and "host not compared" in out.summary
    doc = document(roles=[sts_role([cert], passive="http://partner.example/adfs/ls/"), idp_role([cert])])
    assert run(metadata_checks.endpoints, metadata_fact(doc), Settings()).status is Status.FAIL


# --- metadata.consistency ----------------------------------------------------------------------

def test_consistency_pass():
    cert = certificate()
    out = run(metadata_checks.consistency, metadata_fact(document(signing=[cert])))
    assert out.status is Status.PASS and cert.sha1 in out.summary


def test_consistency_warn_lists_both_sets():
    a, b = certificate("A"), certificate("B")
    doc = document(roles=[sts_role([a, b]), idp_role([a])])
    out = run(metadata_checks.consistency, metadata_fact(doc))
    assert out.status is Status.WARN
    assert a.sha1 in out.summary and b.sha1 in out.summary
    assert out.evidence["only_in_sts"] == [b.sha1] and out.evidence["only_in_idpsso"] == []


def test_consistency_warn_when_a_role_has_no_signing_key():
    a = certificate("A")
    doc = document(roles=[sts_role([a]), idp_role([])])
    out = run(metadata_checks.consistency, metadata_fact(doc))
    assert out.status is Status.WARN and "none" in out.summary


def test_consistency_info_with_one_role_and_skip_with_none():
    a = certificate("A")
    out = run(metadata_checks.consistency, metadata_fact(document(roles=[sts_role([a])])))
    assert out.status is Status.INFO and "STS RoleDescriptor" in out.summary
    out = run(metadata_checks.consistency, metadata_fact(document(roles=[app_service_role([a])])))
    assert out.status is Status.SKIP


# --- metadata.claims-offered -------------------------------------------------------------------

def test_claims_pass_without_immutable_id_as_adfs_publishes():
    out = run(metadata_checks.claims_offered, metadata_fact())
    assert out.status is Status.PASS and UPN in out.summary and "ImmutableID is not listed" in out.summary
    assert out.evidence["upn_claim"] == UPN and out.evidence["immutable_id_offered"] is False
    assert out.evidence["nameid_formats"] == list(NAMEID_FORMATS)


def test_claims_pass_with_legacy_upn_and_immutable_id():
    cert = certificate()
    doc = document(roles=[sts_role([cert], claims=["http://schemas.xmlsoap.org/claims/UPN", IMMUTABLE_ID]),
                          idp_role([cert])])
    out = run(metadata_checks.claims_offered, metadata_fact(doc))
    assert out.status is Status.PASS and "ImmutableID is offered" in out.summary
    assert out.evidence["immutable_id_offered"] is True


def test_claims_warn_without_upn():
    cert = certificate()
    doc = document(roles=[sts_role([cert], claims=[IMMUTABLE_ID]), idp_role([cert])])
    out = run(metadata_checks.claims_offered, metadata_fact(doc))
    assert out.status is Status.WARN and "No UPN claim type" in out.summary


def test_claims_skip_without_sts_role():
    cert = certificate()
    out = run(metadata_checks.claims_offered, metadata_fact(document(roles=[idp_role([cert])])))
    assert out.status is Status.SKIP


# --- real AD FS metadata -----------------------------------------------------------------------

@pytest.mark.parametrize("name, host", sorted(ADFS_CORPUS.items()))
def test_real_adfs_metadata_passes_the_shape_checks(corpus, name, host):
    fact = metadata_fact(corpus_document(corpus / "metadata" / name))
    cfg = for_service(host)
    for chk in (metadata_checks.valid_until, metadata_checks.endpoints, metadata_checks.consistency,
                metadata_checks.claims_offered):
        out = run(chk, fact, cfg)
        assert out.status is Status.PASS, (chk.id, out.summary)


def test_real_adfs_metadata_has_nameid_formats_in_evidence(corpus):
    fact = metadata_fact(corpus_document(corpus / "metadata" / "rcsj_dev_adfs_FederationMetadata_2023.xml"))
    out = run(metadata_checks.claims_offered, fact, for_service("d-sts.devrcsj.com"))
    assert "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" in out.evidence["nameid_formats"]


def test_entra_metadata_offers_no_upn_claim(corpus):
    fact = metadata_fact(corpus_document(corpus / "metadata" / "ckanadfs_AzureAD_FederationMetadata_new.xml"),
                         has_bom=True)
    assert run(metadata_checks.claims_offered, fact, Settings()).status is Status.WARN
    out = run(metadata_checks.entity_id, fact, Settings())
    assert out.status is Status.INFO and "https://sts.windows.net/03159e92" in out.summary
    assert run(metadata_checks.endpoints, fact, Settings()).status is Status.PASS


# --- end to end with the real metadata parser ---------------------------------------------------

#: Expected statuses of every check on each corpus file as parsed and verified by the metadata
#: probe (judged at FIXED_NOW without a configured service name; see tests/corpus/SOURCES.md).
_CORPUS_EXPECTED = {
    "ckanadfs_AzureAD_FederationMetadata_new.xml": dict(signature="warn", claims="warn", rollover="warn",
                                                        key=["warn", "pass"], decrypting="skip"),
    "ckanadfs_AzureAD_FederationMetadata_old.xml": dict(signature="pass", claims="warn", rollover="warn",
                                                        key=["warn", "pass"], decrypting="skip"),
    "msidentitymodel_MicrosoftOnline-SP-metadata.xml": dict(signature="warn", claims="skip", rollover="warn",
                                                            key=["warn", "pass"], decrypting="skip"),
    "sustainsys_ReadEntityDescriptor_ADFS.xml": dict(signature="fail"),
}


# The files issue 11 added are judged, every check, in tests/test_corpus_real_world.py.
_ISSUE11_CORPUS = {"jmfixit_entra_three_signing_certs_2017.xml", "mathivanan_entra_app_edited_after_signing.xml",
                   "yamabass_adfs_maclog_2020.xml", "yoda_adfs_maybank_truncated.xml",
                   "inumidun_adfs_cecurepractice_2024.xml", "leejeffreys_adfs_melco_2018.xml",
                   "luisifhy_okta_rsa_sha1.xml", "mlaitechio_adfs_adityabirla_2021.xml",
                   "nadeemkhan_adfs_testad_local_2019.xml", "swapnilmalap_rp_ip_host_unsigned.xml",
                   "tmschbgr_ofis_unsigned_sha1.xml", "msidentitymodel_shibboleth_idp-metadata.xml"}


@pytest.mark.parametrize("path", sorted(p for p in (CORPUS / "metadata").glob("*.xml") if p.name not in _ISSUE11_CORPUS),
                         ids=lambda p: p.name)
def test_checks_on_parsed_corpus_files(path):
    from adfs_readiness.probes.metadata_parser import read_metadata_file

    fact = read_metadata_file(path, 10_000_000)
    expected = {"signature": "pass", "claims": "pass", "rollover": "warn", "key": ["pass"], "decrypting": "fail",
                **_CORPUS_EXPECTED.get(path.name, {})}
    cfg = Settings()
    assert run(metadata_checks.reachable, fact, cfg).status is Status.SKIP
    well_formed = run(metadata_checks.well_formed, fact, cfg)
    assert well_formed.status is Status.PASS
    assert ("byte-order mark" in well_formed.summary) is path.name.startswith("ckanadfs")
    assert run(metadata_checks.signature, fact, cfg).status.value == expected["signature"]
    assert run(metadata_checks.valid_until, fact, cfg).status is Status.PASS
    assert run(metadata_checks.entity_id, fact, cfg).status is Status.INFO
    assert run(metadata_checks.claims_offered, fact, cfg).status.value == expected["claims"]
    expiry = run(token_checks.token_signing_expiry, fact, cfg)
    assert expiry.status is Status.FAIL and expiry.blocker is True  # every corpus certificate has expired
    assert [o.status.value for o in run(token_checks.token_signing_key, fact, cfg)] == expected["key"]
    assert run(token_checks.token_signing_rollover, fact, cfg).status.value == expected["rollover"]
    assert run(token_checks.token_decrypting_expiry, fact, cfg).status.value == expected["decrypting"]
    if path.name in ADFS_CORPUS:
        host_cfg = for_service(ADFS_CORPUS[path.name])
        for chk in (metadata_checks.endpoints, metadata_checks.consistency):
            assert run(chk, fact, host_cfg).status is Status.PASS, chk.id


@pytest.mark.parametrize("placeholder", ["", "MIIC...REPLACE_WITH_THE_SIGNING_CERTIFICATE...", "{{ cert }}",
                                         "<!-- base64 -->"])
def test_placeholder_certificate_text_is_unreadable_never_a_thumbprint(tmp_path, corpus, placeholder):
    # Class 6: a real AD FS document whose token-signing certificate text was replaced by a template
    # placeholder everywhere (both roles and the signature's KeyInfo).
    import json as _json
    import re as _re
    import hashlib as _hashlib

    from adfs_readiness.cli import main as cli_main

    text = (corpus / "metadata" / "msidentitymodel_adfs-v4-metadata.xml").read_text(encoding="utf-8")
    signing = _re.search(r'<KeyDescriptor use="signing">.*?<X509Certificate>([^<]+)</X509Certificate>', text).group(1)
    path = tmp_path / "FederationMetadata.xml"
    path.write_text(text.replace(signing, placeholder.replace("<", "&lt;").replace(">", "&gt;")), encoding="utf-8")
    out = tmp_path / "r.json"
    cli_main(["check", "--metadata", str(path), "--as-of", "2017-06-01", "--json", str(out), "-q"])
    doc = _json.loads(out.read_text())
    found = {f["check_id"]: f for f in doc["findings"]}
    empty_sha1 = _hashlib.sha1(b"").hexdigest().upper()
    assert empty_sha1 not in out.read_text()
    key = found["token-signing.key"]
    assert key["status"] == "error" and "could not be decoded" in key["summary"] and "no thumbprint" in key["summary"]
    assert key["target"] is None
    signature = found["metadata.signature"]
    assert signature["status"] == "error" and "cannot be checked" in signature["summary"]
    assert "changed after" not in signature["summary"].split("This says nothing")[0]
    assert found["metadata.consistency"]["status"] == "info"
    assert found["token-signing.expiry"]["status"] == "error"
    assert all(c["sha1"] for c in doc["certificates"])


def test_a_signature_by_a_certificate_not_listed_first_warns():
    # Class 7, generated: two listed signing certificates, signed by the second (or third).
    first, second, third = certificate("First"), certificate("Second"), certificate("Third")
    for signer, place in ((second, "listed second"), (third, "listed third")):
        out = run(metadata_checks.signature,
                  metadata_fact(document(signing=[first, second, third], sig=signature(SignatureStatus.VALID, signer))))
        assert out.status is Status.WARN and place in out.summary and signer.sha1 in out.summary
        assert "first listed certificate" in out.summary and first.sha1 in out.summary
    same = run(metadata_checks.signature,
               metadata_fact(document(signing=[first, second], sig=signature(SignatureStatus.VALID, first))))
    assert same.status is Status.PASS


def test_real_entra_metadata_after_a_rollover_is_signed_by_the_second_listed_certificate(corpus):
    # Class 7, real: Entra's metadata after a signing-key rollover lists 92B88C... first and is
    # signed by 3270BF... (xmlsec1 verifies it with 3270BF..., see tests/corpus/SOURCES.md).
    new = corpus_document(corpus / "metadata" / "ckanadfs_AzureAD_FederationMetadata_new.xml", SignatureStatus.VALID)
    real = read_corpus_fact(corpus / "metadata" / "ckanadfs_AzureAD_FederationMetadata_new.xml")
    out = run(metadata_checks.signature, real)
    assert out.status is Status.WARN and out.evidence["signer_position"] == 2
    assert out.evidence["signer_sha1"] == "3270BF5597004DF339A4E62224731B6BD82810A6"
    old = run(metadata_checks.signature, read_corpus_fact(corpus / "metadata" / "ckanadfs_AzureAD_FederationMetadata_old.xml"))
    assert old.status is Status.PASS and new is not None


def read_corpus_fact(path):
    from adfs_readiness.probes.metadata_parser import read_metadata_file

    return read_metadata_file(path, 10 * 1024 * 1024)
