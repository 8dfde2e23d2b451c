"""A Kerberos ticket for the Samba lab DC's realm, the way an admin gets one: a krb5.conf naming
the KDC (SambaDcInfo.krb5_conf) and ``kinit`` run inside the DC's network namespace."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest


@contextmanager
def lab_ticket(dc, folder: Path) -> Iterator[Path]:
    """Within the block KRB5_CONFIG / KRB5CCNAME point into ``folder`` and the cache ``folder /
    "ccache"`` holds the lab administrator's TGT. Yields ``folder``."""
    conf = folder / "krb5.conf"
    conf.write_text(dc.krb5_conf())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KRB5_CONFIG", str(conf))
        mp.setenv("KRB5CCNAME", f"FILE:{folder / 'ccache'}")
        done = subprocess.run(["nsenter", f"--net={dc.netns}", "kinit", dc.admin_upn], input=dc.admin_password + "\n",
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        yield folder
