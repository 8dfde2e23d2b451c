"""End to end: the CLI against the Samba DC (run inside the DC's network namespace with nsenter),
with the JSON, HTML and CSV outputs of a real run."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from html.parser import HTMLParser

from adfs_readiness.lab.samba_seed import XSS_DISPLAY_NAME
from adfs_readiness.report.json_report import validate_report


class _Text(HTMLParser):
    """Collects the text content and the <script> elements of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.scripts = 0
        self.imgs = 0

    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        self.imgs += tag == "img"

    def handle_data(self, data):
        self.text.append(data)


def test_cli_run_against_samba_writes_reports_and_renders_a_script_payload_as_text(samba_dc, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'''
[federation]
service_name = "sts2.contoso.test"
domains = ["contoso.com"]
[dns]
internal_resolvers = ["{samba_dc.address}:{samba_dc.dns_port}"]
[directory]
server = "ldaps://dc1.contoso.test"
base_dn = "OU=Lab,DC=contoso,DC=test"
bind_user = "{samba_dc.admin_upn}"
ca_bundle = "{samba_dc.ca_pem}"
service_account = "gmsa-adfs"
password_env = "LAB_LDAP_PASSWORD"
''')
    out_json, out_html, csv_dir = tmp_path / "r.json", tmp_path / "r.html", tmp_path / "csv"
    env = {**os.environ, "LAB_LDAP_PASSWORD": samba_dc.admin_password}
    proc = subprocess.run(["nsenter", f"--net={samba_dc.netns}", sys.executable, "-m", "adfs_readiness", "check",
                           "--config", str(config), "--skip", "metadata.*", "--skip", "token-signing.*",
                           "--skip", "token-decrypting.*", "--skip", "tls.*", "--skip", "certificate-file.*",
                           "--skip", "dns.*", "--skip", "endpoints.*", "--skip", "cloud.*", "--skip", "adfs.*",
                           "--json", str(out_json), "--html", str(out_html),
                           "--csv-dir", str(csv_dir), "-q"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert samba_dc.admin_password not in proc.stdout + proc.stderr + out_json.read_text() + out_html.read_text()
    doc = json.loads(out_json.read_text())
    validate_report(doc)
    status = {f["check_id"]: f["status"] for f in doc["findings"] if f["check_id"].startswith("directory.")}
    assert len(status) == 22
    # The DC's LDAPS certificate is in the certificate calendar.
    ldaps = [c for c in doc["certificates"] if c["role"] == "LDAPS"]
    assert len(ldaps) == 1 and ldaps[0]["where"] == ["domain controller ldaps://dc1.contoso.test"]
    assert "CN=DC1.CONTOSO.TEST" in ldaps[0]["subject"].upper()
    assert status["directory.connect"] == "pass" and status["directory.upn-routable"] == "fail"
    assert status["directory.displayname"] == "warn" and status["directory.spn"] == "pass"
    # The verdict: 4 of the lab's 22 enabled users (18%) have a non-routable UPN suffix, at least
    # thresholds.upn_blocking_percent (10%): single sign-on does not work for them -> NOT_READY.
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert doc["verdict"] == "NOT_READY"

    html = out_html.read_text()
    assert XSS_DISPLAY_NAME not in html and "<script>alert" not in html
    page = _Text()
    page.feed(html)
    assert XSS_DISPLAY_NAME.strip() in "".join(page.text)  # shown, as text
    assert page.imgs == 0

    with open(csv_dir / "directory-problems.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    xss = [r for r in rows if r["dn"].startswith("CN=xss,")]
    assert xss == [{"check_id": "directory.displayname", "dn": "CN=xss,OU=Lab,DC=contoso,DC=test",
                    "attribute": "displayName", "value": XSS_DISPLAY_NAME,
                    "problem": "leading or trailing white space", "suggested_fix": "remove the white space"}]

    # An evidence snapshot of the same run holds the directory's facts but never the bind password,
    # and judging it offline gives the same directory findings.
    snap, offline = tmp_path / "evidence.json", tmp_path / "offline.json"
    skips = ["--skip", "metadata.*", "--skip", "token-signing.*", "--skip", "token-decrypting.*", "--skip", "tls.*",
             "--skip", "certificate-file.*", "--skip", "dns.*", "--skip", "endpoints.*", "--skip", "cloud.*",
             "--skip", "adfs.*"]
    collected = subprocess.run(["nsenter", f"--net={samba_dc.netns}", sys.executable, "-m", "adfs_readiness", "collect",
                                "--config", str(config), *skips, "--out", str(snap), "-q"],
                               capture_output=True, text=True, env=env, timeout=120)
    assert "Traceback" not in collected.stderr, collected.stderr
    assert samba_dc.admin_password not in snap.read_text() + collected.stdout + collected.stderr
    assert json.loads(snap.read_text())["facts"]["directory"]
    assessed = subprocess.run([sys.executable, "-m", "adfs_readiness", "assess", str(snap), "--json", str(offline), "-q"],
                              capture_output=True, text=True, timeout=120)
    assert "Traceback" not in assessed.stderr, assessed.stderr
    offline_status = {f["check_id"]: f["status"] for f in json.loads(offline.read_text())["findings"]
                      if f["check_id"].startswith("directory.")}
    assert offline_status == status
