"""directory.dkm-access against the Samba lab DC, with real access control entries added to the
AD FS certificate-sharing (DKM) objects by the test (``samba-tool dsacl set`` over LDAP) and the
original security descriptor written back afterwards.

The ``single`` lab holds a farm container seeded as AD FS leaves it (protected DACL: Tier 0 and
the service account gmsa-adfs$, whose rights the key contacts inherit). Tests that change its
permissions take a file lock, so pytest-xdist workers never see each other's entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
from pathlib import Path

import pytest

from adfs_readiness.lab.samba_seed import DKM_FARM, DKM_KEYS, READER_PASSWORD
from adfs_readiness.model import Status

from test_directory_samba import B, gather, judge, make_config

FARM = f"{DKM_FARM},{B}"
KEY = f"{DKM_KEYS[0]},{FARM}"
THUMBNAIL_PHOTO = "8d3bca50-1d7e-11d0-a081-00aa006c33ed"
PERSONAL_INFORMATION = "77b5b886-944a-11d1-aebd-0000f80367c1"


def _admin(dc):
    from ldap3 import Connection, Server

    return Connection(Server(dc.address, port=389), user=dc.admin_upn, password=dc.admin_password, auto_bind=True)


def _sid_of(dc, sam: str) -> str:
    from adfs_readiness.probes.ldap_decode import sid_from_bytes

    def read():
        conn = _admin(dc)
        try:
            conn.search(B, f"(sAMAccountName={sam})", attributes=["objectSid"])
            return sid_from_bytes(conn.entries[0]["objectSid"].raw_values[0])
        finally:
            conn.unbind()
    return dc.run_in_network(read)


@contextlib.contextmanager
def extra_aces(dc, *changes: tuple[str, str]):
    """Add to each (dn, sddl) the ACEs of ``sddl`` for the duration; restore the descriptors."""
    from ldap3 import MODIFY_REPLACE
    from ldap3.protocol.microsoft import security_descriptor_control

    flags = security_descriptor_control(sdflags=0x05)  # owner and DACL

    def read_sd(dn):
        conn = _admin(dc)
        try:
            conn.search(dn, "(objectClass=*)", "BASE", attributes=["nTSecurityDescriptor"], controls=flags)
            return conn.entries[0]["nTSecurityDescriptor"].raw_values[0]
        finally:
            conn.unbind()

    def write_sd(dn, raw: bytes):
        conn = _admin(dc)
        try:
            assert conn.modify(dn, {"nTSecurityDescriptor": [(MODIFY_REPLACE, [raw])]}, controls=flags), conn.result
        finally:
            conn.unbind()

    with open(Path(dc.root).parent / "dkm-acl.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        saved = [(dn, dc.run_in_network(read_sd, dn)) for dn, _ in changes]
        try:
            for dn, sddl in changes:
                proc = subprocess.run(["nsenter", f"--net={dc.netns}", "samba-tool", "dsacl", "set", "-H",
                                       f"ldap://{dc.address}", f"--simple-bind-dn={dc.admin_upn}",
                                       f"--password={dc.admin_password}", f"--objectdn={dn}", f"--sddl={sddl}"],
                                      capture_output=True, text=True, timeout=60)
                assert proc.returncode == 0, proc.stdout + proc.stderr
            yield
        finally:
            for dn, raw in reversed(saved):
                dc.run_in_network(write_sd, dn, raw)
            fcntl.flock(lock, fcntl.LOCK_UN)


def _config(dc, **directory):
    directory.setdefault("service_account", "gmsa-adfs")
    return make_config(dc, f"OU=Lab,{B}", server="ldap://127.0.0.1", **directory)


def _judge(dc, cfg, password="default"):
    facts = gather(dc, cfg, password=password)
    return judge("directory.dkm-access", facts, cfg)


def test_as_ad_fs_leaves_it_only_tier0_and_the_service_account_read_the_keys(samba_single_dc):
    status, o = _judge(samba_single_dc, _config(samba_single_dc))
    assert status is Status.PASS, o
    assert o.summary == ("Only Tier 0 and the AD FS service account (directory.service_account gmsa-adfs$) can read the "
                         f"DKM key material in the certificate-sharing container {FARM}.")
    readers = {(r["principal"], r["right"], r["ace"]) for r in o.evidence["readers"] if r["object"] == KEY}
    assert ("gmsa-adfs$", "read all properties", "ACE 2 (inherited from a parent container)") in readers
    assert ("Domain Admins", "full control", "ACE 1 (explicit)") in readers
    assert {r["expected"] for r in o.evidence["readers"]} == {"Tier 0", "the AD FS service account"}
    assert [(f["dn"], f["key_objects"], f["service_account_reads"]) for f in o.evidence["farms"]] == [
        (FARM, [f"{DKM_KEYS[1]},{FARM}", KEY], True)]


@pytest.mark.parametrize("ace, who, how", [
    ("(A;;RPLCLORC;;;AU)", "Authenticated Users", "read all properties by ACE"),
    (f"(OA;;RP;{PERSONAL_INFORMATION};;DU)", "Domain Users",
     "read the Personal Information property set (thumbnailPhoto is in it) by ACE"),
    ("(A;;GA;;;WD)", "Everyone", "full control by ACE"),
    (f"(OA;;RP;{THUMBNAIL_PHOTO};;DC)", "Domain Computers", "read thumbnailPhoto by ACE"),
])
def test_a_broad_group_that_can_read_a_key_contact_fails(samba_single_dc, ace, who, how):
    with extra_aces(samba_single_dc, (KEY, ace)):
        status, o = _judge(samba_single_dc, _config(samba_single_dc))
    assert status is Status.FAIL
    assert o.summary.startswith(f"Broad groups can read the DKM key material in the certificate-sharing container "
                                f"{FARM}: {who} ({how} ")
    assert "(explicit) on CN=5d7d3b5c-1f2e-4e51-8a51-0c9b2f7e0a11" in o.summary and "Golden SAML" in o.summary


def test_another_principal_warns_named_with_the_ace_and_whether_it_was_inherited(samba_single_dc):
    reader = _sid_of(samba_single_dc, "reader")
    with extra_aces(samba_single_dc, (KEY, f"(OA;;RP;{THUMBNAIL_PHOTO};;{reader})")):
        status, o = _judge(samba_single_dc, _config(samba_single_dc))
    assert status is Status.WARN
    assert o.summary.startswith(f"In the certificate-sharing container {FARM}: principals beyond AD FS and Tier 0 can "
                                "read the DKM key material: reader (read thumbnailPhoto by ACE ")
    assert "(explicit) on CN=5d7d3b5c" in o.summary
    # Granted on the farm container with container inheritance: every key contact inherits it.
    with extra_aces(samba_single_dc, (FARM, f"(A;CI;WD;;;{reader})")):
        status, o = _judge(samba_single_dc, _config(samba_single_dc))
    assert status is Status.WARN
    assert "reader (change permissions (WriteDacl), then read by ACE" in o.summary
    assert "(inherited from a parent container) on CN=0c6f3e2a" in o.summary


def test_a_deny_entry_before_the_grant_takes_the_read_away(samba_single_dc):
    """An explicit deny comes before the inherited allow (MS-DTYP 2.4.5: explicit entries first): the
    read inherited from the farm container is cancelled on the contact that denies it, and stays on
    the one that does not."""
    reader = _sid_of(samba_single_dc, "reader")
    other = f"{DKM_KEYS[1]},{FARM}"
    with extra_aces(samba_single_dc, (FARM, f"(A;CI;RP;;;{reader})"), (KEY, f"(D;;RP;;;{reader})")):
        status, o = _judge(samba_single_dc, _config(samba_single_dc))
    assert status is Status.WARN
    assert {r["object"] for r in o.evidence["readers"] if r["principal"] == "reader"} == {other}
    with extra_aces(samba_single_dc, (FARM, f"(A;CI;RP;;;{reader})"), (KEY, f"(D;;RP;;;{reader})"),
                    (other, f"(D;;RP;;;{reader})")):
        status, o = _judge(samba_single_dc, _config(samba_single_dc))
    assert status is Status.PASS, o.summary


def test_a_service_account_without_read_of_its_own_warns(samba_single_dc):
    """directory.service_account names an account the key contacts do not grant: AD FS could not
    decrypt its certificates; and gmsa-adfs$, which can, is then an unexpected reader."""
    status, o = _judge(samba_single_dc, _config(samba_single_dc, service_account="reader"))
    assert status is Status.WARN
    assert "read the DKM key material: gmsa-adfs$ (owner: can change the permissions, then read by the owner" in o.summary
    assert (f"the AD FS service account (directory.service_account reader) has no read access of its own to the key "
            f"contacts of {FARM}") in o.summary


def test_without_a_known_service_account_the_readers_cannot_be_judged(samba_single_dc):
    cfg = _config(samba_single_dc, service_account=None, federation={"domains": ["contoso.com"]})
    status, reason = _judge(samba_single_dc, cfg)
    assert status is Status.ERROR
    assert reason.startswith("which of the principals that can read the DKM key material is the AD FS service account "
                             "is not known (gmsa-adfs$ (")
    # The service name's HOST/ SPN holder is the service account: then it is known.
    named = _config(samba_single_dc, service_account=None,
                    federation={"service_name": "sts.contoso.test", "domains": ["contoso.com"]})
    status, o = _judge(samba_single_dc, named)
    assert status is Status.PASS and "gmsa-adfs$, which holds HOST/sts.contoso.test" in o.summary


def test_a_reader_without_read_control_gets_not_determined_never_a_pass(samba_single_dc):
    cfg = _config(samba_single_dc, bind_user="reader@contoso.test")
    status, reason = _judge(samba_single_dc, cfg, password=READER_PASSWORD)
    assert status is Status.ERROR
    assert "could not be judged" in reason and "lacks Read Permissions (READ_CONTROL)" in reason


def test_no_certificate_sharing_container_warns(samba_legacy_dc):
    cfg = make_config(samba_legacy_dc, server="ldap://127.0.0.1", service_account="gmsa-adfs")
    status, o = judge("directory.dkm-access", gather(samba_legacy_dc, cfg), cfg)
    assert status is Status.WARN
    assert o.summary.startswith(f"No AD FS certificate-sharing (DKM) container in CN=ADFS,CN=Microsoft,CN=Program Data,"
                                f"{B} (not found): AD FS is not installed yet")


def test_the_key_material_itself_is_never_read(samba_single_dc):
    """No search of the probe asks for thumbnailPhoto: the fact carries descriptors, never a key."""
    import json

    from adfs_readiness.facts import to_jsonable

    facts = gather(samba_single_dc, _config(samba_single_dc))
    text = json.dumps(to_jsonable(facts))
    assert facts.dkm is not None and facts.dkm.farms
    assert "thumbnailPhoto" not in text and "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" not in text
