"""The directory probe: one read-only LDAP session that gathers the ``directory`` fact.

Order: password -> server (configured, or from the AD SRV records) -> bind -> RootDSE (read by
hand, with the local clock around it) -> forest configuration (uPNSuffixes, domains, MaxPageSize,
schema version and Exchange attributes, KDS root keys) -> domain (password policy, DCs, service
account, gMSAs, AZUREADSSOACC, privileged groups with ranged member retrieval) -> the Global
Catalog for forest-wide SPN holders (of the federation service name and of the name its CNAME
chain ends at) -> AD FS certificate sharing (DKM) descriptors -> the streamed scan of users,
contacts and groups.

Everything goes through a :class:`~adfs_readiness.probes.directory_session.DirectorySession`; the
section readers are in ``directory_accounts``, ``directory_dkm`` and ``directory_scan``. A section
that cannot be read is recorded in ``section_errors`` (its checks report ``error``); a bind that
fails is a fact too (directory.connect judges it). The probe judges nothing, writes no file and
draws nothing: progress goes to the callback it is given.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import warnings

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names pyasn1 has deprecated (tagMap, typeMap): not ours to fix, and it must
    # not break a run under -W error.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import SUBTREE

from adfs_readiness.facts import ProbeError, ProbeErrorKind
from adfs_readiness.settings import Settings
from adfs_readiness.facts.directory import (
    DIRECTORY_SECTIONS,
    DirectoryConnection,
    DirectoryFacts,
    DomainController,
    RootDse,
    ServiceNameAliases,
)
from adfs_readiness.facts.dns import DnsOutcome
from adfs_readiness.net.dns import DnsClient
from adfs_readiness.net.ldap import lookup_local_failure
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes.directory_accounts import read_account, read_kds, read_names, read_privileged, read_spns
from adfs_readiness.probes.directory_dkm import read_dkm
from adfs_readiness.probes.directory_scan import EXCHANGE_ATTRIBUTES, scan_objects
from adfs_readiness.probes.directory_session import DirectorySession, open_session
from adfs_readiness.probes.ldap_decode import parse_generalized_time, parse_int, sid_from_bytes, text
from adfs_readiness.probes.ldap_search import DEFAULT_PAGE_SIZE

__all__ = ["probe_directory", "gather_directory", "internal_dns"]


def probe_directory(ctx: ProbeContext) -> DirectoryFacts:
    """ProbeSpec entry point: :func:`gather_directory` with the run's config, the system clock
    for the skew measurement, the run's DNS client of the internal view, the probe's deadline and
    the run's progress display (``ctx.progress``, when there is one). A bind password read from a
    prompt or the keyring is registered as a secret of the run (``ctx.net.secrets``), so the run's
    redactor scrubs it from every output, as it does the one from ``directory.password_env``."""
    timeout = max(1.0, min(ctx.config.network.timeout_seconds, ctx.remaining()))
    report = ctx.progress
    progress = (lambda count: report("directory", count)) if report is not None else None
    dns = internal_dns(ctx.net.resolver, ctx.config, deadline=ctx.deadline)
    # Registered as soon as it is read, before any byte goes to a DC that might echo it.
    return gather_directory(ctx.config, timeout=timeout, dns=dns, progress=progress, on_password=ctx.net.secrets.add)


def internal_dns(resolver_of: Callable[[str, tuple[Any, ...]], tuple[Any, bool]], config: Settings, *,
                 deadline: float) -> DnsClient | ProbeError:
    """The DNS client of the internal view (``dns.internal_resolvers``, else this machine's
    resolver) over the run's resolver for that view (``resolver_of`` is ``ctx.net.resolver`` or
    :meth:`adfs_readiness.net.Network.resolver`), asking until ``deadline`` (``time.monotonic()``);
    a ProbeError of kind ``local`` when this machine has no resolver configured."""
    try:
        resolver, _system = resolver_of("internal", config.dns.internal_resolvers)
    except Exception as exc:  # dns.resolver.NoResolverConfiguration and the like: this machine's trouble
        return ProbeError(ProbeErrorKind.LOCAL, f"this machine has no DNS resolver configured ({type(exc).__name__}: "
                                                f"{exc}); set dns.internal_resolvers", "internal view")
    return DnsClient(resolver, deadline=deadline)


def _system_clock() -> datetime:
    return datetime.now(timezone.utc)


def gather_directory(config: Settings, *, timeout: float = 10.0, dns: DnsClient | ProbeError | None = None,
                     clock: Callable[[], datetime] = _system_clock, password: str | None = None,
                     environ: Mapping[str, str] | None = None, page_size: int = DEFAULT_PAGE_SIZE,
                     size_limit: int = 0, range_step: int = 1500,
                     progress: Callable[[int], None] | None = None,
                     on_password: Callable[[str], None] | None = None) -> DirectoryFacts:
    """Gather the directory fact. Never raises for directory trouble (it is data in the fact).

    Args:
        config: the run configuration (``config.directory`` says how to connect).
        timeout: seconds per network operation.
        dns: the run's DNS client of the internal view (:func:`internal_dns`) for DC discovery,
            DC names and the federation service name's CNAME chain; a ProbeError (kind ``local``)
            when this machine has no resolver; None: no lookups (a configured DC name is then
            resolved by the system, the CNAME chain is not looked up).
        clock: the local clock for the DC clock-skew measurement (aware UTC datetimes).
        password: the bind password (None = from ``config.directory.password_source``).
        page_size: paged-search page size (capped at the server's MaxPageSize).
        size_limit: ask the server to stop the scan after this many entries (0 = no limit); a cut
            scan is marked partial.
        range_step: values per range-retrieval request for group members.
        progress: called with the number of objects the scan has read (every 1,000).
        on_password: called with the bind password once it is read from its source (the probe
            registers it as a run secret), before anything is sent.
    """
    session, connection = open_session(config, timeout=timeout, dns=dns, password=password,
                                       environ=environ, page_size=page_size, range_step=range_step,
                                       size_limit=size_limit, progress=progress, on_password=on_password)
    if session is None:
        return DirectoryFacts(configured=connection.result != "not_configured", connection=connection)
    try:
        return _read_all(session, connection, config, clock, dns)
    finally:
        session.close()


def _read_all(session: DirectorySession, connection: DirectoryConnection, config: Settings,
              clock: Callable[[], datetime], dns: DnsClient | ProbeError | None) -> DirectoryFacts:
    errors: dict[str, str] = {}
    cfg = config.directory
    before = clock()
    try:
        raw = session.read("", ["defaultNamingContext", "configurationNamingContext", "schemaNamingContext",
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

    session.max_page_size = section("policy", lambda: _max_page_size(session, conf_nc))
    schema = section("schema", lambda: _schema(session, root.schema_naming_context or ""))
    if schema:
        out["schema_object_version"], in_schema = schema
    else:
        in_schema = {name: True for name in EXCHANGE_ATTRIBUTES}  # unknown: judge what comes back
    forest = section("upn_suffixes", lambda: _forest(session, conf_nc))
    if forest:
        out["forest_upn_suffixes"], out["forest_dns_names"], out["forest_domain_ncs"] = forest
    policy = section("policy_domain", lambda: session.read(domain_nc, ["maxPwdAge", "lockoutDuration",
                                                                     "lockoutThreshold", "objectSid"]))
    if policy:
        out["max_pwd_age"] = parse_int(text(policy["maxPwdAge"][0])) if policy.get("maxPwdAge") else None
        out["lockout_duration"] = parse_int(text(policy["lockoutDuration"][0])) if policy.get("lockoutDuration") else None
        out["lockout_threshold"] = parse_int(text(policy["lockoutThreshold"][0])) if policy.get("lockoutThreshold") else None
        if policy.get("objectSid"):
            try:
                out["domain_sid"] = sid_from_bytes(policy["objectSid"][0])
            except ValueError as exc:  # malformed data, not a permission problem
                out["domain_sid_problem"] = f"the domain's objectSid is malformed ({len(policy['objectSid'][0])} bytes): {exc}"
    dcs = section("domain_controllers", lambda: _domain_controllers(session, domain_nc))
    if dcs is not None:
        out["domain_controllers"] = dcs
    if cfg.service_account:
        out["service_account"] = section("service_account",
                                         lambda: read_account(session, domain_nc, cfg.service_account or ""))
    gmsas = section("gmsa", lambda: read_names(session, domain_nc, "(objectClass=msDS-GroupManagedServiceAccount)"))
    if gmsas is not None:
        out["gmsa_accounts"] = gmsas
    kds = section("kds", lambda: read_kds(session, conf_nc))
    if kds is not None:
        out["kds_root_keys"] = kds
    # AZUREADSSOACC is looked for in the whole domain (Entra Connect puts it in CN=Computers by
    # default, or in an OU the admin picks), not just under the scan's base_dn.
    out["seamless_sso_account"] = section("seamless_sso",
                                          lambda: read_account(session, domain_nc, "AZUREADSSOACC$", exact=True))
    if out.get("domain_sid_problem"):
        errors["privileged"] = out["domain_sid_problem"]
    else:
        priv = section("privileged", lambda: read_privileged(session, domain_nc, out.get("domain_sid"), root))
        if priv is not None:
            out["privileged_members"] = priv
    if config.federation.service_name:
        aliases = _service_name_aliases(dns, config.federation.service_name)
        out["service_name_aliases"] = aliases
        names = (config.federation.service_name, *aliases.chain)
        spns = section("spn", lambda: read_spns(session, domain_nc, names))
        if spns is not None:
            out["spn_registrations"] = spns
    dkm = section("dkm", lambda: read_dkm(session, domain_nc))
    if dkm is not None:
        out["dkm"] = dkm
    scan = section("scan", lambda: scan_objects(session, cfg.base_dn or domain_nc, in_schema))
    if scan is not None:
        out["scan"] = scan
    return DirectoryFacts(configured=True, connection=connection, root_dse=root,
                          service_account_name=cfg.service_account, service_name=config.federation.service_name,
                          section_errors=errors, **out)


def _service_name_aliases(dns: DnsClient | ProbeError | None, name: str) -> ServiceNameAliases:
    """The CNAME chain of the federation service name through the run's internal-view DNS client
    (Kerberos clients are inside). Never raises: a failed lookup is the fact's ``error``, in words
    that say when this machine's resolvers were the trouble."""
    if not isinstance(dns, DnsClient):
        return ServiceNameAliases(name, None, (), None, dns.reason if dns is not None else "not looked up")
    lookup = dns.lookup(name, "A")
    where = ", ".join(dns.server_labels) or None
    chain = tuple(hop.target for hop in lookup.cname_chain)
    if lookup.outcome in (DnsOutcome.ANSWER, DnsOutcome.NO_ANSWER):
        return ServiceNameAliases(name, (lookup.canonical_name or name).lower(), chain, lookup.resolver or where)
    local = lookup_local_failure(dns, lookup)
    error = f"{local.reason} ({lookup.describe()})" if local is not None else lookup.describe()
    return ServiceNameAliases(name, lookup.canonical_name if chain else None, chain, lookup.resolver or where, error)


def _max_page_size(session: DirectorySession, conf_nc: str) -> int | None:
    entry = session.read(f"CN=Default Query Policy,CN=Query-Policies,CN=Directory Service,CN=Windows NT,"
                         f"CN=Services,{conf_nc}", ["lDAPAdminLimits"])
    for value in (entry or {}).get("lDAPAdminLimits", ()):
        name, _, number = text(value).partition("=")
        if name.lower() == "maxpagesize" and number.isdigit():
            return int(number)
    return None


def _schema(session: DirectorySession, schema_nc: str) -> tuple[int | None, dict[str, bool]]:
    """The schema's objectVersion and which Exchange attributes (:data:`EXCHANGE_ATTRIBUTES`) it has."""
    entry = session.read(schema_nc, ["objectVersion"]) or {}
    version = parse_int(text(entry["objectVersion"][0])) if entry.get("objectVersion") else None
    ldap_filter = "(|" + "".join(f"(lDAPDisplayName={name})" for name in EXCHANGE_ATTRIBUTES) + ")"
    found = {text(a["lDAPDisplayName"][0]).lower() for _, a in session.search(schema_nc, ldap_filter, ["lDAPDisplayName"],
                                                                               scope=SUBTREE) if a.get("lDAPDisplayName")}
    return version, {name: name.lower() in found for name in EXCHANGE_ATTRIBUTES}


def _forest(session: DirectorySession, conf_nc: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The forest's uPNSuffixes, and the DNS names and naming contexts of its domains (crossRef
    objects with FLAG_CR_NTDS_DOMAIN, MS-ADTS 6.1.1.2.1.1.5)."""
    partitions = f"CN=Partitions,{conf_nc}"
    entry = session.read(partitions, ["uPNSuffixes"]) or {}
    suffixes = tuple(text(v).lower() for v in entry.get("uPNSuffixes", ()))
    names, ncs = [], []
    for _, attrs in sorted(session.search(partitions, "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))",
                                          ["dnsRoot", "nCName"]), key=lambda e: e[0].lower()):
        if attrs.get("dnsRoot"):
            names.append(text(attrs["dnsRoot"][0]).lower())
            ncs.append(text(attrs["nCName"][0]) if attrs.get("nCName") else "")
    return suffixes, tuple(names), tuple(ncs)


def _domain_controllers(session: DirectorySession, domain_nc: str) -> tuple[DomainController, ...]:
    dcs = []
    dc_filter = "(&(objectCategory=computer)(userAccountControl:1.2.840.113556.1.4.803:=8192))"
    for dn, attrs in session.search(domain_nc, dc_filter, ["dNSHostName", "operatingSystem", "operatingSystemVersion"]):
        first = lambda k, attrs=attrs: text(attrs[k][0]) if attrs.get(k) else None  # noqa: E731
        dcs.append(DomainController(dn, first("dNSHostName"), first("operatingSystem"), first("operatingSystemVersion")))
    return tuple(sorted(dcs, key=lambda d: d.dn.lower()))
