"""A progress line on standard error for probes that read for long (the directory scan of a large
forest), fed through ``ProbeContext.progress``; probes themselves never draw anything."""

from __future__ import annotations

import threading
import time
from typing import Any

__all__ = ["TerminalProgress"]


class TerminalProgress:
    """Call it with (fact key, items read); it shows a rich progress line once a probe has run for
    ``after`` seconds (quick runs stay quiet) and removes it on :meth:`close`."""

    def __init__(self, after: float = 3.0) -> None:
        self.after = after
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}

    def __call__(self, key: str, count: int) -> None:
        with self._lock:
            if self._bar is None:
                if time.monotonic() - self.started < self.after:
                    return
                from rich.console import Console
                from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

                self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}: {task.completed:,} objects"),
                                     TimeElapsedColumn(), console=Console(stderr=True), transient=True)
                self._bar.start()
            if key not in self._tasks:
                self._tasks[key] = self._bar.add_task(f"{key} scan", total=None)
            self._bar.update(self._tasks[key], completed=count)

    def close(self) -> None:
        """Remove the line (idempotent)."""
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
