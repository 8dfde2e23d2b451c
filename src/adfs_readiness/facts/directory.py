"""Facts of the directory area: what the LDAP probe read from Active Directory (fact key ``directory``).

The scan of user/contact/group objects keeps every object with the attributes the rules read
(:class:`DirectoryObject`); the rules themselves are the checks' (``checks/directory_rules.py``).
Windows times are kept as the raw integers AD stores (FILETIME: 100-ns intervals since
1601-01-01 UTC; intervals such as maxPwdAge: negative 100-ns counts) and compared as integers, so
dates past year 9999 cannot raise OverflowError; :func:`filetime_to_datetime` gives a datetime for
display and None for the "never" values.

This module imports only the shared facts package (and its sibling ``facts.directory_acl``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from adfs_readiness.facts import CertificateInfo, ProbeError
from adfs_readiness.facts.directory_acl import DkmFacts

__all__ = [
    "DIRECTORY_FACT",
    "FILETIME_NEVER",
    "INTERVAL_NEVER",
    "filetime_from_datetime",
    "filetime_to_datetime",
    "filetime_is_never",
    "BindResult",
    "DirectoryConnection",
    "RootDse",
    "DomainController",
    "OBJECT_CLASSES",
    "DirectoryObject",
    "ScanResult",
    "ServiceNameAliases",
    "SpnHolder",
    "AccountInfo",
    "PasswordSettings",
    "SpnRegistration",
    "KdsRootKey",
    "PrivilegedMember",
    "DirectoryFacts",
]

#: Fact key of :class:`DirectoryFacts`.
DIRECTORY_FACT = "directory"

#: accountExpires "never": 0 and 0x7FFFFFFFFFFFFFFF (MS-ADA1 Account-Expires).
FILETIME_NEVER = (0, 9223372036854775807)
#: maxPwdAge / lockoutDuration "never": the minimum int64 (MS-ADA3 Max-Pwd-Age, Lockout-Duration).
INTERVAL_NEVER = -9223372036854775808

_EPOCH_1601 = datetime(1601, 1, 1, tzinfo=timezone.utc)
_MAX_FILETIME_DATETIME = 2650467743999999990  # 9999-12-31 23:59:59.999999 UTC


def filetime_from_datetime(moment: datetime) -> int:
    """An aware datetime as FILETIME (int, 100-ns intervals since 1601-01-01 UTC), computed with
    integers only."""
    delta = moment.astimezone(timezone.utc) - _EPOCH_1601
    return (delta.days * 86400 + delta.seconds) * 10**7 + delta.microseconds * 10


def filetime_is_never(value: int | None) -> bool:
    """True for the values AD uses for "never" in accountExpires (0 and max int64)."""
    return value is None or value in FILETIME_NEVER


def filetime_to_datetime(value: int | None) -> datetime | None:
    """FILETIME -> aware UTC datetime; None for None, "never" (0, max int64), negative values and
    values past 9999-12-31 (which datetime cannot hold)."""
    if value is None or filetime_is_never(value) or value < 0 or value > _MAX_FILETIME_DATETIME:
        return None
    from datetime import timedelta

    return _EPOCH_1601 + timedelta(microseconds=value // 10)


class BindResult:
    """The outcomes of a connection attempt (string constants, JSON-friendly)."""

    OK = "ok"
    AUTH_FAILED = "auth_failed"  # the server refused the credentials
    UNREACHABLE = "unreachable"  # no TCP connection (refused, timeout, name not resolved)
    TLS_FAILED = "tls_failed"  # LDAPS/StartTLS handshake or certificate verification failed
    METHOD_UNAVAILABLE = "method_unavailable"  # the bind method cannot work here (which and why in reason)
    NO_PASSWORD = "no_password"  # the password source gave nothing
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class DirectoryConnection:
    """How the probe connected (or why it could not).

    Attributes:
        server: the LDAP URL used (the last one tried when all failed).
        transport: "ldaps", "starttls" or "plain".
        auth: "simple", "ntlm", "kerberos" or "anonymous".
        result: a :class:`BindResult` value. reason: in words, when not "ok".
        bind_user: who bound (never the password).
        discovered_from: the SRV name the server came from (None when configured).
        servers_tried: every URL tried, in order.
        tls_certificate: the LDAPS/StartTLS server certificate (for the certificate calendar).
        tls_failure: when TLS failed because the DC's certificate is outside its validity period,
            "expired" or "not_yet_valid" (a fact about the DC, unlike an untrusted CA or a name
            mismatch, which may be this machine's trust store or configuration); else None.
        local_failure: set (a ProbeError of kind ``local``) when no connection was made because
            this machine could not do its part: its resolvers did not answer the DC discovery, it
            has no resolver configured, or no route to the DC's network. Only set on a failed
            connection (a bound session's facts are never discounted for it).
    """

    server: str | None
    transport: str
    auth: str
    result: str
    reason: str | None = None
    bind_user: str | None = None
    discovered_from: str | None = None
    servers_tried: tuple[str, ...] = ()
    tls_certificate: CertificateInfo | None = None
    tls_failure: str | None = None
    local_failure: ProbeError | None = None

    @property
    def bound(self) -> bool:
        return self.result == BindResult.OK


@dataclass(frozen=True)
class RootDse:
    """The RootDSE as read (ints for functional levels: 0 = 2000, 2 = 2003, 3 = 2008, 4 = 2008 R2,
    5 = 2012, 6 = 2012 R2, 7 = 2016, 10 = 2025; MS-ADTS 6.1.4.4).

    ``current_time`` is the DC's clock; ``local_before``/``local_after`` the probe's clock around
    the read, so the skew is known within the read's round trip.
    """

    default_naming_context: str | None
    configuration_naming_context: str | None
    schema_naming_context: str | None
    root_domain_naming_context: str | None
    dns_host_name: str | None
    domain_functionality: int | None
    forest_functionality: int | None
    dc_functionality: int | None
    current_time: datetime | None
    local_before: datetime | None
    local_after: datetime | None
    supported_controls: tuple[str, ...] = ()
    supported_sasl_mechanisms: tuple[str, ...] = ()
    global_catalog_ready: bool | None = None


@dataclass(frozen=True)
class DomainController:
    """A DC computer account (userAccountControl SERVER_TRUST_ACCOUNT)."""

    dn: str
    dns_host_name: str | None
    operating_system: str | None
    operating_system_version: str | None


#: objectClass values whose objects the scan reads, most specific first: the first one an object
#: carries is its :attr:`DirectoryObject.object_class` (inetOrgPerson and computer derive from user).
OBJECT_CLASSES = ("computer", "inetorgperson", "user", "contact", "group")


@dataclass(frozen=True, slots=True)
class DirectoryObject:
    """One user, contact or group as the scan read it: only the attributes the attribute rules
    (IdFix parity, sync preparation) and the sign-in checks judge, as the directory stores them.

    Strings are the first value of a single-valued attribute (None when absent, "" when present but
    empty); ``proxy_addresses`` keeps every value in the order returned. ``object_guid`` is the raw
    value (16 bytes in any sane directory; None when the reader was not given it: AD always has
    one, so a deny entry hides it). ``object_class`` is the most specific of
    :data:`OBJECT_CLASSES` the object carries ("other" for none). ``conflict`` is True for a
    replication conflict object (its RDN carries the ``\\0ACNF:<GUID>`` mangling, MS-ADTS
    3.1.1.5.1.4). Numbers that did not parse are None.
    """

    dn: str
    object_class: str
    cn: str | None = None
    sam_account_name: str | None = None
    user_principal_name: str | None = None
    mail: str | None = None
    proxy_addresses: tuple[str, ...] = ()
    mail_nickname: str | None = None
    display_name: str | None = None
    given_name: str | None = None
    target_address: str | None = None
    object_guid: bytes | None = None
    consistency_guid: bool = False
    critical_system_object: bool = False
    group_type: int | None = None
    user_account_control: int | None = None
    hide_from_address_lists: bool = False
    recipient_type_details: int | None = None
    conflict: bool = False


@dataclass(frozen=True)
class ScanResult:
    """The streamed scan of users, contacts and groups (``(|(objectCategory=person)(objectCategory=
    group))``) under ``base_dn``: every object, as read. Judging them is the checks' business.

    ``partial`` is True when the search was cut (sizeLimitExceeded, timeout, connection lost):
    the objects are then a subset and the checks that depend on them report ``error``.
    ``referrals`` are the search references the DC returned (other naming contexts below the
    base: the forest's other domains, the DNS application partitions), never followed.
    ``attributes_in_schema`` says which optional (Exchange schema) attributes exist at all
    (lDAPDisplayName -> bool): a rule on an attribute the schema lacks has nothing to judge.
    """

    base_dn: str
    objects: tuple[DirectoryObject, ...]
    partial: bool
    partial_reason: str | None
    referrals: tuple[str, ...]
    page_size: int
    attributes_in_schema: Mapping[str, bool] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    @property
    def objects_read(self) -> int:
        return len(self.objects)

    def derived(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per instance: a value the checks derive from ``objects`` (the objects
        in scope, the address index) that several checks need. Kept in the instance's dict, not as
        a field: never serialised or compared, and a fact is immutable, so it cannot go stale
        (``dataclasses.replace`` makes a new instance without it)."""
        cache = self.__dict__.setdefault("_derived", {})  # frozen dataclass: write the dict itself
        if key not in cache:
            cache[key] = compute()
        return cache[key]


@dataclass(frozen=True)
class ServiceNameAliases:
    """The federation service name as the directory probe's resolver (the internal view, where
    Kerberos clients are) resolved it: ``chain`` lists each CNAME target in order and
    ``canonical_name`` where it ends (the name itself when it is no alias). Browsers ask for a
    ticket to HTTP/<canonical name>, so the probe read that name's SPN holders too. ``error``:
    why it could not be resolved (then only the service name's own SPNs were read); when this
    machine's resolvers were the trouble, the words say so (the chain is then unknown, which
    is not a finding about the name)."""

    name: str
    canonical_name: str | None
    chain: tuple[str, ...] = ()
    resolver: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class PasswordSettings:
    """A fine-grained password policy (msDS-PasswordSettings object, "PSO") as read: intervals as
    AD stores them (negative 100-ns counts; ``lockout_duration`` 0 = locked until an administrator
    unlocks, the minimum int64 = never), None when the attribute was not returned."""

    dn: str
    precedence: int | None = None
    max_pwd_age: int | None = None
    lockout_duration: int | None = None
    lockout_threshold: int | None = None


@dataclass(frozen=True)
class AccountInfo:
    """An account as read, times as raw FILETIME ints (see module docstring).

    ``object_classes`` are lower case; ``user_account_control`` the raw flags; ``password_last_set``
    / ``lockout_time`` / ``account_expires`` FILETIMEs (None when absent); ``object_sid`` the
    account's SID ("S-1-5-21-..."; None when absent or malformed).

    What the DC computes itself, with the fine-grained password policy that applies (read by name
    in a base read of the account; None when the DC did not return them):

    * ``password_expiry_computed``: msDS-UserPasswordExpiryTimeComputed, a FILETIME;
      0x7FFFFFFFFFFFFFFF = never expires, 0 = pwdLastSet is 0 (must change at next logon)
      (MS-ADTS 3.1.1.4.5.33).
    * ``account_control_computed``: msDS-User-Account-Control-Computed, with UF_LOCKOUT (0x10)
      and UF_PASSWORD_EXPIRED (0x800000) as of the DC's clock at the read (MS-ADTS 3.1.1.4.5.17).
    * ``resultant_pso``: msDS-ResultantPSO, the DN of the PSO in effect (None = the domain policy);
      ``password_settings``: that PSO's settings, None when the reader may not read it (by default
      only Domain Admins may).
    """

    dn: str
    sam_account_name: str | None
    user_principal_name: str | None
    object_classes: tuple[str, ...]
    user_account_control: int | None
    password_last_set: int | None
    lockout_time: int | None
    account_expires: int | None
    supported_encryption_types: int | None
    service_principal_names: tuple[str, ...] = ()
    password_expiry_computed: int | None = None
    account_control_computed: int | None = None
    resultant_pso: str | None = None
    password_settings: PasswordSettings | None = None
    object_sid: str | None = None

    @property
    def is_gmsa(self) -> bool:
        return "msds-groupmanagedserviceaccount" in self.object_classes


@dataclass(frozen=True)
class SpnHolder:
    """An account holding an SPN: its DN, sAMAccountName and userAccountControl (disabled = 0x2)."""

    dn: str
    sam_account_name: str | None = None
    user_account_control: int | None = None

    @property
    def enabled(self) -> bool | None:
        return None if self.user_account_control is None else not self.user_account_control & 0x2


@dataclass(frozen=True)
class SpnRegistration:
    """Who holds ``spn`` forest-wide (from the Global Catalog when available)."""

    spn: str
    holders: tuple[SpnHolder, ...]
    source: str  # "global catalog" or "domain"


@dataclass(frozen=True)
class KdsRootKey:
    """A KDS root key: ``created`` and ``use_start`` as FILETIME ints (msKds-CreateTime,
    msKds-UseStartTime, the moment DCs start using it)."""

    dn: str
    created: int | None
    use_start: int | None


@dataclass(frozen=True)
class PrivilegedMember:
    """A (transitive) member of Domain Admins, Enterprise Admins or BUILTIN\\Administrators, once
    per account, and its UPN.

    ``group`` is the first privileged group it was found in (in that order); ``groups`` says how
    it belongs to each, sorted: the group, the nested groups it came through joined by " > "
    (``"Administrators > Domain Admins"``), and " (primary group)" when the membership is its
    primaryGroupID, which a group's ``member`` never lists (MS-ADA2 2.43 member). ``other_domain``
    is True for a member whose DN lies outside the domain partition read (Enterprise Admins and
    Administrators may hold accounts of other domains of the forest): this DC answers such a read
    with a referral, which is not followed, so its names are unknown.
    """

    group: str
    dn: str
    sam_account_name: str | None
    user_principal_name: str | None
    groups: tuple[str, ...] = ()
    other_domain: bool = False


#: The sections the directory probe reads, in order (the keys of DirectoryFacts.section_errors).
DIRECTORY_SECTIONS = ("root_dse", "policy", "schema", "upn_suffixes", "policy_domain", "domain_controllers",
                      "service_account", "gmsa", "kds", "seamless_sso", "privileged", "spn", "dkm", "scan")


@dataclass(frozen=True)
class DirectoryFacts:
    """The directory fact (key ``directory``).

    ``configured`` is False when the run has no [directory] settings (the checks skip).
    ``forest_dns_names`` and ``forest_domain_ncs`` are the forest's domains (crossRef dnsRoot and
    nCName, in the same order). ``domain_sid`` is the read domain's objectSid; when that value is
    malformed ``domain_sid_problem`` says how (malformed data, not missing rights).
    ``section_errors`` maps a section name (one of :data:`DIRECTORY_SECTIONS`) to why it could not
    be read: every check that needs it reports ``error`` with that reason, never a judgement of
    the empty default. When the RootDSE cannot be read nothing else is, and every section says so.
    """

    configured: bool
    connection: DirectoryConnection
    root_dse: RootDse | None = None
    schema_object_version: int | None = None
    forest_upn_suffixes: tuple[str, ...] = ()
    forest_dns_names: tuple[str, ...] = ()
    forest_domain_ncs: tuple[str, ...] = ()
    domain_sid: str | None = None
    domain_sid_problem: str | None = None
    max_pwd_age: int | None = None
    lockout_duration: int | None = None
    lockout_threshold: int | None = None  # failed logons before lockout; 0 = never locks out
    domain_controllers: tuple[DomainController, ...] = ()
    scan: ScanResult | None = None
    service_account_name: str | None = None
    service_account: AccountInfo | None = None
    service_name: str | None = None
    spn_registrations: tuple[SpnRegistration, ...] = ()
    service_name_aliases: ServiceNameAliases | None = None
    gmsa_accounts: tuple[str, ...] = ()
    kds_root_keys: tuple[KdsRootKey, ...] = ()
    seamless_sso_account: AccountInfo | None = None
    privileged_members: tuple[PrivilegedMember, ...] = ()
    dkm: DkmFacts | None = None
    section_errors: Mapping[str, str] = field(default_factory=dict)

    def calendar_certificates(self) -> list[Any]:
        """The domain controller's LDAPS/StartTLS certificate for the certificate calendar (role
        "LDAPS"): an expired DC certificate breaks LDAPS binds of AD FS and of this tool alike."""
        from adfs_readiness.facts.tls import SeenCertificate

        cert = self.connection.tls_certificate if self.connection is not None else None
        if cert is None:
            return []
        return [SeenCertificate("LDAPS", cert, f"domain controller {self.connection.server}")]
