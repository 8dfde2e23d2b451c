"""endpoints.sign-in-test over the wire: the lab STS issues real signed SAML 1.1 tokens to the lab
test account through the proxy (WS-Trust 1.3 usernamemixed, SOAP 1.2 over HTTPS on loopback), and
the scenarios break each step. The password never appears in any output: terminal at -vv, JSON,
HTML, the evidence snapshot, even when a hostile server echoes it back."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lxml import etree

from adfs_readiness.cli import main
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts.cloud import ENTRA_FEDERATION_FACT, DomainFederation, EntraFederationFacts
from adfs_readiness.lab import LAB_SIGN_IN_PASSWORD_ENV, LAB_SIGN_IN_UPN, Lab
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.lab.sts_wstrust import SignInLab, wstrust_answer
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.probes.sign_in import read_token_response, resolve_sign_in_password, token_request
from adfs_readiness.settings import SettingsError, SignInTestSettings, settings_from_mapping

REGISTRY = discover_checks(strict=True)
ONLY = ("dns.*", "tls.*", "metadata.*", "token-signing.*", "token-decrypting.*", "cloud.*", "adfs.*", "directory.*")


def run(lab, now, **changes):
    cfg = lab.config(network={"timeout_seconds": 3.0, "deadline_seconds": 20.0}, checks={"skip": ONLY}, **changes)
    result = run_checks(REGISTRY, builtin_probes(), cfg, now)
    (finding,) = [f for f in result.findings if f.check_id == "endpoints.sign-in-test"]
    return finding, result


def now_() -> datetime:
    return datetime.now(timezone.utc)


def test_sign_in_passes_through_the_proxy_with_every_step_reported(tmp_path):
    now = now_()
    with Lab("sign-in", now=now, workdir=tmp_path) as lab:
        finding, result = run(lab, now)
        proxy = str(lab.proxies[0])
    assert finding.status.value == "pass", finding.summary
    steps = finding.evidence["steps"]
    assert [s["status"] for s in steps] == ["pass"] * 8
    assert steps[1]["name"] == f"Connect to {proxy}" and steps[1]["ms"] > 0
    assert "signed by ADFS Signing - sts.contoso.test" in steps[3]["detail"]
    assert steps[7]["detail"].startswith(f"UPN {LAB_SIGN_IN_UPN}, ImmutableID ")
    assert finding.evidence["via"] == proxy and result.grade.verdict.value in ("READY", "READY_WITH_WARNINGS")


@pytest.mark.parametrize("scenario, step, words", [
    ("sign-in-wrong-key", 4, "which the federation metadata does not publish"),
    ("sign-in-missing-claim", 8, "no ImmutableID claim"),
])
def test_each_broken_step_fails_and_is_named(tmp_path, scenario, step, words):
    now = now_()
    with Lab(scenario, now=now, workdir=tmp_path) as lab:
        finding, result = run(lab, now)
    assert finding.status.value == "fail" and finding.blocker
    assert finding.summary.startswith(f"Step {step} (") and words in finding.summary, finding.summary
    assert result.grade.verdict.value == "NOT_READY"


def test_a_refused_test_account_is_not_determined_never_a_broken_farm(tmp_path):
    """AD FS answers FailedAuthentication alike for a wrong or expired password and a locked-out or
    disabled account: the dedicated test account's trouble. It says nothing about everyone else's
    sign-in, so the verdict is INCOMPLETE (exit 3), never NOT_READY (a nightly run must not page
    "SSO broken" because the test account's password expired)."""
    now = now_()
    with Lab("sign-in-wrong-password", now=now, workdir=tmp_path) as lab:
        finding, result = run(lab, now)
    assert finding.status.value == "error", finding.summary
    assert finding.summary.startswith("Step 3 (Request a token (WS-Trust 1.3 usernamemixed)) could not be determined: "
                                      "SOAP fault a:FailedAuthentication: ID3242")
    assert "refused the test account's credentials (wrong or expired password" in finding.summary
    assert result.grade.verdict.value == "INCOMPLETE"


def test_an_unpublished_usernamemixed_endpoint_fails_without_blocking(tmp_path):
    """usernamemixed disabled or not proxied: WS-Trust rich clients fail, browser sign-in does not use
    it. The sign-in test says so (fail) without turning the verdict NOT_READY, as endpoints.usernamemixed
    judges the same fact (warn for one of the two endpoints)."""
    now = now_()
    with Lab("sign-in-disabled-endpoint", now=now, workdir=tmp_path) as lab:
        finding, result = run(lab, now)
    assert finding.status.value == "fail" and finding.blocker is False
    assert finding.summary.startswith("Step 3 (") and "HTTP 404: the endpoint is not enabled or not published" in \
        finding.summary
    assert result.grade.verdict.value == "READY_WITH_WARNINGS"


def test_issuer_step_uses_the_issuer_entra_holds(tmp_path):
    """With Entra's federation settings read (here: a fact as Graph would give it), the token's issuer
    must be the domain's issuerUri: a farm issuing http://sts.../adfs/services/trust for a domain Entra
    federated with SupportMultipleDomain (issuerUri http://contoso.test/adfs/services/trust/) fails."""
    import logging
    import time

    from adfs_readiness.api import CheckContext
    from adfs_readiness.probes import ProbeContext
    from adfs_readiness.probes.sign_in import probe_sign_in
    from adfs_readiness_checks import sign_in as sign_in_checks

    now = now_()
    with Lab("sign-in", now=now, workdir=tmp_path) as lab:
        cfg = lab.config(network={"timeout_seconds": 3.0})
        probe_ctx = ProbeContext(config=cfg, now=now, deadline=time.monotonic() + 20, log=logging.getLogger("test"))
        facts = {"sign_in": probe_sign_in(probe_ctx)}
    ctx = CheckContext(facts=facts, config=cfg, now=now)
    assert sign_in_checks.sign_in_test.function(ctx).status.value == "pass"
    entra = EntraFederationFacts(configured=True, domains=(DomainFederation(
        domain="contoso.test", issuer_uri="http://contoso.test/adfs/services/trust/"),))
    ctx = CheckContext(facts={**facts, ENTRA_FEDERATION_FACT: entra}, config=cfg, now=now)
    outcome = sign_in_checks.sign_in_test.function(ctx)
    assert outcome.status.value == "fail" and "Step 5 (Issuer" in outcome.summary
    assert "Entra ID's issuerUri for contoso.test" in outcome.summary


def test_password_missing_is_not_determined_and_tls_distrust_too(tmp_path, monkeypatch):
    now = now_()
    with Lab("sign-in", now=now, workdir=tmp_path) as lab:
        monkeypatch.delenv(LAB_SIGN_IN_PASSWORD_ENV)
        finding, result = run(lab, now)
        assert finding.status.value == "error" and "ADFS_READINESS_LAB_SIGNIN_PASSWORD is not set" in finding.summary
        assert result.grade.verdict.value == "INCOMPLETE"
        monkeypatch.setenv(LAB_SIGN_IN_PASSWORD_ENV, lab.sign_in_password)
        # This machine does not trust the lab's CA: not determined, never a failure of the farm.
        finding, _ = run(lab, now, tls={"ca_bundle": None})
    assert finding.status.value == "error" and "certificate verification failed" in finding.summary, finding.summary


def test_password_sources():
    cfg = SignInTestSettings(upn="a@b.test", password_source="env", password_env="X")
    assert resolve_sign_in_password(cfg, environ={"X": "pw"}) == ("pw", None)
    assert resolve_sign_in_password(cfg, environ={})[0] is None
    prompted = SignInTestSettings(upn="a@b.test", password_source="prompt")
    assert resolve_sign_in_password(prompted, prompt=lambda text: "typed") == ("typed", None)
    keyring = SignInTestSettings(upn="a@b.test", password_source="keyring", keyring_service="svc")
    assert resolve_sign_in_password(keyring, keyring_get=lambda service, user: f"{service}:{user}") == ("svc:a@b.test", None)
    assert "no password in the keyring" in resolve_sign_in_password(keyring, keyring_get=lambda s, u: None)[1]


def test_config_keys_and_the_password_is_refused_in_the_file():
    cfg = settings_from_mapping({"sign_in_test": {"upn": "sso@contoso.com", "password_source": "keyring"}})
    assert cfg.sign_in_test.configured and cfg.sign_in_test.password_source == "keyring"
    with pytest.raises(SettingsError, match="sign_in_test.password = <hidden>") as caught:
        settings_from_mapping({"sign_in_test": {"upn": "sso@contoso.com", "password": "Secret-123"}})
    assert "Secret-123" not in str(caught.value)
    with pytest.raises(SettingsError, match="a user principal name"):
        settings_from_mapping({"sign_in_test": {"upn": "not a upn"}})
    assert not settings_from_mapping({}).sign_in_test.configured


def test_token_request_escapes_the_password_and_the_lab_sts_reads_it_back(now):
    pki = LabPki(now)
    signing = pki.token_certificate("signing", "sts.contoso.test", now - timedelta(days=1), now + timedelta(days=300))
    password = 'p<&>"\'ss ]]> word'
    lab = SignInLab(upn="u@contoso.test", password=password, immutable_id="aXBzn/BqeV+v2briuGPB7g==",
                    issuer="http://sts.contoso.test/adfs/services/trust", signing=signing)
    body = token_request("https://sts.contoso.test/adfs/services/trust/13/usernamemixed", "u@contoso.test", password, now)
    status, answer, _ = wstrust_answer(body, lab, now)
    assert status == 200
    assertion, code, reason, problem = read_token_response(answer)
    assert problem is None and assertion.signature_valid is True and assertion.signer.sha1 == signing.sha1
    assert assertion.attributes["http://schemas.xmlsoap.org/claims/UPN"] == ("u@contoso.test",)
    assert assertion.not_before == now.replace(microsecond=now.microsecond // 1000 * 1000)


def _signed_answer(now):
    pki = LabPki(now)
    signing = pki.token_certificate("signing", "sts.contoso.test", now - timedelta(days=1), now + timedelta(days=300))
    lab = SignInLab(upn="u@contoso.test", password="pw", immutable_id="aXBzn/BqeV+v2briuGPB7g==",
                    issuer="http://sts.contoso.test/adfs/services/trust", signing=signing)
    body = token_request("https://x/adfs/services/trust/13/usernamemixed", "u@contoso.test", "pw", now)
    return wstrust_answer(body, lab, now)[1]


def test_a_changed_token_and_a_wrapped_one_do_not_verify(now):
    answer = _signed_answer(now)
    tampered = answer.replace(b"u@contoso.test", b"admin@contoso.test")
    assertion, _, _, _ = read_token_response(tampered)
    assert assertion.signature_valid is False and "changed after it was signed" in assertion.signature_reason
    # Signature wrapping: a second, unsigned assertion next to the signed one is refused outright.
    root = etree.fromstring(answer)
    token = root.find(".//{http://docs.oasis-open.org/ws-sx/ws-trust/200512}RequestedSecurityToken")
    token.append(etree.fromstring(etree.tostring(token[0])))
    assert "2 SAML assertions" in read_token_response(etree.tostring(root))[3]


@pytest.mark.parametrize("answer, words", [
    (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "not a SOAP 1.2 envelope"),
    (b"<html><body>Sign in</body></html>", "not a SOAP 1.2 envelope"),
    (b"not xml", "not XML"),
])
def test_hostile_answers_are_findings(answer, words):
    assertion, code, reason, problem = read_token_response(answer)
    assert assertion is None and words in (problem or ""), problem


class _EchoHandler(BaseHTTPRequestHandler):
    """A hostile STS that puts the whole request (password included) in its SOAP fault and headers."""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        password = etree.fromstring(body).findtext(
            ".//{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}Password")
        fault = (f'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>'
                 f's:Sender</s:Value><s:Subcode><s:Value>a:{password}</s:Value></s:Subcode></s:Code><s:Reason>'
                 f'<s:Text>wrong password {password}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>').encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/soap+xml")
        self.send_header("Server", f"echo {password}")
        self.send_header("Content-Length", str(len(fault)))
        self.end_headers()
        self.wfile.write(fault)

    def log_message(self, *args):
        pass


def test_the_password_never_appears_in_any_output(tmp_path, capsys, monkeypatch):
    """The lab sign-in at -vv through the CLI (terminal, JSON, HTML, evidence snapshot), and a hostile
    server that echoes the password back: the password is in none of them."""
    now = now_()
    outputs = []
    with Lab("sign-in", now=now, workdir=tmp_path / "lab") as lab:
        password = lab.sign_in_password
        config = tmp_path / "lab.toml"
        config.write_text(lab.config_toml() + "[checks]\nskip = [\"dns.*\"]\n", encoding="utf-8")
        for name in ("r.json", "r.html", "evidence.json"):
            outputs.append(tmp_path / name)
        # A separate process, as an admin runs it: -vv writes the libraries' debug log to its stderr.
        run_cli = subprocess.run([sys.executable, "-m", "adfs_readiness", "-vv", "check", "--config", str(config),
                                  "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
                                  "--no-history", "--only", "endpoints.sign-in-test"],
                                 capture_output=True, text=True, timeout=120)
        assert run_cli.returncode == 0, run_cli.stdout + run_cli.stderr
        main(["-vv", "collect", "--config", str(config), "--out", str(tmp_path / "evidence.json")])
    captured = capsys.readouterr()
    report = json.loads((tmp_path / "r.json").read_text())
    assert [f["status"] for f in report["findings"] if f["check_id"] == "endpoints.sign-in-test"] == ["pass"]
    assert "POST /adfs/services/trust/13/usernamemixed" in run_cli.stderr  # -vv really logged the exchange
    for text in (run_cli.stdout, run_cli.stderr, captured.out, captured.err,
                 *(p.read_text(encoding="utf-8") for p in outputs)):
        assert password not in text

    # A hostile server echoing the password back.
    pki = LabPki(now)
    tls = pki.issue_tls(["sts.contoso.test"])
    chain, key = tmp_path / "echo-chain.pem", tmp_path / "echo-key.pem"
    tls.write_pem(chain, key)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_bundle_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(chain), str(key))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        secret = "Echo-Me-9f8e7d"
        monkeypatch.setenv("ECHO_PASSWORD", secret)
        toml = tmp_path / "echo.toml"
        toml.write_text(f'[federation]\nservice_name = "sts.contoso.test"\nservice_address = "127.0.0.1:'
                        f'{server.server_address[1]}"\n[tls]\nca_bundle = "{ca}"\n[cloud]\nrealm_discovery = false\n'
                        f'[sign_in_test]\nupn = "sso-test@contoso.test"\npassword_env = "ECHO_PASSWORD"\n',
                        encoding="utf-8")
        out = tmp_path / "echo.json"
        code = main(["-vv", "check", "--config", str(toml), "--json", str(out), "--no-history", "--only",
                     "endpoints.sign-in-test"])
        main(["collect", "--config", str(toml), "--out", str(tmp_path / "echo-evidence.json"), "--only",
              "endpoints.sign-in-test"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    captured = capsys.readouterr()
    report = json.loads(out.read_text())
    (finding,) = [f for f in report["findings"] if f["check_id"] == "endpoints.sign-in-test"]
    assert code == 2 and "wrong password [REDACTED]" in finding["summary"]
    for text in (captured.out, captured.err, out.read_text(), (tmp_path / "echo-evidence.json").read_text()):
        assert secret not in text
