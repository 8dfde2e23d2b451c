"""The directory probe's reader of AD FS certificate sharing (DKM): the container
``CN=ADFS,CN=Microsoft,CN=Program Data,<domain>``, each farm's ``CN=<GUID>`` container below it and
the contacts inside (the key contacts hold DKM master keys in ``thumbnailPhoto``; AD FS's
``CryptoPolicy`` contact does not), each with its owner and DACL read through the SD-flags control,
and every SID those name resolved to an account. The key material is never read: no search asks
for ``thumbnailPhoto``.

Sources: Microsoft Learn, "Creating an AD FS Farm without domain admin privileges" (the DKM
container and the rights AD FS's service account gets on it); Microsoft Defender for Identity,
"Suspected AD FS DKM key read (external ID 2413)" (the contacts' thumbnailPhoto is the key).
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # ldap3 2.9.1 imports names pyasn1 has deprecated (tagMap, typeMap): not ours to fix.
    warnings.simplefilter("ignore", DeprecationWarning)
    from ldap3 import LEVEL

from adfs_readiness.facts.directory_acl import DkmFacts, DkmFarm, DkmObject, Principal, SecurityDescriptorRead
from adfs_readiness.facts.directory import OBJECT_CLASSES
from adfs_readiness.probes.directory_session import DirectorySession
from adfs_readiness.probes.ldap_acl import decode_security_descriptor
from adfs_readiness.probes.ldap_decode import sid_from_bytes, text
from adfs_readiness.probes.ldap_search import eq_filter

__all__ = ["read_dkm", "DKM_CONTAINER_PATH"]

#: Where AD FS keeps certificate sharing below the domain's naming context.
DKM_CONTAINER_PATH = "CN=ADFS,CN=Microsoft,CN=Program Data"
_RESOLVE_CHUNK = 50  # SIDs per lookup filter


def _security(session: DirectorySession, dn: str) -> tuple[bool, SecurityDescriptorRead]:
    exists, raw = session.security_descriptor(dn)
    if not exists:
        return False, SecurityDescriptorRead(dn, error="the object does not exist (or the reader cannot see it)")
    if raw is None:
        return True, SecurityDescriptorRead(dn, error="no security descriptor was returned: the account this run "
                                                      "bound as lacks Read Permissions (READ_CONTROL) on it")
    return True, decode_security_descriptor(dn, raw)


def _resolve(session: DirectorySession, domain_nc: str, sids: set[str]) -> dict[str, Principal]:
    """SID -> Principal for the SIDs of accounts and groups stored in this domain (BUILTIN
    included); others (well-known SIDs like S-1-5-11, accounts of other domains) stay unnamed."""
    out = {sid: Principal(sid) for sid in sids}
    wanted = sorted(s for s in sids if s.startswith(("S-1-5-21-", "S-1-5-32-")))
    for start in range(0, len(wanted), _RESOLVE_CHUNK):
        chunk = wanted[start:start + _RESOLVE_CHUNK]
        ldap_filter = "(|" + "".join(eq_filter("objectSid", sid) for sid in chunk) + ")"
        for dn, attrs in session.search(domain_nc, ldap_filter, ["objectSid", "sAMAccountName", "objectClass"]):
            try:
                sid = sid_from_bytes(attrs["objectSid"][0]) if attrs.get("objectSid") else None
            except ValueError:
                continue
            if sid not in out:
                continue
            classes = {text(c).lower() for c in attrs.get("objectClass", ())}
            kind = next((c for c in ("msds-groupmanagedserviceaccount", *OBJECT_CLASSES) if c in classes), None)
            name = text(attrs["sAMAccountName"][0]) if attrs.get("sAMAccountName") else None
            out[sid] = Principal(sid, name, dn, kind)
    return out


def read_dkm(session: DirectorySession, domain_nc: str) -> DkmFacts:
    """The certificate-sharing containers of ``domain_nc`` and who their descriptors name. Raises
    SearchCut when a listing is cut short, ldap3's LDAPException on connection trouble."""
    container = f"{DKM_CONTAINER_PATH},{domain_nc}"
    exists, container_security = _security(session, container)
    if not exists:
        return DkmFacts(container, exists=False)
    farms = []
    for farm_dn, attrs in sorted(session.search(container, "(objectClass=*)", ["whenChanged"], scope=LEVEL),
                                 key=lambda e: e[0].lower()):
        _, farm_security = _security(session, farm_dn)
        objects = []
        for dn, child in sorted(session.search(farm_dn, "(objectClass=*)", ["cn"], scope=LEVEL),
                                key=lambda e: e[0].lower()):
            name = text(child["cn"][0]) if child.get("cn") else dn.split(",", 1)[0].split("=", 1)[-1]
            objects.append(DkmObject(dn, name, name.lower() != "cryptopolicy", _security(session, dn)[1]))
        changed = text(attrs["whenChanged"][0]) if attrs.get("whenChanged") else None
        farms.append(DkmFarm(farm_dn, farm_security, tuple(objects), changed))
    descriptors = [container_security] + [f.security for f in farms] + [o.security for f in farms for o in f.objects]
    sids = {e.trustee for d in descriptors for e in d.entries} | {d.owner for d in descriptors if d.owner}
    return DkmFacts(container, True, container_security, tuple(farms), _resolve(session, domain_nc, sids))
