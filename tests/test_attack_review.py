"""Attack review of issue 12, 2026-12-05 (docs/hardening.md, "Attack review, 2026-12-05"): the
attempts that broke, each held by a test of its whole class, on real files, real FIFOs and real
loopback servers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hostile import run_cli

from adfs_readiness import files
from adfs_readiness.files import UnsafePath

METADATA = Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"


# --- writes onto special nodes: "--json /dev/stdout", "--csv /dev/null" as root --------------------

def _special_destinations(tmp_path: Path) -> dict[str, Path]:
    """Destinations that must not be replaced by a regular file: a FIFO, a link to a character
    device (as /dev/null is), and a link through /proc to an open regular file (as /dev/stdout
    is when cron redirects standard output to a log file). Built in tmp: the real /dev is not
    touched."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    to_device = tmp_path / "null-link"
    to_device.symlink_to("/dev/null")
    log = tmp_path / "cron.log"
    log.write_text("earlier cron output\n")
    return {"fifo": fifo, "device link": to_device, "log": log}


@pytest.mark.parametrize("kind", ["fifo", "device link"])
def test_write_atomic_refuses_to_replace_a_fifo_or_a_link_to_a_device(tmp_path, kind):
    target = _special_destinations(tmp_path)[kind]
    before = os.lstat(target)
    with pytest.raises(UnsafePath) as caught:
        files.write_atomic(target, "{}")
    assert "not a file: refused" in str(caught.value)
    after = os.lstat(target)
    assert (after.st_ino, stat.S_IFMT(after.st_mode)) == (before.st_ino, stat.S_IFMT(before.st_mode))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_write_atomic_refuses_a_link_through_proc_even_when_it_leads_to_a_regular_file(tmp_path):
    # /dev/stdout -> /proc/self/fd/1 -> cron's log file: stat says "regular file", yet the rename
    # would replace the system's /dev/stdout link itself.
    log = _special_destinations(tmp_path)["log"]
    with open(log, "a") as handle:
        stdout_like = tmp_path / "stdout"
        stdout_like.symlink_to(f"/proc/self/fd/{handle.fileno()}")
        with pytest.raises(UnsafePath) as caught:
            files.write_atomic(stdout_like, "{}")
        assert "through /proc" in str(caught.value)
        assert stdout_like.is_symlink() and os.readlink(stdout_like).startswith("/proc/self/fd/")
    assert log.read_text() == "earlier cron output\n"
    # An ordinary link to a regular file is still replaced (never followed): the documented rule.
    plain = tmp_path / "plain-link"
    plain.symlink_to(log)
    files.write_atomic(plain, "{}")
    assert not plain.is_symlink() and plain.read_text() == "{}" and log.read_text() == "earlier cron output\n"


def test_reports_onto_a_fifo_or_a_device_link_are_refused_by_the_cli(tmp_path):
    nodes = _special_destinations(tmp_path)
    run = run_cli("check", "--metadata", METADATA, "--no-history", "-q",
                  "--json", nodes["fifo"], "--csv", nodes["device link"], "--html", tmp_path / "report.html")
    run.assert_clean()
    assert run.code == 3
    assert "is a device, FIFO or socket, not a file" in run.err
    assert stat.S_ISFIFO(os.lstat(nodes["fifo"]).st_mode)
    assert nodes["device link"].is_symlink() and os.readlink(nodes["device link"]) == "/dev/null"


# --- untrusted JSON: a number that overflows to infinity ----------------------------------------

@pytest.mark.parametrize("document", ['{"a": 1e999}', "[-1e400]", '{"elapsed_seconds": 1E+309}'])
def test_a_json_number_that_overflows_to_infinity_is_refused_like_the_infinity_literal(document):
    from adfs_readiness.json_input import UntrustedJsonError, parse_untrusted_json

    with pytest.raises(UntrustedJsonError, match="out of range"):
        parse_untrusted_json(document)
    assert parse_untrusted_json('{"a": 1.5e300}') == {"a": 1.5e300}


# --- untrusted TOML: configurations and accepted-risk files --------------------------------------

TOML_BOMBS = {
    # tomllib keeps a tuple of the key path per part: memory grows with the square of the parts.
    "dotted key": "x" + ".y" * 300_000 + " = 1\n",
    "table header": "[x" + ".y" * 300_000 + "]\n",
    "inline table": "a = {x" + ".y" * 300_000 + " = 1}\n",
    # tomllib recurses: RecursionError, not TOMLDecodeError.
    "nested arrays": "a = " + "[" * 200_000 + "]" * 200_000 + "\n",
}


@pytest.mark.parametrize("kind", sorted(TOML_BOMBS))
def test_toml_bombs_in_a_config_or_accepted_risk_file_are_configuration_errors(tmp_path, kind):
    bomb = tmp_path / "bomb.toml"
    bomb.write_text(TOML_BOMBS[kind])
    assert bomb.stat().st_size < 1024 * 1024  # under the fixed configuration cap: the cap alone does not hold it
    reason = "more than 64 parts" if kind != "nested arrays" else "nested too deeply"
    as_config = run_cli("check", "--config", bomb, "--no-history", mem_mb=512, timeout=60)
    as_config.assert_clean()
    assert as_config.code == 3 and reason in as_config.err and "internal error" not in as_config.err
    as_risks = run_cli("check", "--metadata", METADATA, "--no-history", "-q", "--suppressions", bomb,
                       mem_mb=512, timeout=60)
    as_risks.assert_clean()
    assert as_risks.code == 3 and reason in as_risks.err and "internal error" not in as_risks.err


def test_ordinary_toml_still_parses_with_strings_comments_and_numbers_full_of_dots():
    from adfs_readiness.toml_input import parse_untrusted_toml

    text = ('# a comment with ' + "." * 200 + '\n[federation]\ndomains = ["a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s"]\n'
            "[thresholds]\nlatency = 1.5\n[network.\"x.y\"]\nz = '''" + "." * 200 + "'''\n")
    parsed = parse_untrusted_toml(text)
    assert parsed["thresholds"]["latency"] == 1.5 and parsed["network"]["x.y"]["z"] == "." * 200


# --- private files another user planted: the history database and its journals -------------------

needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="a file owned by another user needs root to make")
NOBODY = 65534


@needs_root
@pytest.mark.parametrize("planted", ["history.sqlite3", "history.sqlite3-wal", "history.sqlite3-journal"])
def test_a_history_file_planted_by_another_user_in_a_shared_folder_is_not_used(tmp_path, planted):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o1777)
    shared.chmod(0o1777)
    trap = shared / planted
    trap.write_bytes(b"")
    trap.chmod(0o666)
    os.chown(trap, NOBODY, NOBODY)
    config = tmp_path / "history.toml"
    config.write_text(f'[history]\npath = "{shared / "history.sqlite3"}"\n')
    run = run_cli("check", "--config", config, "--metadata", METADATA, "-q")
    run.assert_clean()
    assert run.code == 2  # still judged and reported; only the history is not recorded
    assert "history not recorded" in run.err and "belongs to another user (uid 65534)" in run.err
    assert trap.read_bytes() == b""  # the other user's file received nothing


@needs_root
def test_a_hard_linked_history_database_is_refused_and_an_old_public_one_made_private(tmp_path):
    history = tmp_path / "data" / "history.sqlite3"
    history.parent.mkdir()
    config = tmp_path / "history.toml"
    config.write_text(f'[history]\npath = "{history}"\n')
    first = run_cli("check", "--config", config, "--metadata", METADATA, "-q")
    assert first.code == 2 and "history not recorded" not in first.err
    history.chmod(0o644)  # as an older release or a careless copy left it
    second = run_cli("check", "--config", config, "--metadata", METADATA, "-q")
    assert second.code == 2 and "history not recorded" not in second.err
    assert stat.S_IMODE(os.lstat(history).st_mode) == 0o600
    os.link(history, tmp_path / "elsewhere.sqlite3")
    linked = run_cli("check", "--config", config, "--metadata", METADATA, "-q")
    linked.assert_clean()
    assert linked.code == 2 and "other hard link" in linked.err


def test_check_private_file_accepts_missing_and_own_files(tmp_path):
    files.check_private_file(tmp_path / "missing")
    own = tmp_path / "own"
    own.write_bytes(b"x")
    own.chmod(0o640)
    files.check_private_file(own)
    assert stat.S_IMODE(os.lstat(own).st_mode) == 0o600
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePath, match="not a regular file"):
        files.check_private_file(fifo)


# --- secrets in the line of an unexpected exception ----------------------------------------------

CRASH_WITH_SECRETS = '''
import os
def boom(*args, **kwargs):
    raise RuntimeError("server said: bad password " + os.environ["ATTACK_BIND_PW"]
                       + " for https://svc:UrlPass-998877@dc.corp.contoso.com/")
import adfs_readiness.report as r
r.render_html = boom
'''


def test_a_crash_whose_message_quotes_a_secret_leaks_it_into_no_report_and_no_stderr_line(tmp_path):
    """The crash line (stderr and the INCOMPLETE reports) is made after the run's result was
    redacted: it is redacted on its own (redaction.redact_known), with URL userinfo masked."""
    from hostile_servers import assert_no_secret

    config = tmp_path / "c.toml"
    config.write_text('[directory]\npassword_env = "ATTACK_BIND_PW"\n')
    out = tmp_path / "out"
    out.mkdir()
    run = run_cli("check", "--config", config, "--metadata", METADATA, "--no-history", "-q",
                  "--json", out / "r.json", "--html", out / "r.html", "--csv", out / "r.csv", "--junit", out / "r.xml",
                  "--markdown", out / "r.md", inject=CRASH_WITH_SECRETS, env={"ATTACK_BIND_PW": "Bind-Secret-Pw-42"})
    run.assert_clean()
    assert run.code == 3
    line = next(line for line in run.err.splitlines() if line.startswith("adfs-readiness: internal error"))
    assert "bad password [REDACTED] for https://***@dc.corp.contoso.com/" in line
    assert "[REDACTED]" in (out / "r.json").read_text()
    for secret in ("Bind-Secret-Pw-42", "UrlPass-998877"):
        assert_no_secret(secret, texts=(run.out, run.err), folders=(out,))


def test_url_userinfo_is_masked_in_any_text_in_linear_time():
    import time

    from adfs_readiness.redaction import Redactor, mask_url_userinfo

    assert mask_url_userinfo("GET https://u:p%40ss@h.example/x and ldap://CORP%5Csvc:pw@dc:389 ok") == \
        "GET https://***@h.example/x and ldap://***@dc:389 ok"
    assert mask_url_userinfo("mail admin@contoso.com, see https://h.example/a@b") == \
        "mail admin@contoso.com, see https://h.example/a@b"
    assert Redactor().text("proxy echoed http://user:pw@10.0.0.1/") == "proxy echoed http://***@10.0.0.1/"
    hostile = "a://" + "b" * 600 + ("http://" + "x" * 100) * 2000 + "@"
    started = time.perf_counter()
    mask_url_userinfo(hostile * 5)
    assert time.perf_counter() - started < 2.0  # linear: bounded repetitions only


# --- held classes without a test of their own before this review --------------------------------

def _hostile_metadata(tmp_path: Path, entity_id: str) -> Path:
    source = METADATA.read_text(encoding="utf-8-sig")
    original = 'entityID="http://fs.msidlab11.com/adfs/services/trust"'
    assert original in source
    path = tmp_path / "hostile.xml"
    path.write_text(source.replace(original, f'entityID="{entity_id}"', 1), encoding="utf-8")
    return path


def test_an_entity_id_cannot_forge_nagios_performance_data_or_a_second_line(tmp_path):
    # "|" starts Nagios performance data; "&#10;" is a newline in the attribute.
    hostile = _hostile_metadata(tmp_path, "http://x|OK - fine | score=100;; &#10;second line")
    run = run_cli("check", "--metadata", hostile, "--no-history", "--nagios")
    run.assert_clean()
    assert run.code == 2
    lines = run.out.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].count("|") == 1, run.out
    assert lines[0].split("|")[1].lstrip().startswith("score=")  # the real performance data, not the forged one


def _posting_runs(tmp_path: Path, webhook: str):
    """A baseline run, then a run whose verdict changed (so the webhook is posted)."""
    broken = tmp_path / "broken.xml"
    broken.write_text("<html>sign in</html>")
    common = ["check", "-q", "--timeout", "2", "--deadline", "30", "--notify-webhook", webhook, "--tenant", "hooked"]
    first = run_cli(*common, "--metadata", METADATA)
    first.assert_clean()
    return run_cli(*common, "--metadata", broken)


def test_a_webhook_that_redirects_its_post_elsewhere_is_not_followed(tmp_path):
    from hostile_servers import HostileServer, answer

    with HostileServer(lambda c, r, s: answer(c, b"ok")) as elsewhere:
        def redirect(connection, request, stop):
            connection.sendall(f"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{elsewhere.address}/stolen\r\n"
                               f"Content-Length: 0\r\n\r\n".encode())

        with HostileServer(redirect) as hook:
            run = _posting_runs(tmp_path, f"http://{hook.address}/hook/T0KEN-abcdef1234567890?sig=S1GNATURE9876")
        posted = [(r.method, r.path) for r in hook.requests]
    run.assert_clean()
    assert run.code == 2
    assert posted == [("POST", "/hook/T0KEN-abcdef1234567890?sig=S1GNATURE9876")]
    assert elsewhere.connections == 0  # the payload went nowhere else
    assert "notification not delivered" in run.err and "answered 307" in run.err
    assert "T0KEN-abcdef1234567890" not in run.err and "S1GNATURE9876" not in run.err


def test_a_webhook_url_with_userinfo_is_refused_never_sent_never_shown(tmp_path):
    from hostile_servers import HostileServer, answer

    with HostileServer(lambda c, r, s: answer(c, b"ok")) as hook:
        run = _posting_runs(tmp_path, f"http://hookuser:H00k-Passw0rd-77@{hook.address}/hook")
    run.assert_clean()
    assert run.code == 2 and hook.connections == 0
    assert "carries a user name or password before its host" in run.err
    assert "H00k-Passw0rd-77" not in run.out + run.err


@pytest.mark.parametrize("wire, words", [
    (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(5000)) + b"Content-Length: 2\r\n\r\nhi",
     "got more than 100 headers"),
    (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 5_000_000 + b"\r\nContent-Length: 2\r\n\r\nhi",
     "got more than 65536 bytes when reading header line"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\nabc", "not read (download cap"),
    (b"<EntityDescriptor/>" * 10, "not usable HTTP"),
])
def test_header_floods_absurd_lengths_and_non_http_answers_are_http_failures(tmp_path, wire, words):
    import json

    from hostile_servers import HostileServer

    with HostileServer(lambda c, r, s: c.sendall(wire)) as server:
        out = tmp_path / "r.json"
        run = run_cli("check", "--metadata", f"http://{server.address}/FederationMetadata.xml", "--json", out,
                      "-q", "--no-history", "--deadline", "20")
    run.assert_clean()
    finding = next(f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "metadata.reachable")
    assert run.code == 2 and finding["status"] == "fail" and words in finding["summary"], finding["summary"]


# --- Markdown injection into the webhook card -----------------------------------------------------

def test_a_hostile_entity_id_is_no_link_or_html_in_the_webhook_card(tmp_path):
    """Teams renders a MessageCard's title, text and facts as Markdown: a metadata document's
    entityID (the run's target) must not become a phishing link in the operators' channel."""
    import json

    from hostile_servers import HostileServer, answer

    evil = "[Action needed: re-enter your password](https://evil.example/login) <b>x</b>"
    hostile = _hostile_metadata(tmp_path, evil.replace("<", "&lt;").replace(">", "&gt;"))
    with HostileServer(lambda c, r, s: answer(c, b"1")) as hook:
        common = ["check", "-q", "--notify-webhook", f"http://{hook.address}/hook", "--tenant", "card"]
        first = run_cli(*common, "--metadata", hostile)
        changed = run_cli(*common, "--metadata", hostile, "--skip", "token-signing.expiry")  # verdict changes
        posted = [json.loads(r.body) for r in hook.requests]
    first.assert_clean()
    changed.assert_clean()
    assert len(posted) == 1
    card = posted[0]
    import re

    for text in (card["title"], card["text"], *(f["value"] for f in card["sections"][0]["facts"])):
        assert not re.search(r"(?<!\\)[\[\]]", text) and "<" not in text, text  # no bracket unescaped, no tag
    assert "\\[Action needed: re-enter your password\\](https://evil.example/login) &lt;b>x&lt;/b>" in card["title"]
    assert card["adfs_readiness"]["target"] == evil  # the machine-readable part keeps the value as it is


def test_no_second_toml_reader():
    """Every TOML the tool reads (configurations, accepted risks) goes through
    toml_input.parse_untrusted_toml; a direct tomllib.loads is how the bombs got in again after a
    merge (app/run.py's raw [checks] skip reading)."""
    import re

    src = Path(__file__).resolve().parents[1] / "src" / "adfs_readiness"
    found = {str(path.relative_to(src)) for path in src.rglob("*.py")
             if re.search(r"\btomllib\.loads?\(", path.read_text(encoding="utf-8"))}
    assert found == {"toml_input.py"}, found
