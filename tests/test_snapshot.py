"""Evidence snapshots: the facts codec round-trips every fact type, `collect` on the lab then
`assess` elsewhere gives identical findings, and no password or private key appears in any output."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Union

import pytest
from conftest import CORPUS, FIXED_NOW

from adfs_readiness.cli import main
from adfs_readiness.facts import FederationMetadata, HttpExchange, ProbeError, ProbeErrorKind
from adfs_readiness.facts.codec import FactDecodeError, decode, encode
from adfs_readiness.lab import Lab
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes.catalog import all_probes, fact_types
from adfs_readiness.probes.metadata import probe_federation_metadata
from adfs_readiness.settings import (ChecksSettings, DirectorySettings, FederationSettings, HostPort, Settings,
                                     TlsSettings)
from adfs_readiness.snapshot import REDACTED, redact

PASSWORD = "Corr3ct-Horse-Battery-Staple!"


def metadata_fact(path: Path) -> FederationMetadata:
    ctx = ProbeContext(Settings(federation=FederationSettings(metadata=str(path))), FIXED_NOW, time.monotonic() + 10,
                       logging.getLogger("t"))
    return probe_federation_metadata(ctx)


@pytest.mark.parametrize("name", sorted(p.name for p in (CORPUS / "metadata").iterdir()))
def test_every_corpus_metadata_fact_round_trips(name):
    fact = metadata_fact(CORPUS / "metadata" / name)
    assert isinstance(fact, FederationMetadata)
    back = decode(Union[FederationMetadata, ProbeError], json.loads(json.dumps(encode(fact))))
    assert back == fact
    assert fact.document is None or type(back.document.roles) is tuple  # a truncated file has no document


def test_union_picks_the_probe_error_and_optional_none():
    err = ProbeError(ProbeErrorKind.TIMEOUT, "no answer within 2 s", "https://sts.contoso.test/x")
    assert decode(FederationMetadata | ProbeError, encode(err)) == err
    assert decode(Optional[ProbeError], None) is None
    exchange = {"url": "u", "final_url": "u", "connect_address": None, "status": None, "reason": None,
                "headers": {"content-type": "text/xml"}, "redirects": [], "elapsed_seconds": 1,
                "body_bytes": 0, "truncated": False, "error": encode(err)}
    decoded = decode(HttpExchange, exchange)
    assert decoded.error == err and decoded.tls is None and decoded.elapsed_seconds == 1.0


def test_config_round_trips_with_paths_and_addresses():
    config = Settings(source="x.toml", directory=DirectorySettings(server="ldaps://dc1", ca_bundle=Path("ca.pem")),
                      federation=FederationSettings(service_name="sts.contoso.com",
                                                    service_address=HostPort("10.0.0.1", 443),
                                                    farm_nodes=(HostPort("::1", 8443),)),
                      tls=TlsSettings(ca_bundle=Path("/etc/ca.pem")), checks=ChecksSettings(skip=("dns.*",)))
    assert decode(Settings, json.loads(json.dumps(encode(config)))) == config


@pytest.mark.parametrize("tp, value, where", [
    (FederationMetadata, {"source": "x"}, "needs 'source_kind'"),
    (ProbeError, {"kind": "timeout", "reason": "r", "extra": 1}, "unknown key(s) for ProbeError: extra"),
    (ProbeError, {"kind": "sleepy", "reason": "r"}, "'sleepy' is not a ProbeErrorKind"),
    (datetime, "yesterday", "not an ISO 8601"),
    (tuple[int, ...], [1, "2"], "[1]: expected int"),
    (int, True, "expected int, got bool"),
])
def test_decode_errors_say_where(tp, value, where):
    with pytest.raises(FactDecodeError, match=None) as info:
        decode(tp, value)
    assert where in str(info.value)


def test_probes_declare_fact_types():
    assert fact_types(all_probes())["metadata"] is FederationMetadata


def test_redact_removes_secret_keys_values_and_private_keys():
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    doc = {"bind": {"password": "x", "user": "CORP\\svc"}, "note": f"pw={PASSWORD};", "k": [f"a {pem} b"],
           "public_key_type": "RSA", "key_descriptors": [], "Authorization": "Bearer abc"}
    assert redact(doc, [PASSWORD, "", "ab"]) == {
        "bind": {"password": REDACTED, "user": "CORP\\svc"}, "note": f"pw={REDACTED};", "k": [f"a {REDACTED} b"],
        "public_key_type": "RSA", "key_descriptors": [], "Authorization": REDACTED}


def test_collect_then_assess_gives_identical_findings_and_no_secret(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ADFS_READINESS_LDAP_PASSWORD", PASSWORD)
    now = datetime.now(timezone.utc)
    with Lab("demo", now=now, workdir=tmp_path / "lab") as lab:
        config = tmp_path / "tenant.toml"
        config.write_text(f'''
[federation]
service_name = "{lab.fs_name}"
service_address = "{lab.address}"
domains = ["contoso.test"]
[directory]
server = "ldaps://dc1.contoso.test"
bind_user = "CONTOSO\\\\svc-readiness"
password_env = "ADFS_READINESS_LDAP_PASSWORD"
[tls]
ca_bundle = "{lab.ca_bundle}"
external_ca_bundle = "{lab.ca_bundle}"
[cloud]
realm_discovery = false
[checks]
# DNS and the directory are configured only to put their secrets in the snapshot; they are judged elsewhere.
skip = ["dns.*", "directory.*"]
''', encoding="utf-8")
        secrets = [PASSWORD] + [_key_body(c.key_pem()) for c in (lab.material.tls, *lab.material.token_signing,
                                                                   *lab.material.token_decrypting)]
        live = {ext: tmp_path / f"live.{ext}" for ext in ("json", "html", "xml", "prom", "csv", "md")}
        snap = tmp_path / "evidence.json"
        code = main(["collect", "--config", str(config), "--out", str(snap), "--as-of", now.isoformat(), "-q",
                     "--json", str(live["json"]), "--html", str(live["html"]), "--junit", str(live["xml"]),
                     "--metrics", str(live["prom"]), "--csv", str(live["csv"]), "--markdown", str(live["md"])])
    collected = code  # collect exits with the verdict's code, like check
    # Elsewhere: the lab is gone, the network is not used.
    offline = {ext: tmp_path / f"offline.{ext}" for ext in ("json", "html", "md")}
    code = main(["assess", str(snap), "--as-of", "collected", "--json", str(offline["json"]),
                 "--html", str(offline["html"]), "--markdown", str(offline["md"]), "-q"])
    live_doc, offline_doc = json.loads(live["json"].read_text()), json.loads(offline["json"].read_text())
    assert code == collected == live_doc["exit_code"] == 1
    assert offline_doc["findings"] == live_doc["findings"]
    assert (offline_doc["verdict"], offline_doc["score"], offline_doc["started_at"]) == (
        live_doc["verdict"], live_doc["score"], live_doc["started_at"])
    assert offline_doc["facts"] == live_doc["facts"]
    assert offline_doc["run"]["assessed_from_snapshot"] is True

    evidence = json.loads(snap.read_text())
    assert evidence["format"] == "adfs-readiness-evidence" and evidence["now"] == now.isoformat()
    assert evidence["config"]["directory"]["bind_user"] == "CONTOSO\\svc-readiness"
    assert evidence["fact_types"] == {"metadata": "adfs_readiness.facts:FederationMetadata",
                                      "tls": "adfs_readiness.facts.tls:TlsFacts",
                                      "certificate_file": "adfs_readiness.facts.tls:CertificateFile",
                                      "endpoints": "adfs_readiness.facts.endpoints:EndpointsFacts",
                                      "cloud_realm": "adfs_readiness.facts.cloud:RealmFacts",
                                      "entra_federation": "adfs_readiness.facts.cloud:EntraFederationFacts",
                                      "adfs_export": "adfs_readiness.facts.adfs_export:AdfsExport",
                                      "entra_mfa_client": "adfs_readiness.facts.entra_mfa:EntraMfaClient",
                                      "sign_in": "adfs_readiness.facts.sign_in:SignInFacts"}
    for path in [snap, *live.values(), *offline.values()]:
        text = path.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in text, (path.name, secret[:12])
        assert "PRIVATE KEY" not in text, path.name
    assert capsys.readouterr().out == ""


def test_assess_refuses_what_is_not_a_snapshot(tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something else"}')
    assert main(["assess", str(bad)]) == 3
    assert "not an adfs-readiness evidence snapshot" in capsys.readouterr().err
    bad.write_text(json.dumps({"format": "adfs-readiness-evidence", "snapshot_version": 1, "now": "2026-11-30T12:00:00+00:00",
                               "config": {}, "facts": {"metadata": {"source": 1}}}))
    assert main(["assess", str(bad)]) == 3
    assert "metadata" in capsys.readouterr().err


def _key_body(pem: bytes) -> str:
    # A line from the middle of the key's base64: present in any copy of the key, whatever its framing.
    lines = pem.decode().splitlines()
    return lines[len(lines) // 2]


def test_assess_says_what_it_judged_and_judges_dates_at_the_time_of_assessing(tmp_path, capsys, _private_data_dir):
    # A snapshot whose clock says 2017-06-01 (an old or forged clock): its certificates were valid
    # then and are long expired now.
    import socket  # noqa: PLC0415

    metadata = Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"
    snap = tmp_path / "old-clock.json"
    assert main(["collect", "--metadata", str(metadata), "--out", str(snap), "--as-of", "2017-06-01", "-q"]) == 0
    doc = json.loads(snap.read_text())
    assert doc["collected_on"] == {"host": socket.gethostname()}
    out = tmp_path / "a.json"
    # Default: judged at the time of assessing, so the expired primary token-signing certificate fails.
    assert main(["assess", str(snap), "--json", str(out), "--html", str(tmp_path / "a.html")]) == 2
    text = capsys.readouterr().out
    report = json.loads(out.read_text())
    provenance = report["provenance"]
    assert provenance["clock"] == "assessing" and provenance["collected_at"] == "2017-06-01T00:00:00+00:00"
    assert provenance["collected_on"] == socket.gethostname() and provenance["source"] == str(snap)
    assert provenance["collected_by"] == doc["tool"]["version"]
    line = provenance["line"]
    assert line.startswith(f"Assessed from the evidence snapshot {snap}, collected 2017-06-01 00:00:00 UTC on "
                           f"{socket.gethostname()} by adfs-readiness ") and "(at the time of assessing)" in line
    assert "Assessed from the evidence snapshot" in text and "(at the time of assessing)" in text.replace("\n", " ")
    assert "Assessed from the evidence snapshot" in (tmp_path / "a.html").read_text()
    expiry = next(f for f in report["findings"] if f["check_id"] == "token-signing.expiry")
    assert expiry["status"] == "fail" and expiry["blocker"] and "expired" in expiry["summary"]
    # --as-of collected: the snapshot's own clock, as the collecting run judged it.
    assert main(["assess", str(snap), "--as-of", "collected", "--json", str(out), "-q"]) == 0
    assert json.loads(out.read_text())["provenance"]["clock"] == "collected"
    # An assessment is never an observation: nothing is recorded in the history.
    assert not list(_private_data_dir.glob("*.sqlite3"))
