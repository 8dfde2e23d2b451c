"""The scheduling examples of README.md, docs/scheduling.md and examples/scheduling/ work as
pasted (issue 14): ``lab up`` starts the lab in the background, then the cron lines, the systemd
service's ExecStart, the Nagios command, the Prometheus textfile, a webhook to a local receiver and
a fleet of two lab configurations run against it — with only the install paths replaced by this
machine's (every absolute path in a line must be one the test knows how to replace, so a new path
in the docs cannot slip by untested). ``lab down`` stops exactly what ``lab up`` started.

The lab processes are real processes started through the CLI, like an admin would; no sleeps: the
CLI waits for the lab through a pipe and stops it through a pidfd."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adfs_readiness.lab.background import lab_status, read_state, start_lab, stop_lab

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "scheduling"
PROGRAM = Path(sys.executable).parent / "adfs-readiness"
INSTALLED = "/usr/local/bin/adfs-readiness"
SHELL_BUILTINS = {"set", ".", "exec"}


def run_shell(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """The line as cron runs it: /bin/sh -c, only the given environment."""
    return subprocess.run(["/bin/sh", "-c", command], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def cron_env(extra: dict[str, str]) -> dict[str, str]:
    """cron's environment: HOME, LOGNAME, SHELL, PATH (cron sets these), plus the file's lines."""
    return {"HOME": "/root", "LOGNAME": "root", "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin", **extra}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One lab as `lab up` starts it by default (a live Samba DC where one can run here)."""
    folder = tmp_path_factory.mktemp("lab")
    state = start_lab(folder, "demo")
    yield state
    stop_lab(folder)


@pytest.fixture()
def installed(tmp_path, lab):
    """This machine's stand-ins for the install paths of docs/scheduling.md."""
    etc, var = tmp_path / "etc", tmp_path / "var"
    etc.mkdir()
    var.mkdir()
    shutil.copyfile(lab.config, etc / "contoso.toml")
    (etc / "tenants").mkdir()
    secrets = etc / "secrets.env"
    shutil.copyfile(lab.env_file, secrets)
    (etc / "accepted-risks.toml").write_text("")  # as the install leaves it: no risk accepted yet
    return {INSTALLED: str(PROGRAM), "/etc/adfs-readiness": str(etc), "/var/lib/adfs-readiness": str(var)}


def substitute(line: str, paths: dict[str, str]) -> str:
    """``line`` with the install paths replaced; fails on an absolute path it does not know."""
    for known in sorted(paths, key=len, reverse=True):
        line = line.replace(known, paths[known])
    for token in re.findall(r"(?<![\w.])/[\w./-]+", line):
        assert any(token.startswith(p) for p in paths.values()) or token in ("/bin", "/usr/bin", "/bin/sh"), \
            f"{token}: an absolute path the test does not stand in for; add it to `installed`"
    return line


def crontab() -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """examples/scheduling/crontab: its variable lines and its jobs as (schedule, user, command)."""
    env, jobs = {}, []
    for raw in (EXAMPLES / "crontab").read_text().splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        assignment = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", raw)
        if assignment:
            env[assignment.group(1)] = assignment.group(2)
            continue
        fields = raw.split(None, 6)
        jobs.append((" ".join(fields[:5]), fields[5], fields[6]))
    return env, jobs


# --- shape ------------------------------------------------------------------------------------

def test_the_cron_lines_have_the_shape_cron_needs():
    text = (EXAMPLES / "crontab").read_text()
    assert text.endswith("\n")  # cron ignores a last line without a newline
    env, jobs = crontab()
    assert env["SHELL"] == "/bin/sh" and env["PATH"] == "/usr/bin:/bin"
    assert len(jobs) == 2
    for schedule, user, command in jobs:
        assert re.fullmatch(r"(\S+ ){4}\S+", schedule) and user == "adfs-readiness"
        assert not command.rstrip().endswith("\\")  # no continuation: cron has none
        assert "%" not in command  # cron turns % into a newline
        assert not set(re.findall(r"\$\{?(\w+)", command)) - set(env)  # no undefined variable
        for part in command.split(";"):
            words = shlex.split(part)
            program = words[1] if words[0] == "exec" else words[0]
            assert words[0] in SHELL_BUILTINS and program in SHELL_BUILTINS | {INSTALLED} or program.startswith("/"), \
                f"{program!r}: cron's PATH is /usr/bin:/bin; name programs by their absolute path"


def test_the_docs_show_the_cron_line_of_the_example_file():
    _, jobs = crontab()
    daily = " ".join(("15 6 * * *", "adfs-readiness", jobs[0][2]))
    assert jobs[0][0] == "15 6 * * *"
    for doc in (ROOT / "README.md", ROOT / "docs" / "scheduling.md"):
        assert daily in doc.read_text().splitlines(), f"{doc.name}: another cron line than examples/scheduling/crontab"


def install_steps(doc: Path) -> list[list[str]]:
    """The commands of ``doc``'s Linux install block (the ```sh block with ``useradd --system``),
    each split like the shell would (``sudo`` and comments dropped; ``&&`` splits)."""
    block = next(b for b in re.findall(r"```sh\n(.*?)```", doc.read_text(), re.S) if "useradd --system" in b)
    steps = []
    for line in block.splitlines():
        for command in line.split("&&"):
            words = shlex.split(command, comments=True)
            if words and words[0] == "sudo":
                words = words[1:]
            if words:
                steps.append(words)
    return steps


def created_by(steps: list[list[str]]) -> set[str]:
    """The paths the install steps create: install -d DIR, install ... /dev/null FILE, cp SRC
    DIR/, ln -s TARGET LINK, python3 -m venv DIR, init FILE, useradd --home-dir."""
    made = set()
    for words in steps:
        name = Path(words[0]).name
        if name == "install" and "-d" in words:
            made.add(words[-1].rstrip("/"))
        elif name == "install" and "/dev/null" in words:
            made.add(words[-1])
        elif name == "cp":
            made.add(words[-1] + Path(words[-2]).name if words[-1].endswith("/") else words[-1])
        elif name == "ln":
            made.add(words[-1])
        elif words[1:3] == ["-m", "venv"]:
            made.add(words[3])
        elif "init" in words:
            made.add(words[words.index("init") + 1])
        elif name == "useradd" and "--home-dir" in words:
            made.add(words[words.index("--home-dir") + 1])
    return made


def referenced_inputs() -> dict[str, set[str]]:
    """Every /etc, /opt and /usr/local path the scheduler files of examples/scheduling and the cron
    lines of README.md and docs/scheduling.md read: path -> where it is named. Paths under
    /var/lib/adfs-readiness are outputs: their folder is what must exist."""
    sources = {name: (EXAMPLES / name).read_text() for name in ("crontab", "adfs-readiness.service")}
    for doc in (ROOT / "README.md", ROOT / "docs" / "scheduling.md"):
        sources[doc.name] = "\n".join(line for line in doc.read_text().splitlines()
                                      if re.match(r"^[0-9*/,-]+ [0-9*/,-]+ ", line) or line.startswith("ExecStart="))
    found: dict[str, set[str]] = {}
    for where, text in sources.items():
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        for path in re.findall(r"(?<![\w.])/(?:etc|opt|usr/local|var/lib)/[\w./-]+", text):
            path = path.rstrip("/")
            if path.startswith("/var/lib/adfs-readiness/"):
                path = "/var/lib/adfs-readiness"
            found.setdefault(path, set()).add(where)
    return found


@pytest.mark.parametrize("doc", ["README.md", "docs/scheduling.md"])
def test_the_install_steps_create_every_file_the_scheduler_files_read(doc):
    # README's install block once never made /etc/adfs-readiness/accepted-risks.toml, which the
    # systemd unit passes to --suppressions: the service failed with exit 3 as installed.
    made = created_by(install_steps(ROOT / doc))
    assert {"/etc/adfs-readiness/secrets.env", "/usr/local/bin/adfs-readiness"} <= made  # the parser works
    missing = {path: sorted(where) for path, where in referenced_inputs().items() if path not in made}
    assert missing == {}, f"{doc}: the install never creates these, which the scheduler files read: {missing}"


def test_the_install_blocks_of_readme_and_docs_create_the_same_paths():
    assert created_by(install_steps(ROOT / "README.md")) == created_by(install_steps(ROOT / "docs" / "scheduling.md"))


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package: systemd)")
    for name in ("adfs-readiness.service", "adfs-readiness.timer"):
        text = (EXAMPLES / name).read_text()
        # The program must exist for verify: point it at this environment's.
        (tmp_path / name).write_text(text.replace(INSTALLED, str(PROGRAM)))
    proc = subprocess.run([analyze, "verify", str(tmp_path / "adfs-readiness.service"),
                           str(tmp_path / "adfs-readiness.timer")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "adfs-readiness" not in proc.stderr, proc.stderr  # no warning about our units


def test_the_windows_task_script_uses_only_variables_it_sets():
    script = (EXAMPLES / "Register-AdfsReadinessTask.ps1").read_text()
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    assigned = set(re.findall(r"^\$(\w+)\s*=", code, re.M))
    used = set(re.findall(r"\$(\w+)", code)) - {"true", "false", "null"}
    assert used <= assigned, f"used but never set: {sorted(used - assigned)}"
    assert r"C:\Program Files\adfs-readiness\Scripts\adfs-readiness.exe" in script
    windows = (ROOT / "docs" / "scheduling.md").read_text()
    assert r'py -3 -m venv "C:\Program Files\adfs-readiness"' in windows  # the install the script expects


# --- against the lab ----------------------------------------------------------------------------

def test_lab_up_writes_a_configuration_that_checks_the_lab(lab):
    assert lab_status(Path(lab.dir)).server_running
    config = Path(lab.config).read_text()
    assert "# Written by 'adfs-readiness lab up'" in config and str(Path(lab.dir) / "ca-bundle.pem") in config
    assert oct(os.stat(lab.env_file).st_mode & 0o777) == "0o600"
    if lab.directory == "live":
        assert lab.dc_pid and lab_status(Path(lab.dir)).dc_running
        assert f"ADFS_READINESS_LAB_LDAP_PASSWORD_{lab.lab_id}=" in Path(lab.env_file).read_text()
    else:
        # The recording needs no directory secret (the STS's sign-in and Graph secrets stay): the
        # lab falls back to it where another lab's DC holds 127.0.0.1:389 (two runs at once).
        assert "directory_recording" in config and "LDAP_PASSWORD" not in Path(lab.env_file).read_text()


def test_the_daily_cron_line_runs_against_the_lab(lab, installed, tmp_path):
    env, jobs = crontab()
    command = substitute(jobs[0][2], installed)
    result = run_shell(command, cron_env({k: substitute(v, installed) for k, v in env.items()}), tmp_path)
    var = Path(installed["/var/lib/adfs-readiness"])
    assert result.stdout == "" and result.returncode == 1, result.stderr  # the demo lab: READY_WITH_WARNINGS
    assert "READY WITH WARNINGS" in (var / "report.html").read_text()
    from prometheus_client.parser import text_string_to_metric_families

    metrics = {f.name: f for f in text_string_to_metric_families((var / "adfs_readiness.prom").read_text())}
    assert metrics["adfs_readiness_exit_code"].samples[0].value == 1
    assert (Path(lab.dir) / "history.sqlite3").exists()  # the lab's configuration keeps its history there


def test_the_nightly_fleet_cron_line_runs_two_lab_tenants(lab, installed, tmp_path):
    second = tmp_path / "lab2"
    other = start_lab(second, "token-signing-expired", directory="recorded")
    try:
        tenants = Path(installed["/etc/adfs-readiness"]) / "tenants"
        shutil.copyfile(lab.config, tenants / "contoso.toml")
        shutil.copyfile(other.config, tenants / "fabrikam.toml")
        # Both labs' secrets in the one secrets file the cron line loads (docs/scheduling.md): each
        # lab names its variables with its own id, so neither overwrites the other's.
        secrets = Path(installed["/etc/adfs-readiness"]) / "secrets.env"
        secrets.write_text(secrets.read_text() + Path(other.env_file).read_text())
        env, jobs = crontab()
        command = substitute(jobs[1][2], installed)
        result = run_shell(command, cron_env({k: substitute(v, installed) for k, v in env.items()}), tmp_path)
    finally:
        stop_lab(second)
    assert result.returncode == 2, result.stderr  # the worst tenant: an expired token-signing certificate
    index = json.loads((Path(installed["/var/lib/adfs-readiness"]) / "fleet" / "index.json").read_text())
    assert {r["tenant"]: r["verdict"] for r in index["rows"]} == {"fabrikam": "NOT_READY",
                                                                  "contoso": "READY_WITH_WARNINGS"}
    assert all(r["error"] is None for r in index["rows"]), index["rows"]
    # Each tenant read its lab with its own secrets: Graph and the directory answered (a secret of
    # the other lab would make them "not determined": AADSTS7000215, a refused bind).
    for tenant in ("contoso", "fabrikam"):
        report = json.loads((Path(installed["/var/lib/adfs-readiness"]) / "fleet" / tenant / "report.json").read_text())
        undetermined = {f["check_id"]: f["summary"] for f in report["findings"] if f["status"] == "error"}
        assert undetermined == {}, (tenant, undetermined)
        assert any(f["check_id"].startswith("cloud.") and f["status"] in ("pass", "warn", "fail")
                   for f in report["findings"]), tenant


def test_two_labs_name_their_secrets_apart(lab, tmp_path):
    other = start_lab(tmp_path / "lab2", "healthy", directory="recorded")
    try:
        first, second = env_file(Path(lab.env_file)), env_file(Path(other.env_file))
        assert lab.lab_id and other.lab_id and lab.lab_id != other.lab_id
        assert set(first).isdisjoint(second), (first.keys(), second.keys())
        assert f"ADFS_READINESS_LAB_GRAPH_SECRET_{other.lab_id}" in second
        assert all(name.endswith(f"_{lab.lab_id}") for name in first)
        # Each configuration names its own lab's variables.
        assert f'client_secret_env = "ADFS_READINESS_LAB_GRAPH_SECRET_{other.lab_id}"' in Path(other.config).read_text()
        assert f'client_secret_env = "ADFS_READINESS_LAB_GRAPH_SECRET_{lab.lab_id}"' in Path(lab.config).read_text()
    finally:
        stop_lab(tmp_path / "lab2")


def systemd_unit(name: str) -> dict[str, list[str]]:
    """The [Service] keys of a unit file (continuation lines joined, as systemd reads them)."""
    keys: dict[str, list[str]] = {}
    text = re.sub(r"\\\n\s*", " ", (EXAMPLES / name).read_text())
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def env_file(path: Path) -> dict[str, str]:
    """NAME=value lines as systemd's EnvironmentFile= reads them (surrounding quotes removed)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip().strip("'\"")
    return values


def test_the_service_runs_its_execstart_against_the_lab(lab, installed, tmp_path):
    unit = systemd_unit("adfs-readiness.service")
    env = {"PATH": "/usr/bin:/bin"}  # systemd's default for system services has more; none is needed
    env.update(env_file(Path(substitute(unit["EnvironmentFile"][0], installed))))
    for assignment in unit["Environment"]:
        name, value = substitute(assignment, installed).split("=", 1)
        env[name] = value
    argv = shlex.split(substitute(unit["ExecStart"][0], installed))
    result = subprocess.run(argv, env=env, cwd="/", capture_output=True, text=True, timeout=300)
    ok = {0, *map(int, unit["SuccessExitStatus"][0].split())}
    assert result.returncode in ok and result.returncode == 1, result.stderr
    report = json.loads((Path(installed["/var/lib/adfs-readiness"]) / "report.json").read_text())
    assert report["verdict"] == "READY_WITH_WARNINGS" and report["exit_code"] == 1


def test_the_nagios_command_line_prints_one_plugin_line(lab, installed, tmp_path):
    docs = (ROOT / "docs" / "scheduling.md").read_text()
    line = re.search(r"^command_line = (.+)$", docs, re.M).group(1)
    env = {"PATH": "/usr/bin:/bin", **env_file(Path(installed["/etc/adfs-readiness"]) / "secrets.env")}
    result = subprocess.run(shlex.split(substitute(line, installed)), env=env, capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 1 and len(result.stdout.splitlines()) == 1, result.stderr
    assert result.stdout.startswith("ADFS-READINESS WARNING - sts.contoso.test READY_WITH_WARNINGS")
    assert " | score=" in result.stdout


def test_a_change_is_posted_to_the_webhook_from_the_secrets_file(tmp_path):
    from webhook_receiver import WebhookReceiver

    folder = tmp_path / "lab"
    with WebhookReceiver() as hook:
        secrets = tmp_path / "secrets.env"
        line = f"set -a; . {secrets}; set +a; exec {PROGRAM} check --config {folder}/adfs-readiness.toml -q"
        codes = []
        for scenario in ("healthy", "token-signing-expired"):
            state = start_lab(folder, scenario, directory="recorded")
            try:
                # The secrets file as docs/scheduling.md has it: the lab's secrets and the webhook URL.
                secrets.write_text(Path(state.env_file).read_text() + f"ADFS_READINESS_WEBHOOK_URL='{hook.url}'\n")
                codes.append(run_shell(line, cron_env({}), tmp_path).returncode)
            finally:
                stop_lab(folder)
    assert codes == [1, 2]  # the lab's directory and DNS carry warnings in every scenario
    assert len(hook.posts) == 1  # the first run set the baseline; the change was posted once
    body = hook.posts[0][1]["adfs_readiness"]
    assert (body["previous_verdict"], body["verdict"]) == ("READY_WITH_WARNINGS", "NOT_READY")
    assert "token-signing.expiry" in body["newly_failing"]


def doc_block(path: Path, heading: str) -> list[str]:
    """The command lines of the first ```sh block after ``heading`` in ``path``."""
    text = path.read_text()
    block = text[text.index(heading):].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("doc, heading", [(ROOT / "docs" / "scheduling.md", "## Try it on one machine: the lab"),
                                          (ROOT / "README.md", "**Try every one of these on one machine**")])
def test_the_lab_walkthrough_runs_as_written(doc, heading, tmp_path):
    folder = tmp_path / "adfs-lab"
    lines = [line.replace("/tmp/adfs-lab", str(folder)) for line in doc_block(doc, heading)]
    assert lines[0].startswith("adfs-readiness lab up") and lines[-1].startswith("adfs-readiness lab down")
    env = {"PATH": f"{PROGRAM.parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    try:
        for line in lines:
            words = shlex.split(line, comments=True)
            if words[0] == "set":  # "set -a; . lab.env; set +a": keep what it exports for the next lines
                result = run_shell(" ".join(words) + "; env", env, tmp_path)
                assert result.returncode == 0, result.stderr
                env = dict(v.split("=", 1) for v in result.stdout.splitlines() if "=" in v)
                continue
            result = run_shell(line, env, tmp_path)
            expected = {"lab": 0, "history": 0, "check": 1}[words[1]]  # the demo lab: READY_WITH_WARNINGS
            assert result.returncode == expected, f"{line}\n{result.stdout}\n{result.stderr}"
    finally:
        stop_lab(folder)
    assert read_state(folder) is None


def test_lab_down_stops_exactly_what_lab_up_started(tmp_path):
    from adfs_readiness.cli import main

    folder = tmp_path / "lab"
    state = start_lab(folder, "demo", directory="recorded")
    assert main(["lab", "up", "--dir", str(folder), "--directory", "recorded"]) == 3  # one lab per folder
    assert main(["lab", "status", "--dir", str(folder)]) == 0
    pidfd = os.pidfd_open(state.pid)
    try:
        assert main(["lab", "down", "--dir", str(folder)]) == 0
        import select

        assert select.select([pidfd], [], [], 0)[0]  # the server has ended (readable pidfd)
    finally:
        os.close(pidfd)
    assert main(["lab", "status", "--dir", str(folder)]) == 3 and read_state(folder) is None
    assert main(["lab", "down", "--dir", str(folder)]) == 0  # nothing left to stop: says so
