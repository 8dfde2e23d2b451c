"""Evidence and facts prepared for the HTML report: the raw tree (bounded) and the key facts.

A finding's evidence is free-form JSON from its check. The report shows a few of its values as
labelled key facts (what an admin reads first: the certificate's subject, thumbprint and expiry,
how many objects have the problem, the name looked up) and the whole tree behind a toggle. Both are
bounded, so a check that returns ten thousand rows cannot make the page unreadable or huge: long
lists and tables show their first rows and say how many more there are, and how many of them the
JSON report holds (a list the engine already cut for the reports is counted in full).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from adfs_readiness.report._common import readable_dates

__all__ = ["FACT_DEPTH", "FACT_ROWS", "MAX_ROWS", "Node", "node", "key_facts", "key_table"]

#: Strings longer than this (characters) are shown shortened, with the full value in <details>.
_LONG_TEXT = 160
_SHORT_TEXT = 96
#: Evidence nested deeper than this is shown as one JSON-like line rather than more nesting.
_MAX_DEPTH = 8
#: Rows of a list or table shown in the raw evidence; the rest are counted.
MAX_ROWS = 25
#: The facts section is a reference, paged per fact: shorter lists and a shallower tree.
FACT_ROWS, FACT_DEPTH = 10, 5
#: Key facts shown on a finding.
_MAX_KEY_FACTS = 6
_KEY_FACT_TEXT = 120
#: Evidence keys that say how the fact was gathered rather than what was found.
_PLUMBING = frozenset({"resolvers", "system_resolver", "resolver_note", "csv", "skipped", "source", "commands",
                       "unknown_fields", "missing_fields", "fetch", "answers", "base_dn", "problem_rows",
                       "fail_days", "warn_days", "rollover_warn_days", "primary_selected_by"})
#: Rows and columns of the key table (the first list of records in the evidence: the objects a
#: directory check names, the nodes a TLS check compared).
_KEY_TABLE_ROWS = 3
_KEY_TABLE_COLUMNS = 5
#: Values of a certificate worth a key fact, in this order.
_CERTIFICATE_FACTS = (("subject", "Certificate"), ("sha1", "SHA-1 thumbprint"), ("not_after", "Expires"),
                      ("days_left", "Days left"))

# Visible marks for white space at the ends of a value (a UPN "name@contoso.com " and its fix
# "name@contoso.com" would otherwise look the same in a browser). Glyphs every font has (U+2420
# SYMBOL FOR SPACE is missing from common fonts); the .ws style highlights them and the title says
# what they stand for.
_WS_MARKS = {" ": "·", "\t": "→", "\u00a0": "·", "\r": "↵", "\n": "↵"}


@dataclass(frozen=True)
class Node:
    """One evidence value prepared for the template.

    ``kind`` is "map" (``items``: (key, node) pairs), "list" (``items``: nodes), "table"
    (``columns`` and ``rows`` of nodes), "text" (``text``, and ``short`` when it is shortened;
    ``lead`` / ``core`` / ``trail`` when it starts or ends with white space, which a browser would
    not show: the white space is drawn as visible marks, the value itself is unchanged), "bool",
    "none", "number". ``more`` counts list items or table rows left out (see :data:`MAX_ROWS`);
    ``report_keeps`` is set when the list was already cut for the reports (the engine bounds a
    long list to ``limits.max_report_rows`` entries and a last string counting the rest): how
    many entries the JSON report itself holds, ``more`` then counting against the whole list.
    """

    kind: str
    text: str = ""
    short: str = ""
    lead: str = ""
    core: str = ""
    trail: str = ""
    items: tuple[Any, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = field(default=())
    more: int = 0
    report_keeps: int = 0


#: The last entry engine/bounds.py puts in a list it cut for the reports.
_BOUND_MARKER = re.compile(r"^… (?P<hidden>[\d,]+) more not shown \((?P<total>[\d,]+) in all\)$")


def _cut_for_report(value: list[Any]) -> tuple[list[Any], int, int]:
    """(the real entries, the whole list's length, how many the report kept: 0 when not cut)."""
    last = value[-1] if value else None
    match = _BOUND_MARKER.match(last) if isinstance(last, str) else None
    if match is None:
        return value, len(value), 0
    return value[:-1], int(match.group("total").replace(",", "")), len(value) - 1


def node(value: Any, depth: int = 0, max_rows: int = MAX_ROWS, max_depth: int = _MAX_DEPTH) -> Node:
    """Prepare a JSON-ready value for display (see :class:`Node`): at most ``max_rows`` items of
    a list, and values nested deeper than ``max_depth`` as one line of text."""
    if value is None:
        return Node("none", text="none")
    if isinstance(value, bool):
        return Node("bool", text="yes" if value else "no")
    if isinstance(value, (int, float)):
        return Node("number", text=str(value))
    if isinstance(value, str):
        return _text_node(value)
    if depth >= max_depth:
        return _text_node(json.dumps(value, ensure_ascii=False, default=str))
    if isinstance(value, dict):
        return Node("map", items=tuple((str(k), node(v, depth + 1, max_rows, max_depth)) for k, v in value.items()))
    if isinstance(value, list):
        entries, total, kept = _cut_for_report(value)
        shown = entries[:max_rows]
        more = max(0, total - len(shown))
        if shown and all(isinstance(v, dict) and v and _all_scalar(v) for v in shown):
            columns: dict[str, None] = {}
            for row in shown:
                columns.update(dict.fromkeys(row))
            return Node("table", columns=tuple(columns), more=more, report_keeps=kept,
                        rows=tuple(tuple(node(row.get(c), depth + 1, max_rows, max_depth) for c in columns) for row in shown))
        return Node("list", items=tuple(node(v, depth + 1, max_rows, max_depth) for v in shown), more=more,
                    report_keeps=kept)
    return _text_node(str(value))


def key_facts(evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A few (label, value) pairs worth reading first, from a finding's evidence: the certificate
    it judged, then short top-level values in the check's order (how it was gathered left out)."""
    facts: list[tuple[str, str]] = []
    certificate = evidence.get("certificate")
    if isinstance(certificate, Mapping):
        for key, label in _CERTIFICATE_FACTS:
            value = _short(certificate.get(key), key)
            if value is not None:
                facts.append((label, value))
    for key, value in evidence.items():
        if len(facts) >= _MAX_KEY_FACTS:
            break
        if key in _PLUMBING or key == "certificate":
            continue
        text = _short(value, key)
        if text is not None:
            facts.append((_label(key), text))
    return facts[:_MAX_KEY_FACTS]


def key_table(evidence: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first top-level list of flat records (at most :data:`_KEY_TABLE_COLUMNS` columns) as
    ``{"label", "columns", "rows" (text cells), "more"}``, its first :data:`_KEY_TABLE_ROWS` rows;
    None when the evidence has no such list."""
    for key, value in evidence.items():
        if key in _PLUMBING or not isinstance(value, list) or not value:
            continue
        if not all(isinstance(row, Mapping) and row and all(not isinstance(v, (dict, list)) for v in row.values())
                   for row in value[:_KEY_TABLE_ROWS]):
            continue
        columns: dict[str, None] = {}
        for row in value[:_KEY_TABLE_ROWS]:
            columns.update(dict.fromkeys(str(k) for k in row))
        if len(columns) > _KEY_TABLE_COLUMNS:
            continue
        rows = [[node(row.get(c)) for c in columns] for row in value[:_KEY_TABLE_ROWS]]
        return {"label": _label(key), "columns": list(columns), "rows": rows,
                "more": max(0, len(value) - _KEY_TABLE_ROWS)}
    return None


def _short(value: Any, key: str) -> str | None:
    """A value as one short line, or None when it does not make one."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        text = readable_dates(" ".join(value.split()))
        return text if len(text) <= _KEY_FACT_TEXT else None
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        shown = ", ".join(str(v) for v in value[:4]) + (f" (+{len(value) - 4} more)" if len(value) > 4 else "")
        return shown if len(shown) <= _KEY_FACT_TEXT else None
    if isinstance(value, Mapping) and isinstance(value.get("text"), str):
        return _short(value["text"], "text")  # a lookup that says itself in one line
    if isinstance(value, Mapping) and value and all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value.values()):
        shown = ", ".join(f"{k}: {v}" for k, v in list(value.items())[:4])
        return shown if len(shown) <= _KEY_FACT_TEXT else None
    return None


def _label(key: str) -> str:
    """``objects_with_problem`` -> "Objects with problem"; other spellings (AD attribute names,
    ``federatedIdpMfaBehavior``) are kept, since that is how the admin will search for them."""
    if "_" in key or key.islower():
        words = key.replace("_", " ").strip()
        return words[:1].upper() + words[1:]
    return key


def _all_scalar(mapping: dict[str, Any]) -> bool:
    return all(not isinstance(v, (dict, list)) for v in mapping.values())


def _text_node(text: str) -> Node:
    text = readable_dates(text)  # dates for people; the JSON report keeps them raw
    if len(text) > _LONG_TEXT:
        return Node("text", text=text, short=text[:_SHORT_TEXT] + "…")
    core = text.strip()
    if core != text:
        start = text.index(core) if core else len(text)
        lead, trail = text[:start], text[start + len(core):]

        def mark(ws: str) -> str:
            return "".join(_WS_MARKS.get(c, "·") for c in ws)

        return Node("text", text=text, lead=mark(lead), core=core, trail=mark(trail))
    return Node("text", text=text)
