"""Which checks a run selects: ``--only``, ``--skip`` and ``checks.skip`` take the same forms —
a check id (``metadata.signature``), an id prefix (``token-signing.*``) or an area (``dns.*``) —
and a selector that names no check is refused with the closest ones ("did you mean"), because a
silently ignored typo in ``--skip`` runs a check the admin meant to leave out (and the reverse
for ``--only``)."""

from __future__ import annotations

import difflib
from typing import Iterable

from adfs_readiness.engine.registry import CheckRegistry
from adfs_readiness.settings import SettingProblem, selector_matches
from adfs_readiness.settings.values import CheckSelector, Invalid, ValueContext

__all__ = ["selector_problems", "selector_names", "closest"]

_SELECTOR = CheckSelector()


def selector_names(registry: CheckRegistry) -> list[str]:
    """Every selector that names something: each check id, ``prefix.*`` of each id prefix and
    ``area.*`` of each area, sorted."""
    names = set(registry.ids)
    for c in registry.checks:
        names.add(f"{c.id.split('.', 1)[0]}.*")
        names.add(f"{c.meta.area.value}.*")
    return sorted(names)


def closest(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates most like ``word`` (difflib ratio >= 0.6, and within 0.05 of the best), at
    most three: one clear suggestion rather than a list of near-misses."""
    scored = sorted(((difflib.SequenceMatcher(None, word, c).ratio(), c) for c in candidates), reverse=True)
    if not scored or scored[0][0] < 0.6:
        return []
    best = scored[0][0]
    return [c for ratio, c in scored[:3] if ratio >= best - 0.05]


def selector_problems(registry: CheckRegistry, selectors: Iterable[str], source: str,
                      key: str) -> list[SettingProblem]:
    """A problem for each of ``selectors`` that is malformed or selects no check of ``registry``
    (``source``/``key`` say where it was given: the file and ``checks.skip``, or the command line
    and ``--skip``/``--only``)."""
    problems = []
    known = selector_names(registry)
    for text in selectors:
        try:
            selector = _SELECTOR.parse(text, ValueContext())
        except Invalid as exc:
            problems.append(SettingProblem(source, key, text, exc.expected, exc.fix))
            continue
        if any(selector_matches(selector, c.id, c.meta.area.value) for c in registry.checks):
            continue
        close = closest(selector, known)
        fix = (f"did you mean {' or '.join(close)}?" if close
               else "see 'adfs-readiness list-checks' for the check ids and areas")
        problems.append(SettingProblem(source, key, text, "a check id, 'prefix.*' or 'area.*' of an installed check",
                                       fix))
    return problems
