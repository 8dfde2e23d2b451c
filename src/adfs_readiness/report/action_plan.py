"""The action plan: what to fix first, in order, each with its exact command and a due date.

The plan is made of the findings that ask for work: ``fail``, ``error`` (not determined) and
``warn``, leaving out accepted risks. Findings of one check with the same status and the same fix
are one action (their targets grouped). The order follows consequence, as an admin triages:

1. failed blockers (single sign-on does not work until they are fixed);
2. blocker checks that could not be determined (the verdict cannot be READY until they can);
3. everything else, soonest first: what fails now before what will fail on a date (a certificate
   crossing its fail threshold), dated before undated; then the widest reach first (a problem of
   the service affects every sign-in, a directory problem only the objects it lists); then
   severity, then status.

The same plan is written as CSV (``--action-plan PATH``, one row per action, RFC 4180 like the
findings CSV), as CISA ScubaGear's ActionPlan.csv is used: priority, check id, target(s), what to
do, command and due date, to paste into a ticket or a change request.

Renderers only read the graded result (DESIGN.md, "Layers"): this module orders findings; it does
not judge them.
"""

from __future__ import annotations

import csv
import ipaddress
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from io import StringIO
from typing import Any, Iterable, Mapping

from adfs_readiness.model import Finding, RunResult, Severity, Status
from adfs_readiness.report._commands import CommandScript, fix_script
from adfs_readiness.report._common import metadata_run, run_now, service_host, utc
from adfs_readiness.text import csv_cell

__all__ = ["Action", "ACTION_PLAN_COLUMNS", "action_plan", "named_fix", "render_action_plan_csv", "short_fix"]

ACTION_PLAN_COLUMNS = ("priority", "check_id", "title", "status", "severity", "blocks_sso", "target",
                       "affected", "what_to_do", "command", "due_date", "summary")

_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3, Severity.INFO: 4}
_STATUS_RANK = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2}
#: Cells a spreadsheet can hold (Excel: 32,767 characters); longer target lists are shortened.
_MAX_CELL = 30_000
#: "What to do" in one line: the first clause of the fix, at most this many characters.
_SHORT_FIX = 150


@dataclass(frozen=True)
class Action:
    """One item of the plan.

    Attributes:
        priority: 1 for the first thing to do.
        tier: "blocker" (a failed blocker), "undetermined blocker", or "fix".
        findings: the findings the action resolves (one check, one status, one fix), with their
            positions in ``RunResult.findings`` (``indexes``) so a report can link to them.
        what: the fix in one line (:func:`short_fix`; empty when the fix is just its command);
            ``remediation`` the whole text.
        script: the commands the fix names (None when it names none).
        affected: None when the problem is the service's (every sign-in), else the number of
            directory objects it concerns.
        days_left: days before the fix is due (0 = now), None when there is no date.
        due: the date to fix it by (None when there is no date).
    """

    priority: int
    tier: str
    findings: tuple[Finding, ...]
    indexes: tuple[int, ...]
    what: str
    remediation: str
    script: CommandScript | None
    affected: int | None
    days_left: int | None
    due: date | None

    @property
    def finding(self) -> Finding:
        """The first (representative) finding of the action."""
        return self.findings[0]

    @property
    def targets(self) -> tuple[str, ...]:
        """The distinct targets of the action's findings, in order (empty for the service)."""
        return tuple(dict.fromkeys(f.target for f in self.findings if f.target))

    @property
    def affected_text(self) -> str:
        """"service-wide", "1 object", "12 objects"."""
        if self.affected is None:
            return "service-wide"
        return f"{self.affected} object{'s' if self.affected != 1 else ''}"

    @property
    def due_text(self) -> str:
        """"now", "by 2027-01-19 (in 45 days)" or "no deadline"."""
        if self.due is None:
            return "no deadline"
        if not self.days_left:
            return "now"
        return f"by {self.due.isoformat()} (in {self.days_left} day{'s' if self.days_left != 1 else ''})"


def action_plan(result: RunResult) -> tuple[Action, ...]:
    """The ordered plan of ``result`` (see the module docstring); empty when nothing asks for work."""
    today = utc(run_now(result)).date()
    groups: dict[tuple[str, str, str], list[tuple[int, Finding]]] = {}
    for index, f in enumerate(result.findings):
        if Status(f.status) in _STATUS_RANK and f.suppression is None:
            groups.setdefault((f.check_id, Status(f.status).value, f.remediation), []).append((index, f))
    name = _known_service_name(result)
    drafts = [_draft(members, today, name) for members in groups.values()]
    drafts.sort(key=lambda d: d["key"])
    return tuple(Action(priority=n, **{k: v for k, v in d.items() if k != "key"})
                 for n, d in enumerate(drafts, start=1))


#: What a remediation text's ``<fs>`` becomes when the run knows no federation service name.
SERVICE_NAME_PLACEHOLDER = "<federation service name>"


def _known_service_name(result: RunResult) -> str | None:
    """The federation service name the run knows for a command's ``<fs>``: a metadata run's
    entityID host (the engine already put a configured name into the texts), else None."""
    run = metadata_run(result)
    if run is None or run[1] is None:
        return None
    host = service_host(run[1])
    try:
        ipaddress.ip_address(host or "")
    except ValueError:
        return host
    return None  # an address is no federation service name (dns.fs-name-routable says so)


def named_fix(result: RunResult, finding: Finding) -> tuple[str, CommandScript | None]:
    """(remediation, command script) of ``finding`` as the plan shows them: ``<fs>`` named (the
    run's known federation service name, else a placeholder) — for a report's finding card, so
    it offers the same command as the plan."""
    name = _known_service_name(result)
    script = fix_script(finding.remediation, finding.evidence)
    if script is not None:
        script = CommandScript(tuple(_named(line, name) for line in script.lines), script.changing)
    return _named(finding.remediation, name), script


def _named(text: str, name: str | None) -> str:
    """``text`` with ``<fs>`` replaced by the known service name, else by a placeholder that says
    what it stands for: a command never carries a cryptic or empty argument."""
    return text.replace("<fs>", name or SERVICE_NAME_PLACEHOLDER)


def _draft(members: list[tuple[int, Finding]], today: date, name: str | None = None) -> dict[str, Any]:
    findings = tuple(f for _, f in members)
    first = findings[0]
    status = Status(first.status)
    if any(f.blocker for f in findings):
        tier, tier_rank = "blocker", 0
    elif status is Status.ERROR and first.blocker_check:
        tier, tier_rank = "undetermined blocker", 1
    else:
        tier, tier_rank = "fix", 2
    days = None if status is not Status.WARN else _days_to_fail(findings)
    days_left = 0 if status is not Status.WARN else days
    affected = _affected(findings)
    if status is Status.ERROR:
        # A check that knows what would let it decide (a missing password, ...) says so in its
        # evidence's ``to_determine``; otherwise the general advice.
        step = first.evidence.get("to_determine")
        step = step if isinstance(step, str) and step.strip() else "Remove the cause and run the check again."
        what = f"Not determined: {_reason(first.summary)} {step}"
        script = None
    else:
        script = fix_script(first.remediation, first.evidence)
        if script is not None:
            script = CommandScript(tuple(_named(line, name) for line in script.lines), script.changing)
        what = _named(short_fix(first.remediation), name)
        if script is not None and what.rstrip("…").strip() in script.text:
            what = ""  # the fix is the command itself: say it once
    key = (tier_rank, math.inf if days_left is None else days_left,
           -(math.inf if affected is None else affected), _SEVERITY_RANK[Severity(first.severity)],
           _STATUS_RANK[status], members[0][0])
    return {
        "tier": tier, "findings": findings, "indexes": tuple(i for i, _ in members), "what": what,
        "remediation": _named(first.remediation, name), "script": script, "affected": affected, "days_left": days_left,
        "due": None if days_left is None else today + timedelta(days=days_left), "key": key,
    }


def _reason(summary: str) -> str:
    """An error finding's summary as the reason after "Not determined:": without its own "Not
    determined:" or the engine's "Could not be determined:" (said once, not twice), capitalised, ending in a full stop."""
    text = summary.strip()
    for prefix in ("Not determined:", "Could not be determined:", "Could not be determined -"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _affected(findings: Iterable[Finding]) -> int | None:
    """Objects concerned, from the directory checks' evidence (``objects_with_problem``); None
    (service-wide) when any finding has no such count or says all users are affected."""
    total = 0
    for f in findings:
        count = f.evidence.get("objects_with_problem")
        if f.evidence.get("all_users_affected") or not isinstance(count, int) or isinstance(count, bool):
            return None
        total += count
    return total


def _days_to_fail(findings: Iterable[Finding]) -> int | None:
    """Days before the soonest finding crosses its fail threshold: a certificate's days left
    (evidence ``certificate.days_left``, ``days_left`` or ``primary.days_left``) minus the check's
    ``fail_days`` (0 when absent); None when no finding carries a date."""
    soonest: int | None = None
    for f in findings:
        days = _days_left(f.evidence)
        if days is None:
            continue
        fail_days = f.evidence.get("fail_days")
        margin = fail_days if isinstance(fail_days, int) and not isinstance(fail_days, bool) else 0
        due = max(0, days - margin)
        soonest = due if soonest is None else min(soonest, due)
    return soonest


def _days_left(evidence: Mapping[str, Any]) -> int | None:
    for holder in (evidence.get("certificate"), evidence, evidence.get("primary")):
        if isinstance(holder, Mapping):
            days = holder.get("days_left")
            if isinstance(days, int) and not isinstance(days, bool):
                return days
    return None


_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]'\"])\.(?:\s|$)")


def short_fix(remediation: str, limit: int = _SHORT_FIX) -> str:
    """The fix in one line: its first sentence, cut before a command it introduces with ":" and
    before the clauses after ";" when it is longer than ``limit`` characters; never cut mid-word
    (an ellipsis marks a cut)."""
    text = " ".join(remediation.split())
    end = _SENTENCE_END.search(text)
    sentence = text[:end.start()] if end else text.rstrip(".")
    colon = sentence.find(": ")
    if colon > 3 and fix_script(sentence[colon:]) is not None:
        sentence = sentence[:colon]
    if len(sentence) <= limit:
        return sentence
    for mark in ("; ", " (", ", "):
        cut = sentence.find(mark)
        if 30 <= cut <= limit:
            return sentence[:cut] + "…"
    return sentence[:limit].rsplit(" ", 1)[0] + "…"


def render_action_plan_csv(result: RunResult) -> str:
    """The plan as CSV text (header row, CRLF line ends, one row per action; a command script's
    lines are joined with a newline inside its cell; formula-like cells get a leading ``'``)."""
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ACTION_PLAN_COLUMNS)
    for action in action_plan(result):
        f = action.finding
        targets = "; ".join(action.targets)
        if len(targets) > _MAX_CELL:
            targets = f"{len(action.targets)} targets (every one is in the findings CSV, --csv)"
        writer.writerow([csv_cell(v) for v in (
            str(action.priority), f.check_id, f.title, Status(f.status).value, Severity(f.severity).value,
            "yes" if action.tier == "blocker" else "no", targets, action.affected_text,
            action.remediation if Status(f.status) is not Status.ERROR else action.what,
            action.script.text if action.script else "", action.due.isoformat() if action.due else "",
            f.summary)])
    return out.getvalue()
