"""The demo lab kept running in the background (``adfs-readiness lab up | status | down``), so
``check --config DIR/adfs-readiness.toml`` — by hand, from cron, systemd, Nagios, a fleet — has
something real to look at.

``lab up`` starts one server process (``python -m adfs_readiness.lab.background``) in a session of
its own. It starts the lab (:class:`~adfs_readiness.lab.stack.LabStack`; the Samba DC, when one
runs, on a loopback address of its own), writes into DIR:

* ``adfs-readiness.toml`` — the configuration that checks the lab (absolute paths: it can be copied);
* ``ca-bundle.pem`` — the lab's root CA (the configuration trusts it);
* ``lab.env`` — the lab's throwaway secrets as ``NAME=value`` lines (mode 0600; only a comment when
  the lab needs none), the shape of a
  systemd ``EnvironmentFile=`` and of ``set -a; . FILE; set +a`` in a shell. The names end in the
  lab's id (:func:`lab_id`, e.g. ``ADFS_READINESS_LAB_GRAPH_SECRET_3F9A1C``), so the ``lab.env``
  files of several labs load into one environment (a fleet) without one overwriting another;
* ``lab.json`` — what runs: the server's and the DC's process ids, the scenario, the addresses;
* ``lab.log`` — the server's output,

then tells the waiting ``lab up`` it is ready through a pipe (no polling). ``lab down`` stops
exactly what ``lab.json`` names, each process only after checking it is this lab's (its command
line names this module and DIR, or the DC's folder in DIR), and waits for it to end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from adfs_readiness.files import read_text_capped
from adfs_readiness.json_input import parse_untrusted_json

__all__ = ["LabState", "LabError", "start_lab", "lab_status", "stop_lab", "read_state", "lab_id", "LAB_CONFIG_NAME",
           "LAB_ENV_NAME", "LAB_STATE_NAME"]

LAB_CONFIG_NAME = "adfs-readiness.toml"
LAB_ENV_NAME = "lab.env"
LAB_STATE_NAME = "lab.json"
LAB_LOG_NAME = "lab.log"
_MODULE = "adfs_readiness.lab.background"


class LabError(RuntimeError):
    """The lab could not be started, found or stopped; ``str()`` says why."""


@dataclass(frozen=True)
class LabState:
    """What a background lab runs (``lab.json``).

    Attributes:
        dir: the lab's folder. pid: the server process. dc_pid: the Samba DC (None: none runs).
        scenario: the STS scenario. started_at: ISO 8601 UTC. directory: "live" or "recorded".
        directory_note: why. config: the configuration file. env_file: the secrets file (always
        written; a comment only when the lab needs no secret). service_name / address: the
        federation service and where it answers. dns_internal / dns_external: the DNS views.
        lab_id: the suffix of the lab's secret variable names (:func:`lab_id`; "" in a state file
            written before labs had one).
    """

    dir: str
    pid: int
    dc_pid: int | None
    scenario: str
    started_at: str
    directory: str
    directory_note: str
    config: str
    env_file: str | None
    service_name: str
    address: str
    dns_internal: str
    dns_external: str
    lab_id: str = ""


def lab_id(folder: Path) -> str:
    """The id of the lab in ``folder`` (six upper-case hex digits of a SHA-256 of its absolute
    path): the suffix of its secret variable names. The same folder keeps its names across
    restarts (a secrets file or unit that loads them stays right); two folders get different ones."""
    return hashlib.sha256(str(folder.expanduser().resolve()).encode()).hexdigest()[:6].upper()


#: A lab state file is a few hundred bytes; anything far larger is not one.
_MAX_STATE_BYTES = 64 * 1024


def read_state(folder: Path) -> LabState | None:
    """The lab recorded in ``folder`` (None when there is none). Raises LabError for a damaged file."""
    path = folder / LAB_STATE_NAME
    if not path.exists():
        return None
    try:
        # The lab folder is the user's choice: its state file is read as untrusted JSON.
        state = parse_untrusted_json(read_text_capped(path, _MAX_STATE_BYTES, setting=None))
        if not isinstance(state, dict):
            raise ValueError("not a JSON object")
        return LabState(**state)
    except (OSError, ValueError, TypeError) as exc:
        raise LabError(f"{path}: not a lab state file ({exc}); remove it if no lab runs") from None


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _is_lab_server(pid: int, folder: Path) -> bool:
    """True when ``pid`` is the lab server of ``folder`` (never a recycled pid of something else)."""
    args = _cmdline(pid)
    return _MODULE in args and str(folder.resolve()) in args and not _zombie(pid)


def _is_lab_dc(pid: int | None, folder: Path) -> bool:
    """True when ``pid`` is the samba of this lab's DC folder (samba rewrites its argv: the check
    looks at the binary and its files, see lab.samba)."""
    if not pid:
        return False
    from adfs_readiness.lab.samba import _is_our_samba

    return _is_our_samba(pid, folder.resolve() / "samba" / "dc")


def start_lab(folder: Path, scenario: str, *, directory: str = "auto", timeout: float = 180.0) -> LabState:
    """Start the lab server for ``folder`` in the background and wait until it is ready.
    ``directory``: "auto" (a live Samba DC where one can run, else the recording) or "recorded".

    Raises:
        LabError: a lab already runs there, or the server ended (its log's last lines), or it was
            not ready within ``timeout`` seconds (it is then stopped).
    """
    folder = folder.expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    state = read_state(folder)
    if state is not None and _is_lab_server(state.pid, folder):
        raise LabError(f"a lab already runs in {folder} (pid {state.pid}); stop it with: "
                       f"adfs-readiness lab down --dir {folder}")
    (folder / LAB_STATE_NAME).unlink(missing_ok=True)
    read_end, write_end = os.pipe()
    with open(folder / LAB_LOG_NAME, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", _MODULE, "--dir", str(folder), "--scenario", scenario,
                                 "--directory", directory, "--ready-fd", str(write_end)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_end,),
                                start_new_session=True, close_fds=True)
    os.close(write_end)
    try:
        answer = _read_line(read_end, timeout)
    finally:
        os.close(read_end)
    if answer == "ready":
        state = read_state(folder)
        if state is None:
            raise LabError(f"the lab server said it was ready but wrote no {LAB_STATE_NAME}")
        return state
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
        raise LabError(f"the lab was not ready within {timeout:g} s; see {folder / LAB_LOG_NAME}")
    tail = (folder / LAB_LOG_NAME).read_text(errors="replace").strip().splitlines()[-8:]
    raise LabError(f"the lab server ended (exit {proc.returncode}): " + " | ".join(tail))


def _read_line(fd: int, timeout: float) -> str | None:
    """The first line written to the pipe ``fd`` within ``timeout`` seconds (None on EOF or timeout)."""
    end = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not ready:
            return None
        chunk = os.read(fd, 256)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace").strip()


@dataclass(frozen=True)
class LabStatus:
    """``state`` (None: no lab recorded in the folder), and whether its server and DC run."""

    state: LabState | None
    server_running: bool
    dc_running: bool


def lab_status(folder: Path) -> LabStatus:
    """What runs of the lab in ``folder``."""
    folder = folder.expanduser().resolve()
    state = read_state(folder)
    if state is None:
        return LabStatus(None, False, False)
    return LabStatus(state, _is_lab_server(state.pid, folder), _is_lab_dc(state.dc_pid, folder))


def stop_lab(folder: Path, *, timeout: float = 60.0) -> LabState | None:
    """Stop the lab of ``folder``: the server (SIGTERM; it stops its servers and the DC), then the
    DC by its recorded pid if it outlived the server. Only processes that are this lab's are
    signalled. Returns the state that was stopped (None: no lab was recorded there).

    Raises:
        LabError: the server did not end within ``timeout`` seconds even after SIGKILL.
    """
    folder = folder.expanduser().resolve()
    state = read_state(folder)
    if state is None:
        return None
    if _is_lab_server(state.pid, folder):
        _end(state.pid, timeout)
    if _is_lab_dc(state.dc_pid, folder) and state.dc_pid:
        _end(state.dc_pid, timeout)
    (folder / LAB_STATE_NAME).unlink(missing_ok=True)
    return state


def _end(pid: int, timeout: float) -> None:
    """SIGTERM ``pid`` and wait for it to end (pidfd: no polling), SIGKILL after ``timeout``."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        ready, _, _ = select.select([pidfd], [], [], timeout)
        if not ready:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            ready, _, _ = select.select([pidfd], [], [], 10)
            if not ready:
                raise LabError(f"process {pid} did not end")
    finally:
        os.close(pidfd)


# --- the server process ---------------------------------------------------------------------

def _serve(folder: Path, scenario: str, directory: str, ready_fd: int) -> int:
    from adfs_readiness.files import PRIVATE_MODE, write_atomic
    from adfs_readiness.lab.stack import LabStack, start_directory
    from adfs_readiness.settings import load_settings
    from adfs_readiness.settings.writer import settings_toml

    # SIGTERM/SIGINT are taken by sigwait below; block them before any thread starts so every
    # server thread inherits the mask and the main thread alone receives them.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    now = datetime.now(timezone.utc)
    served = start_directory(folder, directory, host_network=True, now=now, log=print)  # type: ignore[arg-type]
    print(served.note, flush=True)
    try:
        ident = lab_id(folder)
        with LabStack(scenario, folder, served, now=now, secret_suffix=ident) as stack:
            settings = stack.settings(f"lab ({scenario})", deadline_seconds=60.0, timeout_seconds=5.0)
            settings = settings.with_changes(history={"path": folder / "history.sqlite3"})
            bundle = folder / "ca-bundle.pem"
            write_atomic(bundle, stack.sts.ca_bundle.read_bytes())
            settings = settings.with_changes(tls={"ca_bundle": bundle, "external_ca_bundle": bundle})
            # Always written, so the same "set -a; . lab.env; set +a" works whether or not a secret
            # is needed (a replayed directory needs none).
            env_file = folder / LAB_ENV_NAME
            lines = [f"{k}={v}\n" for k, v in stack.secrets.items()] or ["# this lab needs no secret\n"]
            write_atomic(env_file, f"# the throwaway secrets of the lab in {folder} (NAME=value; the names end in "
                                   f"its id {ident}, so several labs' files can be loaded together)\n" + "".join(lines),
                         mode=PRIVATE_MODE)
            config = folder / LAB_CONFIG_NAME
            header = (f"Written by 'adfs-readiness lab up' at {now:%Y-%m-%d %H:%M} UTC: scenario {scenario}.\n"
                      f"The lab runs until 'adfs-readiness lab down --dir {folder}'. Paths are absolute: copy the file "
                      f"anywhere (a fleet's tenant folder).\n")
            header += f"Secrets: {env_file} (systemd EnvironmentFile=, or: set -a; . {env_file}; set +a)\n"
            write_atomic(config, settings_toml(settings, header=header))
            load_settings(config)  # what we wrote must read back (raises SettingsError otherwise)
            state = LabState(dir=str(folder), pid=os.getpid(), dc_pid=served.info.pid if served.info else None,
                             scenario=scenario, started_at=now.isoformat(), directory=served.mode,
                             directory_note=served.note, config=str(config),
                             env_file=str(env_file), service_name=stack.sts.fs_name,
                             address=str(stack.sts.address), dns_internal=str(stack.dns.internal.address),
                             dns_external=str(stack.dns.external.address), lab_id=ident)
            write_atomic(folder / LAB_STATE_NAME, json.dumps(asdict(state), indent=2) + "\n")
            os.write(ready_fd, b"ready\n")
            os.close(ready_fd)
            print(f"lab ready: {state.service_name} at {state.address}", flush=True)
            received = signal.sigwait({signal.SIGTERM, signal.SIGINT})
            print(f"stopping the lab (signal {received})", flush=True)
    finally:
        served.stop()
        with contextlib.suppress(OSError, LabError):
            state_file = folder / LAB_STATE_NAME
            if state_file.exists():
                state = read_state(folder)
                if state is not None and state.pid == os.getpid():
                    state_file.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    """The lab server process (started by :func:`start_lab`)."""
    parser = argparse.ArgumentParser(prog=f"python -m {_MODULE}")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--scenario", default="demo")
    parser.add_argument("--directory", choices=("auto", "recorded"), default="auto")
    parser.add_argument("--ready-fd", type=int, required=True)
    args = parser.parse_args(argv)
    return _serve(args.dir, args.scenario, args.directory, args.ready_fd)


if __name__ == "__main__":
    raise SystemExit(main())
