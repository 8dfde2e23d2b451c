"""Untrusted JSON, read one way: answers from the network (OpenID Connect discovery, realm
discovery, Graph), files an admin received (AD FS and Entra exports, evidence snapshots, JSON
reports given to ``explain``) and the history's rows. Parsed with bounds, so a hostile or damaged
document is an error with a reason, never a crash, minutes of CPU or gigabytes of memory.

:func:`parse_untrusted_json` refuses, with a message naming the place in the document:

* bytes that are not UTF-8, and text that is not JSON (``NaN``/``Infinity`` included: they are
  not JSON, RFC 8259 6);
* a number with more than :data:`MAX_NUMBER_DIGITS` digits (a 5,000-digit number would make
  Python's ``int`` raise outside the parser, or cost quadratic time to convert);
* nesting deeper than ``max_depth`` (the tool's own readers recurse; Python's parser raises
  RecursionError past ~1000);
* a list or object with more than ``max_items`` entries, and more than ``max_items *
  NODES_PER_ITEM`` values in all (``limits.max_export_items``): a 2,000,000-item list is refused
  right after parsing, before any reader walks it.

What it returns is clean text (:func:`adfs_readiness.text.clean_value`: a lone surrogate escaped
in the JSON becomes U+FFFD), so no writer meets a string it cannot encode.

The bounds walk is iterative and linear in the number of values. The size is capped before
this: a file's by :func:`adfs_readiness.files.read_capped`, a network answer's by the HTTP
client's download cap, a history row's by ``history.MAX_ROW_JSON_CHARS``.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from adfs_readiness.text import clean_value

__all__ = ["UntrustedJsonError", "parse_untrusted_json", "MAX_NUMBER_DIGITS", "DEFAULT_MAX_DEPTH",
           "DEFAULT_MAX_ITEMS", "NODES_PER_ITEM"]

#: Digits a JSON number may have: 64-bit values have 20, PowerShell dates in ms 13.
MAX_NUMBER_DIGITS = 40
#: ConvertTo-Json's own -Depth maximum is 100; the collector writes 6 levels, a snapshot about 12.
DEFAULT_MAX_DEPTH = 64
#: Values in all, per allowed list entry: a relying party trust with its certificates is ~50.
NODES_PER_ITEM = 100
#: Entries of one list or object when the caller has no setting of its own: the default of
#: ``limits.max_export_items`` (a Graph or discovery answer has a few dozen).
DEFAULT_MAX_ITEMS = 20_000


class UntrustedJsonError(ValueError):
    """The document was refused; ``str()`` says why and where (a JSON path like ``$.Endpoints``)."""


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_NUMBER_DIGITS:
        raise UntrustedJsonError(f"a number with {digits:,} digits (at most {MAX_NUMBER_DIGITS} are accepted)")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS * 2:
        raise UntrustedJsonError(f"a number written with {len(text):,} characters")
    value = float(text)
    if not math.isfinite(value):
        # "1e999" overflows to infinity: as unusable as the Infinity literal refused below, and the
        # JSON report (allow_nan=False) could not be written with it.
        raise UntrustedJsonError(f"the number {text[:40]} is out of range")
    return value


def _constant(name: str) -> Any:
    raise UntrustedJsonError(f"{name} is not a JSON value")


def parse_untrusted_json(data: bytes | str, *, max_items: int = DEFAULT_MAX_ITEMS,
                         items_setting: str = "limits.max_export_items", max_depth: int = DEFAULT_MAX_DEPTH,
                         deadline: float | None = None) -> Any:
    """Parse ``data`` (bytes: UTF-8, a byte order mark allowed; or text already decoded) and check
    its shape's bounds (see the module docstring). ``items_setting`` names the setting that raises
    ``max_items`` in the message. ``deadline`` (a ``time.monotonic()`` value, the probe's): past it
    the work stops with an error (the one C-level ``json.loads`` call cannot be interrupted; its
    cost is bounded by the size cap).

    Raises:
        UntrustedJsonError: the reason, with the JSON path where it applies (a ValueError).
    """
    if isinstance(data, str):
        text = data[1:] if data.startswith("\ufeff") else data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UntrustedJsonError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        document = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except UntrustedJsonError:
        raise
    except RecursionError:
        raise UntrustedJsonError(f"nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError, and int() refusing a huge number on its own
        raise UntrustedJsonError(f"not JSON: {exc}") from None
    _check_deadline(deadline)
    check_bounds(document, max_items=max_items, items_setting=items_setting, max_depth=max_depth, deadline=deadline)
    # Strings made safe where bytes become text (adfs_readiness.text: lone surrogates replaced),
    # after the bounds: clean_value recurses, and the depth is now known to be small.
    return clean_value(document)


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise UntrustedJsonError("the run's deadline passed while the document was being read")


def check_bounds(document: Any, *, max_items: int, items_setting: str, max_depth: int = DEFAULT_MAX_DEPTH,
                 deadline: float | None = None) -> None:
    """Raise :class:`UntrustedJsonError` when ``document`` (parsed JSON) nests deeper than
    ``max_depth``, has a list or object with more than ``max_items`` entries, or more than
    ``max_items * NODES_PER_ITEM`` values in all, or when ``deadline`` passes during the walk.
    Iterative; stops at the first excess."""
    max_nodes = max_items * NODES_PER_ITEM
    nodes = 1
    stack: list[tuple[Any, int, str]] = [(document, 0, "$")] if isinstance(document, (dict, list)) else []
    walked = 0
    while stack:
        value, depth, path = stack.pop()
        walked += 1
        if walked % 4096 == 0:
            _check_deadline(deadline)
        if depth >= max_depth:
            raise UntrustedJsonError(f"{path}: nested deeper than {max_depth} levels")
        size = len(value)
        if size > max_items:
            kind = "keys" if isinstance(value, dict) else "items"
            raise UntrustedJsonError(f"{path} has {size:,} {kind}, over the cap of {max_items:,} "
                                     f"(raise it with {items_setting})")
        nodes += size
        if nodes > max_nodes:
            raise UntrustedJsonError(f"more than {max_nodes:,} values in all (raise {items_setting} for a document "
                                     f"this big)")
        for key, child in (value.items() if isinstance(value, dict) else enumerate(value)):
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1, _child_path(path, key)))


def _child_path(path: str, key: Any) -> str:
    if len(path) > 120:
        return path if path.endswith("…") else path + "…"
    if isinstance(key, int):
        return f"{path}[{key}]"
    text = str(key)
    if len(text) > 40:
        text = text[:40] + "…"
    return f"{path}.{text}" if text.isidentifier() else f"{path}[{json.dumps(text)}]"
