"""Benchmark: the redactor is linear in the size of its input; the scrubber it replaced was not.

Usage::

    python benchmarks/redaction.py            # inputs of 100 KB .. 1.6 MB

For each input size it times (median of 3) the one redactor (adfs_readiness.redaction) and the
old snapshot scrubber's private-key regex (``BEGIN ... PRIVATE KEY-----.*?-----END ...``, lazy,
DOTALL) on the same hostile string: a value full of BEGIN lines and no END (what a server can put
in any field it controls), plus a value with three secrets repeated. It prints seconds and the
ratio to the previous size: about 2 when linear (doubling the input doubles the time), about 4
when quadratic. Not a test: never run by pytest.
"""

from __future__ import annotations

import re
import statistics
import time

from adfs_readiness.redaction import Redactor

_OLD_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.S)


def _median(function, value: str) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        function(value)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    redactor = Redactor(["ldap-bind-password", "graph-client-secret", "/services/T000/B000/XXXXXXXXXXXX"])
    line = "-----BEGIN PRIVATE KEY----- "
    print(f"{'bytes':>10} {'redactor s':>11} {'ratio':>6} {'old regex s':>12} {'ratio':>6}")
    previous = None
    for size in (100_000, 200_000, 400_000, 800_000, 1_600_000):
        hostile = (line * (size // len(line) // 2)) + ("ldap-bind-password graph-client-secret " * (size // 80))
        new = _median(redactor.text, hostile)
        old = _median(lambda v: _OLD_PEM.sub("[REDACTED]", v), hostile) if size <= 400_000 else float("nan")
        ratio_new = f"{new / previous[0]:.1f}" if previous else "-"
        ratio_old = f"{old / previous[1]:.1f}" if previous and old == old else "-"
        print(f"{len(hostile):>10} {new:>11.4f} {ratio_new:>6} {old:>12.4f} {ratio_old:>6}")
        previous = (new, old)
    print("(the old regex is not run beyond 400 KB: it takes minutes)")


if __name__ == "__main__":
    main()
