"""Reading a TOML configuration file into :class:`Settings`, reporting every problem of the file
at once (file, key, value, what is expected, the fix).

TOML syntax errors stop the reading (the rest cannot be trusted); the message names the line and,
when the line holds a backslash inside a "..." string (``bind_user = "CORP\\svc"``, what every
Windows admin writes), says how to write it.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from adfs_readiness.settings._problems import SettingProblem, SettingsError
from adfs_readiness.settings._schema import read_section
from adfs_readiness.settings.model import SECTIONS, Settings
from adfs_readiness.settings.values import BACKSLASH_FIX, ValueContext
from adfs_readiness.toml_input import parse_untrusted_toml

__all__ = ["load_settings", "settings_from_mapping"]

#: Sections a file may hold (``[certificate]`` is for flags and scripts too).
_FILE_SECTIONS = tuple(SECTIONS)


def load_settings(path: Path) -> Settings:
    """Read the TOML file ``path``; relative paths inside are taken relative to its folder.

    Raises:
        SettingsError: the file cannot be read, is not UTF-8 or valid TOML (line and column, and
            the backslash hint), or has bad, unknown or refused keys — all of them, one problem
            each.
    """
    from adfs_readiness.files import CONFIG_FILE_MAX_BYTES, read_capped

    source = str(path)
    try:
        # Fixed cap: a configuration file cannot raise the cap of its own reading.
        raw = read_capped(path, CONFIG_FILE_MAX_BYTES, setting=None)
    except OSError as exc:  # FileTooLarge and UnsafePath included: their strerror says why
        raise SettingsError(source, "(file)", str(path), f"a readable file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SettingsError(source, "(file)", "<binary>", "UTF-8 text") from None
    try:
        data = parse_untrusted_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(source, "(syntax)", str(exc), "valid TOML (see the example from 'adfs-readiness init')",
                            _syntax_fix(text, str(exc))) from None
    return settings_from_mapping(data, source=source, base_dir=Path(path).parent)


def _syntax_fix(text: str, message: str) -> str | None:
    """The backslash hint when the failing line holds a backslash inside a "..." string."""
    match = re.search(r"at line (\d+)", message)
    lines = text.splitlines()
    if not match or not 0 < int(match.group(1)) <= len(lines):
        return None
    line = lines[int(match.group(1)) - 1]
    if "\\" in line and '"' in line:
        return BACKSLASH_FIX
    return None


def settings_from_mapping(data: Mapping[str, Any], source: str = "<defaults>",
                          base_dir: Path | None = None) -> Settings:
    """Build Settings from parsed TOML (a mapping of tables). Relative paths are taken relative to
    ``base_dir``. Raises :class:`SettingsError` with every problem found."""
    problems: list[SettingProblem] = []
    sections: dict[str, Any] = {}
    ctx = ValueContext(base_dir=base_dir)
    for name, table in data.items():
        if name not in _FILE_SECTIONS:
            close = difflib.get_close_matches(name, _FILE_SECTIONS, n=1)
            problems.append(SettingProblem(source, name, table if not isinstance(table, dict) else "{...}",
                                           f"one of the tables {', '.join(_FILE_SECTIONS)}",
                                           f"did you mean [{close[0]}]?" if close else None))
            continue
        if not isinstance(table, dict):
            problems.append(SettingProblem(source, name, table, f"a table ([{name}])",
                                           f"write the keys under a [{name}] line"))
            continue
        section, found = read_section(SECTIONS[name], name, table, source, ctx)
        sections[name] = section
        problems.extend(found)
    if problems:
        raise SettingsError.of(problems)
    return Settings(source=source, **sections)
