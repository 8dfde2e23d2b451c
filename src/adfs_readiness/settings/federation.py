"""``[federation]`` (the federation service and its servers) and ``[dns]`` (the resolvers of each
view and what the names should resolve to)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Mapping

from adfs_readiness.settings._schema import setting
from adfs_readiness.settings.values import (Address, HostName, HostPort, Invalid, ListOf, Location, Pattern,
                                            TableOf, Text, Value, ValueContext)

__all__ = ["FederationSettings", "DnsSettings"]


@dataclass(frozen=True)
class FederationSettings:
    """The ``[federation]`` table.

    Attributes:
        service_name: the federation service name (``sts.contoso.com``), lower-case.
        domains: the Microsoft 365 domains federated (or to be federated) with the service.
        expected_issuer: the entityID / issuer URI; None = AD FS's default
            ``http://<service_name>/adfs/services/trust``.
        service_address: connect the federation service name to this address instead of resolving
            it (curl's --resolve): test one node behind a load balancer before DNS moves.
        farm_nodes / proxies: AD FS servers and WAP servers, each probed with SNI and Host = the
            federation service name.
        metadata: read federation metadata from this file (anchored at the configuration file's
            folder) or URL instead of the live service.
    """

    service_name: str | None = setting(None, HostName())
    domains: tuple[str, ...] = setting((), ListOf(HostName(example="contoso.com", what="DNS domain names"),
                                                  example='["contoso.com"]'))
    expected_issuer: str | None = setting(None, Text("an entityID such as http://sts.contoso.com/adfs/services/trust"))
    service_address: HostPort | None = setting(None, Address(443))
    farm_nodes: tuple[HostPort, ...] = setting((), ListOf(Address(443), example='["adfs1.corp.contoso.com", '
                                                                                '"10.0.0.11:443"]'))
    proxies: tuple[HostPort, ...] = setting((), ListOf(Address(443), example='["wap1.dmz.contoso.com"]'))
    metadata: str | None = setting(None, Location("federation metadata file (FederationMetadata.xml)",
                                                    must_exist=True))

    @property
    def issuer(self) -> str | None:
        """The expected entityID: the configured one, or AD FS's default for the service name."""
        if self.expected_issuer:
            return self.expected_issuer
        if self.service_name:
            return f"http://{self.service_name}/adfs/services/trust"
        return None

    @property
    def metadata_url(self) -> str | None:
        """Where AD FS publishes its federation metadata (the URL Entra ID polls)."""
        if not self.service_name:
            return None
        return f"https://{self.service_name}/FederationMetadata/2007-06/FederationMetadata.xml"


@dataclass(frozen=True)
class _IpAddress(Value):
    expected: str = 'IP addresses such as "203.0.113.10" or "2001:db8::10"'

    def parse(self, raw: object, ctx: ValueContext) -> str:
        try:
            return str(ipaddress.ip_address(str(raw).strip()))
        except ValueError:
            raise Invalid(self.expected) from None


_RESOLVER = Address(53, require_ip=True, what="ip[:port] of a DNS server")


@dataclass(frozen=True)
class DnsSettings:
    """The ``[dns]`` table.

    Attributes:
        internal_resolvers / external_resolvers: DNS servers of each view (empty = the system
            resolver, which the report says).
        expected_internal_addresses: what the federation service name should resolve to inside
            (the farm nodes or the internal load balancer); empty = the IP addresses of
            ``federation.farm_nodes``.
        expected_external_addresses: what it should resolve to on the internet (the proxies or the
            public load balancer / NAT address); empty = the IP addresses of ``federation.proxies``.
        m365_verification: domain -> the expected ``MS=ms...`` TXT value (dns.m365-verification).
        certificate_caa_domains: CAA issuer domain names of the CA that issued the SSL certificate,
            for a CA the built-in table does not know (dns.caa).
        simulated_public_domains: domains under a special-use name that a test lab serves as if
            they were public (the built-in lab's contoso.test); dns.fs-name-routable does not fail
            names under them. Never set it for a real deployment.
    """

    internal_resolvers: tuple[HostPort, ...] = setting((), ListOf(_RESOLVER, example='["10.0.0.1"]'))
    external_resolvers: tuple[HostPort, ...] = setting((), ListOf(_RESOLVER, example='["1.1.1.1", "9.9.9.9:53"]'))
    expected_internal_addresses: tuple[str, ...] = setting((), ListOf(_IpAddress(), example='["10.0.0.10"]'))
    expected_external_addresses: tuple[str, ...] = setting((), ListOf(_IpAddress(), example='["203.0.113.10"]'))
    m365_verification: Mapping[str, str] = setting(
        value=TableOf(HostName(example="contoso.com", what="a DNS domain name"),
                      Pattern(r"MS=ms\d+", 'the TXT value Microsoft 365 shows, such as "MS=ms12345678"')),
        default_factory=dict)
    certificate_caa_domains: tuple[str, ...] = setting(
        (), ListOf(HostName(example="digicert.com", what="CAA issuer domain names"), example='["digicert.com"]'))
    simulated_public_domains: tuple[str, ...] = setting(
        (), ListOf(HostName(example="contoso.test", what="DNS domain names"), example='["contoso.test"]'))
