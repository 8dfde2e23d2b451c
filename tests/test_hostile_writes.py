"""Issue 12 class 4: writes that follow symlinks. The real command line, in a child process under a
memory and time limit, with links and files planted where the tool writes: reports and their old
predictable temp names, the snapshot's temp file, the history database and its journal, the lock
file, the directory CSV, a fleet tenant called "..", ``init``. Nothing is written through a link,
files get their documented mode, and the run says what it refused."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from hostile import run_cli

from adfs_readiness.locking import lock_path

METADATA = Path(__file__).parent / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"
# The corpus metadata's token-signing certificate expired in 2018: a quick, offline NOT_READY run.
VERDICT_EXIT = 2


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def victim(tmp_path) -> Path:
    """A root-only file somewhere else that a planted link points at."""
    target = tmp_path / "elsewhere" / "shadow"
    target.parent.mkdir()
    target.write_text("root:$6$precious\n")
    target.chmod(0o600)
    return target


def test_planted_links_at_every_report_and_its_old_temp_name_are_not_followed(tmp_path, victim):
    out = tmp_path / "reports"
    out.mkdir()
    names = {"--html": "report.html", "--json": "report.json", "--junit": "junit.xml", "--metrics": "adfs.prom",
             "--csv": "findings.csv", "--markdown": "summary.md"}
    for name in names.values():
        # The old writer's predictable temp file, and the report itself, both links to the victim.
        (out / f".{name}.tmp").symlink_to(victim)
        (out / name).symlink_to(victim)
    before = digest(victim)
    args = [a for flag, name in names.items() for a in (flag, out / name)]
    run = run_cli("check", "--metadata", METADATA, "--no-history", "-q", *args)
    run.assert_clean()
    assert run.code == VERDICT_EXIT
    assert digest(victim) == before and mode_of(victim) == 0o600
    for name in names.values():
        report = out / name
        assert not report.is_symlink() and report.stat().st_size > 0, name
        assert (out / f".{name}.tmp").is_symlink()  # left alone, neither followed nor removed
    assert "NOT_READY" in (out / "report.json").read_text()


def test_a_report_destination_that_is_a_device_or_a_link_to_one_is_refused_not_replaced(tmp_path):
    # "--json /dev/stdout" as root: /dev/stdout is a link to /proc/self/fd/1; the atomic rename
    # replaced such a node (and --json /dev/full the device itself) with a regular file.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to("/dev/null")
    for target in (fifo, link):
        run = run_cli("check", "--metadata", METADATA, "--no-history", "-q", "--json", target)
        run.assert_clean()
        assert run.code == 3 and "cannot write the report" in run.err and "not a file: refused" in run.err, run.err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.readlink(link) == "/dev/null"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "stdout"]


def test_a_pre_created_snapshot_temp_file_does_not_make_the_snapshot_world_readable(tmp_path):
    snapshot = tmp_path / "evidence.json"
    planted = tmp_path / ".evidence.json.tmp"
    planted.write_text("")
    planted.chmod(0o666)
    run = run_cli("collect", "--metadata", METADATA, "--out", snapshot, "-q")
    run.assert_clean()
    assert run.code != 3  # collect exits with the verdict's code; 3 would be "could not run"
    assert mode_of(snapshot) == 0o600 and not snapshot.is_symlink()
    assert planted.read_text() == ""  # the planted file was not reused
    assert '"format": "adfs-readiness-evidence"' in snapshot.read_text()


def test_a_snapshot_destination_link_is_replaced_not_followed(tmp_path, victim):
    snapshot = tmp_path / "evidence.json"
    snapshot.symlink_to(victim)
    before = digest(victim)
    run = run_cli("collect", "--metadata", METADATA, "--out", snapshot, "-q")
    run.assert_clean()
    assert digest(victim) == before and not snapshot.is_symlink() and mode_of(snapshot) == 0o600


def other_application_db(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE accounts (name TEXT)")
        db.execute("INSERT INTO accounts VALUES ('alice')")
    db.close()
    return path


@pytest.mark.parametrize("link", ["history.sqlite3", "history.sqlite3-wal", "history.sqlite3-journal"])
def test_a_symlinked_history_database_or_journal_is_refused(tmp_path, link):
    other = other_application_db(tmp_path / "elsewhere.db")
    before = digest(other)
    history = tmp_path / "data" / "history.sqlite3"
    history.parent.mkdir()
    (history.parent / link).symlink_to(other)
    run = run_cli("check", "--metadata", METADATA, "--history", history, "-q")
    run.assert_clean()
    # The run itself is judged and reported as usual; only the history is refused, and said so.
    assert run.code == VERDICT_EXIT
    assert "history not recorded" in run.err and "symlink" in run.err
    assert digest(other) == before
    assert (history.parent / link).is_symlink()


def test_history_is_created_private(tmp_path):
    history = tmp_path / "new" / "history.sqlite3"
    run = run_cli("check", "--metadata", METADATA, "--history", history, "-q")
    run.assert_clean()
    assert mode_of(history) == 0o600 and mode_of(history.parent) == 0o700


def test_history_command_refuses_a_symlinked_database(tmp_path):
    other = other_application_db(tmp_path / "elsewhere.db")
    before = digest(other)
    (tmp_path / "history.sqlite3").symlink_to(other)
    run = run_cli("history", "--history", tmp_path / "history.sqlite3", "list")
    run.assert_clean()
    assert run.code == 3 and "symlink" in run.err and digest(other) == before


def test_a_planted_lock_file_link_is_refused(tmp_path, victim):
    data = tmp_path / "data"
    # A metadata-file run is keyed (history and lock) by the document's entityID, not its path.
    lock = lock_path(data / "locks", "http://fs.msidlab11.com/adfs/services/trust")
    lock.parent.mkdir(parents=True)
    lock.symlink_to(victim)
    before = digest(victim)
    run = run_cli("check", "--metadata", METADATA, "--no-history", "-q", env={"ADFS_READINESS_DATA_DIR": str(data)})
    run.assert_clean()
    assert run.code == 3 and "symlink" in run.err
    assert digest(victim) == before


def test_fleet_tenant_called_dot_dot_writes_inside_out_dir(tmp_path):
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    config = f'[federation]\nmetadata = "{METADATA}"\n[history]\nenabled = false\n'
    for name in ("...toml", "..toml", "a b.toml"):
        (tenants / name).write_text(config)
    out = tmp_path / "site" / "out"
    run = run_cli("check", "--config", tenants, "--out-dir", out, "-q")
    run.assert_clean()
    assert run.code == VERDICT_EXIT
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["out"]  # nothing beside out/
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == ["a_b", "tenant", "tenant-2"]
    assert (out / "tenant" / "report.html").is_file() and (out / "index.json").is_file()


def test_fleet_refuses_a_planted_tenant_folder_link(tmp_path, victim):
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "contoso.toml").write_text(f'[federation]\nmetadata = "{METADATA}"\n[history]\nenabled = false\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / "contoso").symlink_to(victim.parent)
    run = run_cli("check", "--config", tenants, "--out-dir", out, "-q")
    run.assert_clean()
    assert run.code == 3 and "symlink" in run.err
    assert sorted(p.name for p in victim.parent.iterdir()) == ["shadow"]


def test_init_replaces_a_link_instead_of_writing_through_it(tmp_path, victim):
    link = tmp_path / "adfs-readiness.toml"
    link.symlink_to(victim)
    before = digest(victim)
    run = run_cli("init", link, "--force")
    run.assert_clean()
    assert run.code == 0 and digest(victim) == before and "[federation]" in link.read_text()


def test_directory_csv_replaces_a_planted_link(tmp_path, victim):
    from adfs_readiness.directory_csv import write_directory_csv
    from adfs_readiness.facts import to_jsonable
    from adfs_readiness.facts.directory import DirectoryConnection, DirectoryFacts, DirectoryObject, ScanResult

    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "directory-problems.csv").symlink_to(victim)
    before = digest(victim)
    scan = ScanResult("DC=x", (DirectoryObject("CN=u,DC=x", "user", cn="u", object_guid=bytes(16)),), False, None, (), 1000)
    facts = DirectoryFacts(True, DirectoryConnection(None, "plain", "simple", "ok"), scan=scan)
    write_directory_csv(csv_dir, to_jsonable(facts))
    assert digest(victim) == before
    written = csv_dir / "directory-problems.csv"
    assert not written.is_symlink() and mode_of(written) == 0o600
    assert written.read_bytes().startswith(b"\xef\xbb\xbfcheck_id")


def test_directory_scan_csv_through_a_planted_link_on_a_real_dc(samba_dc, tmp_path, victim):
    """The whole directory probe against the Samba DC with --csv-dir pointing at a folder where
    the CSV's name is a planted link: the victim keeps its content, the CSV gets every row."""
    from test_directory_samba import gather, make_config

    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "directory-problems.csv").symlink_to(victim)
    before = digest(victim)
    from adfs_readiness.directory_csv import write_directory_csv
    from adfs_readiness.facts import to_jsonable
    from adfs_readiness_checks.directory_rules import problem_rows

    cfg = make_config(samba_dc, None, service_account="gmsa-adfs", csv_dir=str(csv_dir))
    facts = gather(samba_dc, cfg)
    write_directory_csv(csv_dir, to_jsonable(facts), cfg.federation.domains)
    assert digest(victim) == before
    written = csv_dir / "directory-problems.csv"
    rows = list(problem_rows(facts.scan, cfg.federation.domains))
    assert not written.is_symlink() and rows and mode_of(written) == 0o600
    import csv

    with open(written, encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(rows)  # values may hold line breaks (a CR/LF in a mail)
