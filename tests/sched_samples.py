"""Shared samples of the scheduling tests: a run with certificates in its facts and an accepted
risk, built on report_samples.sample_result (NOT_READY, fixed clock 2026-11-30 12:00 UTC)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from report_samples import FS, SIGNING_SHA1, sample_result

from adfs_readiness.api import days_left
from adfs_readiness.calendar import CalendarEntry
from adfs_readiness.model import AcceptedRisk, Status

DECRYPT_SHA1 = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
SUCCESSOR_SHA1 = "0F1E2D3C4B5A69788796A5B4C3D2E1F001234567"
TLS_SHA1 = "BEEF00112233445566778899AABBCCDDEEFF0011"


def cert(sha1: str, subject: str, not_after: str) -> dict:
    return {"sha1": sha1, "subject": subject, "not_after": not_after, "der_b64": "AA=="}


def facts_with_certificates() -> dict:
    """The metadata fact's JSON form with two signing certificates and one decrypting, plus a
    TLS chain under fetch.tls (a leaf)."""
    return {
        "metadata": {
            "source": f"https://{FS}/FederationMetadata/2007-06/FederationMetadata.xml",
            "fetch": {"tls": {"server_name": FS, "chain": [cert(TLS_SHA1, f"CN={FS}", "2027-06-01T00:00:00+00:00")]}},
            "document": {
                "entity_id": f"http://{FS}/adfs/services/trust",
                "roles": [{
                    "element": "RoleDescriptor",
                    "key_descriptors": [
                        {"use": "signing", "certificates": [
                            cert(SIGNING_SHA1, f"CN=ADFS Signing - {FS}", "2026-11-20T08:14:02+00:00"),
                            cert(SUCCESSOR_SHA1, f"CN=ADFS Signing - {FS}", "2027-11-01T00:00:00+00:00")]},
                        {"use": "encryption", "certificates": [
                            cert(DECRYPT_SHA1, f"CN=ADFS Encryption - {FS}", "2026-12-10T12:00:00+00:00")]},
                    ],
                }],
            },
        }
    }


RISK = AcceptedRisk(reason="RSA-SHA1 until the partner upgrades | see CHG-42", accepted_by="j.doe@contoso.com",
                    expires=date(2027, 1, 15), source="/etc/adfs-readiness/risks.toml")


def calendar_with_certificates(now: datetime) -> tuple[CalendarEntry, ...]:
    """The certificate calendar the engine builds from :func:`facts_with_certificates` (same roles
    and places as calendar.build_calendar gives), days counted from ``now``."""
    metadata = f"metadata https://{FS}/FederationMetadata/2007-06/FederationMetadata.xml"
    rows = [("token-signing", SIGNING_SHA1, f"CN=ADFS Signing - {FS}", "2026-11-20T08:14:02+00:00", metadata),
            ("token-decrypting", DECRYPT_SHA1, f"CN=ADFS Encryption - {FS}", "2026-12-10T12:00:00+00:00", metadata),
            ("SSL", TLS_SHA1, f"CN={FS}", "2027-06-01T00:00:00+00:00", f"service {FS}:443"),
            ("token-signing", SUCCESSOR_SHA1, f"CN=ADFS Signing - {FS}", "2027-11-01T00:00:00+00:00", metadata)]
    return tuple(CalendarEntry(role=role, subject=subject, sha1=sha1, sha256="00" * 32,
                               not_after=datetime.fromisoformat(when), days_left=days_left(datetime.fromisoformat(when), now),
                               where=(where,)) for role, sha1, subject, when, where in rows)


def result_with_certificates(**overrides):
    """sample_result with certificate facts and their calendar (``started_at`` may be overridden)."""
    result = sample_result(facts=facts_with_certificates(), **overrides)
    return dataclasses.replace(result, certificates=calendar_with_certificates(result.started_at))


def run_with_certificates_and_a_risk():
    """sample_result with certificate facts and the metadata.signature warning accepted."""
    result = result_with_certificates()
    findings = tuple(dataclasses.replace(f, suppression=RISK) if f.check_id == "metadata.signature" else f
                     for f in result.findings)
    assert any(f.status is Status.WARN for f in findings)
    return dataclasses.replace(result, findings=findings)
