"""Issue 12, the network and text half: each class proven against a real hostile loopback server,
with the command line run as an admin runs it (a child process, its address space capped), and
each case asserting the exit code, the time, no traceback and no leaked secret.

Classes: 1 SPF evaluation limits (a DNS server serving an exponential include tree); 2 invalid
Unicode from servers and files; 3 every request through the one client (gzip bombs, dripped
bodies, link-local targets, credentials in URLs: webhook, metadata, Graph and its token endpoint);
7 secrets echoed by hostile servers scrubbed from every output; 8 terminal and spreadsheet
injection.
"""

from __future__ import annotations

import csv
import json
import os
import threading
import time
from pathlib import Path

import pytest

from adfs_readiness.lab.dns_server import LabDnsServer, parse_zone
from hostile import CliRun, run_cli
from hostile_servers import (
    EchoingLdapServer,
    HostileServer,
    Request,
    answer,
    assert_no_secret,
    drip,
    send_bomb,
    tls_identity,
)

CORPUS = Path(__file__).parent / "corpus"
METADATA_FILE = CORPUS / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"
BOMB = 2 * 1024 * 1024 * 1024  # decompressed: more than twice the child's whole address space (768 MiB)


def _data_dir() -> Path:
    return Path(os.environ["ADFS_READINESS_DATA_DIR"])  # private per test (conftest)


# --- class 1: SPF evaluation (RFC 7208 4.6.4) ------------------------------------------------------

def _include_bomb(width: int = 10, depth: int = 7) -> str:
    """bomb.test's SPF includes ``width`` names, each of which includes ``width`` names of the next
    level, ``depth`` levels deep: width**depth leaves (10 million) if followed per path."""
    lines = ["$ORIGIN bomb.test.", "$TTL 300", "@ SOA ns1.bomb.test. h.bomb.test. 1 3600 600 604800 300",
             "@ NS ns1.bomb.test.", "@ MX 0 bomb-test.mail.protection.outlook.com.",
             "autodiscover CNAME autodiscover.outlook.com."]
    for level in range(depth):
        includes = " ".join(f"include:{i}.{level + 1}.bomb.test" for i in range(width))
        owners = ["@"] if level == 0 else [f"{i}.{level}" for i in range(width)]
        lines += [f'{owner} TXT "v=spf1 {includes} -all"' for owner in owners]
    lines += [f'{i}.{depth} TXT "v=spf1 ip4:192.0.2.{i} -all"' for i in range(width)]
    return "\n".join(lines) + "\n"


def test_class1_exponential_spf_include_tree_is_a_permerror_finding_within_bounds(tmp_path: Path) -> None:
    server = LabDnsServer([parse_zone(_include_bomb(), "bomb.test")]).start()
    try:
        config = tmp_path / "bomb.toml"
        config.write_text(f'[federation]\nservice_name = "sts.bomb.test"\ndomains = ["bomb.test"]\n\n'
                          f'[dns]\nexternal_resolvers = ["{server.address}"]\n'
                          f'internal_resolvers = ["{server.address}"]\n')
        out = tmp_path / "report.json"
        run = run_cli("check", "--config", str(config), "--only", "dns.m365-mail", "--json", str(out), "-q",
                       "--no-history", "--timeout", "2", "--deadline", "60")
        asked = [name for name, kind, _ in server.queries if kind == "TXT"]
    finally:
        server.stop()
    run.assert_clean()
    assert run.code == 1  # a failed non-blocker: READY_WITH_WARNINGS
    assert run.seconds < 30
    finding = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "dns.m365-mail")
    assert finding["status"] == "fail"
    # Depth first: @ -> 0.1 -> ... -> 0.7 (7 terms), then 0.6's next includes 1.7, 2.7, 3.7 and 4.7.
    assert ("SPF evaluation ends in permerror: more than 10 DNS-querying terms (the 11th is "
            "include:4.7.bomb.test in 0.6.bomb.test's record): RFC 7208 section 4.6.4") in finding["summary"]
    assert len(asked) <= 11  # the whole evaluation: the top record and at most 10 includes
    assert out.stat().st_size < 200_000


# --- class 3: the webhook -------------------------------------------------------------------------

def _two_runs_with_a_change(tmp_path: Path, webhook: str, *extra: str, env: dict[str, str] | None = None) -> CliRun:
    """A first run (the baseline, nothing posted) on a good metadata file, then a run on a file
    that is not metadata: the verdict changes, so the second run posts to ``webhook``."""
    broken = tmp_path / "broken.xml"
    broken.write_text("<html>sign in</html>")
    common = ["check", "-q", "--timeout", "2", "--deadline", "30", "--notify-webhook",
              webhook, *extra]
    first = run_cli(*common, "--metadata", str(METADATA_FILE), "--tenant", "hooked", env=env)
    first.assert_clean()
    return run_cli(*common, "--metadata", str(broken), "--tenant", "hooked", env=env)


def test_class3_webhook_answer_that_is_a_gzip_bomb_is_read_to_its_cap(tmp_path: Path) -> None:
    with HostileServer(lambda c, r, s: send_bomb(c, BOMB)) as hook:
        run = _two_runs_with_a_change(tmp_path, f"http://{hook.address}/webhookb2/0123456789abcdef0123")
        posts = [r for r in hook.requests if r.method == "POST"]
    run.assert_clean()
    assert run.code == 2  # the second file is an HTML page: NOT_READY, whatever the webhook did
    assert len(posts) == 1 and posts[0].headers["content-type"] == "application/json"
    assert json.loads(posts[0].body)["adfs_readiness"]["target"]
    assert "notification not delivered" not in run.err  # 200 came: posted; the bomb was not read
    assert run.seconds < 30


def test_class3_webhook_that_drips_its_answer_is_cut_at_the_notify_timeout(tmp_path: Path) -> None:
    def handler(connection, request: Request, stop: threading.Event) -> None:
        # No length: the body ends when the connection does, which it never does.
        drip(connection, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", b"x", stop, every=0.2)

    with HostileServer(handler) as hook:
        started = time.monotonic()
        run = _two_runs_with_a_change(tmp_path, f"http://{hook.address}/hook/0123456789abcdef0123",
                                      "--notify-timeout", "5")
        elapsed = time.monotonic() - started
    run.assert_clean()
    assert run.code == 2
    assert 5 <= run.seconds < 5 + 15  # the 5 s limit holds for the whole post, not per read
    assert elapsed < 60


def test_class3_webhook_that_drips_its_headers_is_not_delivered_after_the_timeout(tmp_path: Path) -> None:
    def handler(connection, request: Request, stop: threading.Event) -> None:
        drip(connection, b"HTTP/1.1 200 OK\r\n", b"X-Drip: y\r\n", stop, every=0.2)

    with HostileServer(handler) as hook:
        run = _two_runs_with_a_change(tmp_path, f"http://{hook.address}/hook/0123456789abcdef0123",
                                      "--notify-timeout", "3")
    run.assert_clean()
    assert run.code == 2
    assert f"notification not delivered: http://{hook.address}/…: deadline" in run.err
    assert run.seconds < 3 + 15


def test_class3_webhook_to_a_link_local_address_is_refused_before_connecting(tmp_path: Path) -> None:
    run = _two_runs_with_a_change(tmp_path, "http://169.254.169.254/latest/meta-data/iam/security-credentials/")
    run.assert_clean()
    assert run.code == 2
    assert ("notification not delivered: http://169.254.169.254/…: 169.254.169.254 is a link-local address "
            "(cloud instance metadata services answer at 169.254.169.254): refused as a target") in run.err


# --- class 3: metadata, redirects, link-local targets, credentials in URLs -----------------------------

def test_class3_metadata_url_and_redirects_to_metadata_services_are_refused(tmp_path: Path) -> None:
    for url, words in (("http://169.254.169.254/metadata/instance", "169.254.169.254 is a link-local address"),
                       ("http://[fd00:ec2::254]/latest/", "fd00:ec2::254 is the AWS instance metadata service"),
                       ("http://[::ffff:169.254.169.254]/", "169.254.169.254 is a link-local address")):
        out = tmp_path / "r.json"
        run = run_cli("check", "--metadata", url, "--json", str(out), "-q", "--no-history", "--deadline", "20")
        run.assert_clean()
        finding = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "metadata.reachable")
        # This tool refused the address before sending anything: not determined (INCOMPLETE,
        # exit 3), never a failure of the target (issue 11 section 1; commit 1619608).
        assert run.code == 3 and finding["status"] == "error"
        assert f"not determined: {words}" in finding["summary"], finding["summary"]
        assert "set network.allow_link_local = true" in finding["summary"]

    def redirect(connection, request: Request, stop: threading.Event) -> None:
        connection.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/api/token\r\n"
                           b"Content-Length: 0\r\n\r\n")

    with HostileServer(redirect) as server:
        out = tmp_path / "r2.json"
        run = run_cli("check", "--metadata", f"http://{server.address}/FederationMetadata.xml", "--json", str(out),
                       "-q", "--no-history", "--deadline", "20")
    run.assert_clean()
    finding = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "metadata.reachable")
    assert finding["status"] == "fail" and "redirect refused: 169.254.169.254 is a link-local address" in \
        finding["summary"]


def test_class3_and_7_credentials_in_a_url_are_refused_never_sent_never_echoed(tmp_path: Path) -> None:
    password = "Hunter2-Pa55-word"
    with HostileServer(lambda c, r, s: answer(c, METADATA_FILE.read_bytes(), content_type="text/xml")) as server:
        url = f"http://admin:{password}@{server.address}/FederationMetadata/2007-06/FederationMetadata.xml"
        out = tmp_path / "out"
        out.mkdir()
        run = run_cli("check", "--metadata", url, "-vv", "--json", str(out / "r.json"), "--html", str(out / "r.html"),
                       "--csv", str(out / "r.csv"), "--metrics", str(out / "r.prom"), "--markdown", str(out / "r.md"),
                       "--junit", str(out / "r.xml"), "--deadline", "20")
        collected = run_cli("collect", "--metadata", url, "--out", str(out / "snapshot.json"), "-q",
                             "--deadline", "20")
    run.assert_clean()
    collected.assert_clean()
    assert server.connections == 0  # never sent, not even a TCP connection
    assert run.code == 3  # refused before sending: not determined (INCOMPLETE), not the target's failure
    report = json.loads((out / "r.json").read_text())
    finding = next(f for f in report["findings"] if f["check_id"] == "metadata.reachable")
    assert "carries a user name or password before its host (user:password@): refused, never sent" in \
        finding["summary"]
    # No setting lets credentials through: the advice is not the link-local one.
    assert "allow_link_local" not in finding["summary"], finding["summary"]
    assert_no_secret(password, texts=(run.out, run.err, collected.out, collected.err),
                     folders=(out, _data_dir()))


# --- classes 3 and 7: Graph and its token endpoint ----------------------------------------------

LOGIN, GRAPH, TENANT = "login.hostile.test", "graph.hostile.test", "00000000-0000-4000-8000-00000000beef"


def _discovery(request: Request) -> bytes:
    base = f"https://{LOGIN}/{TENANT}"
    return json.dumps({"token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0",
                       "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"}).encode()


def _graph_server(token: str, graph: str) -> "HostileServer.__init__":
    """A handler for the login host and Graph told apart by the Host header: discovery, then the
    token endpoint behaving as ``token``, then Graph as ``graph``."""

    def handler(connection, request: Request, stop: threading.Event) -> None:
        host = request.headers.get("host", "")
        if request.path.endswith("/.well-known/openid-configuration"):
            return answer(connection, _discovery(request))
        if request.method == "POST":  # the token endpoint
            if token == "echo":
                echoed = request.body.decode("latin-1")
                return answer(connection, json.dumps({"error": "invalid_client", "error_description":
                                                      f"AADSTS7000215: Invalid client secret provided: {echoed}"})
                              .encode(), status="401 Unauthorized")
            if token == "bomb":
                return send_bomb(connection, BOMB)
            if token == "drip":
                return drip(connection, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                        b"Content-Length: 1000000\r\n\r\n{", b" ", stop, every=0.2)
            return answer(connection, json.dumps({"token_type": "Bearer", "expires_in": 3600,
                                                  "access_token": "lab-access-token-0123456789"}).encode())
        if host.startswith(GRAPH):
            if graph == "bomb":
                return send_bomb(connection, BOMB)
            if graph in _HOSTILE_JSON:
                return answer(connection, _HOSTILE_JSON[graph])
            if graph == "surrogates":
                body = ('{"value": [{"issuerUri": "http://sts.contoso.com/adfs/services/trust\\ud800", '
                        '"passiveSignInUri": "https://sts.contoso.com/adfs/ls/\\udfff", '
                        '"displayName": "\\ud83d\\ude00 \\udc00 lone", "signingCertificate": "\\ud800"}]}')
                return answer(connection, body.encode("ascii"))
        return answer(connection, b"{}", status="404 Not Found")

    return handler


#: Graph answers that are JSON only to a lenient parser: the one untrusted-JSON reader refuses
#: them with the bounds it applies to exports and snapshots (NaN is not JSON, RFC 8259 6).
_HOSTILE_JSON = {
    "nan": b'{"value": [{"issuerUri": NaN, "passiveSignInUri": Infinity}]}',
    "deep": b'{"value": ' + b"[" * 70 + b"]" * 70 + b"}",
    "digits": b'{"value": [{"preferredAuthenticationProtocol": ' + b"7" * 5000 + b"}]}",
}


def _graph_config(tmp_path: Path, server: HostileServer, ca_file: Path) -> Path:
    config = tmp_path / "graph.toml"
    config.write_text(f'[federation]\nservice_name = "sts.contoso.com"\ndomains = ["contoso.com"]\n\n'
                      f'[cloud]\nrealm_discovery = false\nlogin_host = "{LOGIN}"\nlogin_address = "{server.address}"\n'
                      f'graph_host = "{GRAPH}"\ngraph_address = "{server.address}"\ntenant_id = "{TENANT}"\n'
                      f'client_id = "11111111-2222-4333-8444-555555555555"\n'
                      f'client_secret_env = "HOSTILE_GRAPH_SECRET"\n\n[tls]\nca_bundle = "{ca_file}"\n')
    return config


@pytest.mark.parametrize("token, graph, words", [
    ("echo", "ok", "token request refused: invalid_client: AADSTS7000215: Invalid client secret provided"),
    ("bomb", "ok", "could not get a token from login.hostile.test"),
    ("drip", "ok", "could not get a token from login.hostile.test"),
    ("ok", "bomb", "contoso.com: Graph request failed: too_large: answer larger than"),
    ("ok", "surrogates", None),
    ("ok", "nan", "contoso.com: Graph answered HTTP 200 with a body that is not JSON (NaN is not a JSON value)"),
    ("ok", "deep", "contoso.com: Graph answered HTTP 200 with a body that is not JSON ($.value"),
    ("ok", "digits", "with a body that is not JSON (a number with 5,000 digits (at most 40 are accepted))"),
])
def test_class3_7_graph_and_its_token_endpoint_are_capped_timed_and_scrubbed(tmp_path: Path, token: str, graph: str,
                                                                           words: str | None) -> None:
    secret = "Gr4ph~Client.Secret_0123456789+/="
    identity = tls_identity(tmp_path / "tls", LOGIN, GRAPH)
    with HostileServer(_graph_server(token, graph), tls=identity.context) as server:
        out = tmp_path / "out"
        out.mkdir()
        # Only the Entra side: no other probe of sts.contoso.com starts (no DNS, no TLS).
        run = run_cli("check", "--config", str(_graph_config(tmp_path, server, identity.ca_file)), "-vv",
                      "--only", "cloud.issuer-uri",
                       "--json", str(out / "r.json"), "--html", str(out / "r.html"), "--csv", str(out / "r.csv"),
                       "--timeout", "3", "--deadline", "40", "--tenant", "graph-tenant",
                      env={"HOSTILE_GRAPH_SECRET": secret})
    run.assert_clean()
    assert run.code in (1, 2, 3)
    assert run.seconds < 40
    report = json.loads((out / "r.json").read_text())
    settings = next(f for f in report["findings"] if f["check_id"] == "cloud.issuer-uri")
    if words is not None:
        assert words in settings["summary"], settings["summary"]
    else:  # the lone surrogates became U+FFFD where the bytes became text; every writer wrote
        assert "\ufffd" in json.dumps(report["facts"]["entra_federation"], ensure_ascii=False)
        assert "\U0001f600" in json.dumps(report["facts"]["entra_federation"], ensure_ascii=False)
    assert_no_secret(secret, texts=(run.out, run.err), folders=(out, _data_dir()))


# --- class 7: an LDAP server that echoes the bind password ------------------------------------

def test_class7_ldap_server_echoing_the_bind_password_leaks_it_nowhere(tmp_path: Path) -> None:
    password = "Ld4p-Bind/Pass:word%41"
    with EchoingLdapServer() as ldap:
        config = tmp_path / "ldap.toml"
        config.write_text(f'[federation]\nservice_name = "sts.contoso.com"\n\n[directory]\n'
                          f'server = "ldap://127.0.0.1:{ldap.port}"\nbind_user = "CORP\\\\svc-readiness"\n'
                          f'password_env = "HOSTILE_LDAP_PASSWORD"\nbase_dn = "DC=corp,DC=contoso,DC=com"\n')
        out = tmp_path / "out"
        out.mkdir()
        run = run_cli("check", "--config", str(config), "-vv", "--only", "directory.connect",
                      "--json", str(out / "r.json"),
                       "--html", str(out / "r.html"), "--csv", str(out / "r.csv"), "--metrics", str(out / "r.prom"),
                       "--timeout", "3", "--deadline", "30", env={"HOSTILE_LDAP_PASSWORD": password})
        collected = run_cli("collect", "--config", str(config), "--only", "directory.connect", "--out",
                            str(out / "snapshot.json"), "-q", "--timeout", "3", "--deadline", "30",
                            env={"HOSTILE_LDAP_PASSWORD": password})
    run.assert_clean()
    report = json.loads((out / "r.json").read_text())
    connect = next(f for f in report["findings"] if f["check_id"] == "directory.connect")
    assert connect["status"] in ("fail", "error") and "[REDACTED]" in json.dumps(report)
    assert_no_secret(password, texts=(run.out, run.err, collected.out, collected.err),
                     folders=(out, _data_dir()))


@pytest.mark.parametrize("source", ["prompt", "keyring"])
def test_class7_a_prompted_or_keyring_bind_password_echoed_by_the_ldap_server_leaks_nowhere(tmp_path: Path,
                                                                                            source: str) -> None:
    """A password that does not come from an environment variable the redactor knows by name is
    registered as a run secret as soon as it is read (it used to reach the report verbatim when a
    DC echoed it)."""
    password = "Pr0mpt-or-K3yring/Secret%41"
    tests = str(Path(__file__).parent)
    env = ({"TEST_KEYRING_PASSWORD": password, "PYTHON_KEYRING_BACKEND": "env_keyring.EnvironmentKeyring",
            "PYTHONPATH": os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))}
           if source == "keyring" else {})
    # A prompt needs a terminal (without one the run refuses password_source = "prompt" up front):
    # the password is typed on one, as an admin would.
    typed = f"{password}\n".encode() if source == "prompt" else None
    with EchoingLdapServer() as ldap:
        config = tmp_path / "ldap.toml"
        config.write_text(f'[federation]\nservice_name = "sts.contoso.com"\n\n[directory]\n'
                          f'server = "ldap://127.0.0.1:{ldap.port}"\nbind_user = "CORP\\\\svc-readiness"\n'
                          f'password_source = "{source}"\nbase_dn = "DC=corp,DC=contoso,DC=com"\n')
        out = tmp_path / "out"
        out.mkdir()
        run = run_cli("check", "--config", str(config), "-vv", "--only", "directory.connect",
                      "--json", str(out / "r.json"), "--html", str(out / "r.html"), "--csv", str(out / "r.csv"),
                      "--metrics", str(out / "r.prom"), "--timeout", "3", "--deadline", "30",
                      env=env, new_session=True, terminal_input=typed)
        collected = run_cli("collect", "--config", str(config), "--only", "directory.connect", "--out",
                            str(out / "snapshot.json"), "-q", "--timeout", "3", "--deadline", "30",
                            env=env, new_session=True, terminal_input=typed)
    run.assert_clean()
    collected.assert_clean()
    report = json.loads((out / "r.json").read_text())
    connect = next(f for f in report["findings"] if f["check_id"] == "directory.connect")
    # The bind was made with the password (the server echoed it back), and it was scrubbed.
    assert connect["status"] == "error" and "the DC refused the credentials" in connect["summary"], connect
    assert "[REDACTED]" in connect["summary"]
    assert_no_secret(password, texts=(run.out, run.err, collected.out, collected.err),
                     folders=(out, _data_dir()))


def test_class7_webhook_url_secret_is_in_no_log_and_no_output(tmp_path: Path) -> None:
    token = "T0KEN-5ecret-B000-XXXXXXXXXXXXXXXX"
    with HostileServer(lambda c, r, s: answer(c, f"echo {r.path}".encode(), status=f"500 {r.path}")) as hook:
        run = _two_runs_with_a_change(tmp_path, f"http://{hook.address}/services/T000/{token}?code={token}", "-vv")
    run.assert_clean()
    assert "notification not delivered" in run.err and "answered 500" in run.err
    assert_no_secret(token, texts=(run.out, run.err), folders=(_data_dir(),))


# --- class 2: invalid Unicode from files --------------------------------------------------------

def test_class2_lone_surrogates_in_exports_and_snapshots_reach_every_writer_safely(tmp_path: Path) -> None:
    entra = tmp_path / "entra.json"
    entra.write_text('{"domainId": "contoso.com", "issuerUri": "http://sts\\ud800.contoso.com/adfs/services/trust", '
                     '"passiveSignInUri": "https://sts.contoso.com/adfs/ls/", "displayName": "\\udfff"}')
    adfs = tmp_path / "adfs.json"
    adfs.write_text('{"CollectorVersion": "1\\ud800", "ComputerName": "ADFS\\udc00", "Properties": '
                    '{"HostName": "sts.contoso.com\\ud800"}}')
    out = tmp_path / "out"
    out.mkdir()
    only = ["--only", "adfs.export-readable", "--only", "cloud.issuer-uri", "--only", "cloud.sign-in-uris"]
    common = ["--entra-export", str(entra), "--adfs-export", str(adfs), "--domain", "contoso.com", *only]
    run = run_cli("check", *common, "--json", str(out / "r.json"), "--html", str(out / "r.html"),
                   "--csv", str(out / "r.csv"), "--markdown", str(out / "r.md"), "--junit", str(out / "r.xml"),
                   "--metrics", str(out / "r.prom"))
    run.assert_clean()
    assert run.code in (1, 2, 3) and run.out  # the text report was printed
    text = (out / "r.json").read_text(encoding="utf-8")
    assert "sts\ufffd.contoso.com" in text and "ADFS\ufffd" in text
    snapshot = tmp_path / "s.json"
    config = tmp_path / "c.toml"
    config.write_text(f'[federation]\ndomains = ["contoso.com"]\n\n'
                      f'[adfs]\nexport = "{adfs}"\n\n[cloud]\nentra_export = "{entra}"\nrealm_discovery = false\n')
    collected = run_cli("collect", "--config", str(config), *only, "--out", str(snapshot), "-q")
    collected.assert_clean()
    doc = json.loads(snapshot.read_text(encoding="utf-8"))
    doc["target"] = "evil\\ud800"
    snapshot.write_text(json.dumps(doc).replace("evil\\\\ud800", "evil\\ud800"))
    assessed = run_cli("assess", str(snapshot), "--json", str(out / "a.json"), "--html", str(out / "a.html"))
    assessed.assert_clean()
    assert assessed.code in (1, 2, 3) and "evil\ufffd" in (out / "a.json").read_text(encoding="utf-8")


# --- class 8: terminal and spreadsheet injection ------------------------------------------------

def test_class8_escape_sequences_from_servers_and_files_are_shown_not_run(tmp_path: Path) -> None:
    evil = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\r"
    with HostileServer(lambda c, r, s: answer(c, b"nope", status=f"500 {evil}Server Error")) as server:
        run = run_cli("check", "--metadata", f"http://{server.address}/m.xml", "--no-history", "--deadline", "20",
                       "--color", "never")
        hooked = _two_runs_with_a_change(tmp_path, f"http://{server.address}/hook/0123456789abcdef0123")
    run.assert_clean()
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J\\r" in run.out and "\x1b" not in run.out
    assert "\x1b" not in hooked.err and "answered 500" in hooked.err
    bad_config = tmp_path / "evil.toml"
    bad_config.write_text(f'[federation]\n"{evil}" = 1\n'.replace("\x1b", "\\u001b").replace("\x07", "\\u0007")
                          .replace("\r", "\\r"))
    refused = run_cli("check", "--config", str(bad_config))
    assert refused.code == 3 and "\x1b" not in refused.err and "\\x1b" in refused.err


def test_class8_every_csv_cell_is_guarded_against_formulas(tmp_path: Path) -> None:
    from adfs_readiness.text import csv_cell

    for value in ("=cmd|' /C calc'!A0", "+1", "-2", "@SUM(1)", "\t=1", "\r=1", "\n=1", " =1", "\uff1d1"):
        assert csv_cell(value) == "'" + value
    assert csv_cell("sts.contoso.com") == "sts.contoso.com" and csv_cell(None) == "" and csv_cell("\ud800") == "\ufffd"
    with HostileServer(lambda c, r, s: answer(c, b"x", status="500 =HYPERLINK(\"http://evil\")")) as server:
        out = tmp_path / "r.csv"
        run = run_cli("check", "--metadata", f"http://{server.address}/=1+1", "--csv", str(out), "-q",
                       "--no-history", "--deadline", "20")
    run.assert_clean()
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    for row in rows[1:]:
        for cell in row:
            assert cell.lstrip(" ")[:1] not in ("=", "+", "-", "@"), row
