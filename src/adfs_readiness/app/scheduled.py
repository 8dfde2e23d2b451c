"""One scheduled run of one target, end to end: lock, run, accepted risks, history and "since last
run", notification. The CLI's ``check`` and the fleet both use it; the CLI only adds writing the
reports.

Order matters: the lock is taken first (so two overlapping runs of a tenant cannot both read the
same "previous run" and record in between), accepted risks are applied before the comparison
(so "failing checks" means what the admin has not accepted), and the run is recorded before
the notification goes out (a failed post is never retried against a run that was not recorded).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Mapping

from adfs_readiness.cert_inventory import run_certificates
from adfs_readiness.crash import RunCrashed
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.engine.scope import run_scope
from adfs_readiness.history import TREND_LENGTH, History, HistoryError, RunRecord, changes_between, finding_rows
from adfs_readiness.locking import run_lock
from adfs_readiness.model import RunResult
from adfs_readiness.net.network import Network
from adfs_readiness.net.policy import without_userinfo
from adfs_readiness.notify import NotifyResult, change_since, post_webhook, webhook_payload
from adfs_readiness.probes import ProbeSpec
from adfs_readiness.settings import Settings
from adfs_readiness.suppressions import Suppression, apply_suppressions

__all__ = ["ScheduleOptions", "ScheduledRun", "target_key", "run_scheduled", "finish_run"]

log = logging.getLogger("adfs_readiness.scheduled")


@dataclass(frozen=True)
class ScheduleOptions:
    """How a scheduled run is wrapped.

    Attributes:
        history_path: the SQLite history (None = do not record or compare).
        lock_dir: folder of the per-target lock files (None = no lock).
        lock_wait_seconds: how long to wait for another run of the same target (0 = refuse at once).
        suppressions: accepted risks to apply.
        webhook_url: post a change notification here (None = no notification).
        webhook_timeout_seconds: time limit of the post.
        target_key: what history and the lock group runs by (None = the service name / target).
        only: run only these check ids.
        run_metadata: added to the run's metadata (tenant name, ...).
        projection: the run judges at a moved clock (``--as-of``): it is not an observation, so
            it is never recorded, compared with the history or notified.
        progress: handed to the probes for a progress display (``ProbeContext.progress``).
    """

    history_path: Path | None = None
    lock_dir: Path | None = None
    lock_wait_seconds: float = 0.0
    suppressions: tuple[Suppression, ...] = ()
    webhook_url: str | None = None
    webhook_timeout_seconds: float = 10.0
    target_key: str | None = None
    only: tuple[str, ...] = ()
    run_metadata: Mapping[str, Any] = field(default_factory=dict)
    projection: bool = False
    progress: Callable[[str, int], None] | None = None


@dataclass(frozen=True)
class ScheduledRun:
    """The outcome: the final ``result`` (suppressions applied, ``changes`` set when a previous
    run exists), its history ``run_id`` (None when not recorded), the ``notification`` (None when
    none was due) and ``warnings`` for the operator (history or webhook trouble)."""

    result: RunResult
    run_id: int | None = None
    notification: NotifyResult | None = None
    warnings: tuple[str, ...] = ()


def target_key(config: Settings, explicit: str | None = None) -> str:
    """What runs of ``config`` are grouped by: ``explicit`` (a tenant name), else the service
    name, else the metadata source (without any userinfo: the key names the history's rows and
    the lock file)."""
    source = without_userinfo(config.federation.metadata) if config.federation.metadata else None
    return explicit or config.federation.service_name or source or "(not configured)"


def run_scheduled(registry: CheckRegistry, probes: Mapping[str, ProbeSpec], config: Settings, now: datetime,
                  options: ScheduleOptions, started_at: datetime | None = None) -> ScheduledRun:
    """Lock the target, run the checks at ``now`` and finish the run (:func:`finish_run`).

    Raises:
        locking.LockBusy: another run of the same target holds the lock.
        crash.RunCrashed: an unexpected exception after the checks ran (it carries the result).
    """
    if run_scope(config).facts is not None and options.target_key is None:
        # A file run is keyed by what the file holds (thumbprint, entityID), known only once it
        # is read; the lock then guards only the history (nothing is probed twice).
        result = run_checks(registry, probes, config, now, only=options.only, run_metadata=options.run_metadata,
                            started_at=started_at)
        if not result.metadata.get("target_identified"):
            return _finish(result, None, now, options, config)
        if options.lock_dir is None:
            return _finish(result, result.target, now, options, config)
        with run_lock(options.lock_dir, result.target, options.lock_wait_seconds):
            return _finish(result, result.target, now, options, config)
    key = target_key(config, options.target_key)

    def work() -> ScheduledRun:
        result = run_checks(registry, probes, config, now, only=options.only, run_metadata=options.run_metadata,
                            progress=options.progress,
                            started_at=started_at)
        return _finish(result, key, now, options, config)

    if options.lock_dir is None:
        return work()
    with run_lock(options.lock_dir, key, options.lock_wait_seconds):
        return work()


def _finish(result: RunResult, key: str | None, now: datetime, options: ScheduleOptions,
            config: Settings) -> ScheduledRun:
    """finish_run, with a bug after the checks ran turned into RunCrashed: the run then ends
    INCOMPLETE (exit 3) and the reports are still written (crash.py)."""
    try:
        return finish_run(result, key, now, options, config)
    except Exception as exc:
        raise RunCrashed(result, exc) from exc


def finish_run(result: RunResult, key: str | None, now: datetime, options: ScheduleOptions,
               config: Settings | None = None) -> ScheduledRun:
    """Apply accepted risks, compare with and record in the history, and notify on a change.
    History and webhook trouble become ``warnings`` for the caller to show (the CLI prints each
    once on standard error; they are logged here only at debug level); nothing here raises for
    them. The webhook is posted through the network of ``config`` (its ``network.allow_link_local``,
    ``tls.ca_bundle`` and download cap), the same rules as the run's own requests; None = the
    defaults.

    Only real observations enter the history: a projection (``options.projection``, or a result
    judged ``--as-of`` another time) and a run without an identified target (``key`` None: a file
    whose content could not be read) are neither recorded, compared nor notified."""
    warnings: list[str] = []
    result = apply_suppressions(result, options.suppressions, now)
    previous: RunRecord | None = None
    run_id = None
    projection = options.projection or "judged_as_of" in result.metadata
    if projection or key is None:
        if options.webhook_url:
            why = ("it judges at another time (--as-of), so it is a projection, not an observation" if projection
                   else "the file's content could not be identified")
            warnings.append(f"not recorded in the history and nothing posted: {why}")
        for w in warnings:
            log.debug("%s: %s", key or result.target, w)
        return ScheduledRun(result=result, warnings=tuple(warnings))
    if options.history_path is not None:
        try:
            with History(options.history_path) as history:
                previous = history.latest(key)
                if previous is not None:
                    trend = history.scores(key, TREND_LENGTH - 1) + [int(result.grade.score)]
                    certs = [c.as_dict() for c in run_certificates(result)]
                    result = dataclasses.replace(
                        result, changes=changes_between(previous, finding_rows(result), certs, trend))
                run_id = history.record(result, key)
                warnings.extend(history.warnings)
        except HistoryError as exc:
            warnings.append(f"history not recorded: {exc}")
    notification = None
    if options.webhook_url:
        if options.history_path is None:
            warnings.append("--notify-webhook needs the history to know what changed; nothing posted (--no-history)")
        else:
            change = change_since(previous, result)
            if previous is None:
                log.info("webhook: %s has no earlier run in %s; this run sets the baseline, nothing posted "
                         "(a later run posts when the verdict or the failing checks change)", key, options.history_path)
            elif change is None:
                log.info("webhook: no change since run %s (same verdict, same failing checks); nothing posted",
                         previous.id)
            if change is not None:
                network = Network.for_config(config) if config is not None else Network()
                notification = post_webhook(options.webhook_url, webhook_payload(result, change, run_id),
                                            timeout=options.webhook_timeout_seconds, client=network.http)
                if not notification.sent:
                    warnings.append(f"notification not delivered: {notification.detail}")
    for w in warnings:
        log.debug("%s: %s", key, w)
    return ScheduledRun(result=result, run_id=run_id, notification=notification, warnings=tuple(warnings))
