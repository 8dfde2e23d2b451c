"""The directory probe: one read-only LDAP session that gathers the ``directory`` fact.

Order: password -> server (configured, or from the AD SRV records) -> bind -> RootDSE (read by
hand, with the local clock around it) -> forest configuration (uPNSuffixes, domain names,
MaxPageSize, schema version, KDS root keys) -> domain (password policy, DCs, service account,
gMSAs, AZUREADSSOACC, privileged groups with ranged member retrieval) -> the Global Catalog for
forest-wide SPN holders -> the streamed attribute scan of users, contacts and groups.

A section that cannot be read is recorded in ``section_errors`` (its checks report ``error``);
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
    AccountInfo,
    BindResult,
    DirectoryConnection,
    DirectoryFacts,
    DomainController,
    KdsRootKey,
    PasswordSettings,
    PrivilegedMember,
    RootDse,
    ScanResult,
    SpnRegistration,
)
from adfs_readiness.probes import ProbeContext
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
    ranged_values,
    read_entry,
)

__all__ = ["probe_directory", "gather_directory", "make_resolver"]

_ACCOUNT_ATTRS = ["objectClass", "sAMAccountName", "userPrincipalName", "userAccountControl", "pwdLastSet",
                  "lockoutTime", "accountExpires", "msDS-SupportedEncryptionTypes", "servicePrincipalName"]
_SCAN_FILTER = "(|(objectCategory=person)(objectCategory=group))"
# Constructed attributes (MS-ADTS 3.1.1.4.5): computed by the DC with the fine-grained password
# policy in effect, returned only when asked for by name; read in a base read of one account.
_COMPUTED_ATTRS = ["msDS-UserPasswordExpiryTimeComputed", "msDS-User-Account-Control-Computed", "msDS-ResultantPSO"]
_PSO_ATTRS = ["msDS-PasswordSettingsPrecedence", "msDS-MaximumPasswordAge", "msDS-LockoutDuration",
              "msDS-LockoutThreshold"]
# BUILTIN\Administrators' well-known SID: with Domain Admins and Enterprise Admins the highest-privilege
# groups (Microsoft Learn, "Appendix B: Privileged Accounts and Groups in Active Directory").
_BUILTIN_ADMINISTRATORS = "S-1-5-32-544"
_MEMBER_ATTRS = ["objectClass", "objectSid", "sAMAccountName", "userPrincipalName"]


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
        acct = section("service_account", lambda: _account(conn, domain_nc, cfg.service_account or ""))
        out["service_account"] = acct
    gmsas = section("gmsa", lambda: _names(conn, domain_nc, "(objectClass=msDS-GroupManagedServiceAccount)"))
    if gmsas is not None:
        out["gmsa_accounts"] = gmsas
    kds = section("kds", lambda: _kds(conn, conf_nc))
    if kds is not None:
        out["kds_root_keys"] = kds
    # AZUREADSSOACC is looked for in the whole domain (Entra Connect puts it in CN=Computers by
    # default, or in an OU the admin picks), not just under the scan's base_dn.
    out["seamless_sso_account"] = section("seamless_sso", lambda: _account(conn, domain_nc, "AZUREADSSOACC$", exact=True))
    priv = section("privileged", lambda: _privileged(conn, domain_nc, domain_sid, root, range_step))
    if priv is not None:
        out["privileged_members"] = priv
    if config.service_name:
        spns = section("spn", lambda: _spns(conn, connection, target, cfg, password, timeout, domain_nc,
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
    for dn, attrs in paged_search(conn, domain_nc, "(&(objectCategory=computer)(userAccountControl:1.2.840.113556.1.4.803:=8192))",
                                  ["dNSHostName", "operatingSystem", "operatingSystemVersion"], status=status):
        first = lambda k: text(attrs[k][0]) if attrs.get(k) else None  # noqa: E731
        dcs.append(DomainController(dn, first("dNSHostName"), first("operatingSystem"), first("operatingSystemVersion")))
    if status.partial:
        raise RuntimeError(status.reason)
    return tuple(sorted(dcs, key=lambda d: d.dn.lower()))


def _account_from(dn: str, attrs: Mapping[str, list[bytes]],
                  computed: Mapping[str, list[bytes]] | None = None,
                  pso: PasswordSettings | None = None) -> AccountInfo:
    def one(key: str, source: Mapping[str, list[bytes]] = attrs) -> str | None:
        return text(source[key][0]) if source.get(key) else None
    computed = computed or {}
    return AccountInfo(
        dn=dn, sam_account_name=one("sAMAccountName"), user_principal_name=one("userPrincipalName"),
        object_classes=tuple(text(v).lower() for v in attrs.get("objectClass", ())),
        user_account_control=parse_int(one("userAccountControl")), password_last_set=parse_int(one("pwdLastSet")),
        lockout_time=parse_int(one("lockoutTime")), account_expires=parse_int(one("accountExpires")),
        supported_encryption_types=parse_int(one("msDS-SupportedEncryptionTypes")),
        service_principal_names=tuple(text(v) for v in attrs.get("servicePrincipalName", ())),
        password_expiry_computed=parse_int(one("msDS-UserPasswordExpiryTimeComputed", computed)),
        account_control_computed=parse_int(one("msDS-User-Account-Control-Computed", computed)),
        resultant_pso=one("msDS-ResultantPSO", computed), password_settings=pso)


def _computed(conn: Connection, dn: str) -> tuple[Mapping[str, list[bytes]], PasswordSettings | None]:
    """The account's constructed attributes (a base read asking for them by name) and the settings
    of the PSO in effect. A DC that refuses the read, or a reader denied the attributes, gives
    ``{}``: the check then falls back to the domain policy and says so. The PSO is None when it
    cannot be read (AD lets only Domain Admins read PSOs by default)."""
    try:
        attrs = read_entry(conn, dn, _COMPUTED_ATTRS) or {}
    except RuntimeError:  # an LDAP error result, not a lost connection (that one propagates)
        return {}, None
    pso_dn = text(attrs["msDS-ResultantPSO"][0]) if attrs.get("msDS-ResultantPSO") else None
    if not pso_dn:
        return attrs, None
    try:
        raw = read_entry(conn, pso_dn, _PSO_ATTRS)
    except RuntimeError:
        raw = None
    if not raw:
        return attrs, None

    def num(key: str) -> int | None:
        return parse_int(text(raw[key][0])) if raw.get(key) else None
    return attrs, PasswordSettings(pso_dn, num("msDS-PasswordSettingsPrecedence"), num("msDS-MaximumPasswordAge"),
                                   num("msDS-LockoutDuration"), num("msDS-LockoutThreshold"))


def _account(conn: Connection, base: str, name: str, exact: bool = False) -> AccountInfo | None:
    """The account with sAMAccountName ``name`` (a gMSA's name may be given without its "$"),
    with the password expiry and lockout state the DC computes (:func:`_computed`)."""
    candidates = [name] if exact or name.endswith("$") else [name, name + "$"]
    for candidate in candidates:
        status = SearchStatus()
        found = list(paged_search(conn, base, eq_filter("sAMAccountName", candidate), _ACCOUNT_ATTRS, status=status))
        if status.partial:
            raise RuntimeError(status.reason)
        if found:
            dn, attrs = found[0]
            return _account_from(dn, attrs, *_computed(conn, dn))
    return None


def _names(conn: Connection, base: str, ldap_filter: str) -> tuple[str, ...]:
    status = SearchStatus()
    names = [text(a["sAMAccountName"][0]) for _, a in paged_search(conn, base, ldap_filter, ["sAMAccountName"],
                                                                 status=status) if a.get("sAMAccountName")]
    if status.partial:
        raise RuntimeError(status.reason)
    return tuple(sorted(names))


def _kds(conn: Connection, conf_nc: str) -> tuple[KdsRootKey, ...]:
    status = SearchStatus()
    keys = []
    for dn, attrs in paged_search(conn, f"CN=Services,{conf_nc}", "(objectClass=msKds-ProvRootKey)",
                                  ["msKds-CreateTime", "msKds-UseStartTime"], status=status):
        keys.append(KdsRootKey(dn, parse_int(text(attrs["msKds-CreateTime"][0])) if attrs.get("msKds-CreateTime") else None,
                               parse_int(text(attrs["msKds-UseStartTime"][0])) if attrs.get("msKds-UseStartTime") else None))
    if status.partial:
        raise RuntimeError(status.reason)
    return tuple(sorted(keys, key=lambda k: k.created or 0))


def _privileged(conn: Connection, domain_nc: str, domain_sid: str | None, root: RootDse,
                range_step: int) -> tuple[PrivilegedMember, ...]:
    """Every account in Domain Admins (RID 512), Enterprise Admins (RID 519, forest root only) and
    BUILTIN\\Administrators (S-1-5-32-544), found by well-known SID, once per account (sorted by
    DN) with every way it belongs (:class:`PrivilegedMember`). Members are read with range
    retrieval and nested groups followed (each group once per privileged group, so cycles end);
    for every group of this domain on the way, the accounts whose primaryGroupID is its RID are
    searched too, since a group's ``member`` never lists them (MS-ADA2 2.43, MS-ADA3 2.120).
    Raises RuntimeError when the domain SID is unknown or a search is cut short."""
    if not domain_sid:
        raise RuntimeError("the domain's objectSid could not be read")
    roots = [("Domain Admins", f"{domain_sid}-512")]
    if root.root_domain_naming_context and root.root_domain_naming_context.lower() == domain_nc.lower():
        roots.append(("Enterprise Admins", f"{domain_sid}-519"))
    roots.append(("Administrators", _BUILTIN_ADMINISTRATORS))
    cache: dict[str, Mapping[str, list[bytes]]] = {}
    primary: dict[str, list[tuple[str, Mapping[str, list[bytes]]]]] = {}
    found: dict[str, tuple[str, Mapping[str, list[bytes]], list[str], set[str]]] = {}
    foreign: set[str] = set()

    def entry(dn: str) -> Mapping[str, list[bytes]]:
        if dn.lower() not in cache:
            cache[dn.lower()] = read_entry(conn, dn, _MEMBER_ATTRS) or {}
        return cache[dn.lower()]

    def search(ldap_filter: str) -> list[tuple[str, Mapping[str, list[bytes]]]]:
        status = SearchStatus()
        hits = list(paged_search(conn, domain_nc, ldap_filter, _MEMBER_ATTRS, status=status))
        if status.partial:
            raise RuntimeError(status.reason)
        return sorted(hits, key=lambda h: h[0].lower())

    def add(dn: str, attrs: Mapping[str, list[bytes]], root_label: str, how: str) -> None:
        _, _, roots_seen, labels = found.setdefault(dn.lower(), (dn, attrs, [], set()))
        if root_label not in roots_seen:
            roots_seen.append(root_label)
        labels.add(how)

    for label, sid in roots:
        hits = search(f"(objectSid={sid})")
        if not hits:
            continue
        seen: set[str] = set()
        queue = [(hits[0][0], hits[0][1], label)]
        while queue:  # breadth first: the shortest nesting path names a member
            group_dn, group_attrs, path = queue.pop(0)
            if group_dn.lower() in seen:
                continue
            seen.add(group_dn.lower())
            members = sorted((text(v) for v in ranged_values(conn, group_dn, "member", step=range_step)), key=str.lower)
            for dn in members:
                if not _in_partition(dn, domain_nc):  # another domain's account: a referral, not followed
                    add(dn, {}, label, path)
                    foreign.add(dn.lower())
                    continue
                attrs = entry(dn)
                if "group" in {text(c).lower() for c in attrs.get("objectClass", ())}:
                    name = text(attrs["sAMAccountName"][0]) if attrs.get("sAMAccountName") else dn
                    queue.append((dn, attrs, f"{path} > {name}"))
                else:
                    add(dn, attrs, label, path)
            group_sid = sid_from_bytes(group_attrs["objectSid"][0]) if group_attrs.get("objectSid") else None
            prefix, _, rid = (group_sid or "").rpartition("-")
            if prefix == domain_sid and rid.isdigit():  # primaryGroupID names a group of the account's domain
                if rid not in primary:  # Domain Admins is reached again through Administrators
                    primary[rid] = search(f"(&(objectCategory=person)(primaryGroupID={rid}))")
                for dn, attrs in primary[rid]:
                    add(dn, attrs, label, f"{path} (primary group)")

    def first(attrs: Mapping[str, list[bytes]], key: str) -> str | None:
        return text(attrs[key][0]) if attrs.get(key) else None
    return tuple(PrivilegedMember(roots_seen[0], dn, first(attrs, "sAMAccountName"), first(attrs, "userPrincipalName"),
                                  tuple(sorted(labels)), other_domain=key in foreign)
                 for key, (dn, attrs, roots_seen, labels) in sorted(found.items()))


def _rdns(dn: str) -> list[tuple[str, str]]:
    """(attribute, value) of each RDN of an RFC 4514 DN string, lower-cased, split on commas that
    are not escaped with a backslash. (ldap3's parse_dn refuses an unescaped "=" in a value, which
    RFC 4514 allows and AD returns, e.g. CN=a=b.)"""
    parts, current, escaped = [], [], False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    out = []
    for part in parts:
        attribute, _, value = part.partition("=")
        out.append((attribute.strip().lower(), value.strip().lower()))
    return out


def _in_partition(dn: str, partition: str) -> bool:
    """Whether ``dn`` lies in the domain naming context ``partition``: its last RDNs are the
    partition's (case-insensitive) and no DC= RDN comes before them (a child domain's DNs,
    ``...,DC=emea,DC=contoso,DC=test``, also end with the parent's RDNs)."""
    inner, outer = _rdns(dn), _rdns(partition)
    if not outer or len(inner) <= len(outer) or inner[-len(outer):] != outer:
        return False
    return not any(attribute == "dc" for attribute, _ in inner[:-len(outer)])


def _spns(conn: Connection, connection: DirectoryConnection, target: LdapTarget | None, cfg: DirectoryConfig,
          password: str | None, timeout: float, domain_nc: str, service_name: str) -> tuple[SpnRegistration, ...]:
    """Holders of HOST/<fs> and HTTP/<fs> forest-wide: on the Global Catalog (3268, or 3269 for
    LDAPS) of the same DC; on the domain partition when the GC cannot be reached."""
    search_conn, base, source, gc = conn, domain_nc, "domain", None
    if target is not None:
        gc_target = LdapTarget(target.host, 3269 if target.use_ssl else 3268, target.use_ssl,
                               f"{'ldaps' if target.use_ssl else 'ldap'}://{target.host}:{3269 if target.use_ssl else 3268}",
                               tls_name=target.tls_name, address=target.address)
        gc, info = connect(gc_target, cfg, password, timeout=timeout,
                           ca_file=str(cfg.ca_bundle) if cfg.ca_bundle else None, connect_host=None)
        if gc is not None:
            search_conn, base, source = gc, "", "global catalog"
    try:
        regs = []
        for spn in (f"HOST/{service_name}", f"HTTP/{service_name}"):
            status = SearchStatus()
            found = list(paged_search(search_conn, base, eq_filter("servicePrincipalName", spn),
                                      ["sAMAccountName"], status=status))
            if status.partial:
                raise RuntimeError(status.reason)
            regs.append(SpnRegistration(spn, tuple(dn for dn, _ in found),
                                        tuple(text(a["sAMAccountName"][0]) if a.get("sAMAccountName") else "" for _, a in found),
                                        source))
        return tuple(regs)
    finally:
        if gc is not None:
            gc.unbind()


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
