"""Regression tests: non-finite and absurd numbers in the configuration file and on the command
line are configuration errors (exit 3) naming where, what and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from adfs_readiness.cli import main
from adfs_readiness.config import ConfigError, load_config

V4 = str(Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml")


@pytest.mark.parametrize("key, value, expected", [
    ("timeout_seconds", "inf", "a finite number >= 0.1 and <= 3600"),
    ("timeout_seconds", "-inf", "a finite number >= 0.1 and <= 3600"),
    ("timeout_seconds", "nan", "a finite number >= 0.1 and <= 3600"),
    ("timeout_seconds", "3600.5", "a finite number >= 0.1 and <= 3600"),
    ("timeout_seconds", "1e300", "a finite number >= 0.1 and <= 3600"),
    ("deadline_seconds", "nan", "a finite number >= 1 and <= 86400"),
    ("deadline_seconds", "inf", "a finite number >= 1 and <= 86400"),
    ("deadline_seconds", "86401", "a finite number >= 1 and <= 86400"),
    ("max_download_bytes", "1e29", "a whole number >= 1024 and <= 1073741824"),
    ("max_download_bytes", "inf", "a whole number >= 1024 and <= 1073741824"),
    ("max_download_bytes", "1073741825", "a whole number >= 1024 and <= 1073741824"),
    ("max_download_bytes", "9223372036854775807", "a whole number >= 1024 and <= 1073741824"),
])
def test_network_numbers_out_of_range_are_config_errors(tmp_path: Path, key: str, value: str,
                                                        expected: str, capsys) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[network]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
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
    assert getattr(load_config(path), key) == float(value)


@pytest.mark.parametrize("argv, message", [
    (["--timeout", "inf"], "argument --timeout: 'inf' is not a finite number of seconds"),
    (["--timeout", "nan"], "argument --timeout: 'nan' is not a finite number of seconds"),
    (["--timeout", "3601"], "argument --timeout: '3601' must be at most 3600 seconds"),
    (["--deadline", "nan"], "argument --deadline: 'nan' is not a finite number of seconds"),
    (["--deadline", "Infinity"], "argument --deadline: 'Infinity' is not a finite number of seconds"),
    (["--deadline", "1e6"], "argument --deadline: '1e6' must be at most 86400 seconds"),
    (["--deadline=-inf"], "argument --deadline: '-inf' is not a finite number of seconds"),
    (["--notify-timeout", "nan"], "argument --notify-timeout: 'nan' must be a number of seconds from 0 to 86400"),
    (["--lock-wait", "inf"], "argument --lock-wait: 'inf' must be a number of seconds from 0 to 86400"),
])
def test_command_line_seconds_must_be_finite_and_bounded(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", "--metadata", V4, *argv])
    assert info.value.code == 3
    assert message in capsys.readouterr().err


def test_demo_deadline_is_bounded_too(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--deadline", "inf"])
    assert info.value.code == 3
    assert "'inf' is not a finite number of seconds" in capsys.readouterr().err
