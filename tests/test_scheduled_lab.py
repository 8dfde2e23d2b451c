"""Scheduled runs against the demo lab on loopback, end to end through the CLI: two runs with a
scenario changed in between show the change in the second report, in `history diff`, and as one
webhook post; no post when nothing changed. Plus the run lock, and quiet output for cron."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hostile import CliRun, run_cli
from webhook_receiver import WebhookReceiver, private_ca_receiver_certificate

from adfs_readiness.cli import main
from adfs_readiness.history import History
from adfs_readiness.lab import Lab
from adfs_readiness.locking import run_lock
from adfs_readiness.report.json_report import validate_report

FS = "sts.contoso.test"


def lab_config(lab: Lab, tmp_path) -> str:
    """The lab's settings as a config file; DNS is skipped (judged against the DNS lab elsewhere)."""
    path = tmp_path / "lab.toml"
    path.write_text(lab.config_toml() + '[checks]\nskip = ["dns.*"]\n', encoding="utf-8")
    return str(path)


def check(lab: Lab, tmp_path, name: str, *extra: str) -> tuple[int, dict]:
    report = tmp_path / f"{name}.json"
    code = main(["check", "--config", lab_config(lab, tmp_path), "--timeout", "2", "--deadline", "20",
                 "--history", str(tmp_path / "history.sqlite3"), "--json", str(report), "-q", *extra])
    doc = json.loads(report.read_text())
    validate_report(doc)
    return code, doc


def test_a_scenario_change_shows_in_the_report_in_history_diff_and_as_one_post(tmp_path, capsys):
    now = datetime.now(timezone.utc)
    with WebhookReceiver() as hook:
        with Lab("healthy", now=now, workdir=tmp_path / "lab1") as lab:
            code1, first = check(lab, tmp_path, "r1", "--notify-webhook", hook.url)
            code2, second = check(lab, tmp_path, "r2", "--notify-webhook", hook.url)
        assert (code1, first["verdict"]) == (0, "READY") and "since_last_run" not in first
        assert hook.posts == []  # a first run sets the baseline; the second changed nothing
        assert second["since_last_run"]["new"] == [] and second["since_last_run"]["resolved"] == []
        assert second["since_last_run"]["previous_run"]["id"] == 1 and code2 == 0
        assert second["since_last_run"]["score_trend"] == [100, 100]

        with Lab("token-signing-expired", now=now, workdir=tmp_path / "lab2") as lab:
            html = tmp_path / "r3.html"
            code3, third = check(lab, tmp_path, "r3", "--notify-webhook", hook.url, "--html", str(html),
                                 "--markdown", str(tmp_path / "r3.md"))
            code4, fourth = check(lab, tmp_path, "r4", "--notify-webhook", hook.url)

    assert (code3, third["verdict"]) == (2, "NOT_READY")
    since = third["since_last_run"]
    assert since["previous_run"] == {"id": 2, "started_at": second["started_at"], "verdict": "READY",
                                     "grade": "A", "score": 100}
    assert since["score_delta"] == third["score"] - 100 and since["score_trend"] == [100, 100, third["score"]]
    new = {(c["check_id"], c["before"], c["after"]) for c in since["new"]}
    expired = next(f for f in third["findings"] if f["check_id"] == "token-signing.expiry")
    assert ("token-signing.expiry", None, "fail") in new  # a new certificate, so a new target
    assert ("token-signing.rollover", None, "warn") in new
    assert next(c for c in since["new"] if c["check_id"] == "token-signing.expiry")["target"] == expired["target"]
    page = html.read_text()
    assert 'id="since"' in page and "Since last run" in page and "token-signing.expiry" in page.split('id="since"')[1]
    assert "## Since last run" in (tmp_path / "r3.md").read_text()

    # Exactly one post: the verdict changed once; run 4 changed nothing.
    assert len(hook.posts) == 1 and code4 == 2 and fourth["since_last_run"]["new"] == []
    path, body = hook.posts[0]
    assert path == "/webhookb2/secret-token-123"
    assert body["@type"] == "MessageCard" and body["summary"] == f"AD FS readiness of {FS}: READY → NOT_READY"
    assert body["text"].startswith(f"*AD FS readiness of {FS}: READY → NOT_READY*")
    assert "token-signing.expiry" in body["text"]
    data = body["adfs_readiness"]
    assert (data["previous_verdict"], data["verdict"], data["run_id"]) == ("READY", "NOT_READY", 3)
    assert "token-signing.expiry" in data["newly_failing"] and data["no_longer_failing"] == []
    assert {"name": "Verdict", "value": "READY → NOT_READY"} in body["sections"][0]["facts"]

    capsys.readouterr()
    assert main(["history", "--history", str(tmp_path / "history.sqlite3"), "diff", "2", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("run 2 -> run 3: READY -> NOT_READY, score 100 -> ")
    assert f"  new      token-signing.expiry [{expired['target']}]: absent -> fail: " in out
    assert main(["history", "--history", str(tmp_path / "history.sqlite3"), "diff", "2", "3", "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["verdict"] == ["READY", "NOT_READY"]
    assert {(c["check_id"], c["after"]) for c in diff["new"]} == {(c["check_id"], c["after"]) for c in since["new"]}
    assert main(["history", "--history", str(tmp_path / "history.sqlite3"), "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 5 and listing[1].split()[0] == "4" and "NOT_READY" in listing[1]
    assert main(["history", "--history", str(tmp_path / "history.sqlite3"), "show", "3", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["verdict"] == "NOT_READY" and shown["target_key"] == FS
    assert any(c["purpose"] == "token-signing" and c["days_left"] < 0 for c in shown["certificates"])


def test_certificates_moving_closer_to_expiry_are_listed(tmp_path):
    # The same lab observed today and three days later (the injected clock of a scheduled run;
    # the CLI's --as-of is a projection and is never recorded): every certificate lost 3 days.
    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.probes.catalog import all_probes
    from adfs_readiness.report.json_report import report_dict
    from adfs_readiness.app.scheduled import ScheduleOptions, run_scheduled

    now = datetime.now(timezone.utc)
    today = now.date()
    options = ScheduleOptions(history_path=tmp_path / "history.sqlite3")
    with Lab("demo", now=now, workdir=tmp_path / "lab") as lab:
        config = lab.config(checks={"skip": ("dns.*",)}, network={"timeout_seconds": 2.0, "deadline_seconds": 20.0})
        midnight = datetime(today.year, today.month, today.day, tzinfo=timezone.utc)
        first = run_scheduled(discover_checks(), all_probes(), config, midnight, options)
        second = run_scheduled(discover_checks(), all_probes(), config, midnight + timedelta(days=3), options)
        before, later = report_dict(first.result), report_dict(second.result)
        # A projection of the same lab is neither recorded nor compared.
        _, projected = check(lab, tmp_path, "c", "--as-of", (today + timedelta(days=9)).isoformat())
        assert "since_last_run" not in projected
    moved = later["since_last_run"]["certificates_closer_to_expiry"]
    assert [(c["purpose"], c["days_left_before"] - c["days_left_after"]) for c in moved] == [
        ("token-signing", 3), ("token-decrypting", 3), ("token-signing", 3), ("SSL", 3), ("SSL chain", 3)]
    primary = moved[0]
    assert primary["days_left_before"] == (datetime.fromisoformat(primary["not_after"]).date() - today).days
    assert later["since_last_run"]["new"] == [] and later["since_last_run"]["score_trend"] == [before["score"],
                                                                                               later["score"]]
    with History(tmp_path / "history.sqlite3") as history:
        assert [r.id for r in history.runs(FS)] == [2, 1]


def test_failed_notification_is_reported_not_fatal(tmp_path, capsys):
    now = datetime.now(timezone.utc)
    with WebhookReceiver(status=500) as hook:
        with Lab("healthy", now=now, workdir=tmp_path / "l1") as lab:
            check(lab, tmp_path, "a", "--notify-webhook", hook.url)
        with Lab("tampered-signature", now=now, workdir=tmp_path / "l2") as lab:
            code, doc = check(lab, tmp_path, "b", "--notify-webhook", hook.url)
    assert len(hook.posts) == 1 and code == doc["exit_code"] == 1
    err = capsys.readouterr().err
    assert "notification not delivered: http://127.0.0.1:" in err and "answered 500" in err
    assert "secret-token-123" not in err  # the URL's path is the credential


def _child_check(lab: Lab, tmp_path: Path, name: str, *extra: str) -> CliRun:
    """``check`` of the lab in a child process, as cron runs it: standard error exactly as an admin
    (or cron's mail) gets it, the log handler included (in-process, pytest's own log capture
    keeps the CLI from installing its handler)."""
    run = run_cli("check", "--config", lab_config(lab, tmp_path), "--timeout", "2", "--deadline", "20",
                  "--history", str(tmp_path / "history.sqlite3"), "--json", str(tmp_path / f"{name}.json"), "-q",
                  *extra)
    run.assert_clean()
    return run


def test_history_and_webhook_warnings_are_printed_once(tmp_path):
    """Each warning of the scheduled run is said once on standard error (it used to be logged by
    the scheduled run and printed again by the CLI): a webhook that answers 500, a damaged
    history row, a webhook without a history."""
    import sqlite3

    now = datetime.now(timezone.utc)
    with WebhookReceiver(status=500) as hook:
        with Lab("healthy", now=now, workdir=tmp_path / "l1") as lab:
            _child_check(lab, tmp_path, "a", "--notify-webhook", hook.url)
        with Lab("tampered-signature", now=now, workdir=tmp_path / "l2") as lab:
            posted = _child_check(lab, tmp_path, "b", "--notify-webhook", hook.url)
        with sqlite3.connect(tmp_path / "history.sqlite3") as db:
            db.execute("UPDATE runs SET verdict = 'MAYBE' WHERE id = 2")  # the latest run is now damaged
        with Lab("healthy", now=now, workdir=tmp_path / "l3") as lab:
            damaged = _child_check(lab, tmp_path, "c", "--notify-webhook", hook.url)
            unrecorded = _child_check(lab, tmp_path, "d", "--notify-webhook", hook.url, "--no-history")
    assert len(hook.posts) == 1  # b: READY -> READY WITH WARNINGS; c compares with run 1 (READY)
    assert posted.err.count("notification not delivered") == 1, posted.err
    assert "answered 500" in posted.err and "secret-token-123" not in posted.err
    assert damaged.err.count("is damaged and was skipped") == 1, damaged.err
    assert unrecorded.err.count("--notify-webhook needs the history") == 1, unrecorded.err


def _with_ca_bundle(lab: Lab, tmp_path: Path, bundle: Path) -> str:
    """The lab's config file with ``tls.ca_bundle`` replaced by ``bundle``."""
    path = Path(lab_config(lab, tmp_path))
    text = path.read_text(encoding="utf-8").replace(f'ca_bundle = "{lab.ca_bundle}"', f'ca_bundle = "{bundle}"', 1)
    assert f'ca_bundle = "{bundle}"' in text
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_webhook_is_verified_with_the_runs_ca_bundle(tmp_path, capsys):
    """The post goes through the run's network: an HTTPS receiver whose certificate a private CA
    signed is trusted exactly when the run's tls.ca_bundle holds that CA (the post used to be made
    with the default trust only, so such a receiver was never reached)."""
    now = datetime.now(timezone.utc)
    private_ca, *pem = private_ca_receiver_certificate(tmp_path, "127.0.0.1")
    history = str(tmp_path / "history.sqlite3")

    def run(lab: Lab, name: str, trusted: bool, url: str) -> int:
        bundle = tmp_path / f"{name}-bundle.pem"
        bundle.write_bytes(lab.ca_bundle.read_bytes() + (private_ca.read_bytes() if trusted else b""))
        config = _with_ca_bundle(lab, tmp_path, bundle)
        return main(["check", "--config", config, "--timeout", "2", "--deadline", "20", "--history", history,
                     "--json", str(tmp_path / f"{name}.json"), "-q", "--notify-webhook", url])

    with WebhookReceiver(certificate=(pem[0], pem[1])) as hook:
        assert hook.url.startswith("https://127.0.0.1:")
        with Lab("healthy", now=now, workdir=tmp_path / "l1") as lab:
            run(lab, "baseline", True, hook.url)
        with Lab("tampered-signature", now=now, workdir=tmp_path / "l2") as lab:
            capsys.readouterr()
            run(lab, "untrusted", False, hook.url)
            untrusted_err = capsys.readouterr().err
        with Lab("healthy", now=now, workdir=tmp_path / "l3") as lab:
            run(lab, "trusted", True, hook.url)
            trusted_err = capsys.readouterr().err
    # Without the private CA in tls.ca_bundle the receiver is not trusted: not delivered, said why.
    assert "notification not delivered: https://127.0.0.1:" in untrusted_err and ": tls" in untrusted_err
    # With it, the post arrives over HTTPS (the verdict went back from READY WITH WARNINGS to READY).
    assert "notification not delivered" not in trusted_err, trusted_err
    assert len(hook.posts) == 1
    path, body = hook.posts[0]
    assert path == "/webhookb2/secret-token-123" and body["adfs_readiness"]["verdict"] == "READY"


def test_overlapping_run_of_the_same_target_is_refused(tmp_path, capsys, _private_data_dir):
    now = datetime.now(timezone.utc)
    with Lab("healthy", now=now, workdir=tmp_path / "lab") as lab:
        with run_lock(_private_data_dir / "locks", FS):
            busy = main(["check", "--config", lab_config(lab, tmp_path), "--history", str(tmp_path / "h.sqlite3"),
                         "--json", str(tmp_path / "busy.json"), "-q"])
            assert busy == 3 and not (tmp_path / "busy.json").exists()
            assert "another run of sts.contoso.test is in progress" in capsys.readouterr().err
        code, doc = check(lab, tmp_path, "free")
    assert code == 0 and doc["verdict"] == "READY"
    assert not (tmp_path / "h.sqlite3").exists()  # the refused run recorded nothing


def test_quiet_run_prints_nothing(tmp_path, capsys):
    now = datetime.now(timezone.utc)
    with Lab("healthy", now=now, workdir=tmp_path / "lab") as lab:
        check(lab, tmp_path, "q")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
