"""Tests of token-signing.* and token-decrypting.expiry (checks/token_certificates.py)."""

from __future__ import annotations

import pytest
from conftest import FIXED_NOW
from factories import (
    HOST,
    app_service_role,
    certificate,
    corpus_document,
    document,
    idp_role,
    metadata_fact,
    signature,
    sts_role,
    undecodable_certificate,
)

import adfs_readiness_checks.token_certificates as token_checks
from adfs_readiness.api import CannotDetermine, Check, CheckContext, Status
from adfs_readiness.facts import METADATA_FACT, SignatureStatus
from adfs_readiness.settings import FederationSettings, Settings, Thresholds


def for_service(name: str | None, **federation) -> Settings:
    """Settings naming the federation service (and other [federation] keys)."""
    return Settings(federation=FederationSettings(service_name=name, **federation))


def run(chk: Check, fact, config: Settings | None = None):
    ctx = CheckContext(facts={METADATA_FACT: fact}, config=config or for_service(HOST), now=FIXED_NOW)
    return chk.function(ctx)


def signing_fact(*certs, signer=None, status=SignatureStatus.VALID, encryption=None):
    """AD FS metadata listing ``certs`` as token-signing certificates (in that order), signed by
    ``signer`` (default: the first)."""
    signer = signer if signer is not None else (certs[0] if certs else None)
    return metadata_fact(document(signing=list(certs), encryption=encryption, sig=signature(status, signer)))


# --- token-signing.expiry ----------------------------------------------------------------------

@pytest.mark.parametrize("valid_days, status, blocker, phrase", [
    (365, Status.PASS, None, "expires in 365 days"),
    (90, Status.PASS, None, "expires in 90 days"),
    (89.99, Status.WARN, None, "expires in 89 days"),
    (14, Status.WARN, None, "expires in 14 days"),
    (13.99, Status.FAIL, False, "expires in 13 days"),
    (0.5, Status.FAIL, False, "expires within a day"),
    (-0.5, Status.FAIL, True, "expired today"),
    (-30, Status.FAIL, True, "expired 30 days ago"),
])
def test_signing_expiry_thresholds(valid_days, status, blocker, phrase):
    cert = certificate(valid_days=valid_days)
    out = run(token_checks.token_signing_expiry, signing_fact(cert))
    assert out.status is status
    assert out.blocker is blocker
    assert phrase in out.summary and cert.sha1 in out.summary and f"ADFS Signing - {HOST}" in out.summary
    assert out.target == cert.sha1
    ev = out.evidence["certificate"]
    assert ev["sha1"] == cert.sha1 and ev["not_after"] == cert.not_after.isoformat()
    assert ev["subject"] == f"CN=ADFS Signing - {HOST}"
    assert out.evidence["source"].startswith("https://")


def test_signing_expiry_exactly_now_is_expired_and_blocking():
    cert = certificate(valid_days=0)
    out = run(token_checks.token_signing_expiry, signing_fact(cert))
    assert out.status is Status.FAIL and out.blocker is True


@pytest.mark.parametrize("starts_in_days", [0.01, 3, 400])
def test_a_primary_token_signing_certificate_not_yet_valid_is_a_blocking_failure(starts_in_days):
    # notBefore in the future, whatever the days left: relying parties reject it until then.
    cert = certificate(valid_days=starts_in_days + 365, lifetime_days=365)
    out = run(token_checks.token_signing_expiry, signing_fact(cert))
    assert out.status is Status.FAIL and out.blocker is True
    assert "is not valid before" in out.summary and cert.not_before.isoformat() in out.summary
    # The same for the token-decrypting certificate, which never blocks Microsoft 365 sign-in.
    other = certificate(f"ADFS Encryption - {HOST}", valid_days=starts_in_days + 365, lifetime_days=365)
    out = run(token_checks.token_decrypting_expiry, signing_fact(certificate(), encryption=[other]))
    assert out.status is Status.FAIL and out.blocker is False and "is not valid before" in out.summary


def test_signing_expiry_uses_configured_thresholds():
    cfg = for_service(HOST).with_changes(thresholds=Thresholds(token_signing_fail_days=30, token_signing_warn_days=120))
    assert run(token_checks.token_signing_expiry, signing_fact(certificate(valid_days=100)), cfg).status is Status.WARN
    assert run(token_checks.token_signing_expiry, signing_fact(certificate(valid_days=29.5)), cfg).status \
        is Status.FAIL


def test_signing_expiry_primary_is_the_signer_and_others_are_reported():
    old = certificate("ADFS Signing - old", valid_days=3)
    new = certificate("ADFS Signing - new", valid_days=365)
    # After promotion AD FS signs with the new certificate even if the old one is listed first.
    out = run(token_checks.token_signing_expiry, signing_fact(old, new, signer=new))
    assert out.status is Status.PASS and new.sha1 in out.summary
    assert out.evidence["primary_selected_by"] == "signed the metadata"
    others = out.evidence["other_certificates"]
    assert [o["sha1"] for o in others] == [old.sha1] and others[0]["days_left"] == 3


def test_signing_expiry_falls_back_to_first_listed_when_unsigned():
    first = certificate("first", valid_days=10)
    second = certificate("second", valid_days=300)
    out = run(token_checks.token_signing_expiry, signing_fact(first, second, status=SignatureStatus.UNSIGNED))
    assert out.status is Status.FAIL and first.sha1 in out.summary
    assert out.evidence["primary_selected_by"] == "listed first"


def test_signing_expiry_ignores_an_unknown_signer():
    listed = certificate("listed", valid_days=200)
    stranger = certificate("stranger", valid_days=5)
    fact = metadata_fact(document(signing=[listed], sig=signature(SignatureStatus.UNKNOWN_SIGNER, stranger)))
    out = run(token_checks.token_signing_expiry, fact)
    assert out.status is Status.PASS and listed.sha1 in out.summary


def test_signing_expiry_cannot_determine_for_undecodable_or_missing_certificates():
    broken = undecodable_certificate()
    with pytest.raises(CannotDetermine) as err:
        run(token_checks.token_signing_expiry, signing_fact(broken, status=SignatureStatus.UNSIGNED))
    assert broken.sha1 in err.value.reason and "truncated DER" in err.value.reason
    with pytest.raises(CannotDetermine) as err:
        run(token_checks.token_signing_expiry, metadata_fact(document(signing=[], sig=signature(
            SignatureStatus.UNSIGNED))))
    assert "no signing certificate" in err.value.reason


def test_signing_expiry_on_real_expired_adfs_metadata(corpus):
    doc = corpus_document(corpus / "metadata" / "msidentitymodel_adfs-v4-metadata.xml")
    out = run(token_checks.token_signing_expiry, metadata_fact(doc), for_service("fs.msidlab11.com"))
    assert out.status is Status.FAIL and out.blocker is True
    assert "D5FE73910389B58BBB3B0EBB87FDF110FF79FEBB" in out.summary
    assert out.evidence["certificate"]["not_after"] == "2018-01-23T21:28:39+00:00"


def test_signing_expiry_real_rollover_picks_the_signer(corpus):
    doc = corpus_document(corpus / "metadata" / "ckanadfs_AzureAD_FederationMetadata_new.xml")
    out = run(token_checks.token_signing_expiry, metadata_fact(doc), Settings())
    assert out.target == "3270BF5597004DF339A4E62224731B6BD82810A6"  # listed second, but it signed
    assert [o["sha1"] for o in out.evidence["other_certificates"]] == ["92B88C3DD981BF1EBCB244FCFA63C007706C79E0"]


# --- token-signing.key -------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, status, phrase", [
    ({}, Status.PASS, "an RSA 2048-bit key"),
    ({"key_bits": 4096}, Status.PASS, "RSA 4096-bit"),
    ({"key_bits": 2047}, Status.FAIL, "below the 2048-bit minimum"),
    ({"key_bits": 1024}, Status.FAIL, "RSA 1024-bit"),
    ({"signature_hash": "sha1"}, Status.WARN, "SHA1"),
    ({"signature_hash": "md5"}, Status.WARN, "MD5"),
    ({"key_type": "EC", "key_bits": 256}, Status.WARN, "an EC 256-bit key"),
])
def test_signing_key(overrides, status, phrase):
    cert = certificate(**overrides)
    outs = run(token_checks.token_signing_key, signing_fact(cert))
    assert len(outs) == 1
    out = outs[0]
    assert out.status is status and phrase in out.summary and cert.sha1 in out.summary
    assert out.target == cert.sha1 and out.evidence["min_rsa_bits"] == 2048 and out.evidence["role"] == "primary"


def test_signing_key_one_outcome_per_certificate_and_configurable_minimum():
    a = certificate("a", key_bits=3072)
    b = certificate("b", key_bits=2048, valid_days=400)
    cfg = for_service(HOST).with_changes(thresholds=Thresholds(min_rsa_bits=3072))
    outs = run(token_checks.token_signing_key, signing_fact(a, b), cfg)
    assert [(o.target, o.status) for o in outs] == [(a.sha1, Status.PASS), (b.sha1, Status.FAIL)]
    assert [o.evidence["role"] for o in outs] == ["primary", "other"]


def test_signing_key_error_for_undecodable_certificate():
    good, broken = certificate(), undecodable_certificate()
    outs = run(token_checks.token_signing_key, signing_fact(good, broken))
    assert [o.status for o in outs] == [Status.PASS, Status.ERROR]
    assert "could not be decoded" in outs[1].summary and outs[1].target == broken.sha1


def test_signing_key_on_real_entra_metadata_warns_for_sha1(corpus):
    doc = corpus_document(corpus / "metadata" / "ckanadfs_AzureAD_FederationMetadata_old.xml")
    outs = run(token_checks.token_signing_key, metadata_fact(doc), Settings())
    by_target = {o.target: o for o in outs}
    assert by_target["92B88C3DD981BF1EBCB244FCFA63C007706C79E0"].status is Status.WARN  # sha1WithRSA, negative serial
    assert by_target["3270BF5597004DF339A4E62224731B6BD82810A6"].status is Status.PASS


# --- token-signing.rollover --------------------------------------------------------------------

def test_rollover_single_certificate_with_time_is_pass():
    cert = certificate(valid_days=20)
    out = run(token_checks.token_signing_rollover, signing_fact(cert))
    assert out.status is Status.PASS and "expires in 20 days" in out.summary and cert.sha1 in out.summary


def test_rollover_single_certificate_close_to_expiry_warns():
    cert = certificate(valid_days=19.99)
    out = run(token_checks.token_signing_rollover, signing_fact(cert))
    assert out.status is Status.WARN and out.blocker is None
    assert "expires in 19 days" in out.summary and "no successor" in out.summary and cert.sha1 in out.summary
    assert out.evidence["rollover_warn_days"] == 20 and out.evidence["successors"] == []


def test_rollover_expired_without_successor_warns():
    out = run(token_checks.token_signing_rollover, signing_fact(certificate(valid_days=-2)))
    assert out.status is Status.WARN and "expired 2 days ago" in out.summary


def test_rollover_in_progress_reports_primary_and_successor():
    primary = certificate("ADFS Signing - current", valid_days=12)
    successor = certificate("ADFS Signing - next", valid_days=377, lifetime_days=385)
    out = run(token_checks.token_signing_rollover, signing_fact(primary, successor))
    assert out.status is Status.INFO and "rollover in progress" in out.summary
    assert primary.sha1 in out.summary and successor.sha1 in out.summary
    assert "valid from 2026-11-22" in out.summary
    assert out.evidence["primary"]["sha1"] == primary.sha1
    assert [s["sha1"] for s in out.evidence["successors"]] == [successor.sha1]


def test_rollover_reports_a_successor_not_yet_valid():
    primary = certificate("current", valid_days=200)
    successor = certificate("next", valid_days=600, lifetime_days=365)
    out = run(token_checks.token_signing_rollover, signing_fact(primary, successor))
    assert out.status is Status.INFO and "not valid before" in out.summary


def test_rollover_after_promotion_reports_previous_certificate():
    old = certificate("ADFS Signing - old", valid_days=10)
    new = certificate("ADFS Signing - new", valid_days=360)
    out = run(token_checks.token_signing_rollover, signing_fact(old, new, signer=new))
    # After promotion the old certificate is merely still listed: no rollover is due.
    assert out.status is Status.PASS
    assert old.label in out.summary and out.evidence["previous"][0]["sha1"] == old.sha1
    assert out.evidence["primary_selected_by"] == "signed the metadata"


def test_rollover_only_older_certificates_and_primary_close_to_expiry_warns():
    stale = certificate("stale", valid_days=-40)
    current = certificate("current", valid_days=5)
    out = run(token_checks.token_signing_rollover, signing_fact(stale, current, signer=current))
    assert out.status is Status.WARN and current.sha1 in out.summary


def test_rollover_cannot_determine_with_undecodable_primary():
    with pytest.raises(CannotDetermine):
        run(token_checks.token_signing_rollover, signing_fact(undecodable_certificate(),
                                                              status=SignatureStatus.UNSIGNED))


# --- token-decrypting.expiry -------------------------------------------------------------------

@pytest.mark.parametrize("valid_days, status", [
    (90, Status.PASS), (89.99, Status.WARN), (14, Status.WARN), (13.99, Status.FAIL), (-1, Status.FAIL),
])
def test_decrypting_expiry_thresholds_never_block(valid_days, status):
    enc = certificate(f"ADFS Encryption - {HOST}", valid_days=valid_days)
    out = run(token_checks.token_decrypting_expiry, signing_fact(certificate(), encryption=[enc]))
    assert out.status is status
    assert out.blocker in (None, False)
    assert enc.sha1 in out.summary and out.target == enc.sha1
    assert out.evidence["certificate"]["sha1"] == enc.sha1


def test_decrypting_expiry_uses_its_own_thresholds():
    cfg = for_service(HOST).with_changes(thresholds=Thresholds(token_decrypting_fail_days=5,
                                                               token_decrypting_warn_days=10))
    enc = certificate("enc", valid_days=12)
    assert run(token_checks.token_decrypting_expiry, signing_fact(certificate(), encryption=[enc]), cfg).status \
        is Status.PASS
    # the signing thresholds are untouched by it
    assert run(token_checks.token_signing_expiry, signing_fact(certificate(valid_days=12)), cfg).status is Status.FAIL


def test_decrypting_expiry_skips_without_encryption_certificate():
    cert = certificate()
    doc = document(roles=[sts_role([cert]), idp_role([cert])])
    out = run(token_checks.token_decrypting_expiry, metadata_fact(doc))
    assert out.status is Status.SKIP and "no token-decrypting" in out.summary


def test_decrypting_expiry_reports_other_encryption_certificates():
    first, second = certificate("enc1", valid_days=100), certificate("enc2", valid_days=400)
    doc = document(roles=[app_service_role([first, second]), sts_role([certificate()])])
    out = run(token_checks.token_decrypting_expiry, metadata_fact(doc))
    assert out.target == first.sha1
    assert [o["sha1"] for o in out.evidence["other_certificates"]] == [second.sha1]


def test_decrypting_expiry_on_real_metadata(corpus):
    doc = corpus_document(corpus / "metadata" / "rcsj_dev_adfs_FederationMetadata_2023.xml")
    out = run(token_checks.token_decrypting_expiry, metadata_fact(doc), for_service("d-sts.devrcsj.com"))
    assert out.status is Status.FAIL and out.blocker is False
    assert out.target == "4D2F39D4D64FE750498F6FD12B8CD8C033A85069"


def test_rollover_with_only_expired_others_is_not_in_progress():
    # Regression: two long-expired certificates were reported as "rollover in progress".
    primary = certificate("primary", valid_days=200)
    expired_later = certificate("expired", valid_days=-30, lifetime_days=365)
    out = run(token_checks.token_signing_rollover, signing_fact(primary, expired_later, signer=primary))
    assert out.status is Status.PASS and out.evidence["successors"] == []


def test_expiry_with_published_successor_is_info_not_warning():
    primary = certificate("ADFS Signing - old", valid_days=18)
    successor = certificate("ADFS Signing - new", valid_days=360)
    out = run(token_checks.token_signing_expiry, signing_fact(primary, successor, signer=primary))
    assert out.status is Status.INFO and successor.label in out.summary
    assert out.evidence["successor"]["sha1"] == successor.sha1
    assert "nextSigningCertificate" in out.remediation


def test_expiry_below_fail_days_with_unpromoted_successor_fails_with_promotion_advice():
    primary = certificate("ADFS Signing - old", valid_days=10)
    successor = certificate("ADFS Signing - new", valid_days=360)
    out = run(token_checks.token_signing_expiry, signing_fact(primary, successor, signer=primary))
    assert out.status is Status.FAIL and out.blocker is False
    assert "Set-AdfsCertificate -IsPrimary" in out.remediation


def test_expiry_with_expired_other_certificate_still_warns():
    primary = certificate("primary", valid_days=60)
    stale = certificate("stale", valid_days=-400)
    out = run(token_checks.token_signing_expiry, signing_fact(primary, stale, signer=primary))
    assert out.status is Status.WARN and "no successor" in out.summary


def _export_with(auto: bool, generation: int = 20):
    from adfs_readiness.facts.adfs_export import AdfsExport, AdfsProperties

    return AdfsExport(configured=True, properties=AdfsProperties(
        auto_certificate_rollover=auto, certificate_generation_threshold=generation, certificate_promotion_threshold=5))


@pytest.mark.parametrize("auto, days, expected", [(True, 60, Status.INFO), (False, 60, Status.WARN),
                                                  (True, 19, Status.WARN), (None, 60, Status.WARN)])
def test_auto_rollover_in_the_adfs_export_makes_no_successor_yet_normal(auto, days, expected):
    from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT

    primary = certificate("ADFS Signing", valid_days=days)
    fact = signing_fact(primary, signer=primary)
    facts = {METADATA_FACT: fact}
    if auto is not None:
        facts[ADFS_EXPORT_FACT] = _export_with(auto)
    out = token_checks.token_signing_expiry.function(CheckContext(facts=facts, config=Settings(), now=FIXED_NOW))
    assert out.status is expected, out.summary
    if expected is Status.INFO:
        assert "AutoCertificateRollover on" in out.summary and out.evidence["adfs_export"]["AutoCertificateRollover"]


def test_expired_token_signing_remediation_is_urgent_and_pushes_to_entra():
    primary = certificate("ADFS Signing", valid_days=-3)
    out = run(token_checks.token_signing_expiry, signing_fact(primary, signer=primary))
    assert out.status is Status.FAIL and out.blocker is True
    assert "-Urgent" in out.remediation and "Update-MgDomainFederationConfiguration -SigningCertificate" in out.remediation


@pytest.mark.parametrize("hours_ago, words, days", [(3 * 24 + 2, "expired 3 days ago", -3), (24 + 1, "expired 1 day ago", -1),
                                                    (2, "expired today", 0)])
def test_expired_days_are_counted_as_people_count_them(hours_ago, words, days):
    """Regression: a certificate that expired 3 days and 2 hours ago read "expired 4 days ago"."""
    primary = certificate("ADFS Signing", valid_days=-hours_ago / 24)
    out = run(token_checks.token_signing_expiry, signing_fact(primary, signer=primary))
    assert words in out.summary and out.evidence["certificate"]["days_left"] == days
