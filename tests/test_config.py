"""Configuration: TOML loading, defaults, CLI-style overrides and error messages that name the
file, the key, the bad value and what is expected."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from adfs_readiness.config import (EXAMPLE_CONFIG, Config, ConfigError, HostPort, config_from_mapping,
                                   load_config, parse_host_port)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "adfs.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_config_loads_and_documents_every_table(tmp_path):
    cfg = load_config(write(tmp_path, EXAMPLE_CONFIG))
    assert cfg.service_name == "sts.contoso.com"
    assert cfg.federated_domains == ("contoso.com",)
    assert cfg.issuer == "http://sts.contoso.com/adfs/services/trust"
    assert cfg.metadata_url == "https://sts.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml"
    assert cfg.thresholds.token_signing_fail_days == 14 and cfg.thresholds.token_signing_warn_days == 90
    for table in ("federation", "dns", "directory", "thresholds", "scope", "checks", "network", "tls"):
        assert f"[{table}]" in EXAMPLE_CONFIG


def test_addresses_parse_with_default_ports(tmp_path):
    cfg = load_config(write(tmp_path, """
[federation]
service_name = "STS.Contoso.com."
farm_nodes = ["adfs1.corp.contoso.com", "10.0.0.11:8443", "[2001:db8::5]:443"]
proxies = ["203.0.113.10"]
service_address = "127.0.0.1:9443"
[dns]
internal_resolvers = ["10.0.0.1"]
external_resolvers = ["1.1.1.1:5353", "[2606:4700::1111]"]
"""))
    assert cfg.service_name == "sts.contoso.com"
    assert cfg.farm_nodes == (HostPort("adfs1.corp.contoso.com", 443), HostPort("10.0.0.11", 8443),
                              HostPort("2001:db8::5", 443))
    assert cfg.proxies == (HostPort("203.0.113.10", 443),)
    assert cfg.service_address == HostPort("127.0.0.1", 9443)
    assert cfg.external_resolvers == (HostPort("1.1.1.1", 5353), HostPort("2606:4700::1111", 53))
    assert str(cfg.external_resolvers[1]) == "[2606:4700::1111]:53"


@pytest.mark.parametrize("text, key, expected_fragment", [
    ('[federation]\nservice_name = "https://sts.contoso.com/adfs"', "federation.service_name", "fully qualified host name"),
    ('[federation]\nfarm_nodes = ["adfs1:99999"]', "federation.farm_nodes", "host[:port]"),
    ('[dns]\nexternal_resolvers = ["dns.google"]', "dns.external_resolvers", "ip[:port]"),
    ('[thresholds]\ntoken_signing_warn_days = "ninety"', "thresholds.token_signing_warn_days", "whole number"),
    ('[thresholds]\ntoken_signing_fail_days = 100', "thresholds.token_signing_fail_days", "not above"),
    ('[directory]\nauth = "kerberos5"', "directory.auth", '"simple", "ntlm" or "kerberos"'),
    ('[directory]\nserver = "dc1.corp.contoso.com"', "directory.server", "LDAP URL"),
    ('[checks]\nskip = ["Metadata Signature"]', "checks.skip", "check ids"),
    ('[federation]\nservice_nmae = "sts.contoso.com"', "federation.service_nmae", "known key"),
    ('[federaton]\nservice_name = "sts.contoso.com"', "federaton", "one of the tables"),
    ('[scope]\nexchange_online = "yes"', "scope.exchange_online", "true or false"),
    ('[network]\ndeadline_seconds = 0', "network.deadline_seconds", ">= 1"),
    ('[tls]\nca_bundle = "missing.pem"', "tls.ca_bundle", "existing PEM file"),
])
def test_errors_name_file_key_value_and_expectation(tmp_path, text, key, expected_fragment):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.source == str(path)
    assert err.key == key
    message = str(err)
    assert message.startswith(str(path)) and key in message and expected_fragment in message


def test_password_in_file_is_refused_without_echoing_it(tmp_path):
    path = write(tmp_path, '[directory]\nbind_user = "CORP\\\\svc"\npassword = "Sup3rSecret!"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "directory.password"
    assert "Sup3rSecret" not in str(info.value)
    assert "password_env" in str(info.value)


def test_toml_syntax_error_names_file_and_position(tmp_path):
    path = write(tmp_path, '[federation]\nservice_name = "sts.contoso.com\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "line 2" in str(info.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert "readable file" in str(info.value)


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    cfg = load_config(write(tmp_path, '[tls]\nca_bundle = "ca.pem"\n'))
    assert cfg.ca_bundle == tmp_path / "ca.pem"


def test_skip_by_area_and_id():
    cfg = config_from_mapping({"checks": {"skip": ["dns.*", "metadata.signature"]}})
    assert cfg.is_skipped("dns.caa") and cfg.is_skipped("metadata.signature")
    assert not cfg.is_skipped("metadata.entity-id")


def test_expected_issuer_overrides_default():
    cfg = Config(service_name="sts.contoso.com", expected_issuer="http://contoso.com/adfs/services/trust/")
    assert cfg.issuer == "http://contoso.com/adfs/services/trust/"


@pytest.mark.parametrize("text, expected", [
    ("10.0.0.1", HostPort("10.0.0.1", 53)),
    ("10.0.0.1:5300", HostPort("10.0.0.1", 5300)),
    ("[::1]:5300", HostPort("::1", 5300)),
    ("::1", HostPort("::1", 53)),
])
def test_parse_host_port(text, expected):
    assert parse_host_port(text, 53, require_ip=True) == expected


def test_example_is_valid_toml():
    assert tomllib.loads(EXAMPLE_CONFIG)["federation"]["service_name"] == "sts.contoso.com"
