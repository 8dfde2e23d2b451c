"""Kerberos (SASL GSSAPI) binds against the Samba DC's own KDC, over the wire.

The admin's path: a krb5.conf naming the realm's KDC, a ticket from ``kinit`` (run inside the DC's
network namespace, where the KDC listens on 127.0.0.1), then a run with ``auth = "kerberos"`` and
no bind_user or password. Needs the optional gssapi package and kinit (``.ci/run`` installs both);
skipped, with the reason, where they are missing.
"""

from __future__ import annotations


import pytest

from adfs_readiness.api import CannotDetermine, CheckContext
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.facts.directory import DIRECTORY_FACT, BindResult
from adfs_readiness.model import Status
from adfs_readiness.probes.directory import gather_directory
from adfs_readiness.settings import settings_from_mapping

from conftest import FIXED_NOW
from factories import internal_dns
from krb5_lab import kerberos_missing, lab_ticket

pytestmark = pytest.mark.skipif(kerberos_missing() is not None, reason=kerberos_missing() or "")

B = "DC=contoso,DC=test"
CONNECT = next(c for c in discover_checks().checks if c.id == "directory.connect")


@pytest.fixture(scope="module")
def krb5(samba_single_dc, tmp_path_factory):
    """KRB5_CONFIG for the lab realm and a ticket cache holding Administrator's TGT."""
    with lab_ticket(samba_single_dc, tmp_path_factory.mktemp("krb5")) as folder:
        yield folder


def gather(dc, server, **directory):
    cfg = settings_from_mapping({"dns": {"internal_resolvers": [f"{dc.address}:{dc.dns_port}"]},
                               "directory": {"server": server, "auth": "kerberos", "base_dn": f"OU=Lab,{B}",
                                             **directory}})
    facts = dc.run_in_network(lambda: gather_directory(cfg, dns=internal_dns(cfg), timeout=5))
    return cfg, facts


def judge(facts, cfg):
    """(status, summary or the reason it could not be determined)."""
    try:
        outcome = CONNECT.function(CheckContext(facts={DIRECTORY_FACT: facts}, config=cfg, now=FIXED_NOW))
    except CannotDetermine as exc:
        return Status.ERROR, exc.reason
    return outcome.status, outcome.summary


def test_a_kerberos_bind_with_a_ticket_reads_the_directory_without_a_password(samba_single_dc, krb5):
    cfg, facts = gather(samba_single_dc, "ldap://dc1.contoso.test")
    c = facts.connection
    assert c.result == BindResult.OK and c.auth == "kerberos" and c.transport == "plain", c.reason
    assert facts.scan is not None and not facts.scan.partial and facts.scan.objects_read == 1
    assert facts.root_dse.domain_functionality == 2
    status, o = judge(facts, cfg)
    assert status is Status.PASS and "kerberos bind over plain" in o


def test_a_kerberos_bind_to_an_ip_address_says_to_use_the_dc_name(samba_single_dc, krb5):
    cfg, facts = gather(samba_single_dc, "ldap://127.0.0.1")
    c = facts.connection
    assert c.result == BindResult.AUTH_FAILED
    assert "Server not found in Kerberos database" in c.reason and "not an IP address" in c.reason
    status, o = judge(facts, cfg)
    assert status is Status.ERROR and "the Kerberos bind failed" in o


def test_a_kerberos_bind_without_a_ticket_says_to_run_kinit(samba_single_dc, krb5):
    with pytest.MonkeyPatch.context() as inner:
        inner.setenv("KRB5CCNAME", f"FILE:{krb5}/no-such-cache")
        cfg, facts = gather(samba_single_dc, "ldap://dc1.contoso.test")
    c = facts.connection
    assert c.result == BindResult.AUTH_FAILED and "run kinit" in c.reason, c.reason
    status, o = judge(facts, cfg)
    assert status is Status.ERROR and "run kinit" in o and "could not be reached" not in o

