"""The terminal report: a summary that fits a screen, or (``verbose``) every finding.

The summary: the verdict and counts, why the grade is what it is in one line, **Fix first** (the
action plan of ``action_plan.py``: its first ten actions, each with its due date, reach and
command), what changed since the last run, accepted risks, and the skipped checks one line per
reason. ``verbose`` (``--all`` or ``-v``) adds the reasons of the verdict and every finding,
grouped by area, passes included.

Rendered with rich into a string, so the CLI decides where it goes. Every value that comes from
a directory, a server or a certificate is either a ``rich.text.Text`` (never parsed as markup) or
passed through ``rich.markup.escape``: an AD display name such as ``[bold]`` or ``[/]`` prints as
written instead of styling the terminal or raising ``MarkupError``. Emoji codes (``:smile:``) are
left alone too. And every such value goes through
:func:`~adfs_readiness.text.terminal_safe` first: a certificate CN carrying ESC[31m,
an OSC 8 hyperlink, CR or a newline prints as visible escapes, so it can neither drive the
terminal nor forge a line of the report.
"""

from __future__ import annotations

from io import StringIO

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from adfs_readiness.model import STATUS_ORDER, Finding, RunResult, Status, Verdict
from adfs_readiness.report._common import (
    REASON_LABELS,
    TOOL_NAME,
    display_target,
    duration_seconds,
    findings_by_area,
    human_utc,
    readable_dates,
    sort_findings,
    status_counts,
    tool_version,
)
from adfs_readiness.report.action_plan import Action, action_plan
from adfs_readiness.text import terminal_safe

__all__ = ["render_text", "SUMMARY_ACTIONS"]

#: Actions of the plan the summary lists; the rest are counted (--all lists them).
SUMMARY_ACTIONS = 10
#: Lines of an action's command script the summary prints.
_SCRIPT_LINES = 3
#: Skip reasons the summary lists, one line each.
_SKIP_REASONS = 6

_VERDICT_STYLE = {
    Verdict.READY: "bold white on green",
    Verdict.READY_WITH_WARNINGS: "bold black on yellow",
    Verdict.NOT_READY: "bold white on red",
    Verdict.INCOMPLETE: "bold white on magenta",
}
_STATUS_STYLE = {
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.WARN: "bold yellow",
    Status.INFO: "cyan",
    Status.PASS: "green",
    Status.SKIP: "dim",
}
_BLOCKS = "BLOCKER"
#: Below this width the target is printed under the summary instead of in its own column.
_TARGET_COLUMN_MIN_WIDTH = 90
_STATUS_WORD = {
    Status.FAIL: "fail",
    Status.ERROR: "not determined",
    Status.WARN: "warn",
    Status.INFO: "info",
    Status.PASS: "pass",
    Status.SKIP: "skip",
}


def render_text(
    result: RunResult, *, color: bool = False, width: int = 100, verbose: bool = False
) -> str:
    """The report of ``result`` for a terminal or a log, as a str ending in a newline.

    Args:
        color: emit ANSI styles (the caller decides, e.g. from ``isatty()`` and ``NO_COLOR``);
            when False the output is plain text without any escape sequence.
        width: line width in characters; tables wrap their cells to fit.
        verbose: print everything: the reasons of the verdict, the whole action plan and every
            finding by area, passes and skips included (otherwise the summary, see the module
            docstring).
    """
    out = StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        legacy_windows=False,
        soft_wrap=False,
    )
    _header(console, result)
    _grade_line(console, result)
    if verbose:
        _reasons(console, result)
    elif any(r.kind == "nothing_checked" for r in result.grade.reasons):
        console.print(Text("No check produced a judgement: every check was skipped.", style="bold magenta"))
    if result.changes is not None:
        _since_last_run(console, result)
    _fix_first(console, action_plan(result), limit=None if verbose else SUMMARY_ACTIONS)
    if verbose:
        _all_findings(console, result, width)
    else:
        _accepted_risks(console, result)
        _skipped(console, result)
        _not_shown(console, result)
    if not result.findings:
        console.print()
        console.print("No check produced a finding.")
    text = out.getvalue()
    if not color:
        # rich pads table cells to the column width; plain text for logs and mail should not
        # carry that trailing white space.
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text


def _all_findings(console: Console, result: RunResult, width: int) -> None:
    shown = list(result.findings)
    # The same column widths in every area's table, so the tables line up under each other.
    widths = (
        max(len("Status"), len(_BLOCKS) if any(f.blocker for f in shown) else max(len(s.value) for s in Status)),
        min(max((len(f.check_id) for f in shown), default=5), max(width // 3, 12)),
    )
    if any(f.suppression is not None for f in shown):
        widths = (max(widths[0], len("SUPPRESSED")), widths[1])
    for area, findings in findings_by_area(result.findings):
        _area(console, area.title, sort_findings(findings), verbose=True, widths=widths,
              target_column=width >= _TARGET_COLUMN_MIN_WIDTH)


def _grade_line(console: Console, result: RunResult) -> None:
    """Why the grade is what it is, in one line (when the grading explained it)."""
    explanation = result.grade.explanation
    if explanation is None:
        return
    line = Text(f"Grade {result.grade.letter}: score {int(result.grade.score)} = {explanation.score_letter}",
                style="dim")
    for cap in explanation.caps:
        if cap.applied:
            rule = cap.rule.split(" caps ")[0].rstrip(".")  # "A failed blocker caps the grade at F: ..."
            # "and 1 more", not "+1": next to a score, "+1" reads as a point.
            ids = cap.check_ids[0] + (f" and {len(cap.check_ids) - 1} more" if len(cap.check_ids) > 1 else "")
            line.append(f", capped at {cap.letter}: {rule[:1].lower() + rule[1:]} ({ids})")
    console.print(Text(terminal_safe(line.plain), style="dim"))


def _fix_first(console: Console, plan: tuple[Action, ...], *, limit: int | None) -> None:
    """The action plan, one numbered row per action; its commands are printed whole, one per line.

    The prose wraps with a hanging indent; a command never does: a wrapped command pasted into a
    shell is two commands (the second line starts with "-FilePath ..."), so each command line is
    printed unwrapped and the terminal folds it if it must (a soft wrap copies back as one line).
    """
    if not plan:
        return
    console.print()
    console.print(Text(f"Fix first ({len(plan)})", style="bold"))
    shown = plan[:limit]
    # One grid per action (the commands are printed between them): fixed column widths keep the
    # rows aligned under each other.
    number_width = max(len(str(a.priority)) for a in shown)
    status_width = max(len(Status(a.finding.status).value) for a in shown)
    for action in shown:
        f = action.finding
        status = Status(f.status)
        grid = Table.grid(padding=(0, 1), pad_edge=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        head = Text(terminal_safe(f.check_id), style="bold")
        targets = action.targets
        if targets:
            more = f" and {len(targets) - 1} more" if len(targets) > 1 else ""
            head.append(f" ({terminal_safe(targets[0])}{more})", style="dim")
        due = "due now" if action.due is not None and not action.days_left else action.due_text
        head.append(f" · {due} · {action.affected_text}", style="bold red" if due == "due now" else "dim")
        if action.tier == "blocker":
            head.append(" · BLOCKS SSO", style="bold red")
        if action.what:
            head.append("\n" + terminal_safe(readable_dates(action.what)))
        if action.script is not None:
            head.append(":" if action.what and not action.what.endswith("…") else "")
        # Padded here: each action is a grid of its own, and the columns must line up across them.
        grid.add_row(str(action.priority).rjust(number_width),
                     Text(status.value.upper().ljust(status_width), style=_STATUS_STYLE[status]), head)
        console.print(grid)
        if action.script is None:
            continue
        # The commands start under the prose, two columns further in; never wrapped by us.
        indent = " " * (1 + number_width + 1 + status_width + 1 + 2)
        for line in action.script.lines[:_SCRIPT_LINES]:
            console.print(Text(indent + terminal_safe(line), style="bold", no_wrap=True, overflow="ignore"),
                          soft_wrap=True)
        if len(action.script.lines) > _SCRIPT_LINES:
            console.print(Text(f"{indent}(and {len(action.script.lines) - _SCRIPT_LINES} more: --action-plan PATH)",
                               style="dim"))
    if limit is not None and len(plan) > limit:
        console.print(Text(f"  ...and {len(plan) - limit} more: --all prints them, --action-plan PATH writes the "
                           "plan as CSV.", style="dim"))


def _accepted_risks(console: Console, result: RunResult) -> None:
    accepted = [f for f in result.findings if f.suppression is not None]
    if not accepted:
        return
    console.print()
    console.print(Text(f"Accepted risks ({len(accepted)}, left out of the grade)", style="bold"))
    for f in accepted:
        s = f.suppression
        assert s is not None
        line = Text(" SUPPRESSED ", style="dim")
        line.append(f"{terminal_safe(f.check_id)} {Status(f.status).value}: ")
        line.append(f"accepted risk: {terminal_safe(s.reason)} (by {terminal_safe(s.accepted_by)}, "
                    f"until {s.expires.isoformat()})", style="dim")
        console.print(line)


def _skipped(console: Console, result: RunResult) -> None:
    by_reason: dict[str, list[str]] = {}
    for f in result.findings:
        if Status(f.status) is Status.SKIP:
            by_reason.setdefault(f.summary, []).append(f.check_id)
    if not by_reason:
        return
    console.print()
    console.print(Text(f"Skipped ({sum(len(v) for v in by_reason.values())})", style="bold"))
    grid = Table.grid(padding=(0, 1), pad_edge=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(overflow="fold")
    for reason, ids in list(by_reason.items())[:_SKIP_REASONS]:
        line = Text(terminal_safe(reason))
        shown = ", ".join(dict.fromkeys(ids))
        line.append(f" ({terminal_safe(shown) if len(ids) <= 3 else terminal_safe(', '.join(ids[:2])) + ', ...'})",
                    style="dim")
        grid.add_row(Text(str(len(ids)), style="dim"), line)
    console.print(grid)
    if len(by_reason) > _SKIP_REASONS:
        rest = list(by_reason.values())[_SKIP_REASONS:]
        console.print(Text(f"  ...and {sum(len(ids) for ids in rest)} more for {len(rest)} other reasons "
                           "(--all prints them).", style="dim"))


def _not_shown(console: Console, result: RunResult) -> None:
    counts = status_counts(result, result.findings)
    hidden = [f"{counts[s.value]} {_STATUS_WORD[s]}" for s in (Status.PASS, Status.INFO) if counts[s.value]]
    console.print()
    console.print(Text(("Not listed: " + ", ".join(hidden) + " (--all prints every finding; --html has the "
                        "evidence)." if hidden else "--all prints every finding; --html has the evidence."),
                       style="dim"))


def _header(console: Console, result: RunResult) -> None:
    grade = result.grade
    verdict = Verdict(grade.verdict)
    title = Text("AD FS readiness of ", style="bold")
    title.append(terminal_safe(display_target(result)), style="bold")
    console.print(title)
    console.print(
        Text(
            f"Run {human_utc(result.started_at)} · {duration_seconds(result):.1f} s · "
            f"{TOOL_NAME} {terminal_safe(tool_version(result))}",
            style="dim",
        )
    )
    if result.provenance is not None:
        console.print(Text(terminal_safe(result.provenance.line()), style="bold"))
    as_of = result.metadata.get("judged_as_of")
    if as_of:
        console.print(Text(f"Judged as of {terminal_safe(readable_dates(str(as_of)))} (a projection: expiry is "
                           "counted from that date)", style="bold"))
    for note in dict(result.metadata.get("recorded_facts") or {}).values():
        console.print(Text(f"Recorded facts: {terminal_safe(str(note))}", style="bold"))
    console.print()
    line = Text()
    line.append(f" {verdict.value.replace('_', ' ')} ", style=_VERDICT_STYLE[verdict])
    line.append(f"  grade {grade.letter}  score {int(grade.score)}/100", style="bold")
    line.append(f"  (exit code {verdict.exit_code})", style="dim")
    console.print(line)
    counts = status_counts(result)
    summary = Text()
    for i, status in enumerate(STATUS_ORDER):
        if i:
            summary.append(" · ", style="dim")
        n = counts[status.value]
        summary.append(f"{n} {_STATUS_WORD[status]}", style=_STATUS_STYLE[status] if n else "dim")
    console.print(summary)


def _reasons(console: Console, result: RunResult) -> None:
    reasons = result.grade.reasons
    if not reasons:
        return
    console.print()
    console.print("[bold]Why this verdict[/bold]")
    # A grid gives each reason a hanging indent when it wraps.
    grid = Table.grid(padding=(0, 1), pad_edge=True)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for reason in reasons:
        label = REASON_LABELS.get(reason.kind, reason.kind)
        style = _reason_style(reason.kind)
        check = f" [bold]{escape(terminal_safe(reason.check_id))}[/bold]" if reason.check_id else ""
        # The target is often already named in the summary (a thumbprint): say it once.
        shown_target = reason.target and reason.target not in reason.summary
        target = f" [dim]({escape(terminal_safe(reason.target))})[/dim]" if shown_target else ""
        # Markup built here, with every outside value escaped: a directory value like "[/]"
        # must print as written, not close a style or raise MarkupError.
        line = Text.from_markup(
            f"[{style}]{escape(terminal_safe(label))}[/{style}]{check}: {escape(terminal_safe(readable_dates(reason.summary)))}"
            f"{target}",
            emoji=False,
        )
        grid.add_row(" -", line)
    console.print(grid)


def _since_last_run(console: Console, result: RunResult) -> None:
    changes = result.changes
    assert changes is not None
    delta = int(result.grade.score) - changes.previous_score
    console.print()
    console.print("[bold]Since last run[/bold]")
    line = Text(terminal_safe(
        f" run {changes.previous_run_id} of {human_utc(changes.previous_started_at)}: "
        f"{changes.previous_verdict.value}, grade {changes.previous_grade}, score {changes.previous_score}; "
        f"score now {'+' if delta >= 0 else ''}{delta}"))
    if changes.score_trend:
        line.append(f" (trend {' > '.join(str(s) for s in changes.score_trend)})", style="dim")
    console.print(line)
    grid = Table.grid(padding=(0, 1), pad_edge=True)
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, style, items in (("new", "bold red", changes.new), ("resolved", "green", changes.resolved),
                                ("changed", "bold yellow", changes.changed)):
        for c in items:
            text = Text(f"{label:8}", style=style)
            text.append(f" {terminal_safe(c.check_id)}")
            text.append(f" {c.before.value if c.before else 'absent'} -> {c.after.value if c.after else 'absent'}")
            if c.target:
                text.append(f" ({terminal_safe(c.target)})", style="dim")
            text.append(f": {terminal_safe(readable_dates(c.summary))}")
            grid.add_row(" -", text)
    for cert in changes.certificates:
        text = Text("closer  ", style="yellow")
        text.append(terminal_safe(f" {cert.purpose} {cert.subject} ({cert.sha1[:8]}): {cert.days_left_before} -> "
                                  f"{cert.days_left_after} days left"))
        grid.add_row(" -", text)
    if not (changes.any or changes.certificates):
        grid.add_row(" -", Text("no finding changed"))
    console.print(grid)


def _reason_style(kind: str) -> str:
    if kind in ("blocker_failed", "failed"):
        return "bold red"
    if kind == "warning":
        return "bold yellow"
    return "bold magenta"


def _area(
    console: Console,
    title: str,
    findings: list[Finding],
    *,
    verbose: bool,
    widths: tuple[int, int],
    target_column: bool,
) -> None:
    shown = [f for f in findings if verbose or Status(f.status) is not Status.PASS]
    passed = sum(1 for f in findings if Status(f.status) is Status.PASS)
    console.print()
    heading = Text(title, style="bold underline")
    if passed:
        heading.append(f"  ({passed} passed)", style="green")
    console.print(heading)
    if not shown:
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=True)
    table.add_column("Status", no_wrap=True, width=widths[0])
    # Check ids are what people search for and paste: keep each on one line when it fits.
    table.add_column("Check", overflow="fold", width=widths[1])
    if target_column:
        table.add_column("Target", overflow="fold", ratio=3)
    table.add_column("Summary", overflow="fold", ratio=5)
    for finding in shown:
        status = Status(finding.status)
        status_cell = Text(status.value.upper(), style=_STATUS_STYLE[status])
        if finding.blocker:
            status_cell.append("\n" + _BLOCKS, style="bold red")
        summary = Text(terminal_safe(readable_dates(finding.summary)))
        if finding.suppression is not None:
            # Accepted risks stay visible, marked, with who accepted them and until when.
            status_cell.append("\nSUPPRESSED", style="dim")
            s = finding.suppression
            summary.append(f"\naccepted risk: {terminal_safe(s.reason)} (by {terminal_safe(s.accepted_by)}, "
                           f"until {s.expires.isoformat()})", style="dim")
        if target_column:
            target = Text(terminal_safe(finding.target or "—"), style="" if finding.target else "dim")
            table.add_row(status_cell, Text(terminal_safe(finding.check_id)), target, summary)
        else:
            if finding.target:
                summary.append(f"\ntarget: {terminal_safe(finding.target)}", style="dim")
            table.add_row(status_cell, Text(terminal_safe(finding.check_id)), summary)
    console.print(table)
