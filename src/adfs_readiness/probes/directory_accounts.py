"""The directory probe's account readers: the AD FS service account (with the DC-computed
password expiry and lockout), gMSAs, KDS root keys, the privileged groups' members and the holders
of the federation service's SPNs (Global Catalog first).

Split from :mod:`adfs_readiness.probes.directory`, which calls them section by section; each raises
on a read it cannot complete (the caller records a section error) and never writes.
"""

from __future__ import annotations

from typing import Mapping

import warnings

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names pyasn1 has deprecated (tagMap, typeMap): not ours to fix.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3.utils.dn import to_dn

from adfs_readiness.facts.directory import (
    AccountInfo,
    KdsRootKey,
    PasswordSettings,
    PrivilegedMember,
    RootDse,
    SpnHolder,
    SpnRegistration,
)
from adfs_readiness.probes.directory_session import DirectorySession
from adfs_readiness.probes.ldap_decode import parse_int, sid_from_bytes, text
from adfs_readiness.probes.ldap_search import eq_filter

__all__ = ["read_account", "read_names", "read_kds", "read_privileged", "read_spns", "in_partition"]

_ACCOUNT_ATTRS = ["objectClass", "sAMAccountName", "userPrincipalName", "userAccountControl", "pwdLastSet",
                  "lockoutTime", "accountExpires", "msDS-SupportedEncryptionTypes", "servicePrincipalName", "objectSid"]
# Constructed attributes (MS-ADTS 3.1.1.4.5): computed by the DC with the fine-grained password
# policy in effect, returned only when asked for by name; read in a base read of one account.
_COMPUTED_ATTRS = ["msDS-UserPasswordExpiryTimeComputed", "msDS-User-Account-Control-Computed", "msDS-ResultantPSO"]
_PSO_ATTRS = ["msDS-PasswordSettingsPrecedence", "msDS-MaximumPasswordAge", "msDS-LockoutDuration",
              "msDS-LockoutThreshold"]
# BUILTIN\Administrators' well-known SID: with Domain Admins and Enterprise Admins the highest-privilege
# groups (Microsoft Learn, "Appendix B: Privileged Accounts and Groups in Active Directory").
_BUILTIN_ADMINISTRATORS = "S-1-5-32-544"
_MEMBER_ATTRS = ["objectClass", "objectSid", "sAMAccountName", "userPrincipalName"]


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
        resultant_pso=one("msDS-ResultantPSO", computed), password_settings=pso,
        object_sid=_sid(attrs.get("objectSid")))


def _sid(values: list[bytes] | None) -> str | None:
    """The SID string of an objectSid value; None when absent or malformed (the fact then lacks
    it; a malformed SID is data, never a reason to think the reader was denied it)."""
    if not values:
        return None
    try:
        return sid_from_bytes(values[0])
    except ValueError:
        return None


def _computed(session: DirectorySession, dn: str) -> tuple[Mapping[str, list[bytes]], PasswordSettings | None]:
    """The account's constructed attributes (a base read asking for them by name) and the settings
    of the PSO in effect. A DC that refuses the read, or a reader denied the attributes, gives
    ``{}``: the check then falls back to the domain policy and says so. The PSO is None when it
    cannot be read (AD lets only Domain Admins read PSOs by default)."""
    try:
        attrs = session.read(dn, _COMPUTED_ATTRS) or {}
    except RuntimeError:  # an LDAP error result, not a lost connection (that one propagates)
        return {}, None
    pso_dn = text(attrs["msDS-ResultantPSO"][0]) if attrs.get("msDS-ResultantPSO") else None
    if not pso_dn:
        return attrs, None
    try:
        raw = session.read(pso_dn, _PSO_ATTRS)
    except RuntimeError:
        raw = None
    if not raw:
        return attrs, None

    def num(key: str) -> int | None:
        return parse_int(text(raw[key][0])) if raw.get(key) else None
    return attrs, PasswordSettings(pso_dn, num("msDS-PasswordSettingsPrecedence"), num("msDS-MaximumPasswordAge"),
                                   num("msDS-LockoutDuration"), num("msDS-LockoutThreshold"))


def read_account(session: DirectorySession, base: str, name: str, exact: bool = False) -> AccountInfo | None:
    """The account with sAMAccountName ``name`` (a gMSA's name may be given without its "$"),
    with the password expiry and lockout state the DC computes (:func:`_computed`). Raises
    SearchCut when the search was cut short."""
    candidates = [name] if exact or name.endswith("$") else [name, name + "$"]
    for candidate in candidates:
        found = session.search(base, eq_filter("sAMAccountName", candidate), _ACCOUNT_ATTRS)
        if found:
            dn, attrs = found[0]
            return _account_from(dn, attrs, *_computed(session, dn))
    return None


def read_names(session: DirectorySession, base: str, ldap_filter: str) -> tuple[str, ...]:
    """The sorted sAMAccountNames of the objects ``ldap_filter`` finds under ``base`` (gMSAs).
    Raises SearchCut when the search is cut short."""
    names = [text(a["sAMAccountName"][0]) for _, a in session.search(base, ldap_filter, ["sAMAccountName"])
             if a.get("sAMAccountName")]
    return tuple(sorted(names))


def read_kds(session: DirectorySession, conf_nc: str) -> tuple[KdsRootKey, ...]:
    """The KDS root keys (msKds-ProvRootKey under CN=Services of the configuration partition) the
    bound account can see, oldest first; only Domain Admins and Enterprise Admins can see any.
    Raises SearchCut when the search is cut short."""
    keys = []
    for dn, attrs in session.search(f"CN=Services,{conf_nc}", "(objectClass=msKds-ProvRootKey)",
                                    ["msKds-CreateTime", "msKds-UseStartTime"]):
        keys.append(KdsRootKey(dn, parse_int(text(attrs["msKds-CreateTime"][0])) if attrs.get("msKds-CreateTime") else None,
                               parse_int(text(attrs["msKds-UseStartTime"][0])) if attrs.get("msKds-UseStartTime") else None))
    return tuple(sorted(keys, key=lambda k: k.created or 0))


def read_privileged(session: DirectorySession, domain_nc: str, domain_sid: str | None, root: RootDse
                    ) -> tuple[PrivilegedMember, ...]:
    """Every account in Domain Admins (RID 512), Enterprise Admins (RID 519, forest root only) and
    BUILTIN\\Administrators (S-1-5-32-544), found by well-known SID, once per account (sorted by
    DN) with every way it belongs (:class:`PrivilegedMember`). Members are read with range
    retrieval and nested groups followed (each group once per privileged group, so cycles end);
    for every group of this domain on the way, the accounts whose primaryGroupID is its RID are
    searched too, since a group's ``member`` never lists them (MS-ADA2 2.43, MS-ADA3 2.120).
    Raises RuntimeError when the domain SID is unknown, SearchCut when a search is cut short."""
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
            cache[dn.lower()] = session.read(dn, _MEMBER_ATTRS) or {}
        return cache[dn.lower()]

    def search(ldap_filter: str) -> list[tuple[str, Mapping[str, list[bytes]]]]:
        return sorted(session.search(domain_nc, ldap_filter, _MEMBER_ATTRS), key=lambda h: h[0].lower())

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
            members = sorted((text(v) for v in session.ranged_values(group_dn, "member")), key=str.lower)
            for dn in members:
                if not in_partition(dn, domain_nc):  # another domain's account: a referral, not followed
                    add(dn, {}, label, path)
                    foreign.add(dn.lower())
                    continue
                attrs = entry(dn)
                if "group" in {text(c).lower() for c in attrs.get("objectClass", ())}:
                    name = text(attrs["sAMAccountName"][0]) if attrs.get("sAMAccountName") else dn
                    queue.append((dn, attrs, f"{path} > {name}"))
                else:
                    add(dn, attrs, label, path)
            group_sid = _sid(group_attrs.get("objectSid"))
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
    """(attribute, value) of each RDN of an RFC 4514 DN string, lower-cased: ldap3's own DN
    splitter (escaped commas kept in the value). Not ldap3's parse_dn, which refuses an unescaped
    "=" in a value that RFC 4514 allows and AD returns (CN=a=b)."""
    return [(attribute.strip().lower(), value.strip().lower()) for attribute, value in to_dn(dn, decompose=True)]


def in_partition(dn: str, partition: str) -> bool:
    """Whether ``dn`` lies in the domain naming context ``partition``: its last RDNs are the
    partition's (case-insensitive) and no DC= RDN comes before them (a child domain's DNs,
    ``...,DC=emea,DC=contoso,DC=test``, also end with the parent's RDNs)."""
    inner, outer = _rdns(dn), _rdns(partition)
    if not outer or len(inner) <= len(outer) or inner[-len(outer):] != outer:
        return False
    return not any(attribute == "dc" for attribute, _ in inner[:-len(outer)])


def read_spns(session: DirectorySession, domain_nc: str, names: tuple[str, ...]) -> tuple[SpnRegistration, ...]:
    """Holders of HOST/<name> and HTTP/<name> forest-wide for each of ``names`` (the federation
    service name, then the names its CNAME chain leads to): on the Global Catalog (3268, or 3269
    for LDAPS) of the same DC; on the domain partition when the GC cannot be reached. Each holder
    with its userAccountControl (a disabled leftover account is told from an enabled one).
    Raises SearchCut when a search is cut short."""
    gc = session.global_catalog()
    search_session, base, source = (gc, "", "global catalog") if gc is not None else (session, domain_nc, "domain")
    try:
        regs = []
        for name in dict.fromkeys(n.lower() for n in names):
            for spn in (f"HOST/{name}", f"HTTP/{name}"):
                found = search_session.search(base, eq_filter("servicePrincipalName", spn),
                                              ["sAMAccountName", "userAccountControl"])
                holders = tuple(SpnHolder(dn, text(a["sAMAccountName"][0]) if a.get("sAMAccountName") else None,
                                          parse_int(text(a["userAccountControl"][0])) if a.get("userAccountControl") else None)
                                for dn, a in found)
                regs.append(SpnRegistration(spn, holders, source))
        return tuple(regs)
    finally:
        if gc is not None:
            gc.close()
