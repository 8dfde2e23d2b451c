"""Run the command line in a child process the way an admin (or cron) does, under a memory limit,
optionally inside a private network namespace, and measure it: exit code, output, wall time.

Used by the hostile-input tests (issue 12): a case passes only when the child ends with the
expected exit code, within its time, without a traceback and without leaking a secret, while
its address space is capped (``RLIMIT_AS``), so a decompression bomb or an exponential SPF tree
fails the test instead of the machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: Address space allowed to the child: the tool itself runs in about 600 MiB of address space
#: (Python, lxml, cryptography, thread stacks); a bomb would need gigabytes.
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class CliRun:
    """What a child run of the CLI did."""

    exit_code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_cli(args: list[str], *, netns: str | None = None, memory_bytes: int = MEMORY_LIMIT_BYTES,
            timeout: float = 180, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliRun:
    """Run ``python -m adfs_readiness *args`` (inside ``netns`` via ``ip netns exec`` when given)
    with the address space capped at ``memory_bytes``. ``env`` is added to a copy of this
    process's environment (with a private data folder, see conftest). Raises
    subprocess.TimeoutExpired when the child outlives ``timeout`` seconds."""
    command = [sys.executable, "-m", "adfs_readiness", *args]
    if netns is not None:
        command = [shutil.which("ip") or "ip", "netns", "exec", netns, *command]
    child_env = {**os.environ, "MALLOC_ARENA_MAX": "2", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=child_env, cwd=cwd,
                          preexec_fn=lambda: _limit_memory(memory_bytes))
    return CliRun(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
