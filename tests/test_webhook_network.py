"""The webhook post follows the run's network configuration (issue 12 class 3), tested for real:
a receiver on a link-local address inside a private network namespace, its HTTPS certificate
signed by a private CA, reached by the real command line only when the run's configuration says
``network.allow_link_local = true`` and ``tls.ca_bundle`` holds that CA. (The post used to be
made with the default policy and trust whatever the configuration said.)"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hostile import CliRun, run_cli
from netns import ip, namespace, netns_reason
from webhook_receiver import private_ca_receiver_certificate

from adfs_readiness.lab.pki import LabPki
from adfs_readiness.lab.scenarios import build_material, get_scenario

FS = "sts.contoso.test"
LINK_LOCAL = "169.254.77.7"
RECEIVER = Path(__file__).with_name("webhook_receiver.py")


@contextmanager
def link_local_receiver(netns: str, folder: Path) -> Iterator[tuple[str, Path, Path]]:
    """An HTTPS webhook receiver on LINK_LOCAL:8443 inside ``netns``, in a process of its own.
    Yields (its URL, the private CA's PEM, the file its posts are written to)."""
    ca, chain, key = private_ca_receiver_certificate(folder, LINK_LOCAL)
    posts = folder / "posts.jsonl"
    proc = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, str(RECEIVER), LINK_LOCAL, "8443",
                             str(posts), str(chain), str(key)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "listening"
        yield f"https://{LINK_LOCAL}:8443/webhookb2/secret-token-123", ca, posts
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the receiver serves until its standard input ends
        proc.wait(timeout=10)


def _posts(path: Path) -> list[tuple[str, dict]]:
    if not path.exists():
        return []
    return [tuple(json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]  # type: ignore[misc]


@pytest.mark.skipif(netns_reason() is not None, reason=netns_reason() or "")
def test_the_webhook_honours_allow_link_local_and_the_ca_bundle(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    pki = LabPki(now)
    healthy, tampered = tmp_path / "healthy.xml", tmp_path / "tampered.xml"
    healthy.write_bytes(build_material(get_scenario("healthy"), pki, FS).metadata)
    tampered.write_bytes(build_material(get_scenario("tampered-signature"), pki, FS).metadata)
    history = tmp_path / "history.sqlite3"

    with namespace() as name:
        ip("-n", name, "addr", "add", f"{LINK_LOCAL}/32", "dev", "lo")
        with link_local_receiver(name, tmp_path) as (url, ca, posts):
            def config(allow_link_local: bool) -> Path:
                path = tmp_path / f"allow-{str(allow_link_local).lower()}.toml"
                path.write_text(f"[network]\nallow_link_local = {str(allow_link_local).lower()}\n"
                                f'[tls]\nca_bundle = "{ca}"\n'
                                # The lab's .test name stands for a public one (dns.fs-name-routable).
                                '[dns]\nsimulated_public_domains = ["contoso.test"]\n', encoding="utf-8")
                return path

            def check(metadata: Path, allow_link_local: bool) -> CliRun:
                run = run_cli("check", "--config", config(allow_link_local), "--metadata", metadata, "--history",
                              history, "--notify-webhook", url, "--format", "json", "--timeout", "2",
                              netns=name)
                run.assert_clean()
                return run

            baseline = check(healthy, True)
            refused = check(tampered, False)  # a change, but the configuration refuses link-local targets
            after_refused = _posts(posts)
            delivered = check(healthy, True)  # a change back, allowed: posted over HTTPS, CA verified
    assert json.loads(baseline.out)["verdict"] == "READY" and baseline.err == ""
    assert after_refused == []
    assert refused.err.count("notification not delivered") == 1, refused.err
    assert "link-local" in refused.err and "allow_link_local" in refused.err, refused.err
    assert delivered.err == "", delivered.err
    (post,) = _posts(posts)
    path, body = post
    assert path == "/webhookb2/secret-token-123"
    assert (body["adfs_readiness"]["previous_verdict"], body["adfs_readiness"]["verdict"]) == (
        "READY_WITH_WARNINGS", "READY")
    assert "secret-token-123" not in refused.err + refused.out + delivered.out
