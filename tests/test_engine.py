"""The engine: registry discovery, concurrent probes with timeouts and a deadline, failure
isolation (a failing probe or check is an error finding, never a crash and never a pass)."""

from __future__ import annotations

import logging
import threading
import time
from importlib.metadata import EntryPoint

import pytest

from adfs_readiness.engine.registry import CheckRegistry, RegistryError, discover_checks
from adfs_readiness.engine.runner import gather_facts, run_checks
from adfs_readiness.facts import ProbeError, ProbeErrorKind
from adfs_readiness.model import Status, Verdict
from adfs_readiness.probes import ProbeSpec
from adfs_readiness.settings import ChecksSettings, FederationSettings, NetworkSettings, Settings

from conftest import FIXED_NOW

SAMPLES = EntryPoint(name="samples", value="_plugin_samples", group="adfs_readiness.checks")


def sample_registry() -> CheckRegistry:
    reg = discover_checks([SAMPLES], strict=True)
    return CheckRegistry(checks=tuple(c for c in reg.checks if c.id.startswith("sample.")))


def spec(key, fn, timeout=5.0):
    return ProbeSpec(key=key, function=fn, timeout=lambda c: timeout, description=key)


def by_id(result):
    out = {}
    for f in result.findings:
        out.setdefault(f.check_id, []).append(f)
    return out


def test_registry_collects_module_checks_in_definition_order():
    assert sample_registry().ids == ["sample.first", "sample.second", "sample.crashes",
                                     "sample.undetermined", "sample.returns-nothing"]


def test_builtin_checks_register_through_the_entry_point_group():
    ids = discover_checks(strict=True).ids
    for expected in ("metadata.reachable", "metadata.signature", "token-signing.expiry", "token-decrypting.expiry"):
        assert expected in ids


def test_duplicate_check_id_names_both_sources():
    dup = EntryPoint(name="dup", value="_plugin_duplicate", group="adfs_readiness.checks")
    with pytest.raises(RegistryError) as info:
        discover_checks([SAMPLES, dup])
    msg = str(info.value)
    assert "sample.first" in msg and "_plugin_samples:first" in msg and "_plugin_duplicate:impostor" in msg


def test_broken_plugin_is_recorded_not_fatal():
    broken = EntryPoint(name="broken", value="no_such_module_anywhere", group="adfs_readiness.checks")
    reg = discover_checks([SAMPLES, broken])
    assert "sample.first" in reg.ids
    assert reg.load_errors and reg.load_errors[0][0].startswith("broken") and "ModuleNotFoundError" in reg.load_errors[0][1]


def test_failures_are_isolated_into_error_findings(caplog):
    caplog.set_level(logging.DEBUG, logger="adfs_readiness")
    result = run_checks(sample_registry(), {"sample.fact": spec("sample.fact", lambda ctx: 42)},
                        Settings(federation=FederationSettings(service_name="sts.contoso.com")), FIXED_NOW)
    f = by_id(result)
    assert f["sample.first"][0].status is Status.PASS and f["sample.first"][0].evidence == {"value": 42}
    assert [(x.status, x.target) for x in f["sample.second"]] == [(Status.WARN, "a"), (Status.PASS, "b")]
    crash = f["sample.crashes"][0]
    assert crash.status is Status.ERROR and "ZeroDivisionError: boom in check" in crash.summary
    assert "Traceback" in caplog.text and "boom in check" in caplog.text
    und = f["sample.undetermined"][0]
    assert und.status is Status.ERROR and "no signing certificate" in und.summary and und.evidence == {"certs": 0}
    assert f["sample.returns-nothing"][0].status is Status.ERROR
    # An undetermined blocker makes the run INCOMPLETE, never READY.
    assert result.grade.verdict is Verdict.INCOMPLETE
    assert result.started_at == FIXED_NOW and result.finished_at >= FIXED_NOW


def test_probe_exception_becomes_error_for_dependent_checks(caplog):
    caplog.set_level(logging.DEBUG, logger="adfs_readiness")

    def broken(ctx):
        raise ValueError("probe bug")

    result = run_checks(sample_registry(), {"sample.fact": spec("sample.fact", broken)}, Settings(), FIXED_NOW,
                        only=["sample.first"])
    (f,) = result.findings
    assert f.status is Status.ERROR and "probe bug" in f.summary and f.evidence["probe_error"]["kind"] == "internal"
    assert "Traceback" in caplog.text
    assert result.facts["sample.fact"]["kind"] == "internal"


def test_probes_run_concurrently():
    # Each probe waits for the other to have started: run one after the other, both would time out.
    a_started, b_started = threading.Event(), threading.Event()

    def a(ctx):
        a_started.set()
        return b_started.wait(ctx.remaining())

    def b(ctx):
        b_started.set()
        return a_started.wait(ctx.remaining())

    facts = gather_facts(["a", "b"], {"a": spec("a", a, 5), "b": spec("b", b, 5)}, Settings(), FIXED_NOW,
                         deadline=time.monotonic() + 10)
    assert facts == {"a": True, "b": True}


def test_probe_timeout_and_run_deadline_are_enforced():
    never = threading.Event()

    def hangs(ctx):
        never.wait(30)
        return "too late"

    t0 = time.monotonic()
    facts = gather_facts(["slow", "cut"], {"slow": spec("slow", hangs, 0.3), "cut": spec("cut", hangs, 30)},
                         Settings(network=NetworkSettings(deadline_seconds=0.6)), FIXED_NOW,
                         deadline=time.monotonic() + 0.6)
    elapsed = time.monotonic() - t0
    never.set()
    assert isinstance(facts["slow"], ProbeError) and facts["slow"].kind is ProbeErrorKind.TIMEOUT
    assert isinstance(facts["cut"], ProbeError) and facts["cut"].kind is ProbeErrorKind.DEADLINE
    assert "0.6 s" in facts["cut"].reason
    assert elapsed < 5  # bounded by the deadline, not by the hung probe


def test_skipped_checks_are_reported_as_skip_and_unknown_facts_as_error():
    cfg = Settings(checks=ChecksSettings(skip=("sample.second",)))
    result = run_checks(sample_registry(), {}, cfg, FIXED_NOW, only=["sample.first", "sample.second"])
    f = by_id(result)
    assert f["sample.second"][0].status is Status.SKIP and "checks.skip" in f["sample.second"][0].summary
    assert f["sample.first"][0].status is Status.ERROR and "no probe provides" in f["sample.first"][0].summary
