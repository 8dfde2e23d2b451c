"""The file system, guarded: capped reads, atomic writes that never follow a link, safe names.

The tool runs as root from cron and writes into folders other people may write to (a shared
report folder, ``/tmp``, a node_exporter textfile folder). Every file it writes goes through
:func:`write_atomic` or :func:`open_atomic`, which

* create a temporary file with a random name in the destination's own folder with
  ``O_CREAT | O_EXCL | O_NOFOLLOW`` (a planted file or symlink with the expected name makes the
  create fail instead of being written through or inheriting its permissions),
* write, ``fsync``, and ``rename`` it over the destination (a symlink at the destination is
  replaced, never followed; a reader sees the old file or the new one, never half of one; a full
  disk or a crash leaves the previous file intact), then ``fsync`` the folder,
* use the documented mode: :data:`PRIVATE_MODE` (0600) for evidence snapshots, the history
  database and locks, :data:`PUBLIC_MODE` (0644 less the umask) for reports.

The folder of a file written is opened once and every later step is relative to that open folder
(``dir_fd``), so swapping a folder for a symlink half-way cannot move the rename elsewhere. A
symlink on the way to that folder is followed only when its owner is the user running the tool
or root (the kernel's ``fs.protected_symlinks`` rule, applied everywhere): a link another user
planted in ``/tmp`` or a shared folder is refused (:class:`UnsafePath`).

Every file the tool reads (configuration, exports, snapshots, certificates, CA bundles) goes
through :func:`read_capped`: it refuses what is not a regular file (a FIFO would block, a device
never ends) and a file over its size cap *before* anything is parsed, with an error that names the
file, the cap and the setting that raises it (:class:`FileTooLarge`).

Windows has neither ``O_NOFOLLOW`` nor ``dir_fd``: there the same steps run on paths (``O_EXCL``
and the random name still keep a planted file from being reused).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import stat
from pathlib import Path
from typing import IO, Any

__all__ = [
    "PUBLIC_MODE",
    "PRIVATE_MODE",
    "PUBLIC_DIR_MODE",
    "PRIVATE_DIR_MODE",
    "CONFIG_FILE_MAX_BYTES",
    "FileTooLarge",
    "UnsafePath",
    "read_capped",
    "read_text_capped",
    "read_head",
    "write_atomic",
    "open_atomic",
    "AtomicFile",
    "ensure_dir",
    "create_private_file",
    "refuse_symlink",
    "safe_name",
    "child_path",
]

#: Mode of reports and other outputs meant to be read by others (a web server, node_exporter);
#: the umask still applies.
PUBLIC_MODE = 0o644
#: Mode of evidence snapshots, the history database and lock files: evidence is sensitive even
#: redacted (names, addresses, the directory's problems).
PRIVATE_MODE = 0o600
PUBLIC_DIR_MODE = 0o755
PRIVATE_DIR_MODE = 0o700
#: Configuration and accepted-risk files are hand-written TOML: a real one is a few kB. This cap is
#: fixed (a configuration file cannot raise the cap of its own reading).
CONFIG_FILE_MAX_BYTES = 1024 * 1024

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
#: dir_fd-relative open/rename/unlink (POSIX); elsewhere the same steps run on paths.
_DIR_FD = os.open in os.supports_dir_fd and os.unlink in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")


class FileTooLarge(OSError):
    """A file is bigger than its cap; nothing of it was parsed.

    ``str()``/``strerror`` say the size, the cap and the setting that raises it; ``filename`` is
    the file. An OSError (errno ``EFBIG``) so callers that turn "cannot read" into a finding or a
    configuration error handle it the same way.
    """

    def __init__(self, path: Path, size: int | None, cap: int, setting: str | None) -> None:
        how = f"raise it with {setting}" if setting else "this limit is fixed"
        has = f"has {size:,} bytes" if size is not None else "is larger than that"
        message = f"the file {has}, over the size cap of {cap:,} bytes ({how})"
        super().__init__(errno.EFBIG, message, str(path))
        self.size, self.cap, self.setting = size, cap, setting

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


class UnsafePath(OSError):
    """A path the tool will not write through: a symlink planted by another user, a symlink where
    the tool creates its own file or folder, or something that is not a regular file / folder.
    An OSError (errno ``ELOOP`` or ``EEXIST``) so callers that report "cannot write" handle it."""

    def __init__(self, path: Path, reason: str, code: int = errno.ELOOP) -> None:
        super().__init__(code, reason, str(path))

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


# --- reading ---------------------------------------------------------------------------------

def read_capped(path: Path | str, max_bytes: int, *, setting: str | None) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes``.

    The size is checked on the open file before reading (and again while reading: a file that
    grows past the cap is refused too), so an oversized file is never held in memory or parsed.
    ``setting`` names the configuration key or flag that raises the cap (None: the cap is fixed).
    Symlinks are followed: reading through the admin's own links is normal; writing is not.

    Raises:
        FileTooLarge: over the cap.
        UnsafePath: not a regular file (a folder, FIFO, socket or device).
        OSError: cannot be opened or read (missing, no permission).
    """
    path = Path(path).expanduser()
    # O_NONBLOCK: opening a FIFO for reading must not wait for a writer; the fstat below refuses it.
    fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | _O_BINARY | _O_NONBLOCK)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePath(path, "not a regular file", errno.EINVAL)
        if info.st_size > max_bytes:
            raise FileTooLarge(path, info.st_size, max_bytes, setting)
        if _O_NONBLOCK:
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = handle.read(min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise FileTooLarge(path, None, max_bytes, setting)
        return b"".join(chunks)


def read_text_capped(path: Path | str, max_bytes: int, *, setting: str | None) -> str:
    """:func:`read_capped` decoded as UTF-8 (a byte order mark is dropped: PowerShell and Notepad
    write one). Raises what read_capped raises, and UnicodeDecodeError for non-UTF-8 bytes."""
    return read_capped(path, max_bytes, setting=setting).decode("utf-8-sig")


def read_head(path: Path | str, size: int) -> bytes:
    """The first ``size`` bytes of the regular file ``path`` (to sniff a format). Raises OSError /
    UnsafePath as :func:`read_capped`."""
    path = Path(path).expanduser()
    fd = os.open(path, os.O_RDONLY | _O_CLOEXEC | _O_BINARY | _O_NONBLOCK)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePath(path, "not a regular file", errno.EINVAL)
        if _O_NONBLOCK:
            os.set_blocking(fd, True)
        return handle.read(size) or b""


# --- writing ---------------------------------------------------------------------------------

def write_atomic(path: Path | str, data: bytes | str, *, mode: int = PUBLIC_MODE) -> Path:
    """Replace ``path`` with ``data`` atomically, never following a link (see the module docstring).

    ``str`` data is written as UTF-8; a code point UTF-8 cannot carry (a lone surrogate from a
    hostile document) is written as "?" rather than failing the whole report. Returns the path.

    Raises:
        UnsafePath: the folder is reached through another user's symlink, or ``path`` is a folder.
        OSError: the folder does not exist or cannot be written (the message names ``path``).
    """
    payload = data.encode("utf-8", "replace") if isinstance(data, str) else bytes(data)
    with AtomicFile(path, mode=mode) as out:
        out.write(payload)
    return out.path


def open_atomic(path: Path | str, *, mode: int = PUBLIC_MODE, text: bool = False, encoding: str = "utf-8",
                newline: str | None = None) -> AtomicFile:
    """An :class:`AtomicFile` to stream ``path``'s new content into (binary unless ``text``; then
    ``encoding`` with unencodable characters replaced, and ``newline`` as for :func:`open`).

    Raises what :func:`write_atomic` raises.
    """
    return AtomicFile(path, mode=mode, text=text, encoding=encoding, newline=newline)


class AtomicFile:
    """A new version of ``path`` being written: a temporary file beside it (see the module
    docstring). :meth:`commit` (or :meth:`close`, or leaving a ``with`` block normally) fsyncs it
    and renames it over ``path``; :meth:`discard` (or leaving a ``with`` block by an exception)
    removes it and leaves the previous ``path`` as it was. Writes go to :attr:`handle` or through
    :meth:`write`.
    """

    def __init__(self, path: Path | str, *, mode: int = PUBLIC_MODE, text: bool = False,
                 encoding: str = "utf-8", newline: str | None = None) -> None:
        self.path = Path(path).expanduser()
        if not self.path.name or self.path.name in (".", ".."):
            raise UnsafePath(self.path, "not a file name", errno.EINVAL)
        _check_links(self.path.parent)
        self._folder = _Folder(self.path.parent).open()
        self._done = False
        try:
            if self._folder.is_dir(self.path.name):
                raise UnsafePath(self.path, "is a folder", errno.EISDIR)
            self._refuse_special(self._folder.entry_mode(self.path.name))
            self._tmp = f".{self.path.name[:100]}.{secrets.token_hex(8)}.tmp"
            fd = self._folder.create(self._tmp, mode)
        except BaseException:
            self._folder.close()
            raise
        self._raw = os.fdopen(fd, "wb")
        self.handle: IO[Any] = (io.TextIOWrapper(self._raw, encoding=encoding, errors="replace", newline=newline)
                           if text else self._raw)

    def _refuse_special(self, mode: int | None) -> None:
        """Refuse a destination that is a device, FIFO or socket, or a symlink to one (an admin's
        ``--json /dev/stdout``: /dev/stdout links to /proc/self/fd/1). The rename that makes the
        write atomic would replace that node with a regular file: as root, ``--json /dev/full``
        removed the device and ``/dev/stdout`` would stop working for every program. A symlink
        to a regular file (or dangling) is still replaced, never followed (a planted link)."""
        if mode is None or stat.S_ISREG(mode):
            return
        if stat.S_ISLNK(mode):
            try:
                target = os.stat(self.path).st_mode
            except OSError:
                return  # dangling: replaced like any planted link
            if stat.S_ISREG(target) or stat.S_ISDIR(target):
                return
            raise UnsafePath(self.path, "is a link to a device, FIFO or socket (such as /dev/stdout), not a file: "
                                        "refused, the tool replaces the files it writes; give a file path (for "
                                        "standard output use --format json)", errno.EINVAL)
        raise UnsafePath(self.path, "is a device, FIFO or socket, not a file: refused, the tool replaces the files "
                                    "it writes; give a file path (for standard output use --format json)",
                         errno.EINVAL)

    def write(self, data: Any) -> int:
        """Write ``data`` (str in text mode, bytes otherwise); returns what the file object returns."""
        return self.handle.write(data)

    def commit(self) -> None:
        """Flush, fsync and rename over the destination (once; later calls do nothing)."""
        if self._done:
            return
        self._done = True
        try:
            self.handle.flush()
            os.fsync(self._raw.fileno())
            self.handle.close()
            self._folder.rename(self._tmp, self.path.name)
            self._folder.sync()
        except BaseException:
            self._abandon()
            raise
        finally:
            self._folder.close()

    def discard(self) -> None:
        """Remove the temporary file; the destination keeps its previous content (once)."""
        if self._done:
            return
        self._done = True
        try:
            self._abandon()
        finally:
            self._folder.close()

    close = commit

    def _abandon(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.handle.close()
        with contextlib.suppress(OSError):
            self._folder.unlink(self._tmp)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def ensure_dir(path: Path | str, *, mode: int = PUBLIC_DIR_MODE, own: bool = False) -> Path:
    """Create the folder ``path`` (and its parents) when missing and return it.

    ``own=True`` is for a folder the tool names itself inside a folder it was given (a fleet
    tenant's folder, the locks folder): it must be a real folder, never a symlink, whoever owns
    the link. Otherwise a symlink on the way is followed only when owned by the user running the
    tool or root.

    Raises:
        UnsafePath: a refused symlink, or ``path`` exists and is not a folder.
        OSError: it cannot be created.
    """
    path = Path(path).expanduser()
    _check_links(path.parent)
    if own:
        refuse_symlink(path)
    else:
        _check_links(path)
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) and own:
        raise UnsafePath(path, "is a symlink; the tool writes only into a real folder here")
    if not stat.S_ISDIR(os.stat(path).st_mode):
        raise UnsafePath(path, "exists and is not a folder", errno.ENOTDIR)
    return path


def create_private_file(path: Path | str) -> bool:
    """Make sure ``path`` is a regular file that is not a symlink, creating it empty with mode
    0600 (``O_EXCL | O_NOFOLLOW``) when missing; returns True when it was created. For files a
    library opens by name afterwards (the SQLite history).

    Raises:
        UnsafePath: ``path`` is a symlink or not a regular file.
        OSError: it cannot be created.
    """
    path = Path(path).expanduser()
    _check_links(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY,
                     PRIVATE_MODE)
    except FileExistsError:
        refuse_symlink(path)
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise UnsafePath(path, "not a regular file", errno.EINVAL) from None
        return False
    os.close(fd)
    return True


def refuse_symlink(path: Path | str) -> None:
    """Raise :class:`UnsafePath` when ``path`` itself is a symlink (dangling or not); nothing when
    it is anything else or does not exist."""
    path = Path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafePath(path, "is a symlink; refused (the tool never writes through a link)")


# --- names -----------------------------------------------------------------------------------

_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)
_NAME_MAX = 64


def safe_name(text: str, fallback: str = "item") -> str:
    """A file or folder name made from untrusted ``text`` (a tenant's file name, a target): only
    ``A-Z a-z 0-9 . _ -``, no leading dot (so never ``.`` or ``..`` or hidden), not a Windows
    device name, at most 64 characters; ``fallback`` when nothing is left."""
    name = _UNSAFE_CHARS.sub("_", text).lstrip(".")[:_NAME_MAX].rstrip(". ")
    if not name:
        name = fallback
    if _WINDOWS_RESERVED.match(name):
        name = f"_{name}"
    return name


def child_path(folder: Path | str, name: str) -> Path:
    """``folder / safe_name(name)``: a path that stays directly inside ``folder`` whatever ``name``
    holds."""
    return Path(folder) / safe_name(name)


# --- internals -------------------------------------------------------------------------------

def _check_links(folder: Path) -> None:
    """Refuse a symlink on the way to ``folder`` that neither the running user nor root owns (a
    link planted by someone else); see the module docstring."""
    if not hasattr(os, "geteuid"):
        return
    trusted = {0, os.geteuid()}
    current = Path(os.path.abspath(folder))
    for part in (current, *current.parents):
        try:
            info = os.lstat(part)
        except FileNotFoundError:
            continue
        except OSError:
            return
        if stat.S_ISLNK(info.st_mode) and info.st_uid not in trusted:
            raise UnsafePath(part, f"is a symlink owned by another user (uid {info.st_uid}); refused")


class _Folder:
    """The destination folder, opened once: create / rename / unlink relative to it (POSIX), or by
    path where ``dir_fd`` is not available."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd: int | None = None

    def open(self) -> _Folder:
        if _DIR_FD:
            self.fd = os.open(self.folder, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
        elif not self.folder.is_dir():
            raise FileNotFoundError(errno.ENOENT, "no such folder", str(self.folder))
        return self

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def is_dir(self, name: str) -> bool:
        try:
            info = os.stat(name, dir_fd=self.fd, follow_symlinks=False) if self.fd is not None \
                else os.lstat(self.folder / name)
        except FileNotFoundError:
            return False
        return stat.S_ISDIR(info.st_mode)

    def entry_mode(self, name: str) -> int | None:
        """``st_mode`` of the entry ``name`` itself (a symlink is not followed), None when absent."""
        try:
            info = os.stat(name, dir_fd=self.fd, follow_symlinks=False) if self.fd is not None \
                else os.lstat(self.folder / name)
        except FileNotFoundError:
            return None
        return info.st_mode

    def create(self, name: str, mode: int) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
        if self.fd is not None:
            return os.open(name, flags, mode, dir_fd=self.fd)
        return os.open(self.folder / name, flags, mode)

    def rename(self, source: str, target: str) -> None:
        if self.fd is not None:
            os.replace(source, target, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.replace(self.folder / source, self.folder / target)

    def unlink(self, name: str) -> None:
        if self.fd is not None:
            os.unlink(name, dir_fd=self.fd)
        else:
            os.unlink(self.folder / name)

    def sync(self) -> None:
        # The rename is durable only once the folder's entry is on disk.
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self.fd)
