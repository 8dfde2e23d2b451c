"""Every dns.* check, for each status it can take, on facts gathered over the wire from the lab
DNS server (tests/dns_zones.py): no mocked resolver. The SSL certificate dns.caa compares is a
built fact (tests/factories.py); the TLS area's facts will replace it later."""

from __future__ import annotations

import dataclasses

import time

import pytest
from conftest import FIXED_NOW
from dns_zones import EXTERNAL, EXTERNAL_FAULTS, INTERNAL, INTERNAL_FAULTS
from factories import certificate, http_exchange, metadata_fact

from adfs_readiness.engine.runner import RunPlan, judge
from adfs_readiness.facts import METADATA_FACT, TlsPeerChain
from adfs_readiness.facts.dns import DNS_EXTERNAL_FACT, DNS_INTERNAL_FACT
from adfs_readiness.lab.dns_lab import DnsLab
from adfs_readiness.model import Status
from adfs_readiness.probes.dns import gather_view
from adfs_readiness.net.dns import make_resolver
from adfs_readiness.settings import (DirectorySettings, DnsSettings, FederationSettings, HostPort, NetworkSettings,
                                     Scope, Settings)
from adfs_readiness_checks import dns as dns_checks
from adfs_readiness_checks import dns_records

ALL_SCOPE = Scope(certificate_authentication=True, device_registration=True, exchange_online=True)


@pytest.fixture(scope="module")
def lab():
    with DnsLab(internal_zones=INTERNAL, external_zones=EXTERNAL, internal_faults=INTERNAL_FAULTS,
                external_faults=EXTERNAL_FAULTS) as running:
        yield running


def config(lab, fs: str | None = "sts.contoso.test", domains=("contoso.test",), scope=ALL_SCOPE,
           ad_domain=None, dns=None, farm_nodes=(), proxies=()) -> Settings:
    views = dataclasses.replace(dns or DnsSettings(), internal_resolvers=(lab.internal.address,),
                                external_resolvers=(lab.external.address,))
    federation = FederationSettings(service_name=fs, domains=tuple(domains), farm_nodes=farm_nodes, proxies=proxies)
    return Settings(federation=federation, scope=scope, directory=DirectorySettings(ad_domain=ad_domain), dns=views,
                    network=NetworkSettings(timeout_seconds=0.2))


def run(check, cfg: Settings, metadata=None):
    """Gather both views from the lab and judge ``check`` as the engine does; returns
    {target: finding} (target None for single-outcome checks)."""
    facts = {}
    for key, view, servers in ((DNS_INTERNAL_FACT, "internal", cfg.dns.internal_resolvers),
                               (DNS_EXTERNAL_FACT, "external", cfg.dns.external_resolvers)):
        resolver, _ = make_resolver(servers, cfg.network.timeout_seconds)
        facts[key] = gather_view(view, resolver, cfg, deadline=time.monotonic() + 10)
    facts[METADATA_FACT] = metadata if metadata is not None else metadata_fact()
    plan = RunPlan(checks=(check,), skipped=(), fact_keys=check.meta.requires)
    return {f.target: f for f in judge(plan, facts, cfg, FIXED_NOW)}


def one(findings):
    (finding,) = findings.values()
    return finding


# --- dns.fs-external / dns.fs-internal -------------------------------------------------------

def test_fs_external_pass_and_blocker_fail(lab):
    ok = one(run(dns_checks.fs_external, config(lab)))
    assert ok.status is Status.PASS and ok.summary == "sts.contoso.test resolves in the external view to 203.0.113.10."
    assert ok.evidence["resolvers"] == [str(lab.external.address)] and ok.evidence["system_resolver"] is False
    missing = one(run(dns_checks.fs_external, config(lab, fs="nothing.contoso.test")))
    assert missing.status is Status.FAIL and missing.blocker is True
    assert missing.summary.startswith("nothing.contoso.test does not exist (NXDOMAIN) in the external view.")


@pytest.mark.parametrize("fs, status, words", [
    ("stsnoaddr.contoso.test", Status.FAIL, "exists in the external view but has no A or AAAA record"),
    ("stsdangle.contoso.test", Status.FAIL, "stsdangle.contoso.test is a CNAME to gone.fabrikam.test, which does not "
                                            "exist (dangling CNAME)"),
    ("stsloop.contoso.test", Status.FAIL, "is a CNAME loop in the external view"),
    ("sts6.contoso.test", Status.WARN, "has only IPv6 addresses in the external view (2001:db8::10)"),
    ("stsfail.contoso.test", Status.ERROR, "SERVFAIL"),
    ("stsrefused.contoso.test", Status.ERROR, "REFUSED"),
    ("ststimeout.contoso.test", Status.ERROR, "no answer (timeout)"),
])
def test_fs_external_keeps_does_not_exist_and_could_not_ask_apart(lab, fs, status, words):
    finding = one(run(dns_checks.fs_external, config(lab, fs=fs)))
    assert finding.status is status and words in finding.summary, finding.summary
    if status is Status.ERROR:
        assert finding.summary.startswith(f"Could not determine whether {fs} resolves in the external view")
        assert finding.blocker is False


def test_fs_internal_statuses(lab):
    assert one(run(dns_checks.fs_internal, config(lab))).summary == \
        "sts.contoso.test resolves in the internal view to 10.0.10.20."
    chained = one(run(dns_checks.fs_internal, config(lab, fs="stscname.contoso.test")))
    assert chained.status is Status.PASS and "via CNAME: stscname.contoso.test is a CNAME to adfs-lb.corp.contoso.test" \
        in chained.summary
    assert one(run(dns_checks.fs_internal, config(lab, fs="stsrefused.contoso.test"))).status is Status.FAIL
    assert one(run(dns_checks.fs_internal, config(lab, fs="sts6.contoso.test"))).status is Status.WARN


def test_fs_checks_skip_without_a_service_name_and_by_configuration(lab):
    skipped = one(run(dns_checks.fs_external, config(lab, fs=None)))
    assert skipped.status is Status.SKIP and "No federation service name is configured" in skipped.summary


# --- dns.fs-a-record -------------------------------------------------------------------------

def test_fs_a_record_per_view(lab):
    plain = run(dns_checks.fs_a_record, config(lab))
    assert {t: f.status for t, f in plain.items()} == {"internal view": Status.PASS, "external view": Status.PASS}
    cname = run(dns_checks.fs_a_record, config(lab, fs="stscname.contoso.test"))
    inside, outside = cname["internal view"], cname["external view"]
    assert inside.status is Status.FAIL
    assert inside.summary.startswith("stscname.contoso.test is a CNAME to adfs-lb.corp.contoso.test in the internal "
                                     "view: Windows then asks for a Kerberos ticket for HTTP/adfs-lb.corp.contoso.test")
    assert outside.status is Status.WARN and "stscname.contoso.test is a CNAME to lb.fabrikam.test" in outside.summary
    dangling = run(dns_checks.fs_a_record, config(lab, fs="stsdangle.contoso.test"))
    assert dangling["internal view"].status is Status.FAIL  # a dangling CNAME is still a CNAME
    mixed = run(dns_checks.fs_a_record, config(lab, fs="ststimeout.contoso.test"))
    assert mixed["internal view"].status is Status.PASS and mixed["external view"].status is Status.ERROR
    missing = run(dns_checks.fs_a_record, config(lab, fs="nothing.contoso.test"))
    assert {f.status for f in missing.values()} == {Status.SKIP}
    assert "see dns.fs-external" in missing["external view"].summary


# --- dns.split-brain -------------------------------------------------------------------------

def test_split_brain_statuses(lab):
    expect = DnsSettings(expected_internal_addresses=("10.0.10.20",), expected_external_addresses=("203.0.113.10",))
    ok = one(run(dns_checks.split_brain, config(lab, dns=expect)))
    assert ok.status is Status.PASS and ok.summary.endswith("as configured.")
    unconfigured = one(run(dns_checks.split_brain, config(lab)))
    assert unconfigured.status is Status.PASS and "the views differ" in unconfigured.summary
    leak = one(run(dns_checks.split_brain, config(lab, fs="stsleak.contoso.test")))
    assert leak.status is Status.FAIL and "10.0.0.5 (private / RFC 1918 / RFC 4193)" in leak.summary
    same = one(run(dns_checks.split_brain, config(lab, fs="stssame.contoso.test")))
    assert same.status is Status.WARN and "same address(es) inside and outside (203.0.113.10)" in same.summary
    other = one(run(dns_checks.split_brain, config(lab, fs="stsother.contoso.test", dns=expect)))
    assert other.status is Status.WARN
    assert "inside it resolves to 10.0.10.99, expected 10.0.10.20" in other.summary
    assert "on the internet it resolves to 198.51.100.99, expected 203.0.113.10" in other.summary
    from_nodes = one(run(dns_checks.split_brain, config(lab, fs="stsother.contoso.test",
                                                        farm_nodes=(HostPort("10.0.10.99", 443),),
                                                        proxies=(HostPort("wap1.dmz.test", 443),))))
    assert from_nodes.status is Status.PASS and from_nodes.evidence["expected_internal"] == ["10.0.10.99"]
    assert one(run(dns_checks.split_brain, config(lab, fs="ststimeout.contoso.test"))).status is Status.ERROR
    external_only = one(run(dns_checks.split_brain, config(lab, fs="certauth.stscname.contoso.test")))
    assert external_only.status is Status.SKIP and "no address in the internal view" in external_only.summary


# --- dns.certauth ----------------------------------------------------------------------------

def test_certauth_statuses(lab):
    out_of_scope = one(run(dns_checks.certauth, config(lab, scope=Scope())))
    assert out_of_scope.status is Status.SKIP and "scope.certificate_authentication" in out_of_scope.summary
    ok = run(dns_checks.certauth, config(lab))
    assert {t: f.status for t, f in ok.items()} == {"internal view": Status.PASS, "external view": Status.PASS}
    other = run(dns_checks.certauth, config(lab, fs="stsother.contoso.test"))
    assert other["internal view"].status is Status.FAIL and "cannot reach the certificate authentication" in \
        other["internal view"].summary
    assert other["external view"].status is Status.WARN
    assert "certauth.stsother.contoso.test resolves in the external view to 198.51.100.7, but " \
           "stsother.contoso.test to 198.51.100.99" in other["external view"].summary
    timeout = run(dns_checks.certauth, config(lab, fs="ststimeout.contoso.test"))
    assert timeout["external view"].status is Status.ERROR


# --- dns.enterpriseregistration --------------------------------------------------------------

def test_enterpriseregistration_statuses(lab):
    assert one(run(dns_checks.enterpriseregistration, config(lab, scope=Scope()))).status is Status.SKIP
    assert one(run(dns_checks.enterpriseregistration, config(lab, domains=()))).status is Status.SKIP
    found = run(dns_checks.enterpriseregistration, config(lab, domains=("contoso.test", "badmail.test",
                                                                         "nospf.test", "broken.test")))
    status = {t: f.status for t, f in found.items()}
    assert status["external view: contoso.test"] is Status.PASS
    assert status["internal view: contoso.test"] is Status.PASS
    assert status["external view: badmail.test"] is Status.WARN  # a host record: on-premises DRS
    assert status["external view: nospf.test"] is Status.FAIL
    assert status["internal view: nospf.test"] is Status.WARN  # missing inside only warns
    assert status["external view: broken.test"] is Status.ERROR
    assert found["external view: nospf.test"].summary == \
        "enterpriseregistration.nospf.test does not exist in the external view: devices cannot discover the device " \
        "registration service for nospf.test."


# --- dns.m365-verification -------------------------------------------------------------------

def test_m365_verification_statuses(lab):
    domains = ("contoso.test", "manyspf.test", "badmail.test", "ghost.test", "broken.test")
    expected = DnsSettings(m365_verification={"manyspf.test": "MS=ms99999999"})
    found = run(dns_records.m365_verification, config(lab, domains=domains, dns=expected))
    assert found["contoso.test"].status is Status.PASS
    assert found["contoso.test"].summary == "contoso.test publishes the verification record MS=ms11111111."
    assert found["manyspf.test"].status is Status.FAIL
    assert found["manyspf.test"].summary == \
        "manyspf.test does not publish the expected verification record MS=ms99999999 (found: MS=ms22222222)."
    assert found["badmail.test"].status is Status.WARN
    assert found["ghost.test"].status is Status.FAIL and "NXDOMAIN" in found["ghost.test"].summary
    assert found["broken.test"].status is Status.ERROR
    assert one(run(dns_records.m365_verification, config(lab, domains=()))).status is Status.SKIP


# --- dns.m365-mail ---------------------------------------------------------------------------

def test_m365_mail_statuses(lab):
    domains = ("contoso.test", "badmail.test", "manyspf.test", "nospf.test", "voidspf.test", "ghost.test",
               "broken.test")
    found = run(dns_records.m365_mail, config(lab, domains=domains))
    good = found["contoso.test"]
    assert good.status is Status.PASS and "(2 DNS lookups of 10)" in good.summary
    assert good.evidence["mx"]["transport"] == "tcp"  # the apex answers are truncated over UDP
    bad = found["badmail.test"]
    assert bad.status is Status.FAIL and "2 SPF records: RFC 7208 section 4.5" in bad.summary
    assert "MX points to mail.badmail.test" in bad.summary and "autodiscover.badmail.test is a host record" in bad.summary
    many = found["manyspf.test"]
    assert many.status is Status.FAIL and ("SPF evaluation ends in permerror: more than 10 DNS-querying terms"
                                           in many.summary)
    assert "autodiscover: autodiscover.manyspf.test A: NXDOMAIN" in many.summary
    nospf = found["nospf.test"]
    assert nospf.status is Status.WARN and nospf.evidence["warnings"] == [
        "no SPF record (v=spf1): receivers cannot tell Exchange Online's mail from spoofed mail"]
    void = found["voidspf.test"]
    assert void.status is Status.WARN and void.evidence["warnings"] == [
        "SPF include missing.voidspf.test has no SPF record (permerror for receivers)"]
    assert found["ghost.test"].status is Status.FAIL and "no MX record" in found["ghost.test"].summary
    broken = found["broken.test"]
    assert broken.status is Status.ERROR and broken.evidence["could_not_determine"][0].startswith("MX: broken.test MX: SERVFAIL")
    assert one(run(dns_records.m365_mail, config(lab, scope=Scope(exchange_online=False)))).status is Status.SKIP


# --- dns.msoid -------------------------------------------------------------------------------

def test_msoid_statuses(lab):
    found = run(dns_records.msoid, config(lab, domains=("contoso.test", "badmail.test", "manyspf.test", "nospf.test",
                                                        "broken.test")))
    assert found["contoso.test"].status is Status.PASS
    assert found["badmail.test"].status is Status.FAIL
    assert found["badmail.test"].summary.startswith(
        "msoid.badmail.test is a CNAME to clientconfig.microsoftonline-p.net: outside 21Vianet")
    assert found["manyspf.test"].status is Status.INFO
    assert found["nospf.test"].status is Status.WARN
    assert found["broken.test"].status is Status.ERROR
    assert one(run(dns_records.msoid, config(lab, domains=()))).status is Status.SKIP


# --- dns.ad-srv ------------------------------------------------------------------------------

def test_ad_srv_statuses(lab):
    assert one(run(dns_records.ad_srv, config(lab))).status is Status.SKIP
    good = run(dns_records.ad_srv, config(lab, ad_domain="corp.contoso.test"))
    assert {t: f.status for t, f in good.items()} == {
        "_ldap._tcp.dc._msdcs.corp.contoso.test": Status.PASS,
        "_kerberos._tcp.corp.contoso.test": Status.PASS,  # dc2 has only an AAAA record: resolvable
        "_gc._tcp.corp.contoso.test": Status.PASS,
    }
    bad = run(dns_records.ad_srv, config(lab, ad_domain="badad.test"))
    assert bad["_ldap._tcp.dc._msdcs.badad.test"].status is Status.FAIL
    assert bad["_ldap._tcp.dc._msdcs.badad.test"].summary == \
        "_ldap._tcp.dc._msdcs.badad.test names dc9.badad.test, none of which resolves."
    assert bad["_kerberos._tcp.badad.test"].status is Status.FAIL
    assert bad["_gc._tcp.badad.test"].status is Status.WARN
    # No target resolves: register again, never deregister every DC the domain has.
    assert not any("dsderegdns" in c for c in bad["_ldap._tcp.dc._msdcs.badad.test"].evidence["commands"])
    # Some resolve: the fix deregisters the others only if they are gone, and says so first.
    assert bad["_gc._tcp.badad.test"].remediation.startswith("If ") and \
        "is a domain controller that is gone" in bad["_gc._tcp.badad.test"].remediation
    fault = run(dns_records.ad_srv, config(lab, ad_domain="faultad.test"))
    assert fault["_ldap._tcp.dc._msdcs.faultad.test"].status is Status.ERROR
    assert fault["_kerberos._tcp.faultad.test"].status is Status.PASS
    from_base_dn = Settings(directory=DirectorySettings(base_dn="DC=corp,DC=contoso,DC=test"),
                            federation=FederationSettings(service_name=None),
                            dns=DnsSettings(internal_resolvers=(lab.internal.address,),
                                            external_resolvers=(lab.external.address,)))
    assert {f.status for f in run(dns_records.ad_srv, from_base_dn).values()} == {Status.PASS}


# --- dns.caa ---------------------------------------------------------------------------------

DIGICERT = "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1,O=DigiCert Inc,C=US"


def tls_metadata(issuer: str, san=("sts.contoso.test",), host="sts.contoso.test"):
    leaf = certificate(host, issuer=issuer, san_dns=tuple(san), self_signed=False)
    chain = TlsPeerChain(server_name=host, address="127.0.0.1:443", protocol="TLSv1.3", cipher=None, chain=(leaf,))
    return metadata_fact(fetch=http_exchange(tls=chain))


def test_caa_statuses(lab):
    permitted = one(run(dns_records.caa, config(lab), tls_metadata(DIGICERT)))
    assert permitted.status is Status.PASS and permitted.evidence["caa_owner"] == "contoso.test"
    assert [c["name"] for c in permitted.evidence["climb"]] == ["sts.contoso.test", "contoso.test"]
    wildcard = one(run(dns_records.caa, config(lab), tls_metadata(DIGICERT, san=("*.contoso.test",))))
    assert wildcard.status is Status.FAIL and wildcard.evidence["property"] == "issuewild"
    assert "permits only letsencrypt.org" in wildcard.summary
    refused = one(run(dns_records.caa, config(lab, fs="sts.caa-le.test"), tls_metadata(DIGICERT, host="sts.caa-le.test",
                                                                                         san=("sts.caa-le.test",))))
    assert refused.status is Status.FAIL and refused.summary.startswith(
        "The CAA set at caa-le.test permits only letsencrypt.org, but the SSL certificate was issued by")
    unknown = one(run(dns_records.caa, config(lab), tls_metadata("CN=Contoso Issuing CA,O=Contoso")))
    assert unknown.status is Status.WARN and "set dns.certificate_caa_domains" in unknown.summary
    configured = one(run(dns_records.caa, config(lab, dns=DnsSettings(certificate_caa_domains=("digicert.com",))),
                         tls_metadata("CN=Contoso Issuing CA,O=Contoso")))
    assert configured.status is Status.PASS
    none = one(run(dns_records.caa, config(lab, fs="sts.caa-none.test"), tls_metadata(DIGICERT)))
    assert none.status is Status.PASS and none.summary.startswith("No CAA records from sts.caa-none.test up to test")
    critical = one(run(dns_records.caa, config(lab, fs="sts.caa-critical.test"), tls_metadata(DIGICERT)))
    assert critical.status is Status.FAIL and "critical property" in critical.summary
    nobody = one(run(dns_records.caa, config(lab, fs="sts.caa-nobody.test"), tls_metadata(DIGICERT)))
    assert nobody.status is Status.FAIL and 'permits only no CA (";")' in nobody.summary
    failed = one(run(dns_records.caa, config(lab, fs="sts.caa-fail.test"), tls_metadata(DIGICERT)))
    assert failed.status is Status.ERROR and "the CAA records of caa-fail.test" in failed.summary
    no_cert = one(run(dns_records.caa, config(lab), metadata_fact(fetch=None)))
    assert no_cert.status is Status.ERROR and "no SSL certificate was captured" in no_cert.summary
    assert one(run(dns_records.caa, config(lab, fs=None))).status is Status.SKIP


# --- dns.m365-mail: Exchange Online's DNSSEC MX, SPF leftovers after all ----------------------

def test_m365_mail_accepts_the_mx_microsoft_host_and_ignores_terms_after_all(lab):
    # Accepted domains added since August 2025 (and domains moved for inbound SMTP DANE) get an MX
    # <domain>-<hash>.<x>-v1.mx.microsoft; it was reported as "MX points elsewhere". The record's
    # nine includes after -all are never evaluated (RFC 7208 5.1) and were counted as lookups (and
    # followed into void lookups), which made a healthy record "permerror".
    finding = run(dns_records.m365_mail, config(lab, domains=("dnssecmx.test",)))["dnssecmx.test"]
    assert finding.status is Status.PASS, finding.summary
    assert finding.summary == ("dnssecmx.test: MX to Exchange Online, autodiscover CNAME to autodiscover.outlook.com, "
                               "one SPF record including spf.protection.outlook.com (2 DNS lookups of 10).")
    assert finding.evidence["spf"]["dns_terms"] == ["include:spf.protection.outlook.com"]
    elsewhere = run(dns_records.m365_mail, config(lab, domains=("badmail.test",)))["badmail.test"]
    assert "MX points to mail.badmail.test, not Exchange Online" in elsewhere.summary


def test_spf_terms_after_all_do_not_count():
    from adfs_readiness.probes.dns_spf import dns_querying_terms

    assert dns_querying_terms("v=spf1 a -all include:x.test mx") == ("a",)
    assert dns_querying_terms("v=spf1 include:x.test ~all redirect=r.test") == ("include:x.test",)
    assert dns_querying_terms("v=spf1 a redirect=r.test") == ("a", "redirect=r.test")
