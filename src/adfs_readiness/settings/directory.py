"""``[directory]``: how to reach Active Directory (read-only) and what to expect there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adfs_readiness.settings._schema import setting
from adfs_readiness.settings.values import (Account, Boolean, Choice, EnvName, FilePath, HostName, LdapUrl, Text)

__all__ = ["DirectorySettings", "ADFS_VERSIONS"]

#: The AD FS versions ``directory.adfs_version`` names (Windows Server releases).
ADFS_VERSIONS = ("2012r2", "2016", "2019", "2022", "2025")

_DOMAIN = HostName(example="corp.contoso.com", what="a DNS domain name")


@dataclass(frozen=True)
class DirectorySettings:
    """The ``[directory]`` table. Passwords are never read from the file: ``password_source``
    names where the password comes from (an environment variable, a prompt or the OS keyring).

    Attributes:
        server: LDAP URL (``ldaps://dc1.corp.contoso.com``, ``ldap://...``); None = find DCs from
            the AD SRV records.
        base_dn: search base; None = the RootDSE's defaultNamingContext.
        bind_user: ``DOMAIN\\user`` or a UPN; None = anonymous RootDSE only.
        auth: "simple", "ntlm" or "kerberos".
        start_tls: use StartTLS on an ldap:// URL.
        password_env: name of the environment variable holding the password.
        password_source: "env", "prompt" or "keyring".
        keyring_service: service name for the keyring lookup.
        ca_bundle: CA certificates for LDAPS/StartTLS verification.
        service_account: the AD FS service account (sAMAccountName, gMSA names end with $).
        ad_domain: the Active Directory DNS domain (``corp.contoso.com``) whose SRV records
            dns.ad-srv looks up; None = derived from ``base_dn`` (DC= parts), else not checked.
        forest_root: the forest root domain for ``_gc._tcp``; None = ``ad_domain``.
        csv_dir: write every object-level directory problem to ``directory-problems.csv`` here.
        adfs_version: the AD FS version targeted (:data:`ADFS_VERSIONS`); from 2016 on,
            directory.functional-level also wants schema objectVersion >= 85.
    """

    refused = {"password": "no password in the file: set password_env (an environment variable), "
                           "or password_source = \"prompt\" or \"keyring\""}

    server: str | None = setting(None, LdapUrl())
    base_dn: str | None = setting(None, Text("a distinguished name such as \"DC=corp,DC=contoso,DC=com\""))
    bind_user: str | None = setting(None, Account())
    auth: str = setting("simple", Choice(("simple", "ntlm", "kerberos")))
    start_tls: bool = setting(False, Boolean())
    password_env: str = setting("ADFS_READINESS_LDAP_PASSWORD", EnvName())
    password_source: str = setting("env", Choice(("env", "prompt", "keyring")))
    keyring_service: str = setting("adfs-readiness", Text())
    ca_bundle: Path | None = setting(None, FilePath("PEM file of CA certificates", must_exist=True))
    service_account: str | None = setting(None, Text("a sAMAccountName such as \"gmsa-adfs$\""))
    ad_domain: str | None = setting(None, _DOMAIN)
    forest_root: str | None = setting(None, _DOMAIN)
    csv_dir: Path | None = setting(None, FilePath("a folder"))
    adfs_version: str | None = setting(None, Choice(ADFS_VERSIONS))

    @property
    def ad_dns_domain(self) -> str | None:
        """``ad_domain``, else the DNS name spelled by the DC= parts of ``base_dn``, else None."""
        if self.ad_domain:
            return self.ad_domain
        if self.base_dn:
            parts = [p.strip()[3:] for p in self.base_dn.split(",") if p.strip().lower().startswith("dc=")]
            if parts:
                return ".".join(parts).lower()
        return None
