"""The directory probe's streamed scan: every user, contact and group under the scan base, read
with the pipelined paged reader and kept as :class:`~adfs_readiness.facts.directory.DirectoryObject`
facts (only the attributes the checks' rules read). No judging here: which objects IdFix would
skip, which values are invalid or duplicated is ``checks/directory_rules.py``'s business.

Why it stays fast: the reader asks for page n+1 before page n is decoded (the DC builds pages
while we decode), and decoding an entry is a handful of dictionary reads and UTF-8 decodes.
"""

from __future__ import annotations

import time
from typing import Mapping

from adfs_readiness.facts.directory import OBJECT_CLASSES, DirectoryObject, ScanResult
from adfs_readiness.probes.directory_session import DirectorySession
from adfs_readiness.probes.ldap_search import SearchStatus

__all__ = ["SCAN_FILTER", "SCAN_ATTRIBUTES", "EXCHANGE_ATTRIBUTES", "scan_objects", "decode_object"]

#: IdFix's default MultiTenant filter (SettingsManager.DefaultMTFilter), and Entra Connect's object types.
SCAN_FILTER = "(|(objectCategory=person)(objectCategory=group))"

#: What the scan reads: IdFix 2.6's MultiTenant attributes (MultiTenantRuleCollection.AttributesToQuery)
#: without homeMdb (only its Dedicated rules use it), plus objectGUID / ms-DS-ConsistencyGuid (the
#: source anchor) and userAccountControl. Attributes the schema lacks (Exchange's, on a forest that
#: never had Exchange) simply come back absent: the connection does no schema checking.
SCAN_ATTRIBUTES = ["objectClass", "cn", "sAMAccountName", "userPrincipalName", "mail", "proxyAddresses",
                   "mailNickname", "displayName", "givenName", "targetAddress", "objectGUID", "mS-DS-ConsistencyGuid",
                   "isCriticalSystemObject", "groupType", "userAccountControl", "msExchHideFromAddressLists",
                   "msExchRecipientTypeDetails"]

#: Attributes of the Exchange schema extension the rules read: whether the schema has them decides
#: whether a rule on them has anything to judge.
EXCHANGE_ATTRIBUTES = ("mailNickname", "targetAddress", "msExchHideFromAddressLists", "msExchRecipientTypeDetails")

_PROGRESS_EVERY = 1000


def _text(values: list[bytes] | None) -> str | None:
    return values[0].decode("utf-8", "backslashreplace") if values else None


def _number(values: list[bytes] | None) -> int | None:
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        return None


def decode_object(dn: str, raw: Mapping[str, list[bytes]]) -> DirectoryObject:
    """One raw entry of the scan as a DirectoryObject (attribute names case-insensitive)."""
    a = {k.lower(): v for k, v in raw.items()}
    classes = {c.decode("utf-8", "replace").lower() for c in a.get("objectclass", ())}
    object_class = next((c for c in OBJECT_CLASSES if c in classes), "other")
    if object_class == "inetorgperson":
        object_class = "inetOrgPerson"
    cn = _text(a.get("cn"))
    guid = a.get("objectguid")
    # A replication conflict's RDN is "<name>\nCNF:<GUID>" (MS-ADTS 3.1.1.5.1.4); the DN string
    # escapes the line feed as \0A (RFC 4514).
    conflict = "\\0acnf:" in dn.lower() or "\ncnf:" in (cn or "").lower()
    return DirectoryObject(
        dn=dn, object_class=object_class, cn=cn, sam_account_name=_text(a.get("samaccountname")),
        user_principal_name=_text(a.get("userprincipalname")), mail=_text(a.get("mail")),
        proxy_addresses=tuple(v.decode("utf-8", "backslashreplace") for v in a.get("proxyaddresses", ())),
        mail_nickname=_text(a.get("mailnickname")), display_name=_text(a.get("displayname")),
        given_name=_text(a.get("givenname")), target_address=_text(a.get("targetaddress")),
        object_guid=guid[0] if guid else None, consistency_guid=bool(a.get("ms-ds-consistencyguid")),
        critical_system_object=_text(a.get("iscriticalsystemobject")) == "TRUE",
        group_type=_number(a.get("grouptype")), user_account_control=_number(a.get("useraccountcontrol")),
        hide_from_address_lists=_text(a.get("msexchhidefromaddresslists")) == "TRUE",
        recipient_type_details=_number(a.get("msexchrecipienttypedetails")), conflict=conflict)


def scan_objects(session: DirectorySession, base: str, attributes_in_schema: Mapping[str, bool]) -> ScanResult:
    """Stream every person/group object under ``base`` into a ScanResult (never raises for LDAP
    trouble: a cut search is ``partial`` with the reason). Reports progress through the session."""
    started = time.monotonic()
    status = SearchStatus()
    objects: list[DirectoryObject] = []
    append = objects.append
    for dn, raw in session.stream(base, SCAN_FILTER, SCAN_ATTRIBUTES, status=status, pipeline=True,
                                  size_limit=session.size_limit):
        append(decode_object(dn, raw))
        if not status.entries % _PROGRESS_EVERY:
            session.progress(status.entries)
    return ScanResult(base_dn=base, objects=tuple(objects), partial=status.partial, partial_reason=status.reason,
                      referrals=tuple(dict.fromkeys(status.referrals)), page_size=session.effective_page_size,
                      attributes_in_schema=dict(attributes_in_schema),
                      elapsed_seconds=round(time.monotonic() - started, 3))
