"""The README stays true: it names every registered check, keeps exactly two set-up commands,
and .ci/run runs the README's test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

from adfs_readiness.engine.registry import discover_checks

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_registered_check_is_in_the_readme():
    missing = [i for i in discover_checks(strict=True).ids if f"`{i}`" not in README]
    assert missing == []


def test_two_setup_commands_and_ci_runs_the_test_one():
    setup = README[README.index("## Set up"):README.index("## Usage")]
    commands = re.findall(r"```sh\n(.+?)\n```", setup)
    assert len(commands) == 2
    demo, tests = commands
    assert "adfs-readiness demo --html report.html" in demo
    assert "pytest" in tests
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_history_line_says_where_the_option_goes_and_both_forms_parse(tmp_path, capsys):
    from adfs_readiness.cli import main

    line = next(i for i, text in enumerate(README.splitlines()) if text.startswith("adfs-readiness history list"))
    said = " ".join(README.splitlines()[line:line + 2])
    forms = re.findall(r"\((history --history PATH list), or (history list --history PATH)\)", said)
    assert forms, said
    from report_samples import FS, sample_result

    from adfs_readiness.history import History

    history = tmp_path / "h.sqlite3"
    with History(history) as h:
        h.record(sample_result())
    for form in forms[0]:
        assert main(form.replace("PATH", str(history)).split() + ["--json"]) == 0, form
        assert '"target": "%s"' % FS in capsys.readouterr().out
