"""What a change notification says: a skipped check is not fixed, what still fails is named, a
plain http:// webhook is warned about, and the first run says at -v why nothing was posted."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from report_samples import finding, sample_result

from adfs_readiness.app.scheduled import ScheduleOptions, finish_run
from adfs_readiness.history import History
from adfs_readiness.model import Status
from adfs_readiness.notify import change_since, cleartext_warning, webhook_payload


def _with(result, **statuses):
    """``result`` with the findings of the named checks (``dns_msoid="skip"``) given that status;
    a check not yet in it is added."""
    wanted = {k.replace("_", "."): Status(v) for k, v in statuses.items()}
    findings = [dataclasses.replace(f, status=wanted.pop(f.check_id)) if f.check_id in wanted else f
                for f in result.findings]
    findings += [finding(check_id, status, "x") for check_id, status in wanted.items()]
    return dataclasses.replace(result, findings=tuple(findings), started_at=result.started_at + timedelta(days=1))


def _previous(tmp_path, result):
    with History(tmp_path / "h.sqlite3") as history:
        return history.get(history.record(result))


def test_a_skipped_check_is_not_checked_not_fixed(tmp_path):
    # dns.msoid failed last time; this run skipped it (--skip dns.msoid). Two checks still fail.
    before = _with(sample_result(), dns_msoid="fail")
    previous = _previous(tmp_path, before)
    after = _with(sample_result(), dns_msoid="skip")
    assert change_since(previous, after) is None  # same verdict, and a skip alone is no change

    # With another change the post says what happened to each.
    after = _with(sample_result(), dns_msoid="skip", metadata_signature="fail")
    change = change_since(previous, after)
    assert change["newly_failing"] == ["metadata.signature"]
    assert change["still_failing"] == ["metadata.reachable", "token-signing.expiry"]
    assert change["no_longer_failing"] == [] and change["not_checked"] == ["dns.msoid"]
    payload = webhook_payload(after, change)
    lines = payload["text"].splitlines()[1:]
    assert lines == ["Grade F, score 38/100 (was 38).", "Newly failing: metadata.signature.",
                     "Still failing: metadata.reachable, token-signing.expiry.",
                     "Not checked this run: dns.msoid."]
    facts = {f["name"]: f["value"] for f in payload["sections"][0]["facts"]}
    assert facts["Still failing"] == "metadata.reachable, token-signing.expiry"
    assert "No longer failing" not in facts and "Now failing" not in facts
    assert "—" not in str(facts)


def test_only_a_check_that_ran_and_passes_is_no_longer_failing(tmp_path):
    previous = _previous(tmp_path, _with(sample_result(), dns_msoid="fail"))
    change = change_since(previous, _with(sample_result(), dns_msoid="pass"))
    assert change["no_longer_failing"] == ["dns.msoid"] and change["not_checked"] == []
    assert "No longer failing: dns.msoid." in webhook_payload(sample_result(), change)["text"]
    # Out of this run's scope (absent from the findings): not checked either.
    absent = dataclasses.replace(sample_result(), findings=tuple(
        f for f in sample_result().findings if f.check_id != "token-signing.expiry"))
    change = change_since(previous, _with(absent, dns_msoid="pass"))
    assert change["not_checked"] == ["token-signing.expiry"] and change["no_longer_failing"] == ["dns.msoid"]


def test_a_plain_http_webhook_to_another_machine_is_warned_about():
    warning = cleartext_warning("http://hooks.contoso.com/services/T000/B000/secretpart")
    assert warning == ("the webhook http://hooks.contoso.com/… is plain http://: each post (target, verdict, "
                       "failing checks) crosses the network unencrypted; use an https:// URL")
    assert "secretpart" not in warning
    for quiet in ("https://hooks.contoso.com/x", "http://127.0.0.1:8080/hook", "http://[::1]/h",
                  "http://localhost:9000/h", None, ""):
        assert cleartext_warning(quiet) is None, quiet


def test_the_first_run_says_at_debug_level_why_nothing_was_posted(tmp_path, caplog):
    options = ScheduleOptions(history_path=tmp_path / "h.sqlite3", lock_dir=tmp_path / "locks",
                              webhook_url="http://127.0.0.1:9/never-posted")
    result = sample_result()
    with caplog.at_level(logging.DEBUG, logger="adfs_readiness"):
        first = finish_run(result, "fs.contoso.com", result.started_at, options)
    assert first.notification is None and first.warnings == ()
    assert (f"webhook: fs.contoso.com has no earlier run in {tmp_path / 'h.sqlite3'}; this run sets the baseline, "
            "nothing posted") in caplog.text
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="adfs_readiness"):
        finish_run(dataclasses.replace(result, started_at=result.started_at + timedelta(hours=1)), "fs.contoso.com",
                   result.started_at, options)
    assert "webhook: no change since run 1 (same verdict, same failing checks); nothing posted" in caplog.text


def test_check_warns_once_about_a_plain_http_webhook(capsys):
    from conftest import CORPUS

    from adfs_readiness.cli import main

    metadata = str(CORPUS / "metadata" / "msidentitymodel_adfs-v4-metadata.xml")
    main(["check", "--metadata", metadata, "-q", "--no-history", "--only", "metadata.well-formed",
          "--notify-webhook", "http://hooks.contoso.com/services/secret"])
    err = capsys.readouterr().err
    assert err.count("adfs-readiness: warning: the webhook http://hooks.contoso.com/… is plain http://") == 1
    assert "secret" not in err
