"""Decoding an nTSecurityDescriptor value (MS-DTYP 2.4.6, self-relative) into the
:class:`~adfs_readiness.facts.directory_acl.SecurityDescriptorRead` fact (pure functions, no I/O).

The parsing itself is winacl's (``SECURITY_DESCRIPTOR.from_bytes``: pure Python, MIT, maintained
with msldap). winacl reads past the end of a truncated value as zeros instead of failing
(``int.from_bytes(b"")`` is 0), which would turn a cut-off descriptor into made-up ACEs for the
SID S-1-0; so the layout is checked here first — header, owner and DACL offsets inside the value,
the DACL's size, every ACE's size and its SID inside its ACE — and a value that fails is reported
as malformed data (never as a permission problem). Only the ACE types that grant or deny a
directory reader something are kept: ACCESS_ALLOWED / ACCESS_DENIED (0x00, 0x01) and their
object forms (0x05, 0x06); audit, alarm and callback ACEs do not decide LDAP access (MS-ADTS
5.1.3.3).
"""

from __future__ import annotations

import struct

from winacl.dtyp.security_descriptor import SECURITY_DESCRIPTOR

from adfs_readiness.facts.directory_acl import AccessEntry, SecurityDescriptorRead

__all__ = ["decode_security_descriptor", "MalformedDescriptor"]

_SE_DACL_PRESENT, _SE_DACL_PROTECTED, _SE_SELF_RELATIVE = 0x0004, 0x1000, 0x8000
_INHERIT_ONLY, _INHERITED = 0x08, 0x10
_ALLOWED, _DENIED, _ALLOWED_OBJECT, _DENIED_OBJECT = 0x00, 0x01, 0x05, 0x06
_OBJECT_TYPE_PRESENT, _INHERITED_OBJECT_TYPE_PRESENT = 0x1, 0x2


class MalformedDescriptor(ValueError):
    """The bytes are not a well-formed self-relative security descriptor; ``str()`` says where."""


def _check_sid(raw: bytes, offset: int, end: int, what: str) -> None:
    if offset + 8 > end:
        raise MalformedDescriptor(f"{what} starts at byte {offset} but the data ends at {end}")
    count = raw[offset + 1]
    if count > 15:  # MS-DTYP 2.4.2: at most 15 sub-authorities
        raise MalformedDescriptor(f"{what} claims {count} sub-authorities (at most 15)")
    if offset + 8 + 4 * count > end:
        raise MalformedDescriptor(f"{what} ({count} sub-authorities) runs past byte {end}")


def _check_layout(raw: bytes) -> None:
    """Raise MalformedDescriptor unless every offset and size of ``raw`` stays inside it."""
    if len(raw) < 20:
        raise MalformedDescriptor(f"{len(raw)} bytes (a security descriptor header has 20)")
    revision, _, control, owner, group, sacl, dacl = struct.unpack_from("<BBHIIII", raw)
    if revision != 1:
        raise MalformedDescriptor(f"revision {revision} (1 expected)")
    if not control & _SE_SELF_RELATIVE:
        raise MalformedDescriptor("not in self-relative form (SE_SELF_RELATIVE unset)")
    for name, offset in (("owner", owner), ("group", group), ("SACL", sacl), ("DACL", dacl)):
        if offset and not 20 <= offset < len(raw):
            raise MalformedDescriptor(f"the {name} offset {offset} is outside the {len(raw)} bytes")
    for name, offset in (("owner SID", owner), ("group SID", group)):
        if offset:
            _check_sid(raw, offset, len(raw), f"the {name}")
    if not (control & _SE_DACL_PRESENT and dacl):
        return
    if dacl + 8 > len(raw):
        raise MalformedDescriptor("the DACL header runs past the end")
    _, _, acl_size, ace_count, _ = struct.unpack_from("<BBHHH", raw, dacl)
    end = dacl + acl_size
    if acl_size < 8 or end > len(raw):
        raise MalformedDescriptor(f"the DACL claims {acl_size} bytes from byte {dacl}, the data has {len(raw)}")
    position = dacl + 8
    for index in range(ace_count):
        if position + 4 > end:
            raise MalformedDescriptor(f"ACE {index} of {ace_count} starts past the DACL's end")
        ace_type, _, ace_size = struct.unpack_from("<BBH", raw, position)
        if ace_size < 8 or position + ace_size > end:
            raise MalformedDescriptor(f"ACE {index} claims {ace_size} bytes, past the DACL's end")
        sid_at = position + 8
        if ace_type in (_ALLOWED_OBJECT, _DENIED_OBJECT):
            if ace_size < 12:
                raise MalformedDescriptor(f"object ACE {index} has {ace_size} bytes")
            flags = struct.unpack_from("<I", raw, position + 8)[0]
            sid_at = position + 12 + 16 * bool(flags & _OBJECT_TYPE_PRESENT) + 16 * bool(flags & _INHERITED_OBJECT_TYPE_PRESENT)
        if ace_type in (_ALLOWED, _DENIED, _ALLOWED_OBJECT, _DENIED_OBJECT):
            _check_sid(raw, sid_at, position + ace_size, f"the SID of ACE {index}")
        position += ace_size


def decode_security_descriptor(dn: str, raw: bytes) -> SecurityDescriptorRead:
    """The owner and DACL of ``raw`` (an nTSecurityDescriptor value read with the SD-flags
    control). Never raises: a malformed value gives a SecurityDescriptorRead whose ``error``
    starts with "malformed security descriptor"; a descriptor without a DACL (the DC did not
    return it) gives an ``error`` saying so; a NULL DACL gives ``dacl_present=False``."""
    try:
        _check_layout(raw)
        sd = SECURITY_DESCRIPTOR.from_bytes(raw)
    except Exception as exc:  # MalformedDescriptor, or winacl on a value it cannot read (unknown ACE type, ...)
        return SecurityDescriptorRead(dn, error=f"malformed security descriptor ({len(raw)} bytes): {exc}")
    control = int(sd.Control or 0)
    owner = str(sd.Owner) if sd.Owner is not None else None
    if not control & _SE_DACL_PRESENT:
        return SecurityDescriptorRead(dn, owner=owner, error="the domain controller returned the security descriptor "
                                                            "without its DACL")
    if sd.Dacl is None:  # SE_DACL_PRESENT with no DACL: a NULL DACL, full access for everyone (MS-DTYP 2.4.6)
        return SecurityDescriptorRead(dn, owner=owner, dacl_present=False, protected=bool(control & _SE_DACL_PROTECTED))
    entries = []
    for index, ace in enumerate(sd.Dacl.aces):
        kind = ace.AceType.value
        if kind not in (_ALLOWED, _DENIED, _ALLOWED_OBJECT, _DENIED_OBJECT):
            continue
        flags = int(ace.AceFlags)
        is_object = kind in (_ALLOWED_OBJECT, _DENIED_OBJECT)
        presence = int(ace.Flags) if is_object else 0
        entries.append(AccessEntry(
            allow=kind in (_ALLOWED, _ALLOWED_OBJECT), trustee=str(ace.Sid), mask=int(ace.Mask),
            object_type=str(ace.ObjectType).lower() if presence & _OBJECT_TYPE_PRESENT else None,
            inherited_object_type=(str(ace.InheritedObjectType).lower()
                                   if presence & _INHERITED_OBJECT_TYPE_PRESENT else None),
            inherited=bool(flags & _INHERITED), inherit_only=bool(flags & _INHERIT_ONLY), index=index))
    return SecurityDescriptorRead(dn, owner=owner, protected=bool(control & _SE_DACL_PROTECTED), entries=tuple(entries))
