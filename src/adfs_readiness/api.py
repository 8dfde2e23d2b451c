"""The public API for check modules, built-in and third-party alike.

A check is a plain function of a :class:`CheckContext` that returns one :class:`Outcome` or an
iterable of them, declared with the :func:`check` decorator::

    from adfs_readiness.api import Area, CheckContext, Outcome, Reference, Severity, Status, check
    from adfs_readiness.facts import METADATA_FACT

    @check(
        id="metadata.example",
        title="Example",
        area=Area.METADATA,
        severity=Severity.LOW,
        blocker=False,
        requires=(METADATA_FACT,),
        rule="What the check demands, in a sentence.",
        remediation="What to do when it does not pass.",
        references=(Reference("Title", "https://learn.microsoft.com/..."),),
    )
    def example(ctx: CheckContext) -> Outcome:
        fact = ctx.fact(METADATA_FACT)
        ...
        return Outcome(Status.PASS, "Everything is fine.", evidence={...})

A module of such functions is registered under the entry-point group ``adfs_readiness.checks``
(``name = "package.module"``); the engine collects every :class:`Check` defined in it, in order.

Checks read facts and the configuration only: no I/O, and no clock other than ``ctx.now``.
When a check cannot reach a judgement from the facts it raises :class:`CannotDetermine`, which
becomes an ``error`` finding with the given reason (not a traceback).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from adfs_readiness.facts import ProbeError
from adfs_readiness.model import Area, CheckMeta, Outcome, Reference, Severity, Status
from adfs_readiness.settings import Settings

__all__ = [
    "Area",
    "CannotDetermine",
    "Check",
    "CheckContext",
    "CheckMeta",
    "Outcome",
    "Reference",
    "Severity",
    "Status",
    "check",
    "days_left",
]

_CHECK_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$")


class CannotDetermine(Exception):
    """Raised by a check that cannot judge from the facts it has; becomes an ``error`` finding
    whose summary is ``reason`` and whose evidence is ``evidence`` (a JSON-ready mapping)."""

    def __init__(self, reason: str, evidence: Mapping[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.evidence = dict(evidence or {})


@dataclass(frozen=True)
class CheckContext:
    """What a check may read.

    Attributes:
        facts: fact key -> fact (the keys the check declared in ``requires``, each gathered
            successfully — the engine does not call a check whose facts failed — plus those of
            ``optional`` that were gathered).
        config: the frozen run configuration (thresholds, expectations, scope).
        now: the run's clock, an aware UTC datetime; checks never read the system clock.
    """

    facts: Mapping[str, Any]
    config: Settings
    now: datetime

    def fact(self, key: str) -> Any:
        """The fact under ``key``. Raises CannotDetermine when it is missing or a ProbeError
        (only possible if the check reads a key it did not declare)."""
        value = self.facts.get(key)
        if value is None or isinstance(value, ProbeError):
            raise CannotDetermine(f"fact {key!r} is not available" + (f": {value}" if value else ""))
        return value


@dataclass(frozen=True)
class Check:
    """A registered check: its metadata and the function that judges."""

    meta: CheckMeta
    function: Callable[[CheckContext], Outcome | Iterable[Outcome]]

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def source(self) -> str:
        """Where the check is defined (module:function), for collision messages and debugging."""
        return f"{self.function.__module__}:{self.function.__qualname__}"


def check(
    *,
    id: str,
    title: str,
    area: Area,
    severity: Severity,
    blocker: bool,
    requires: Iterable[str],
    rule: str,
    remediation: str,
    references: Iterable[Reference] = (),
    optional: Iterable[str] = (),
) -> Callable[[Callable[[CheckContext], Any]], Check]:
    """Declare a check. Returns a decorator that wraps the function in a :class:`Check`.

    Raises ValueError at import time when the id is not of the form ``prefix.slug`` (lower case,
    digits and hyphens). The prefix need not be the area's name: CHECKS.md files
    ``token-signing.*`` under the metadata area.
    """
    if not _CHECK_ID.match(id):
        raise ValueError(f"check id {id!r} is not of the form 'area.slug' (lower case, digits, hyphens)")
    meta = CheckMeta(
        id=id,
        title=title,
        area=Area(area),
        severity=Severity(severity),
        blocker=bool(blocker),
        requires=tuple(requires),
        rule=rule,
        remediation=remediation,
        references=tuple(references),
        optional=tuple(optional),
    )

    def decorate(function: Callable[[CheckContext], Any]) -> Check:
        return Check(meta=meta, function=function)

    return decorate


def days_left(not_after: datetime, now: datetime) -> int:
    """Whole days from ``now`` until ``not_after``, counted toward zero: a certificate expiring in
    13 days 23 hours has 13 days left, and one that expired 3 days 2 hours ago has -3 ("expired 3
    days ago"). Whether it has expired is ``not_after <= now``, not the sign (0 covers both the
    last day and the first day after). Both datetimes must be aware."""
    delta = not_after - now
    return delta.days if delta.days >= 0 else -((now - not_after).days)
