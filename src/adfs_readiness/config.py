"""Configuration: a TOML file (``--config PATH``) and CLI overrides, turned into a frozen Config.

Every error names the file, the key, the bad value and what is expected (:class:`ConfigError`).
Passwords are never read from the file: the ``[directory]`` table names *where* the password comes
from (an environment variable, a prompt, or the OS keyring), and a ``password`` key is refused.

The example written by ``adfs-readiness init`` is :data:`EXAMPLE_CONFIG`; it documents every key.
"""

from __future__ import annotations

import ipaddress
import math
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from adfs_readiness.files import CONFIG_FILE_MAX_BYTES, read_capped

__all__ = [
    "ConfigError",
    "HostPort",
    "DirectoryConfig",
    "Thresholds",
    "Scope",
    "DnsConfig",
    "CloudConfig",
    "SignInTestConfig",
    "Limits",
    "Config",
    "load_config",
    "config_from_mapping",
    "parse_host_port",
    "EXAMPLE_CONFIG",
    "MAX_TIMEOUT_SECONDS",
    "MAX_DEADLINE_SECONDS",
    "MAX_DOWNLOAD_BYTES",
]

#: Upper bounds of the network settings (file and command line): beyond them a value is a typo or
#: an attempt to switch a limit off (TOML and float() accept inf and nan), not a wish.
MAX_TIMEOUT_SECONDS = 3600
MAX_DEADLINE_SECONDS = 86400
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024


class ConfigError(ValueError):
    """A configuration problem: ``source`` (file or "command line"), ``key`` (dotted), the bad
    ``value`` and what is ``expected``. ``str()`` gives one line an admin can act on."""

    def __init__(self, source: str, key: str, value: Any, expected: str) -> None:
        self.source = source
        self.key = key
        self.value = value
        self.expected = expected
        shown = repr(value) if not isinstance(value, str) or value else '""'
        super().__init__(f"{source}: {key} = {shown}: expected {expected}")


@dataclass(frozen=True)
class HostPort:
    """An address to connect to: ``host`` (name, IPv4 or IPv6 without brackets) and ``port`` (int)."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
                       r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$")


def _is_hostname(text: str) -> bool:
    return bool(_HOSTNAME.match(text))


def parse_host_port(text: str, default_port: int, *, require_ip: bool = False) -> HostPort:
    """Parse ``host``, ``host:port``, ``ip``, ``ip:port``, ``[v6]`` or ``[v6]:port``.

    Raises ValueError with the reason when the text is not such an address (or, with
    ``require_ip``, when the host is not an IP address).
    """
    text = text.strip()
    if not text:
        raise ValueError("empty address")
    host, port_text = text, None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("unclosed '[' in IPv6 address")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ValueError("expected ':port' after ']'")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    port = default_port
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"port {port_text!r} is not a number from 1 to 65535")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
        is_ip = True
    except ValueError:
        is_ip = False
    if require_ip and not is_ip:
        raise ValueError(f"{host!r} is not an IP address")
    if not is_ip and not _is_hostname(host):
        raise ValueError(f"{host!r} is neither a host name nor an IP address")
    return HostPort(host, port)


@dataclass(frozen=True)
class DirectoryConfig:
    """How to reach Active Directory (read-only).

    Attributes:
        server: LDAP URL (``ldaps://dc1.corp.contoso.com``, ``ldap://...``); None = find DCs from
            the AD SRV records.
        base_dn: search base; None = the RootDSE's defaultNamingContext.
        bind_user: ``DOMAIN\\user`` or a UPN; None = anonymous RootDSE only.
        auth: "simple", "ntlm" or "kerberos".
        start_tls: use StartTLS on an ldap:// URL.
        password_env: name of the environment variable holding the password.
        password_source: "env", "prompt" or "keyring".
        keyring_service: service name for the keyring lookup.
        ca_bundle: CA certificates for LDAPS/StartTLS verification.
        service_account: the AD FS service account (sAMAccountName, gMSA names end with $).
        ad_domain: the Active Directory DNS domain (``corp.contoso.com``) whose SRV records
            dns.ad-srv looks up; None = derived from ``base_dn`` (DC= parts), else not checked.
        forest_root: the forest root domain for ``_gc._tcp``; None = ``ad_domain``.
        csv_dir: write every object-level directory problem to ``directory-problems.csv`` here.
        adfs_version: the AD FS version targeted ("2012r2", "2016", "2019", "2022", "2025"); from
            2016 on, directory.functional-level also wants schema objectVersion >= 85.
    """

    server: str | None = None
    base_dn: str | None = None
    bind_user: str | None = None
    auth: str = "simple"
    start_tls: bool = False
    password_env: str = "ADFS_READINESS_LDAP_PASSWORD"
    password_source: str = "env"
    keyring_service: str = "adfs-readiness"
    ca_bundle: Path | None = None
    service_account: str | None = None
    ad_domain: str | None = None
    forest_root: str | None = None
    csv_dir: Path | None = None
    adfs_version: str | None = None

    @property
    def ad_dns_domain(self) -> str | None:
        """``ad_domain``, else the DNS name spelled by the DC= parts of ``base_dn``, else None."""
        if self.ad_domain:
            return self.ad_domain
        if self.base_dn:
            parts = [p.strip()[3:] for p in self.base_dn.split(",") if p.strip().lower().startswith("dc=")]
            if parts:
                return ".".join(parts).lower()
        return None


@dataclass(frozen=True)
class DnsConfig:
    """DNS expectations beyond the resolvers (the ``[dns]`` table).

    Attributes:
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

    expected_internal_addresses: tuple[str, ...] = ()
    expected_external_addresses: tuple[str, ...] = ()
    m365_verification: Mapping[str, str] = field(default_factory=dict)
    certificate_caa_domains: tuple[str, ...] = ()
    simulated_public_domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Thresholds:
    """Day and second limits; defaults are CHECKS.md's rules.

    Attributes (days unless said otherwise):
        token_signing_fail_days / token_signing_warn_days: token-signing.expiry (14 / 90).
        token_decrypting_fail_days / token_decrypting_warn_days: token-decrypting.expiry (14 / 90).
        rollover_warn_days: token-signing.rollover: warn when the primary has fewer days and no
            successor is published (AD FS CertificateGenerationThreshold, 20).
        tls_fail_days / tls_warn_days: tls.certificate-expiry (14 / 90).
        trust_certificate_warn_days: adfs.trust-certificates (30).
        clock_skew_warn_seconds / clock_skew_fail_seconds: 60 / 300 (Kerberos' default tolerance).
        latency_warn_ms: endpoints.latency (1500).
        min_rsa_bits: token-signing.key and tls.certificate-key (2048).
        update_warn_days / update_fail_days: adfs.update-age: the newest installed update on a
            server is older than this (60 / 180).
        os_support_warn_days: adfs.os-support warns this many days before a Windows Server
            version's end of extended support (180).
        mfa_certificate_warn_days: adfs.mfa-adapter-certificate (60).
        proxy_trust_warn_days: adfs.proxy-trust: the WAP proxy-trust certificate expires within this many
            days of the export (3; WAP issues it for two weeks and renews it itself, so a certificate
            this close to its end means renewal is failing).
    """

    token_signing_fail_days: int = 14
    token_signing_warn_days: int = 90
    token_decrypting_fail_days: int = 14
    token_decrypting_warn_days: int = 90
    rollover_warn_days: int = 20
    tls_fail_days: int = 14
    tls_warn_days: int = 90
    trust_certificate_warn_days: int = 30
    clock_skew_warn_seconds: int = 60
    clock_skew_fail_seconds: int = 300
    latency_warn_ms: int = 1500
    min_rsa_bits: int = 2048
    update_warn_days: int = 60
    update_fail_days: int = 180
    os_support_warn_days: int = 180
    mfa_certificate_warn_days: int = 60
    proxy_trust_warn_days: int = 3


@dataclass(frozen=True)
class Scope:
    """Which Microsoft 365 / AD FS features are in use; checks for a feature out of scope ``skip``."""

    certificate_authentication: bool = False
    device_registration: bool = False
    exchange_online: bool = True


@dataclass(frozen=True)
class Limits:
    """Caps on what the tool reads and writes (the ``[limits]`` table; docs/hardening.md). Hostile
    or damaged input is refused at these sizes with an error naming the cap and this key, instead of
    costing minutes and gigabytes.

    Attributes:
        max_input_bytes: the largest file read: AD FS and Entra exports, evidence snapshots, CA
            bundles, certificate and key files (64 MiB; 1 kB .. 4 GiB). Also ``--max-input-bytes``.
        max_export_items: the longest list an AD FS / Entra export or a snapshot may hold (relying
            party trusts, endpoints, certificates, ...; 20 000). A real farm has hundreds.
        max_pfx_iterations: the highest PKCS#12 MAC or key-derivation iteration count accepted in a
            PFX file before it is opened (600 000; Windows writes 2 000, OpenSSL 2 048).
        max_report_rows: findings of one check shown in the reports (HTML, JSON, text, JUnit,
            Markdown); the rest are counted there and all are in the CSV report (100).
    """

    max_input_bytes: int = 64 * 1024 * 1024
    max_export_items: int = 20_000
    max_pfx_iterations: int = 600_000
    max_report_rows: int = 100


#: Bounds of the ``[limits]`` keys: (minimum, maximum).
LIMIT_BOUNDS = {"max_input_bytes": (1024, 4 * 1024 ** 3), "max_export_items": (10, 10_000_000),
                "max_pfx_iterations": (1, 100_000_000), "max_report_rows": (1, 1_000_000)}


@dataclass(frozen=True)
class CloudConfig:
    """The Entra ID side (the ``[cloud]`` table; docs/cloud.md).

    Attributes:
        login_host: Microsoft's sign-in host for realm and OIDC discovery: login.microsoftonline.com
            (worldwide), login.microsoftonline.us (US Government), login.chinacloudapi.cn (China).
        login_address: connect the login host to this address (curl --resolve; tests and labs).
        federation_export: JSON written by ``Get-MgDomainFederationConfiguration -DomainId <d> |
            ConvertTo-Json -Depth 5`` (one or several domains).
        graph_host / graph_address: Microsoft Graph host (graph.microsoft.com,
            graph.microsoft.us, microsoftgraph.chinacloudapi.cn) and an optional pinned address.
        authority_host / authority_address: the token authority host (default: login_host).
        tenant_id / client_id: the app registration used for live Graph (client credentials).
        client_secret_env: environment variable holding the client secret.
        client_certificate: PEM file with the app's certificate and private key (instead of a
            secret).
        realm_discovery: ask the login host about each federated domain (cloud.realm-discovery,
            cloud.tenant); false = those checks skip (offline runs, labs without a login service).
    """

    login_host: str = "login.microsoftonline.com"
    login_address: HostPort | None = None
    federation_export: Path | None = None
    graph_host: str = "graph.microsoft.com"
    graph_address: HostPort | None = None
    authority_host: str | None = None
    authority_address: HostPort | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret_env: str = "ADFS_READINESS_GRAPH_SECRET"
    client_certificate: Path | None = None
    realm_discovery: bool = True

    @property
    def graph_configured(self) -> bool:
        """True when live Graph is configured (a tenant and an app id)."""
        return bool(self.tenant_id and self.client_id)


@dataclass(frozen=True)
class SignInTestConfig:
    """The dedicated test account of ``endpoints.sign-in-test`` (the ``[sign_in_test]`` table; off
    unless ``upn`` is set). The password is never read from the file: it comes from the
    environment variable ``password_env``, a prompt, or the OS keyring (service
    ``keyring_service``, user ``upn``).

    Attributes:
        upn: the test account's userPrincipalName (a synchronised, licensed-or-not user without MFA
            for WS-Trust, in a federated domain).
        password_source: "env", "prompt" or "keyring".
        password_env: the environment variable holding the password (password_source "env").
        keyring_service: the keyring service name (password_source "keyring").
        immutable_id: the ImmutableID Entra ID holds for the account (base64 of its source anchor);
            when set, the token's ImmutableID claim must equal it.
    """

    upn: str | None = None
    password_source: str = "env"
    password_env: str = "ADFS_READINESS_SIGNIN_PASSWORD"
    keyring_service: str = "adfs-readiness"
    immutable_id: str | None = None

    @property
    def configured(self) -> bool:
        """True when a test account is configured (the sign-in test runs)."""
        return bool(self.upn)


@dataclass(frozen=True)
class Config:
    """The frozen run configuration.

    Attributes:
        source: the file it came from ("<defaults>" when none).
        service_name: the federation service name (e.g. ``sts.contoso.com``).
        expected_issuer: the entityID / issuer URI; None = ``http://<service_name>/adfs/services/trust``.
        federated_domains: the Microsoft 365 domains federated (or to be federated) with AD FS.
        service_address: connect the federation service name to this address instead of resolving
            it (curl's --resolve): test one node behind a load balancer before DNS moves.
        farm_nodes / proxies: AD FS servers and WAP servers, each probed with SNI and Host = the
            federation service name.
        internal_resolvers / external_resolvers: DNS servers of each view (IP addresses).
        dns: DNS expectations (expected addresses per view, verification values, CAA issuers).
        directory: the LDAP connection.
        thresholds: day and second limits.
        scope: features in use.
        skip_checks: check ids (or ``area.*``) not to run; they are reported as ``skip``.
        ca_bundle: extra CA certificates (PEM) trusted for HTTPS in addition to the system store.
        metadata_source: a file path or URL to read federation metadata from instead of the live
            service.
        timeout_seconds: per network operation (connect, read, one DNS query); 0.1 .. 3600 in a file.
        deadline_seconds: the whole run; 1 .. 86400 in a file.
        max_download_bytes: cap on any HTTP body read; 1024 .. 1 GiB in a file.
        allow_link_local: connect to link-local and cloud metadata addresses too (169.254.0.0/16,
            fe80::/10, fd00:ec2::254, ...); refused by default (net/policy.py).
        external_ca_bundle: CA certificates (PEM) treated as publicly trusted in the external TLS
            view, in addition to the system store and certifi (a lab, or a service used only by
            managed devices that all trust this CA). None = only public roots.
        certauth_port: the port AD FS serves certificate authentication on (49443) when
            ``scope.certificate_authentication`` is set.
        certificate_file: a certificate (PEM, DER or PFX/PKCS#12) to judge before deployment
            (``check --certificate FILE``).
        certificate_password: the PFX password (from an environment variable or a prompt; never
            from the file or the command line; never shown).
        history_path / history_enabled: the run history database (None = the default in the
            user data folder) and whether runs are recorded (``[history]``, see history.py).
        suppressions_file: accepted risks (``[suppressions] file``, see suppressions.py).
        adfs_export: the AD FS server exports (``--adfs-export``, repeatable, or ``[adfs] export``):
            one path or several; a folder stands for every ``*.json`` in it. Read it through
            :attr:`adfs_export_paths`.
        adfs_source_anchor: the sourceAnchor Entra Connect uses ("ms-DS-ConsistencyGuid" or
            "objectGUID"; ``[adfs] source_anchor``); None = inferred (adfs.o365-claim-rules).
        adfs_upn_attribute: the AD attribute Entra Connect syncs as userPrincipalName
            (``[adfs] upn_attribute``, default userPrincipalName; another one = alternate login ID).
        sign_in_test: the test account of endpoints.sign-in-test (``[sign_in_test]``; its password
            is resolved by the probe, never held here).
        limits: caps on input and output sizes (``[limits]``, :class:`Limits`).
    """

    source: str = "<defaults>"
    service_name: str | None = None
    expected_issuer: str | None = None
    federated_domains: tuple[str, ...] = ()
    service_address: HostPort | None = None
    farm_nodes: tuple[HostPort, ...] = ()
    proxies: tuple[HostPort, ...] = ()
    internal_resolvers: tuple[HostPort, ...] = ()
    external_resolvers: tuple[HostPort, ...] = ()
    dns: DnsConfig = field(default_factory=DnsConfig)
    directory: DirectoryConfig = field(default_factory=DirectoryConfig)
    thresholds: Thresholds = field(default_factory=Thresholds)
    scope: Scope = field(default_factory=Scope)
    skip_checks: tuple[str, ...] = ()
    ca_bundle: Path | None = None
    metadata_source: str | None = None
    timeout_seconds: float = 10.0
    deadline_seconds: float = 120.0
    max_download_bytes: int = 10 * 1024 * 1024
    allow_link_local: bool = False
    external_ca_bundle: Path | None = None
    certauth_port: int = 49443
    certificate_file: Path | None = None
    certificate_password: str | None = field(default=None, repr=False, compare=False)
    history_path: Path | None = None
    history_enabled: bool = True
    suppressions_file: Path | None = None
    cloud: CloudConfig = field(default_factory=CloudConfig)
    adfs_export: Path | tuple[Path, ...] | None = None
    adfs_source_anchor: str | None = None
    adfs_upn_attribute: str = "userPrincipalName"
    sign_in_test: SignInTestConfig = field(default_factory=SignInTestConfig)
    endpoint_probe_urls: tuple[str, ...] = ()
    latency_samples: int = 3
    limits: Limits = field(default_factory=Limits)

    @property
    def issuer(self) -> str | None:
        """The expected entityID: the configured one, or AD FS's default for the service name."""
        if self.expected_issuer:
            return self.expected_issuer
        if self.service_name:
            return f"http://{self.service_name}/adfs/services/trust"
        return None

    @property
    def adfs_export_paths(self) -> tuple[Path, ...]:
        """The AD FS export files or folders given, in order (empty when none)."""
        if self.adfs_export is None:
            return ()
        return (self.adfs_export,) if isinstance(self.adfs_export, Path) else tuple(self.adfs_export)

    @property
    def metadata_url(self) -> str | None:
        """Where AD FS publishes its federation metadata (the URL Entra polls)."""
        if not self.service_name:
            return None
        return f"https://{self.service_name}/FederationMetadata/2007-06/FederationMetadata.xml"

    def is_skipped(self, check_id: str) -> bool:
        """True when ``check_id`` is listed in skip_checks directly or by its ``area.*``."""
        area = check_id.split(".", 1)[0]
        return check_id in self.skip_checks or f"{area}.*" in self.skip_checks

    def with_overrides(self, **changes: Any) -> "Config":
        """A copy with the given top-level fields replaced (CLI flags override the file)."""
        return replace(self, **changes)


# --- loading ---------------------------------------------------------------------------------

_TOP_LEVEL = {"federation", "dns", "directory", "thresholds", "scope", "checks", "network", "tls"}
_TOP_LEVEL |= {"history", "suppressions"}
_TOP_LEVEL |= {"cloud", "adfs", "endpoints", "sign_in_test"}
_TOP_LEVEL |= {"limits"}


class _Reader:
    """Reads typed values out of a TOML table, raising ConfigError with the dotted key."""

    def __init__(self, source: str, table: Mapping[str, Any], prefix: str) -> None:
        self.source, self.table, self.prefix = source, table, prefix
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, value: Any, expected: str) -> ConfigError:
        return ConfigError(self.source, self.key(name), value, expected)

    def get(self, name: str, kind: type | tuple[type, ...], expected: str, default: Any = None) -> Any:
        self.used.add(name)
        if name not in self.table:
            return default
        value = self.table[name]
        # bool is a subclass of int: refuse it where a number is expected.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise self.error(name, value, expected)
        return value

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name, str, "a string", default)
        return value if value != "" else default

    def boolean(self, name: str, default: bool) -> bool:
        return self.get(name, bool, "true or false", default)

    def number(self, name: str, default: float, minimum: float, integer: bool = False,
               maximum: float | None = None) -> Any:
        kind = int if integer else (int, float)
        what = "a whole number" if integer else "a finite number"
        expected = f"{what} >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        value = self.get(name, kind, expected, default)
        # TOML has inf and nan; nan compares False with everything, so test finiteness first.
        if not math.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
            raise self.error(name, value, expected)
        return value

    def string_list(self, name: str) -> tuple[str, ...]:
        value = self.get(name, list, "a list of strings, e.g. [\"a\", \"b\"]", [])
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise self.error(name, value, "a list of non-empty strings")
        return tuple(item.strip() for item in value)

    def addresses(self, name: str, default_port: int, require_ip: bool, what: str) -> tuple[HostPort, ...]:
        result = []
        for item in self.string_list(name):
            try:
                result.append(parse_host_port(item, default_port, require_ip=require_ip))
            except ValueError as exc:
                raise self.error(name, item, f"{what} ({exc})") from None
        return tuple(result)

    def reject_unknown(self) -> None:
        for name in self.table:
            if name not in self.used:
                raise self.error(name, self.table[name], f"a known key of [{self.prefix}] "
                                 f"(one of: {', '.join(sorted(self.used))})")


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _table(source: str, data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(source, name, value, f"a table ([{name}])")
    return value


def load_config(path: Path) -> Config:
    """Read a TOML config file into a Config.

    Raises ConfigError when the file cannot be read, is not valid TOML (with line and column), or
    has a key with a bad value or an unknown key.
    """
    source = str(path)
    try:
        # Fixed cap: a configuration file cannot raise the cap of its own reading.
        raw = read_capped(path, CONFIG_FILE_MAX_BYTES, setting=None)
    except OSError as exc:
        raise ConfigError(source, "(file)", str(path), f"a readable file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(source, "(file)", "<binary>", "UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "(syntax)", str(exc), "valid TOML (see the example from "
                          "'adfs-readiness init')") from None
    return config_from_mapping(data, source=source, base_dir=path.parent)


def config_from_mapping(data: Mapping[str, Any], source: str = "<defaults>",
                        base_dir: Path | None = None) -> Config:
    """Build a Config from parsed TOML (a mapping of tables). Relative paths are taken relative to
    ``base_dir`` (the config file's folder). Raises ConfigError as load_config does."""
    for name in data:
        if name not in _TOP_LEVEL:
            raise ConfigError(source, name, data[name], f"one of the tables {sorted(_TOP_LEVEL)}")

    def path_of(reader: _Reader, name: str) -> Path | None:
        text = reader.string(name)
        if text is None:
            return None
        p = Path(text).expanduser()
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        return p

    fed = _Reader(source, _table(source, data, "federation"), "federation")
    service_name = fed.string("service_name")
    if service_name is not None:
        service_name = service_name.strip().rstrip(".").lower()
        if not _is_hostname(service_name) or "." not in service_name:
            raise fed.error("service_name", service_name,
                            "a fully qualified host name such as sts.contoso.com (no scheme, no path)")
    domains = tuple(d.lower().rstrip(".") for d in fed.string_list("domains"))
    for d in domains:
        if not _is_hostname(d) or "." not in d:
            raise fed.error("domains", d, "DNS domain names such as contoso.com")
    service_address = None
    address_text = fed.string("service_address")
    if address_text is not None:
        try:
            service_address = parse_host_port(address_text, 443)
        except ValueError as exc:
            raise fed.error("service_address", address_text, f"host[:port] ({exc})") from None
    issuer = fed.string("expected_issuer")
    metadata_source = fed.string("metadata")
    nodes = fed.addresses("farm_nodes", 443, False, "host[:port]")
    proxies = fed.addresses("proxies", 443, False, "host[:port]")
    fed.reject_unknown()

    dns = _Reader(source, _table(source, data, "dns"), "dns")
    internal = dns.addresses("internal_resolvers", 53, True, "ip[:port] of a DNS server")
    external = dns.addresses("external_resolvers", 53, True, "ip[:port] of a DNS server")
    dns_config = _dns_config(dns)
    dns.reject_unknown()

    dtab = _table(source, data, "directory")
    if "password" in dtab:
        raise ConfigError(source, "directory.password", "<hidden>",
                          "no password in the file: set password_env (an environment variable), "
                          "or password_source = \"prompt\" or \"keyring\"")
    d = _Reader(source, dtab, "directory")
    server = d.string("server")
    if server is not None and not re.match(r"^ldaps?://[^/\s]+/?$", server, re.I):
        raise d.error("server", server, "an LDAP URL such as ldaps://dc1.corp.contoso.com or ldap://10.0.0.4:389")
    auth = d.string("auth", "simple")
    if auth not in ("simple", "ntlm", "kerberos"):
        raise d.error("auth", auth, '"simple", "ntlm" or "kerberos"')
    password_source = d.string("password_source", "env")
    if password_source not in ("env", "prompt", "keyring"):
        raise d.error("password_source", password_source, '"env", "prompt" or "keyring"')
    directory = DirectoryConfig(
        server=server,
        base_dn=d.string("base_dn"),
        bind_user=d.string("bind_user"),
        auth=auth,
        start_tls=d.boolean("start_tls", False),
        password_env=d.string("password_env", DirectoryConfig.password_env),
        password_source=password_source,
        keyring_service=d.string("keyring_service", DirectoryConfig.keyring_service),
        ca_bundle=path_of(d, "ca_bundle"),
        service_account=d.string("service_account"),
        ad_domain=_domain_name(d, "ad_domain"),
        forest_root=_domain_name(d, "forest_root"),
        csv_dir=path_of(d, "csv_dir"),
        adfs_version=d.string("adfs_version"),
    )
    if directory.adfs_version not in (None, "2012r2", "2016", "2019", "2022", "2025"):
        raise d.error("adfs_version", directory.adfs_version, '"2012r2", "2016", "2019", "2022" or "2025"')
    d.reject_unknown()

    t = _Reader(source, _table(source, data, "thresholds"), "thresholds")
    threshold_values = {f.name: t.number(f.name, f.default, 0, integer=True) for f in fields(Thresholds)}
    t.reject_unknown()
    thresholds = Thresholds(**threshold_values)
    for low, high in (("token_signing_fail_days", "token_signing_warn_days"),
                      ("token_decrypting_fail_days", "token_decrypting_warn_days"),
                      ("tls_fail_days", "tls_warn_days"),
                      ("clock_skew_warn_seconds", "clock_skew_fail_seconds"),
                      ("update_warn_days", "update_fail_days")):
        if getattr(thresholds, low) > getattr(thresholds, high):
            raise t.error(low, getattr(thresholds, low), f"a value not above thresholds.{high} "
                          f"({getattr(thresholds, high)})")

    s = _Reader(source, _table(source, data, "scope"), "scope")
    scope = Scope(**{f.name: s.boolean(f.name, f.default) for f in fields(Scope)})
    s.reject_unknown()

    c = _Reader(source, _table(source, data, "checks"), "checks")
    skip = c.string_list("skip")
    for item in skip:
        if not re.match(r"^[a-z0-9-]+\.([a-z0-9-]+|\*)$", item):
            raise c.error("skip", item, "check ids such as \"metadata.signature\" or an area such as \"dns.*\"")
    c.reject_unknown()

    n = _Reader(source, _table(source, data, "network"), "network")
    timeout = float(n.number("timeout_seconds", Config.timeout_seconds, 0.1, maximum=MAX_TIMEOUT_SECONDS))
    deadline = float(n.number("deadline_seconds", Config.deadline_seconds, 1, maximum=MAX_DEADLINE_SECONDS))
    max_bytes = n.number("max_download_bytes", Config.max_download_bytes, 1024, integer=True,
                         maximum=MAX_DOWNLOAD_BYTES)
    allow_link_local = n.boolean("allow_link_local", Config.allow_link_local)
    n.reject_unknown()

    tls = _Reader(source, _table(source, data, "tls"), "tls")
    ca_bundle = path_of(tls, "ca_bundle")
    external_ca_bundle = path_of(tls, "external_ca_bundle")
    certauth_port = tls.number("certauth_port", Config.certauth_port, 1, integer=True)
    tls.reject_unknown()
    if certauth_port > 65535:
        raise tls.error("certauth_port", certauth_port, "a port number from 1 to 65535")
    for key, bundle in (("ca_bundle", ca_bundle), ("external_ca_bundle", external_ca_bundle)):
        if bundle is not None and not bundle.is_file():
            raise ConfigError(source, f"tls.{key}", str(bundle), "an existing PEM file of CA certificates")

    hist = _Reader(source, _table(source, data, "history"), "history")
    history_path = path_of(hist, "path")
    history_enabled = hist.boolean("enabled", True)
    hist.reject_unknown()
    sup = _Reader(source, _table(source, data, "suppressions"), "suppressions")
    suppressions_file = path_of(sup, "file")
    sup.reject_unknown()
    if suppressions_file is not None and not suppressions_file.is_file():
        raise ConfigError(source, "suppressions.file", str(suppressions_file), "an existing suppressions file (TOML)")

    cloud, adfs, probe_urls, latency_samples = _cloud_adfs_endpoints(source, data, path_of)

    lim = _Reader(source, _table(source, data, "limits"), "limits")
    limits = Limits(**{name: lim.number(name, getattr(Limits, name), low, integer=True, maximum=high)
                       for name, (low, high) in LIMIT_BOUNDS.items()})
    lim.reject_unknown()

    return Config(
        limits=limits,
        cloud=cloud,
        adfs_export=adfs["export"],
        adfs_source_anchor=adfs["source_anchor"],
        adfs_upn_attribute=adfs["upn_attribute"],
        sign_in_test=_sign_in_test(source, data),
        endpoint_probe_urls=probe_urls,
        latency_samples=latency_samples,
        source=source,
        service_name=service_name,
        expected_issuer=issuer,
        federated_domains=domains,
        service_address=service_address,
        farm_nodes=nodes,
        proxies=proxies,
        internal_resolvers=internal,
        external_resolvers=external,
        dns=dns_config,
        directory=directory,
        thresholds=thresholds,
        scope=scope,
        skip_checks=skip,
        ca_bundle=ca_bundle,
        metadata_source=metadata_source,
        timeout_seconds=timeout,
        deadline_seconds=deadline,
        max_download_bytes=max_bytes,
        allow_link_local=allow_link_local,
        external_ca_bundle=external_ca_bundle,
        certauth_port=certauth_port,
        history_path=history_path,
        history_enabled=history_enabled,
        suppressions_file=suppressions_file,
    )


def _cloud_adfs_endpoints(source: str, data: Mapping[str, Any], path_of: Any) -> tuple:
    """The [cloud], [adfs] and [endpoints] tables (docs/cloud.md, docs/endpoints.md)."""
    c = _Reader(source, _table(source, data, "cloud"), "cloud")

    def host(name: str, default: str | None) -> str | None:
        value = c.string(name, default)
        if value is not None and (not _is_hostname(value) or "." not in value):
            raise c.error(name, value, "a host name such as login.microsoftonline.com (no scheme, no path)")
        return value.lower() if value else value

    def pinned(name: str) -> HostPort | None:
        text = c.string(name)
        if text is None:
            return None
        try:
            return parse_host_port(text, 443)
        except ValueError as exc:
            raise c.error(name, text, f"host[:port] ({exc})") from None

    cloud = CloudConfig(
        login_host=host("login_host", CloudConfig.login_host) or CloudConfig.login_host,
        login_address=pinned("login_address"),
        federation_export=path_of(c, "federation_export"),
        graph_host=host("graph_host", CloudConfig.graph_host) or CloudConfig.graph_host,
        graph_address=pinned("graph_address"),
        authority_host=host("authority_host", None),
        authority_address=pinned("authority_address"),
        tenant_id=c.string("tenant_id"),
        client_id=c.string("client_id"),
        client_secret_env=c.string("client_secret_env", CloudConfig.client_secret_env),
        client_certificate=path_of(c, "client_certificate"),
        realm_discovery=c.boolean("realm_discovery", True),
    )
    if "client_secret" in c.table:
        raise ConfigError(source, "cloud.client_secret", "<hidden>",
                          "no secret in the file: put it in the environment variable named by client_secret_env")
    c.reject_unknown()
    a = _Reader(source, _table(source, data, "adfs"), "adfs")
    exports = a.table.get("export")
    if isinstance(exports, list):
        paths = []
        for item in a.string_list("export"):
            reader = _Reader(source, {"export": item}, "adfs")
            paths.append(path_of(reader, "export"))
        adfs_export: Any = tuple(paths) or None
    else:
        adfs_export = path_of(a, "export")
    source_anchor = a.string("source_anchor")
    if source_anchor is not None:
        known = {"ms-ds-consistencyguid": "ms-DS-ConsistencyGuid", "objectguid": "objectGUID"}
        if source_anchor.lower() not in known:
            raise a.error("source_anchor", source_anchor, '"ms-DS-ConsistencyGuid" or "objectGUID" (what Entra '
                                                          'Connect uses as sourceAnchor)')
        source_anchor = known[source_anchor.lower()]
    upn_attribute = a.string("upn_attribute", "userPrincipalName") or "userPrincipalName"
    if not re.match(r"^[A-Za-z][A-Za-z0-9-]*$", upn_attribute):
        raise a.error("upn_attribute", upn_attribute, "an AD attribute name such as userPrincipalName or mail")
    a.reject_unknown()
    adfs = {"export": adfs_export, "source_anchor": source_anchor, "upn_attribute": upn_attribute}
    e = _Reader(source, _table(source, data, "endpoints"), "endpoints")
    probe_urls = e.string_list("probe_urls")
    for url in probe_urls:
        if not re.match(r"^https?://[^/\s]+/", url):
            raise e.error("probe_urls", url, "URLs such as http://adfs1.corp.contoso.com/adfs/probe")
    samples = e.number("latency_samples", Config.latency_samples, 1, integer=True)
    e.reject_unknown()
    return cloud, adfs, probe_urls, samples


_UPN = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _sign_in_test(source: str, data: Mapping[str, Any]) -> SignInTestConfig:
    """The [sign_in_test] table: the test account of endpoints.sign-in-test (no password here)."""
    table = _table(source, data, "sign_in_test")
    if "password" in table:
        raise ConfigError(source, "sign_in_test.password", "<hidden>",
                          "no password in the file: set password_env (an environment variable), "
                          "or password_source = \"prompt\" or \"keyring\"")
    r = _Reader(source, table, "sign_in_test")
    upn = r.string("upn")
    if upn is not None and not _UPN.match(upn.strip()):
        raise r.error("upn", upn, "a user principal name such as sso-test@contoso.com")
    password_source = r.string("password_source", "env")
    if password_source not in ("env", "prompt", "keyring"):
        raise r.error("password_source", password_source, '"env", "prompt" or "keyring"')
    immutable_id = r.string("immutable_id")
    config = SignInTestConfig(upn=upn.strip() if upn else None, password_source=password_source or "env",
                              password_env=r.string("password_env", SignInTestConfig.password_env)
                              or SignInTestConfig.password_env,
                              keyring_service=r.string("keyring_service", SignInTestConfig.keyring_service)
                              or SignInTestConfig.keyring_service,
                              immutable_id=immutable_id.strip() if immutable_id else None)
    r.reject_unknown()
    return config


def _domain_name(reader: _Reader, name: str) -> str | None:
    value = reader.string(name)
    if value is None:
        return None
    value = value.strip().rstrip(".").lower()
    if not _is_hostname(value) or "." not in value:
        raise reader.error(name, value, "a DNS domain name such as corp.contoso.com")
    return value


def _dns_config(reader: _Reader) -> DnsConfig:
    def ips(name: str) -> tuple[str, ...]:
        values = reader.string_list(name)
        for item in values:
            try:
                ipaddress.ip_address(item)
            except ValueError:
                raise reader.error(name, item, "IP addresses such as \"203.0.113.10\" or \"2001:db8::10\"") from None
        return tuple(str(ipaddress.ip_address(v)) for v in values)

    verification = reader.get("m365_verification", dict, "a table of domain = \"MS=ms...\"", {})
    for domain, value in verification.items():
        if not isinstance(value, str) or not re.match(r"^MS=ms\d+$", value.strip()):
            raise reader.error(f"m365_verification.{domain}", value, "the TXT value Microsoft 365 shows, "
                               "such as \"MS=ms12345678\"")
    caa = tuple(d.lower().rstrip(".") for d in reader.string_list("certificate_caa_domains"))
    for d in caa:
        if not _is_hostname(d):
            raise reader.error("certificate_caa_domains", d, "CAA issuer domain names such as digicert.com")
    return DnsConfig(
        expected_internal_addresses=ips("expected_internal_addresses"),
        expected_external_addresses=ips("expected_external_addresses"),
        m365_verification={k.lower().rstrip("."): v.strip() for k, v in verification.items()},
        certificate_caa_domains=caa,
        simulated_public_domains=tuple(d.lower().rstrip(".") for d in reader.string_list("simulated_public_domains")),
    )



EXAMPLE_CONFIG = '''\
# adfs-readiness configuration (TOML). Every key is optional unless said otherwise;
# command-line flags override what is set here. Written by `adfs-readiness init`.

[federation]
# The federation service name: the host name in https://<name>/adfs/ls/ (required for live checks).
service_name = "sts.contoso.com"
# The Microsoft 365 / Entra ID domains federated (or about to be federated) with this service.
domains = ["contoso.com"]
# The expected entityID / issuer URI. Default: http://<service_name>/adfs/services/trust
# expected_issuer = "http://sts.contoso.com/adfs/services/trust"
# Connect the federation service name to this address instead of resolving it (like curl --resolve):
# test one node behind a load balancer before DNS moves. host[:port], default port 443.
# service_address = "10.0.0.10:443"
# AD FS farm nodes and Web Application Proxy servers, host[:port]. Each is probed with
# SNI and Host = the federation service name.
farm_nodes = []          # e.g. ["adfs1.corp.contoso.com", "10.0.0.11:443"]
proxies = []             # e.g. ["203.0.113.10", "wap1.dmz.contoso.com:443"]
# Read federation metadata from a file or URL instead of the live service.
# metadata = "FederationMetadata.xml"

[dns]
# DNS servers of each view, ip[:port]. Empty = the system resolver (the report says so).
internal_resolvers = []  # e.g. ["10.0.0.1"]
external_resolvers = []  # e.g. ["1.1.1.1", "9.9.9.9:53"]
# What the federation service name should resolve to in each view (dns.split-brain).
# Empty = the IP addresses among federation.farm_nodes (internal) and federation.proxies (external).
# expected_internal_addresses = ["10.0.0.10"]
# expected_external_addresses = ["203.0.113.10"]
# CAA issuer domains of the CA that issued the SSL certificate, when dns.caa does not know the CA.
# certificate_caa_domains = ["pki.contoso.com"]
# The MS=ms... TXT value Microsoft 365 gave for each domain (dns.m365-verification).
# [dns.m365_verification]
# "contoso.com" = "MS=ms12345678"

[directory]
# Active Directory over LDAP, read-only. Empty server = find DCs from the AD SRV records.
# server = "ldaps://dc1.corp.contoso.com"
# base_dn = "DC=corp,DC=contoso,DC=com"   # default: the RootDSE's defaultNamingContext
# bind_user = "CORP\\\\svc-readiness"
# auth = "simple"                          # "simple", "ntlm" or "kerberos"
# start_tls = false
# The password is never stored here. It comes from an environment variable, a prompt or the keyring:
password_source = "env"                    # "env", "prompt" or "keyring"
password_env = "ADFS_READINESS_LDAP_PASSWORD"
# keyring_service = "adfs-readiness"
# ca_bundle = "corp-root-ca.pem"           # CA for LDAPS / StartTLS
# service_account = "gmsa-adfs$"           # the AD FS service account (sAMAccountName)
# ad_domain = "corp.contoso.com"           # AD DNS domain for dns.ad-srv (default: from base_dn)
# forest_root = "contoso.com"              # forest root for _gc._tcp (default: ad_domain)
# adfs_version = "2019"                    # AD FS version targeted: 2016+ wants schema objectVersion >= 85
# csv_dir = "directory-report"             # every object-level problem as CSV (also --csv-dir)

[thresholds]
# Days before expiry (fail below the first, warn below the second).
token_signing_fail_days = 14
token_signing_warn_days = 90
token_decrypting_fail_days = 14
token_decrypting_warn_days = 90
# Warn when the primary token-signing certificate has fewer days than this and no successor is
# published (AD FS CertificateGenerationThreshold).
rollover_warn_days = 20
tls_fail_days = 14
tls_warn_days = 90
trust_certificate_warn_days = 30
clock_skew_warn_seconds = 60
clock_skew_fail_seconds = 300
latency_warn_ms = 1500
min_rsa_bits = 2048
# AD FS server exports: newest installed update older than (warn / fail), Windows Server end of
# support within, Azure MFA adapter certificate and WAP proxy-trust certificate days left.
update_warn_days = 60
update_fail_days = 180
os_support_warn_days = 180
mfa_certificate_warn_days = 60
proxy_trust_warn_days = 3

[scope]
# Features in use; checks for features not in use report "skip".
certificate_authentication = false
device_registration = false
exchange_online = true

[checks]
# Check ids (or whole areas as "area.*") not to run; they are reported as skipped.
skip = []                # e.g. ["metadata.claims-offered", "dns.*"]

[network]
timeout_seconds = 10     # per connection / read / DNS query
deadline_seconds = 120   # the whole run
max_download_bytes = 10485760
# allow_link_local = false  # true: also connect to link-local / cloud metadata addresses (169.254.x.x)

[tls]
# Extra CA certificates (PEM) to trust in addition to the system store, e.g. an enterprise root CA.
# ca_bundle = "corp-root-ca.pem"
# CA certificates to count as publicly trusted in the external view (default: only the system store
# and certifi). Set it only when every external client trusts this CA (managed devices, a lab).
# external_ca_bundle = "lab-root-ca.pem"
# The certificate-authentication port probed when scope.certificate_authentication is true.
# certauth_port = 49443

[history]
# Every run is recorded (SQLite) so reports can say what changed since the last run.
# Default path: the user data folder (see `adfs-readiness history list`).
enabled = true
# path = "/var/lib/adfs-readiness/history.sqlite3"

[endpoints]
# /adfs/probe URLs (HTTP) for the load balancer health probe. Default: http://<node or proxy>/adfs/probe
# probe_urls = ["http://adfs1.corp.contoso.com/adfs/probe"]
# latency_samples = 3    # requests per place for endpoints.latency (the median is judged)

[cloud]
# Microsoft's sign-in host for realm discovery: login.microsoftonline.com (worldwide),
# login.microsoftonline.us (US Government), login.chinacloudapi.cn (China, 21Vianet).
# login_host = "login.microsoftonline.com"
# realm_discovery = true   # false: do not ask the login host (cloud.realm-discovery and cloud.tenant skip)
# Entra federation settings exported with Microsoft Graph PowerShell (docs/cloud.md):
# federation_export = "entra-federation.json"
# ...or read live from Microsoft Graph with an app registration (Domain.Read.All):
# tenant_id = "00000000-0000-0000-0000-000000000000"
# client_id = "00000000-0000-0000-0000-000000000000"
# client_secret_env = "ADFS_READINESS_GRAPH_SECRET"   # or client_certificate = "app.pem"
# graph_host = "graph.microsoft.com"

[adfs]
# The JSON written on each AD FS server and each Web Application Proxy by the bundled collector
# (adfs-readiness collector > collect-adfs.ps1): one file, a list of files, or a folder of them.
# export = ["adfs1.json", "adfs2.json", "wap1.json"]
# The sourceAnchor Entra Connect uses: "ms-DS-ConsistencyGuid" (its default since 2017) or "objectGUID".
# Default: inferred from the directory (adfs.o365-claim-rules).
# source_anchor = "ms-DS-ConsistencyGuid"
# upn_attribute = "userPrincipalName"   # the attribute Entra Connect syncs as the UPN

[sign_in_test]
# endpoints.sign-in-test: a real WS-Trust sign-in through the proxy, as Microsoft 365 rich clients do.
# Off unless upn is set. Use a dedicated account without MFA; its password is never stored here.
# upn = "sso-test@contoso.com"
# password_source = "env"                  # "env", "prompt" or "keyring"
# password_env = "ADFS_READINESS_SIGNIN_PASSWORD"
# immutable_id = "base64 of the account's source anchor"   # optional: the token must carry it

[limits]
# Caps on hostile or damaged input and on report size (docs/hardening.md). Raise one only for a
# file you trust that is really that big.
# max_input_bytes = 67108864      # largest export, snapshot, CA bundle or key file read (64 MiB)
# max_export_items = 20000        # longest list in an AD FS / Entra export or a snapshot
# max_pfx_iterations = 600000     # highest PKCS#12 MAC / key-derivation iteration count in a PFX
# max_report_rows = 100           # findings per check in the reports; the CSV report has them all

[suppressions]
# Accepted risks: findings that stay visible, marked, but do not lower the grade (docs/scheduling.md).
# file = "accepted-risks.toml"
'''
