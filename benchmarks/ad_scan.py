"""Benchmark: our directory scan vs ldapsearch vs ldapdomaindump on a Samba DC with N users.

Usage (root, Samba installed; ldapdomaindump from pip for the third column)::

    python benchmarks/ad_scan.py                 # 100,000 users (seeding ~4 min, reused next time)
    python benchmarks/ad_scan.py --users 10000 --workdir /var/tmp/adscan-10k

It seeds a Samba AD DC (functional level 2008 R2, in a private network namespace) with the lab
data plus N bulk users, or reuses a DC seeded earlier in ``--workdir``, then runs, one after the
other: (1) our probe (gather_directory: every section, every object with the attributes the rules
read) and then every directory check on its fact (the attribute rules, IdFix parity) in a child
process whose peak RSS is measured with wait4 (the probe's own time is printed too); (2) ``ldapsearch -E
pr=1000/noprompt`` for the same filter and attributes; (3) ``ldapdomaindump -at SIMPLE``. It
prints wall times, ratios and our peak RSS against the targets (<= 1.3x ldapsearch, >= 3x faster
than ldapdomaindump, <= 250 MB). Not a test: never run by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from adfs_readiness.lab.samba import SambaDc, samba_missing_reason
from adfs_readiness.lab.samba_seed import seed_contoso
from adfs_readiness.probes.directory_scan import SCAN_ATTRIBUTES

_FILTER = "(|(objectCategory=person)(objectCategory=group))"


def _child_scan(args: argparse.Namespace) -> None:
    """Runs inside the DC's namespace: our probe, then every directory check on its fact (the
    attribute rules run there since the rules moved out of the probe); prints a JSON line."""
    from adfs_readiness.api import CannotDetermine, CheckContext
    from adfs_readiness.settings import settings_from_mapping
    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.facts.directory import DIRECTORY_FACT
    from adfs_readiness.probes.directory import gather_directory

    cfg = settings_from_mapping({"directory": {"server": "ldap://127.0.0.1", "bind_user": "Administrator@CONTOSO.TEST",
                                             "service_account": "gmsa-adfs"},
                               "federation": {"domains": ["contoso.com"]}})
    t0 = time.perf_counter()
    facts = gather_directory(cfg, password=SambaDc.ADMIN_PASSWORD, timeout=600)
    probe = time.perf_counter() - t0
    ctx = CheckContext(facts={DIRECTORY_FACT: facts}, config=cfg, now=datetime.now(timezone.utc))
    for check in discover_checks().checks:
        if check.id.startswith("directory."):
            try:
                check.function(ctx)
            except CannotDetermine:
                pass
    elapsed = time.perf_counter() - t0
    scan = facts.scan
    print(json.dumps({"seconds": elapsed, "probe_seconds": probe, "scan_seconds": scan.elapsed_seconds if scan else None,
                      "objects": scan.objects_read if scan else 0, "skipped": 0,
                      "partial": scan.partial if scan else None, "bound": facts.connection.bound}))


def _timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[0:4]} failed: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
    return elapsed, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=1, help="repetitions (the median is printed)")
    parser.add_argument("--child-scan", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_scan:
        _child_scan(args)
        return 0
    reason = samba_missing_reason()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.gettempdir()) / f"adfs-readiness-bench-{args.users}"
    dc = SambaDc(workdir / "lab", max_runtime=4 * 3600)
    marker = workdir / "seeded.json"
    if marker.exists() and json.loads(marker.read_text()).get("users") == args.users and dc.sam_ldb.exists():
        print(f"reusing the DC seeded with {args.users:,} users in {workdir}")
    else:
        t0 = time.perf_counter()
        workdir.mkdir(parents=True, exist_ok=True)
        dc.provision()
        seed_contoso(dc, datetime.now(timezone.utc), bulk_users=args.users)
        marker.write_text(json.dumps({"users": args.users}))
        print(f"provisioned and seeded {args.users:,} users in {time.perf_counter() - t0:.0f} s")
    info = dc.start(timeout=300)
    ns = ["nsenter", f"--net={info.netns}"]
    results: dict[str, list[tuple[float, int]]] = {"ours": [], "ldapsearch": [], "ldapdomaindump": []}
    probe_only: list[float] = []
    objects = 0
    try:
        for _ in range(args.runs):
            t0 = time.perf_counter()
            proc = subprocess.Popen(ns + [sys.executable, __file__, "--child-scan"], stdout=subprocess.PIPE)
            out = proc.stdout.read() if proc.stdout else b""
            _, status, usage = os.wait4(proc.pid, 0)
            figures = json.loads(out.decode().strip().splitlines()[-1])
            assert figures["bound"] and not figures["partial"], figures
            objects = figures["objects"] + figures["skipped"]
            results["ours"].append((time.perf_counter() - t0, usage.ru_maxrss))
            probe_only.append(figures["probe_seconds"] + (time.perf_counter() - t0) - figures["seconds"])
            results["ldapsearch"].append(_timed(ns + [
                "ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", "ldap://127.0.0.1", "-D", info.admin_upn,
                "-w", info.admin_password, "-b", info.base_dn, "-E", "pr=1000/noprompt", _FILTER, *SCAN_ATTRIBUTES]))
            dump = shutil.which("ldapdomaindump") or shutil.which("ldapdomaindump", path=str(Path(sys.executable).parent))
            if dump:
                outdir = tempfile.mkdtemp(prefix="ldd-")
                try:
                    results["ldapdomaindump"].append(_timed(ns + [
                        dump, "-at", "SIMPLE", "-u", "CONTOSO\\Administrator", "-p", info.admin_password,
                        "-o", outdir, "ldap://127.0.0.1"]))
                finally:
                    shutil.rmtree(outdir, ignore_errors=True)
    finally:
        dc.stop()
    med = {k: sorted(v)[len(v) // 2] for k, v in results.items() if v}
    print(f"\nSamba AD DC, {args.users:,} bulk users ({objects:,} person/group objects read), median of {args.runs}:")
    print(f"{'tool':<34}{'wall s':>9}{'peak RSS MB':>14}")
    for name, label in (("ours", "adfs-readiness probe + checks"), ("ldapsearch", "ldapsearch -E pr=1000/noprompt"),
                        ("ldapdomaindump", "ldapdomaindump -at SIMPLE")):
        if name in med:
            print(f"{label:<34}{med[name][0]:>9.2f}{med[name][1] / 1024:>14.0f}")
    ours, ldapsearch = med["ours"][0], med["ldapsearch"][0]
    probe_med = sorted(probe_only)[len(probe_only) // 2]
    print(f"{'  of which the probe (no judging)':<34}{probe_med:>9.2f}")
    print(f"\nours / ldapsearch      = {ours / ldapsearch:.2f}x   (target <= 1.3x)")
    print(f"probe / ldapsearch     = {probe_med / ldapsearch:.2f}x")
    if "ldapdomaindump" in med:
        print(f"ldapdomaindump / ours  = {med['ldapdomaindump'][0] / ours:.2f}x   (target >= 3x)")
    print(f"our peak RSS           = {med['ours'][1] / 1024:.0f} MB   (target <= 250 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
