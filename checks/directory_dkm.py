"""directory.dkm-access: who can read the key that protects AD FS's token-signing key.

AD FS encrypts the private keys of the certificates it generates (token-signing, token-decrypting)
with Distributed Key Manager (DKM); the DKM master keys sit in the ``thumbnailPhoto`` attribute of
contact objects under ``CN=<GUID>,CN=ADFS,CN=Microsoft,CN=Program Data,<domain>``. Read access to
that attribute plus a copy of the AD FS configuration database is all a "Golden SAML" attacker
needs to forge tokens for any user. AD FS itself needs only its service account (a gMSA or a user)
to read it; Tier 0 (SYSTEM, Domain Admins, Enterprise Admins, Administrators, domain controllers)
controls the directory anyway.

The judgement reads each key contact's DACL the way AD evaluates a read of ``thumbnailPhoto``
(MS-ADTS 5.1.3.3.3): allow ACEs that apply to the object (not inherit-only) granting Read Property
on all properties, on thumbnailPhoto (8d3bca50-1d7e-11d0-a081-00aa006c33ed) or on its property set
Personal Information (77b5b886-944a-11d1-aebd-0000f80367c1), or generic read / generic all; and
whoever can rewrite the DACL (WriteDacl, WriteOwner, and the owner) can grant itself that read. A
deny ACE for the same principal placed before the allow cancels it. Group memberships are not
expanded: a principal is named as the ACE names it.
"""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts.directory import DIRECTORY_FACT, DirectoryFacts
from adfs_readiness.facts.directory_acl import AccessEntry, DkmFacts, SecurityDescriptorRead

from ._directory_common import gate

__all__ = ["dkm_access", "readers"]

_THUMBNAIL_PHOTO = "8d3bca50-1d7e-11d0-a081-00aa006c33ed"
_PERSONAL_INFORMATION = "77b5b886-944a-11d1-aebd-0000f80367c1"
_READ_PROPERTY, _WRITE_DAC, _WRITE_OWNER = 0x10, 0x40000, 0x80000
_GENERIC_ALL, _GENERIC_READ = 0x10000000, 0x80000000
_FULL_CONTROL = 0xF01FF

#: Principals that contain every (or nearly every) account: fail.
_BROAD = {"S-1-1-0": "Everyone", "S-1-5-7": "Anonymous Logon", "S-1-5-11": "Authenticated Users",
          "S-1-5-2": "NETWORK", "S-1-5-4": "INTERACTIVE", "S-1-5-32-545": "BUILTIN\\Users",
          "S-1-5-32-546": "BUILTIN\\Guests",
          "S-1-5-32-554": "BUILTIN\\Pre-Windows 2000 Compatible Access (often holds Authenticated Users or Everyone)"}
_BROAD_RIDS = {"513": "Domain Users", "514": "Domain Guests", "515": "Domain Computers"}
#: Tier 0 and AD FS's own needs: expected.
_EXPECTED = {"S-1-5-18": "SYSTEM", "S-1-3-0": "CREATOR OWNER", "S-1-5-10": "SELF",
             "S-1-5-32-544": "BUILTIN\\Administrators", "S-1-5-9": "Enterprise Domain Controllers"}
_EXPECTED_RIDS = {"512": "Domain Admins", "516": "Domain Controllers", "518": "Schema Admins",
                  "519": "Enterprise Admins", "498": "Enterprise Read-only Domain Controllers"}

REF_DKM_DELEGATED = Reference("Creating an AD FS Farm without domain admin privileges (the DKM container and the "
                              "rights the AD FS service account gets on it)",
                              "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/deployment/"
                              "install-ad-fs-delegated-admin")
REF_MDI_DKM = Reference("Microsoft Defender for Identity: Suspected AD FS DKM key read (external ID 2413)",
                        "https://learn.microsoft.com/en-us/defender-for-identity/credential-access-alerts"
                        "#suspected-ad-fs-dkm-key-read-external-id-2413")
REF_ADFS_BEST_PRACTICES = Reference("Best practices for securing AD FS and Web Application Proxy (AD FS is Tier 0)",
                                    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/deployment/"
                                    "best-practices-securing-ad-fs")
REF_MSRC_GOLDEN_SAML = Reference("MSRC: Customer guidance on recent nation-state cyber attacks (forged SAML tokens "
                                 "from a stolen token-signing key)",
                                 "https://msrc.microsoft.com/blog/2020/12/customer-guidance-on-recent-nation-state-cyber-attacks/")


def _rid(sid: str) -> str | None:
    return sid.rsplit("-", 1)[1] if sid.startswith("S-1-5-21-") and sid.count("-") >= 7 else None


def _reads(e: AccessEntry) -> str | None:
    """How ``e`` lets its trustee read thumbnailPhoto (None: it does not)."""
    if e.mask & _GENERIC_ALL or (e.mask & _FULL_CONTROL) == _FULL_CONTROL and e.object_type is None:
        return "full control"
    if e.mask & _GENERIC_READ:
        return "generic read"
    if e.mask & _READ_PROPERTY:
        if e.object_type is None:
            return "read all properties"
        if e.object_type == _THUMBNAIL_PHOTO:
            return "read thumbnailPhoto"
        if e.object_type == _PERSONAL_INFORMATION:
            return "read the Personal Information property set (thumbnailPhoto is in it)"
    return None


def _rewrites(e: AccessEntry) -> str | None:
    if e.object_type is not None:
        return None
    if e.mask & _WRITE_DAC:
        return "change permissions (WriteDacl), then read"
    if e.mask & _WRITE_OWNER:
        return "take ownership (WriteOwner), then read"
    return None


def _denies_read(e: AccessEntry) -> bool:
    return bool(e.mask & (_GENERIC_ALL | _GENERIC_READ) or e.mask & _READ_PROPERTY and e.object_type in (
        None, _THUMBNAIL_PHOTO, _PERSONAL_INFORMATION))


def readers(sd: SecurityDescriptorRead) -> list[dict[str, Any]]:
    """Every way a principal can read thumbnailPhoto of the object ``sd`` describes: dicts with
    ``sid``, ``right`` and ``ace`` (which ACE: its index, allow, inherited or explicit), in DACL
    order; the owner last. A NULL DACL grants Everyone full control."""
    if not sd.dacl_present:
        return [{"sid": "S-1-1-0", "right": "full control (NULL DACL)", "ace": "no DACL at all"}]
    out: list[dict[str, Any]] = []
    denied: set[str] = set()
    for e in sd.entries:
        if e.inherit_only:
            continue
        if not e.allow:
            if _denies_read(e):
                denied.add(e.trustee)
            continue
        how = f"ACE {e.index} ({'inherited from a parent container' if e.inherited else 'explicit'})"
        right = None if e.trustee in denied else _reads(e)
        right = right or _rewrites(e)
        if right:
            out.append({"sid": e.trustee, "right": right, "ace": how})
    if sd.owner:
        out.append({"sid": sd.owner, "right": "owner: can change the permissions, then read", "ace": "the owner"})
    return out


def _name(dkm: DkmFacts, sid: str) -> str:
    p = dkm.principals.get(sid)
    if sid in _BROAD:
        return _BROAD[sid]
    if sid in _EXPECTED:
        return _EXPECTED[sid]
    rid = _rid(sid)
    if p is not None and p.name:
        return p.name
    if rid in _BROAD_RIDS:
        return _BROAD_RIDS[rid]
    if rid in _EXPECTED_RIDS:
        return _EXPECTED_RIDS[rid]
    return sid


def _service_sids(facts: DirectoryFacts, ctx: CheckContext) -> tuple[set[str], list[str]]:
    """SIDs of AD FS's own account(s) and how they were found."""
    sids, how = set(), []
    account = facts.service_account
    if account is not None and account.object_sid:
        sids.add(account.object_sid)
        how.append(f"directory.service_account {account.sam_account_name}")
    fs = (ctx.config.federation.service_name or "").lower()
    holders = {(h.sam_account_name or "").lower() for r in facts.spn_registrations if r.spn.lower() == f"host/{fs}"
               for h in r.holders}
    if facts.dkm is not None and holders:
        for sid, p in facts.dkm.principals.items():
            if p.name and p.name.lower() in holders and sid not in sids:
                sids.add(sid)
                how.append(f"{p.name}, which holds HOST/{fs}")
    return sids, how


@check(id="directory.dkm-access", title="Who can read the AD FS key-protection (DKM) keys", area=Area.DIRECTORY,
       severity=Severity.HIGH, blocker=False, requires=(DIRECTORY_FACT,),
       rule="Only AD FS's service account (or gMSA) and Tier 0 (SYSTEM, Domain Admins, Enterprise Admins, "
            "Administrators, domain controllers, the owner when it is one of these) can read the thumbnailPhoto of the "
            "key contacts in the AD FS certificate-sharing (DKM) container — by Read Property on it or its property set, "
            "all properties, generic read, full control, or by rewriting the permissions. A broad group (Everyone, "
            "Authenticated Users, Domain Users, Domain Computers, ...) fails; any other principal warns, named with the "
            "ACE that grants it. The container in use is named; a missing container, or one the service account cannot "
            "read, warns.",
       remediation="Remove the listed access control entries from the DKM container and its contacts (ADSI Edit, or "
                   "dsacls \"<DN>\" /R <principal>); keep the AD FS service account and Tier 0 only. Treat read access "
                   "by others as a possible key theft: rotate the token-signing and token-decrypting certificates "
                   "(twice) and review who read the contacts (Defender for Identity, event 4662 with a SACL).",
       references=(REF_MDI_DKM, REF_DKM_DELEGATED, REF_ADFS_BEST_PRACTICES, REF_MSRC_GOLDEN_SAML))
def dkm_access(ctx: CheckContext) -> Outcome:
    facts = gate(ctx, "dkm")
    if isinstance(facts, Outcome):
        return facts
    dkm = facts.dkm
    if dkm is None:
        raise CannotDetermine("the AD FS certificate-sharing container was not read")
    if not dkm.exists or not dkm.farms:
        where = dkm.container if dkm.exists else f"{dkm.container} (not found)"
        return Outcome(Status.WARN, f"No AD FS certificate-sharing (DKM) container in {where}: AD FS is not installed "
                                    "yet, or its farm keeps certificate sharing in another domain (the service "
                                    "account's); check Get-AdfsProperties | Select CertificateSharingContainer.",
                       evidence={"container": dkm.container, "exists": dkm.exists})
    service, service_how = _service_sids(facts, ctx)
    broad: list[dict[str, Any]] = []
    unexpected: list[dict[str, Any]] = []
    undetermined: list[str] = []
    rows: list[dict[str, Any]] = []
    farms: list[dict[str, Any]] = []
    for farm in dkm.farms:
        if farm.security.error:  # its children may be invisible too: nothing about it can be told
            undetermined.append(f"{farm.dn}: {farm.security.error}")
        keys = [o for o in farm.objects if o.key]
        farms.append({"dn": farm.dn, "key_objects": [o.dn for o in keys], "changed": farm.when_changed})
        service_reads = False
        for obj in keys:
            if obj.security.error:
                undetermined.append(f"{obj.dn}: {obj.security.error}")
                continue
            for r in readers(obj.security):
                sid = r["sid"]
                row = {"object": obj.dn, "principal": _name(dkm, sid), "sid": sid, "right": r["right"], "ace": r["ace"]}
                rid = _rid(sid)
                if sid in service:
                    service_reads = service_reads or not r["right"].startswith(("owner", "change", "take"))
                    row["expected"] = "the AD FS service account"
                elif sid in _BROAD or rid in _BROAD_RIDS:
                    broad.append(row)
                elif sid in _EXPECTED or rid in _EXPECTED_RIDS:
                    row["expected"] = "Tier 0"
                else:
                    unexpected.append(row)
                rows.append(row)
        farms[-1]["service_account_reads"] = service_reads if service else None
    evidence = {"container": dkm.container, "farms": farms, "readers": rows,
                "service_account": {"sids": sorted(service), "found_as": service_how},
                "undetermined": undetermined}
    in_use = [f for f in farms if f["key_objects"]]
    named = (f"the certificate-sharing container {in_use[0]['dn']}" if len(in_use) == 1 else
             f"{len(in_use)} certificate-sharing containers ({', '.join(f['dn'] for f in in_use)}; AD FS uses the one "
             "Get-AdfsProperties shows as CertificateSharingContainer)" if in_use else
             f"the container {farms[0]['dn']}, which holds no key contact")

    def listed(items: list[dict[str, Any]]) -> str:
        seen: dict[str, list[str]] = {}
        for i in items:
            seen.setdefault(i["principal"], []).append(f"{i['right']} by {i['ace']} on {i['object'].split(',', 1)[0]}")
        return "; ".join(f"{who} ({', '.join(sorted(set(how))[:3])})" for who, how in sorted(seen.items()))

    if broad:
        return Outcome(Status.FAIL, f"Broad groups can read the DKM key material in {named}: {listed(broad)}. Anyone "
                                    "in them can decrypt AD FS's token-signing key and forge tokens (Golden SAML).",
                       evidence=evidence)
    if undetermined:
        raise CannotDetermine(f"the permissions of {len(undetermined)} DKM key object(s) could not be judged: "
                              f"{undetermined[0]}", evidence)
    if unexpected and not service:
        raise CannotDetermine("which of the principals that can read the DKM key material is the AD FS service account "
                              f"is not known ({listed(unexpected)}): set directory.service_account (or the federation "
                              "service name, whose HOST/ SPN holder is the service account)", evidence)
    problems = []
    if unexpected:
        problems.append(f"principals beyond AD FS and Tier 0 can read the DKM key material: {listed(unexpected)}")
    if not in_use:
        problems.append(f"{named}: AD FS has not stored a key there")
    missing = [f["dn"] for f in farms if f["key_objects"] and f["service_account_reads"] is False]
    if missing:
        problems.append(f"the AD FS service account ({', '.join(service_how)}) has no read access of its own to the "
                        f"key contacts of {', '.join(missing)} (granted to a group it belongs to, it is fine; "
                        "otherwise AD FS cannot decrypt its certificates)")
    if problems:
        return Outcome(Status.WARN, f"In {named}: " + "; ".join(problems) + ".", evidence=evidence)
    who = f" and the AD FS service account ({', '.join(service_how)})" if service else (
        " (the AD FS service account is not known: set directory.service_account to have it checked)")
    return Outcome(Status.PASS, f"Only Tier 0{who} can read the DKM key material in {named}.", evidence=evidence)
