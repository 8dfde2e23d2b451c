"""Scheduled runs against the demo lab on loopback, end to end through the CLI: two runs with a
scenario changed in between show the change in the second report, in `history diff`, and as one
webhook post; no post when nothing changed. Plus the run lock, and quiet output for cron."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from webhook_receiver import WebhookReceiver

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
    from dataclasses import replace as dc_replace

    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.probes.catalog import all_probes
    from adfs_readiness.report.json_report import report_dict
    from adfs_readiness.scheduled import ScheduleOptions, run_scheduled

    now = datetime.now(timezone.utc)
    today = now.date()
    options = ScheduleOptions(history_path=tmp_path / "history.sqlite3")
    with Lab("demo", now=now, workdir=tmp_path / "lab") as lab:
        config = lab.config()
        config = dc_replace(config, skip_checks=(*config.skip_checks, "dns.*"), timeout_seconds=2.0,
                            deadline_seconds=20.0)
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
