"""files.py on real files: capped reads refuse before parsing, atomic writes never follow a link,
keep the documented mode, leave the old file on failure, and names from untrusted text stay inside
their folder."""

from __future__ import annotations

import errno
import os
import stat
import threading

import pytest

from adfs_readiness import files
from adfs_readiness.files import FileTooLarge, UnsafePath

needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="creating a symlink owned by another user needs root")


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- reads -------------------------------------------------------------------------------------

def test_read_capped_returns_the_bytes_under_the_cap(tmp_path):
    f = tmp_path / "a.json"
    f.write_bytes(b"\xef\xbb\xbf{}")
    assert files.read_capped(f, 5, setting="x") == b"\xef\xbb\xbf{}"
    assert files.read_text_capped(f, 5, setting="x") == "{}"


def test_read_capped_refuses_a_big_file_naming_file_cap_and_setting(tmp_path):
    f = tmp_path / "export.json"
    f.write_bytes(b"[" + b"1," * 1000 + b"1]")
    with pytest.raises(FileTooLarge) as caught:
        files.read_capped(f, 1000, setting="limits.max_input_bytes (or --max-input-bytes)")
    text = str(caught.value)
    assert str(f) in text and "2,003 bytes" in text and "1,000 bytes" in text
    assert "limits.max_input_bytes" in text
    assert caught.value.errno == errno.EFBIG and isinstance(caught.value, OSError)


def test_a_fixed_cap_says_it_is_fixed(tmp_path):
    f = tmp_path / "c.toml"
    f.write_bytes(b"x" * 11)
    with pytest.raises(FileTooLarge, match="this limit is fixed"):
        files.read_capped(f, 10, setting=None)


def test_read_capped_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePath, match="not a regular file"):
        files.read_capped(fifo, 100, setting="x")


def test_read_capped_refuses_a_device_that_never_ends():
    with pytest.raises(UnsafePath, match="not a regular file"):
        files.read_capped("/dev/zero", 100, setting="x")


def test_read_capped_refuses_a_folder(tmp_path):
    with pytest.raises(OSError):
        files.read_capped(tmp_path, 100, setting="x")


def test_read_head_reads_only_the_start(tmp_path):
    f = tmp_path / "cert.pfx"
    f.write_bytes(b"0123456789")
    assert files.read_head(f, 4) == b"0123"


# --- writes ------------------------------------------------------------------------------------

def test_write_atomic_creates_with_the_documented_modes(tmp_path):
    old = os.umask(0o022)
    try:
        report = files.write_atomic(tmp_path / "report.html", "<html>é</html>")
        snapshot = files.write_atomic(tmp_path / "evidence.json", b"{}", mode=files.PRIVATE_MODE)
    finally:
        os.umask(old)
    assert report.read_text(encoding="utf-8") == "<html>é</html>"
    assert mode_of(report) == 0o644 and mode_of(snapshot) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence.json", "report.html"]  # no temp left


def test_write_atomic_replaces_a_symlink_at_the_destination_without_following_it(tmp_path):
    victim = tmp_path / "root-only.conf"
    victim.write_text("precious")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    files.write_atomic(link, "report")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "report"


def test_write_atomic_refuses_a_device_fifo_or_a_link_to_one_and_leaves_it(tmp_path):
    # As root, --json /dev/full replaced the device with a regular file, and --json /dev/stdout
    # (a link to /proc/self/fd/1) would have replaced /dev/stdout for every program.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    to_device, to_fifo = tmp_path / "stdout", tmp_path / "to-pipe"
    to_device.symlink_to("/dev/null")
    to_fifo.symlink_to(fifo)
    for target in (fifo, to_device, to_fifo):
        with pytest.raises(UnsafePath, match="not a file: refused.*--format json"):
            files.write_atomic(target, "{}")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.readlink(to_device) == "/dev/null" and os.readlink(to_fifo) == str(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "stdout", "to-pipe"]  # no temp left
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    # A dangling link (planted for a file not yet there) is still replaced, never followed.
    dangling = tmp_path / "report.json"
    dangling.symlink_to(tmp_path / "not-there")
    files.write_atomic(dangling, "{}")
    assert not dangling.is_symlink() and not (tmp_path / "not-there").exists()


def test_a_planted_temp_name_symlink_is_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    # The old writer used the predictable ".<name>.tmp": plant it, and every other plausible name.
    for name in (".report.html.tmp", "report.html.tmp", ".report.html.swp"):
        (tmp_path / name).symlink_to(victim)
    files.write_atomic(tmp_path / "report.html", "report")
    assert victim.read_text() == "precious"
    assert (tmp_path / "report.html").read_text() == "report"


def test_a_pre_created_temp_file_does_not_lend_its_permissions(tmp_path):
    planted = tmp_path / ".evidence.json.tmp"
    planted.write_text("")
    planted.chmod(0o666)
    out = files.write_atomic(tmp_path / "evidence.json", "{}", mode=files.PRIVATE_MODE)
    assert mode_of(out) == 0o600
    assert planted.read_text() == "" and mode_of(planted) == 0o666  # untouched, not reused


def test_write_atomic_refuses_a_folder_and_keeps_it(tmp_path):
    (tmp_path / "out.json").mkdir()
    with pytest.raises(UnsafePath, match="is a folder"):
        files.write_atomic(tmp_path / "out.json", "{}")
    assert (tmp_path / "out.json").is_dir() and [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_failed_stream_keeps_the_previous_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "directory-problems.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with files.open_atomic(target, text=True) as out:
            out.write("half of a new file")
            raise RuntimeError("the scan broke")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_stream_is_committed_on_close(tmp_path):
    target = tmp_path / "rows.csv"
    out = files.open_atomic(target, text=True, encoding="utf-8-sig", newline="")
    out.write("a,b\r\n")
    assert not target.exists()  # readers never see a half-written file
    out.close()
    assert target.read_bytes() == b"\xef\xbb\xbfa,b\r\n"


def test_a_lone_surrogate_is_written_not_a_crash(tmp_path):
    out = files.write_atomic(tmp_path / "r.json", '{"x": "\ud800"}')
    assert out.read_bytes() == b'{"x": "?"}'


def test_missing_folder_is_an_oserror_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError):
        files.write_atomic(tmp_path / "nowhere" / "r.html", "x")


def test_concurrent_writers_never_leave_a_mixed_file(tmp_path):
    target = tmp_path / "metrics.prom"
    bodies = [str(i) * 200_000 for i in range(6)]
    threads = [threading.Thread(target=files.write_atomic, args=(target, body)) for body in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_text() in bodies
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.prom"]


@needs_root
def test_a_symlinked_folder_planted_by_another_user_is_refused(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    link = tmp_path / "reports"
    link.symlink_to(real)
    os.lchown(link, 4242, 4242)
    with pytest.raises(UnsafePath, match="owned by another user"):
        files.write_atomic(link / "report.html", "x")
    with pytest.raises(UnsafePath, match="owned by another user"):
        files.ensure_dir(link / "sub")
    assert list(real.iterdir()) == []


def test_an_own_symlinked_folder_is_followed(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (tmp_path / "reports").symlink_to(real)
    files.write_atomic(tmp_path / "reports" / "report.html", "x")
    assert (real / "report.html").read_text() == "x"


def test_ensure_dir_own_refuses_any_symlink(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "tenant").symlink_to(real)
    with pytest.raises(UnsafePath, match="symlink"):
        files.ensure_dir(tmp_path / "tenant", own=True)
    assert files.ensure_dir(tmp_path / "new" / "tenant", own=True).is_dir()


def test_ensure_dir_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(OSError):
        files.ensure_dir(tmp_path / "f")


def test_create_private_file(tmp_path):
    db = tmp_path / "history.sqlite3"
    assert files.create_private_file(db) is True and mode_of(db) == 0o600
    assert files.create_private_file(db) is False
    victim = tmp_path / "other-app.db"
    victim.write_bytes(b"data")
    (tmp_path / "linked.sqlite3").symlink_to(victim)
    with pytest.raises(UnsafePath, match="symlink"):
        files.create_private_file(tmp_path / "linked.sqlite3")
    (tmp_path / "dangling.sqlite3").symlink_to(tmp_path / "would-be-created")
    with pytest.raises(UnsafePath):
        files.create_private_file(tmp_path / "dangling.sqlite3")
    assert not (tmp_path / "would-be-created").exists()


# --- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("contoso", "contoso"),
    ("..", "tenant"),
    ("...", "tenant"),
    (".", "tenant"),
    ("", "tenant"),
    ("../../etc", "_.._etc"),
    ("a/b\\c", "a_b_c"),
    (".hidden", "hidden"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("ünïcode näme", "_n_code_n_me"),
    ("x" * 300, "x" * 64),
])
def test_safe_name(text, expected):
    name = files.safe_name(text, "tenant")
    assert name == expected
    assert "/" not in name and "\\" not in name and name not in (".", "..") and not name.startswith(".")


def test_child_path_stays_inside(tmp_path):
    for hostile in ("..", "../x", "/etc/passwd", "a/../../b", "\x00"):
        assert files.child_path(tmp_path, hostile).parent == tmp_path
