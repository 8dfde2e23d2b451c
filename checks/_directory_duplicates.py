"""Duplicate detection for the directory rule checks (private to ``adfs_readiness_checks``).

Two rules, both case-insensitive (IdFix's DuplicateStore compares with
StringComparer.InvariantCultureIgnoreCase) and counted per object, whatever order the objects were
read in:

* IdFix's NoDuplicatesRule, per attribute: userPrincipalName, mail, mailNickname, targetAddress,
  every proxyAddresses value (the whole value: ``SMTP:a@contoso.com`` and ``smtp:a@contoso.com``
  are one address; X500, SIP and every other type too), sAMAccountName only among objects with no
  userPrincipalName (IdFix's SamAccountNameDuplicateRule);
* Microsoft Entra ID's uniqueness of addresses across objects: a userPrincipalName, a mail or an
  smtp proxy address of one object may not be any of those of another object (Entra Connect's
  "duplicate attribute resiliency" quarantines the later one).

One object holding a value twice (``SMTP:`` and ``smtp:`` of one address; its mail equal to its
own UPN) is never a duplicate.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from typing import Any, Callable, Iterable, Sequence

from adfs_readiness.facts.directory import DirectoryObject

from .directory_rules import Problem

__all__ = ["duplicate_problems"]

_FIX = "make the value unique: keep it on one object and change or remove it on the others"
_OTHERS = 3  # other holders named in a row


def _addresses(o: DirectoryObject) -> list[tuple[str, str, str]]:
    """(attribute, value as stored, normalised address) of the object's UPN, mail and smtp proxies."""
    out = []
    upn, mail = o.user_principal_name, o.mail
    if upn and upn.strip():
        out.append(("userPrincipalName", upn, upn.strip().lower()))
    if mail and mail.strip():
        out.append(("mail", mail, mail.strip().lower()))
    for v in o.proxy_addresses:
        if v[:5].lower() == "smtp:" and v[5:].strip():
            out.append(("proxyAddresses", v, v[5:].strip().lower()))
    return out


def _shared(objects: Sequence[DirectoryObject], keys: Callable[[DirectoryObject], Iterable[str]]) -> set[int]:
    """The hashes of the keys two different objects hold (a superset: a 64-bit hash collision only
    adds a candidate, which the exact comparison after drops). Memory stays small at 100,000+
    objects: one sorted array of hashes, no index of every value."""
    hashes = array("q")
    for o in objects:
        hashes.extend({hash(k) for k in keys(o)})  # an object holding a key twice counts once
    ordered = sorted(hashes)
    return {a for a, b in zip(ordered, ordered[1:]) if a == b}


def _groups(objects: Sequence[DirectoryObject], values: Callable[[DirectoryObject], Iterable[tuple[str, str]]]
            ) -> dict[str, dict[str, tuple[DirectoryObject, str]]]:
    """key -> {dn (lower): (object, value as stored)} for every key at least two objects hold."""
    candidates = _shared(objects, lambda o: [key for _, key in values(o)])
    if not candidates:
        return {}
    index: dict[str, dict[str, tuple[DirectoryObject, str]]] = defaultdict(dict)
    for o in objects:
        for value, key in values(o):
            if hash(key) in candidates:
                index[key].setdefault(o.dn.lower(), (o, value))
    return {k: v for k, v in index.items() if len(v) > 1}


def _rows(check_id: str, attribute: str, groups: dict[str, dict[str, tuple[DirectoryObject, str]]],
          what: str) -> list[Problem]:
    out = []
    for holders in groups.values():
        for dn, (o, value) in holders.items():
            others = sorted(h[0].dn for d, h in holders.items() if d != dn)
            named = "; ".join(others[:_OTHERS]) + (f" and {len(others) - _OTHERS} more" if len(others) > _OTHERS else "")
            out.append(Problem(check_id, o.dn, attribute, value,
                               f"duplicate {what} (case-insensitive), also on {named}", _FIX))
    return out


def _single(get: Callable[[DirectoryObject], str | None]) -> Callable[[DirectoryObject], Iterable[tuple[str, str]]]:
    def values(o: DirectoryObject) -> Iterable[tuple[str, str]]:
        v = get(o)
        return [(v, v.strip().lower())] if v is not None and v.strip() else []
    return values


#: (object, dn lower, attribute, value as stored, normalised address) of every address another
#: object may hold too, and address -> {dn lower: attributes holding it}.
_CrossIndex = tuple[list[tuple[DirectoryObject, str, str, str, str]], dict[str, dict[str, set[str]]]]


def _cross_index(objects: Sequence[DirectoryObject]) -> _CrossIndex:
    """Every UPN, mail and smtp proxy address at least two objects hold, with its holders: the
    same for the three checks that ask (upn-duplicates, mail, proxyaddresses), so computed once
    per scan when the caller passes ``derive``."""
    candidates = _shared(objects, lambda o: [key for _, _, key in _addresses(o)])
    holders: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    held: list[tuple[DirectoryObject, str, str, str, str]] = []
    if not candidates:
        return held, holders
    for o in objects:
        mine = o.dn.lower()
        for attr, value, key in _addresses(o):
            if hash(key) in candidates:
                holders[key][mine].add(attr)
                held.append((o, mine, attr, value, key))
    return held, holders


def _cross(check_id: str, attribute: str, index: _CrossIndex) -> list[Problem]:
    """Rows for the ``attribute`` values of objects whose address another object holds in another
    of userPrincipalName / mail / smtp proxyAddresses (the same attribute is IdFix's rule)."""
    held, holders = index
    out = []
    for o, mine, attr, value, key in held:
        if attr != attribute or len(holders[key]) < 2:
            continue
        elsewhere = sorted((dn, a) for dn, attrs in holders[key].items() if dn != mine for a in attrs if a != attribute)
        if not elsewhere:
            continue  # only the same attribute elsewhere: the per-attribute rule reports it
        dns = {dn for dn, _ in elsewhere}
        names = sorted({a for _, a in elsewhere})
        shown = "; ".join(sorted(dns)[:_OTHERS]) + (f" and {len(dns) - _OTHERS} more" if len(dns) > _OTHERS else "")
        out.append(Problem(check_id, o.dn, attribute, value,
                           f"the same address is the {' / '.join(names)} of another object ({shown}): Entra ID "
                           "needs userPrincipalName, mail and proxy addresses unique across objects", _FIX))
    return out


def duplicate_problems(check_id: str, objects: Sequence[DirectoryObject],
                       derive: Callable[[str, Callable[[], Any]], Any] | None = None) -> list[Problem]:
    """Duplicate rows of ``check_id`` over the in-scope objects (unsorted; the caller sorts).
    ``derive`` (:meth:`ScanResult.derived` of the scan ``objects`` are the scope of) keeps the
    cross-attribute address index for the other checks that need it; None computes it here."""

    def cross(attribute: str) -> list[Problem]:
        index = (derive("address cross index", lambda: _cross_index(objects)) if derive is not None
                 else _cross_index(objects))
        return _cross(check_id, attribute, index)

    if check_id == "directory.upn-duplicates":
        users = [o for o in objects if o.object_class in ("user", "inetOrgPerson")]
        return (_rows(check_id, "userPrincipalName", _groups(users, _single(lambda o: o.user_principal_name)),
                      "userPrincipalName")
                + cross("userPrincipalName"))
    if check_id == "directory.mail":
        return (_rows(check_id, "mail", _groups(objects, _single(lambda o: o.mail)), "mail")
                + cross("mail"))
    if check_id == "directory.mailnickname":
        return _rows(check_id, "mailNickname", _groups(objects, _single(lambda o: o.mail_nickname)), "mailNickname")
    if check_id == "directory.targetaddress":
        return _rows(check_id, "targetAddress", _groups(objects, _single(lambda o: o.target_address)),
                     "targetAddress")
    if check_id == "directory.samaccountname":
        without_upn = [o for o in objects if o.user_principal_name is None]
        return _rows(check_id, "sAMAccountName", _groups(without_upn, _single(lambda o: o.sam_account_name)),
                     "sAMAccountName (objects without a userPrincipalName)")
    if check_id == "directory.proxyaddresses":
        def values(o: DirectoryObject) -> Iterable[tuple[str, str]]:
            return [(v, v.strip().lower()) for v in o.proxy_addresses if v.strip()]
        return (_rows(check_id, "proxyAddresses", _groups(objects, values), "proxy address")
                + cross("proxyAddresses"))
    return []
