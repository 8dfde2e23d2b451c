"""Fleet benchmark: N lab tenants (default 200) checked as one fleet, against the slowest single
tenant and against running the same tenants one by one.

Each tenant is its own demo-lab federation service (STS simulator on loopback, its own name and
port). The labs run in a child process, as real AD FS farms run elsewhere: otherwise the
simulators' TLS handshakes would compete with the checker for the same interpreter lock and the
figures would describe the lab, not the fleet. RSA keys are generated once per process (LabPki
caches them per role), so starting 200 labs costs certificate signing, not key generation.
Every tenant's run records history, applies its lock and writes its JSON and HTML reports, as a
scheduled fleet run does.

    python benchmarks/fleet.py [--tenants 200] [--jobs 16]

Prints wall times and two ratios: fleet / slowest tenant (1.0 would be perfect overlap) and
one-by-one / fleet (the speed-up). Not run as a test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.app.fleet import Tenant, fleet_exit_code, fleet_index, run_fleet
from adfs_readiness.lab import Lab
from adfs_readiness.probes.catalog import all_probes
from adfs_readiness.report import render_html, render_json
from adfs_readiness.app.scheduled import ScheduleOptions
from adfs_readiness.settings import FederationSettings, HostPort, NetworkSettings, Settings, TlsSettings

_SCENARIOS = ("healthy", "demo", "token-signing-warn", "rollover", "sha1-signature", "token-signing-expired")


def _serve_labs(count: int, now: datetime, workdir: Path, conn, stop) -> None:
    """Child process: start ``count`` labs, send their (fs name, host, port, CA bundle), serve
    until ``stop`` is set."""
    labs = []
    try:
        for i in range(count):
            lab = Lab(_SCENARIOS[i % len(_SCENARIOS)], now=now, workdir=workdir / f"tenant{i:03d}",
                      fs_name=f"sts{i:03d}.contoso.test").start()
            labs.append(lab)
        conn.send([(lab.fs_name, lab.address.host, lab.address.port, str(lab.ca_bundle)) for lab in labs])
        stop.wait()
    finally:
        for lab in labs:
            lab.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=16)
    args = parser.parse_args()
    registry, probes = discover_checks(), all_probes()
    now = datetime.now(timezone.utc)
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="adfs-fleet-bench-") as work:
        root = Path(work)
        t0 = time.monotonic()
        parent_end, child_end = ctx.Pipe()
        stop = ctx.Event()
        server = ctx.Process(target=_serve_labs, args=(args.tenants, now, root / "labs", child_end, stop), daemon=True)
        server.start()
        started = parent_end.recv()
        tenants = []
        for i, (fs_name, host, port, ca_bundle) in enumerate(started):
            name = f"tenant{i:03d}"
            config = Settings(source=f"{name}.toml",
                              federation=FederationSettings(service_name=fs_name, service_address=HostPort(host, port)),
                              tls=TlsSettings(ca_bundle=Path(ca_bundle)),
                              network=NetworkSettings(timeout_seconds=5.0, deadline_seconds=60.0))
            tenants.append(Tenant(name, root / f"{name}.toml", config))
        print(f"started {len(tenants)} lab tenants (in a child process) in {time.monotonic() - t0:.1f} s; "
              f"{multiprocessing.cpu_count()} CPUs")

        def run(jobs: int, label: str) -> tuple[float, list]:
            out = root / label

            def options(t: Tenant) -> ScheduleOptions:
                return ScheduleOptions(history_path=out / "history.sqlite3", lock_dir=out / "locks",
                                       target_key=t.name)

            def write(t: Tenant, r) -> dict[str, str]:
                folder = out / t.name
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "report.json").write_text(render_json(r.result), encoding="utf-8")
                (folder / "report.html").write_text(render_html(r.result), encoding="utf-8")
                return {"json": f"{t.name}/report.json", "html": f"{t.name}/report.html"}

            start = time.monotonic()
            outcomes = run_fleet(registry, probes, tenants, now, options, jobs=jobs, write_reports=write)
            wall = time.monotonic() - start
            failed = [o.tenant.name for o in outcomes if o.run is None]
            assert not failed, f"tenants that did not run: {failed[:5]}"
            index = fleet_index(outcomes, now)
            print(f"{label:>10}: {wall:6.2f} s wall for {len(outcomes)} tenants (jobs={jobs}); "
                  f"verdicts {index['verdicts']}; exit code {fleet_exit_code(outcomes)}")
            return wall, outcomes

        try:
            serial_wall, serial = run(1, "one-by-one")
            fleet_wall, outcomes = run(args.jobs, "fleet")
        finally:
            stop.set()
            server.join(timeout=30)
        alone = max(o.seconds for o in serial)
        in_fleet = max(o.seconds for o in outcomes)
        print(f"per tenant: alone median {statistics.median(o.seconds for o in serial):.3f} s, slowest {alone:.3f} s; "
              f"inside the fleet median {statistics.median(o.seconds for o in outcomes):.3f} s, slowest {in_fleet:.3f} s")
        print(f"fleet wall / slowest single tenant (alone) = {fleet_wall / alone:.1f}x "
              f"(1.0x would be perfect overlap; {args.tenants} tenants / {args.jobs} jobs = "
              f"{args.tenants / args.jobs:.1f} waves)")
        print(f"one-by-one wall / fleet wall = {serial_wall / fleet_wall:.1f}x speed-up")


if __name__ == "__main__":
    main()
