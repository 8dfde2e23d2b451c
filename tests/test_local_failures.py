"""The checker's own trouble is never the target's fault (issue 11, section 1), tested for real.

The tool runs inside a private network namespace whose resolution and routing are broken, the way
an admin's machine breaks: no route at all (so its resolver is unreachable too), or a route to a
resolver that never answers. Every affected check must be ``error`` naming the local cause, the
verdict INCOMPLETE and the exit code 3 — never NOT_READY, never a failed blocker (which today made
Nagios go CRITICAL during a DNS outage on the monitoring host). A CA bundle this machine cannot
load and an export file it cannot read are the same class, tested on loopback.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hostile import run_cli
from netns import ip as _ip
from netns import namespace as _namespace
from netns import netns_reason as _netns_reason

_ids = itertools.count(1)


@contextmanager
def _veth(name: str) -> Iterator[tuple[str, str]]:
    """A veth pair between this namespace and ``name``: (host-side address, namespace address),
    a /30 with no default route, so only the host side is reachable from the namespace."""
    n = next(_ids) % 250 + 1
    host_if, ns_if = f"arh{os.getpid() % 10000}x{n}", f"arn{os.getpid() % 10000}x{n}"
    subnet = f"10.213.{(os.getpid() + n) % 250}"
    _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
    try:
        _ip("link", "set", ns_if, "netns", name)
        _ip("addr", "add", f"{subnet}.1/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", name, "addr", "add", f"{subnet}.2/30", "dev", ns_if)
        _ip("-n", name, "link", "set", ns_if, "up")
        yield f"{subnet}.1", f"{subnet}.2"
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)


_CHECK = ["check", "--service-name", "sts.contoso.com", "--domain", "contoso.com", "--timeout", "1",
          "--deadline", "60", "--no-history", "--format", "json"]
_BLOCKERS_THAT_WOULD_FAIL = ("metadata.reachable", "tls.reachable", "endpoints.passive")


def _report(run) -> dict:
    run.assert_clean()
    return json.loads(run.out)


def _finding(report: dict, check_id: str) -> dict:
    return next(f for f in report["findings"] if f["check_id"] == check_id)


def _assert_not_the_targets_fault(report: dict, run, cause: str, dns_cause: str) -> None:
    assert run.code == 3, run.err
    assert report["verdict"] == "INCOMPLETE"
    failed = [(f["check_id"], f["summary"]) for f in report["findings"] if f["status"] == "fail"]
    assert failed == []  # nothing is blamed on the target
    for check_id in _BLOCKERS_THAT_WOULD_FAIL:
        finding = _finding(report, check_id)
        assert finding["status"] == "error", finding
        assert "the machine running the check could not do its part" in finding["summary"]
        assert cause in finding["summary"], finding["summary"]
        assert finding["evidence"]["without_local_failure"]["status"] == "fail"
    for check_id in ("dns.fs-external", "dns.fs-internal", "dns.msoid"):
        finding = _finding(report, check_id)
        assert finding["status"] == "error" and dns_cause in finding["summary"], finding
    kinds = [r["kind"] for r in report["verdict_reasons"]]
    assert "local_failure" in kinds and "blocker_failed" not in kinds


@pytest.mark.skipif(_netns_reason() is not None, reason=_netns_reason() or "")
def test_no_route_at_all_is_incomplete_not_a_failure_of_the_target() -> None:
    # The only resolver is on a network this machine has no route to: glibc says "temporary
    # failure in name resolution", dnspython gets ENETUNREACH.
    with _namespace("nameserver 192.0.2.53\noptions timeout:1 attempts:1\n") as name:
        run = run_cli(*_CHECK, netns=name)
    report = _report(run)
    _assert_not_the_targets_fault(report, run, cause="this machine's DNS resolver did not answer (temporary "
                                                     "failure in name resolution)",
                                  dns_cause="this machine has no route to that network")
    assert run.seconds < 60


@pytest.mark.skipif(_netns_reason() is not None, reason=_netns_reason() or "")
def test_silent_resolver_and_no_route_to_the_pinned_address_is_incomplete() -> None:
    # A route to the resolver, which never answers (a UDP socket that is never read); the
    # federation service is pinned to an address this machine has no route to.
    with _namespace("") as name, _veth(name) as (host_side, _):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
            silent.bind((host_side, 53))
            resolv = Path("/etc/netns") / name / "resolv.conf"
            resolv.write_text(f"nameserver {host_side}\noptions timeout:1 attempts:1\n")
            run = run_cli(*_CHECK, "--service-address", "192.0.2.10", netns=name)
    report = _report(run)
    _assert_not_the_targets_fault(report, run, cause="this machine has no route to that network",
                                  dns_cause="none of the DNS resolvers this machine asked")
    assert run.seconds < 60


def test_unloadable_ca_bundle_is_incomplete_not_a_tls_failure(tmp_path: Path) -> None:
    from adfs_readiness.cli import main
    from adfs_readiness.lab import Lab

    bundle = tmp_path / "not-a-bundle.pem"
    bundle.write_text("this is not a PEM certificate\n")
    out = tmp_path / "r.json"
    with Lab("healthy", datetime.now(timezone.utc), tmp_path / "lab") as lab:
        code = main(["check", "--metadata", lab.metadata_url.replace("sts.contoso.test", str(lab.address)),
                     "--ca-bundle", str(bundle), "--json", str(out), "-q", "--no-history", "--deadline", "20"])
    report = json.loads(out.read_text())
    reachable = _finding(report, "metadata.reachable")
    assert code == 3 and report["verdict"] == "INCOMPLETE"
    assert reachable["status"] == "error"
    assert f"the CA bundle {bundle} holds no usable PEM certificates" in reachable["summary"]
    assert [f["check_id"] for f in report["findings"] if f["status"] == "fail"] == []


def test_unreadable_export_files_are_incomplete(tmp_path: Path) -> None:
    from dataclasses import replace

    from adfs_readiness.settings import AdfsSettings, FederationSettings, Settings
    from adfs_readiness.engine.registry import discover_checks
    from adfs_readiness.engine.runner import run_checks
    from adfs_readiness.probes.catalog import all_probes

    folder = tmp_path / "entra.json"
    folder.mkdir()  # paths this machine cannot read a file from (root reads any regular file)
    fifo = tmp_path / "adfs.json"
    os.mkfifo(fifo)
    config = Settings(adfs=AdfsSettings(export=(fifo,)), federation=FederationSettings(domains=("contoso.com",)))
    config = replace(config, cloud=replace(config.cloud, entra_export=folder, realm_discovery=False))
    result = run_checks(discover_checks(), all_probes(), config, datetime.now(timezone.utc),
                        only=("adfs.export-readable", "cloud.issuer-uri"))
    by_id = {f.check_id: f for f in result.findings}
    assert result.grade.verdict.value == "INCOMPLETE" and result.grade.verdict.exit_code == 3
    for check_id in ("adfs.export-readable", "cloud.issuer-uri"):
        finding = by_id[check_id]
        assert finding.status.value == "error" and finding.local_cause, finding
        assert "cannot be read on this machine (" in finding.summary, finding.summary
    assert "local_failure" in [r.kind for r in result.grade.reasons]


@pytest.mark.skipif(_netns_reason() is not None, reason=_netns_reason() or "")
@pytest.mark.parametrize("how", ["srv-discovery", "configured-dc"])
def test_a_directory_this_machine_cannot_reach_is_its_own_trouble(tmp_path: Path, how: str) -> None:
    """The directory probe asks through the run's network layer: DC discovery through the run's
    internal-view DNS client (its resolver unreachable here: no route at all) and the LDAP
    connection itself (no route to the DC's network) are this machine's trouble, named as such,
    and the run is INCOMPLETE for that reason."""
    directory = ('bind_user = "svc-readiness@corp.contoso.com"\n' if how == "srv-discovery"
                 else 'server = "ldap://192.0.2.10"\nbind_user = "CORP\\\\svc-readiness"\n')
    config = tmp_path / "directory.toml"
    config.write_text('[federation]\nservice_name = "sts.contoso.com"\n\n[dns]\ninternal_resolvers = ["192.0.2.53"]\n\n'
                      f'[directory]\n{directory}password_env = "LOCAL_FAILURE_LDAP_PASSWORD"\n')
    with _namespace("") as name:
        run = run_cli("check", "--config", str(config), "--only", "directory.connect", "--timeout", "1",
                      "--deadline", "30", "--no-history", "--format", "json", netns=name,
                      env={"LOCAL_FAILURE_LDAP_PASSWORD": "not-used-here"})
    report = _report(run)
    connect = _finding(report, "directory.connect")
    assert connect["status"] == "error", connect
    local = [r for r in report["verdict_reasons"] if r["kind"] == "local_failure"]
    assert run.code == 3 and report["verdict"] == "INCOMPLETE"
    assert local and "directory.connect" in json.dumps(local), report["verdict_reasons"]
    cause = "this machine has no route to that network"
    assert cause in json.dumps(local), local
    if how == "srv-discovery":
        assert "_ldap._tcp.dc._msdcs.corp.contoso.com" in connect["summary"]
    else:
        assert "192.0.2.10:389" in connect["summary"]


@pytest.mark.parametrize("content", [b"", b"this is not a PEM certificate\n",
                                     b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_a_ca_bundle_this_machine_cannot_load_makes_a_certificate_file_run_incomplete(tmp_path: Path,
                                                                                      content: bytes) -> None:
    # The admin's own CA bundle (tls.external_ca_bundle) cannot be loaded: whether the file's chain
    # is trusted depends on that bundle, so certificate-file.chain is not determined (INCOMPLETE,
    # exit 3), never "the chain ends at a root CA that is not trusted" (NOT_READY). A missing
    # bundle or a folder is refused by the settings before the run (exit 3, naming it).
    from conftest import FIXED_NOW

    from adfs_readiness.cli import main
    from adfs_readiness.lab.pki import LabPki

    pki = LabPki(FIXED_NOW)
    cert = pki.issue_tls(["sts.contoso.test"], key_slot="local-bundle")
    pem = tmp_path / "ssl.pem"
    pem.write_bytes(cert.chain_pem() + cert.key_pem())
    bundle = tmp_path / "root.pem"
    bundle.write_bytes(content)
    config = tmp_path / "c.toml"
    config.write_text(f'[tls]\nexternal_ca_bundle = "{bundle}"\n')
    out = tmp_path / "r.json"

    def run() -> tuple[int, dict]:
        code = main(["check", "--certificate", str(pem), "--service-name", "sts.contoso.test", "--config",
                     str(config), "--as-of", FIXED_NOW.isoformat(), "--json", str(out), "-q", "--no-history"])
        return code, json.loads(out.read_text())

    code, report = run()
    chain = _finding(report, "certificate-file.chain")
    assert (code, report["verdict"]) == (3, "INCOMPLETE"), (chain["status"], chain["summary"])
    assert chain["status"] == "error" and "the machine running the check could not do its part" in chain["summary"]
    assert f"the CA bundle {bundle} could not be loaded on this machine" in chain["summary"], chain["summary"]
    assert [f["check_id"] for f in report["findings"] if f["status"] == "fail"] == []
    # The same run with the bundle readable: the lab root it holds makes the chain trusted.
    bundle.write_bytes(pki.ca_bundle_pem())
    code, report = run()
    assert (code, report["verdict"]) == (0, "READY"), _finding(report, "certificate-file.chain")["summary"]
