"""What a newcomer got wrong first, refused before anything runs, each as one clear problem: a
secret the configuration names but the environment lacks (the lab without its lab.env), a
misspelt checks.skip beside other mistakes of the file, a mistyped --metadata path."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from adfs_readiness.app.run import RunInputs, prepare_settings
from adfs_readiness.cli import main
from adfs_readiness.cli._common import load_registry
from adfs_readiness.settings import SettingsError

from conftest import CORPUS

V4 = str(CORPUS / "metadata" / "msidentitymodel_adfs-v4-metadata.xml")

_SECRETS_CONFIG = """
[federation]
service_name = "sts.contoso.test"
domains = ["contoso.test"]
service_address = "127.0.0.1:9"

[directory]
server = "ldaps://dc1.contoso.test"
bind_user = "svc-read@contoso.test"
password_env = "PC_TEST_LDAP_PASSWORD"

[cloud]
tenant_id = "6babcaad-604b-40ac-a9d7-9fd97c0b779f"
client_id = "3f1c2d4e-0000-4000-8000-00000000a11c"
client_secret_env = "PC_TEST_GRAPH_SECRET"

[sign_in_test]
upn = "sso-test@contoso.test"
password_env = "PC_TEST_SIGNIN_PASSWORD"
"""

_VARIABLES = ("PC_TEST_LDAP_PASSWORD", "PC_TEST_GRAPH_SECRET", "PC_TEST_SIGNIN_PASSWORD")


@pytest.fixture
def no_secrets(monkeypatch):
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_missing_secrets_are_one_configuration_error_naming_each_variable(tmp_path, capsys, no_secrets):
    config = tmp_path / "adfs-readiness.toml"
    config.write_text(_SECRETS_CONFIG)
    report = tmp_path / "r.json"
    assert main(["check", "--config", str(config), "--no-history", "--json", str(report)]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"adfs-readiness: configuration error: {config}: 3 problems:\n")
    assert ("  directory.password_env = 'PC_TEST_LDAP_PASSWORD': expected the environment variable "
            "PC_TEST_LDAP_PASSWORD to hold the LDAP bind password of svc-read@contoso.test, but it is not set "
            "(or empty); export PC_TEST_LDAP_PASSWORD=... in the shell; in a systemd unit, EnvironmentFile= "
            "(docs/scheduling.md)\n") in err
    assert "cloud.client_secret_env = 'PC_TEST_GRAPH_SECRET'" in err
    assert "sign_in_test.password_env = 'PC_TEST_SIGNIN_PASSWORD'" in err
    assert "Could not be determined" not in err and "no_password" not in err
    assert not report.exists()  # nothing ran


def test_a_secrets_file_beside_the_config_is_named_in_the_fix(tmp_path, capsys, no_secrets):
    config = tmp_path / "adfs-readiness.toml"
    config.write_text(_SECRETS_CONFIG)
    env_file = tmp_path / "lab.env"
    env_file.write_text("# throwaway\n" + "".join(f"{v}=x{n}\n" for n, v in enumerate(_VARIABLES)))
    assert main(["check", "--config", str(config), "--no-history", "-q"]) == 3
    err = capsys.readouterr().err
    assert err.count(f"load {env_file} first: set -a; . {env_file}; set +a") == 3
    assert "=x0" not in err and "x1" not in err  # the file's values are never shown


def test_secrets_only_for_the_checks_that_run(tmp_path, no_secrets):
    config = tmp_path / "adfs-readiness.toml"
    config.write_text(_SECRETS_CONFIG)
    registry = load_registry()
    # --only metadata.*: no directory, Graph or sign-in; the run needs none of the three.
    settings = prepare_settings(registry, RunInputs(config=config, only=["metadata.*"], environ={}))
    assert settings.directory.password_env == "PC_TEST_LDAP_PASSWORD"
    with pytest.raises(SettingsError) as caught:
        prepare_settings(registry, RunInputs(config=config, only=["directory.*"], environ={}))
    assert [p.key for p in caught.value.problems] == ["directory.password_env"]
    # Set (non-empty) in the environment: no problem.
    prepare_settings(registry, RunInputs(config=config, environ={v: "s3cret" for v in _VARIABLES}))
    with pytest.raises(SettingsError) as caught:
        prepare_settings(registry, RunInputs(config=config, environ={v: "" for v in _VARIABLES}))
    assert len(caught.value.problems) == 3


def test_an_export_or_a_prompt_needs_no_variable(tmp_path, no_secrets):
    export = tmp_path / "entra.json"
    export.write_text("{}")
    config = tmp_path / "adfs-readiness.toml"
    config.write_text(_SECRETS_CONFIG.replace('client_secret_env = "PC_TEST_GRAPH_SECRET"',
                                              'client_secret_env = "PC_TEST_GRAPH_SECRET"\nentra_export = "entra.json"')
                      .replace('password_env = "PC_TEST_LDAP_PASSWORD"', 'password_source = "prompt"'))
    with pytest.raises(SettingsError) as caught:
        prepare_settings(load_registry(), RunInputs(config=config, environ={}, interactive=True))
    # Graph is still read for the MFA client (adfs.mfa-adapter-certificate); the directory prompts.
    assert [p.key for p in caught.value.problems] == ["cloud.client_secret_env", "sign_in_test.password_env"]


def test_a_prompt_without_a_terminal_is_one_configuration_error_before_anything_runs(tmp_path):
    """Under cron, systemd or Task Scheduler (standard input not a terminal) nobody answers a
    password prompt: the run refuses the configuration up front, naming each prompted key and
    what to use under a scheduler, instead of running into per-check "not determined" findings."""
    config = tmp_path / "adfs-readiness.toml"
    config.write_text(_SECRETS_CONFIG.replace('password_env = "PC_TEST_LDAP_PASSWORD"', 'password_source = "prompt"')
                      .replace('password_env = "PC_TEST_SIGNIN_PASSWORD"', 'password_source = "prompt"'))
    env = {**os.environ, "PC_TEST_GRAPH_SECRET": "s3cret"}
    proc = subprocess.run([sys.executable, "-m", "adfs_readiness", "check", "--config", str(config),
                           "--json", str(tmp_path / "r.json"), "--no-history"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=120,
                          start_new_session=True)
    assert proc.returncode == 3, proc.stderr
    assert not (tmp_path / "r.json").exists()  # nothing ran
    err = proc.stderr
    assert err.startswith(f"adfs-readiness: configuration error: {config}: 2 problems:\n"), err
    assert ("  directory.password_source = 'prompt': expected a password source that needs no terminal: nobody can "
            "answer a prompt for the LDAP bind password of svc-read@contoso.test in this run (standard input is not a "
            "terminal, as under cron, a systemd service or Task Scheduler); in directory, set password_source = "
            "\"env\" and password_env = \"ADFS_READINESS_LDAP_PASSWORD\"") in err, err
    assert 'or password_source = "keyring"' in err
    assert "  sign_in_test.password_source = 'prompt': expected a password source that needs no terminal" in err
    assert "sso-test@contoso.test" in err
    assert "Could not be determined" not in err + proc.stdout


def test_a_prompt_with_a_terminal_is_left_to_its_probe(tmp_path, no_secrets):
    config = tmp_path / "adfs-readiness.toml"
    config.write_text(_SECRETS_CONFIG.replace('password_env = "PC_TEST_LDAP_PASSWORD"', 'password_source = "prompt"'))
    environ = {"PC_TEST_GRAPH_SECRET": "x", "PC_TEST_SIGNIN_PASSWORD": "y"}
    settings = prepare_settings(load_registry(), RunInputs(config=config, environ=environ, interactive=True))
    assert settings.directory.password_source == "prompt"
    with pytest.raises(SettingsError) as caught:
        prepare_settings(load_registry(), RunInputs(config=config, environ=environ, interactive=False))
    assert [p.key for p in caught.value.problems] == ["directory.password_source"]
    # A run that does not read the directory never prompts: no problem without a terminal either.
    prepare_settings(load_registry(), RunInputs(config=config, environ=environ, only=["metadata.*"],
                                                interactive=False))


def test_a_misspelt_skip_comes_with_every_other_problem_of_the_file(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[federation]\nmetadata = "%s"\n[network]\ntimeout_seconds = "ten"\n'
                      '[checks]\nskip = ["metadata.signatur", "dns.*"]\n' % V4)
    assert main(["check", "--config", str(config), "--skip", "tlss.*", "-q"]) == 3
    err = capsys.readouterr().err
    assert f"{config}: " in err and "3 problems:" in err
    assert "network.timeout_seconds = 'ten'" in err
    assert "checks.skip = 'metadata.signatur'" in err and "did you mean metadata.signature?" in err
    assert "command line: --skip = 'tlss.*'" in err and "did you mean tls.*?" in err


def test_a_malformed_skip_in_a_bad_file_is_said_once(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[federation]\nservice_name = "sts.contoso.test"\nfarm_nodes = "x:y"\n'
                      '[checks]\nskip = ["not a selector!"]\n')
    assert main(["check", "--config", str(config), "-q"]) == 3
    err = capsys.readouterr().err
    assert err.count("not a selector!") == 1


@pytest.mark.parametrize("option", ["--metadata", "--certificate", "--entra-export", "--adfs-export", "--suppressions"])
def test_a_missing_input_file_is_one_error_naming_the_option_and_path(option, tmp_path, capsys):
    missing = tmp_path / "FederationMetadta.xml"
    args = ["check", option, str(missing), "--no-history"]
    if option != "--metadata" and option != "--certificate":
        args += ["--service-name", "sts.contoso.test"]
    assert main(args) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"adfs-readiness: configuration error: command line: {option} = '{missing}': "
                               f"expected an existing ")
    assert lines[0].endswith(f"; no such file: {missing}")


def test_metadata_in_the_file_and_a_folder_are_refused_too(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[federation]\nmetadata = "saved/FederationMetadata.xml"\n'
                      '[directory]\nca_bundle = "missing-ca.pem"\n')
    assert main(["check", "--config", str(config), "-q"]) == 3
    err = capsys.readouterr().err
    assert (f"federation.metadata = 'saved/FederationMetadata.xml': expected an existing federation metadata "
            f"file (FederationMetadata.xml) or an https:// URL; no such file: {tmp_path / 'saved'}") in err
    assert "directory.ca_bundle = 'missing-ca.pem': expected an existing PEM file of CA certificates; no such file" in err
    assert main(["check", "--metadata", str(tmp_path), "-q"]) == 3
    assert f"it is a folder: {tmp_path}" in capsys.readouterr().err
    # A URL is still a URL (fetched by the run, not looked up as a file).
    registry = load_registry()
    settings = prepare_settings(registry, RunInputs(flags={"--metadata": "https://sts.contoso.test/x.xml"}))
    assert settings.federation.metadata == "https://sts.contoso.test/x.xml"
