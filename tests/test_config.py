"""Configuration: TOML loading, defaults, CLI-style overrides and error messages that name the
file, the key, the bad value and what is expected."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest

from adfs_readiness.settings import (EXAMPLE_CONFIG, SECTIONS, FederationSettings, HostPort, Settings, SettingsError,
                                     apply_flags, load_settings, parse_host_port, settings_from_mapping)


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "adfs.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_config_loads_once_its_placeholders_are_edited_and_documents_every_table(tmp_path):
    edited = EXAMPLE_CONFIG.replace("sts.example.invalid", "sts.contoso.com").replace("example.invalid", "contoso.com")
    cfg = load_settings(write(tmp_path, edited))
    assert cfg.federation.service_name == "sts.contoso.com"
    assert cfg.federation.domains == ("contoso.com",)
    assert cfg.federation.issuer == "http://sts.contoso.com/adfs/services/trust"
    assert cfg.federation.metadata_url == "https://sts.contoso.com/FederationMetadata/2007-06/FederationMetadata.xml"
    assert cfg.thresholds.token_signing_fail_days == 14 and cfg.thresholds.token_signing_warn_days == 90
    for table in SECTIONS:
        assert f"[{table}]" in EXAMPLE_CONFIG


def test_addresses_parse_with_default_ports(tmp_path):
    cfg = load_settings(write(tmp_path, """
[federation]
service_name = "STS.Contoso.com."
farm_nodes = ["adfs1.corp.contoso.com", "10.0.0.11:8443", "[2001:db8::5]:443"]
proxies = ["203.0.113.10"]
service_address = "127.0.0.1:9443"
[dns]
internal_resolvers = ["10.0.0.1"]
external_resolvers = ["1.1.1.1:5353", "[2606:4700::1111]"]
"""))
    assert cfg.federation.service_name == "sts.contoso.com"
    assert cfg.federation.farm_nodes == (HostPort("adfs1.corp.contoso.com", 443), HostPort("10.0.0.11", 8443),
                              HostPort("2001:db8::5", 443))
    assert cfg.federation.proxies == (HostPort("203.0.113.10", 443),)
    assert cfg.federation.service_address == HostPort("127.0.0.1", 9443)
    assert cfg.dns.external_resolvers == (HostPort("1.1.1.1", 5353), HostPort("2606:4700::1111", 53))
    assert str(cfg.dns.external_resolvers[1]) == "[2606:4700::1111]:53"


@pytest.mark.parametrize("text, key, expected_fragment", [
    ('[federation]\nservice_name = "https://sts.contoso.com/adfs"', "federation.service_name", "fully qualified host name"),
    ('[federation]\nfarm_nodes = ["adfs1:99999"]', "federation.farm_nodes", "host[:port]"),
    ('[dns]\nexternal_resolvers = ["dns.google"]', "dns.external_resolvers", "ip[:port]"),
    ('[thresholds]\ntoken_signing_warn_days = "ninety"', "thresholds.token_signing_warn_days", "whole number"),
    ('[thresholds]\ntoken_signing_fail_days = 100', "thresholds.token_signing_fail_days", "not above"),
    ('[directory]\nauth = "kerberos5"', "directory.auth", '"simple", "ntlm" or "kerberos"'),
    ('[directory]\nserver = "dc1.corp.contoso.com"', "directory.server", "LDAP URL"),
    ('[checks]\nskip = ["Metadata Signature"]', "checks.skip", "a check id"),
    ('[federation]\nservice_nmae = "sts.contoso.com"', "federation.service_nmae", "known key"),
    ('[federaton]\nservice_name = "sts.contoso.com"', "federaton", "one of the tables"),
    ('[scope]\nexchange_online = "yes"', "scope.exchange_online", "true or false"),
    ('[network]\ndeadline_seconds = 0', "network.deadline_seconds", "from 1 to 86400"),
    ('[tls]\nca_bundle = "missing.pem"', "tls.ca_bundle", "existing PEM file"),
])
def test_errors_name_file_key_value_and_expectation(tmp_path, text, key, expected_fragment):
    path = write(tmp_path, text)
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    err = info.value
    assert err.source == str(path)
    assert err.key == key
    message = str(err)
    assert message.startswith(str(path)) and key in message and expected_fragment in message


def test_password_in_file_is_refused_without_echoing_it(tmp_path):
    path = write(tmp_path, '[directory]\nbind_user = "CORP\\\\svc"\npassword = "Sup3rSecret!"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert info.value.key == "directory.password"
    assert "Sup3rSecret" not in str(info.value)
    assert "password_env" in str(info.value)


@pytest.mark.parametrize("text, shown", [
    ('[thresholds]\ntoken_signing_fail_days = 100', "thresholds.token_signing_fail_days = 100: expected a value not "
                                                    "above thresholds.token_signing_warn_days (90)"),
    ('[thresholds]\ntoken_decrypting_warn_days = "ninety"', "thresholds.token_decrypting_warn_days = 'ninety'"),
])
def test_token_certificate_thresholds_are_shown_not_hidden_as_secrets(tmp_path, text, shown):
    """"token" in a key hides its value (an admin may type a secret under a wrong name), but the
    token-signing / token-decrypting day counts are no secret: the admin must see what to fix."""
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, text))
    assert shown in str(info.value) and "<hidden>" not in str(info.value)


def test_a_secret_under_a_wrong_key_is_still_hidden(tmp_path):
    path = write(tmp_path, '[cloud]\naccess_token = "eyJ0eXAiOiJKV1Qi"\n[sign_in_test]\npasswd = "Sup3rSecret!"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert "eyJ0eXAi" not in str(info.value) and "Sup3rSecret" not in str(info.value)
    assert str(info.value).count("<hidden>") == 2


def test_a_password_source_shows_its_choice_but_hides_anything_else(tmp_path):
    from adfs_readiness.settings._problems import shown_value

    assert shown_value("directory.password_source", "prompt") == "'prompt'"
    # A password typed into the source key by mistake stays hidden.
    path = write(tmp_path, '[directory]\npassword_source = "Sup3rSecret!"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert "Sup3rSecret" not in str(info.value) and "directory.password_source = <hidden>" in str(info.value)


def test_toml_syntax_error_names_file_and_position(tmp_path):
    path = write(tmp_path, '[federation]\nservice_name = "sts.contoso.com\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert str(path) in str(info.value) and "line 2" in str(info.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path / "nope.toml")
    assert "readable file" in str(info.value)


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    cfg = load_settings(write(tmp_path, '[tls]\nca_bundle = "ca.pem"\n'))
    assert cfg.tls.ca_bundle == tmp_path / "ca.pem"


def test_skip_by_area_prefix_and_id():
    cfg = settings_from_mapping({"checks": {"skip": ["dns.*", "metadata.signature", "token-signing.*"]}})
    assert cfg.checks.skips("dns.caa", "dns") and cfg.checks.skips("metadata.signature", "metadata")
    assert cfg.checks.skips("token-signing.expiry", "metadata")  # by its id prefix
    assert not cfg.checks.skips("metadata.entity-id", "metadata")
    area = settings_from_mapping({"checks": {"skip": ["metadata.*"]}})
    assert area.checks.skips("token-signing.expiry", "metadata")  # by its area


def test_expected_issuer_overrides_default():
    cfg = Settings(federation=FederationSettings(service_name="sts.contoso.com",
                                                 expected_issuer="http://contoso.com/adfs/services/trust/"))
    assert cfg.federation.issuer == "http://contoso.com/adfs/services/trust/"


@pytest.mark.parametrize("text, expected", [
    ("10.0.0.1", HostPort("10.0.0.1", 53)),
    ("10.0.0.1:5300", HostPort("10.0.0.1", 5300)),
    ("[::1]:5300", HostPort("::1", 5300)),
    ("::1", HostPort("::1", 53)),
])
def test_parse_host_port(text, expected):
    assert parse_host_port(text, 53, require_ip=True) == expected


def test_example_is_valid_toml_with_placeholders_the_run_refuses(tmp_path):
    assert tomllib.loads(EXAMPLE_CONFIG)["federation"]["service_name"] == "sts.example.invalid"
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, EXAMPLE_CONFIG))
    assert [p.key for p in info.value.problems] == ["federation.service_name", "federation.domains"]
    assert all("placeholder written by 'adfs-readiness init'" in (p.fix or "") for p in info.value.problems)


def test_every_mistake_of_a_file_is_reported_at_once(tmp_path):
    path = write(tmp_path, """
[federation]
service_name = "https://sts.contoso.com/adfs/ls/"
farm_nodes = ["https://adfs1.corp.contoso.com:443/adfs/probe"]
[directory]
bind_user = "CORP\\new-svc"
[network]
timeout_seconds = "10"
""")
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    problems = {p.key: p for p in info.value.problems}
    assert list(problems) == ["federation.service_name", "federation.farm_nodes", "directory.bind_user",
                              "network.timeout_seconds"]
    # A URL where a host belongs is recognised, and the host inside it suggested.
    assert problems["federation.service_name"].fix == 'this is a URL; write only the host: "sts.contoso.com"'
    assert problems["federation.farm_nodes"].fix == 'this is a URL; write only the host: "adfs1.corp.contoso.com:443"'
    # "CORP\new-svc" holds a newline after TOML read it: the backslash is explained.
    assert problems["directory.bind_user"].value == "CORP\new-svc"
    assert "single quotes" in problems["directory.bind_user"].fix and "UPN" in problems["directory.bind_user"].fix
    assert problems["network.timeout_seconds"].fix == "write the number without quotes"
    text = str(info.value)
    assert text.splitlines()[0] == f"{path}: 4 problems:"
    assert all(f"  {key} = " in text for key in problems)


def test_a_toml_syntax_error_on_a_backslash_line_explains_toml_strings(tmp_path):
    path = write(tmp_path, '[directory]\nbind_user = "CORP\\svc"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert info.value.key == "(syntax)" and "line 2" in str(info.value)
    assert "'CORP\\svc' in single quotes" in info.value.fix


def test_single_quotes_keep_the_backslash(tmp_path):
    cfg = load_settings(write(tmp_path, "[directory]\nbind_user = 'CORP\\svc'\n"))
    assert cfg.directory.bind_user == "CORP\\svc"


def test_unknown_keys_and_tables_suggest_the_known_name(tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, '[federation]\nservice_nmae = "sts.contoso.com"\n'
                                      '[netwrok]\ntimeout_seconds = 5\n'))
    fixes = {p.key: p.fix for p in info.value.problems}
    assert fixes == {"federation.service_nmae": "did you mean service_name?", "netwrok": "did you mean [network]?"}


def test_a_renamed_key_still_works_with_a_deprecation_warning(tmp_path, caplog):
    (tmp_path / "entra.json").write_text("{}")
    with caplog.at_level(logging.WARNING, logger="adfs_readiness.settings"):
        cfg = load_settings(write(tmp_path, '[cloud]\nfederation_export = "entra.json"\n'))
    assert cfg.cloud.entra_export == tmp_path / "entra.json"
    assert "cloud.federation_export is now called cloud.entra_export" in caplog.text
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, '[cloud]\nfederation_export = "entra.json"\nentra_export = "entra.json"\n'))
    assert info.value.key == "cloud.federation_export" and info.value.fix == "delete federation_export"


def test_flags_go_through_the_same_validators_and_report_every_problem(tmp_path):
    with pytest.raises(SettingsError) as info:
        apply_flags(Settings(), {"--service-name": "https://sts.contoso.com/", "--timeout": "0",
                                 "--domain": ["contoso.com", "bad domain"], "--ca-bundle": str(tmp_path / "none.pem")})
    problems = {p.key: p for p in info.value.problems}
    assert set(problems) == {"--service-name", "--timeout", "--domain", "--ca-bundle"}
    assert all(p.source == "command line" for p in problems.values())
    assert problems["--service-name"].fix == 'this is a URL; write only the host: "sts.contoso.com"'
    assert problems["--domain"].value == "bad domain"
    file_problem = settings_problem(tmp_path, '[network]\ntimeout_seconds = 0\n')
    assert problems["--timeout"].expected == file_problem.expected  # one rule, one wording


def settings_problem(tmp_path, text):
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, text))
    return info.value.problems[0]


def test_flags_override_and_extend_the_file(tmp_path):
    cfg = load_settings(write(tmp_path, '[federation]\nservice_name = "sts.contoso.com"\ndomains = ["a.com"]\n'
                                        '[checks]\nskip = ["dns.*"]\n'))
    changed = apply_flags(cfg, {"--service-name": "STS.Fabrikam.com.", "--domain": ["b.com"], "--skip": ["tls.*"],
                                "--no-history": True, "--deadline": "30"})
    assert changed.federation.service_name == "sts.fabrikam.com" and changed.federation.domains == ("b.com",)
    assert changed.checks.skip == ("dns.*", "tls.*") and changed.history.enabled is False
    assert changed.network.deadline_seconds == 30.0 and changed.source == cfg.source


def test_secrets_in_the_file_are_refused_without_echoing_them(tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, '[cloud]\nclient_secret = "Sup3rSecret!"\n[certificate]\npassword = "x1y2z3"\n'))
    assert [p.key for p in info.value.problems] == ["cloud.client_secret", "certificate.password"]
    assert "Sup3rSecret" not in str(info.value) and "x1y2z3" not in str(info.value)


def test_an_old_flat_snapshot_configuration_is_nested():
    from adfs_readiness.facts.codec import decode
    from adfs_readiness.settings.legacy import is_flat_config, nest_flat_config

    old = {"source": "x.toml", "service_name": "sts.contoso.com", "federated_domains": ["contoso.com"],
           "farm_nodes": [{"host": "10.0.0.1", "port": 443}], "skip_checks": ["dns.*"], "timeout_seconds": 5.0,
           "cloud": {"federation_export": "e.json", "realm_discovery": False}, "adfs_export": None}
    assert is_flat_config(old)
    cfg = decode(Settings, nest_flat_config(old), "config")
    assert cfg.federation.farm_nodes == (HostPort("10.0.0.1", 443),) and cfg.checks.skip == ("dns.*",)
    assert cfg.network.timeout_seconds == 5.0 and str(cfg.cloud.entra_export) == "e.json"
