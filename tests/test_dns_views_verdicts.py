"""Which view a DNS answer comes from decides what it proves (issue 11, section 1: a local
failure is never the target's; a check that cannot judge never passes).

* The external view answering the federation service name only with addresses no internet
  client can reach (RFC 1918, RFC 4193) is a failed blocker when that view is the internet's
  (configured public resolvers): users outside and Entra ID's redirects cannot reach the service.
  When the "external" view is this machine's system resolver (dns.external_resolvers not set) or
  the internal view's own resolvers, such an answer is the inside's: the internet's view is not
  determined (error -> INCOMPLETE), never a pass and never a failure of the target.
* dns.split-brain cannot compare two views asked through the same resolvers (the default: both
  views are the system resolver): skipped with the reason, never "same address inside and
  outside" (warn) or "private address published on the internet" (fail).

All over the wire against the lab DNS server (tests/dns_zones.py); no mocked resolver.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from conftest import FIXED_NOW
from dns_zones import EXTERNAL, EXTERNAL_FAULTS, INTERNAL, INTERNAL_FAULTS

from adfs_readiness.engine.runner import RunPlan, judge
from adfs_readiness.facts.dns import DNS_EXTERNAL_FACT, DNS_INTERNAL_FACT
from adfs_readiness.grading import grade
from adfs_readiness.lab.dns_lab import DnsLab
from adfs_readiness.model import Status, Verdict
from adfs_readiness.net.dns import make_resolver
from adfs_readiness.probes.dns import gather_view
from adfs_readiness.settings import DnsSettings, FederationSettings, NetworkSettings, Scope, Settings
from adfs_readiness_checks import dns as dns_checks


@pytest.fixture(scope="module")
def lab():
    with DnsLab(internal_zones=INTERNAL, external_zones=EXTERNAL, internal_faults=INTERNAL_FAULTS,
                external_faults=EXTERNAL_FAULTS) as running:
        yield running


def _config(fs: str, internal, external) -> Settings:
    return Settings(federation=FederationSettings(service_name=fs, domains=("contoso.test",)), scope=Scope(),
                    dns=DnsSettings(internal_resolvers=(internal,), external_resolvers=(external,)),
                    network=NetworkSettings(timeout_seconds=0.5))


def _facts(cfg: Settings, *, external_is_system: bool = False) -> dict:
    """Both views gathered over the wire; ``external_is_system`` records the external view as
    this machine's system resolver (what the probe does when dns.external_resolvers is empty)."""
    facts = {}
    for key, view, server, system in ((DNS_INTERNAL_FACT, "internal", cfg.dns.internal_resolvers, False),
                                      (DNS_EXTERNAL_FACT, "external", cfg.dns.external_resolvers, external_is_system)):
        resolver, _ = make_resolver(server, cfg.network.timeout_seconds)
        facts[key] = gather_view(view, resolver, cfg, deadline=time.monotonic() + 10, system_resolver=system)
    return facts


def _judge(check, cfg: Settings, facts: dict):
    plan = RunPlan(checks=(check,), skipped=(), fact_keys=check.meta.requires)
    return judge(plan, facts, cfg, FIXED_NOW)


@pytest.mark.parametrize("fs, listed", [
    ("stsleak.contoso.test", "10.0.0.5"),  # RFC 1918 only
    ("stsleakula.contoso.test", "fd00::5"),  # RFC 4193 only (AAAA): not merely "IPv6 only"
])
def test_internal_addresses_published_on_the_internet_are_a_failed_blocker(lab, fs, listed):
    cfg = _config(fs, lab.internal.address, lab.external.address)
    (finding,) = _judge(dns_checks.fs_external, cfg, _facts(cfg))
    assert finding.status is Status.FAIL and finding.blocker is True
    assert finding.summary.startswith(f"{fs} resolves on the internet (through the configured external resolvers")
    assert f"only to address(es) no internet client can reach: {listed}" in finding.summary
    assert "internet-facing DNS zone" in finding.remediation
    assert grade([finding]).verdict is Verdict.NOT_READY


def test_a_public_address_beside_an_internal_one_still_resolves(lab):
    cfg = _config("stsleakmixed.contoso.test", lab.internal.address, lab.external.address)
    (finding,) = _judge(dns_checks.fs_external, cfg, _facts(cfg))
    assert finding.status is Status.PASS and "10.0.0.5, 203.0.113.11" in finding.summary


@pytest.mark.parametrize("how", ["system resolver", "internal view's resolvers"])
def test_internal_answer_from_a_view_that_is_not_the_internet_is_not_determined(lab, how):
    # The default configuration run from inside the network: the "external" view is the machine's
    # own resolver, which answers with the internal address. Nothing about the internet is known.
    if how == "system resolver":
        cfg = _config("sts.contoso.test", lab.internal.address, lab.internal.address)
        facts = _facts(cfg, external_is_system=True)
        facts[DNS_INTERNAL_FACT] = dataclasses.replace(facts[DNS_INTERNAL_FACT], resolvers=("192.0.2.53:53",))
        words = "this machine's system resolver"
    else:
        cfg = _config("sts.contoso.test", lab.internal.address, lab.internal.address)
        facts = _facts(cfg)
        words = "the same resolvers as the internal view"
    (finding,) = _judge(dns_checks.fs_external, cfg, facts)
    assert finding.status is Status.ERROR and finding.blocker is False and finding.blocker_check is True
    assert finding.summary.startswith("Could not determine whether sts.contoso.test resolves on the internet")
    assert words in finding.summary and "only with internal addresses (10.0.10.20)" in finding.summary
    assert "Set dns.external_resolvers" in finding.summary
    assert grade([finding]).verdict is Verdict.INCOMPLETE


def test_a_public_answer_from_the_system_resolver_still_passes(lab):
    cfg = _config("sts.contoso.test", lab.internal.address, lab.external.address)
    (finding,) = _judge(dns_checks.fs_external, cfg, _facts(cfg, external_is_system=True))
    assert finding.status is Status.PASS and "(system resolver: see the evidence)" in finding.summary


@pytest.mark.parametrize("fs", ["sts.contoso.test", "stsleak.contoso.test", "stssame.contoso.test"])
def test_split_brain_is_not_judged_on_one_resolver_asked_twice(lab, fs):
    # Before: stsleak -> FAIL "private address published", stssame -> WARN "same inside and outside".
    cfg = _config(fs, lab.internal.address, lab.internal.address)
    (finding,) = _judge(dns_checks.split_brain, cfg, _facts(cfg))
    assert finding.status is Status.SKIP
    assert finding.summary.startswith("The internal and external views were both asked through the configured "
                                      "internal resolvers")
    assert "cannot be compared" in finding.summary and "dns.external_resolvers" in finding.summary
    cfg_views = _config(fs, lab.internal.address, lab.external.address)
    (judged,) = _judge(dns_checks.split_brain, cfg_views, _facts(cfg_views))
    assert judged.status is not Status.SKIP  # two real views are still compared


def test_public_records_are_not_judged_on_an_internal_zone(lab):
    # Run from inside with the default configuration: the "external" view is the DC's zone for
    # contoso.test, which has no MX, SPF or MS= record (those live in the internet zone only).
    # Judging them there said "no MX record: mail cannot be delivered" about a healthy domain.
    from adfs_readiness.facts import METADATA_FACT
    from adfs_readiness_checks import dns_records
    from factories import metadata_fact

    cfg = dataclasses.replace(_config("sts.contoso.test", lab.internal.address, lab.internal.address),
                              scope=Scope(exchange_online=True))
    facts = _facts(cfg, external_is_system=True)
    facts[METADATA_FACT] = metadata_fact()
    for check in (dns_records.m365_mail, dns_records.m365_verification, dns_records.msoid, dns_records.caa):
        (finding,) = _judge(check, cfg, facts)
        assert finding.status is Status.ERROR, (check.id, finding.summary)
        assert finding.summary.startswith("Could not be determined: The external view was asked through this "
                                          "machine's system resolver"), finding.summary
        assert "internal addresses only (10.0.10.20)" in finding.summary
    # Asked through the internet's resolvers, the same checks judge the internet zone.
    public = dataclasses.replace(cfg, dns=dataclasses.replace(cfg.dns, external_resolvers=(lab.external.address,)))
    public_facts = _facts(public)
    public_facts[METADATA_FACT] = metadata_fact()
    (mail,) = _judge(dns_records.m365_mail, public, public_facts)
    assert mail.status is Status.PASS
