"""``adfs-readiness check``: probe a federation service (or judge files), grade it, write the
reports; with several ``--config`` (or a folder) a fleet, one report folder per tenant."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from adfs_readiness.cli._common import (add_command, add_output_options, add_settings_flags, add_verbose, emit,
                                        finite_seconds, flags_given, load_registry, warn)
from adfs_readiness.settings import COMMAND_LINE, SettingsError
from adfs_readiness.text import terminal_safe

__all__ = ["register", "run"]

EXAMPLES = (
    "adfs-readiness check --service-name sts.contoso.com",
    "adfs-readiness check --config adfs-readiness.toml --html report.html --json report.json",
    "adfs-readiness check --metadata FederationMetadata.xml --only 'metadata.*'",
    "adfs-readiness check --certificate new-ssl.pfx --certificate-password-env PFX_PASSWORD",
    "adfs-readiness check --config /etc/adfs-readiness/contoso.toml -q --metrics /var/lib/node_exporter/adfs.prom",
    "adfs-readiness check --config tenants/ --out-dir reports/    # a fleet",
)


def _selector_text(raw: str) -> str:
    """A check selector as given on the command line, spelled as check ids are (lower case)."""
    return raw.strip().lower()


def add_run_options(p: argparse.ArgumentParser) -> None:
    """--config and --only (shared with collect)."""
    p.add_argument("--config", metavar="PATH", type=Path, action="append",
                   help="TOML configuration (see 'init'); for check: repeat it, or give a folder, to check a fleet")
    # Lower-cased here as checks.skip / --skip are (settings.values.CheckSelector): the
    # selector check accepts "Metadata.Signature" case-insensitively, so a raw --only of it
    # would pass validation and then select nothing (a run of no checks, INCOMPLETE).
    p.add_argument("--only", metavar="CHECK", action="append", default=[], type=_selector_text,
                   help="run only this check, 'prefix.*' or 'area.*' (repeatable)")


def register(sub: Any) -> None:
    """Add ``check`` to the subcommands ``sub``."""
    p = add_command(sub, "check", "probe a federation service, judge it and write reports", EXAMPLES)
    add_verbose(p)
    add_run_options(p)
    g = add_settings_flags(p, ("target", "run", "scheduled runs"))["scheduled runs"]
    g.add_argument("--notify-webhook", metavar="URL",
                   help="post a JSON summary (Teams/Slack) when the verdict or failing checks changed "
                        "(or set ADFS_READINESS_WEBHOOK_URL)")
    g.add_argument("--notify-timeout", metavar="SECONDS", type=finite_seconds, default=10.0,
                   help="time limit of the webhook post (default 10)")
    g.add_argument("--lock-wait", metavar="SECONDS", type=finite_seconds, default=0.0,
                   help="wait this long for another run of the same target to finish (default 0: refuse at once)")
    g.add_argument("--tenant", metavar="NAME",
                   help="group this run's history and lock under NAME instead of the service name")
    f = p.add_argument_group("fleets (--config repeated, or a folder of configs)")
    f.add_argument("--out-dir", metavar="DIR", type=Path,
                   help="fleet: write each tenant's reports to DIR/<tenant>/ and index.html + index.json to DIR")
    f.add_argument("--jobs", metavar="N", type=int, default=8, help="fleet: tenants run at the same time (default 8)")
    add_output_options(p)
    p.set_defaults(handler=run)


def _is_fleet(args: argparse.Namespace) -> bool:
    paths = args.config or []
    return len(paths) > 1 or any(p.is_dir() for p in paths)


def _prompt() -> Any:
    """getpass when standard input is a terminal (a scheduled run never waits for a prompt)."""
    if not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass


def _options(args: argparse.Namespace, settings: Any, **extra: Any) -> Any:
    from adfs_readiness.app.run import schedule_options

    return schedule_options(settings, only=args.only, lock_wait_seconds=args.lock_wait,
                            webhook_url=args.notify_webhook, webhook_timeout_seconds=args.notify_timeout,
                            projection=args.as_of is not None, **extra)


def _warn_cleartext_webhook(args: argparse.Namespace) -> None:
    """Once per command (a fleet too): a plain http:// webhook to another machine is used, but said."""
    import os

    from adfs_readiness.app.run import WEBHOOK_ENV
    from adfs_readiness.notify import cleartext_warning

    warning = cleartext_warning(args.notify_webhook or os.environ.get(WEBHOOK_ENV))
    if warning is not None:
        warn(warning)


def run(args: argparse.Namespace) -> int:
    """Run ``check``; returns the verdict's exit code (a fleet: the worst tenant's)."""
    from adfs_readiness.app.run import RunInputs, certificate_password, prepare_settings
    from adfs_readiness.app.scheduled import run_scheduled
    from adfs_readiness.probes.catalog import all_probes

    registry = load_registry()
    _warn_cleartext_webhook(args)
    if _is_fleet(args):
        return _run_fleet(registry, args)
    inputs = RunInputs(config=args.config[0] if args.config else None, flags=flags_given(args), only=args.only)
    settings = prepare_settings(registry, inputs)
    settings = certificate_password(settings, prompt=_prompt())
    started = datetime.now(timezone.utc)
    # A progress line on a terminal (a large directory scan takes minutes); never under cron.
    from adfs_readiness.progress import TerminalProgress

    progress = TerminalProgress() if sys.stderr.isatty() and not args.quiet else None
    try:
        scheduled = run_scheduled(registry, all_probes(), settings, args.as_of or started,
                                  _options(args, settings, tenant=args.tenant, progress=progress), started_at=started)
    finally:
        if progress is not None:
            progress.close()
    for warning in scheduled.warnings:
        warn(warning)
    return emit(scheduled.result, args, settings)


def _run_fleet(registry: Any, args: argparse.Namespace) -> int:
    from adfs_readiness.app.fleet import fleet_exit_code, run_fleet_into, tenants_from_paths
    from adfs_readiness.app.reports import REPORT_FORMATS
    from adfs_readiness.app.run import RunInputs, prepare_settings
    from adfs_readiness.probes.catalog import all_probes

    if args.out_dir is None:
        raise SettingsError(COMMAND_LINE, "--out-dir", "", "a folder for the fleet's reports (several --config given)")
    single = [fmt for fmt in REPORT_FORMATS if getattr(args, fmt, None)]
    if single or args.nagios or args.tenant:
        flag = (single or ["nagios" if args.nagios else "tenant"])[0].replace("_", "-")
        raise SettingsError(COMMAND_LINE, f"--{flag}", "",
                            "no single-report option in a fleet: each tenant gets every report in --out-dir/<tenant>/")
    flags = flags_given(args)

    def load(path: Path) -> Any:
        return prepare_settings(registry, RunInputs(config=path, flags=flags, only=args.only))

    tenants = tenants_from_paths(args.config, load=load)
    now = args.as_of or datetime.now(timezone.utc)
    outcomes, index = run_fleet_into(
        args.out_dir, registry, all_probes(), tenants, now,
        lambda t: _options(args, t.config, tenant=t.name, run_metadata={"tenant": t.name}), jobs=args.jobs)
    for o in outcomes:
        for warning in (o.run.warnings if o.run else ()):
            warn(f"{o.tenant.name}: {warning}")
        if o.error:
            # A configuration error lists one problem a line: each line is made safe and the line
            # breaks are kept, as for a single run (made safe whole, they printed as backslash-n).
            lines = f"adfs-readiness: {o.tenant.name}: {o.error}".splitlines()
            print("\n".join(terminal_safe(line) for line in lines), file=sys.stderr)
    if not args.quiet:
        for row in index["rows"]:
            verdict = row["verdict"] or "NOT RUN"
            score = row["score"] if row["score"] is not None else "-"
            # A tenant that did not run has no blockers to list, which is not "none": say so, as
            # the fleet index does.
            blockers = ", ".join(row["blockers"]) if row["verdict"] else "not determined (not run)"
            print(terminal_safe(f"{row['tenant']:24} {verdict:20} {row['grade'] or '-':2} {score:>3}  {blockers}"))
        print(f"Fleet index: {args.out_dir / 'index.html'}")
    return fleet_exit_code(outcomes)
