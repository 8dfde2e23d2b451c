"""TOML from files anyone may have written (a configuration received with a customer's evidence, a
fleet folder, an accepted-risk file), parsed with bounded memory and a clear error.

``tomllib`` is the maintained parser and stays the one that reads the document; two inputs under
the 1 MiB configuration cap still defeat it, so they are refused first:

* **A dotted key with very many parts** (``x.y.y.y...= 1``, or a ``[x.y.y...]`` header): tomllib
  keeps, per part, a tuple of the whole key path so far, so memory and time grow with the square
  of the parts: 20 000 parts (60 kB) took 4 s and 1.5 GB, 300 000 parts (600 kB) exhausted memory.
  Real configurations have keys of 2-3 parts. A key of more than :data:`MAX_KEY_PARTS` parts is
  refused by a linear scan before parsing.
* **Deep nesting** (``a = [[[[...]]]]`` or inline tables): tomllib recurses and raises
  RecursionError, not TOMLDecodeError, so callers that turn a syntax error into a configuration
  error crashed instead. It is reported as a TOMLDecodeError.

Callers keep catching :class:`tomllib.TOMLDecodeError`: :class:`UntrustedTomlError` is one.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

__all__ = ["MAX_KEY_PARTS", "UntrustedTomlError", "parse_untrusted_toml"]

#: Parts of one dotted key (``a.b.c`` has 3). Real configuration keys have at most 3.
MAX_KEY_PARTS = 64

# Runs of characters that neither start a string or comment nor continue or end a dotted key.
_PLAIN = re.compile(r"[^#\"'.=,{}\[\]\n]+")
_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_MULTI_BASIC = re.compile(r'"""(?:[^\\]|\\.)*?"""{0,2}', re.S)


class UntrustedTomlError(tomllib.TOMLDecodeError):
    """The document was refused before or while parsing; ``str()`` says why."""


def parse_untrusted_toml(text: str) -> dict[str, Any]:
    """Parse ``text`` as TOML (``tomllib.loads``) after refusing what would exhaust memory or the
    stack (see the module docstring).

    Raises:
        tomllib.TOMLDecodeError: not TOML, or refused (:class:`UntrustedTomlError`, saying why).
    """
    parts, line = _longest_dotted_key(text)
    if parts > MAX_KEY_PARTS:
        raise UntrustedTomlError(f"a dotted key with more than {MAX_KEY_PARTS} parts (at line {line})")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise UntrustedTomlError("nested too deeply (arrays or inline tables)") from None


def _longest_dotted_key(text: str) -> tuple[int, int]:
    """The most parts of one dotted key outside strings and comments, and its line (linear: one
    forward pass, strings and comments skipped with str.find or non-backtracking patterns). A
    number's decimal point counts too (``1.5`` is one dot), harmless against a cap of 64."""
    i, n, dots, worst, line, worst_line = 0, len(text), 0, 0, 1, 0
    while i < n:
        plain = _PLAIN.match(text, i)
        if plain:
            i = plain.end()
            continue
        char = text[i]
        if char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif char == "'":
            quote = "'''" if text.startswith("'''", i) else "'"
            end = text.find(quote, i + len(quote))
            if end < 0:
                break  # unterminated: tomllib reports it
            line += text.count("\n", i, end)
            i = end + len(quote)
        elif char == '"':
            string = (_MULTI_BASIC if text.startswith('"""', i) else _BASIC).match(text, i)
            if not string:
                break
            line += text.count("\n", i, string.end())
            i = string.end()
        elif char == ".":
            dots += 1
            if dots + 1 > worst:
                worst, worst_line = dots + 1, line
            i += 1
        else:  # = , { } [ ] or a line break end a key
            if char == "\n":
                line += 1
            dots = 0
            i += 1
    return worst, worst_line
