"""The checker's own trouble is never the target's fault (issue 11, section 1).

When the machine running the check cannot do its part (its resolver fails, it has no route, its
trust store or CA bundle cannot be loaded, a local file cannot be read) the network and file
layers record a :class:`~adfs_readiness.facts.ProbeError` of kind ``local`` inside the fact (an
exchange's error, a lookup's ``local_failure``, a TLS endpoint's error), or as the fact itself.

A check reading such a fact sees an unreachable server, a name that did not resolve, a handshake
that never happened, and would call it a failure of the target. This module is the one place
that decides otherwise, the same way for every check, built-in or plugin: a ``fail`` or ``warn``
of a check whose facts carry a local failure becomes ``error`` naming the local cause (what the
check saw is kept in the evidence), and every ``error`` of such a check carries the cause too.
Grading then makes the run INCOMPLETE (exit 3), never NOT_READY. ``pass``, ``info`` and ``skip``
stand: something shown to work was shown to work.

This is deliberately wide: a ``fail`` in the same fact that was not caused by the local trouble
also becomes ``error``. Facts gathered while the machine was failing are not trusted to condemn
the target; the admin fixes the machine and runs again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from adfs_readiness.facts import ProbeError, ProbeErrorKind, to_jsonable
from adfs_readiness.model import Outcome, Status

__all__ = ["local_failures", "not_determined_here", "local_cause_text"]

_MAX_LISTED = 5


def local_failures(fact: Any) -> list[ProbeError]:
    """Every ProbeError of kind ``local`` in ``fact`` (a fact dataclass tree, a ProbeError, or
    JSON-like data), distinct, in the order found. One iterative walk (no recursion limit)."""
    found: dict[tuple[str, str | None], ProbeError] = {}
    stack: list[Any] = [fact]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, (str, bytes, int, float, bool, Enum)):
            continue
        if isinstance(item, ProbeError):
            if item.kind is ProbeErrorKind.LOCAL:
                found.setdefault((item.reason, item.target), item)
            continue
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in reversed(dataclasses.fields(item)))
        elif isinstance(item, Mapping):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(reversed(list(item)))
    return list(found.values())


def local_cause_text(failures: Iterable[ProbeError]) -> str:
    """The local causes in words, each once: "this machine's DNS resolver did not answer ...;
    this machine has no route ..."."""
    reasons = list(dict.fromkeys(f.reason for f in failures))
    text = "; ".join(reasons[:_MAX_LISTED])
    return text + (f"; and {len(reasons) - _MAX_LISTED} more" if len(reasons) > _MAX_LISTED else "")


def not_determined_here(outcome: Outcome, failures: list[ProbeError]) -> tuple[Outcome, str | None]:
    """The outcome as it stands after the local failures of its facts, and the local cause for
    the finding (None when the outcome stands as it is: pass, info, skip)."""
    if outcome.status in (Status.PASS, Status.INFO, Status.SKIP) or not failures:
        return outcome, None
    cause = local_cause_text(failures)
    if outcome.status is Status.ERROR:
        return outcome, cause
    evidence = {**outcome.evidence, "local_failures": [to_jsonable(f) for f in failures[:_MAX_LISTED]],
                "without_local_failure": {"status": outcome.status.value, "summary": outcome.summary}}
    summary = (f"Not determined: the machine running the check could not do its part ({cause}). This is "
               f"not a finding about the target: fix this machine, then run the check again.")
    return dataclasses.replace(outcome, status=Status.ERROR, summary=summary, evidence=evidence,
                               blocker=None, remediation=None), cause
