"""Probes: all I/O, no judging. Each probe returns a typed fact (see ``adfs_readiness.facts``) or
a :class:`~adfs_readiness.facts.ProbeError`.

The engine runs the probes that the enabled checks need, concurrently, each within its timeout
and the whole-run deadline (:class:`ProbeContext.deadline`). Probes never import checks, the
engine or renderers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from adfs_readiness.settings import Settings
from adfs_readiness.facts import ProbeError
from adfs_readiness.net import Network, TimeBudget

__all__ = ["ProbeContext", "ProbeSpec", "BUDGET_MARGIN_SECONDS"]

#: How much earlier than its deadline a probe's budget ends (the DNS client keeps the same margin).
BUDGET_MARGIN_SECONDS = 0.2


@dataclass(frozen=True)
class ProbeContext:
    """What a probe gets.

    Attributes:
        config: the run configuration.
        now: the run's clock (aware UTC datetime) for anything time-dependent in a fact.
        deadline: ``time.monotonic()`` value by which the probe must have returned; probes pass
            ``remaining()`` into their own network timeouts so a slow peer cannot outlive it.
        log: the run's logger (debug details, tracebacks).
        net: the run's network (HTTP client, trust stores, resolvers per view), shared by every
            probe of the run; a fresh one for ``config`` when not given.
        budget: the probe's time budget: ``network.timeout_seconds`` per operation, ending a
            moment (:data:`BUDGET_MARGIN_SECONDS`) before ``deadline``, so that work cut by the
            budget still hands its fact (with a "deadline" error inside) to the engine in time.
        progress: where a long probe reports how far it got, as (fact key, items read so far),
            for a progress display; None when nobody shows one. Probes never draw anything.
    """

    config: Settings
    now: datetime
    deadline: float
    log: logging.Logger
    net: Network = field(default=None)  # type: ignore[assignment] - filled in __post_init__
    budget: TimeBudget = field(init=False)
    progress: Callable[[str, int], None] | None = None

    def __post_init__(self) -> None:
        if self.net is None:
            object.__setattr__(self, "net", Network.for_config(self.config))
        object.__setattr__(self, "budget", TimeBudget(self.config.network.timeout_seconds, self.deadline)
                           .less(BUDGET_MARGIN_SECONDS))

    def remaining(self) -> float:
        """Seconds left until the deadline (never negative)."""
        return max(0.0, self.deadline - time.monotonic())


@dataclass(frozen=True)
class ProbeSpec:
    """A probe the engine can run: it gathers the fact ``key`` by calling ``function(ctx)``.

    ``timeout`` gives the probe's own time limit in seconds for a config (the engine also caps it
    at the time left before the run's deadline). ``fact_type`` is the dataclass the probe returns,
    so an evidence snapshot can decode the fact back (``facts.codec``); None = not snapshot-able.
    """

    key: str
    function: Callable[[ProbeContext], Any | ProbeError]
    timeout: Callable[[Settings], float]
    description: str
    fact_type: type | None = None
