"""How a section is declared and read: each key of a TOML table is a dataclass field made with
:func:`setting` (its validator, and an old name it may still be given under); :func:`read_section`
reads a table into the section's dataclass and returns every problem it found, not only the first.

A section may also declare ``refused`` keys (``password``: never in a file, said why) and a
``cross_check()`` method for rules between keys (a fail limit above its warn limit); it runs only
when every key of the section was valid, so one typo does not cause a second, confusing message.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, Mapping

from adfs_readiness.settings._problems import SettingProblem
from adfs_readiness.settings.values import Invalid, Value, ValueContext

__all__ = ["setting", "SettingSpec", "spec_of", "read_section", "section_keys"]

log = logging.getLogger("adfs_readiness.settings")


@dataclass(frozen=True)
class SettingSpec:
    """A key's declaration: its ``value`` validator, an older name (``renamed_from``) still read
    with a deprecation warning, and ``in_file``: False for values only a flag or the run sets."""

    value: Value
    renamed_from: str | None = None
    in_file: bool = True


def setting(default: Any = MISSING, value: Value | None = None, *, default_factory: Any = MISSING,
            renamed_from: str | None = None, in_file: bool = True, **field_options: Any) -> Any:
    """A dataclass field that is a configuration key validated by ``value``."""
    if value is None:
        raise TypeError("setting() needs a value validator")
    metadata = {"setting": SettingSpec(value, renamed_from, in_file)}
    if default_factory is not MISSING:
        return field(default_factory=default_factory, metadata=metadata, **field_options)
    return field(default=default, metadata=metadata, **field_options)


def spec_of(f: Field[Any]) -> SettingSpec | None:
    """The declaration of field ``f`` (None for a field that is not a key)."""
    return f.metadata.get("setting")


def section_keys(cls: type) -> list[str]:
    """The keys a file may set in the section ``cls``."""
    return [f.name for f in fields(cls) if (s := spec_of(f)) is not None and s.in_file]


def read_section(cls: type, name: str, table: Mapping[str, Any], source: str,
                 ctx: ValueContext) -> tuple[Any, list[SettingProblem]]:
    """Read the TOML ``table`` of section ``name`` into ``cls``.

    Returns (section, problems): the section holds every valid key (defaults for the others), the
    problems list every bad, unknown or refused key with what is expected and the fix.
    """
    problems: list[SettingProblem] = []
    values: dict[str, Any] = {}
    known: set[str] = set()
    refused: Mapping[str, str] = getattr(cls, "refused", {})
    for f in fields(cls):
        spec = spec_of(f)
        if spec is None or not spec.in_file:
            continue
        known.add(f.name)
        old = spec.renamed_from
        if old:
            known.add(old)
        if old and old in table and f.name in table:
            problems.append(SettingProblem(source, f"{name}.{old}", table[old],
                                           f"only one of {name}.{f.name} and its old name {old}", f"delete {old}"))
        given_as = f.name if f.name in table else old if old and old in table else None
        if given_as is None:
            continue
        if given_as == old:
            log.warning("%s: %s.%s is now called %s.%s; the old name still works but will be removed in a "
                        "later release", source, name, old, name, f.name)
        raw = table[given_as]
        try:
            values[f.name] = spec.value.parse(raw, ctx)
        except Invalid as exc:
            shown = raw if exc.part is None else exc.part
            problems.append(SettingProblem(source, f"{name}.{given_as}", shown, exc.expected, exc.fix))
    for key, value in table.items():
        if key in refused:
            problems.append(SettingProblem(source, f"{name}.{key}", "<hidden>", refused[key]))
        elif key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            fix = f"did you mean {close[0]}?" if close else None
            problems.append(SettingProblem(source, f"{name}.{key}", value,
                                           f"a known key of [{name}] (one of: {', '.join(sorted(known))})", fix))
    section = cls(**{k: v for k, v in values.items() if v is not None})
    if not problems and hasattr(section, "cross_check"):
        for key, value, expected in section.cross_check():
            problems.append(SettingProblem(source, f"{name}.{key}", value, expected))
    return section, problems
