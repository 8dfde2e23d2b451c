"""Facts of the directory area about permissions: the security descriptors (DACLs) of AD FS's
certificate-sharing container and its key objects, as read over LDAP (part of the ``directory``
fact, :attr:`adfs_readiness.facts.directory.DirectoryFacts.dkm`).

AD FS protects the private keys of the certificates it generates (token-signing, token-decrypting)
with Distributed Key Manager (DKM): the master keys live in the ``thumbnailPhoto`` attribute of
contact objects under ``CN=<GUID>,CN=ADFS,CN=Microsoft,CN=Program Data,<domain>``. Whoever can read
that attribute can decrypt the signing key and forge tokens ("Golden SAML"). The probe reads the
descriptors with the SD-flags control (owner and DACL only: no SACL, which would need
SeSecurityPrivilege) and never the key material itself; judging who may read it is the checks'.

Access entries are kept as the directory stores them (MS-DTYP 2.4.4): SIDs as "S-1-..." strings,
masks as integers, object types as lower-case GUID strings. This module imports only the shared
facts package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

__all__ = ["AccessEntry", "SecurityDescriptorRead", "DkmObject", "DkmFarm", "Principal", "DkmFacts"]


@dataclass(frozen=True)
class AccessEntry:
    """One ACE of a DACL (MS-DTYP 2.4.4).

    Attributes:
        allow: True for an access-allowed ACE (types 0x00, 0x05), False for access-denied (0x01,
            0x06); ACE types that grant nothing to a reader (audit, alarm, callback, ...) are not kept.
        trustee: the SID the ACE names.
        mask: the access mask (ADS_RIGHT_* bits, generic bits as stored).
        object_type: the property, property set, extended right or child class the ACE is limited
            to (object ACEs with ACE_OBJECT_TYPE_PRESENT), lower-case GUID; None = the whole object.
        inherited_object_type: the object class the ACE is inherited by; None = every class.
        inherited: INHERITED_ACE (0x10): it came from a parent container.
        inherit_only: INHERIT_ONLY_ACE (0x08): it does not apply to this object, only to children.
        index: the ACE's position in the DACL (0-based), to name it in findings.
    """

    allow: bool
    trustee: str
    mask: int
    object_type: str | None = None
    inherited_object_type: str | None = None
    inherited: bool = False
    inherit_only: bool = False
    index: int = 0


@dataclass(frozen=True)
class SecurityDescriptorRead:
    """The security descriptor of ``dn`` as read (owner and DACL).

    ``error`` says why it could not be judged: not returned (the reader lacks READ_CONTROL, or the
    DC ignored the SD-flags control), or malformed (the bytes are not a self-relative security
    descriptor; malformed data, never a permission problem). ``dacl_present`` False means a NULL
    DACL, which grants everyone full access (MS-DTYP 2.4.6). ``protected``: SE_DACL_PROTECTED, the
    object does not inherit from its parents.
    """

    dn: str
    owner: str | None = None
    dacl_present: bool = True
    protected: bool = False
    entries: tuple[AccessEntry, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class DkmObject:
    """An object inside a farm's DKM container: a key contact (its ``thumbnailPhoto`` holds a DKM
    master key) or AD FS's ``CryptoPolicy`` contact. ``key`` is False for CryptoPolicy; the key
    value is never read."""

    dn: str
    name: str
    key: bool
    security: SecurityDescriptorRead


@dataclass(frozen=True)
class DkmFarm:
    """One AD FS farm's certificate-sharing container (``CN=<GUID>,CN=ADFS,...``)."""

    dn: str
    security: SecurityDescriptorRead
    objects: tuple[DkmObject, ...] = ()
    when_changed: str | None = None


@dataclass(frozen=True)
class Principal:
    """A SID named in the descriptors, resolved in the directory: ``name`` (sAMAccountName, or the
    well-known name), ``dn`` and ``object_class`` (most specific, lower case) when found."""

    sid: str
    name: str | None = None
    dn: str | None = None
    object_class: str | None = None


@dataclass(frozen=True)
class DkmFacts:
    """What the directory holds of AD FS's certificate sharing.

    Attributes:
        container: ``CN=ADFS,CN=Microsoft,CN=Program Data,<domain>``.
        exists: whether that container was found (False: no farm of this domain shares
            certificates through it, or the reader cannot see it).
        container_security: its descriptor (inherited by the farms' containers unless protected).
        farms: every ``CN=<GUID>`` container below it, sorted by DN.
        principals: every SID the descriptors name -> how it resolved.
    """

    container: str
    exists: bool
    container_security: SecurityDescriptorRead | None = None
    farms: tuple[DkmFarm, ...] = ()
    principals: Mapping[str, Principal] = field(default_factory=dict)
