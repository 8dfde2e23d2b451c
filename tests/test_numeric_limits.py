"""Regression tests: non-finite and absurd numbers in the configuration file and on the command
line are configuration errors (exit 3) naming where, what and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from adfs_readiness.cli import main
from adfs_readiness.settings import SettingsError, load_settings

V4 = str(Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml")


TIMEOUT = "a finite number of seconds from 0.1 to 3600"
DEADLINE = "a finite number of seconds from 1 to 86400"
BYTES = "a whole number of bytes from 1024 to 1073741824"


@pytest.mark.parametrize("key, value, expected", [
    ("timeout_seconds", "inf", TIMEOUT),
    ("timeout_seconds", "-inf", TIMEOUT),
    ("timeout_seconds", "nan", TIMEOUT),
    ("timeout_seconds", "3600.5", TIMEOUT),
    ("timeout_seconds", "1e300", TIMEOUT),
    ("deadline_seconds", "nan", DEADLINE),
    ("deadline_seconds", "inf", DEADLINE),
    ("deadline_seconds", "86401", DEADLINE),
    ("max_download_bytes", "1e29", BYTES),
    ("max_download_bytes", "inf", BYTES),
    ("max_download_bytes", "1073741825", BYTES),
    ("max_download_bytes", "9223372036854775807", BYTES),
])
def test_network_numbers_out_of_range_are_config_errors(tmp_path: Path, key: str, value: str,
                                                        expected: str, capsys) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[network]\n{key} = {value}\n")
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    err = info.value
    assert (err.source, err.key, err.expected) == (str(path), f"network.{key}", expected)
    assert str(err).startswith(f"{path}: network.{key} = ")
    # The same file on the command line: exit 3 with that one line, never a traceback.
    assert main(["check", "--config", str(path), "--metadata", V4]) == 3
    assert capsys.readouterr().err == f"adfs-readiness: configuration error: {err}\n"


@pytest.mark.parametrize("key, value", [
    ("timeout_seconds", "0.1"), ("timeout_seconds", "3600"), ("deadline_seconds", "86400"),
    ("max_download_bytes", "1073741824"), ("max_download_bytes", "1024"),
])
def test_network_numbers_at_the_bounds_are_accepted(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[network]\n{key} = {value}\n")
    assert getattr(load_settings(path).network, key) == float(value)


@pytest.mark.parametrize("argv, expected", [
    (["--timeout", "inf"], TIMEOUT), (["--timeout", "nan"], TIMEOUT), (["--timeout", "3601"], TIMEOUT),
    (["--timeout", "0"], TIMEOUT), (["--deadline", "nan"], DEADLINE), (["--deadline", "Infinity"], DEADLINE),
    (["--deadline", "1e6"], DEADLINE), (["--deadline=-inf"], DEADLINE), (["--deadline", "0.5"], DEADLINE),
    (["--deadline", "soon"], DEADLINE),
])
def test_command_line_numbers_go_through_the_file_s_validator(argv: list[str], expected: str, capsys) -> None:
    # The flag and the key are refused by the same rule, in the same words (issue 14).
    assert main(["check", "--metadata", V4, *argv]) == 3
    option, value = argv[0].split("=") if "=" in argv[0] else argv
    assert capsys.readouterr().err == (f"adfs-readiness: configuration error: command line: {option} = {value!r}: "
                                       f"expected {expected}\n")


@pytest.mark.parametrize("argv, message", [
    (["--notify-timeout", "nan"], "argument --notify-timeout: 'nan' must be a number of seconds from 0 to 86400"),
    (["--lock-wait", "inf"], "argument --lock-wait: 'inf' must be a number of seconds from 0 to 86400"),
])
def test_scheduling_seconds_must_be_finite_and_bounded(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", "--metadata", V4, *argv])
    assert info.value.code == 3
    assert message in capsys.readouterr().err


def test_demo_deadline_is_bounded_too(capsys) -> None:
    assert main(["demo", "--deadline", "inf"]) == 3
    assert f"--deadline = 'inf': expected {DEADLINE}" in capsys.readouterr().err
