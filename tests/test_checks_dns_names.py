"""dns.fs-name-routable (issue 11, section 2, class 4): special-use and non-routable federation
service names are not federatable from the internet — judged from the configured name, and from
the hosts a metadata file names when that is the only input."""

from __future__ import annotations

import json

import pytest
from conftest import FIXED_NOW

import adfs_readiness_checks.dns as dns_checks
from adfs_readiness.api import CheckContext, Status
from adfs_readiness.cli import main
from adfs_readiness.settings import DnsSettings, FederationSettings, Settings


def judge(config: Settings, facts=None):
    out = dns_checks.fs_name_routable.function(CheckContext(facts=facts or {}, config=config, now=FIXED_NOW))
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("name, phrase", [
    ("sts.contoso.local", ".local name (RFC 6762"),
    ("ADFS.Contoso.LOCAL.", ".local name (RFC 6762"),
    ("sts.corp.internal", ".internal name"),
    ("sts.contoso.lan", ".lan name"),
    ("fs.contoso.corp", ".corp name"),
    ("adfs.home", ".home name"),
    ("sts.contoso.mail", ".mail name"),  # with .corp and .home, never delegated (ICANN 2018)
    ("sts.home.arpa", "under home.arpa (RFC 8375"),
    ("sts.example.com", "under example.com"),
    ("sts.contoso.test", ".test name (RFC 6761"),
    ("localhost", "single-label"),
    ("adfs", "single-label"),
    ("sts.contoso.onion", ".onion name"),
    ("192.168.1.247", "private or otherwise non-routable address"),
    ("10.0.0.5", "private or otherwise non-routable address"),
    ("fd00::5", "private or otherwise non-routable address"),
    ("203.0.113.10", "IP address"),  # documentation range: not global either
    ("8.8.8.8", "a public address"),
])
def test_special_use_and_private_names_fail_and_block(name, phrase):
    (out,) = judge(Settings(federation=FederationSettings(service_name=name)))
    assert out.status is Status.FAIL and out.target == name
    assert phrase in out.summary and "cannot be federated" in out.summary


@pytest.mark.parametrize("name", ["sts.contoso.com", "adfs.corp.contoso.com", "sts.local-bank.de", "fs.lan.example.org.uk",
                                  "login.fabrikam.co.uk", "sts.internal.contoso.com"])
def test_ordinary_names_pass(name):
    (out,) = judge(Settings(federation=FederationSettings(service_name=name)))
    assert out.status is Status.PASS, out.summary


def test_a_lab_may_declare_its_test_domain_public():
    config = Settings(federation=FederationSettings(service_name="sts.contoso.test"),
                      dns=DnsSettings(simulated_public_domains=("contoso.test",)))
    (out,) = judge(config)
    assert out.status is Status.PASS and "served as public by a lab" in out.summary
    (other,) = judge(Settings(dns=config.dns, federation=FederationSettings(service_name="sts.fabrikam.test")))
    assert other.status is Status.FAIL


def test_without_any_name_it_skips():
    (out,) = judge(Settings())
    assert out.status is Status.SKIP


def test_a_metadata_file_naming_a_local_host_is_not_ready(tmp_path, corpus):
    text = (corpus / "metadata" / "msidentitymodel_adfs-v4-metadata.xml").read_text(encoding="utf-8")
    path = tmp_path / "FederationMetadata.xml"
    path.write_text(text.replace("fs.msidlab11.com", "adfs.contoso.local"), encoding="utf-8")
    out = tmp_path / "r.json"
    # Inside the certificates' validity, so the name is the only thing wrong with this document.
    assert main(["check", "--metadata", str(path), "--as-of", "2017-06-01", "--json", str(out), "-q"]) == 2
    doc = json.loads(out.read_text())
    assert doc["verdict"] == "NOT_READY"
    found = [f for f in doc["findings"] if f["check_id"] == "dns.fs-name-routable"]
    assert [f["status"] for f in found] == ["fail"] and found[0]["blocker"]
    assert found[0]["target"] == "adfs.contoso.local" and ".local name" in found[0]["summary"]
    assert "entityID and endpoints" in found[0]["evidence"]["source"]
    # The original file's host is an ordinary name: the check passes there.
    main(["check", "--metadata", str(corpus / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"), "--as-of",
          "2017-06-01", "--json", str(out), "-q"])
    found = [f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "dns.fs-name-routable"]
    assert [f["status"] for f in found] == ["pass"]
