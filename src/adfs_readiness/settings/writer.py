"""Settings back to TOML: the inverse of :mod:`.loader`, for the configuration files the tool
writes itself (``adfs-readiness lab up``). Only keys that differ from their defaults are written.

TOML strings are written as JSON strings: every JSON escape (``\\"``, ``\\\\``, ``\\n``,
``\\uXXXX``) is a valid TOML basic-string escape, so no TOML writer library is needed for the
value kinds settings hold (strings, numbers, booleans, paths, addresses, lists, one-level tables).
A test reads every file written back through the loader.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping

from adfs_readiness.settings._schema import spec_of
from adfs_readiness.settings.model import SECTIONS, Settings
from adfs_readiness.settings.values import HostPort

__all__ = ["settings_toml"]


def _value(value: Any, relative_to: Path | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Path):
        if relative_to is not None and value.is_absolute():
            try:
                value = value.relative_to(relative_to)
            except ValueError:
                pass
        return json.dumps(str(value))
    if isinstance(value, HostPort):
        return json.dumps(str(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, relative_to) for v in value) + "]"
    return json.dumps(str(value))


def settings_toml(settings: Settings, *, relative_to: Path | None = None, header: str = "") -> str:
    """The TOML text of ``settings``: one table per section that differs from the defaults, one
    line per key that differs. Paths under ``relative_to`` are written relative to it (the file is
    meant to live there: the loader anchors relative paths at the file's folder). ``header`` is
    put first, each line as a comment."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for name, cls in SECTIONS.items():
        section, default = getattr(settings, name), cls()
        body, tables = [], []
        for f in fields(cls):
            spec = spec_of(f)
            if spec is None or not spec.in_file:
                continue
            value = getattr(section, f.name)
            if value == getattr(default, f.name) or value is None:
                continue
            if isinstance(value, Mapping):
                tables.append((f.name, value))
                continue
            body.append(f"{f.name} = {_value(value, relative_to)}")
        if body or tables:
            lines += ["", f"[{name}]", *body]
        for key, table in tables:
            lines += ["", f"[{name}.{key}]", *(f"{json.dumps(str(k))} = {_value(v, relative_to)}"
                                                for k, v in table.items())]
    return "\n".join(lines).lstrip("\n") + "\n"
