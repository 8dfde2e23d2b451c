"""The lab's two DNS views: an internal and an external :class:`LabDnsServer` answering from the
zone files shipped in ``adfs_readiness/lab/zones/{internal,external}/<origin>.zone``.

Usage, next to the STS lab (this is what ``adfs-readiness demo`` should do)::

    with Lab("demo", now=now, workdir=tmp) as lab, DnsLab() as dns_lab:
        config = lab.config(**dns_lab.config_fragment())
        result = run_checks(registry, all_probes(), config, now)

The demo zones (contoso.test) are a realistic mix: split-brain DNS done right, Exchange Online
and device registration records in place, a CAA record permitting the lab CA, and two leftovers
an admin would find in a real tenant: a stale ``msoid`` CNAME (dns.msoid fails) and a ``_kerberos``
SRV record of a decommissioned DC (dns.ad-srv warns). ``leftovers=False`` serves the same zones
without those two (the fault scenarios of ``adfs-readiness demo``, which each show their own fault).
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Iterable, Mapping

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone

from adfs_readiness.lab.dns_server import DnsFault, LabDnsServer, parse_zone
from adfs_readiness.settings import DirectorySettings, DnsSettings, Scope

__all__ = ["DnsLab", "load_view_zones", "DEMO_DOMAIN", "DEMO_AD_DOMAIN", "VIEWS"]

VIEWS = ("internal", "external")
#: The federated domain of the demo zones.
DEMO_DOMAIN = "contoso.test"
#: The Active Directory domain of the internal demo zones.
DEMO_AD_DOMAIN = "corp.contoso.test"


#: The demo tenant's deliberate leftovers, per view: (owner name, record type, the record's text).
_LEFTOVERS = {"external": (("msoid.contoso.test.", "CNAME", "clientconfig.microsoftonline-p.net."),),
              "internal": (("_kerberos._tcp.corp.contoso.test.", "SRV", "0 100 88 dc2.corp.contoso.test."),)}


def load_view_zones(view: str, *, leftovers: bool = True) -> list[dns.zone.Zone]:
    """The shipped zones of ``view`` ("internal" or "external"), parsed; without the demo
    tenant's deliberate leftovers when ``leftovers`` is False. Raises ValueError for another view
    name and dns.exception.DNSException for a broken zone file."""
    if view not in VIEWS:
        raise ValueError(f"unknown DNS view {view!r} (expected one of {VIEWS})")
    folder = resources.files("adfs_readiness.lab") / "zones" / view
    zones = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".zone"):
            zones.append(parse_zone(entry.read_text(encoding="utf-8"), origin=entry.name[:-len(".zone")]))
    if not leftovers:
        for owner, rdtype, text in _LEFTOVERS[view]:
            name = dns.name.from_text(owner)
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), text)
            # The zone that holds the name: the one with the longest origin it falls under.
            zone = max((z for z in zones if name.is_subdomain(z.origin)), key=lambda z: len(z.origin))
            with zone.writer() as txn:
                txn.delete_exact(name, rdata)
    return zones


class DnsLab:
    """An internal and an external lab DNS server, started together.

    Args:
        internal_zones / external_zones: zone lists (None = the shipped demo zones of the view).
        internal_mode / external_mode: a :class:`DnsFault` for every query of that view.
        internal_faults / external_faults: name -> fault, per view.
        leftovers: serve the demo tenant's deliberate leftovers (the stale msoid CNAME, the
            decommissioned DC's SRV record) when the shipped zones are used (default True).

    Attributes (after start): ``internal`` and ``external`` (:class:`LabDnsServer`).
    """

    def __init__(self, *, internal_zones: Iterable[dns.zone.Zone] | None = None,
                 external_zones: Iterable[dns.zone.Zone] | None = None,
                 internal_mode: DnsFault | None = None, external_mode: DnsFault | None = None,
                 internal_faults: Mapping[str, DnsFault] | None = None,
                 external_faults: Mapping[str, DnsFault] | None = None, leftovers: bool = True) -> None:
        self.internal = LabDnsServer(load_view_zones("internal", leftovers=leftovers) if internal_zones is None
                                     else internal_zones, mode=internal_mode, faults=internal_faults)
        self.external = LabDnsServer(load_view_zones("external", leftovers=leftovers) if external_zones is None
                                     else external_zones, mode=external_mode, faults=external_faults)

    def start(self) -> DnsLab:
        """Start both servers (stopping the first if the second cannot start). Returns self."""
        self.internal.start()
        try:
            self.external.start()
        except BaseException:
            self.internal.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop both servers; idempotent."""
        self.external.stop()
        self.internal.stop()

    def __enter__(self) -> DnsLab:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def config_fragment(self) -> dict[str, Any]:
        """The sections that point a run at this lab and describe the demo tenant, for
        ``settings.with_changes(**fragment)``: both views' resolvers, the expected addresses of
        each view, the verification value and the lab CA's CAA domain (``dns``), the federated
        domain, the scope (Exchange Online, device registration and certificate authentication in
        use) and the AD domain. The federation service name (sts.contoso.test) comes from the STS
        lab."""
        return {
            "federation": {"domains": (DEMO_DOMAIN,)},
            "scope": Scope(certificate_authentication=True, device_registration=True, exchange_online=True),
            "directory": DirectorySettings(ad_domain=DEMO_AD_DOMAIN),
            "dns": DnsSettings(
                internal_resolvers=(self.internal.address,),
                external_resolvers=(self.external.address,),
                expected_internal_addresses=("10.0.10.20",),
                expected_external_addresses=("203.0.113.10",),
                m365_verification={DEMO_DOMAIN: "MS=ms12345678"},
                certificate_caa_domains=("ca.contoso.test",),
                simulated_public_domains=("contoso.test",),
            ),
        }

    def config_toml(self) -> str:
        """The same as a TOML fragment an admin could paste (ports are this run's)."""
        return (
            "[federation]\n"
            f'domains = ["{DEMO_DOMAIN}"]\n\n'
            "[dns]\n"
            f'internal_resolvers = ["{self.internal.address}"]\n'
            f'external_resolvers = ["{self.external.address}"]\n'
            'expected_internal_addresses = ["10.0.10.20"]\n'
            'expected_external_addresses = ["203.0.113.10"]\n'
            'certificate_caa_domains = ["ca.contoso.test"]\n'
            'simulated_public_domains = ["contoso.test"]\n\n'
            "[dns.m365_verification]\n"
            f'"{DEMO_DOMAIN}" = "MS=ms12345678"\n\n'
            "[directory]\n"
            f'ad_domain = "{DEMO_AD_DOMAIN}"\n\n'
            "[scope]\n"
            "certificate_authentication = true\n"
            "device_registration = true\n"
            "exchange_online = true\n"
        )
