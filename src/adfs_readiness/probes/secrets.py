"""Passwords the tool needs at run time (the LDAP bind account's, the sign-in test account's), read
from where the configuration says: an environment variable, a prompt (no echo) or the OS keyring —
never from the configuration file or the command line. The value is returned to the caller and
goes nowhere else: not logged, not in any fact."""

from __future__ import annotations

import getpass
import os
from typing import Callable, Mapping

__all__ = ["resolve_secret"]


def resolve_secret(source: str, *, env_name: str, env_setting: str, prompt_text: str, keyring_service: str,
                   keyring_user: str, environ: Mapping[str, str] | None = None,
                   prompt: Callable[[str], str] = getpass.getpass,
                   keyring_get: Callable[[str, str], str | None] | None = None) -> tuple[str | None, str | None]:
    """The secret from ``source``: "env" (the variable ``env_name``; ``env_setting`` names the
    setting in the reason when it is unset), "prompt" (``prompt_text``, no echo) or "keyring"
    (``keyring_service`` / ``keyring_user``, the optional keyring package).

    Returns (secret, None) or (None, why not); never raises for a missing or unreadable secret.
    """
    if source == "env":
        value = (os.environ if environ is None else environ).get(env_name)
        if not value:
            return None, f"the environment variable {env_name} is not set ({env_setting})"
        return value, None
    if source == "prompt":
        try:
            value = prompt(prompt_text)
        except (EOFError, OSError) as exc:
            return None, f"could not prompt for the password: {exc or 'no terminal'}"
        return (value, None) if value else (None, "no password was entered")
    if source == "keyring":
        if keyring_get is None:
            try:
                import keyring
            except ImportError:
                return None, "password_source = \"keyring\" needs the keyring package: pip install adfs-readiness[keyring]"
            keyring_get = keyring.get_password
        try:
            value = keyring_get(keyring_service, keyring_user)
        except Exception as exc:  # noqa: BLE001 - keyring backends raise their own types
            return None, f"the keyring could not be read: {type(exc).__name__}: {exc}"
        if not value:
            return None, f"no password in the keyring for service {keyring_service!r}, user {keyring_user!r}"
        return value, None
    return None, f"unknown password_source {source!r}"
