"""Packaging: the wheel installs in a fresh virtual environment with the built-in checks
registered through the entry-point group, and a third-party check package plugs in the same way.

No network: the wheel is built without build isolation, and the fresh venv sees this
environment's dependencies through a .pth line (which, unlike a site dir, does not run this
environment's own .pth files, so the editable install of adfs-readiness stays invisible there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kw)
    assert proc.returncode == 0 or kw.get("check_rc") is False, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("pkg")
    dist = base / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, ROOT])
    wheels = list(dist.glob("adfs_readiness-*.whl"))
    assert len(wheels) == 1
    venv = base / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    py = venv / "bin" / "python"
    site = Path(run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "_deps_from_parent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheels[0]])
    return venv, wheels[0]


def test_wheel_contains_both_packages_and_package_data(fresh_venv):
    import zipfile

    _, wheel = fresh_venv
    names = zipfile.ZipFile(wheel).namelist()
    assert "adfs_readiness/cli/__init__.py" in names and "adfs_readiness/settings/__init__.py" in names
    assert "adfs_readiness/lab/recordings/directory.json" in names
    assert "adfs_readiness_checks/metadata.py" in names
    assert any(n.startswith("adfs_readiness/report/templates/") for n in names)
    assert "adfs_readiness/report/schema/report.schema.json" in names
    eps = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(eps).decode()
    assert "[adfs_readiness.checks]" in text and "adfs_readiness_checks.metadata" in text


def test_installed_wheel_runs_with_builtin_checks(fresh_venv):
    venv, _ = fresh_venv
    exe = venv / "bin" / "adfs-readiness"
    out = run([exe, "list-checks", "--json"], cwd="/").stdout
    ids = {row["id"] for row in json.loads(out)}
    assert {"metadata.reachable", "metadata.signature", "token-signing.expiry"} <= ids
    where = run([venv / "bin" / "python", "-c", "import adfs_readiness, adfs_readiness_checks;"
                 "print(adfs_readiness.__file__); print(adfs_readiness_checks.__file__)"], cwd="/").stdout.split()
    assert all(str(venv) in w for w in where), where
    assert run([venv / "bin" / "python", "-m", "adfs_readiness", "--version"], cwd="/").stdout.startswith("adfs-readiness ")


def test_third_party_check_package_is_discovered_and_runs(fresh_venv, tmp_path):
    venv, _ = fresh_venv
    pkg = tmp_path / "tiny"
    (pkg / "tiny_adfs_check").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "tiny-adfs-check"
        version = "1.0"
        [project.entry-points."adfs_readiness.checks"]
        tiny = "tiny_adfs_check"
        [tool.setuptools]
        packages = ["tiny_adfs_check"]
    """))
    (pkg / "tiny_adfs_check" / "__init__.py").write_text(textwrap.dedent('''
        from adfs_readiness.api import Area, Outcome, Reference, Severity, Status, check
        from adfs_readiness.facts import METADATA_FACT

        @check(id="metadata.tiny-entity-length", title="entityID is short", area=Area.METADATA,
               severity=Severity.LOW, blocker=False, requires=(METADATA_FACT,),
               rule="entityID under 200 characters", remediation="shorten it",
               references=(Reference("SAML 2.0 metadata", "https://docs.oasis-open.org/security/saml/v2.0/saml-metadata-2.0-os.pdf"),))
        def tiny(ctx):
            entity = ctx.fact(METADATA_FACT).document.entity_id
            return Outcome(Status.INFO, f"entityID has {len(entity)} characters", evidence={"entity_id": entity})
    '''))
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps",
         "--no-build-isolation", "--no-index", "-q", pkg])
    exe = venv / "bin" / "adfs-readiness"
    ids = {row["id"] for row in json.loads(run([exe, "list-checks", "--json"], cwd="/").stdout)}
    assert "metadata.tiny-entity-length" in ids and "metadata.signature" in ids
    metadata = ROOT / "tests" / "corpus" / "metadata" / "msidentitymodel_adfs-v4-metadata.xml"
    out_json = tmp_path / "out.json"
    proc = subprocess.run([str(exe), "check", "--metadata", str(metadata), "--only", "metadata.tiny-entity-length",
                           "--json", str(out_json), "-q"], capture_output=True, text=True, timeout=120, cwd="/",
                          env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(out_json.read_text())
    (finding,) = doc["findings"]
    assert finding["check_id"] == "metadata.tiny-entity-length" and finding["status"] == "info"
    assert finding["summary"] == "entityID has 43 characters"
