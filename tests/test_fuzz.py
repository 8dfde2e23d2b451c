"""Coverage-guided fuzzing in CI: every target of tests/fuzz/fuzz_parsers.py runs for a bounded
time (``ADFS_READINESS_FUZZ_SECONDS``, default 10 s each; about a minute and a half in all on two
workers), seeded with the real files of tests/corpus and samples the lab makes. A failure shows
the parser's exception and the input that caused it (base64), which libFuzzer also writes to
the test's temporary folder.

The per-input ``-timeout`` (10 s) makes a super-linear parser a failure too: a PEM file of BEGIN
lines or a deep JSON document that takes seconds is reported like a crash."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import CORPUS, FIXED_NOW

HARNESS = Path(__file__).parent / "fuzz" / "fuzz_parsers.py"
SECONDS = int(os.environ.get("ADFS_READINESS_FUZZ_SECONDS", "10"))

pytest.importorskip("atheris", reason="atheris (the test extra) is not installed")


def _lab_seeds(folder: Path, target: str) -> None:
    """Seeds that are not in the corpus: an AD FS export, an Entra export and a snapshot as the
    tool's own writers make them, a PFX, LDAP values."""
    from adfs_readiness.lab.adfs_samples import adfs_export_document, write_adfs_export
    from adfs_readiness.lab.pki import LabPki

    if target in ("adfs-export", "certificate", "entra-export"):
        pki = LabPki(FIXED_NOW)
        signing = pki.token_certificate("signing", "sts.contoso.test", FIXED_NOW - timedelta(days=100),
                                        FIXED_NOW + timedelta(days=200))
        if target == "adfs-export":
            for raw in (False, True):
                write_adfs_export(folder / f"export-{raw}.json",
                                  adfs_export_document(pki, "sts.contoso.test", signing, relying_parties=2,
                                                       windows_powershell_raw=raw))
        elif target == "entra-export":
            item = {"DomainId": "contoso.com", "IssuerUri": "http://sts.contoso.test/adfs/services/trust",
                    "PassiveSignInUri": "https://sts.contoso.test/adfs/ls/",
                    "ActiveSignInUri": "https://sts.contoso.test/adfs/services/trust/2005/usernamemixed",
                    "MetadataExchangeUri": "https://sts.contoso.test/adfs/services/trust/mex",
                    "SignOutUri": "https://sts.contoso.test/adfs/ls/?wa=wsignout1.0",
                    "SigningCertificate": base64.b64encode(signing.der).decode(),
                    "FederatedIdpMfaBehavior": "acceptIfMfaDoneByFederatedIdp", "PreferredAuthenticationProtocol": "wsFed"}
            (folder / "entra.json").write_text(json.dumps([item]))
            (folder / "entra-value.json").write_text(json.dumps({"value": [item]}))
        else:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

            encryption = (PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2000)
                          .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
                          .build(b"pw"))
            tls = pki.issue_tls(["sts.contoso.test"])
            (folder / "ssl.pfx").write_bytes(pkcs12.serialize_key_and_certificates(
                b"ssl", tls.key, tls.cert, list(tls.chain[1:]), encryption))
            (folder / "ssl.pem").write_bytes(tls.chain_pem())
            (folder / "signing.der").write_bytes(signing.der)
    if target == "snapshot":
        from adfs_readiness.cli import main

        metadata = CORPUS / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"
        # collect exits with the verdict's code, like check; 3 would mean it could not run.
        assert main(["collect", "--metadata", str(metadata), "--out", str(folder / "evidence.json"), "-q"]) != 3
    if target == "ldap-value":
        for name, value in {"guid": bytes(range(16)), "time": b"20261130120000.0Z", "offset": b"20261130120000+0130",
                            "int": b"-9223372036854775808", "sid": bytes.fromhex("010500000000000515000000") + bytes(12),
                            "utf8": "Zoë Ångström".encode()}.items():
            (folder / name).write_bytes(value)
    if target in ("json", "pem"):
        (folder / "doc.json").write_text('{"a": [1, 2.5, "x\\ud800", null, true, {"b": {}}]}')
        (folder / "key.pem").write_text("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


_CORPUS_SEEDS = {"metadata": ["metadata"], "mex": ["mex"], "oidc": ["oidc"], "certificate": ["certs"],
                 "json": ["oidc", "directory"], "pem": ["certs"]}
TARGETS = ["metadata", "mex", "oidc", "adfs-export", "entra-export", "snapshot", "certificate", "ldap-value", "json",
           "pem"]


@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_runs_without_a_crash(target, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for sub in _CORPUS_SEEDS.get(target, []):
        for seed in (CORPUS / sub).iterdir():
            if seed.is_file() and seed.suffix != ".md":
                shutil.copy(seed, corpus / seed.name)
    _lab_seeds(corpus, target)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    command = [sys.executable, str(HARNESS), target, f"-max_total_time={SECONDS}", "-timeout=10",
               "-rss_limit_mb=2048", f"-artifact_prefix={artifacts}/", "-print_final_stats=1", str(corpus)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS + 120,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    found = sorted(artifacts.iterdir())
    if proc.returncode != 0 or found:
        shown = "\n".join(f"{p.name}: {base64.b64encode(p.read_bytes()[:2000]).decode()}" for p in found)
        pytest.fail(f"fuzz target {target} failed (exit {proc.returncode}):\n{proc.stderr[-6000:]}\n{shown}")
    assert "Done" in proc.stderr and "runs in" in proc.stderr
