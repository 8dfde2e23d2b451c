"""Exact commands for a finding's evidence (``evidence["commands"]``, the action plan's copy
button), built from values read from DNS and the directory, which anyone who can write there
controls (private to ``adfs_readiness_checks``; pure).

A value goes into a command only as data: in a PowerShell single-quoted string, where nothing is
expanded and the only special characters are the quotes themselves (the ASCII apostrophe and the
typographic single quotes U+2018-U+201B, which PowerShell also takes as quotes: "about_Quoting_Rules",
https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_quoting_rules),
each doubled. A value holding a control character (a line break would split the command) is not
put in a command at all; neither is a DNS name that is not plain letters, digits, hyphens,
underscores and dots (a bare word on a command line)."""

from __future__ import annotations

import re

__all__ = ["ps_quoted", "plain_dns_name", "MAX_COMMANDS"]

#: Commands listed for one finding (the CSV of --csv-dir has every object).
MAX_COMMANDS = 10
_QUOTES = re.compile("['\u2018\u2019\u201a\u201b]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252}[A-Za-z0-9_])?$")


def ps_quoted(value: str) -> str | None:
    """``value`` as a PowerShell single-quoted string literal, or None when it holds a control
    character (or is longer than 1024 characters) and must not be put in a command."""
    if len(value) > 1024 or _CONTROL.search(value):
        return None
    return "'" + _QUOTES.sub(lambda m: m.group() * 2, value) + "'"


def plain_dns_name(name: str) -> bool:
    """True when ``name`` is a DNS name of letters, digits, hyphens, underscores and dots only,
    safe to write bare on a command line."""
    return bool(_PLAIN_NAME.match(name.rstrip("."))) and ".." not in name
