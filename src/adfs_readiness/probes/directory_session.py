"""The directory probe's session: one read-only LDAP connection and every way of reading through
it (base reads, paged searches, ranged values, security descriptors, the Global Catalog).

:func:`open_session` finds the DC (configured, or from the AD SRV records through the run's DNS
client of the internal view, :class:`~adfs_readiness.net.dns.DnsClient` over
``ctx.net.resolver("internal", ...)``), resolves the password and binds through the LDAP
connection factory
(:mod:`adfs_readiness.net.ldap`); the section readers of :mod:`adfs_readiness.probes.directory`
and its siblings only ever talk to a :class:`DirectorySession`. Nothing is ever written: every
connection is ``read_only=True`` and refuses writes before anything is sent.
"""

from __future__ import annotations

import getpass
import ipaddress
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping

import warnings

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names pyasn1 has deprecated (tagMap, typeMap): not ours to fix.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import SUBTREE, Connection
    from ldap3.protocol.microsoft import security_descriptor_control

from adfs_readiness.facts import ProbeError
from adfs_readiness.facts.directory import BindResult, DirectoryConnection
from adfs_readiness.facts.dns import DnsOutcome
from adfs_readiness.net.dns import DnsClient
from adfs_readiness.net.ldap import (
    LdapTarget,
    connect,
    discover_domain_controllers,
    lookup_local_failure,
    parse_ldap_url,
)
from adfs_readiness.probes.certificates import describe_certificate
from adfs_readiness.probes.secrets import resolve_secret
from adfs_readiness.probes.ldap_search import DEFAULT_PAGE_SIZE, Entry, SearchStatus, paged_search, ranged_values, read_entry
from adfs_readiness.settings import Settings, DirectorySettings

__all__ = ["SearchCut", "DirectorySession", "open_session", "resolve_password", "SD_OWNER_AND_DACL"]

#: SD-flags control value: OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION (MS-ADTS
#: 3.1.1.3.4.1.11 LDAP_SERVER_SD_FLAGS_OID). Without the control the DC returns the SACL too,
#: which only holders of SeSecurityPrivilege may read, and leaves the whole descriptor out.
SD_OWNER_AND_DACL = 0x01 | 0x04


class SearchCut(RuntimeError):
    """A search the DC did not finish (size limit, lost connection, a referral, ...): the list
    read is incomplete. ``str()`` is the reason."""


class DirectorySession:
    """One bound, read-only LDAP connection to a DC, and how to read through it.

    Args:
        conn: the bound ldap3 connection (SYNC strategy, from :func:`adfs_readiness.net.ldap.connect`).
        connection: how it was made (the fact's ``connection``).
        target: the DC it was made to (None when unknown), for the Global Catalog of the same DC.
        cfg: the ``[directory]`` settings. password: for the Global Catalog bind (never stored in a fact).
        timeout: seconds per network operation.
        page_size: page size of paged searches, capped at :attr:`max_page_size` once known.
        range_step: values per range-retrieval request (AD's MaxValRange is 1500).
        size_limit: ask the DC to stop a streamed search after this many entries (0: no limit).
        progress: called with the number of entries a long scan has read so far (for a progress
            display; the session draws nothing itself).
    """

    def __init__(self, conn: Connection, connection: DirectoryConnection, target: LdapTarget | None,
                 cfg: DirectorySettings, password: str | None, timeout: float, *, page_size: int = DEFAULT_PAGE_SIZE,
                 range_step: int = 1500, size_limit: int = 0,
                 progress: Callable[[int], None] | None = None) -> None:
        self.conn = conn
        self.connection = connection
        self.target = target
        self.cfg = cfg
        self._password = password
        self.timeout = timeout
        self.page_size = page_size
        self.max_page_size: int | None = None
        self.range_step = range_step
        self.size_limit = size_limit
        self._progress = progress

    @property
    def effective_page_size(self) -> int:
        """The page size searches use: ``page_size`` capped at the forest's MaxPageSize."""
        return min(self.page_size, self.max_page_size) if self.max_page_size else self.page_size

    def read(self, dn: str, attributes: list[str], controls: list[Any] | None = None) -> Mapping[str, list[bytes]] | None:
        """The raw attributes of ``dn`` (None: no such object). Raises ldap3's LDAPException on
        connection trouble and RuntimeError for another LDAP error result."""
        return read_entry(self.conn, dn, attributes, controls)

    def stream(self, base: str, ldap_filter: str, attributes: list[str], *, status: SearchStatus,
               scope: str = SUBTREE, pipeline: bool = False, size_limit: int = 0) -> Iterator[Entry]:
        """Every entry of a paged search, as it arrives (:func:`~adfs_readiness.probes.ldap_search.paged_search`;
        with ``pipeline`` the DC builds the next page while the caller works on this one). Never
        raises for LDAP trouble: ``status`` says whether the search was cut and why."""
        return paged_search(self.conn, base, ldap_filter, attributes, status=status, scope=scope,
                            page_size=self.page_size, max_page_size=self.max_page_size, size_limit=size_limit,
                            pipeline=pipeline)

    def search(self, base: str, ldap_filter: str, attributes: list[str], *, scope: str = SUBTREE) -> list[Entry]:
        """Every entry of a paged search, as a list. Raises :class:`SearchCut` when the search was
        cut short: a section must never judge a truncated list."""
        status = SearchStatus()
        found = list(self.stream(base, ldap_filter, attributes, status=status, scope=scope))
        if status.partial:
            raise SearchCut(status.reason or "the search was cut short")
        return found

    def ranged_values(self, dn: str, attribute: str) -> list[bytes]:
        """Every value of a large multi-valued attribute (``member``), with range retrieval."""
        return ranged_values(self.conn, dn, attribute, step=self.range_step)

    def security_descriptor(self, dn: str) -> tuple[bool, bytes | None]:
        """(whether ``dn`` exists, its nTSecurityDescriptor with owner and DACL only), read with the
        SD-flags control (1.2.840.113556.1.4.801). The descriptor is None when the DC returned none
        (the reader lacks READ_CONTROL). Raises like :meth:`read`."""
        attrs = self.read(dn, ["nTSecurityDescriptor"],
                          controls=security_descriptor_control(sdflags=SD_OWNER_AND_DACL))
        if attrs is None:
            return False, None
        values = next((v for k, v in attrs.items() if k.lower() == "ntsecuritydescriptor"), None)
        return True, (values[0] if values else None)

    def progress(self, count: int) -> None:
        """Tell the progress display how many entries a long scan has read."""
        if self._progress is not None:
            self._progress(count)

    def global_catalog(self) -> "DirectorySession | None":
        """A session on the Global Catalog of the same DC (3268, or 3269 when this one is LDAPS),
        bound the same way; None when it cannot be reached or bound (the caller then falls back
        to this domain's partition and says so). The caller closes it."""
        if self.target is None:
            return None
        target = self.target
        port = 3269 if target.use_ssl else 3268
        gc_target = LdapTarget(target.host, port, target.use_ssl,
                               f"{'ldaps' if target.use_ssl else 'ldap'}://{target.host}:{port}",
                               tls_name=target.tls_name, address=target.address)
        conn, info = connect(gc_target, self.cfg, self._password, timeout=self.timeout,
                             ca_file=str(self.cfg.ca_bundle) if self.cfg.ca_bundle else None, connect_host=None)
        if conn is None:
            return None
        return DirectorySession(conn, info, gc_target, self.cfg, self._password, self.timeout,
                                page_size=self.page_size, range_step=self.range_step)

    def close(self) -> None:
        """Unbind (idempotent; a connection the reader already closed is fine)."""
        self.conn.unbind()


def open_session(config: Settings, *, timeout: float, dns: DnsClient | ProbeError | None = None,
                 password: str | None = None, environ: Mapping[str, str] | None = None,
                 page_size: int = DEFAULT_PAGE_SIZE, range_step: int = 1500, size_limit: int = 0,
                 progress: Callable[[int], None] | None = None,
                 on_password: Callable[[str], None] | None = None
                 ) -> tuple[DirectorySession | None, DirectoryConnection]:
    """Bind to a DC of the configured directory: (session, how) or (None, why not).

    The password comes from ``password`` or ``config.directory.password_source``; the DC from
    ``directory.server`` or the SRV records of the AD domain (each discovered DC in turn until one
    answers; a refused password is not a reason to try the next). ``dns`` is the run's DNS client
    of the internal view; a ProbeError (kind ``local``) when this machine has no resolver; None
    when no lookup may be made (a configured DC name is then resolved by the system). Never raises
    for directory trouble: the :class:`DirectoryConnection` says what happened, and its
    ``local_failure`` when this machine could not do its part. ``on_password`` is called with the
    password read from its source (env, prompt, keyring) before anything is sent: the probe
    registers it as a secret of the run.
    """
    cfg = config.directory
    if not (cfg.server or cfg.bind_user or cfg.base_dn):
        return None, DirectoryConnection(server=None, transport="none", auth=cfg.auth, result=BindResult.NOT_CONFIGURED,
                                         reason="no [directory] server, bind_user or base_dn configured")
    if password is None and cfg.bind_user and cfg.auth != "kerberos":
        password, why = resolve_password(cfg, environ=dict(environ) if environ is not None else None)
        if password is None:
            return None, DirectoryConnection(
                server=cfg.server, transport="ldaps" if (cfg.server or "").startswith("ldaps") else "plain",
                auth=cfg.auth, result=BindResult.NO_PASSWORD, reason=why, bind_user=cfg.bind_user)
        if on_password is not None:
            on_password(password)
    conn, connection, target = _connect_any(cfg, password, timeout, dns)
    if conn is None:
        return None, connection
    return DirectorySession(conn, connection, target, cfg, password, timeout, page_size=page_size,
                            range_step=range_step, size_limit=size_limit, progress=progress), connection


@dataclass(frozen=True)
class _Targets:
    """Where to connect: [(target, address to open)], the SRV name used, and why there is none
    (``error``; ``local`` when the reason is this machine's)."""

    found: list[tuple[LdapTarget, str | None]]
    srv: str | None = None
    error: str | None = None
    local: ProbeError | None = None


def _targets(cfg: DirectorySettings, dns: DnsClient | ProbeError | None) -> _Targets:
    if cfg.server:
        # A configured DC name is resolved through the run's (internal) resolver when there is
        # one; the certificate is still checked against the name.
        target = parse_ldap_url(cfg.server)
        return _Targets([(target, _resolve_a(dns, target.host))])
    domain = _domain_of(cfg)
    if not domain:
        return _Targets([], error="no server configured and no AD domain to look up (set directory.server or a UPN "
                                  "bind_user)")
    srv = f"_ldap._tcp.dc._msdcs.{domain}"
    if not isinstance(dns, DnsClient):
        why = dns.reason if dns is not None else "no DNS resolver to ask"
        return _Targets([], srv, f"no domain controller found: SRV {srv} could not be asked ({why})",
                        dns if dns is not None else None)
    found, lookup = discover_domain_controllers(domain, dns)
    if not found:
        what = (lookup.describe() if lookup.outcome is not DnsOutcome.ANSWER
                else f"{srv} SRV: no usable record ({', '.join(lookup.records) or 'empty'})")
        return _Targets([], srv, f"no domain controller found: {what}", lookup_local_failure(dns, lookup))
    out = []
    for host, port in found:
        address = _resolve_a(dns, host)
        if cfg.start_tls:
            out.append((LdapTarget(host, port, False, f"ldap://{host}:{port}"), address))
        else:
            out.append((LdapTarget(host, 636, True, f"ldaps://{host}:636"), address))
    return _Targets(out, srv)


def _resolve_a(dns: DnsClient | ProbeError | None, host: str) -> str | None:
    """The first A record of ``host`` through the run's DNS client (None: no client, an IP, no
    answer; ldap3 then resolves the name through the system)."""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if not isinstance(dns, DnsClient):
        return None
    lookup = dns.lookup(host, "A")
    return lookup.records[0] if lookup.outcome is DnsOutcome.ANSWER and lookup.records else None


def _domain_of(cfg: DirectorySettings) -> str | None:
    if cfg.bind_user and "@" in cfg.bind_user:
        return cfg.bind_user.rsplit("@", 1)[1].lower()
    if cfg.base_dn:
        labels = [p.split("=", 1)[1] for p in cfg.base_dn.split(",") if p.strip().lower().startswith("dc=")]
        return ".".join(labels).lower() or None
    return None


def _connect_any(cfg: DirectorySettings, password: str | None, timeout: float, dns: DnsClient | ProbeError | None
                 ) -> tuple[Connection | None, DirectoryConnection, LdapTarget | None]:
    targets = _targets(cfg, dns)
    if targets.error:
        return None, DirectoryConnection(server=None, transport="none", auth=cfg.auth,
                                         result=BindResult.UNREACHABLE, reason=targets.error, bind_user=cfg.bind_user,
                                         discovered_from=targets.srv, local_failure=targets.local), None
    tried: list[str] = []
    last: DirectoryConnection | None = None
    ca = str(cfg.ca_bundle) if cfg.ca_bundle else None
    for target, address in targets.found:
        tried.append(target.url)
        conn, info = connect(target, cfg, password, timeout=timeout, ca_file=ca, connect_host=address,
                             describe_certificate=describe_certificate)
        info = replace(info, discovered_from=targets.srv, servers_tried=tuple(tried))
        if conn is not None:
            return conn, info, replace(target, address=address)
        last = info
        if info.result != BindResult.UNREACHABLE:
            break  # a refused password is not a reason to try the next DC
    assert last is not None
    return None, last, None


def resolve_password(cfg: DirectorySettings, *, environ: dict[str, str] | None = None,
                     prompt: Callable[[str], str] = getpass.getpass,
                     keyring_get: Callable[[str, str], str | None] | None = None) -> tuple[str | None, str | None]:
    """The bind password from ``cfg.password_source``: "env" (``cfg.password_env``), "prompt"
    (no echo) or "keyring" (service ``cfg.keyring_service``, user ``cfg.bind_user``), through the
    one secret reader (:func:`adfs_readiness.probes.secrets.resolve_secret`).

    Returns (password, None) or (None, why not). The password is never logged or stored in facts.
    """
    return resolve_secret(cfg.password_source, env_name=cfg.password_env, env_setting="directory.password_env",
                          prompt_text=f"LDAP password for {cfg.bind_user}: ", keyring_service=cfg.keyring_service,
                          keyring_user=cfg.bind_user or "", environ=environ, prompt=prompt, keyring_get=keyring_get)
