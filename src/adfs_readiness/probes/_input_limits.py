"""What the file-reading probes share about input caps: the names of the settings that raise them
(every "too big" message names one) and the bound on a fact's list of problems (a hostile file
with a million bad entries must not make a million-line fact, finding and report)."""

from __future__ import annotations

from typing import Iterable

__all__ = ["INPUT_BYTES_SETTING", "EXPORT_ITEMS_SETTING", "PFX_ITERATIONS_SETTING", "MAX_PROBLEMS",
           "bounded_problems"]

INPUT_BYTES_SETTING = "limits.max_input_bytes (or --max-input-bytes)"
EXPORT_ITEMS_SETTING = "limits.max_export_items"
PFX_ITERATIONS_SETTING = "limits.max_pfx_iterations"
#: Problems kept in a fact; the rest are counted in one last line.
MAX_PROBLEMS = 50


def bounded_problems(problems: Iterable[str], limit: int = MAX_PROBLEMS) -> tuple[str, ...]:
    """The first ``limit`` problems, and one line counting the others when there are more."""
    kept: list[str] = []
    extra = 0
    for problem in problems:
        if len(kept) < limit:
            kept.append(problem)
        else:
            extra += 1
    if extra:
        kept.append(f"... and {extra:,} more problem(s) not listed")
    return tuple(kept)
