"""The lab DNS server and the DNS client over the wire (UDP and TCP on loopback, no mocked
resolver): every lookup outcome kept apart, CNAME chains hop by hop, TCP fallback on truncation,
bounded retries, the silent-resolver cut-off, the SPF lookup counter, and a clean stop."""

from __future__ import annotations

import socket
import threading
import time

import dns.message
import dns.query
import pytest
from dns_zones import EXTERNAL, EXTERNAL_FAULTS, INTERNAL, INTERNAL_FAULTS

from adfs_readiness.facts.dns import CnameHop, DnsOutcome
from adfs_readiness.lab.dns_lab import DnsLab, load_view_zones
from adfs_readiness.lab.dns_server import DnsFault, LabDnsServer, parse_zone
from adfs_readiness.probes.dns import caa_candidates, gather_view, view_questions
from adfs_readiness.net.dns import DnsClient, make_resolver
from adfs_readiness.probes.dns_spf import dns_querying_terms, spf_records, spf_tree
from adfs_readiness.settings import FederationSettings, HostPort, NetworkSettings, Settings


@pytest.fixture(scope="module")
def lab():
    with DnsLab(internal_zones=INTERNAL, external_zones=EXTERNAL, internal_faults=INTERNAL_FAULTS,
                external_faults=EXTERNAL_FAULTS) as running:
        yield running


def client(server: LabDnsServer | HostPort, timeout: float = 0.3, **kwargs) -> DnsClient:
    address = server if isinstance(server, HostPort) else server.address
    resolver, system = make_resolver((address,), timeout)
    assert system is False
    return DnsClient(resolver, deadline=time.monotonic() + 10, **kwargs)


def test_outcomes_are_kept_apart(lab):
    c = client(lab.external)
    answer = c.lookup("sts.contoso.test", "A")
    assert (answer.outcome, answer.records, answer.cname_chain, answer.transport) == \
        (DnsOutcome.ANSWER, ("203.0.113.10",), (), "udp")
    assert answer.resolver == str(lab.external.address) and answer.ttl == 300
    assert c.lookup("nothing.contoso.test", "A").outcome is DnsOutcome.NXDOMAIN
    assert c.lookup("nowhere.example", "A").outcome is DnsOutcome.NXDOMAIN
    nodata = c.lookup("stsnoaddr.contoso.test", "A")
    assert nodata.outcome is DnsOutcome.NO_ANSWER and nodata.describe() == \
        "stsnoaddr.contoso.test A: no A record (the name exists)"
    servfail = c.lookup("stsfail.contoso.test", "A")
    assert servfail.outcome is DnsOutcome.SERVFAIL and servfail.reason == f"{lab.external.address}: SERVFAIL"
    assert c.lookup("stsrefused.contoso.test", "A").outcome is DnsOutcome.REFUSED
    assert not servfail.outcome.answered and DnsOutcome.NXDOMAIN.answered


def test_cname_chain_hop_by_hop_dangling_and_loop(lab):
    c = client(lab.external)
    chained = c.lookup("stscname.contoso.test", "A")
    assert chained.outcome is DnsOutcome.ANSWER and chained.records == ("203.0.113.20",)
    assert chained.cname_chain == (CnameHop("stscname.contoso.test", "lb.fabrikam.test", 300),)
    assert chained.canonical_name == "lb.fabrikam.test"
    assert chained.describe() == "stscname.contoso.test A -> CNAME lb.fabrikam.test: 203.0.113.20"
    dangling = c.lookup("stsdangle.contoso.test", "A")
    assert dangling.outcome is DnsOutcome.DANGLING_CNAME and dangling.reason == "gone.fabrikam.test does not exist"
    assert [h.target for h in dangling.cname_chain] == ["gone.fabrikam.test"]
    loop = c.lookup("stsloop.contoso.test", "A")
    assert loop.outcome is DnsOutcome.CNAME_LOOP
    assert [h.target for h in loop.cname_chain] == ["stsloop2.contoso.test", "stsloop.contoso.test"]


def test_truncated_udp_answer_is_asked_again_over_tcp(lab):
    c = client(lab.external)
    before = len(lab.external.queries)
    txt = c.lookup("contoso.test", "TXT")
    assert txt.outcome is DnsOutcome.ANSWER and txt.transport == "tcp"
    assert "MS=ms11111111" in txt.records
    assert lab.external.queries[before:] == [("contoso.test", "TXT", "udp"), ("contoso.test", "TXT", "tcp")]


def test_answer_larger_than_the_udp_payload_is_truncated_by_the_server(tmp_path):
    many = "".join(f'@ TXT "{"x" * 200}-{i}"\n' for i in range(12))
    zone = parse_zone("$TTL 60\n@ SOA ns. h. 1 1 1 1 1\n@ NS ns.big.test.\n" + many, "big.test")
    with LabDnsServer([zone]) as server:
        result = client(server).lookup("big.test", "TXT")
        assert result.outcome is DnsOutcome.ANSWER and len(result.records) == 12 and result.transport == "tcp"
        query = dns.message.make_query("big.test", "TXT")  # no EDNS: 512 bytes
        response = dns.query.udp(query, server.address.host, port=server.address.port, timeout=2)
        assert response.flags & dns.flags.TC and not response.answer


def test_timeout_is_retried_a_bounded_number_of_times_then_the_view_is_given_up(lab):
    c = client(lab.external, timeout=0.2, attempts=2, unresponsive_after=2)
    before = len(lab.external.queries)
    first = c.lookup("ststimeout.contoso.test", "A")
    assert first.outcome is DnsOutcome.TIMEOUT and first.attempts == 2
    assert "no answer within 0.2 s" in first.reason
    assert c.lookup("ststimeout.contoso.test", "AAAA").outcome is DnsOutcome.TIMEOUT
    assert c.unresponsive
    started = time.monotonic()
    skipped = c.lookup("sts.contoso.test", "A")
    assert time.monotonic() - started < 0.1
    assert skipped.outcome is DnsOutcome.TIMEOUT and skipped.attempts == 0
    assert skipped.reason.startswith("not asked: ") and "did not answer the previous 2 lookups" in skipped.reason
    assert len(lab.external.queries) - before == 4  # 2 lookups x 2 attempts, the third not sent


def test_next_resolver_is_asked_after_servfail_and_silence(lab):
    with LabDnsServer(EXTERNAL, mode=DnsFault.SERVFAIL) as failing, LabDnsServer(EXTERNAL, mode=DnsFault.SILENT) as quiet:
        resolver, _ = make_resolver((failing.address, quiet.address, lab.external.address), 0.2)
        c = DnsClient(resolver, deadline=time.monotonic() + 10)
        result = c.lookup("sts.contoso.test", "A")
        assert result.outcome is DnsOutcome.ANSWER and result.resolver == str(lab.external.address)
        assert result.attempts == 4  # SERVFAIL once, silence twice, then the answer
        resolver, _ = make_resolver((quiet.address, failing.address), 0.2)
        both = DnsClient(resolver, deadline=time.monotonic() + 10).lookup("sts.contoso.test", "A")
        assert both.outcome is DnsOutcome.SERVFAIL  # an RCODE says more than silence
        assert f"{quiet.address}: no answer" in both.reason and f"{failing.address}: SERVFAIL" in both.reason


def test_every_exchange_is_capped_by_the_deadline(lab):
    resolver, _ = make_resolver((lab.external.address,), 5.0)
    c = DnsClient(resolver, deadline=time.monotonic() + 0.5)
    started = time.monotonic()
    result = c.lookup("ststimeout.contoso.test", "A")
    assert time.monotonic() - started < 0.6
    assert result.outcome is DnsOutcome.TIMEOUT and "the probe's time ran out" in result.reason


def test_system_resolver_is_used_only_when_none_is_configured():
    resolver, system = make_resolver((HostPort("127.0.0.1", 5300),), 1.0)
    assert system is False and [(ns.address, ns.port) for ns in resolver.nameservers] == [("127.0.0.1", 5300)]


def test_spf_terms_and_tree(lab):
    assert spf_records(("MS=ms1", "v=spf1 -all", "v=spf10 x", "V=SPF1 a")) == ["v=spf1 -all", "V=SPF1 a"]
    assert dns_querying_terms("v=spf1 ip4:1.2.3.4 a mx:x.test -include:y.test ptr exists:%{i}.z redirect=r.test -all") \
        == ("a", "mx:x.test", "-include:y.test", "ptr", "exists:%{i}.z")  # redirect ignored next to all
    assert dns_querying_terms("v=spf1 a redirect=r.test") == ("a", "redirect=r.test")
    c = client(lab.external)
    good = spf_tree(c, "contoso.test")
    assert (good.record, good.spf_record_count, good.dns_lookup_count) == \
        ("v=spf1 include:spf.protection.outlook.com -all", 1, 2)
    assert [child.domain for child in good.children] == ["spf.protection.outlook.com"]
    assert good.permerror is None and good.void_lookups == 0
    many = spf_tree(c, "manyspf.test")
    # In evaluation order: include outlook (1), its include spfd (2), include a (3), a's a, mx,
    # exists, ptr (4-7), include b (8), b's a, a (9, 10), b's redirect (11): permerror there; the
    # top record's mx and c.manyspf.test are never reached.
    assert many.dns_lookup_count == 11
    assert many.permerror == ("more than 10 DNS-querying terms (the 11th is redirect=c.manyspf.test in "
                              "b.manyspf.test's record): RFC 7208 section 4.6.4")
    (a, b) = [ch for ch in many.children if ch.domain in ("a.manyspf.test", "b.manyspf.test")]
    assert a.problems == () and a.dns_lookup_count == 4  # exists: is counted, never followed
    assert b.children == () and b.dns_lookup_count == 3
    assert ("c.manyspf.test", "TXT") not in {(asked.name, asked.rdtype) for asked in c.lookups}
    loop = spf_tree(c, "loopspf.test")
    assert loop.children[0].problems == ("loopspf.test: include loop, not followed again",)
    assert loop.permerror is not None and loop.permerror.startswith("include loop: l2.loopspf.test includes "
                                                                     "loopspf.test again")
    voids = spf_tree(c, "voidmany.test")
    assert voids.void_lookups == 3 and voids.dns_lookup_count == 3  # mx never reached
    assert voids.permerror == ("more than 2 void lookups (the lookup of v3.voidmany.test is void number 3): "
                               "RFC 7208 section 4.6.4")
    two = spf_tree(c, "badmail.test")
    assert two.spf_record_count == 2
    void = spf_tree(c, "voidspf.test")
    assert [(ch.domain, ch.record, ch.lookup.outcome) for ch in void.children][1] == \
        ("missing.voidspf.test", None, DnsOutcome.NXDOMAIN)
    assert void.void_lookups == 1 and void.permerror is None


def test_view_gathering_follows_srv_targets_and_climbs_caa(lab):
    from adfs_readiness.settings import DirectorySettings, Scope
    config = Settings(federation=FederationSettings(service_name="sts.contoso.test", domains=("contoso.test",)),
                      scope=Scope(certificate_authentication=True, device_registration=True, exchange_online=True),
                      directory=DirectorySettings(ad_domain="corp.contoso.test"),
                      network=NetworkSettings(timeout_seconds=0.5))
    assert caa_candidates("sts.contoso.test") == ["sts.contoso.test", "contoso.test", "test"]
    assert ("_gc._tcp.corp.contoso.test", "SRV") in view_questions("internal", config)
    assert ("sts.contoso.test", "CAA") in view_questions("external", config)
    resolver, _ = make_resolver((lab.internal.address,), 0.5)
    inside = gather_view("internal", resolver, config, deadline=time.monotonic() + 10)
    assert inside.find("dc2.corp.contoso.test", "A").outcome is DnsOutcome.NO_ANSWER
    assert inside.find("dc2.corp.contoso.test", "AAAA").records == ("fd00::4",)
    assert inside.note == f"Asked the configured internal resolvers: {lab.internal.address}."
    resolver, _ = make_resolver((lab.external.address,), 0.5)
    outside = gather_view("external", resolver, config, deadline=time.monotonic() + 10)
    caa = [lk for lk in outside.lookups if lk.rdtype == "CAA"]
    assert [(lk.name, lk.outcome) for lk in caa] == [("sts.contoso.test", DnsOutcome.NO_ANSWER),
                                                     ("contoso.test", DnsOutcome.ANSWER)]
    assert outside.spf_for("contoso.test").dns_lookup_count == 2


def test_shipped_demo_zones_parse_and_stop_leaves_nothing_behind():
    assert {z.origin.to_text() for z in load_view_zones("external")} >= {"contoso.test.", "outlook.com."}
    with pytest.raises(ValueError):
        load_view_zones("dmz")
    threads_before = set(threading.enumerate())
    lab = DnsLab().start()
    address = lab.external.address
    lab.stop()
    lab.stop()  # idempotent
    assert set(threading.enumerate()) <= threads_before
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):  # the port is free again
        with socket.socket(socket.AF_INET, kind) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address.host, address.port))
