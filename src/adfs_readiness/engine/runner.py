"""The engine: plan the probes the enabled checks need, gather facts concurrently within the
deadline, run the checks with failures isolated, grade, and return a RunResult.

Why threads and not a ThreadPoolExecutor: an executor joins its workers at interpreter exit, so a
probe stuck in a C-level call could keep the process alive past the deadline. Daemon threads are
abandoned at the deadline instead; every probe also passes the time left into its own network
timeouts, so abandoned threads finish soon after on their own.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from adfs_readiness import __version__
from adfs_readiness.api import CannotDetermine, Check, CheckContext
from adfs_readiness.calendar import build_calendar
from adfs_readiness.engine.bounds import MAX_SUMMARY, MAX_TARGET, bound_text, bound_tree
from adfs_readiness.engine.local_failures import local_cause_text, local_failures, not_determined_here
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.engine.scope import RunScope, run_scope, scope_target
from adfs_readiness.facts import ProbeError, ProbeErrorKind, to_jsonable
from adfs_readiness.grading import grade
from adfs_readiness.model import Finding, Outcome, RunResult, Status
from adfs_readiness.net import Network
from adfs_readiness.probes import ProbeContext, ProbeSpec
from adfs_readiness.redaction import Redactor, protect_logs
from adfs_readiness.settings import Settings, selector_matches

__all__ = ["RunPlan", "plan_run", "gather_facts", "judge", "run_checks"]

log = logging.getLogger("adfs_readiness.engine")


@dataclass(frozen=True)
class RunPlan:
    """Which checks run, which are skipped by configuration, which lie outside the run's scope
    (:mod:`adfs_readiness.engine.scope`), and which facts must be gathered."""

    checks: tuple[Check, ...]
    skipped: tuple[Check, ...]
    fact_keys: tuple[str, ...]
    out_of_scope: tuple[Check, ...] = ()
    scope: RunScope | None = None


def plan_run(registry: CheckRegistry, config: Settings, only: Iterable[str] = ()) -> RunPlan:
    """Split the registry into checks to run, checks skipped by ``config.checks.skip`` and checks
    outside the run's scope (:func:`~adfs_readiness.engine.scope.run_scope`), and collect the
    fact keys the running checks require (in first-use order; optional facts only when some
    running check requires them). ``only`` limits the run to the checks its selectors name (ids,
    ``prefix.*``, ``area.*``; empty = all)."""
    wanted = tuple(only)
    scope = run_scope(config)
    chosen = [c for c in registry.checks
              if not wanted or any(selector_matches(s, c.id, c.meta.area.value) for s in wanted)]
    selected = [c for c in chosen if scope.covers(c)]
    out_of_scope = tuple(c for c in chosen if not scope.covers(c))

    def skipped_by_config(c: Check) -> bool:
        # "metadata.*" skips the metadata area, token-signing.* included, as well as the id prefix.
        return config.checks.skips(c.id, c.meta.area.value)

    run = tuple(c for c in selected if not skipped_by_config(c))
    skipped = tuple(c for c in selected if skipped_by_config(c))
    keys: list[str] = []
    for c in run:
        for key in c.meta.requires:
            if key not in keys:
                keys.append(key)
    # Optional facts ride along: never gathered for them alone (skipping "directory.*" must mean
    # no LDAP traffic), only passed on when a running check requires them anyway.
    return RunPlan(checks=run, skipped=skipped, fact_keys=tuple(keys), out_of_scope=out_of_scope, scope=scope)


def gather_facts(
    keys: Iterable[str],
    probes: Mapping[str, ProbeSpec],
    config: Settings,
    now: datetime,
    *,
    deadline: float,
    progress: Callable[[str, int], None] | None = None,
    network: Network | None = None,
) -> dict[str, Any]:
    """Run the probes for ``keys`` concurrently and return key -> fact or ProbeError.

    ``progress`` is handed to the probes (``ProbeContext.progress``) for a progress display.

    ``deadline`` is a ``time.monotonic()`` value for the whole run; each probe gets
    min(its own timeout, the time left). A probe that has not returned by its limit yields
    ProbeError(TIMEOUT) (or DEADLINE when the run's deadline cut it); an exception inside a probe
    yields ProbeError(INTERNAL) with the traceback in the debug log. Never raises for probe trouble.
    ``network`` is the run's network, shared by its probes (one is made for ``config`` when None).
    """
    results: dict[str, Any] = {}
    done: queue.Queue[tuple[str, Any]] = queue.Queue()
    limits: dict[str, tuple[float, bool]] = {}
    started = time.monotonic()
    network = network if network is not None else Network.for_config(config)  # one per run
    for key in keys:
        spec = probes.get(key)
        if spec is None:
            results[key] = ProbeError(ProbeErrorKind.NOT_CONFIGURED, f"no probe provides the fact {key!r}")
            continue
        own = started + max(0.1, spec.timeout(config))
        probe_deadline = min(own, deadline)
        limits[key] = (probe_deadline, probe_deadline == deadline and own > deadline)
        ctx = ProbeContext(config=config, now=now, deadline=probe_deadline,
                           log=log.getChild(f"probe.{key}"), net=network, progress=progress)
        thread = threading.Thread(target=_run_probe, args=(spec, ctx, done), daemon=True,
                                  name=f"probe-{key}")
        thread.start()

    pending = set(limits)
    while pending:
        soonest = min(limits[k][0] for k in pending)
        try:
            key, value = done.get(timeout=max(0.0, soonest - time.monotonic()))
        except queue.Empty:
            now_mono = time.monotonic()
            for k in [k for k in pending if limits[k][0] <= now_mono]:
                cut_by_run = limits[k][1]
                kind = ProbeErrorKind.DEADLINE if cut_by_run else ProbeErrorKind.TIMEOUT
                reason = (f"the run's deadline ({config.network.deadline_seconds:g} s) passed before the probe finished"
                          if cut_by_run else
                          f"the probe did not finish within its time limit ({probes[k].timeout(config):g} s)")
                results[k] = ProbeError(kind, reason)
                pending.discard(k)
                log.debug("probe %s abandoned: %s", k, reason)
            continue
        if key in pending:
            results[key] = value
            pending.discard(key)
    return results


def _run_probe(spec: ProbeSpec, ctx: ProbeContext, done: "queue.Queue[tuple[str, Any]]") -> None:
    try:
        value = spec.function(ctx)
    except Exception as exc:  # isolate: a bug in one probe is an error fact, not a crashed run
        ctx.log.debug("probe %s raised\n%s", spec.key, traceback.format_exc())
        value = ProbeError(ProbeErrorKind.INTERNAL, f"the probe failed: {type(exc).__name__}: {exc}")
    done.put((spec.key, value))


def _skip_reason(c: Check, config: Settings) -> str:
    """Why ``c`` was skipped, naming where the skip came from: ``--skip`` on the command line, the
    configuration's ``checks.skip`` (its file), or both."""
    flags, configured = config.checks.skipped_by(c.id, c.meta.area.value)
    parts = []
    if flags:
        parts.append(" ".join(f"--skip {s}" for s in flags) + " on the command line")
    if configured or not flags:
        shown = ", ".join(configured)
        parts.append(f"configuration ({config.source}: checks.skip{' = ' + shown if shown else ''})")
    return f"Skipped by {' and by '.join(parts)}."


def judge(plan: RunPlan, facts: Mapping[str, Any], config: Settings, now: datetime) -> list[Finding]:
    """Run every planned check on the facts (pure: no I/O) and return the findings in check order.

    A check whose required fact is a ProbeError is not called: it gets an ``error`` finding with
    the probe's reason. CannotDetermine becomes ``error`` with its reason; any other exception
    becomes ``error`` naming the exception (traceback in the debug log). A check that returns no
    outcome, or something that is not an Outcome, is an ``error`` too: nothing is silently dropped.
    When the facts a check reads carry a failure of the machine running the check (kind
    ``local``), its fail and warn outcomes become ``error`` naming that cause (local_failures.py).
    """
    findings: list[Finding] = []
    local: dict[str, list[ProbeError]] = {key: local_failures(value) for key, value in facts.items()}
    for c in plan.skipped:
        findings.append(_finding(c, Outcome(Status.SKIP, _skip_reason(c, config)), config))
    for c in plan.out_of_scope:
        reason = plan.scope.skip_reason() if plan.scope is not None else "Not part of this run's scope."
        findings.append(_finding(c, Outcome(Status.SKIP, reason), config))
    for c in plan.checks:
        missing = [(key, facts.get(key)) for key in c.meta.requires
                   if facts.get(key) is None or isinstance(facts.get(key), ProbeError)]
        if missing:
            key, err = next(((k, e) for k, e in missing if local.get(k)), missing[0])
            reason = str(err) if err is not None else f"fact {key!r} was not gathered"
            findings.append(_finding(c, Outcome(
                Status.ERROR, f"Could not be determined: the facts it needs could not be gathered ({reason}).",
                evidence={"fact": key, "probe_error": to_jsonable(err) if err is not None else None}), config,
                local_cause=local_cause_text(local[key]) if local.get(key) else None))
            continue
        available = {k: facts[k] for k in c.meta.optional
                     if facts.get(k) is not None and not isinstance(facts.get(k), ProbeError)}
        ctx = CheckContext(facts={**available, **{k: facts[k] for k in c.meta.requires}}, config=config, now=now)
        trouble = [e for k in (*c.meta.requires, *available) for e in local.get(k, ())]
        for o in _call_check(c, ctx):
            o, cause = not_determined_here(o, trouble)
            findings.append(_finding(c, o, config, local_cause=cause))
    return findings


def _call_check(c: Check, ctx: CheckContext) -> list[Outcome]:
    try:
        returned = c.function(ctx)
        outcomes = [returned] if isinstance(returned, Outcome) else list(returned or ())
    except CannotDetermine as exc:
        reason = exc.reason.rstrip()
        reason += "" if reason.endswith((".", "!", "?")) else "."  # the summary is a sentence
        return [Outcome(Status.ERROR, f"Could not be determined: {reason}", evidence=exc.evidence)]
    except Exception as exc:  # isolate: a bug in one check must not crash the run or pass silently
        log.debug("check %s raised\n%s", c.id, traceback.format_exc())
        return [Outcome(Status.ERROR, f"The check failed with an internal error: {type(exc).__name__}: {exc}",
                        evidence={"exception": type(exc).__name__, "check": c.source})]
    bad = [o for o in outcomes if not isinstance(o, Outcome)]
    if bad or not outcomes:
        what = f"returned {type(bad[0]).__name__}" if bad else "returned no outcome"
        return [Outcome(Status.ERROR, f"The check {what}; its result cannot be trusted.",
                        evidence={"check": c.source})]
    return outcomes


def _finding(c: Check, o: Outcome, config: Settings, local_cause: str | None = None) -> Finding:
    meta = c.meta
    blocker = o.status is Status.FAIL and (meta.blocker if o.blocker is None else o.blocker)
    remediation = o.remediation or meta.remediation
    if config.federation.service_name:
        # Remediation texts write the federation service name as <fs>; give the admin the real one.
        remediation = remediation.replace("<fs>", config.federation.service_name)
    return Finding(
        check_id=meta.id,
        area=meta.area,
        title=meta.title,
        status=o.status,
        severity=meta.severity,
        blocker=blocker,
        blocker_check=meta.blocker,
        # Bounded as the finding is made (engine/bounds.py): a check judging a hostile input must
        # not hand every report a million-item evidence list or a megabyte summary.
        summary=bound_text(str(o.summary), MAX_SUMMARY),
        evidence=bound_tree(to_jsonable(dict(o.evidence)), max_items=config.limits.max_report_rows),
        remediation=remediation,
        references=meta.references,
        # An empty target (an unreadable certificate has no thumbprint) is none.
        target=bound_text(str(o.target), MAX_TARGET) if o.target else None,
        local_cause=local_cause,
    )


def run_checks(
    registry: CheckRegistry,
    probes: Mapping[str, ProbeSpec],
    config: Settings,
    now: datetime,
    *,
    target: str | None = None,
    only: Iterable[str] = (),
    run_metadata: Mapping[str, Any] | None = None,
    started_at: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> RunResult:
    """The main job: plan, gather facts within ``config.network.deadline_seconds``, judge and grade.

    ``now`` is the run's clock (aware UTC datetime): checks judge expiry against it, and
    finished_at = now + the measured duration. ``started_at`` is the real start when ``now`` is a
    projection (``--as-of``); the JSON then also carries ``run.judged_as_of``. Returns a RunResult;
    never raises for probe or check failures (they are findings).
    """
    started = time.monotonic()
    deadline = started + config.network.deadline_seconds
    plan = plan_run(registry, config, only)
    network = Network.for_config(config)  # one per run: trust stores, resolvers, HTTP client
    redactor = Redactor.for_run(config)
    protect_logs(*redactor.secrets)
    # Probes record what they saw at the real time of the run (a Date header is compared with the
    # moment it arrived); only the checks judge at ``now``, which --as-of may move.
    facts = gather_facts(plan.fact_keys, probes, config, started_at or now, deadline=deadline, progress=progress,
                         network=network)
    findings = judge(plan, facts, config, now)
    graded = grade(findings)
    elapsed = time.monotonic() - started
    meta = {
        "tool_version": __version__,
        "config_source": config.source,
        "deadline_seconds": config.network.deadline_seconds,
        "checks_run": len(plan.checks),
        "checks_skipped_by_config": len(plan.skipped),
        "plugin_load_errors": [{"entry_point": ep, "reason": r} for ep, r in registry.load_errors],
    }
    if started_at is not None and started_at != now:
        meta["judged_as_of"] = now.isoformat()
    scope = plan.scope or run_scope(config)
    meta["scope"] = scope.as_dict()
    identity = scope_target(scope, facts)
    if scope.facts is not None:
        # A file run's target is what the file holds (thumbprint, entityID), never its name.
        meta["target_identified"] = identity is not None
    meta.update(run_metadata or {})
    begun = started_at or now
    # The one place the run's result is made: no secret of the run (nor one a server echoed)
    # reaches any writer (redaction.py).
    redactor.add(*network.secrets.secrets)
    return redactor.result(RunResult(
        target=target or identity or _default_target(config, scope),
        started_at=begun,
        finished_at=begun + timedelta(seconds=elapsed),
        findings=tuple(findings),
        grade=graded,
        facts={k: to_jsonable(v) for k, v in facts.items()},
        metadata=meta,
        certificates=build_calendar(facts, now),
    ))


def _default_target(config: Settings, scope: RunScope) -> str:
    if scope.facts is not None:
        return f"unidentified content of {scope.description}"
    return config.federation.service_name or config.federation.metadata or "(not configured)"
