"""Making untrusted values safe to print on a terminal.

Certificate subjects, host names, HTTP reason phrases, directory values and check summaries built
from them come from servers and files anyone may control. Printed raw, an ESC starts an ANSI/VT
control sequence (CSI colours and cursor moves, OSC 8 hyperlinks, OSC 52 clipboard writes, title
changes), a CR overwrites the line shown, and a newline forges a line of the report. Every C0 and
C1 control character (ECMA-48: U+0000-U+001F, U+007F-U+009F), the Unicode line and paragraph
separators and the bidirectional formatting characters (which reorder what is displayed, see
https://www.unicode.org/reports/tr9/) are therefore shown as visible escapes: ``\\x1b``, ``\\r``,
``\\n``, ``\\u202e``. A tab becomes a space. Everything else, including non-Latin text, is kept.
"""

from __future__ import annotations

import re

__all__ = ["terminal_safe"]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": " "}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(value: object) -> str:
    """``str(value)`` with every control, line-breaking and bidi character made a visible escape
    (see the module docstring); None and other values are converted with ``str`` first."""
    return _UNSAFE.sub(_visible, str(value))
