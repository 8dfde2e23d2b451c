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
import subprocess
import uuid
from datetime import datetime, timedelta
from typing import Iterator

from adfs_readiness.lab.samba import SambaDc, filetime, ldif_entry

__all__ = ["SEED_VERSION", "seed_contoso", "seed_contoso_dns", "CONTOSO_DNS", "DKM_FARM", "DKM_KEYS", "seed_legacy",
           "seed_single", "bulk_user_ldif", "XSS_DISPLAY_NAME",
           "OBJECT_GUID_SCHEMA_ID", "READER_PASSWORD"]

#: Bump when the seed changes, so a DC seeded by an older version is not reused.
SEED_VERSION = "6"

#: A displayName that must appear as text (never markup) in the HTML report.
XSS_DISPLAY_NAME = ' <script>alert("xss")</script><img src=x onerror=alert(1)>'

_NORMAL = "512"  # NORMAL_ACCOUNT
_NORMAL_NOEXPIRE = "66048"  # NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
_DISABLED = "514"
_WORKSTATION = "4096"
_DC_UAC = "532480"  # SERVER_TRUST_ACCOUNT | TRUSTED_FOR_DELEGATION


def _user(dn: str, sam: str, **attrs: str | list[str] | bytes | None) -> str:
    """A user (enabled, password never expires) with displayName = sAMAccountName unless given
    (``displayName=None``: none at all, which IdFix flags)."""
    base: dict = {"objectClass": "user", "sAMAccountName": sam, "userAccountControl": _NORMAL_NOEXPIRE,
                  "displayName": sam}
    base.update({k.replace("_", "-"): v for k, v in attrs.items()})
    return ldif_entry(dn, {k: v for k, v in base.items() if v is not None})


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


#: The Exchange schema attributes the rules read: (cn, lDAPDisplayName, attributeID, syntax, oMSyntax).
#: attributeIDs are Exchange's for mailNickname and msExchRecipientTypeDetails; targetAddress and
#: msExchHideFromAddressLists get OIDs under Samba's self-test arc (Samba 4.17 refuses Exchange's:
#: only the lDAPDisplayName matters to the rules).
_EXCHANGE_ATTRIBUTES = (
    ("ms-Exch-Mail-Nickname", "mailNickname", "1.2.840.113556.1.2.447", "2.5.5.12", "64"),
    ("ms-Exch-Target-Address", "targetAddress", "1.3.6.1.4.1.7165.4.6.1.99.2", "2.5.5.12", "64"),
    ("ms-Exch-Recipient-Type-Details", "msExchRecipientTypeDetails", "1.2.840.113556.1.4.7000.102.50855",
     "2.5.5.16", "65"),
    ("ms-Exch-Hide-From-Address-Lists", "msExchHideFromAddressLists", "1.3.6.1.4.1.7165.4.6.1.99.1", "2.5.5.8", "1"),
)


def _exchange_schema(dc: SambaDc) -> None:
    """Samba has no Exchange schema: add the attributes the rules read and allow them on users,
    contacts and groups, as an Exchange schema extension would."""
    schema = f"CN=Schema,CN=Configuration,{dc.BASE_DN}"
    for cn, name, oid, syntax, om in _EXCHANGE_ATTRIBUTES:
        dc.ldbadd(ldif_entry(f"CN={cn},{schema}", {
            "objectClass": "attributeSchema", "lDAPDisplayName": name, "attributeID": oid, "attributeSyntax": syntax,
            "oMSyntax": om, "isSingleValued": "TRUE", "adminDisplayName": cn, "searchFlags": "1"}), batch=False)
    names = [name for _, name, *_ in _EXCHANGE_ATTRIBUTES]
    for cls in ("User", "Contact", "Group"):
        dc.ldbmodify(_modify(f"CN={cls},{schema}", "mayContain", *names, op="add"), batch=False)


def _clean_users(b: str) -> str:
    """OU=Clean: objects every rule accepts, including what IdFix and naive validators get wrong:
    an apostrophe in a UPN, x500 addresses with spaces and parentheses, non-ASCII names, plus
    addressing and every RFC 5322 atext character in mail, a mail domain longer than 48 characters,
    a 63-character givenName, a mail-enabled group and a contact with a targetAddress."""
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
    long_domain = "sales-and-marketing-department-emea.contoso.com"  # 48 characters: fine for mail
    out += _user(f"CN=clean4,{ou}", "clean4", userPrincipalName="clean4@contoso.com", displayName="Plus Addressing",
                 givenName="G" * 63, mail="first+tag&x/y=z%a*b?c{d}e|f~g@contoso.com", mailNickname="clean4",
                 proxyAddresses=["SMTP:first+tag&x/y=z%a*b?c{d}e|f~g@contoso.com", "smtp:clean4+news@contoso.com",
                                 f"smtp:clean4@regional.{long_domain}"],
                 targetAddress="SMTP:clean4@contoso.mail.onmicrosoft.com")
    out += ldif_entry(f"CN=Clean Group,{ou}", {
        "objectClass": "group", "sAMAccountName": "cleangroup", "groupType": "-2147483646",
        "displayName": "Clean Group", "mail": "clean.group@contoso.com",
        "proxyAddresses": ["SMTP:clean.group@contoso.com"]})
    out += ldif_entry(f"CN=External Partner,{ou}", {
        "objectClass": "contact", "displayName": "External Partner", "mail": "partner@fabrikam.com",
        "targetAddress": "SMTP:partner@fabrikam.com", "proxyAddresses": ["SMTP:partner@fabrikam.com"]})
    return out


_X500_SHARED = "X500:/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=shared"


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
        # IdFix parity (docs/directory.md): givenName, targetAddress, white space other than a space,
        # consecutive periods, an absent displayName, duplicates across attributes and proxy types.
        ("givenlong", {"givenName": "G" * 64}),
        ("tgtbad", {"targetAddress": "SMTP:bad address@contoso.com"}),
        ("tgtcolon", {"targetAddress": "SMTP:colon:here@contoso.com"}),
        ("tgtdup1", {"targetAddress": "SMTP:Target.Shared@contoso.mail.onmicrosoft.com"}),
        ("tgtdup2", {"targetAddress": "smtp:target.shared@contoso.mail.onmicrosoft.com"}),
        ("upntab", {"userPrincipalName": "tab\tuser@contoso.com"}),
        ("upndots", {"userPrincipalName": "dots..user@contoso.com"}),
        ("mailcr", {"mail": "line\r\nfeed@contoso.com"}),
        ("nodisp", {"displayName": None}),
        ("xupn1", {"userPrincipalName": "x.shared@contoso.com"}),
        ("xmail1", {"mail": "X.Shared@contoso.com"}),
        ("px500a", {"proxyAddresses": ["SMTP:px500a@contoso.com", _X500_SHARED]}),
        ("px500b", {"proxyAddresses": ["SMTP:px500b@contoso.com", _X500_SHARED.upper()]}),
        ("samupn1", {"userPrincipalName": "samupn1@contoso.com"}),  # sAMAccountName made a duplicate below:
        ("samupn2", {"userPrincipalName": "samupn2@contoso.com"}),  # not counted, both have a UPN (IdFix)
        # Judged by us, skipped by IdFix's "Admini*" cn prefix (a real user, not the built-in Administrator).
        ("admindesk", {"cn": "Administration Desk", "displayName": " Administration Desk"}),
        # Skipped (IdFix's skip rules): an MSOL_ account, an Exchange system mailbox by
        # msExchRecipientTypeDetails, a hidden MSOL* sync account, groups that do not sync.
        ("MSOL_0a1b2c3d4e5f", {"userPrincipalName": "bad upn", "displayName": " skipped MSOL_"}),
        ("sysmbx", {"msExchRecipientTypeDetails": "8388608", "displayName": " skipped arbitration mailbox"}),
        ("aadsync", {"msExchHideFromAddressLists": "TRUE", "displayName": "MSOL_AAD_Sync", "userPrincipalName": "bad upn2"}),
        ("MSOL_5f4e3d2c1b0a", {"cn": "Sync Account", "displayName": " skipped MSOL_ sAMAccountName"}),
        ("sysmbxnick", {"cn": "Mailbox Store", "mailNickname": "SystemMailbox{1f05a927}", "displayName": " skipped"}),
        ("LEGACY-TRUST$", {"cn": "LEGACY-TRUST$", "displayName": " skipped trust"}),
        # One object per further IdFix rule (tests/test_directory_idfix.py, docs/directory.md).
        ("nicklong", {"mailNickname": "n" * 65}),
        ("maillong", {}),  # mail over 256 characters written below
        ("tgtlong", {}),  # targetAddress over 255 characters written below
        ("pcolon", {"proxyAddresses": "SMTP:colon:here@contoso.com"}),
        ("pchar", {"proxyAddresses": "SMTP:semi;colon@contoso.com"}),
        ("pformat", {"proxyAddresses": ["SMTP:pformat@contoso.com", "smtp:no-at-sign.contoso.com"]}),
        ("pnonroute", {"proxyAddresses": ["SMTP:pnonroute@contoso.com", "smtp:pnonroute@contoso.local"]}),
        ("psip", {"proxyAddresses": ["SMTP:psip@contoso.com", "SIP:bad address@contoso.com"]}),
        ("px500bad", {"proxyAddresses": ["SMTP:px500bad@contoso.com", "X500:/o=Contoso/cn=Recipients/cn=[bad]"]}),
        ("tgtlocal", {"targetAddress": "SMTP:tgtlocal@contoso.local"}),
        ("tgtx400", {"targetAddress": "X400:c=US;a= ;p=Contoso;o=Exchange;s=Doe"}),
        ("upnlong", {"userPrincipalName": "u" * 64 + "@" + "d" * 45 + ".com"}),  # 114 characters
        ("upndomain", {"userPrincipalName": "user@contoso_com.com"}),
        ("upnsuffix", {"userPrincipalName": "suffix@" + "s" * 45 + ".com"}),
    ]
    for sam, attrs in users:
        cn = attrs.pop("cn", sam.replace("{", "").replace("}", ""))
        out += _user(f"CN={cn},{ou}", sam, **{k.replace("-", "_"): v for k, v in attrs.items()})
    out += ldif_entry(f"CN=Lab Security Group,{ou}", {"objectClass": "group", "sAMAccountName": "labsecgroup",
                                                       "groupType": "-2147483646", "displayName": " skipped"})
    out += ldif_entry(f"CN=Lab Distribution,{ou}", {"objectClass": "group", "sAMAccountName": "labdistgroup",
                                                     "groupType": "2", "displayName": " skipped"})
    # A replication conflict object (its RDN mangled with \nCNF:<GUID>): skipped, as IdFix does.
    out += _user(f"CN=conflicted\nCNF:4f6c1a52-9d3e-4b8a-8c51-2e7d0f9a6b13,{ou}", "conflicted",
                 displayName=" skipped conflict", userPrincipalName="bad upn3")
    # An inetOrgPerson: a user to Entra Connect, so the 20-character sAMAccountName limit applies
    # (IdFix takes the last objectClass value, "inetOrgPerson", and skips that rule).
    out += ldif_entry(f"CN=inetorg,{ou}", {"objectClass": "inetOrgPerson", "sAMAccountName": "inetorg",
                                           "userAccountControl": _NORMAL_NOEXPIRE, "displayName": "inetorg",
                                           "userPrincipalName": "inetorg@contoso.com"})
    # Service accounts of the federation services sts.contoso.test and sts2.contoso.test.
    out += _user(f"CN=svc-adfs,{ou}", "svc-adfs", userPrincipalName="svc-adfs@contoso.test",
                 servicePrincipalName=["HOST/sts.contoso.test", "HTTP/sts.contoso.test"])
    out += _user(f"CN=svc-dup,{ou}", "svc-dup", userPrincipalName="svc-dup@contoso.test")
    out += ldif_entry(f"CN=svc-disabled,{ou}", {"objectClass": "user", "sAMAccountName": "svc-disabled",
                                               "userAccountControl": _DISABLED, "displayName": "svc-disabled",
                                               "msDS-SupportedEncryptionTypes": "24"})
    out += ldif_entry(f"CN=svc-locked,{ou}", {"objectClass": "user", "sAMAccountName": "svc-locked",
                                             "userAccountControl": _NORMAL_NOEXPIRE, "displayName": "svc-locked",
                                             "msDS-SupportedEncryptionTypes": "24"})
    out += ldif_entry(f"CN=svc-expired,{ou}", {"objectClass": "user", "sAMAccountName": "svc-expired",
                                              "userAccountControl": _NORMAL, "displayName": "svc-expired",
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


#: The lab farm's certificate-sharing container and its key contacts (AD FS names them by GUIDs).
DKM_FARM = "CN=8a2f3e55-0d3b-4c3e-9a55-3b3a0f3c1f00,CN=ADFS,CN=Microsoft,CN=Program Data"
DKM_KEYS = ("CN=5d7d3b5c-1f2e-4e51-8a51-0c9b2f7e0a11", "CN=0c6f3e2a-7b41-4d8e-9f0a-63c5d2e1b7a4")
# The rights Microsoft's New-AdfsDkmContainer.ps1 gives the AD FS service account on the farm's
# container, inherited by everything below (GenericRead, CreateChild, WriteOwner, DeleteTree,
# WriteDacl, WriteProperty; "Creating an AD FS Farm without domain admin privileges").
_DKM_SERVICE_RIGHTS = "RPLCLORCCCWODTWDWP"


def _object_sid(dc: SambaDc, sam: str) -> str:
    """The objectSid of ``sam`` in the (stopped) lab DC's database, read with ldbsearch."""
    proc = subprocess.run(["ldbsearch", "-H", str(dc.sam_ldb), f"(sAMAccountName={sam})", "objectSid"],
                          capture_output=True, text=True, check=True)
    for line in proc.stdout.splitlines():
        if line.startswith("objectSid: "):
            return line.split(": ", 1)[1].strip()
    raise RuntimeError(f"no objectSid for {sam} in the lab DC")


def _adfs_container(b: str, service_sid: str) -> str:
    """AD FS's certificate-sharing container (CN=ADFS,CN=Microsoft,CN=Program Data) as AD FS leaves
    it: one farm container whose protected DACL grants Tier 0 full control and the AD FS service
    account the rights Microsoft's script gives it (owner: the service account), a CryptoPolicy
    contact and two key contacts (thumbnailPhoto: a 32-byte DKM key) whose own DACL grants only
    Tier 0, the service account's rights being inherited from the farm container. The first key
    contact's attributes would break the rules if the scan did not skip AD FS's objects."""
    pd = f"CN=Program Data,{b}"
    out = ldif_entry(f"CN=ADFS,CN=Microsoft,{pd}", {"objectClass": "container"})
    farm = f"{DKM_FARM},{b}"
    out += ldif_entry(farm, {"objectClass": "container", "nTSecurityDescriptor":
                             f"O:{service_sid}G:DAD:PAI(A;;GA;;;SY)(A;;GA;;;DA)(A;;GA;;;EA)"
                             f"(A;CI;{_DKM_SERVICE_RIGHTS};;;{service_sid})"})
    contact_sd = f"O:{service_sid}G:DAD:(A;;GA;;;SY)(A;;GA;;;DA)"
    out += ldif_entry(f"CN=CryptoPolicy,{farm}", {"objectClass": "contact", "nTSecurityDescriptor": contact_sd,
                                                  "displayName": "CryptoPolicy"})
    out += ldif_entry(f"{DKM_KEYS[0]},{farm}", {"objectClass": "contact", "displayName": " ", "mail": "not an address",
                                                "thumbnailPhoto": bytes(range(32)), "nTSecurityDescriptor": contact_sd})
    out += ldif_entry(f"{DKM_KEYS[1]},{farm}", {"objectClass": "contact", "thumbnailPhoto": bytes(range(32, 64)),
                                                "nTSecurityDescriptor": contact_sd})
    return out


#: DNS records of the contoso lab (added once the DC runs): federation service names that are
#: CNAMEs (browsers ask for HTTP/<target>). farm-a's HTTP/ SPN is on gmsa-adfs (right), farm-b's
#: on svc-http (wrong), farm-c's on no account. The addresses are TEST-NET-1: never contacted.
CONTOSO_DNS = (("sts-alias", "CNAME", "farm-a.contoso.test"), ("farm-a", "A", "192.0.2.10"),
               ("sts-alias2", "CNAME", "farm-b.contoso.test"), ("farm-b", "A", "192.0.2.11"),
               ("sts-alias3", "CNAME", "farm-c.contoso.test"), ("farm-c", "A", "192.0.2.12"))


def seed_contoso_dns(dc: SambaDc) -> None:
    """Add :data:`CONTOSO_DNS` to the running contoso DC."""
    for name, kind, data in CONTOSO_DNS:
        dc.dns_add(name, kind, data)


def seed_contoso(dc: SambaDc, reference: datetime, bulk_users: int = 0) -> None:
    """Seed a freshly provisioned, stopped DC with the ``contoso`` data (see module docstring)."""
    b, conf = dc.BASE_DN, f"CN=Configuration,{dc.BASE_DN}"
    _exchange_schema(dc)
    ldif = _clean_users(b) + _lab_users(b) + _account_cases(b, reference)
    ldif += _gmsa(f"CN=gmsa-adfs,CN=Managed Service Accounts,{b}", "gmsa-adfs$",
                  ["HOST/sts2.contoso.test", "HTTP/sts2.contoso.test", "HOST/sts-alias.contoso.test",
                   "HTTP/farm-a.contoso.test", "HOST/sts-alias2.contoso.test", "HOST/sts-alias3.contoso.test"], "24")
    ldif += ldif_entry(f"CN=AZUREADSSOACC,CN=Computers,{b}", {
        "objectClass": "computer", "sAMAccountName": "AZUREADSSOACC$", "userAccountControl": _WORKSTATION,
        "servicePrincipalName": ["HTTP/autologon.microsoftazuread-sso.com"]})
    ldif += _dc2(b, "Windows Server 2019 Datacenter", "10.0 (17763)")
    ldif += _kds_containers(conf)
    ldif += _kds_key(conf, reference - timedelta(days=30), "old")
    ldif += _kds_key(conf, reference - timedelta(hours=2), "young")
    dc.ldbadd(ldif)
    dc.ldbadd(_adfs_container(b, _object_sid(dc, "gmsa-adfs$")))
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
        _modify(f"CN=samupn2,{lab}", "sAMAccountName", "SamUpn1"),
        _modify(f"CN=maillong,{lab}", "mail", "m" * 245 + "@contoso.com"),  # 257 (Samba keeps mail to 256)
        _modify(f"CN=tgtlong,{lab}", "targetAddress", "SMTP:" + "t" * 239 + "@contoso.com"),  # 256
        _modify(f"CN=inetorg,{lab}", "sAMAccountName", "inetorgperson-longname"),
        # sts5: HOST/ on a disabled leftover account only.
        _modify(f"CN=svc-disabled,{lab}", "servicePrincipalName", "HOST/sts5.contoso.test", op="add"),
        _modify(f"CN=svc-http,{lab}", "servicePrincipalName", "HTTP/farm-b.contoso.test", op="add"),
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
    """Seed a DC provisioned at functional level 2000 with the ``legacy`` data: the crossRef of a
    child domain (emea.contoso.test) this DC does not hold, no AD FS certificate sharing, a domain
    password policy whose maximum password age is "never", and svc-never, a service account that
    never expires whose DC-computed attributes every reader is denied (so the domain policy decides)."""
    b = dc.BASE_DN
    ldif = ldif_entry(f"OU=Lab,{b}", {"objectClass": "organizationalUnit"})
    ldif += _user(f"CN=user1,OU=Lab,{b}", "user1", userPrincipalName="user1@contoso.com")
    ldif += _user(f"CN=svc-never,CN=Users,{b}", "svc-never", userAccountControl=_NORMAL, accountExpires="0",
                  msDS_SupportedEncryptionTypes="24",
                  nTSecurityDescriptor=f"O:DAG:DAD:(OD;;RP;{_EXPIRY_COMPUTED_ID};;AU)(OD;;RP;{_UAC_COMPUTED_ID};;AU)"
                                       "(A;;RPLCLORC;;;AU)(A;;GA;;;DA)(A;;GA;;;SY)")
    ldif += _gmsa(f"CN=gmsa-adfs,CN=Managed Service Accounts,{b}", "gmsa-adfs$",
                  ["HOST/sts.contoso.test"], "28")
    ldif += ldif_entry(f"CN=AZUREADSSOACC,CN=Computers,{b}", {
        "objectClass": "computer", "sAMAccountName": "AZUREADSSOACC$", "userAccountControl": _WORKSTATION})
    ldif += _dc2(b, "Windows Server 2008 R2 Standard", "6.1 (7601)")
    dc.ldbadd(ldif)
    dc.ldbmodify(_modify(f"CN=AZUREADSSOACC,CN=Computers,{b}", "pwdLastSet",
                         str(filetime(reference - timedelta(days=10))))
                 + _modify(f"CN=svc-never,CN=Users,{b}", "pwdLastSet", str(filetime(reference - timedelta(days=400))))
                 # maxPwdAge "never": the minimum int64 (MS-ADA3 Max-Pwd-Age).
                 + _modify(b, "maxPwdAge", "-9223372036854775808"), url=dc.domain_partition)
    conf = f"CN=Configuration,{b}"
    # A child domain the forest knows of (its crossRef) but this DC does not hold: a subtree search
    # at the root gets a search reference to it, and duplicates across it cannot be seen.
    # (Written into the configuration partition's file: Samba refuses an nCName no object it holds has.)
    dc.ldbadd(ldif_entry(f"CN=EMEA,CN=Partitions,{conf}", {
        "objectClass": ["top", "crossRef"], "nCName": f"DC=emea,{b}", "dnsRoot": "emea.contoso.test",
        "systemFlags": "3", "nETBIOSName": "EMEA", "objectGUID": uuid.UUID("6d9a3f7c-2b1e-4c5d-8e4f-0a1b2c3d4e5f").bytes_le,
        "instanceType": "4", "objectCategory": f"CN=Cross-Ref,CN=Schema,{conf}", "name": "EMEA", "cn": "EMEA",
        "nTSecurityDescriptor": _crossref_sd()}),
        url=dc.config_partition)



#: The password of ``reader`` in the ``single`` domain (an ordinary user, not an admin).
READER_PASSWORD = "Passw0rd!Reader"

#: schemaIDGUID of the objectGUID attribute (MS-ADA3), the object type of an ACE about it.
OBJECT_GUID_SCHEMA_ID = "bf9679e7-0de6-11d0-a285-00aa003049e2"


def _crossref_sd() -> bytes:
    """O:SYG:SYD:(A;;0xf01ff;;;SY)(A;;0x20094;;;AU) in binary (MS-DTYP 2.4.6): a file write gets no
    default descriptor, and Samba refuses to return an object without one."""
    from winacl.dtyp.security_descriptor import SECURITY_DESCRIPTOR

    return SECURITY_DESCRIPTOR.from_sddl("O:SYG:SYD:(A;;0xf01ff;;;SY)(A;;0x20094;;;AU)").to_bytes()


def seed_single(dc: SambaDc, reference: datetime) -> None:
    """Seed a DC provisioned at functional level 2003 with the ``single`` data: no second DC; one
    ordinary user in ``OU=Lab`` and ``ghost`` in ``OU=Hidden``, whose security descriptor (not
    inherited) denies Read Property on objectGUID to Authenticated Users, so a search by any account
    returns ghost without its objectGUID, as AD does for such an object; and an AD FS certificate-sharing
    container like contoso's (the DKM tests add and remove access entries on it)."""
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
    dc.ldbadd(_adfs_container(b, _object_sid(dc, "gmsa-adfs$")))


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
