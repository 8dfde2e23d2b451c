"""Text from outside made safe, in one place: where bytes become text, where text reaches a
terminal, and where it becomes a spreadsheet cell.

* **Where bytes become text** (:func:`decode_text`, :func:`clean`, :func:`clean_value`). JSON may
  escape a lone UTF-16 surrogate (``"\\ud800"``); Python's ``json`` turns it into a str that no
  UTF-8 writer can encode, so one such value in an OIDC document, an AD FS or Entra export, a
  Graph answer or a snapshot used to crash every report writer. Every string that comes out of
  the one untrusted-JSON reader (:func:`adfs_readiness.json_input.parse_untrusted_json`, which
  applies :func:`clean_value`) is clean: a surrogate pair written as two escapes becomes the
  character it encodes, a lone surrogate becomes U+FFFD (the replacement character), as a UTF-8
  decoder does with invalid bytes (the Unicode Standard, 3.9, "U+FFFD Substitution of Maximal
  Subparts"). Bytes are decoded as UTF-8 with invalid sequences replaced the same way.
* **Terminal** (:func:`terminal_safe`). Certificate subjects, host names, HTTP reason phrases,
  directory values, snapshot and TOML keys and history columns come from servers and files anyone
  may control. Printed raw, an ESC starts an ANSI/VT control sequence (CSI colours and cursor
  moves, OSC 8 hyperlinks, OSC 52 clipboard writes, title changes), a CR overwrites the line
  shown, and a newline forges a line of the report. Every C0 and C1 control character (ECMA-48:
  U+0000-U+001F, U+007F-U+009F), the Unicode line and paragraph separators and the bidirectional
  formatting characters (which reorder what is displayed, https://www.unicode.org/reports/tr9/)
  are shown as visible escapes: ``\\x1b``, ``\\r``, ``\\n``, ``\\u202e``. A tab becomes a space.
  Everything else, including non-Latin text, is kept.
* **Spreadsheet cells** (:func:`csv_cell`). A cell a spreadsheet would take for a formula is
  prefixed with ``'``, as OWASP advises against CSV injection
  (https://owasp.org/www-community/attacks/CSV_Injection): one starting with ``=``, ``+``, ``-``,
  ``@``, a tab or a line break, their full-width forms (which spreadsheet programs normalise),
  also after leading spaces.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["REPLACEMENT", "clean", "clean_value", "decode_text", "terminal_safe", "csv_cell", "markdown_safe"]

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSAFE_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": " "}
_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Markdown punctuation that makes emphasis, code, links or images ([ ] escaped), table cell breaks
# (|) or strike-through; "<" and "&" become entities so no HTML passes.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
#: Nesting :func:`clean_value` walks (it recurses; the JSON reader refuses deeper documents long
#: before this, json_input.DEFAULT_MAX_DEPTH).
MAX_JSON_DEPTH = 200


def clean(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD: always
    encodable as UTF-8. Linear time; the common case (nothing to do) costs one encode."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    # UTF-16 with surrogatepass joins the pairs; what is left alone is replaced.
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return _SURROGATE.sub(REPLACEMENT, joined)


def clean_value(value: Any, _depth: int = 0) -> Any:
    """A JSON-ready value (dicts, lists, strings, numbers, ...) with every string, keys included,
    passed through :func:`clean`. Raises ValueError beyond :data:`MAX_JSON_DEPTH` levels."""
    if _depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: clean_value(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_value(v, _depth + 1) for v in value]
    return value


def decode_text(data: bytes, encoding: str = "utf-8") -> str:
    """``data`` as text: a UTF-8 byte-order mark dropped, invalid sequences replaced by U+FFFD."""
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode(encoding, "replace")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(value: object) -> str:
    """``str(value)`` with every control, line-breaking and bidi character made a visible escape
    and lone surrogates replaced (see the module docstring); None and other values are
    converted with ``str`` first."""
    return _UNSAFE_TERMINAL.sub(_visible, clean(str(value)))


def csv_cell(value: object) -> str:
    """``value`` as a spreadsheet-safe CSV cell: ``str(value)`` (None -> ""), clean, and prefixed
    with ``'`` when a spreadsheet would read it as a formula (see the module docstring)."""
    text = "" if value is None else clean(str(value))
    first = text.lstrip(" ")[:1]
    if first and first in _FORMULA_START:
        return "'" + text
    return text


def markdown_safe(value: object) -> str:
    """``str(value)`` made inert in Markdown (the Markdown report, the Teams/Slack card of the
    webhook, which render it): punctuation backslash-escaped, ``<``/``&`` as entities, line breaks
    as spaces (safe inside a table cell), lone surrogates replaced. A hostile entityID such as
    ``[Re-enter your password](https://evil.example)`` is shown as text, never as a link."""
    text = clean(str(value)).replace("&", "&amp;").replace("<", "&lt;").replace("\r", " ").replace("\n", " ")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
