"""A lock per target so that two overlapping runs of the same tenant (a slow run and the next
cron or timer tick) do not collide on its history and report files.

The lock is a file in ``<data dir>/locks/`` held with an OS file lock (``fcntl.flock`` on POSIX,
``msvcrt.locking`` on Windows) through the maintained ``filelock`` package: the OS releases it
when the process ends, even on a crash or ``kill -9``, so a stale lock cannot block later runs.
Different targets use different files and run in parallel.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from pathlib import Path
from typing import Iterator

from adfs_readiness.files import PRIVATE_DIR_MODE, ensure_dir, refuse_symlink

__all__ = ["LockBusy", "run_lock", "lock_path"]


class LockBusy(RuntimeError):
    """Another run of the same target holds the lock (``path``) and did not let go in time."""

    def __init__(self, target: str, path: Path, waited: float) -> None:
        self.target, self.path, self.waited = target, path, waited
        super().__init__(f"another run of {target} is in progress (lock {path}, waited {waited:g} s); "
                         f"this run was not started")


def lock_path(lock_dir: Path, target: str) -> Path:
    """The lock file of ``target`` in ``lock_dir``: a readable slug plus a short hash, so any
    target text (URLs, paths) maps to a safe, distinct file name."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", target)[:60] or "target"
    digest = hashlib.sha256(target.encode("utf-8")).hexdigest()[:12]
    return Path(lock_dir) / f"{slug}-{digest}.lock"


@contextlib.contextmanager
def run_lock(lock_dir: Path, target: str, wait_seconds: float = 0.0) -> Iterator[Path]:
    """Hold the lock of ``target`` for the ``with`` block; waits up to ``wait_seconds``.

    Raises:
        LockBusy: the lock is held by another run after the wait.
        OSError: the lock folder cannot be created (files.UnsafePath: the lock file is a symlink).
    """
    import filelock

    path = lock_path(lock_dir, target)
    # The locks folder is the tool's own (mode 0700); a symlink planted at the lock file is
    # refused here, and filelock opens the file with O_NOFOLLOW and without O_TRUNC (>= 3.20.1).
    ensure_dir(path.parent, mode=PRIVATE_DIR_MODE)
    refuse_symlink(path)
    # thread_local=False and a fresh object: a second run in the same process (a fleet that
    # lists the same tenant twice) must be refused too, not re-enter the lock.
    lock = filelock.FileLock(str(path), timeout=wait_seconds, thread_local=False, is_singleton=False, mode=0o600)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockBusy(target, path, wait_seconds) from None
    try:
        yield path
    finally:
        lock.release()
