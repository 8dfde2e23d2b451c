"""What the tool refuses to connect to or send, whatever a configuration, a redirect or a DNS
answer says.

* **Link-local and cloud metadata addresses.** The tool runs as root from cron on cloud VMs and
  follows URLs that servers it does not control hand it (redirects, realm discovery answers, MEX
  documents). The instance metadata services of AWS (169.254.169.254, fd00:ec2::254), Azure
  (169.254.169.254; the WireServer 168.63.129.16), Google Cloud (169.254.169.254), Oracle
  (169.254.169.254) and Alibaba Cloud (100.100.100.200) hand out credentials to whoever on the
  machine asks. No AD FS, WAP or Microsoft endpoint lives there, so a request for one is either a
  mistake or an attack (server-side request forgery): refused before any byte is sent, unless
  ``network.allow_link_local = true``. The whole IPv4 (RFC 3927) and IPv6 (RFC 4291 2.5.6)
  link-local ranges are refused, IPv4-mapped IPv6 forms included.
* **Credentials in a URL's userinfo** (``https://user:pass@host/``, RFC 3986 3.2.1, which says
  the ``user:password`` form is deprecated): refused with a clear error, never sent as Basic
  authentication and never echoed (the URL is shown without its userinfo).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = ["NetPolicy", "RefusedTarget", "REFUSED_NETWORKS", "refused_address_reason", "url_credentials_reason",
           "without_userinfo"]

#: Addresses refused as targets unless ``network.allow_link_local`` is set (see the module docstring).
REFUSED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (ipaddress.ip_network("169.254.0.0/16"), "a link-local address (cloud instance metadata services answer at "
                                             "169.254.169.254)"),
    (ipaddress.ip_network("fe80::/10"), "an IPv6 link-local address"),
    (ipaddress.ip_network("fd00:ec2::254/128"), "the AWS instance metadata service (IPv6)"),
    (ipaddress.ip_network("100.100.100.200/32"), "the Alibaba Cloud instance metadata service"),
    (ipaddress.ip_network("168.63.129.16/32"), "the Azure WireServer (platform metadata)"),
)


class RefusedTarget(OSError):
    """A connection the policy refused before anything was sent; ``reason`` says why in words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NetPolicy:
    """The run's network policy.

    Attributes:
        allow_link_local: connect to link-local and cloud metadata addresses too
            (``network.allow_link_local``; off by default).
        max_download_bytes: cap on any HTTP body, counted after decompression
            (``network.max_download_bytes``).
    """

    allow_link_local: bool = False
    max_download_bytes: int = 10 * 1024 * 1024

    def check_address(self, host: str) -> None:
        """Raise :class:`RefusedTarget` when ``host`` is an IP address this policy refuses
        (host names pass: their addresses are checked once resolved, before sending)."""
        if self.allow_link_local:
            return
        reason = refused_address_reason(host)
        if reason is not None:
            raise RefusedTarget(reason)


def refused_address_reason(host: str) -> str | None:
    """Why ``host`` (an IP address, IPv6 with or without brackets or zone) is refused, or None
    when it is not an address of :data:`REFUSED_NETWORKS` (or not an address at all)."""
    text = host.strip("[]").split("%", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network, what in REFUSED_NETWORKS:
        if ip.version == network.version and ip in network:
            return (f"{ip} is {what}: refused as a target (set network.allow_link_local = true if this is "
                    f"really where the service is)")
    return None


def url_credentials_reason(url: str) -> str | None:
    """Why ``url`` is refused for carrying credentials in its userinfo, or None. The reason
    never contains the credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" not in parts.netloc:
        return None
    return (f"the URL {without_userinfo(url)} carries a user name or password before its host "
            f"(user:password@): refused, never sent; give credentials through the settings made for them")


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` part replaced by ``***@`` (the rest unchanged); a URL
    that does not parse is returned with everything up to the last ``@`` of its authority masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        head, sep, rest = url.partition("://")
        authority, slash, tail = rest.partition("/")
        if "@" in authority:
            authority = "***@" + authority.rsplit("@", 1)[1]
        return f"{head}{sep}{authority}{slash}{tail}" if sep else url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))
