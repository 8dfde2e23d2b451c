"""Change notifications: one JSON post to a chat webhook when a tenant's verdict or its set of
failing checks changed since the last recorded run.

The payload is shaped so both common incoming webhooks accept it as it is:

* Slack incoming webhooks read ``text`` (mrkdwn) and ignore what they do not know
  (https://api.slack.com/messaging/webhooks);
* Microsoft Teams incoming webhooks (Office 365 connectors) read the legacy actionable
  MessageCard: ``@type``/``@context``, ``summary``, ``title``, ``themeColor``, ``text`` and
  ``sections[].facts[]`` (name/value pairs);
* and an ``adfs_readiness`` object carries the same data for scripts (Power Automate, n8n, ...).

The first run of a target only sets the baseline: nothing to compare, nothing posted. A failed
post (refused, timeout, non-2xx answer) is returned as data and reported by the caller; it never
fails the run. The URL is a credential (anyone who has it can post), so messages only ever show
its scheme and host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from adfs_readiness.history import RunRecord, failing_checks, finding_rows
from adfs_readiness.model import RunResult, Verdict

__all__ = ["NotifyResult", "change_since", "webhook_payload", "post_webhook", "safe_url"]

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
    """``scheme://host[:port]/…`` of a webhook URL: its path and query are the secret part."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}/…"


def change_since(previous: RunRecord | None, result: RunResult) -> dict[str, Any] | None:
    """The change that warrants a notification, or None: the verdict changed, or the set of
    failing checks (``fail``/``error``, accepted risks excluded) changed. None on the first run."""
    if previous is None:
        return None
    before, after = failing_checks(previous.findings), failing_checks(finding_rows(result))
    verdict = result.grade.verdict
    if previous.verdict is verdict and before == after:
        return None
    return {"previous_verdict": previous.verdict.value, "verdict": verdict.value,
            "newly_failing": sorted(after - before), "no_longer_failing": sorted(before - after),
            "failing": sorted(after), "previous_run_id": previous.id,
            "previous_score": previous.score}


def webhook_payload(result: RunResult, change: Mapping[str, Any], run_id: int | None = None) -> dict[str, Any]:
    """The JSON body for ``change`` (from :func:`change_since`)."""
    g = result.grade
    title = f"AD FS readiness of {result.target}: {change['previous_verdict']} → {g.verdict.value}"
    lines = [f"Grade {g.letter}, score {g.score}/100 (was {change['previous_score']})."]
    if change["newly_failing"]:
        lines.append("Now failing: " + ", ".join(change["newly_failing"]) + ".")
    if change["no_longer_failing"]:
        lines.append("No longer failing: " + ", ".join(change["no_longer_failing"]) + ".")
    text = f"*{title}*\n" + "\n".join(lines)
    facts = [{"name": "Verdict", "value": f"{change['previous_verdict']} → {g.verdict.value}"},
             {"name": "Grade / score", "value": f"{g.letter} / {g.score}"},
             {"name": "Now failing", "value": ", ".join(change["newly_failing"]) or "—"},
             {"name": "No longer failing", "value": ", ".join(change["no_longer_failing"]) or "—"},
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


def post_webhook(url: str, payload: Mapping[str, Any], *, timeout: float = 10.0, session: Any = None) -> NotifyResult:
    """POST ``payload`` as JSON to ``url`` (http/https) within ``timeout`` seconds; redirects are
    not followed (a webhook that redirects is misconfigured). Never raises for network trouble."""
    import requests

    if urlsplit(url).scheme not in ("http", "https"):
        return NotifyResult(False, None, f"not an http(s) URL: {urlsplit(url).scheme or '(none)'}://…")
    http = session or requests.Session()
    try:
        answer = http.post(url, json=dict(payload), timeout=timeout, allow_redirects=False,
                           headers={"User-Agent": "adfs-readiness"})
    except requests.RequestException as exc:
        return NotifyResult(False, None, f"{safe_url(url)}: {type(exc).__name__}")
    finally:
        if session is None:
            http.close()
    if 200 <= answer.status_code < 300:
        return NotifyResult(True, answer.status_code, "posted")
    return NotifyResult(False, answer.status_code, f"{safe_url(url)} answered {answer.status_code} {answer.reason}")
