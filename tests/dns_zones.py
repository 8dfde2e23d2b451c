"""Zone data for the DNS tests: one name per situation, in an internal and an external view.

Served by the lab DNS server (adfs_readiness.lab.dns_server) over the wire; the tests pick the
situation through the configured federation service name / domains. Faults (SERVFAIL, REFUSED,
silence) are attached to names in EXTERNAL_FAULTS / INTERNAL_FAULTS.
"""

from __future__ import annotations

from adfs_readiness.lab.dns_server import DnsFault, parse_zone

_SOA = "@ SOA ns1.{o}. hostmaster.{o}. 1 3600 600 604800 300\n@ NS ns1.{o}.\n"


def _zone(origin: str, body: str):
    return parse_zone(f"$ORIGIN {origin}.\n$TTL 300\n" + _SOA.format(o=origin) + body, origin)


EXTERNAL = [
    _zone("contoso.test", """
sts                 A     203.0.113.10
certauth.sts        A     203.0.113.10
sts6                AAAA  2001:db8::10
stscname            CNAME lb.fabrikam.test.
certauth.stscname   CNAME lb.fabrikam.test.
stsdangle           CNAME gone.fabrikam.test.
stsloop             CNAME stsloop2.contoso.test.
stsloop2            CNAME stsloop.contoso.test.
stsnoaddr           TXT   "no address here"
stsleak             A     10.0.0.5
stsleakula          AAAA  fd00::5
stsleakmixed        A     10.0.0.5
stsleakmixed        A     203.0.113.11
stssame             A     203.0.113.10
certauth.stssame    A     203.0.113.10
stsother            A     198.51.100.99
certauth.stsother   A     198.51.100.7
@                   MX    0 contoso-test.mail.protection.outlook.com.
@                   TXT   "MS=ms11111111"
@                   TXT   "v=spf1 include:spf.protection.outlook.com -all"
@                   CAA   0 issue "digicert.com"
@                   CAA   0 issuewild "letsencrypt.org"
autodiscover        CNAME autodiscover.outlook.com.
enterpriseregistration CNAME enterpriseregistration.windows.net.
"""),
    _zone("fabrikam.test", "lb A 203.0.113.20\n"),
    _zone("outlook.com", """
autodiscover        A     198.51.100.30
spf.protection      TXT   "v=spf1 include:spfd.protection.outlook.com -all"
spfd.protection     TXT   "v=spf1 ip4:40.92.0.0/15 -all"
contoso-test.mail.protection A 198.51.100.25
nospf-test.mail.protection A 198.51.100.26
"""),
    _zone("windows.net", "enterpriseregistration A 198.51.100.40\n"),
    _zone("microsoftonline-p.net", "clientconfig A 198.51.100.50\n"),
    _zone("microsoftonline-p.net.cn", "clientconfig.partner A 198.51.100.51\n"),
    # MX elsewhere, two SPF records, autodiscover on-premises, msoid CNAME, no MS= TXT, a host
    # record for enterpriseregistration (on-premises DRS).
    _zone("badmail.test", """
@                   MX    10 mail.badmail.test.
@                   TXT   "v=spf1 mx -all"
@                   TXT   "v=spf1 include:spf.protection.outlook.com -all"
mail                A     203.0.113.40
autodiscover        A     203.0.113.41
msoid               CNAME clientconfig.microsoftonline-p.net.
enterpriseregistration A  203.0.113.42
"""),
    # Eleven DNS-querying terms through includes; autodiscover missing; msoid for 21Vianet.
    _zone("manyspf.test", """
@                   MX    0 manyspf-test.mail.protection.outlook.com.
@                   TXT   "MS=ms22222222"
@                   TXT   "v=spf1 include:spf.protection.outlook.com include:a.manyspf.test include:b.manyspf.test mx -all"
a                   TXT   "v=spf1 a mx exists:%{i}.x.manyspf.test ptr -all"
b                   TXT   "v=spf1 a:one.manyspf.test a:two.manyspf.test redirect=c.manyspf.test"
c                   TXT   "v=spf1 include:manyspf.test -all"
msoid               CNAME clientconfig.partner.microsoftonline-p.net.cn.
enterpriseregistration CNAME enterpriseregistration.windows.net.
"""),
    # No TXT at all, msoid as a host record, no enterpriseregistration, an include that is void.
    _zone("nospf.test", """
@                   MX    0 nospf-test.mail.protection.outlook.com.
@                   A     203.0.113.50
autodiscover        CNAME autodiscover.outlook.com.
msoid               A     203.0.113.51
"""),
    _zone("voidspf.test", """
@                   MX    0 nospf-test.mail.protection.outlook.com.
@                   TXT   "v=spf1 include:spf.protection.outlook.com include:missing.voidspf.test -all"
autodiscover        CNAME autodiscover.outlook.com.
"""),
    # An include loop, and three void includes (RFC 7208 4.6.4 allows two).
    _zone("loopspf.test", """
@                   TXT   "v=spf1 include:l2.loopspf.test -all"
l2                  TXT   "v=spf1 ip4:192.0.2.1 include:loopspf.test -all"
"""),
    _zone("voidmany.test", """
@                   TXT   "v=spf1 include:v1.voidmany.test include:v2.voidmany.test include:v3.voidmany.test mx -all"
v2                  A     192.0.2.2
"""),
    # The MX every accepted domain added since August 2025 gets (DNSSEC, mx.microsoft); and an SPF
    # record with leftovers after -all, which receivers never evaluate (RFC 7208 5.1).
    _zone("dnssecmx.test", "@ MX 0 dnssecmx-test.a-v1.mx.microsoft.\n"
          '@ TXT "v=spf1 include:spf.protection.outlook.com -all '
          + " ".join(f"include:x{i}.dnssecmx.test" for i in range(1, 5)) + ' " "'
          + " ".join(f"include:x{i}.dnssecmx.test" for i in range(5, 10)) + '"\n'
          "autodiscover CNAME autodiscover.outlook.com.\n"),
    _zone("broken.test", "@ A 203.0.113.60\n"),
    # CAA: one permitting only Let's Encrypt, one with a critical unknown property, one failing.
    _zone("caa-le.test", 'sts A 203.0.113.70\n@ CAA 0 issue "letsencrypt.org"\n'),
    _zone("caa-critical.test", 'sts A 203.0.113.71\n@ CAA 128 tbs "unknown"\n@ CAA 0 issue "digicert.com"\n'),
    _zone("caa-none.test", "sts A 203.0.113.72\n"),
    _zone("caa-fail.test", "sts A 203.0.113.73\n"),
    _zone("caa-nobody.test", 'sts A 203.0.113.74\nsts CAA 0 issue ";"\n'),
]

INTERNAL = [
    _zone("contoso.test", """
sts                 A     10.0.10.20
certauth.sts        A     10.0.10.20
sts6                AAAA  fd00::10
stscname            CNAME adfs-lb.corp.contoso.test.
stsdangle           CNAME gone.corp.contoso.test.
stsloop             CNAME stsloop2.contoso.test.
stsloop2            CNAME stsloop.contoso.test.
stsnoaddr           TXT   "no address here"
stsleak             A     10.0.0.5
stssame             A     203.0.113.10
certauth.stssame    A     203.0.113.10
stsother            A     10.0.10.99
stsfail             A     10.0.10.20
ststimeout          A     10.0.10.20
enterpriseregistration CNAME enterpriseregistration.windows.net.
"""),
    _zone("corp.contoso.test", """
adfs-lb             A     10.0.10.20
dc1                 A     10.0.0.4
dc2                 AAAA  fd00::4
_ldap._tcp.dc._msdcs SRV  0 100 389 dc1.corp.contoso.test.
_kerberos._tcp      SRV   0 100 88 dc1.corp.contoso.test.
_kerberos._tcp      SRV   0 100 88 dc2.corp.contoso.test.
_gc._tcp            SRV   0 100 3268 dc1.corp.contoso.test.
"""),
    _zone("badad.test", """
dc1                 A     10.1.0.4
_ldap._tcp.dc._msdcs SRV  0 100 389 dc9.badad.test.
_gc._tcp            SRV   0 100 3268 dc1.badad.test.
_gc._tcp            SRV   0 100 3268 dc8.badad.test.
"""),
    _zone("faultad.test", "dc1 A 10.2.0.4\n_kerberos._tcp SRV 0 100 88 dc1.faultad.test.\n"
                          "_gc._tcp SRV 0 100 3268 dc1.faultad.test.\n"),
    _zone("windows.net", "enterpriseregistration A 198.51.100.40\n"),
    _zone("nospf.test", "@ A 10.5.0.1\n"),
]

EXTERNAL_FAULTS = {
    "stsfail.contoso.test": DnsFault.SERVFAIL,
    "stsrefused.contoso.test": DnsFault.REFUSED,
    "ststimeout.contoso.test": DnsFault.SILENT,
    "broken.test": DnsFault.SERVFAIL,
    "autodiscover.broken.test": DnsFault.SERVFAIL,
    "msoid.broken.test": DnsFault.SERVFAIL,
    "enterpriseregistration.broken.test": DnsFault.SERVFAIL,
    "caa-fail.test": DnsFault.SERVFAIL,
    "contoso.test": DnsFault.TRUNCATE,  # the apex answers (TXT, MX, CAA) only come over TCP
}

INTERNAL_FAULTS = {
    "_ldap._tcp.dc._msdcs.faultad.test": DnsFault.SERVFAIL,
}
