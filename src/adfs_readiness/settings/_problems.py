"""What is wrong with a setting, said so an admin can fix it: the file (or "command line"), the
key (dotted, or the flag), the value as given, what is expected, and the fix when there is one.

A file's problems are collected and raised together (:class:`SettingsError`), so an admin fixes
three mistakes in one round instead of three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["SettingProblem", "SettingsError", "COMMAND_LINE", "shown_value"]

#: The ``source`` of a value given as a command-line flag.
COMMAND_LINE = "command line"

#: Keys whose values are never echoed back (an admin may type a secret under a wrong name).
_SECRET_HINTS = ("pass", "secret", "pwd", "token", "credential", "private")
#: Field terms that contain a hint but name no secret: the token-signing / token-decrypting
#: thresholds are day counts an admin must see to fix.
_PASSWORD_SOURCES = ("env", "prompt", "keyring")
_NOT_SECRET_TERMS = ("token_signing", "token_decrypting", "token-signing", "token-decrypting")


def shown_value(key: str, value: Any) -> str:
    """How ``value`` appears in a message: TOML-like, hidden when the key smells of a secret."""
    leaf = key.rsplit(".", 1)[-1].lower()
    for term in _NOT_SECRET_TERMS:
        leaf = leaf.replace(term, "")
    # A *_env key holds the name of the variable that holds the secret (EnvName admits only names):
    # the admin must see which variable is meant.
    # A *_source key names where a password comes from: one of its few choices is no secret (any
    # other text there might be a password typed in the wrong key, and stays hidden).
    choice = leaf.endswith("_source") and value in _PASSWORD_SOURCES
    if any(h in leaf for h in _SECRET_HINTS) and not leaf.endswith("_env") and not choice:
        return "<hidden>"
    if isinstance(value, str):
        return repr(value) if value else '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class SettingProblem:
    """One bad setting.

    Attributes:
        source: the configuration file's path, or ``"command line"``.
        key: the dotted key (``federation.service_name``) or the flag (``--timeout``).
        value: the value as given (shown hidden when the key names a secret).
        expected: what would be accepted, in words.
        fix: what to write instead, when it can be said (else None).
    """

    source: str
    key: str
    value: Any
    expected: str
    fix: str | None = None

    def line(self, *, with_source: bool = True) -> str:
        """One line: ``source: key = value: expected ... (fix)``."""
        head = f"{self.source}: " if with_source else ""
        fix = f"; {self.fix}" if self.fix else ""
        return f"{head}{self.key} = {shown_value(self.key, self.value)}: expected {self.expected}{fix}"


class SettingsError(ValueError):
    """One or several :class:`SettingProblem` (all the problems of one file or one command line).

    Build it for one problem as ``SettingsError(source, key, value, expected, fix=None)``, for
    several with :meth:`of`. ``source``, ``key``, ``value``, ``expected`` and ``fix`` are the
    first problem's; ``problems`` holds them all; ``str()`` gives one line per problem.
    """

    def __init__(self, source: str, key: str, value: Any, expected: str, fix: str | None = None) -> None:
        self._set((SettingProblem(source, key, value, expected, fix),))

    @classmethod
    def of(cls, problems: Iterable[SettingProblem]) -> SettingsError:
        """An error holding ``problems`` (at least one)."""
        items = tuple(problems)
        if not items:
            raise ValueError("SettingsError.of() needs at least one problem")
        error = cls.__new__(cls)
        error._set(items)
        return error

    def _set(self, problems: tuple[SettingProblem, ...]) -> None:
        self.problems = problems
        first = problems[0]
        self.source, self.key, self.value, self.expected, self.fix = (first.source, first.key, first.value,
                                                                      first.expected, first.fix)
        if len(problems) == 1:
            text = first.line()
        else:
            sources = {p.source for p in problems}
            if len(sources) == 1:
                text = f"{first.source}: {len(problems)} problems:\n" + "\n".join(
                    f"  {p.line(with_source=False)}" for p in problems)
            else:
                text = f"{len(problems)} problems:\n" + "\n".join(f"  {p.line()}" for p in problems)
        ValueError.__init__(self, text)
