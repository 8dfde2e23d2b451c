"""Run the real command line on hostile input in a child process under a memory limit and a time
limit, the way cron runs it: the exit code, standard output and error, and how long it took.

A run that needs more memory than ``mem_mb`` (address space, RLIMIT_AS) dies with a MemoryError
or a signal; one that outlives ``timeout`` seconds is killed: both fail the test that asked.
These limits are guards against the unbounded behaviour of issue 12 (gigabytes, minutes), far
above what a correct run needs (about 70 MB and under a second for a metadata file).
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

CLI = [sys.executable, "-m", "adfs_readiness"]


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str
    seconds: float

    def assert_clean(self) -> None:
        """No traceback and no MemoryError reached the admin; the exit code is one of ours."""
        assert "Traceback" not in self.err and "MemoryError" not in self.err, self.err[-3000:]
        assert self.code in (0, 1, 2, 3), (self.code, self.err[-3000:])


def command_for(inject: str | None) -> list[str]:
    """The CLI's argv prefix (``inject``: see :func:`run_cli`)."""
    return CLI if inject is None else [sys.executable, "-c", f"{inject}\nimport sys\nfrom adfs_readiness.cli import main\n"
                                                             f"sys.exit(main(sys.argv[1:]))\n"]


def _run_cli_on_a_terminal(argv: list[str], typed: bytes, *, mem_mb: int, timeout: float, cwd: Path | None,
                           env: dict[str, str] | None) -> CliRun:
    import fcntl
    import pty
    import select
    import termios

    master, slave = pty.openpty()
    limit = mem_mb * 1024 * 1024

    def on_the_terminal() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # standard input (the pty) becomes the controlling terminal

    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=on_the_terminal, cwd=cwd, env={"MALLOC_ARENA_MAX": "2", **os.environ, **(env or {})})
    os.close(slave)
    try:
        # getpass flushes what was typed before its prompt: type only once the prompt is shown.
        shown = b""
        while b":" not in shown:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(argv, timeout)
            try:
                chunk = os.read(master, 1024)
            except OSError:  # the child closed the terminal without prompting
                break
            if not chunk:
                break
            shown += chunk
        if b":" in shown:
            os.write(master, typed)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return CliRun(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                  time.monotonic() - started)


def run_cli(*args: str | Path, mem_mb: int = 768, timeout: float = 120.0, cwd: Path | None = None,
            env: dict[str, str] | None = None, stdin: bytes | None = None, inject: str | None = None,
            netns: str | None = None, new_session: bool = False, terminal_input: bytes | None = None) -> CliRun:
    """``python -m adfs_readiness ARGS`` in a child process limited to ``mem_mb`` MiB of address
    space, killed after ``timeout`` seconds (then the test fails with TimeoutExpired).

    ``inject``: Python run in the child before the CLI starts, to plant a fault in the tool's *own*
    code (e.g. make a renderer raise) where no real input reaches that failure yet.
    ``netns``: run inside that network namespace (``ip netns exec``).
    ``new_session``: start the child in a session of its own, without a controlling terminal (as
    cron does): a password prompt (getpass) then reads standard input instead of /dev/tty.
    ``terminal_input``: run the child on a terminal of its own (a pseudo-terminal as its standard
    input and controlling terminal, in a new session), as an admin at a shell: the text is typed
    once the child shows a prompt on it."""
    if terminal_input is not None:
        return _run_cli_on_a_terminal([*command_for(inject), *map(str, args)], terminal_input, mem_mb=mem_mb,
                                      timeout=timeout, cwd=cwd, env=env)
    limit = mem_mb * 1024 * 1024
    command = command_for(inject)
    prefix = [shutil.which("ip") or "ip", "netns", "exec", netns] if netns else []

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if new_session:
            os.setsid()

    started = time.monotonic()
    # Two malloc arenas: each thread would otherwise reserve 64 MiB of address space of its own.
    proc = subprocess.run([*prefix, *command, *map(str, args)], preexec_fn=limit_memory, capture_output=True,
                          timeout=timeout, cwd=cwd, env={"MALLOC_ARENA_MAX": "2", **os.environ, **(env or {})},
                          input=stdin)
    return CliRun(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
                  time.monotonic() - started)
