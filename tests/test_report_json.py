"""The JSON report: shape, exact values, determinism and the committed JSON Schema."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from datetime import datetime, timedelta, timezone

import jsonschema
import pytest
from report_samples import FS, SIGNING_CERT_B64, SIGNING_SHA1, finding, sample_result

from adfs_readiness.model import Area, Severity, Status, Verdict
from adfs_readiness.report import render_json, report_dict
from adfs_readiness.report.json_report import SCHEMA_VERSION, load_schema, validate_report

TOP_LEVEL_KEYS = [
    "schema_version", "tool", "target", "started_at", "finished_at", "duration_seconds",
    "score", "grade", "verdict", "exit_code", "verdict_reasons", "counts", "areas",
    "findings", "facts", "run", "certificates",
]


@pytest.fixture
def doc() -> dict:
    return json.loads(render_json(sample_result()))


def test_schema_file_is_a_valid_draft_2020_12_schema() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_schema_enums_match_the_model() -> None:
    # A status/verdict/area added to model.py must be added to the schema too.
    defs = load_schema()["$defs"]
    assert defs["status"]["enum"] == [s.value for s in Status]
    assert defs["severity"]["enum"] == [s.value for s in Severity]
    assert defs["area"]["enum"] == [a.value for a in Area]
    assert defs["verdict"]["enum"] == [v.value for v in Verdict]


def test_sample_validates(doc: dict) -> None:
    validate_report(doc)
    jsonschema.Draft202012Validator(load_schema()).validate(doc)


def test_top_level_values_round_trip(doc: dict) -> None:
    assert list(doc) == TOP_LEVEL_KEYS
    assert doc["schema_version"] == "1.1"
    assert doc["tool"] == {"name": "adfs-readiness", "version": "0.1.0"}
    assert doc["target"] == FS
    assert doc["started_at"] == "2026-11-30T12:00:00+00:00"
    assert doc["finished_at"] == "2026-11-30T12:00:12.345000+00:00"
    assert doc["duration_seconds"] == 12.345
    assert (doc["score"], doc["grade"]) == (38, "F")
    assert (doc["verdict"], doc["exit_code"]) == ("NOT_READY", 2)
    assert doc["counts"] == {"pass": 3, "warn": 1, "fail": 1, "error": 1, "skip": 1, "info": 1}
    assert doc["verdict_reasons"][0] == {
        "kind": "blocker_failed",
        "check_id": "token-signing.expiry",
        "target": f"CN=ADFS Signing - {FS} (SHA-1 {SIGNING_SHA1})",
        "summary": "The primary token-signing certificate expired on 2026-11-20.",
    }
    assert [r["kind"] for r in doc["verdict_reasons"]] == [
        "blocker_failed", "blocker_undetermined", "warning",
    ]
    assert doc["verdict_reasons"][2]["target"] is None
    assert doc["facts"] == json.loads(json.dumps(sample_result().facts))
    assert doc["run"] == {
        "tool_version": "0.1.0",
        "config_file": "/etc/adfs-readiness/contoso.toml",
        "options": {"timeout_seconds": 10, "deadline_seconds": 120},
    }


def test_areas_in_area_order_with_their_counts(doc: dict) -> None:
    zero = {"pass": 0, "warn": 0, "fail": 0, "error": 0, "skip": 0, "info": 0}
    assert doc["areas"] == [
        {"area": "metadata", "title": "Federation metadata and token certificates",
         "counts": {**zero, "pass": 2, "warn": 1, "fail": 1, "error": 1}},
        {"area": "tls", "title": "Service-communications (SSL) certificate and TLS",
         "counts": {**zero, "pass": 1, "skip": 1}},
        {"area": "endpoints", "title": "AD FS endpoints", "counts": {**zero, "info": 1}},
    ]


def test_findings_keep_check_order_and_exact_values(doc: dict) -> None:
    assert [f["check_id"] for f in doc["findings"]] == [
        f.check_id for f in sample_result().findings
    ]
    expiry = next(f for f in doc["findings"] if f["check_id"] == "token-signing.expiry")
    assert list(expiry) == [
        "check_id", "area", "title", "status", "severity", "blocker", "blocker_check",
        "target", "summary", "evidence", "remediation", "references",
    ]
    assert expiry["area"] == "metadata"
    assert (expiry["status"], expiry["severity"]) == ("fail", "critical")
    assert expiry["blocker"] is True and expiry["blocker_check"] is True
    assert expiry["evidence"]["certificate"]["der_b64"] == SIGNING_CERT_B64
    assert expiry["evidence"]["days_left"] == -10
    assert expiry["evidence"]["successor_published"] is False
    assert expiry["references"][0] == {
        "title": "Renew federation certificates for Microsoft 365 and Microsoft Entra ID",
        "url": "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/"
        "how-to-connect-fed-o365-certs",
    }
    reachable = doc["findings"][0]
    assert (reachable["status"], reachable["blocker"], reachable["blocker_check"]) == (
        "error", False, True,
    )
    assert reachable["evidence"]["probe_error"]["kind"] == "timeout"
    skip = next(f for f in doc["findings"] if f["status"] == "skip")
    assert skip["target"] is None and skip["evidence"] == {} and skip["references"] == []


def test_render_is_deterministic_and_keeps_unicode() -> None:
    result = sample_result(target="fs.müller-gruppe.de")
    text = render_json(result)
    assert text == render_json(result)
    assert '"target": "fs.müller-gruppe.de"' in text
    assert text.endswith("}\n")
    assert text.startswith('{\n  "schema_version": "1.1",\n')


def test_odd_evidence_values_still_give_strict_json() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque-object"

    odd = finding(
        "metadata.valid-until",
        Status.INFO,
        "validUntil reported.",
        evidence={
            "when": datetime(2027, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            "status": Status.WARN,
            "ratio": math.nan,
            "uses": ("signing", "encryption"),
            "kinds": {"b", "a"},
            "blob": b"\x00\x01",
            "thing": Opaque(),
        },
    )
    result = sample_result(findings=(odd,))
    text = render_json(result)
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert doc["findings"][0]["evidence"] == {
        "when": "2027-01-02T03:04:05+00:00",
        "status": "warn",
        "ratio": "nan",
        "uses": ["signing", "encryption"],
        "kinds": ["a", "b"],
        "blob": "AAE=",
        "thing": "opaque-object",
    }
    validate_report(doc)


def test_times_are_utc_even_from_other_zones() -> None:
    cet = timezone(timedelta(hours=1))
    result = sample_result(
        started_at=datetime(2026, 11, 30, 13, 0, tzinfo=cet),
        finished_at=datetime(2026, 11, 30, 13, 0, 30, tzinfo=cet),
    )
    doc = report_dict(result)
    assert doc["started_at"] == "2026-11-30T12:00:00+00:00"
    assert doc["finished_at"] == "2026-11-30T12:00:30+00:00"
    assert doc["duration_seconds"] == 30.0


@pytest.mark.parametrize("verdict", list(Verdict))
def test_every_verdict_validates_with_its_exit_code(verdict: Verdict) -> None:
    base = sample_result()
    result = dataclasses.replace(base, grade=dataclasses.replace(base.grade, verdict=verdict))
    doc = report_dict(result)
    assert doc["exit_code"] == verdict.exit_code
    validate_report(doc)


def _without_verdict(doc: dict) -> None:
    del doc["verdict"]


def _unknown_status(doc: dict) -> None:
    doc["findings"][0]["status"] = "maybe"


def _extra_top_level_key(doc: dict) -> None:
    doc["extra"] = 1


def _extra_finding_key(doc: dict) -> None:
    doc["findings"][1]["note"] = "x"


def _exit_code_contradicts_verdict(doc: dict) -> None:
    doc["exit_code"] = 0


def _bad_grade_letter(doc: dict) -> None:
    doc["grade"] = "A+"


def _unknown_area(doc: dict) -> None:
    doc["areas"][0]["area"] = "mail"


def _missing_count(doc: dict) -> None:
    del doc["counts"]["skip"]


def _score_out_of_range(doc: dict) -> None:
    doc["score"] = 101


def _evidence_not_an_object(doc: dict) -> None:
    doc["findings"][0]["evidence"] = ["x"]


@pytest.mark.parametrize(
    "breakage",
    [
        _without_verdict, _unknown_status, _extra_top_level_key, _extra_finding_key,
        _exit_code_contradicts_verdict, _bad_grade_letter, _unknown_area, _missing_count,
        _score_out_of_range, _evidence_not_an_object,
    ],
)
def test_broken_documents_fail_validation(doc: dict, breakage) -> None:
    broken = copy.deepcopy(doc)
    breakage(broken)
    with pytest.raises(jsonschema.ValidationError):
        validate_report(broken)


def test_validation_error_names_the_problem(doc: dict) -> None:
    _unknown_status(doc)
    with pytest.raises(jsonschema.ValidationError) as caught:
        validate_report(doc)
    assert "maybe" in caught.value.message
    assert list(caught.value.absolute_path) == ["findings", 0, "status"]
