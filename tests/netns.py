"""Private network namespaces for tests that need an address layout or a broken network of their
own (``ip netns``; root only): the namespace is removed, with its resolver file, when the test ends."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ip", "netns_reason", "namespace"]

_ids = itertools.count(1)


def ip(*args: str) -> None:
    """Run ``ip ARGS`` (iproute2), failing the test on an error."""
    subprocess.run(["ip", *args], check=True, capture_output=True)


def netns_reason() -> str | None:
    """Why network namespaces cannot be used here (for ``pytest.mark.skipif``), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) is not installed"
    return None


@contextmanager
def namespace(resolv_conf: str = "") -> Iterator[str]:
    """A private network namespace with loopback up and ``resolv.conf`` as its resolver
    configuration (``ip netns exec`` mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf)."""
    name = f"adfsr-{os.getpid()}-{next(_ids)}"
    folder = Path("/etc/netns") / name
    ip("netns", "add", name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "resolv.conf").write_text(resolv_conf)
        ip("-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
