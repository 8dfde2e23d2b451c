"""Secrets a run needs, found missing before anything runs.

A configuration that names an environment variable for a secret (``directory.password_env``,
``cloud.client_secret_env``, ``sign_in_test.password_env``) and a run whose checks need that
secret, started without the variable (a scheduled job whose ``EnvironmentFile=`` was left out, a
shell where the lab's ``lab.env`` was not sourced), is a configuration error of the run: one
problem per variable, naming the key, the variable and how to set it — not dozens of "not
determined" findings repeating the same missing variable, which also proves nothing about the
target. A secret from the OS keyring is read by its probe, as before; one from a prompt too when
the run has a terminal. Without one (cron, a systemd service, Task Scheduler: standard input is not
a terminal) a prompt cannot be answered, and ``password_source = "prompt"`` is a configuration error
of the run naming the key and what to use under a scheduler instead (an environment variable or the
keyring), found before anything runs.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Iterable, Mapping

from adfs_readiness.facts.cloud import ENTRA_FEDERATION_FACT
from adfs_readiness.facts.directory import DIRECTORY_FACT
from adfs_readiness.facts.entra_mfa import ENTRA_MFA_CLIENT_FACT
from adfs_readiness.facts.sign_in import SIGN_IN_FACT
from adfs_readiness.settings import SettingProblem, Settings

__all__ = ["secret_problems", "needed_secrets", "prompt_problems", "has_terminal"]

#: A secrets file next to the configuration (``lab.env`` of ``lab up``, an ``EnvironmentFile=``)
#: is read only this far, and only for the names it sets (never a value).
_ENV_FILE_MAX_BYTES = 64 * 1024


def needed_secrets(settings: Settings, fact_keys: Iterable[str]) -> list[tuple[str, str, str]]:
    """The environment variables the probes of ``fact_keys`` will read under ``settings``:
    ``[(settings key, variable, what it holds)]``, in a stable order."""
    keys = set(fact_keys)
    needed = []
    directory = settings.directory
    if (DIRECTORY_FACT in keys and settings.lab.directory_recording is None and directory.bind_user
            and directory.auth != "kerberos" and directory.password_source == "env"):
        needed.append(("directory.password_env", directory.password_env,
                       f"the LDAP bind password of {directory.bind_user}"))
    cloud = settings.cloud
    graph = cloud.graph_configured and cloud.client_certificate is None and (
        ENTRA_FEDERATION_FACT in keys and cloud.entra_export is None or ENTRA_MFA_CLIENT_FACT in keys)
    if graph:
        needed.append(("cloud.client_secret_env", cloud.client_secret_env,
                       f"the client secret of the Graph app {cloud.client_id}"))
    sign_in = settings.sign_in_test
    if SIGN_IN_FACT in keys and sign_in.configured and sign_in.password_source == "env":
        needed.append(("sign_in_test.password_env", sign_in.password_env,
                       f"the password of the sign-in test account {sign_in.upn}"))
    return needed


def _prompted(settings: Settings, fact_keys: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """The secrets the probes of ``fact_keys`` would prompt for under ``settings``: ``[(settings key
    of the source, its section, what it holds, the env key)]``."""
    keys = set(fact_keys)
    prompted = []
    directory = settings.directory
    if (DIRECTORY_FACT in keys and settings.lab.directory_recording is None and directory.bind_user
            and directory.auth != "kerberos" and directory.password_source == "prompt"):
        prompted.append(("directory.password_source", "directory",
                         f"the LDAP bind password of {directory.bind_user}", directory.password_env))
    sign_in = settings.sign_in_test
    if SIGN_IN_FACT in keys and sign_in.configured and sign_in.password_source == "prompt":
        prompted.append(("sign_in_test.password_source", "sign_in_test",
                         f"the password of the sign-in test account {sign_in.upn}", sign_in.password_env))
    return prompted


def has_terminal() -> bool:
    """True when a prompt can be answered: standard input is a terminal (False under cron, a
    systemd service or Task Scheduler, and for input from a pipe or a file)."""
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (ValueError, OSError):  # closed or detached
        return False


def prompt_problems(settings: Settings, fact_keys: Iterable[str], *, interactive: bool) -> list[SettingProblem]:
    """A problem for each secret the probes of ``fact_keys`` would prompt for (``password_source =
    "prompt"``) when the run is not ``interactive``: nobody can answer the prompt, so every check
    that needs the secret would end "not determined". Empty when ``interactive``."""
    if interactive:
        return []
    return [SettingProblem(
        settings.source, key, "prompt",
        f"a password source that needs no terminal: nobody can answer a prompt for {holds} in this run "
        f"(standard input is not a terminal, as under cron, a systemd service or Task Scheduler)",
        f'in {section}, set password_source = "env" and password_env = "{variable}" (the variable from the '
        f'scheduler: systemd EnvironmentFile=, a secrets file the cron line loads), or password_source = '
        f'"keyring" (docs/scheduling.md); keep "prompt" for runs by hand in a terminal')
        for key, section, holds, variable in _prompted(settings, fact_keys)]


def secret_problems(settings: Settings, fact_keys: Iterable[str], *, environ: Mapping[str, str] | None = None,
                    config: Path | None = None) -> list[SettingProblem]:
    """A problem for each variable of :func:`needed_secrets` that is unset or empty in ``environ``
    (default ``os.environ``). ``config`` (the configuration file) lets the fix name a ``*.env``
    file in its folder that sets the variable (``lab up`` writes ``lab.env`` there)."""
    env = os.environ if environ is None else environ
    problems = []
    for key, variable, holds in needed_secrets(settings, fact_keys):
        if env.get(variable):
            continue
        env_file = _env_file_setting(config, variable)
        how = (f"load {env_file} first: set -a; . {env_file}; set +a" if env_file is not None
               else f"export {variable}=... in the shell; in a systemd unit, EnvironmentFile= "
                    f"(docs/scheduling.md)")
        problems.append(SettingProblem(
            settings.source, key, variable,
            f"the environment variable {variable} to hold {holds}, but it is not set (or empty)", how))
    return problems


def _env_file_setting(config: Path | None, variable: str) -> Path | None:
    """A ``*.env`` file in ``config``'s folder that sets ``variable`` (``NAME=`` at a line's
    start, optionally after ``export``), else None."""
    if config is None:
        return None
    folder = config.parent
    pattern = re.compile(rf"^\s*(?:export\s+)?{re.escape(variable)}=", re.MULTILINE)
    try:
        candidates = sorted(folder.glob("*.env"))
    except OSError:
        return None
    for path in candidates:
        try:
            if not path.is_file() or path.stat().st_size > _ENV_FILE_MAX_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if pattern.search(text):
            return path
    return None
