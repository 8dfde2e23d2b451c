"""A Markdown summary of a run (CommonMark + GitHub tables): for a ticket, a wiki page, a chat
message or a pull request comment.

Sections: the verdict line; "Since last run" (when the run has a previous one); what blocks
single sign-on; the findings that do not pass (a table, worst first, accepted risks marked);
the certificates and their days left. Every value from a server or a directory is escaped
(Markdown punctuation and ``|`` in tables, HTML ``<`` / ``&``), so it cannot add links, images or
markup of its own.
"""

from __future__ import annotations

from adfs_readiness.cert_inventory import run_certificates
from adfs_readiness.model import RunChanges, RunResult, Status
from adfs_readiness.report._common import human_utc, sort_findings
from adfs_readiness.text import markdown_safe

__all__ = ["render_markdown", "md_escape"]

def md_escape(text: str) -> str:
    """``text`` with Markdown punctuation backslash-escaped and ``<``/``&`` as entities; line
    breaks become spaces (safe inside a table cell): :func:`adfs_readiness.text.markdown_safe`."""
    return markdown_safe(text)


def render_markdown(result: RunResult) -> str:
    """The Markdown summary of ``result`` (str ending in a newline)."""
    g = result.grade
    lines = [f"# AD FS readiness: {md_escape(result.target)}", "",
             f"**{g.verdict.value}** · grade **{g.letter}** · score **{g.score}/100** · exit code "
             f"{g.verdict.exit_code} · {human_utc(result.started_at)}", ""]
    if result.changes is not None:
        lines += changes_markdown(result.changes, g.score) + [""]
    blockers = [f for f in result.findings if f.blocker and f.suppression is None]
    lines.append("## What blocks single sign-on")
    lines.append("")
    if blockers:
        lines += [f"- `{f.check_id}` {md_escape(f.summary)}" for f in blockers]
    else:
        lines.append("No failed check blocks single sign-on.")
    lines.append("")
    shown = [f for f in sort_findings(result.findings) if Status(f.status) not in (Status.PASS, Status.SKIP)]
    lines.append("## Findings that do not pass")
    lines.append("")
    if shown:
        lines += ["| status | check | target | summary |", "|---|---|---|---|"]
        for f in shown:
            status = Status(f.status).value.upper() + (" (BLOCKER)" if f.blocker else "")
            summary = md_escape(f.summary)
            if f.suppression is not None:
                s = f.suppression
                status += " (suppressed)"
                summary += (f" *Accepted risk: {md_escape(s.reason)} (by {md_escape(s.accepted_by)}, until "
                            f"{s.expires.isoformat()})*")
            lines.append(f"| {status} | `{f.check_id}` | {md_escape(f.target or '')} | {summary} |")
    else:
        lines.append("Every check passed.")
    certs = run_certificates(result)
    if certs:
        lines += ["", "## Certificates", "", "| purpose | subject | SHA-1 | expires | days left |",
                  "|---|---|---|---|---:|"]
        lines += [f"| {c.purpose} | {md_escape(c.subject)} | `{c.sha1}` | {c.not_after.date().isoformat()} | "
                  f"{c.days_left} |" for c in certs]
    return "\n".join(lines) + "\n"


def changes_markdown(changes: RunChanges, score: int) -> list[str]:
    """The "Since last run" section as Markdown lines."""
    delta = score - changes.previous_score
    lines = ["## Since last run", "",
             f"Compared with run {changes.previous_run_id} of {human_utc(changes.previous_started_at)} "
             f"({changes.previous_verdict.value}, grade {changes.previous_grade}, score {changes.previous_score}): "
             f"score {'+' if delta >= 0 else ''}{delta}."]
    if changes.score_trend:
        lines.append(f"Score trend: {' → '.join(str(s) for s in changes.score_trend)}.")
    lines.append("")
    for label, items in (("New", changes.new), ("Resolved", changes.resolved), ("Changed", changes.changed)):
        for c in items:
            before = c.before.value if c.before else "absent"
            after = c.after.value if c.after else "absent"
            target = f" ({md_escape(c.target)})" if c.target else ""
            lines.append(f"- **{label}** `{c.check_id}`{target}: {before} → {after}. {md_escape(c.summary)}")
    for cert in changes.certificates:
        lines.append(f"- **Closer to expiry** {cert.purpose} {md_escape(cert.subject)} (`{cert.sha1[:8]}`): "
                     f"{cert.days_left_before} → {cert.days_left_after} days left")
    if not (changes.any or changes.certificates):
        lines.append("No finding changed.")
    return lines
