"""A Kerberos ticket for the Samba lab DC's realm, the way an admin gets one: a krb5.conf naming
the KDC (SambaDcInfo.krb5_conf) and ``kinit`` run inside the DC's network namespace."""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest


def kerberos_missing() -> str | None:
    """Why the Kerberos tests cannot run here, naming exactly what is missing (None: nothing)."""
    from adfs_readiness.net.ldap import kerberos_available

    missing = []
    if not kerberos_available():
        missing.append("the gssapi package (pip install 'adfs-readiness[kerberos]'; building it needs "
                       "Debian's libkrb5-dev, gcc and python3-dev)")
    if shutil.which("kinit") is None:
        missing.append("kinit (Debian: krb5-user)")
    return f"Kerberos tests skipped: missing {' and '.join(missing)}" if missing else None


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
