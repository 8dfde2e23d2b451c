"""A throwaway Samba 4 Active Directory domain controller on loopback, for tests, the demo and the
benchmark.

Samba in AD DC mode is a real LDAP/Kerberos/DNS domain controller: the directory probes are tested
against it over the wire instead of against ldap3's mock strategies. Facts measured on Samba 4.17
(Debian 12) that shaped this module:

* Provision takes ~5 s with an empty ``-s`` file and ``--backend-store=mdb``; the generated
  ``smb.conf`` gets ``ldap server require strong auth = no`` (simple binds over plain LDAP are a
  case the checks must see) and high ports for DNS/Kerberos/kpasswd/CLDAP. LDAP 389/636 and the
  Global Catalog 3268/3269 cannot be moved, so each DC binds one loopback *address* of its own
  (127.0.0.1, 127.0.0.2, ...): several DCs coexist without port clashes.
* Seeding goes offline with ``ldbadd -o batch_mode`` (~470 users/s); Samba refuses duplicate UPNs,
  SPNs and sAMAccountNames even offline, so duplicates (and pwdLastSet values other than 0/-1) are
  written into the partition's own file, which bypasses the dsdb module stack.
* Functional levels: ``--function-level`` of provision goes down to 2000; the schema is the 2012 R2
  one (objectVersion 69). gMSAs can be created but get no managed password.

Nothing here is started through systemd or listens beyond loopback; a DC stops by PID, and
``--maximum-runtime`` is a safety net should a test run be killed before it stops the DC.

Use :class:`SambaDc` (``provision``, ``seed``, ``start``, ``stop``) directly, or :func:`shared_dc`,
which lets several processes (pytest-xdist workers) share one DC per lab folder with a file lock
and a holder count.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")

__all__ = [
    "SAMBA_PACKAGES",
    "SambaUnavailable",
    "SambaDcInfo",
    "SambaDc",
    "samba_missing_reason",
    "netns_missing_reason",
    "shared_dc",
    "ldif_entry",
    "filetime",
]

#: Debian packages a DC needs (samba-vfs-modules: provision fails without it).
SAMBA_PACKAGES = ("samba", "samba-dsdb-modules", "samba-vfs-modules", "samba-ad-provision",
                  "ldb-tools", "ldap-utils")

_EPOCH_DIFF_SECONDS = 11644473600  # 1601-01-01 -> 1970-01-01


class SambaUnavailable(RuntimeError):
    """Samba cannot run here (not installed, not root, a port taken); ``str()`` says why."""


def samba_missing_reason() -> str | None:
    """None when a Samba AD DC can be provisioned here, else why not (one line)."""
    for tool in ("samba", "samba-tool", "ldbadd", "ldbmodify"):
        if shutil.which(tool) is None:
            return (f"Samba is not installed ({tool} not found); install with: apt-get install "
                    f"--no-install-recommends {' '.join(SAMBA_PACKAGES)}")
    if os.geteuid() != 0:
        return "a Samba AD DC must run as root (it binds LDAP port 389)"
    return None


def netns_missing_reason() -> str | None:
    """None when a private network namespace can be made here (unshare + ip), else why not."""
    for tool in ("unshare", "nsenter", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (util-linux / iproute2)"
    proc = subprocess.run(["unshare", "--net", "ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    if proc.returncode != 0:
        return f"cannot create a network namespace here: {proc.stderr.strip()[:200]}"
    return None


def filetime(moment: datetime) -> int:
    """``moment`` (aware) as a Windows FILETIME: 100-ns intervals since 1601-01-01 UTC (int)."""
    delta = moment.astimezone(timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds + _EPOCH_DIFF_SECONDS) * 10**7 + delta.microseconds * 10


def _ldif_value(key: str, value: str | bytes) -> str:
    if isinstance(value, bytes) or not value.isascii() or value[:1] in (" ", ":", "<") \
            or value.endswith(" ") or "\n" in value or value == "":
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        return f"{key}:: {base64.b64encode(raw).decode('ascii')}\n"
    return f"{key}: {value}\n"


def ldif_entry(dn: str, attrs: dict[str, str | bytes | list[str | bytes]]) -> str:
    """One LDIF add record (values that are not plain ASCII, or start/end with a space, are base64)."""
    out = [_ldif_value("dn", dn)]
    for key, values in attrs.items():
        for value in values if isinstance(values, list) else [values]:
            out.append(_ldif_value(key, value))
    return "".join(out) + "\n"


@dataclass(frozen=True)
class SambaDcInfo:
    """How to reach a started lab DC.

    Attributes:
        root: the DC's private folder. address: its loopback IP. pid: the samba root process.
        realm / domain / base_dn / dns_name: CONTOSO.TEST, CONTOSO, DC=contoso,DC=test, contoso.test.
        admin_upn / admin_password: a Domain Admin to bind with (a throwaway lab secret).
        ca_pem: the CA that issued the DC's LDAPS certificate (CN = dc_host, no SAN).
        dc_host: the DC's DNS name. dns_port: its DNS server's port on ``address``.
    """

    root: str
    address: str
    pid: int
    realm: str
    domain: str
    base_dn: str
    dns_name: str
    dc_host: str
    admin_upn: str
    admin_password: str
    ca_pem: str
    dns_port: int
    netns: str | None = None

    def run_in_network(self, function: "Callable[..., T]", *args: Any, **kwargs: Any) -> T:
        """Call ``function(*args, **kwargs)`` where this DC is reachable: in a thread that joined
        the DC's private network namespace (threads it starts inherit it), or directly when the DC
        runs on the host's loopback. Returns what the function returns; re-raises its exception."""
        if self.netns is None:
            return function(*args, **kwargs)
        return _call_in_netns(self.netns, function, *args, **kwargs)

    @property
    def ldap_url(self) -> str:
        return f"ldap://{self.address}:389"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{self.address}:636"

    def krb5_conf(self) -> str:
        """A krb5.conf (MIT) for this DC's realm: its KDC on ``address``:SambaDc.KDC_PORT, no DNS
        lookups and no reverse-DNS canonicalisation (tickets are for the names given). Point
        KRB5_CONFIG at it, then ``kinit`` inside the DC's network namespace."""
        return (f"[libdefaults]\n default_realm = {self.realm}\n dns_lookup_kdc = false\n"
                f" dns_lookup_realm = false\n rdns = false\n dns_canonicalize_hostname = false\n"
                f"[realms]\n {self.realm} = {{\n  kdc = {self.address}:{SambaDc.KDC_PORT}\n }}\n"
                f"[domain_realm]\n .{self.dns_name} = {self.realm}\n")


class SambaDc:
    """One Samba AD DC in ``root`` (a folder it owns), bound to loopback ``address``.

    Args:
        root: folder for the DC (created; wiped by :meth:`provision`).
        address: a 127.x.y.z address; LDAP ports are fixed, so two DCs need two addresses.
        function_level: "2000", "2003", "2008" or "2008_R2" (provision's --function-level).
        max_runtime: seconds after which samba exits by itself (safety net).

    Raises SambaUnavailable from :meth:`provision` / :meth:`start` when Samba cannot run here, and
    RuntimeError carrying the tool's output when a Samba command fails.
    """

    REALM = "CONTOSO.TEST"
    DOMAIN = "CONTOSO"
    BASE_DN = "DC=contoso,DC=test"
    DNS_NAME = "contoso.test"
    KDC_PORT = 10088  # Kerberos (the KDC), moved off 88 like DNS so it never clashes on the host
    ADMIN_PASSWORD = "Passw0rd!Lab"  # a throwaway lab secret, never a real one
    DNS_PORT = 10053

    def __init__(self, root: Path, address: str = "127.0.0.1", function_level: str = "2008_R2",
                 max_runtime: int = 5400, host_name: str = "DC1", private_network: bool = True) -> None:
        self.root = Path(root)
        self.private_network = private_network
        self.address = address
        self.function_level = function_level
        self.max_runtime = max_runtime
        self.host_name = host_name
        self.dc = self.root / "dc"
        self.conf = self.dc / "etc" / "smb.conf"
        self.pidfile = self.root / "samba.ci.pid"

    # --- paths -------------------------------------------------------------------------------
    @property
    def sam_ldb(self) -> Path:
        return self.dc / "private" / "sam.ldb"

    @property
    def domain_partition(self) -> str:
        """The domain partition's backend file (writing it bypasses Samba's uniqueness checks)."""
        return f"mdb://{self.dc}/private/sam.ldb.d/DC=CONTOSO,DC=TEST.ldb"

    @property
    def config_partition(self) -> str:
        return f"mdb://{self.dc}/private/sam.ldb.d/CN=CONFIGURATION,DC=CONTOSO,DC=TEST.ldb"

    def info(self) -> SambaDcInfo:
        return SambaDcInfo(
            root=str(self.root), address=self.address, pid=self._pid() or 0, realm=self.REALM,
            domain=self.DOMAIN, base_dn=self.BASE_DN, dns_name=self.DNS_NAME,
            dc_host=f"{self.host_name}.{self.DNS_NAME}", admin_upn=f"Administrator@{self.REALM}",
            admin_password=self.ADMIN_PASSWORD, ca_pem=str(self.dc / "private" / "tls" / "ca.pem"),
            dns_port=self.DNS_PORT,
            netns=f"/proc/{self._pid()}/ns/net" if self.private_network and self._pid() else None)

    # --- lifecycle ---------------------------------------------------------------------------
    def provision(self) -> None:
        """Wipe ``root`` and provision a fresh domain there (~5 s). The DC is not started."""
        reason = samba_missing_reason()
        if reason:
            raise SambaUnavailable(reason)
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        empty = self.root / "empty.conf"
        empty.write_text("")
        run = self.dc / "run"
        _run(["samba-tool", "domain", "provision", "-s", str(empty), f"--targetdir={self.dc}",
              f"--realm={self.REALM}", f"--domain={self.DOMAIN}", "--server-role=dc",
              "--dns-backend=SAMBA_INTERNAL", "--backend-store=mdb", f"--adminpass={self.ADMIN_PASSWORD}",
              f"--function-level={self.function_level}", f"--host-name={self.host_name}",
              f"--host-ip={self.address}",
              f"--option=interfaces={self.address}", "--option=bind interfaces only=yes",
              f"--option=pid directory={run}", f"--option=ncalrpc dir={run}/ncalrpc",
              f"--option=winbindd socket directory={run}/winbindd",
              f"--option=ntp signd socket directory={run}/ntp_signd",
              f"--option=log file={self.dc}/log/samba.log"], "provision")
        # Provision copies the host's resolver into "dns forwarder": drop it so nothing leaves
        # loopback; options --option does not carry over are patched into [global].
        lines = [ln for ln in self.conf.read_text().splitlines()
                 if "dns forwarder" not in ln and "server services" not in ln]
        at = lines.index("[global]") + 1
        lines[at:at] = ["\tldap server require strong auth = no",
                        "\tserver services = rpc, ldap, cldap, kdc, dns",
                        f"\tdns port = {self.DNS_PORT}", f"\tkrb5 port = {self.KDC_PORT}", "\tkpasswd port = 10464",
                        "\tcldap port = 10389", "\tdsdb:schema update allowed = true"]
        self.conf.write_text("\n".join(lines) + "\n")
        for sub in ("run", "log", "cache"):
            (self.dc / sub).mkdir(parents=True, exist_ok=True)
        # The DC's LDAP service principals, which samba_spnupdate would register if the lab ran the
        # dnsupdate service: a Kerberos (GSSAPI) bind asks for a ticket to ldap/<DC name>.
        fqdn = f"{self.host_name}.{self.DNS_NAME}"
        spns = [f"ldap/{fqdn}", f"ldap/{self.host_name}", f"ldap/{fqdn}/{self.DNS_NAME}", f"ldap/{fqdn}/{self.DOMAIN}",
                f"GC/{fqdn}/{self.DNS_NAME}"]
        self.ldbmodify("".join([f"dn: CN={self.host_name},OU=Domain Controllers,{self.BASE_DN}\n", "changetype: modify\n",
                                "add: servicePrincipalName\n", *(f"servicePrincipalName: {spn}\n" for spn in spns), "\n"]))

    def ldbadd(self, ldif: str, *, url: str | None = None, batch: bool = True) -> None:
        """Add LDIF records offline (DC stopped) through Samba's module stack, in batch mode unless
        ``batch`` is False (schema objects: batch mode rolls some of them back)."""
        self._ldb_tool("ldbadd", ldif, url, batch)

    def ldbmodify(self, ldif: str, *, url: str | None = None, batch: bool = True) -> None:
        """Apply LDIF changes offline; ``url`` = a partition file to bypass Samba's checks.
        Schema changes need ``batch=False`` (batch mode rolls them back)."""
        self._ldb_tool("ldbmodify", ldif, url, batch)

    def _ldb_tool(self, tool: str, ldif: str, url: str | None, batch: bool = True) -> None:
        path = self.root / f"{tool}-{time.monotonic_ns()}.ldif"
        path.write_text(ldif, encoding="utf-8")
        args = [tool, "-H", url or str(self.sam_ldb)]
        if url is None and batch:
            args[1:1] = ["-o", "batch_mode"]
        _run(args + [str(path), "--option=dsdb:schema update allowed=true"], tool)
        path.unlink()

    def start(self, timeout: float = 60.0) -> SambaDcInfo:
        """Start samba in the foreground mode (``-F -M single``) as a child and wait until LDAP
        answers on ``address``:389. Raises SambaUnavailable when a port is taken, RuntimeError
        when samba exits early (with its output)."""
        for port in (389, 636, 3268, 3269):
            if not self.private_network and not _port_free(self.address, port):
                raise SambaUnavailable(f"port {self.address}:{port} is in use by another program; "
                                       "a DC needs 389/636/3268/3269 (they cannot be moved)")
        out = open(self.dc / "log" / "samba.stdout", "ab")
        command = ["samba", "-F", "-M", "single", "-s", str(self.conf), f"--maximum-runtime={self.max_runtime}"]
        if self.private_network:
            # A network namespace of its own: loopback only, and no clash with anything on the
            # host's ports 389/636/3268/3269; clients join it (run_in_network / nsenter).
            command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "samba-in-netns", *command]
        proc = subprocess.Popen(
            command,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.pidfile.write_text(str(proc.pid))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"samba exited with {proc.returncode}: "
                                   + (self.dc / "log" / "samba.stdout").read_text(errors="replace")[-2000:])
            if _ldap_answers(self.address, proc.pid if self.private_network else None):
                # Provision registers the SRV records but no A record for the DC's own name. At
                # functional level 2000 there are no DNS application partitions: no record then.
                if self.function_level == "2000":
                    with contextlib.suppress(RuntimeError):
                        self.dns_add(self.host_name.lower(), "A", self.address)
                else:
                    self._add_own_a_record(end)
                return self.info()
            time.sleep(0.1)  # polling a child process that has no readiness signal
        self.stop()
        raise RuntimeError(f"samba did not answer LDAP on {self.address}:389 within {timeout:g} s")

    def _add_own_a_record(self, end: float) -> None:
        """Add the DC's own A record, retrying until ``end`` (time.monotonic()): LDAP can answer
        before the RPC server samba-tool talks to does, on a loaded machine. Before, one failure was
        ignored and the DC ran without an A record for its name (every ldaps://dc1... client then
        failed with "invalid server address"). Raises RuntimeError when it never succeeds."""
        while True:
            try:
                self.dns_add(self.host_name.lower(), "A", self.address)
                return
            except RuntimeError as exc:
                if "already exists" in str(exc).lower():
                    return  # an earlier attempt added it before it timed out
                if time.monotonic() >= end:
                    self.stop()
                    raise RuntimeError(f"the DC's own A record could not be added: {exc}") from exc
            time.sleep(0.5)  # the RPC server has no readiness signal either

    def dns_add(self, name: str, kind: str, data: str) -> None:
        """Add a record to the DC's DNS zone (the DC must be running)."""
        pid = self._pid()
        prefix = ["nsenter", f"--net=/proc/{pid}/ns/net"] if self.private_network and pid else []
        _run(prefix + ["samba-tool", "dns", "add", self.address, self.DNS_NAME, name, kind, data,
                       "-s", str(self.conf), "-U", f"Administrator%{self.ADMIN_PASSWORD}"], "samba-tool dns add")

    def _pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text())
        except (OSError, ValueError):
            return None
        return pid if _is_our_samba(pid, self.dc) else None

    @property
    def running(self) -> bool:
        return self._pid() is not None

    def stop(self) -> None:
        """Stop the samba this object started (by PID, only if it is ours); idempotent."""
        pid = self._pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            end = time.monotonic() + 10
            while time.monotonic() < end and _alive(pid):
                time.sleep(0.05)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()


def _run(args: list[str], what: str) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    # ldbadd can exit 0 after an entry failed (the rest of the file is then not added).
    if proc.returncode != 0 or "ERR:" in proc.stdout + proc.stderr:
        raise RuntimeError(f"{what} failed ({proc.returncode}): {(proc.stdout + proc.stderr)[-3000:]}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _is_our_samba(pid: int, dc_dir: Path) -> bool:
    """Is ``pid`` a samba that runs from ``dc_dir``? (samba rewrites its argv, so look at the
    binary and the config path on its command line or its open files)."""
    if not _alive(pid):
        return False
    try:
        if os.path.basename(os.readlink(f"/proc/{pid}/exe")) != "samba":
            return False
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    if str(dc_dir).encode() in cmdline:
        return True
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(dc_dir)):
                    return True
    return False


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return False
    return True


def _ldap_answers(address: str, netns_pid: int | None) -> bool:
    """An anonymous RootDSE read answers (a bare TCP accept is not enough: samba accepts before
    its LDAP server is ready)."""
    prefix = ["nsenter", f"--net=/proc/{netns_pid}/ns/net"] if netns_pid else []
    proc = subprocess.run(prefix + ["ldapsearch", "-x", "-LLL", "-o", "nettimeout=2", "-H", f"ldap://{address}:389",
                           "-s", "base", "-b", "", "dnsHostName"], capture_output=True, stdin=subprocess.DEVNULL)
    return proc.returncode == 0


_CLONE_NEWNET = 0x40000000


def _call_in_netns(netns: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``function`` in a new thread that first joins the network namespace ``netns``.

    setns(2) changes only the calling thread's namespace, and sockets stay in the namespace they
    were created in, so the rest of the process keeps the host's network.
    """
    import ctypes
    import threading

    libc = ctypes.CDLL(None, use_errno=True)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY)
            try:
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({netns}): {os.strerror(err)}")
            finally:
                os.close(fd)
            box["value"] = function(*args, **kwargs)
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="samba-netns")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


# --- sharing one DC between processes ----------------------------------------------------------

@contextlib.contextmanager
def shared_dc(state_dir: Path, build: "callable[[], SambaDc]", seed_version: str,  # type: ignore[valid-type]
              make: "callable[[SambaDc], None]",  # type: ignore[valid-type]
              after_start: "Callable[[SambaDc], None] | None" = None) -> Iterator[SambaDcInfo]:
    """One DC shared by every process that enters with the same ``state_dir``.

    The first process provisions, seeds (``make``), starts it and calls ``after_start`` (what
    needs a running DC: DNS records); later ones (pytest-xdist
    workers, a second test run) reuse it while it runs and was seeded with ``seed_version``. Each
    holder registers its PID in ``state.json`` under an flock; the last holder to leave (dead
    holders are pruned) stops the DC. Yields the :class:`SambaDcInfo`.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    lock_path = state_dir / "lock"
    state_path = state_dir / "state.json"
    dc = build()
    me = os.getpid()
    with _flock(lock_path):
        state = _read_state(state_path)
        holders = [p for p in state.get("holders", []) if _alive(p) and p != me]
        if not (dc.running and state.get("seed_version") == seed_version and state.get("info")):
            dc.stop()
            holders = []
            try:
                dc.provision()
                make(dc)
                info = dc.start()
                if after_start is not None:
                    after_start(dc)
            except BaseException:
                dc.stop()  # never leave a half-made DC running
                raise
            state = {"seed_version": seed_version, "info": asdict(info)}
        state["holders"] = holders + [me]
        state_path.write_text(json.dumps(state))
        info = SambaDcInfo(**state["info"])
    try:
        yield info
    finally:
        with _flock(lock_path):
            state = _read_state(state_path)
            holders = [p for p in state.get("holders", []) if _alive(p) and p != me]
            state["holders"] = holders
            if not holders:
                dc.stop()
                shutil.rmtree(dc.root, ignore_errors=True)  # a throwaway DC: nothing to keep
                state.pop("info", None)
            state_path.write_text(json.dumps(state))


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _read_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
