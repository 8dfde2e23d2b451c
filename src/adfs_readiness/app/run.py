"""Getting a run ready: settings from a file and flags, checked against the installed checks, with
every problem reported at once; the certificate password; the scheduled-run options.

The CLI, the fleet and tests call these; nothing here prints or parses arguments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from adfs_readiness.app.provenance import provenance_metadata
from adfs_readiness.app.scheduled import ScheduleOptions
from adfs_readiness.app.selection import selector_problems
from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.history import data_dir, default_history_path
from adfs_readiness.app.secrets import has_terminal, prompt_problems, secret_problems
from adfs_readiness.engine.runner import plan_run
from adfs_readiness.settings import (COMMAND_LINE, SettingProblem, Settings, SettingsError, apply_flags,
                                     load_settings)
from adfs_readiness.settings.values import CheckSelector, Invalid, ValueContext
from adfs_readiness.suppressions import load_suppressions

__all__ = ["RunInputs", "prepare_settings", "target_problems", "certificate_password", "schedule_options",
           "WEBHOOK_ENV"]

#: Environment variable with the webhook URL (keeps the URL, a credential, out of crontabs).
WEBHOOK_ENV = "ADFS_READINESS_WEBHOOK_URL"

_SELECTOR = CheckSelector()


@dataclass(frozen=True)
class RunInputs:
    """What a run was asked, before validation.

    Attributes:
        config: the TOML file (None = flags only).
        flags: option -> value as argparse kept it (see :func:`adfs_readiness.settings.apply_flags`).
        only: ``--only`` selectors (empty = every check).
        require_target: refuse a run with nothing to look at (check, collect).
        environ: where the secrets the settings name are looked up (None = ``os.environ``).
        interactive: a prompt can be answered (None = standard input is a terminal,
            :func:`adfs_readiness.app.secrets.has_terminal`); when not, a secret the settings
            take from a prompt is a configuration error.
    """

    config: Path | None = None
    flags: Mapping[str, Any] = field(default_factory=dict)
    only: Sequence[str] = ()
    require_target: bool = True
    environ: Mapping[str, str] | None = None
    interactive: bool | None = None


def prepare_settings(registry: CheckRegistry, inputs: RunInputs) -> Settings:
    """The run's settings: the file, the flags on top, the check selectors known to ``registry``,
    a target to look at, and every secret the selected checks need set in the environment
    (:mod:`adfs_readiness.app.secrets`).

    Raises:
        SettingsError: every problem of the file, the flags and the selectors, in one error.
    """
    problems: list[SettingProblem] = []
    settings = Settings(source=COMMAND_LINE)
    file_problems = False
    if inputs.config is not None:
        try:
            settings = load_settings(inputs.config)
        except SettingsError as exc:
            problems.extend(exc.problems)
            file_problems = True
    # A file with other problems has no Settings to read checks.skip from: its raw list is judged
    # too, so a misspelt check id comes out with every other problem of the file, not a round later.
    file_skip = raw_checks_skip(inputs.config) if file_problems and inputs.config else settings.checks.skip
    try:
        settings = apply_flags(settings, inputs.flags)
    except SettingsError as exc:
        problems.extend(exc.problems)
    problems += selector_problems(registry, file_skip, str(inputs.config) if file_problems else settings.source,
                                  "checks.skip")
    problems += selector_problems(registry, _well_formed(inputs.flags.get("--skip") or ()), COMMAND_LINE, "--skip")
    problems += selector_problems(registry, inputs.only, COMMAND_LINE, "--only")
    if not problems and inputs.require_target:
        problems += target_problems(settings)
    if not problems:
        fact_keys = plan_run(registry, settings, inputs.only).fact_keys
        problems += secret_problems(settings, fact_keys, environ=inputs.environ, config=inputs.config)
        interactive = has_terminal() if inputs.interactive is None else inputs.interactive
        problems += prompt_problems(settings, fact_keys, interactive=interactive)
    if problems:
        raise SettingsError.of(_unique(problems))
    return settings


def _well_formed(selectors: Sequence[str]) -> list[str]:
    """The selectors the settings validator accepts (a malformed one is already a problem)."""
    well = []
    for text in selectors:
        try:
            _SELECTOR.parse(text, ValueContext())
        except Invalid:
            continue
        well.append(text)
    return well


def raw_checks_skip(path: Path) -> list[str]:
    """The well-formed strings of ``[checks] skip`` in the TOML file ``path`` as written (empty when
    the file cannot be read or parsed: that is reported on its own)."""
    import tomllib

    from adfs_readiness.files import CONFIG_FILE_MAX_BYTES, read_capped
    from adfs_readiness.toml_input import parse_untrusted_toml

    try:
        data = parse_untrusted_toml(read_capped(path, CONFIG_FILE_MAX_BYTES, setting=None).decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    checks = data.get("checks")
    skip = checks.get("skip") if isinstance(checks, dict) else None
    if isinstance(skip, str):
        skip = [skip]
    return _well_formed([s for s in skip if isinstance(s, str)]) if isinstance(skip, list) else []


def _unique(problems: Sequence[SettingProblem]) -> list[SettingProblem]:
    """``problems`` in order, each once (the file's validator and the selector check may both
    refuse one value)."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for p in problems:
        key = (p.source, p.key, repr(p.value))
        if key not in seen:
            seen.add(key)
            kept.append(p)
    return kept


def target_problems(settings: Settings) -> list[SettingProblem]:
    """A problem when the run has nothing to look at: no federation service name, metadata file or
    URL, AD FS export, or certificate file."""
    if (settings.federation.service_name or settings.federation.metadata or settings.adfs.export
            or settings.certificate.file):
        return []
    return [SettingProblem(settings.source, "federation.service_name", "",
                           "a federation service name (--service-name or the config file), --metadata PATH|URL, "
                           "--adfs-export FILE or --certificate FILE")]


def certificate_password(settings: Settings, *, environ: Mapping[str, str] | None = None,
                         prompt: Callable[[str], str] | None = None) -> Settings:
    """``settings`` with ``certificate.password`` filled in: from the environment variable named by
    ``certificate.password_env``, else from ``prompt`` (when given, i.e. interactive) for a file
    that looks like PFX/PKCS#12 (not PEM), else None. Never from a file or a flag.

    Raises:
        SettingsError: ``password_env`` names a variable that is not set.
    """
    cert = settings.certificate
    if cert.file is None:
        return settings
    env = os.environ if environ is None else environ
    if cert.password_env:
        if cert.password_env not in env:
            raise SettingsError(COMMAND_LINE, "--certificate-password-env", cert.password_env,
                                "the name of a set environment variable holding the password")
        return replace(settings, certificate=replace(cert, password=env[cert.password_env]))
    if prompt is None or cert.file.suffix.lower() not in (".pfx", ".p12"):
        return settings
    from adfs_readiness.files import read_head

    try:
        head = read_head(cert.file, 4096)
    except OSError:
        return settings  # the certificate probe reports the unreadable file as a finding
    if b"-----BEGIN" in head:
        return settings
    return replace(settings, certificate=replace(cert, password=prompt(f"Password for {cert.file} (empty for none): ")))


def schedule_options(settings: Settings, *, only: Sequence[str] = (), lock_wait_seconds: float = 0.0,
                     webhook_url: str | None = None, webhook_timeout_seconds: float = 10.0,
                     tenant: str | None = None, run_metadata: Mapping[str, Any] | None = None,
                     projection: bool = False, progress: Callable[[str, int], None] | None = None,
                     environ: Mapping[str, str] | None = None) -> ScheduleOptions:
    """How a scheduled run of ``settings`` is wrapped: the history (``[history]``, default in the
    user data folder), the lock folder, accepted risks (``[suppressions] file``), the webhook
    (``webhook_url``, else the ``ADFS_READINESS_WEBHOOK_URL`` environment variable).
    ``projection``: the run judges at a moved clock (``--as-of``): never recorded nor notified.
    ``progress``: handed to the probes for a progress display.

    Raises:
        SettingsError: the suppressions file is bad.
    """
    env = os.environ if environ is None else environ
    history_path = None
    if settings.history.enabled:
        history_path = settings.history.path or default_history_path()
    suppressions = load_suppressions(settings.suppressions.file) if settings.suppressions.file else ()
    return ScheduleOptions(
        history_path=history_path,
        lock_dir=data_dir() / "locks",
        lock_wait_seconds=lock_wait_seconds,
        suppressions=suppressions,
        webhook_url=webhook_url or env.get(WEBHOOK_ENV) or None,
        webhook_timeout_seconds=webhook_timeout_seconds,
        target_key=tenant,
        only=tuple(only),
        run_metadata={**provenance_metadata(settings), **(run_metadata or {})},
        projection=projection,
        progress=progress,
    )
