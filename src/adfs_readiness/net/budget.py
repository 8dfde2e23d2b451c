"""One time budget per probe: how long one network operation may take, and when all of it ends.

Before this module the same ``network.timeout_seconds`` was clamped by hand at every call site
(``max(0.1, min(timeout, ctx.remaining()))``, ``min(timeout, remaining / 2)``, ...) and probe time
limits were the timeout multiplied by unexplained factors. Now a probe gets one
:class:`TimeBudget` (``ctx.budget``) and asks it; the catalog states a probe's limit as the
number of network operations it makes one after another (:func:`probe_time_limit`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["TimeBudget", "probe_time_limit", "MIN_WAIT_SECONDS"]

#: The shortest wait handed to a socket or resolver: a zero or negative timeout means "block
#: forever" or "non-blocking" to some APIs, neither of which is wanted near the deadline.
MIN_WAIT_SECONDS = 0.001


@dataclass(frozen=True)
class TimeBudget:
    """The time a probe (or one request) may spend on the network.

    Attributes:
        operation_seconds: the limit of one network operation: a TCP connect, a TLS handshake, one
            socket read, one DNS exchange (``network.timeout_seconds``).
        deadline: ``time.monotonic()`` value by which everything under this budget must be over
            (the probe's deadline, itself never later than the run's).
    """

    operation_seconds: float
    deadline: float

    @classmethod
    def starting_now(cls, operation_seconds: float, total_seconds: float | None = None) -> TimeBudget:
        """A budget ending ``total_seconds`` from now (``operation_seconds`` when None): for work
        outside a probe, such as the webhook post after the run."""
        total = operation_seconds if total_seconds is None else total_seconds
        return cls(operation_seconds, time.monotonic() + max(0.0, total))

    def remaining(self) -> float:
        """Seconds left until the deadline (never negative)."""
        return max(0.0, self.deadline - time.monotonic())

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return time.monotonic() >= self.deadline

    def operation(self) -> float:
        """The wait for the next operation: ``operation_seconds`` cut to the time left, at least
        :data:`MIN_WAIT_SECONDS`."""
        return max(MIN_WAIT_SECONDS, min(self.operation_seconds, self.remaining()))

    def cut_by_deadline(self) -> bool:
        """True when the time left is shorter than one operation: a timeout now is the
        deadline's doing, not the peer's slowness."""
        return self.remaining() < self.operation_seconds

    def less(self, margin_seconds: float) -> TimeBudget:
        """This budget ending ``margin_seconds`` earlier: work that must hand its result back
        before the deadline (a probe's request, so the engine still gets the fact)."""
        return TimeBudget(self.operation_seconds, self.deadline - margin_seconds)

    def within(self, total_seconds: float | None) -> TimeBudget:
        """This budget, ending no later than ``total_seconds`` from now (unchanged for None):
        the total time of one request, headers and body."""
        if total_seconds is None:
            return self
        return TimeBudget(self.operation_seconds, min(self.deadline, time.monotonic() + max(0.0, total_seconds)))


def probe_time_limit(operation_seconds: float, *, operations: int) -> float:
    """A probe's own time limit in seconds: ``operations`` network operations made one after
    another, each allowed ``operation_seconds`` (operations in parallel count once). The engine
    also cuts every probe at the run's deadline."""
    return operation_seconds * max(1, operations)
