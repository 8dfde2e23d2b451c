"""Seed data for the lab domain controllers (:mod:`adfs_readiness.lab.samba`).

Two domains, both CONTOSO.TEST:

* ``contoso`` (functional level 2008 R2): the realistic one. ``OU=Clean`` holds users every
  attribute rule accepts (apostrophes, x500 addresses with parentheses, non-ASCII names);
  ``OU=Lab`` holds every problem the directory checks look for (non-routable and unlisted UPN
  suffixes, bad characters, over-long values, duplicates differing only in case, an HTML/script
  payload in a displayName, system and AD FS objects to skip); ``OU=AllLocal`` only users with a
  non-routable UPN suffix. Service accounts for the federation service ``sts.contoso.test`` (a user
  whose ``HOST/`` SPN is also on a second account) and ``sts2.contoso.test`` (a gMSA with AES),
  KDS root keys older and younger than 10 hours, AZUREADSSOACC with a password older than a year,
  a second DC, a Domain Admin with a UPN in the federated domain contoso.com. In ``CN=Users`` and
  ``CN=Managed Service Accounts`` (outside the OUs other tests count): service accounts for every
  sub-case of directory.service-account (account expired, must change password at next logon, a
  gMSA without AES, accounts under fine-grained password policies, a lockout that is over, one
  whose computed attributes every reader is denied) and two privileged users with a contoso.com
  UPN that are not in Domain Admins' ``member`` (one through primaryGroupID 512, one directly in
  BUILTIN\\Administrators).
* ``legacy`` (functional level 2000): a gMSA but no KDS root key, a second DC on Windows Server
  2008 R2, a recently rolled AZUREADSSOACC password.
* ``single`` (functional level 2003): one DC only, and ``OU=Hidden`` with a user whose permissions
  deny everyone (Authenticated Users, so the administrator too) read access to its objectGUID; a
  gMSA with a KDS root key in effect, and ``reader``, an ordinary user with a password
  (:data:`READER_PASSWORD`) to bind as: what a non-admin account can and cannot see.

Times are relative to ``reference`` (the tests' fixed clock) so the checks judge them the same
way on every run. Users of the optional bulk set (``bulk_users``) are for the benchmark.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta
from typing import Iterator

from adfs_readiness.lab.samba import SambaDc, filetime, ldif_entry

__all__ = ["SEED_VERSION", "seed_contoso", "seed_legacy", "seed_single", "bulk_user_ldif", "XSS_DISPLAY_NAME",
           "OBJECT_GUID_SCHEMA_ID", "READER_PASSWORD"]

#: Bump when the seed changes, so a DC seeded by an older version is not reused.
SEED_VERSION = "5"

#: A displayName that must appear as text (never markup) in the HTML report.
XSS_DISPLAY_NAME = ' <script>alert("xss")</script><img src=x onerror=alert(1)>'

_NORMAL = "512"  # NORMAL_ACCOUNT
_NORMAL_NOEXPIRE = "66048"  # NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
_DISABLED = "514"
_WORKSTATION = "4096"
_DC_UAC = "532480"  # SERVER_TRUST_ACCOUNT | TRUSTED_FOR_DELEGATION


def _user(dn: str, sam: str, **attrs: str | list[str]) -> str:
    base: dict = {"objectClass": "user", "sAMAccountName": sam, "userAccountControl": _NORMAL_NOEXPIRE}
    base.update({k.replace("_", "-"): v for k, v in attrs.items()})
    return ldif_entry(dn, base)


def _modify(dn: str, attr: str, *values: str, op: str = "replace") -> str:
    lines = [f"dn: {dn}", "changetype: modify", f"{op}: {attr}"]
    for v in values:
        if v.isascii() and not v.startswith(" ") and not v.endswith(" "):
            lines.append(f"{attr}: {v}")
        else:
            lines.append(f"{attr}:: {base64.b64encode(v.encode()).decode()}")
    return "\n".join(lines) + "\n\n"


def _kds_containers(conf: str) -> str:
    gkds = f"CN=Group Key Distribution Service,CN=Services,{conf}"
    return (ldif_entry(gkds, {"objectClass": "container"})
            + ldif_entry(f"CN=Master Root Keys,{gkds}", {"objectClass": "container"}))


def _kds_key(conf: str, created: datetime, name: str) -> str:
    gkds = f"CN=Group Key Distribution Service,CN=Services,{conf}"
    return ldif_entry(f"CN={uuid.uuid5(uuid.NAMESPACE_DNS, name)},CN=Master Root Keys,{gkds}", {
        "objectClass": "msKds-ProvRootKey", "msKds-Version": "1",
        "msKds-KDFAlgorithmID": "SP800_108_CTR_HMAC",
        "msKds-KDFParam": bytes.fromhex("00000000010000000e000000000000005300480041003500310032000000"),
        "msKds-SecretAgreementAlgorithmID": "DH", "msKds-PrivateKeyLength": "512",
        "msKds-PublicKeyLength": "2048", "msKds-RootKeyData": bytes(range(64)),
        "msKds-DomainID": f"CN=DC1,OU=Domain Controllers,{SambaDc.BASE_DN}",
        "msKds-CreateTime": str(filetime(created)),
        # Add-KdsRootKey makes a key effective 10 hours after creation (gMSA documentation).
        "msKds-UseStartTime": str(filetime(created + timedelta(hours=10)))})


def _gmsa(dn: str, sam: str, spns: list[str], enc: str) -> str:
    return ldif_entry(dn, {
        "objectClass": "msDS-GroupManagedServiceAccount", "sAMAccountName": sam,
        "dNSHostName": f"{sam.rstrip('$')}.contoso.test", "msDS-ManagedPasswordInterval": "30",
        "userAccountControl": _WORKSTATION, "msDS-SupportedEncryptionTypes": enc,
        "servicePrincipalName": spns, "msDS-GroupMSAMembership": "O:SYD:(A;;RP;;;DC)"})


def _dc2(base: str, os_name: str, os_version: str) -> str:
    return ldif_entry(f"CN=DC2,OU=Domain Controllers,{base}", {
        "objectClass": "computer", "sAMAccountName": "DC2$", "userAccountControl": _DC_UAC,
        "dNSHostName": "dc2.contoso.test", "operatingSystem": os_name,
        "operatingSystemVersion": os_version})


def _mail_nickname_schema(dc: SambaDc) -> None:
    """Samba has no Exchange schema: add ms-Exch-Mail-Nickname (the real attributeID) and allow
    it on users, as an Exchange schema extension would."""
    schema = f"CN=Schema,CN=Configuration,{dc.BASE_DN}"
    dc.ldbadd(ldif_entry(f"CN=ms-Exch-Mail-Nickname,{schema}", {
        "objectClass": "attributeSchema", "lDAPDisplayName": "mailNickname",
        "attributeID": "1.2.840.113556.1.2.447", "attributeSyntax": "2.5.5.12", "oMSyntax": "64",
        "isSingleValued": "TRUE", "adminDisplayName": "ms-Exch-Mail-Nickname", "searchFlags": "1"}))
    dc.ldbmodify(_modify(f"CN=User,{schema}", "mayContain", "mailNickname", op="add"), batch=False)
    dc.ldbmodify(_modify(f"CN=Contact,{schema}", "mayContain", "mailNickname", op="add"), batch=False)


def _clean_users(b: str) -> str:
    ou = f"OU=Clean,{b}"
    out = ldif_entry(ou, {"objectClass": "organizationalUnit"})
    people = [("clean1", "Anna Andersson", "clean1"), ("clean2", "Zoë Ångström-Müller 山田太郎", "clean2"),
              ("o'brien", "Seán O'Brien", "obrien")]
    for i, (local, display, nick) in enumerate(people, 1):
        attrs: dict = {
            "userPrincipalName": f"{local}@contoso.com", "displayName": display, "mail": f"{local}@contoso.com",
            "mailNickname": nick,
            "proxyAddresses": [f"SMTP:{local}@contoso.com", f"smtp:{nick}@contoso.mail.onmicrosoft.com",
                               f"x500:/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={nick}"],
        }
        if i == 1:
            attrs["mS-DS-ConsistencyGuid"] = uuid.UUID("11111111-2222-3333-4444-555555555555").bytes_le
        out += _user(f"CN=clean{i},{ou}", f"clean{i}", **attrs)
    return out


def _lab_users(b: str) -> str:
    ou = f"OU=Lab,{b}"
    out = ldif_entry(ou, {"objectClass": "organizationalUnit"})
    users: list[tuple[str, dict]] = [
        ("local1", {"userPrincipalName": "local1@contoso.local"}),
        ("test1", {"userPrincipalName": "test1@contoso.test"}),
        ("fab1", {"userPrincipalName": "fab1@fabrikam.com"}),
        ("trail", {"userPrincipalName": "trail@contoso.com "}),
        ("badchar", {"userPrincipalName": "bad(char)@contoso.com"}),
        ("longupn", {"userPrincipalName": "l" * 65 + "@contoso.com"}),
        ("apos", {"userPrincipalName": "o'neil@contoso.com", "displayName": "Aoife O'Neil"}),
        ("dupa", {"userPrincipalName": "Dup.User@contoso.com"}),
        ("dupb", {"userPrincipalName": "dupb@contoso.com"}),  # becomes dup.user@contoso.com below
        ("pdup1", {"proxyAddresses": ["SMTP:Shared@contoso.com",
                                      "X500:/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
                                      "/cn=Recipients/cn=pdup1"]}),
        ("pdup2", {"proxyAddresses": "SMTP:shared@contoso.com"}),
        ("pnoprim", {"proxyAddresses": "smtp:pnoprim@contoso.com"}),
        ("ptwo", {"proxyAddresses": ["SMTP:ptwo@contoso.com", "SMTP:ptwo2@contoso.com"]}),
        ("pbad", {"proxyAddresses": "SMTP:bad address@contoso.com"}),
        ("plong", {"proxyAddresses": "SMTP:" + "p" * 250 + "@contoso.com"}),
        ("mailbad", {"mail": "mail with space@contoso.com"}),
        ("maildup1", {"mail": "Shared.Mail@contoso.com"}),
        ("maildup2", {"mail": "shared.mail@contoso.com"}),
        ("nickdot", {"mailNickname": ".leading"}),
        ("nickspace", {"mailNickname": "has space"}),
        ("nickdup1", {"mailNickname": "Nick"}),
        ("nickdup2", {"mailNickname": "nick"}),
        ("samlong", {}),  # sAMAccountName made over-long below
        ("sambad", {}),  # gets a character IdFix rejects below
        ("samdup", {}),  # sAMAccountName made a case-only duplicate of "samdup2" below
        ("samdup2", {}),
        ("dispspace", {"displayName": "Trailing "}),
        ("dispblank", {"displayName": "   "}),
        ("displong", {}),  # displayName over 256 characters written below (Samba enforces rangeUpper)
        ("xss", {"displayName": XSS_DISPLAY_NAME, "userPrincipalName": "xss@contoso.com"}),
        ("HealthMailbox0a1b2c", {"displayName": " skipped system mailbox"}),
        ("CAS_{0123}", {"displayName": " skipped CAS"}),
        ("adminfed", {"userPrincipalName": "adminfed@contoso.com", "displayName": "Federated Admin"}),
    ]
    for sam, attrs in users:
        cn = sam.replace("{", "").replace("}", "")
        out += _user(f"CN={cn},{ou}", sam, **{k.replace("-", "_"): v for k, v in attrs.items()})
    # Service accounts of the federation services sts.contoso.test and sts2.contoso.test.
    out += _user(f"CN=svc-adfs,{ou}", "svc-adfs", userPrincipalName="svc-adfs@contoso.test",
                 servicePrincipalName=["HOST/sts.contoso.test", "HTTP/sts.contoso.test"])
    out += _user(f"CN=svc-dup,{ou}", "svc-dup", userPrincipalName="svc-dup@contoso.test")
    out += ldif_entry(f"CN=svc-disabled,{ou}", {"objectClass": "user", "sAMAccountName": "svc-disabled",
                                               "userAccountControl": _DISABLED,
                                               "msDS-SupportedEncryptionTypes": "24"})
    out += ldif_entry(f"CN=svc-locked,{ou}", {"objectClass": "user", "sAMAccountName": "svc-locked",
                                             "userAccountControl": _NORMAL_NOEXPIRE,
                                             "msDS-SupportedEncryptionTypes": "24"})
    out += ldif_entry(f"CN=svc-expired,{ou}", {"objectClass": "user", "sAMAccountName": "svc-expired",
                                              "userAccountControl": _NORMAL,
                                              "msDS-SupportedEncryptionTypes": "24"})
    out += _user(f"CN=svc-http,{ou}", "svc-http")  # gets HTTP/sts3.contoso.test below (Samba refuses the alias)
    out += _user(f"CN=svc-aes,{ou}", "svc-aes", msDS_SupportedEncryptionTypes="24",
                 servicePrincipalName=["HOST/sts3.contoso.test"])
    # A computer account: skipped by the attribute rules (name ends with $).
    out += ldif_entry(f"CN=ADFS01,{ou}", {"objectClass": "computer", "sAMAccountName": "ADFS01$",
                                         "userAccountControl": _WORKSTATION, "dNSHostName": "adfs01.contoso.test",
                                         "servicePrincipalName": ["HOST/adfs01.contoso.test", "HOST/ADFS01"]})
    all_local = f"OU=AllLocal,{b}"
    out += ldif_entry(all_local, {"objectClass": "organizationalUnit"})
    for i in (1, 2):
        out += _user(f"CN=alllocal{i},{all_local}", f"alllocal{i}", userPrincipalName=f"alllocal{i}@corp.local")
    return out


#: Fine-grained password policies (PSOs) of the contoso seed: name -> (maximum password age, lockout
#: duration, precedence), intervals as negative 100-ns counts; a lockout duration of 0 keeps an
#: account locked until an administrator unlocks it (MS-ADTS 3.1.1.4.5.17). Samba 4.17 applies PSOs
#: (msDS-ResultantPSO and the computed attributes follow them) at functional level 2008 and above.
_DAY_100NS = 864_000_000_000
_PSO_SHORT, _PSO_LOCK = "pso-svc-short", "pso-svc-lock"
_PSOS = {_PSO_SHORT: (-5 * _DAY_100NS, -18_000_000_000, "10"), _PSO_LOCK: (-42 * _DAY_100NS, 0, "20")}


def _pso(b: str, name: str, applies_to: str | list[str]) -> str:
    max_age, lockout, precedence = _PSOS[name]
    return ldif_entry(f"CN={name},CN=Password Settings Container,CN=System,{b}", {
        "objectClass": "msDS-PasswordSettings", "msDS-MaximumPasswordAge": str(max_age),
        "msDS-MinimumPasswordAge": "0", "msDS-MinimumPasswordLength": "7", "msDS-PasswordComplexityEnabled": "TRUE",
        "msDS-LockoutObservationWindow": "-18000000000", "msDS-LockoutDuration": str(lockout),
        "msDS-LockoutThreshold": "5", "msDS-PasswordReversibleEncryptionEnabled": "FALSE",
        "msDS-PasswordSettingsPrecedence": precedence, "msDS-PasswordHistoryLength": "24",
        "msDS-PSOAppliesTo": applies_to})


#: schemaIDGUIDs of msDS-UserPasswordExpiryTimeComputed and msDS-User-Account-Control-Computed
#: (MS-ADA2): svc-noread's security descriptor denies reading them, so the probe must fall back.
_EXPIRY_COMPUTED_ID = "add5cf10-7b09-4449-9ae6-2534148f8a72"
_UAC_COMPUTED_ID = "2cc4b836-b63f-4940-8d23-ea7acf06af56"


def _account_cases(b: str, reference: datetime) -> str:
    """Service accounts for the sub-cases of directory.service-account (svc-acctexp: accountExpires
    3 days before ``reference``; svc-mustchg: pwdLastSet 0; svc-pso: password set 10 days before,
    under a PSO with a 5-day maximum age while the domain's is 42 days; svc-psolock: locked 2 days
    before, under a PSO that locks until an administrator unlocks, while the domain's lockout lasts
    30 minutes; svc-lapsed: the same lockout under the domain policy, over; svc-noread: password 100
    days old, its computed attributes denied to every reader; gmsa-rc4$: a gMSA with RC4 only), the
    two PSOs, and two privileged users with a contoso.com UPN, all in ``CN=Users`` / ``CN=Managed
    Service Accounts`` (times Samba refuses through its modules are written by :func:`_account_raw`)."""
    users = f"CN=Users,{b}"
    out = _user(f"CN=svc-acctexp,{users}", "svc-acctexp", msDS_SupportedEncryptionTypes="24",
                accountExpires=str(filetime(reference - timedelta(days=3))))
    out += _user(f"CN=svc-mustchg,{users}", "svc-mustchg", userAccountControl=_NORMAL,
                 msDS_SupportedEncryptionTypes="24")  # pwdLastSet stays 0: must change at next logon
    out += _user(f"CN=svc-pso,{users}", "svc-pso", userAccountControl=_NORMAL, msDS_SupportedEncryptionTypes="24")
    out += _user(f"CN=svc-psolock,{users}", "svc-psolock", msDS_SupportedEncryptionTypes="24")
    out += _user(f"CN=svc-lapsed,{users}", "svc-lapsed", msDS_SupportedEncryptionTypes="24")  # lockout over
    out += _user(f"CN=svc-noread,{users}", "svc-noread", userAccountControl=_NORMAL,
                 msDS_SupportedEncryptionTypes="24",
                 nTSecurityDescriptor=f"O:DAG:DAD:(OD;;RP;{_EXPIRY_COMPUTED_ID};;AU)(OD;;RP;{_UAC_COMPUTED_ID};;AU)"
                                      "(A;;RPLCLORC;;;AU)(A;;GA;;;DA)(A;;GA;;;SY)")
    out += _gmsa(f"CN=gmsa-rc4,CN=Managed Service Accounts,{b}", "gmsa-rc4$", [], "4")  # RC4 only
    out += _pso(b, _PSO_SHORT, f"CN=svc-pso,{users}")
    # svc-locked (OU=Lab, locked 5 minutes before the reference) is under the lockout-until-unlocked
    # PSO too: the DC judges a lockout with its own clock, so a 30-minute lockout would end for it
    # once the wall clock passes the reference time, and the lab must not change with the date.
    out += _pso(b, _PSO_LOCK, [f"CN=svc-psolock,{users}", f"CN=svc-locked,OU=Lab,{b}"])
    out += _user(f"CN=pgadmin,{users}", "pgadmin", userPrincipalName="pgadmin@contoso.com",
                 displayName="Primary Group Admin")  # gets primaryGroupID 512 (Domain Admins) below
    out += _user(f"CN=builtinadm,{users}", "builtinadm", userPrincipalName="builtinadm@contoso.com",
                 displayName="Builtin Admin")  # a direct member of BUILTIN\Administrators below
    return out


def _account_raw(b: str, reference: datetime) -> str:
    """The values of :func:`_account_cases` that go into the partition file (pwdLastSet other than
    0/-1, lockoutTime). Only attributes Samba does not index may go this way: the file write leaves
    the indexes as they were (a primaryGroupID written so is never found by a search)."""
    users = f"CN=Users,{b}"
    return "".join([
        _modify(f"CN=svc-pso,{users}", "pwdLastSet", str(filetime(reference - timedelta(days=10)))),
        _modify(f"CN=svc-noread,{users}", "pwdLastSet", str(filetime(reference - timedelta(days=100)))),
        _modify(f"CN=svc-psolock,{users}", "lockoutTime", str(filetime(reference - timedelta(days=2)))),
        _modify(f"CN=svc-lapsed,{users}", "lockoutTime", str(filetime(reference - timedelta(days=2)))),
    ])


def _adfs_container(b: str) -> str:
    """AD FS's certificate-sharing container (CN=ADFS,CN=Microsoft,CN=Program Data) with a contact
    whose attributes would break the rules if it were not skipped."""
    pd = f"CN=Program Data,{b}"
    out = ldif_entry(f"CN=ADFS,CN=Microsoft,{pd}", {"objectClass": "container"})
    farm = f"CN=8a2f3e55-0d3b-4c3e-9a55-3b3a0f3c1f00,CN=ADFS,CN=Microsoft,{pd}"
    out += ldif_entry(farm, {"objectClass": "container"})
    out += ldif_entry(f"CN=5d7d3b5c-1f2e-4e51-8a51-0c9b2f7e0a11,{farm}",
                      {"objectClass": "contact", "displayName": " ", "mail": "not an address"})
    return out


def seed_contoso(dc: SambaDc, reference: datetime, bulk_users: int = 0) -> None:
    """Seed a freshly provisioned, stopped DC with the ``contoso`` data (see module docstring)."""
    b, conf = dc.BASE_DN, f"CN=Configuration,{dc.BASE_DN}"
    _mail_nickname_schema(dc)
    ldif = _clean_users(b) + _lab_users(b) + _adfs_container(b) + _account_cases(b, reference)
    ldif += _gmsa(f"CN=gmsa-adfs,CN=Managed Service Accounts,{b}", "gmsa-adfs$",
                  ["HOST/sts2.contoso.test", "HTTP/sts2.contoso.test"], "24")
    ldif += ldif_entry(f"CN=AZUREADSSOACC,CN=Computers,{b}", {
        "objectClass": "computer", "sAMAccountName": "AZUREADSSOACC$", "userAccountControl": _WORKSTATION,
        "servicePrincipalName": ["HTTP/autologon.microsoftazuread-sso.com"]})
    ldif += _dc2(b, "Windows Server 2019 Datacenter", "10.0 (17763)")
    ldif += _kds_containers(conf)
    ldif += _kds_key(conf, reference - timedelta(days=30), "old")
    ldif += _kds_key(conf, reference - timedelta(hours=2), "young")
    dc.ldbadd(ldif)
    if bulk_users:
        for chunk in bulk_user_ldif(b, bulk_users):
            dc.ldbadd(chunk)
    lab = f"OU=Lab,{b}"
    dc.ldbmodify(_modify(f"CN=Partitions,{conf}", "uPNSuffixes", "contoso.com", "contoso.local", op="add"))
    dc.ldbmodify(_modify(f"CN=Domain Admins,CN=Users,{b}", "member", f"CN=adminfed,{lab}", op="add")
                 + _modify(f"CN=Domain Admins,CN=Users,{b}", "member", f"CN=clean1,OU=Clean,{b}", op="add")
                 + _modify(f"CN=Administrators,CN=Builtin,{b}", "member", f"CN=builtinadm,CN=Users,{b}", op="add")
                 # As in AD, primaryGroupID can only name a group the user is a member of; Samba then
                 # moves the membership from Domain Admins' member to the primary group (implicit).
                 + _modify(f"CN=Domain Admins,CN=Users,{b}", "member", f"CN=pgadmin,CN=Users,{b}", op="add")
                 + _modify(f"CN=pgadmin,CN=Users,{b}", "primaryGroupID", "512"))
    # What Samba refuses through its module stack goes into the partition file directly.
    raw = "".join([
        _modify(f"CN=dupb,{lab}", "userPrincipalName", "dup.user@contoso.com"),
        _modify(f"CN=svc-dup,{lab}", "servicePrincipalName", "HOST/sts.contoso.test", op="add"),
        _modify(f"CN=svc-http,{lab}", "servicePrincipalName", "HTTP/sts3.contoso.test", op="add"),
        # sts4: HOST/ once on svc-http, but HTTP/ on svc-http and svc-dup (a duplicate HTTP/ SPN).
        _modify(f"CN=svc-http,{lab}", "servicePrincipalName", "HOST/sts4.contoso.test", "HTTP/sts4.contoso.test",
                op="add"),
        _modify(f"CN=svc-dup,{lab}", "servicePrincipalName", "HTTP/sts4.contoso.test", op="add"),
        _modify(f"CN=displong,{lab}", "displayName", "D" * 257),
        _modify(f"CN=samlong,{lab}", "sAMAccountName", "samlong-abcdefghijklmn"),
        _modify(f"CN=sambad,{lab}", "sAMAccountName", "sam[bad]"),
        _modify(f"CN=samdup,{lab}", "sAMAccountName", "SamDup2"),
        _modify(f"CN=svc-locked,{lab}", "lockoutTime", str(filetime(reference - timedelta(minutes=5)))),
        _modify(f"CN=svc-expired,{lab}", "pwdLastSet", str(filetime(reference - timedelta(days=100)))),
        _modify(f"CN=svc-adfs,{lab}", "pwdLastSet", str(filetime(reference - timedelta(days=10)))),
        _modify(f"CN=AZUREADSSOACC,CN=Computers,{b}", "pwdLastSet",
                str(filetime(reference - timedelta(days=400)))),
        # An account lockout policy (Samba provisions 0, "never"): adfs.extranet-lockout compares with it.
        _modify(b, "lockoutThreshold", "10"),
    ]) + _account_raw(b, reference)
    dc.ldbmodify(raw, url=dc.domain_partition)


def seed_legacy(dc: SambaDc, reference: datetime) -> None:
    """Seed a DC provisioned at functional level 2000 with the ``legacy`` data."""
    b = dc.BASE_DN
    ldif = ldif_entry(f"OU=Lab,{b}", {"objectClass": "organizationalUnit"})
    ldif += _user(f"CN=user1,OU=Lab,{b}", "user1", userPrincipalName="user1@contoso.com")
    ldif += _gmsa(f"CN=gmsa-adfs,CN=Managed Service Accounts,{b}", "gmsa-adfs$",
                  ["HOST/sts.contoso.test"], "28")
    ldif += ldif_entry(f"CN=AZUREADSSOACC,CN=Computers,{b}", {
        "objectClass": "computer", "sAMAccountName": "AZUREADSSOACC$", "userAccountControl": _WORKSTATION})
    ldif += _dc2(b, "Windows Server 2008 R2 Standard", "6.1 (7601)")
    dc.ldbadd(ldif)
    dc.ldbmodify(_modify(f"CN=AZUREADSSOACC,CN=Computers,{b}", "pwdLastSet",
                         str(filetime(reference - timedelta(days=10)))), url=dc.domain_partition)


#: The password of ``reader`` in the ``single`` domain (an ordinary user, not an admin).
READER_PASSWORD = "Passw0rd!Reader"

#: schemaIDGUID of the objectGUID attribute (MS-ADA3), the object type of an ACE about it.
OBJECT_GUID_SCHEMA_ID = "bf9679e7-0de6-11d0-a285-00aa003049e2"


def seed_single(dc: SambaDc, reference: datetime) -> None:
    """Seed a DC provisioned at functional level 2003 with the ``single`` data: no second DC; one
    ordinary user in ``OU=Lab`` and ``ghost`` in ``OU=Hidden``, whose security descriptor (not
    inherited) denies Read Property on objectGUID to Authenticated Users, so a search by any account
    returns ghost without its objectGUID, as AD does for such an object."""
    b = dc.BASE_DN
    ldif = ldif_entry(f"OU=Lab,{b}", {"objectClass": "organizationalUnit"})
    ldif += _user(f"CN=user1,OU=Lab,{b}", "user1", userPrincipalName="user1@contoso.com")
    ldif += ldif_entry(f"OU=Hidden,{b}", {"objectClass": "organizationalUnit"})
    ldif += _user(f"CN=visible,OU=Hidden,{b}", "visible", userPrincipalName="visible@contoso.com")
    ldif += _user(f"CN=ghost,OU=Hidden,{b}", "ghost", userPrincipalName="ghost@contoso.com",
                  nTSecurityDescriptor=f"O:DAG:DAD:(OD;;RP;{OBJECT_GUID_SCHEMA_ID};;AU)(A;;RPLCLORC;;;AU)"
                                       "(A;;GA;;;DA)(A;;GA;;;SY)")
    ldif += _user(f"CN=reader,CN=Users,{b}", "reader", userPrincipalName="reader@contoso.test",
                  unicodePwd=f'"{READER_PASSWORD}"'.encode("utf-16-le"))
    conf = f"CN=Configuration,{b}"
    ldif += _kds_containers(conf)
    ldif += _kds_key(conf, reference - timedelta(days=30), "single")
    ldif += _gmsa(f"CN=gmsa-adfs,CN=Managed Service Accounts,{b}", "gmsa-adfs$", ["HOST/sts.contoso.test"], "24")
    dc.ldbadd(ldif)


_FIRST = ["Anna", "Björn", "Chen", "Dmitri", "Élodie", "Fatima", "Gustav", "Hiro", "Ingrid", "José",
          "Kwame", "Lars", "Maria", "Nadia", "Olaf", "Priya", "Quentin", "Rosa", "Søren", "Tomás"]
_LAST = ["Andersson", "Brown", "Cohen", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ivanova",
         "Jensen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrović", "Quinn", "Rossi",
         "Schmidt", "Tanaka"]


def bulk_user_ldif(base_dn: str, count: int, chunk: int = 2000) -> Iterator[str]:
    """LDIF for ``count`` ordinary users under ``OU=Bulk`` in chunks of ``chunk`` entries
    (ldbadd's batch mode is fastest at <= 2,000 entries per transaction). Every tenth user has a
    ``.local`` UPN; every hundredth an HTTP SPN."""
    ou = f"OU=Bulk,{base_dn}"
    parts = [ldif_entry(ou, {"objectClass": "organizationalUnit"})]
    for i in range(1, count + 1):
        fn, ln = _FIRST[i % 20], _LAST[(i // 20) % 20]
        attrs: dict = {"objectClass": "user", "sAMAccountName": f"user{i:06d}", "userAccountControl": _NORMAL_NOEXPIRE,
                       "userPrincipalName": f"user{i:06d}@" + ("contoso.local" if i % 10 == 0 else "contoso.com"),
                       "givenName": fn, "sn": ln, "displayName": f"{fn} {ln} {i}",
                       "mail": f"user{i:06d}@contoso.com",
                       "proxyAddresses": [f"SMTP:user{i:06d}@contoso.com",
                                          f"smtp:user{i:06d}@contoso.mail.onmicrosoft.com"]}
        if i % 100 == 0:
            attrs["servicePrincipalName"] = f"HTTP/app{i:06d}.contoso.test"
        parts.append(ldif_entry(f"CN=user{i:06d},{ou}", attrs))
        if len(parts) >= chunk:
            yield "".join(parts)
            parts = []
    if parts:
        yield "".join(parts)
