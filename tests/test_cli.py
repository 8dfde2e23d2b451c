"""The command line: init, list-checks, explain, argument and configuration errors (exit 3),
skips by id and by area, remediation with the real service name, projections with --as-of."""

from __future__ import annotations

import json

import pytest

from adfs_readiness.cli import main
from adfs_readiness.settings import EXAMPLE_CONFIG

from conftest import CORPUS

V4 = str(CORPUS / "metadata" / "msidentitymodel_adfs-v4-metadata.xml")


def findings(path):
    return {f["check_id"]: f for f in json.loads(path.read_text())["findings"]}


def test_init_writes_the_example_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "adfs.toml"
    assert main(["init", str(target)]) == 0
    assert target.read_text() == EXAMPLE_CONFIG
    assert main(["init", str(target)]) == 3
    assert "--force" in capsys.readouterr().err
    assert main(["init", str(target), "--force"]) == 0


def test_list_checks_json_and_explain(capsys):
    assert main(["list-checks", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    row = next(r for r in rows if r["id"] == "token-signing.expiry")
    assert row["blocker"] is True and row["area"] == "metadata" and row["severity"] == "critical"
    assert main(["explain", "metadata.signature"]) == 0
    text = capsys.readouterr().out
    assert "Remediation:" in text and "https://" in text
    assert main(["explain", "metadata.nope"]) == 3
    assert "metadata.signature" in capsys.readouterr().err  # suggests the checks of that area


def exit_code(argv) -> int:
    """main()'s return value, or the code argparse exits with on a usage error."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize("argv, message", [
    (["check"], "federation.service_name"),
    (["check", "--service-name", "https://sts.contoso.com/"], 'write only the host: "sts.contoso.com"'),
    (["check", "--metadata", V4, "--only", "metadata.nope"], "--only"),
    (["check", "--metadata", V4, "--deadline", "0"], "--deadline = '0': expected a finite number of seconds from 1"),
    (["check", "--metadata", V4, "--skip", "metadata.signatur"], "did you mean metadata.signature?"),
    (["check", "--metadata", V4, "--only", "dsn.*"], "did you mean dns.*?"),
    (["check", "--metadata", V4, "--ca-bundle", "/nonexistent.pem"], "--ca-bundle"),
    (["demo", "--scenario", "nope"], "--scenario"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_and_config_errors_exit_3_with_a_message(argv, message, capsys):
    assert exit_code(argv) == 3  # 2 would read as NOT_READY to a scheduler
    assert message in capsys.readouterr().err


def test_argparse_errors_exit_3_not_2():
    with pytest.raises(SystemExit) as info:
        main(["check", "--as-of", "soon"])
    assert info.value.code == 3  # 2 would read as NOT_READY to a scheduler


def test_bad_config_file_names_file_and_key(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[federation]\nservice_name = "sts contoso com"\n')
    assert main(["check", "--config", str(cfg)]) == 3
    err = capsys.readouterr().err
    assert str(cfg) in err and "federation.service_name" in err


def test_verbose_after_the_command_is_accepted(tmp_path):
    out = tmp_path / "o.json"
    assert main(["check", "-v", "--metadata", V4, "--as-of", "2017-06-01", "--json", str(out), "-q"]) == 0


def test_skip_by_id_and_by_area(tmp_path):
    out = tmp_path / "o.json"
    main(["check", "--metadata", V4, "--skip", "metadata.signature", "--json", str(out), "-q"])
    assert findings(out)["metadata.signature"]["status"] == "skip"
    main(["check", "--metadata", V4, "--skip", "metadata.*", "--json", str(out), "-q"])
    f = findings(out)
    # The area name covers the checks CHECKS.md files under it, token-signing.* included.
    assert {x["status"] for x in f.values()} == {"skip"} and "token-signing.expiry" in f


def test_only_and_skip_take_the_same_forms_in_any_letter_case(tmp_path):
    # "Metadata.Signature" passes the selector check case-insensitively; --only used to keep the
    # raw spelling and then select no check at all (INCOMPLETE, "every check was skipped").
    out = tmp_path / "o.json"
    for selector, prefixes in (("Metadata.Signature", ("metadata.signature",)), ("METADATA.*", ("metadata.", "token-")),
                               (" Token-Signing.* ", ("token-signing.",))):
        assert main(["check", "--metadata", V4, "--as-of", "2017-06-01", "--only", selector, "--no-history",
                     "--json", str(out), "-q"]) == 0, selector
        ran = {k for k, f in findings(out).items() if f["status"] != "skip"}
        assert ran and all(k.startswith(prefixes) for k in ran), (selector, ran)
        main(["check", "--metadata", V4, "--as-of", "2017-06-01", "--skip", selector, "--no-history",
              "--json", str(out), "-q"])
        skipped = {k for k, f in findings(out).items()
                   if f["summary"].startswith("Skipped by --skip ") and f["summary"].endswith(" on the command line.")}
        assert ran <= skipped, (selector, ran - skipped)


def test_remediation_names_the_real_federation_service(tmp_path):
    out = tmp_path / "o.json"
    # 53 days before expiry (a warning): the generic remediation, which names the metadata URL.
    main(["check", "--metadata", V4, "--service-name", "fs.msidlab11.com", "--as-of", "2017-12-01",
          "--skip", "tls.*", "--skip", "dns.*", "--skip", "endpoints.*", "--skip", "cloud.*",
          "--json", str(out), "-q", "--no-history"])
    assert findings(out)["token-signing.expiry"]["status"] == "warn"
    text = findings(out)["token-signing.expiry"]["remediation"]
    assert "https://fs.msidlab11.com/FederationMetadata" in text and "<fs>" not in text


def test_as_of_is_marked_as_a_projection(tmp_path, capsys):
    out = tmp_path / "o.json"
    assert main(["check", "--metadata", V4, "--as-of", "2017-06-01", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["run"]["judged_as_of"] == "2017-06-01T00:00:00+00:00"
    assert not doc["started_at"].startswith("2017")
    assert "Judged as of 2017-06-01" in capsys.readouterr().out


def test_unwritable_report_path_names_the_report(tmp_path, capsys):
    assert main(["check", "--metadata", V4, "--json", "/nonexistent-dir/r.json", "-q"]) == 3
    err = capsys.readouterr().err
    assert "/nonexistent-dir/r.json" in err and ".tmp" not in err


def test_as_of_does_not_fake_clock_skew(tmp_path):
    """Regression: with --as-of, a server's Date header was compared with the projected date, so
    every endpoint showed years of clock skew. Probes record at the real time; checks judge at --as-of."""
    from datetime import datetime, timezone

    from adfs_readiness.lab import Lab

    out = tmp_path / "o.json"
    with Lab("healthy", now=datetime.now(timezone.utc), workdir=tmp_path / "lab") as lab:
        cfg = tmp_path / "lab.toml"
        cfg.write_text(lab.config_toml() + '[checks]\nskip = ["dns.*"]\n', encoding="utf-8")
        main(["check", "--config", str(cfg), "--as-of", "2027-03-01", "--only", "endpoints.clock-skew",
              "--json", str(out), "-q", "--no-history"])
    skews = [f for f in json.loads(out.read_text())["findings"] if f["check_id"] == "endpoints.clock-skew"]
    assert skews and all(f["status"] == "pass" and abs(f["evidence"]["skew_seconds"]) < 60 for f in skews)
