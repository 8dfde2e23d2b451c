"""Change notifications: one JSON post to a chat webhook when a tenant's verdict or its set of
failing checks changed since the last recorded run.

The payload is shaped so both common incoming webhooks accept it as it is:

* Slack incoming webhooks read ``text`` (mrkdwn) and ignore what they do not know
  (https://api.slack.com/messaging/webhooks);
* Microsoft Teams incoming webhooks (Office 365 connectors) read the legacy actionable
  MessageCard: ``@type``/``@context``, ``summary``, ``title``, ``themeColor``, ``text`` and
  ``sections[].facts[]`` (name/value pairs);
* and an ``adfs_readiness`` object carries the same data for scripts (Power Automate, n8n, ...).

The first run of a target only sets the baseline: nothing to compare, nothing posted (said at
``-v``). A plain ``http://`` URL to another machine is used but warned about once per run
(:func:`cleartext_warning`). A failed
post (refused, timeout, non-2xx answer) is returned as data and reported by the caller; it never
fails the run. The URL is a credential (anyone who has it can post), so messages only ever show
its scheme and host.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from adfs_readiness.facts import ProbeErrorKind
from adfs_readiness.history import RunRecord, failing_checks, finding_rows
from adfs_readiness.model import RunResult, Status, Verdict
from adfs_readiness.net import HttpClient, TimeBudget
from adfs_readiness.redaction import Redactor, protect_logs, webhook_secrets
from adfs_readiness.text import markdown_safe, terminal_safe

__all__ = ["NotifyResult", "change_since", "webhook_payload", "post_webhook", "safe_url", "cleartext_warning"]

#: The answer of a webhook is read this far and thrown away (Slack answers "ok", Teams "1").
_ANSWER_CAP = 64 * 1024
_COLOURS = {Verdict.READY: "2EB886", Verdict.READY_WITH_WARNINGS: "DAA038", Verdict.NOT_READY: "D50200",
            Verdict.INCOMPLETE: "8E44AD"}


@dataclass(frozen=True)
class NotifyResult:
    """What happened to a notification: ``sent`` True on a 2xx answer; ``status`` the HTTP
    status (None when no answer); ``detail`` why not sent, in words."""

    sent: bool
    status: int | None
    detail: str


def safe_url(url: str) -> str:
    """``scheme://host[:port]/…`` of a webhook URL: its path and query are the secret part (and
    any userinfo is dropped); terminal-safe."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a URL that does not parse)"
    return terminal_safe(f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…")


def change_since(previous: RunRecord | None, result: RunResult) -> dict[str, Any] | None:
    """The change that warrants a notification, or None: the verdict changed, or the set of
    failing checks (``fail``/``error``, accepted risks excluded) changed. None on the first run.

    Only a check that ran this time and no longer fails is "no longer failing": a check that
    failed last time but was skipped (``--skip``, ``checks.skip``) or lay outside this run's scope
    is "not checked", not fixed, and alone is no change. The keys: ``newly_failing`` (failing now,
    not last time), ``still_failing`` (both), ``no_longer_failing``, ``not_checked``, ``failing``
    (all failing now), the verdicts, the previous score and run id."""
    if previous is None:
        return None
    rows = finding_rows(result)
    before, after = failing_checks(previous.findings), failing_checks(rows)
    ran = {f["check_id"] for f in rows if f["status"] != Status.SKIP.value}
    not_checked = {c for c in before - after if c not in ran}
    verdict = result.grade.verdict
    if previous.verdict is verdict and before - not_checked == after:
        return None
    return {"previous_verdict": previous.verdict.value, "verdict": verdict.value,
            "newly_failing": sorted(after - before), "still_failing": sorted(after & before),
            "no_longer_failing": sorted(before - after - not_checked), "not_checked": sorted(not_checked),
            "failing": sorted(after), "previous_run_id": previous.id,
            "previous_score": previous.score}


def webhook_payload(result: RunResult, change: Mapping[str, Any], run_id: int | None = None) -> dict[str, Any]:
    """The JSON body for ``change`` (from :func:`change_since`): the newly failing, still failing,
    no longer failing and not checked checks, each line only when it has any."""
    g = result.grade
    # Teams and Slack render the card's title, text and facts as Markdown: the target (a hostile
    # metadata's entityID) and the history's values must not become links, images or HTML.
    md = markdown_safe
    previous = str(change["previous_verdict"])
    # A verdict name is shown as it is (NOT_READY, not NOT\_READY); anything else read back from
    # the history is escaped.
    was = f"{previous if previous in {v.value for v in Verdict} else md(previous)} → {g.verdict.value}"
    title = f"AD FS readiness of {md(result.target)}: {was}"
    lines = [f"Grade {g.letter}, score {g.score}/100 (was {md(change['previous_score'])})."]
    groups = [(label, ", ".join(md(c) for c in ids)) for label, ids in (
        ("Newly failing", change["newly_failing"]), ("Still failing", change.get("still_failing", [])),
        ("No longer failing", change["no_longer_failing"]), ("Not checked this run", change.get("not_checked", [])))]
    lines += [f"{label}: {ids}." for label, ids in groups if ids]
    if not change["failing"]:
        lines.append("Nothing fails now.")
    text = f"*{title}*\n" + "\n".join(lines)
    facts = [{"name": "Verdict", "value": was},
             {"name": "Grade / score", "value": f"{g.letter} / {g.score}"},
             *({"name": label, "value": ids} for label, ids in groups if ids),
             {"name": "Run", "value": f"{result.started_at.isoformat()}" + (f" (history id {run_id})" if run_id else "")}]
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": title,
        "title": title,
        "themeColor": _COLOURS[g.verdict],
        "text": text,
        "sections": [{"facts": facts}],
        "adfs_readiness": {"target": result.target, "run_id": run_id, "started_at": result.started_at.isoformat(),
                           "score": g.score, "grade": g.letter, "exit_code": g.verdict.exit_code, **change},
    }


def cleartext_warning(url: str | None) -> str | None:
    """A warning when ``url`` is a plain ``http://`` webhook to another machine: the post carries
    the run's summary (target, verdict, failing check ids) unencrypted. None for https://, and for
    a loopback host (nothing leaves the machine). The post still goes out: a receiver on the
    admin's own network (n8n, a script) may be plain HTTP on purpose."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return (f"the webhook {safe_url(url)} is plain http://: each post (target, verdict, failing checks) crosses "
            f"the network unencrypted; use an https:// URL")


def post_webhook(url: str, payload: Mapping[str, Any], *, timeout: float = 10.0,
                 client: HttpClient | None = None) -> NotifyResult:
    """POST ``payload`` as JSON to ``url`` (http/https) through the HTTP client (``client``, by
    default one with the default policy and trust). ``timeout`` bounds the whole post, connect to
    last byte of the answer: a server that drips its answer is cut there. The answer is read up to
    64 KiB (after decompression) and not kept; redirects are not followed (a webhook that
    redirects is misconfigured); link-local and metadata addresses and credentials in the URL are
    refused. Never raises for network trouble. The detail shows the URL's scheme and host only."""
    shown = safe_url(url)
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return NotifyResult(False, None, "not a usable URL")
    if scheme not in ("http", "https"):
        return NotifyResult(False, None, f"not an http(s) URL: {terminal_safe(scheme or '(none)')}://…")
    secrets = webhook_secrets(url)
    protect_logs(*secrets)  # -vv shows the libraries' request lines
    scrub = Redactor(secrets).text  # a hostile webhook may echo its own URL in its answer
    client = client if client is not None else HttpClient()
    body = json.dumps(dict(payload), ensure_ascii=False).encode("utf-8")
    answer = client.post(url, body, content_type="application/json", budget=TimeBudget.starting_now(timeout),
                         max_bytes=_ANSWER_CAP)
    error = answer.error
    if answer.status is None and error is not None:
        # The error's own text may name the URL (its path and query are the secret): only its kind
        # and the words of the policy or of this machine's trouble are shown.
        words = error.reason if error.kind in (ProbeErrorKind.POLICY, ProbeErrorKind.LOCAL) else error.kind.value
        return NotifyResult(False, None, f"{shown}: {terminal_safe(scrub(words.replace(url, shown)))}")
    # A status line arrived: the server took the post, whatever became of the rest of its answer
    # (cut at the cap or at the time limit).
    status = answer.status or 0
    if 200 <= status < 300:
        return NotifyResult(True, status, "posted")
    reason = terminal_safe(scrub(answer.exchange.reason or ""))[:100]
    return NotifyResult(False, status, f"{shown} answered {status} {reason}".rstrip())
