"""The directory probe: one read-only LDAP session that gathers the ``directory`` fact.

Order: password -> server (configured, or from the AD SRV records) -> bind -> RootDSE (read by
hand, with the local clock around it) -> forest configuration (uPNSuffixes, domain names,
MaxPageSize, schema version, KDS root keys) -> domain (password policy, DCs, service account,
gMSAs, AZUREADSSOACC, privileged groups with ranged member retrieval) -> the Global Catalog for
forest-wide SPN holders -> the streamed attribute scan of users, contacts and groups.

The account readers (service account, gMSAs, KDS keys, privileged groups, SPN holders) are in
:mod:`adfs_readiness.probes.directory_accounts`. A section that cannot be read is recorded in
``section_errors`` (its checks report ``error``);
a bind that fails is a fact too (directory.connect judges it). Nothing is ever written: every
connection is ``read_only=True``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import warnings

import dns.resolver

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names pyasn1 has deprecated (tagMap, typeMap): not ours to fix, and it must
    # not break a run under -W error.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import SUBTREE, Connection

from adfs_readiness.config import Config, DirectoryConfig
from adfs_readiness.facts.directory import (
    DIRECTORY_SECTIONS,
    BindResult,
    DirectoryConnection,
    DirectoryFacts,
    DomainController,
    RootDse,
    ScanResult,
)
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes.directory_accounts import read_account, read_kds, read_names, read_privileged, read_spns
from adfs_readiness.probes.directory_rules import SCAN_ATTRIBUTES, AttributeScanner, open_csv
from adfs_readiness.probes.ldap_connect import (
    LdapTarget,
    connect,
    discover_domain_controllers,
    parse_ldap_url,
    resolve_password,
)
from adfs_readiness.probes.ldap_decode import parse_generalized_time, parse_int, sid_from_bytes, text
from adfs_readiness.probes.ldap_search import (
    DEFAULT_PAGE_SIZE,
    SearchStatus,
    eq_filter,
    paged_search,
    read_entry,
)

__all__ = ["probe_directory", "gather_directory", "make_resolver"]

_SCAN_FILTER = "(|(objectCategory=person)(objectCategory=group))"


def probe_directory(ctx: ProbeContext) -> DirectoryFacts:
    """ProbeSpec entry point: :func:`gather_directory` with the run's config, the system clock
    for the skew measurement, the internal resolvers and the probe's deadline."""
    timeout = max(1.0, min(ctx.config.timeout_seconds, ctx.remaining()))
    return gather_directory(ctx.config, timeout=timeout, resolver=make_resolver(ctx.config, timeout),
                            progress=sys.stderr.isatty())


def make_resolver(config: Config, timeout: float) -> dns.resolver.Resolver:
    """A resolver for DC discovery: the configured internal resolvers, else the system's."""
    if config.internal_resolvers:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [hp.host for hp in config.internal_resolvers]
        resolver.port = config.internal_resolvers[0].port
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = resolver.lifetime = timeout
    return resolver


def _system_clock() -> datetime:
    return datetime.now(timezone.utc)


def gather_directory(config: Config, *, timeout: float = 10.0, resolver: Any = None,
                     clock: Callable[[], datetime] = _system_clock, password: str | None = None,
                     environ: Mapping[str, str] | None = None, page_size: int = DEFAULT_PAGE_SIZE,
                     size_limit: int = 0, range_step: int = 1500, progress: bool = False) -> DirectoryFacts:
    """Gather the directory fact. Never raises for directory trouble (it is data in the fact).

    Args:
        config: the run configuration (``config.directory`` says how to connect).
        timeout: seconds per network operation.
        resolver: a dns.resolver.Resolver for DC discovery and DC names (None = system resolver).
        clock: the local clock for the DC clock-skew measurement (aware UTC datetimes).
        password: the bind password (None = from ``config.directory.password_source``).
        page_size: paged-search page size (capped at the server's MaxPageSize).
        size_limit: ask the server to stop the scan after this many entries (0 = no limit); a cut
            scan is marked partial.
        range_step: values per range-retrieval request for group members.
        progress: show a progress bar on stderr when the scan runs longer than a few seconds.
    """
    cfg = config.directory
    if not (cfg.server or cfg.bind_user or cfg.base_dn):
        return DirectoryFacts(configured=False, connection=DirectoryConnection(
            server=None, transport="none", auth=cfg.auth, result=BindResult.NOT_CONFIGURED,
            reason="no [directory] server, bind_user or base_dn configured"))
    if password is None and cfg.bind_user and cfg.auth != "kerberos":
        password, why = resolve_password(cfg, environ=dict(environ) if environ is not None else None)
        if password is None:
            return DirectoryFacts(configured=True, connection=DirectoryConnection(
                server=cfg.server, transport="ldaps" if (cfg.server or "").startswith("ldaps") else "plain",
                auth=cfg.auth, result=BindResult.NO_PASSWORD, reason=why, bind_user=cfg.bind_user))
    conn, connection, target = _connect_any(cfg, password, timeout, resolver)
    if conn is None:
        return DirectoryFacts(configured=True, connection=connection)
    try:
        return _read_all(conn, connection, target, config, password, timeout, clock, page_size, size_limit,
                         range_step, progress)
    finally:
        conn.unbind()


def _targets(cfg: DirectoryConfig, resolver: Any) -> tuple[list[tuple[LdapTarget, str | None]], str | None, str | None]:
    """[(target, address to connect to)], the SRV name used, and an error."""
    if cfg.server:
        # A configured DC name is resolved through the run's (internal) resolver when one is
        # given; the certificate is still checked against the name.
        target = parse_ldap_url(cfg.server)
        return [(target, _resolve_a(resolver, target.host))], None, None
    domain = _domain_of(cfg)
    if not domain:
        return [], None, "no server configured and no AD domain to look up (set directory.server or a UPN bind_user)"
    srv = f"_ldap._tcp.dc._msdcs.{domain}"
    if resolver is None:
        resolver = dns.resolver.Resolver()
    try:
        found = discover_domain_controllers(domain, resolver)
    except Exception as exc:  # NXDOMAIN, NoAnswer, timeouts: all mean "no DC found this way"
        return [], srv, f"no domain controller found: SRV {srv} failed ({type(exc).__name__}: {exc})"
    out = []
    for host, port in found:
        address = _resolve_a(resolver, host)
        if cfg.start_tls:
            out.append((LdapTarget(host, port, False, f"ldap://{host}:{port}"), address))
        else:
            out.append((LdapTarget(host, 636, True, f"ldaps://{host}:636"), address))
    return out, srv, None


def _resolve_a(resolver: Any, host: str) -> str | None:
    """The first A record of ``host`` through ``resolver`` (None: no resolver, an IP, no answer)."""
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if resolver is None:
        return None
    try:
        return str(next(iter(resolver.resolve(host, "A"))))
    except Exception:  # fall back to the system's resolution of the name
        return None


def _domain_of(cfg: DirectoryConfig) -> str | None:
    if cfg.bind_user and "@" in cfg.bind_user:
        return cfg.bind_user.rsplit("@", 1)[1].lower()
    if cfg.base_dn:
        labels = [p.split("=", 1)[1] for p in cfg.base_dn.split(",") if p.strip().lower().startswith("dc=")]
        return ".".join(labels).lower() or None
    return None


def _connect_any(cfg: DirectoryConfig, password: str | None, timeout: float, resolver: Any
                 ) -> tuple[Connection | None, DirectoryConnection, LdapTarget | None]:
    targets, srv, error = _targets(cfg, resolver)
    if error:
        return None, DirectoryConnection(server=None, transport="none", auth=cfg.auth,
                                         result=BindResult.UNREACHABLE, reason=error, bind_user=cfg.bind_user,
                                         discovered_from=srv), None
    tried: list[str] = []
    last: DirectoryConnection | None = None
    ca = str(cfg.ca_bundle) if cfg.ca_bundle else None
    for target, address in targets:
        tried.append(target.url)
        conn, info = connect(target, cfg, password, timeout=timeout, ca_file=ca, connect_host=address)
        info = DirectoryConnection(**{**info.__dict__, "discovered_from": srv, "servers_tried": tuple(tried)})
        if conn is not None:
            return conn, info, replace(target, address=address)
        last = info
        if info.result != BindResult.UNREACHABLE:
            break  # a refused password is not a reason to try the next DC
    assert last is not None
    return None, last, None


def _read_all(conn: Connection, connection: DirectoryConnection, target: LdapTarget | None, config: Config,
              password: str | None, timeout: float, clock: Callable[[], datetime], page_size: int,
              size_limit: int, range_step: int, progress: bool) -> DirectoryFacts:
    errors: dict[str, str] = {}
    cfg = config.directory
    before = clock()
    try:
        raw = read_entry(conn, "", ["defaultNamingContext", "configurationNamingContext", "schemaNamingContext",
                                    "rootDomainNamingContext", "dnsHostName", "domainFunctionality",
                                    "forestFunctionality", "domainControllerFunctionality", "currentTime",
                                    "supportedControl", "supportedSASLMechanisms", "isGlobalCatalogReady"]) or {}
    except Exception as exc:
        # Nothing else can be read without the naming contexts: every section says why, so no
        # check judges an empty default (no DCs, no account, no members) as if it were read.
        why = f"the RootDSE could not be read: {type(exc).__name__}: {exc}"
        return DirectoryFacts(configured=True, connection=connection,
                              section_errors={name: why for name in DIRECTORY_SECTIONS})
    after = clock()
    one = lambda key: text(raw[key][0]) if raw.get(key) else None  # noqa: E731
    root = RootDse(
        default_naming_context=one("defaultNamingContext"), configuration_naming_context=one("configurationNamingContext"),
        schema_naming_context=one("schemaNamingContext"), root_domain_naming_context=one("rootDomainNamingContext"),
        dns_host_name=one("dnsHostName"), domain_functionality=parse_int(one("domainFunctionality")),
        forest_functionality=parse_int(one("forestFunctionality")),
        dc_functionality=parse_int(one("domainControllerFunctionality")),
        current_time=parse_generalized_time(one("currentTime") or ""), local_before=before, local_after=after,
        supported_controls=tuple(text(v) for v in raw.get("supportedControl", ())),
        supported_sasl_mechanisms=tuple(text(v) for v in raw.get("supportedSASLMechanisms", ())),
        global_catalog_ready=(one("isGlobalCatalogReady") == "TRUE") if raw.get("isGlobalCatalogReady") else None)
    domain_nc = root.default_naming_context or ""
    conf_nc = root.configuration_naming_context or ""
    out: dict[str, Any] = {}

    def section(name: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # one unreadable section must not hide the others
            errors[name] = f"{type(exc).__name__}: {exc}"
            return None

    max_page = section("policy", lambda: _max_page_size(conn, conf_nc)) or DEFAULT_PAGE_SIZE
    schema = section("schema", lambda: _schema(conn, root.schema_naming_context or ""))
    if schema:
        out["schema_object_version"], has_nick = schema
    else:
        has_nick = True
    forest = section("upn_suffixes", lambda: _forest(conn, conf_nc))
    if forest:
        out["forest_upn_suffixes"], out["forest_dns_names"] = forest
    policy = section("policy_domain", lambda: read_entry(conn, domain_nc, ["maxPwdAge", "lockoutDuration",
                                                                          "lockoutThreshold", "objectSid"]))
    domain_sid = None
    if policy:
        out["max_pwd_age"] = parse_int(text(policy["maxPwdAge"][0])) if policy.get("maxPwdAge") else None
        out["lockout_duration"] = parse_int(text(policy["lockoutDuration"][0])) if policy.get("lockoutDuration") else None
        out["lockout_threshold"] = parse_int(text(policy["lockoutThreshold"][0])) if policy.get("lockoutThreshold") else None
        domain_sid = sid_from_bytes(policy["objectSid"][0]) if policy.get("objectSid") else None
    dcs = section("domain_controllers", lambda: _domain_controllers(conn, domain_nc))
    if dcs is not None:
        out["domain_controllers"] = dcs
    scan_base = cfg.base_dn or domain_nc
    if cfg.service_account:
        acct = section("service_account", lambda: read_account(conn, domain_nc, cfg.service_account or ""))
        out["service_account"] = acct
    gmsas = section("gmsa", lambda: read_names(conn, domain_nc, "(objectClass=msDS-GroupManagedServiceAccount)"))
    if gmsas is not None:
        out["gmsa_accounts"] = gmsas
    kds = section("kds", lambda: read_kds(conn, conf_nc))
    if kds is not None:
        out["kds_root_keys"] = kds
    # AZUREADSSOACC is looked for in the whole domain (Entra Connect puts it in CN=Computers by
    # default, or in an OU the admin picks), not just under the scan's base_dn.
    out["seamless_sso_account"] = section("seamless_sso", lambda: read_account(conn, domain_nc, "AZUREADSSOACC$", exact=True))
    priv = section("privileged", lambda: read_privileged(conn, domain_nc, domain_sid, root, range_step))
    if priv is not None:
        out["privileged_members"] = priv
    if config.service_name:
        spns = section("spn", lambda: read_spns(conn, connection, target, cfg, password, timeout, domain_nc,
                                            config.service_name or ""))
        if spns is not None:
            out["spn_registrations"] = spns
    scan = section("scan", lambda: _scan(conn, scan_base, out.get("forest_upn_suffixes", ()),
                                         out.get("forest_dns_names", ()), has_nick, page_size, max_page,
                                         size_limit, cfg.csv_dir, progress, config.federated_domains))
    if scan is not None:
        out["scan"] = scan
    return DirectoryFacts(configured=True, connection=connection, root_dse=root,
                          service_account_name=cfg.service_account, service_name=config.service_name,
                          section_errors=errors, **out)


def _max_page_size(conn: Connection, conf_nc: str) -> int | None:
    entry = read_entry(conn, f"CN=Default Query Policy,CN=Query-Policies,CN=Directory Service,CN=Windows NT,"
                             f"CN=Services,{conf_nc}", ["lDAPAdminLimits"])
    for value in (entry or {}).get("lDAPAdminLimits", ()):
        name, _, number = text(value).partition("=")
        if name.lower() == "maxpagesize" and number.isdigit():
            return int(number)
    return None


def _schema(conn: Connection, schema_nc: str) -> tuple[int | None, bool]:
    entry = read_entry(conn, schema_nc, ["objectVersion"]) or {}
    version = parse_int(text(entry["objectVersion"][0])) if entry.get("objectVersion") else None
    status = SearchStatus()
    found = list(paged_search(conn, schema_nc, eq_filter("lDAPDisplayName", "mailNickname"), ["cn"],
                              status=status, scope=SUBTREE))
    return version, bool(found)


def _forest(conn: Connection, conf_nc: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    partitions = f"CN=Partitions,{conf_nc}"
    entry = read_entry(conn, partitions, ["uPNSuffixes"]) or {}
    suffixes = tuple(text(v).lower() for v in entry.get("uPNSuffixes", ()))
    status = SearchStatus()
    names = []
    for _, attrs in paged_search(conn, partitions, "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))",
                                 ["dnsRoot"], status=status):
        names.extend(text(v).lower() for v in attrs.get("dnsRoot", ()))
    if status.partial:
        raise RuntimeError(status.reason)
    return suffixes, tuple(names)


def _domain_controllers(conn: Connection, domain_nc: str) -> tuple[DomainController, ...]:
    status = SearchStatus()
    dcs = []
    dc_filter = "(&(objectCategory=computer)(userAccountControl:1.2.840.113556.1.4.803:=8192))"
    for dn, attrs in paged_search(conn, domain_nc, dc_filter,
                                  ["dNSHostName", "operatingSystem", "operatingSystemVersion"], status=status):
        first = lambda k, attrs=attrs: text(attrs[k][0]) if attrs.get(k) else None  # noqa: E731
        dcs.append(DomainController(dn, first("dNSHostName"), first("operatingSystem"), first("operatingSystemVersion")))
    if status.partial:
        raise RuntimeError(status.reason)
    return tuple(sorted(dcs, key=lambda d: d.dn.lower()))


class _LazyProgress:
    """A rich progress line on stderr that appears only once a scan has run for a few seconds."""

    def __init__(self, enabled: bool, after: float = 3.0) -> None:
        self.enabled, self.after, self.started = enabled, after, time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def update(self, count: int) -> None:
        if not self.enabled or count % 1000:
            return
        if self.bar is None and time.monotonic() - self.started > self.after:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(SpinnerColumn(), TextColumn("directory scan: {task.completed:,} objects"),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("scan", total=None)
        if self.bar is not None:
            self.bar.update(self.task, completed=count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _scan(conn: Connection, base: str, forest_suffixes: tuple[str, ...], forest_names: tuple[str, ...],
          has_nick: bool, page_size: int, max_page: int, size_limit: int, csv_dir: Path | None,
          progress: bool, verified_domains: tuple[str, ...] = ()) -> ScanResult:
    from publicsuffixlist import PublicSuffixList

    started = time.monotonic()
    csv_file = open_csv(csv_dir) if csv_dir is not None else None
    bar = _LazyProgress(progress)
    try:
        scanner = AttributeScanner(set(forest_suffixes) | set(forest_names), PublicSuffixList(), csv_file,
                                   verified_domains=set(verified_domains))
        status = SearchStatus()
        attributes = [a for a in SCAN_ATTRIBUTES if has_nick or a != "mailNickname"]
        for dn, attrs in paged_search(conn, base, _SCAN_FILTER, attributes, status=status, page_size=page_size,
                                      max_page_size=max_page, size_limit=size_limit, pipeline=True):
            scanner.add(dn, attrs)
            bar.update(status.entries)
    finally:
        bar.close()
        if csv_file is not None:
            csv_file.close()
    return ScanResult(
        base_dn=base, objects_scanned=scanner.objects, users=scanner.users, skipped=dict(scanner.skipped),
        partial=status.partial, partial_reason=status.reason, referrals=tuple(status.referrals),
        rules=scanner.rule_results({"mailNickname": has_nick}), upn_suffixes=scanner.suffix_usage(),
        users_with_upn=scanner.users_with_upn, source_anchor=scanner.source_anchor(),
        page_size=min(page_size, max_page), csv_path=str(csv_dir / "directory-problems.csv") if csv_dir else None,
        csv_rows=scanner.csv_rows, elapsed_seconds=round(time.monotonic() - started, 3))
