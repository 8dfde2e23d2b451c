"""Commands that fit together (issue 14): every command's --help has a line per option and an
example; collect takes every input check takes and exits with the verdict's code; history options
work on either side of the action; selectors (--only, --skip, checks.skip) take ids, prefix.* and
area.*, and an unknown one is refused with a "did you mean"."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

import pytest

from adfs_readiness.cli import build_parser, main
from adfs_readiness.lab.adfs_samples import adfs_export_document, write_adfs_export
from adfs_readiness.lab.pki import LabPki

from conftest import CORPUS, FIXED_NOW

V4 = str(CORPUS / "metadata" / "msidentitymodel_adfs-v4-metadata.xml")
FS = "sts.contoso.test"


def _commands(parser: argparse.ArgumentParser, prefix: str = ""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix}{name}", sub
                yield from _commands(sub, f"{prefix}{name} ")


COMMANDS = sorted(name for name, _ in _commands(build_parser()))


def test_every_command_is_listed():
    assert {"check", "demo", "collect", "assess", "history", "history list", "history show", "history diff",
            "init", "list-checks", "explain", "collector"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_a_line_per_option_and_an_example(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([*command.split(), "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    parser = dict(_commands(build_parser()))[command]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help and action.help != argparse.SUPPRESS, f"{command}: {action.option_strings or action.dest}"
    examples = text.split("examples:\n", 1)[1]
    assert f"adfs-readiness {command.split()[0]}" in examples


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    pki = LabPki(FIXED_NOW)
    signing = pki.token_certificate("signing", FS, pki.now - timedelta(days=100), pki.now + timedelta(days=200))
    folder = tmp_path_factory.mktemp("export")
    return write_adfs_export(folder / "adfs-export.json",
                             adfs_export_document(pki, FS, signing, o365_trust="missing"))


def test_collect_takes_the_inputs_of_check_and_exits_with_the_verdict(export, tmp_path, capsys):
    snapshot, report = tmp_path / "evidence.json", tmp_path / "r.json"
    argv = ["--adfs-export", str(export), "--as-of", FIXED_NOW.isoformat(), "--only", "adfs.*",
            "--json", str(report), "-q"]
    code = main(["collect", *argv, "--out", str(snapshot)])
    doc = json.loads(report.read_text())
    assert code == doc["exit_code"] == 2  # the export lacks the Microsoft 365 relying party trust: NOT_READY
    assert main(["check", *argv, "--no-history"]) == 2
    assert main(["assess", str(snapshot), "-q"]) == 2
    stored = json.loads(snapshot.read_text())
    assert stored["snapshot_version"] == 3 and stored["config"]["adfs"]["export"] == [str(export)]


def test_collect_accepts_entra_export_certificate_and_csv_dir(tmp_path, capsys):
    help_text = build_parser().format_help()
    parser = dict(_commands(build_parser()))["collect"]
    options = {o for a in parser._actions for o in a.option_strings}
    assert {"--adfs-export", "--entra-export", "--certificate", "--certificate-password-env", "--csv-dir",
            "--metadata", "--service-address", "--ca-bundle", "--skip", "--only"} <= options
    assert "collect" in help_text


def test_history_option_before_or_after_the_action(tmp_path, capsys):
    history = tmp_path / "h.sqlite3"
    assert main(["check", "--metadata", V4, "--as-of", "2017-06-01", "-q", "--history", str(history),
                 "--only", "metadata.*"]) == 0
    # --as-of runs may stop being recorded (issue 11); record one plain run too.
    main(["check", "--metadata", V4, "-q", "--history", str(history), "--only", "metadata.well-formed"])
    capsys.readouterr()
    assert main(["history", "list", "--history", str(history), "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert main(["history", "--history", str(history), "list", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert after == before and after
    assert main(["history", "show", str(after[0]["id"]), "--history", str(history)]) == 0


@pytest.mark.parametrize("selector", ["token-signing.*", "metadata.*", "metadata.signature"])
def test_only_takes_ids_prefixes_and_areas(selector, tmp_path):
    out = tmp_path / "r.json"
    main(["check", "--metadata", V4, "--as-of", "2017-06-01", "--only", selector, "--json", str(out), "-q",
          "--no-history"])
    ids = {f["check_id"] for f in json.loads(out.read_text())["findings"]}
    if selector == "token-signing.*":
        assert ids and all(i.startswith("token-signing.") for i in ids)
    elif selector == "metadata.*":  # the area: token-signing.* and token-decrypting.* belong to it
        assert "metadata.signature" in ids and "token-signing.expiry" in ids
        assert not any(i.startswith("tls.") for i in ids)
    else:
        assert ids == {"metadata.signature"}


def test_an_unknown_skip_in_the_file_is_refused_with_a_suggestion(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[federation]\nmetadata = "%s"\n[checks]\nskip = ["metadata.signatur", "dns.*"]\n' % V4)
    assert main(["check", "--config", str(config), "--skip", "tlss.*", "-q"]) == 3
    err = capsys.readouterr().err
    assert f"{config}: checks.skip = 'metadata.signatur'" in err and "did you mean metadata.signature?" in err
    assert "command line: --skip = 'tlss.*'" in err and "did you mean tls.*?" in err


def test_a_skipped_finding_says_where_its_skip_came_from(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[federation]\nmetadata = "%s"\n[checks]\nskip = ["metadata.claims-offered", "token-signing.*"]\n' % V4)
    out = tmp_path / "r.json"
    main(["check", "--config", str(config), "--as-of", "2017-06-01", "--skip", "metadata.signature",
          "--skip", "token-signing.expiry", "--json", str(out), "-q", "--no-history"])
    summaries = {f["check_id"]: f["summary"] for f in json.loads(out.read_text())["findings"] if f["status"] == "skip"}
    assert summaries["metadata.signature"] == "Skipped by --skip metadata.signature on the command line."
    assert summaries["metadata.claims-offered"] == \
        f"Skipped by configuration ({config}: checks.skip = metadata.claims-offered)."
    # Both said it: both are named.
    assert summaries["token-signing.expiry"] == ("Skipped by --skip token-signing.expiry on the command line and by "
                                                 f"configuration ({config}: checks.skip = token-signing.*).")


def test_a_skip_given_without_a_file_names_the_command_line(tmp_path):
    out = tmp_path / "r.json"
    main(["check", "--metadata", V4, "--as-of", "2017-06-01", "--skip", "token-signing.*", "--json", str(out),
          "-q", "--no-history"])
    summaries = {f["check_id"]: f["summary"] for f in json.loads(out.read_text())["findings"] if f["status"] == "skip"}
    assert summaries["token-signing.expiry"] == "Skipped by --skip token-signing.* on the command line."


def test_three_mistakes_in_a_file_are_reported_in_one_run(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[federation]\nservice_name = "https://sts.contoso.com/adfs/ls/"\n'
                      '[directory]\nbind_user = "CORP\\new-svc"\n'
                      '[thresholds]\ntls_warn_days = "ninety"\n')
    assert main(["check", "--config", str(config)]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"adfs-readiness: configuration error: {config}: 3 problems:\n")
    assert 'write only the host: "sts.contoso.com"' in err
    assert "single quotes" in err and "tls_warn_days = 'ninety'" in err


def test_init_placeholders_are_refused_until_edited(tmp_path, capsys):
    config = tmp_path / "adfs-readiness.toml"
    assert main(["init", str(config)]) == 0
    assert "placeholders" in capsys.readouterr().out
    assert main(["check", "--config", str(config)]) == 3
    err = capsys.readouterr().err
    assert "federation.service_name = 'sts.example.invalid'" in err and "placeholder written by" in err
