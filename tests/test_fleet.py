"""Fleets: several tenant configurations in one run, concurrently; per-tenant reports, an index
(JSON and HTML) with one row per tenant, the worst tenant's exit code, and the change since the
last run in the index."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone

from adfs_readiness.cli import main
from adfs_readiness.lab import Lab
from adfs_readiness.report.json_report import validate_report

SCENARIOS = {"alpha": "healthy", "bravo": "token-signing-expired", "charlie": "demo"}


def write_config(folder, name, lab):
    path = folder / f"{name}.toml"
    # endpoints.* are judged in test_endpoints_area.py; here three labs answer at once on a busy CI
    # machine, and their many endpoint requests would only test the machine's load.
    path.write_text(lab.config_toml() + '[checks]\nskip = ["dns.*", "endpoints.*"]\n'
                    '[network]\ntimeout_seconds = 2\ndeadline_seconds = 20\n', encoding="utf-8")
    return path


def test_fleet_of_lab_tenants(tmp_path, capsys):
    now = datetime.now(timezone.utc)
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    out = tmp_path / "out"
    history = str(tmp_path / "history.sqlite3")
    with contextlib.ExitStack() as stack:
        for i, (name, scenario) in enumerate(SCENARIOS.items()):
            lab = stack.enter_context(Lab(scenario, now=now, workdir=tmp_path / name, fs_name=f"sts{i}.contoso.test"))
            write_config(tenants, name, lab)
        first = main(["check", "--config", str(tenants), "--out-dir", str(out), "--jobs", "3", "--history", history])
        second = main(["check", "--config", str(tenants), "--out-dir", str(out), "--history", history, "-q"])
    assert first == second == 2  # the worst tenant (bravo) is NOT_READY
    listing = capsys.readouterr().out
    assert listing.splitlines()[0].startswith("bravo") and f"Fleet index: {out / 'index.html'}" in listing

    index = json.loads((out / "index.json").read_text())
    assert index["tenants"] == 3 and index["exit_code"] == 2
    assert index["verdicts"] == {"NOT_READY": 1, "READY_WITH_WARNINGS": 1, "READY": 1}
    rows = {r["tenant"]: r for r in index["rows"]}
    assert [r["tenant"] for r in index["rows"]] == ["bravo", "charlie", "alpha"]  # worst first
    assert (rows["alpha"]["verdict"], rows["alpha"]["grade"], rows["alpha"]["score"]) == ("READY", "A", 100)
    assert rows["bravo"]["blockers"] == ["token-signing.expiry"] and rows["bravo"]["target"] == "sts1.contoso.test"
    soonest = rows["bravo"]["soonest_certificate"]
    assert soonest["purpose"] == "token-signing" and soonest["days_left"] == -3  # expired 3 days before the lab's now
    # The scenario's "primary 18 days left", counted as every report counts it.
    assert rows["charlie"]["soonest_certificate"]["days_left"] == 18
    # The second run compared each tenant with its first.
    assert rows["alpha"]["change"] == {"previous_verdict": "READY", "previous_score": 100, "score_delta": 0,
                                       "new": 0, "resolved": 0, "changed": 0}
    for name in SCENARIOS:
        assert rows[name]["reports"]["html"] == f"{name}/report.html"
        doc = json.loads((out / name / "report.json").read_text())
        validate_report(doc)
        assert doc["run"]["tenant"] == name and doc["since_last_run"]["previous_run"]["score"] == doc["score"]
        assert {p.name for p in (out / name).iterdir()} >= {"report.html", "report.json", "junit.xml",
                                                            "metrics.prom", "findings.csv", "summary.md"}
    page = (out / "index.html").read_text()
    assert page.count("<tr>") == 4 and 'href="bravo/report.html"' in page and "first run" not in page


def test_fleet_reports_a_broken_tenant_and_goes_on(tmp_path, capsys):
    now = datetime.now(timezone.utc)
    bad = tmp_path / "broken.toml"
    bad.write_text('[federation]\nservice_name = "https://not a name"\ndomains = "contoso.com"\n')
    with Lab("healthy", now=now, workdir=tmp_path / "lab") as lab:
        good = write_config(tmp_path, "good", lab)
        code = main(["check", "--config", str(good), "--config", str(bad), "--out-dir", str(tmp_path / "o"),
                     "--no-history", "-q"])
    assert code == 3
    err = capsys.readouterr().err.splitlines()
    index = json.loads((tmp_path / "o" / "index.json").read_text())
    broken, ok = index["rows"]
    assert broken["tenant"] == "broken" and broken["verdict"] is None and "service_name" in broken["error"]
    assert ok["verdict"] == "READY" and ok["change"] is None
    # One problem a line, as for a single run (not one line with literal "\\n" sequences).
    assert err[0] == f"adfs-readiness: broken: {bad}: 2 problems:" and "\\n" not in "".join(err)
    assert err[1].startswith("  federation.service_name = 'https://not a name'")
    assert err[2].startswith("  federation.domains = 'contoso.com'")
    assert "not run:" in (tmp_path / "o" / "index.html").read_text()


def test_fleet_listing_says_a_tenant_that_did_not_run_has_undetermined_blockers(tmp_path, capsys):
    bad = tmp_path / "broken.toml"
    bad.write_text('[federation]\nservice_name = "https://not a name"\n')
    other = tmp_path / "other.toml"
    other.write_text('[federation]\nservice_name = "sts.contoso.test"\nfarm_nodes = ["https://x"]\n')
    code = main(["check", "--config", str(bad), "--config", str(other), "--out-dir", str(tmp_path / "o"),
                 "--no-history"])
    assert code == 3
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines if line.startswith(("broken", "other"))}
    # Neither ran: the blockers column says they are not known (not an empty cell that reads as none).
    assert rows["broken"].split(None, 1)[1] == "NOT RUN              -    -  not determined (not run)"
    assert rows["other"].endswith("  not determined (not run)")


def test_fleet_refuses_single_report_options(tmp_path, capsys):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    for p in (a, b):
        p.write_text('[federation]\nservice_name = "sts.contoso.test"\n')
    assert main(["check", "--config", str(a), "--config", str(b), "--json", str(tmp_path / "x.json")]) == 3
    assert "--out-dir" in capsys.readouterr().err
    assert main(["check", "--config", str(a), "--config", str(b)]) == 3
    assert "--out-dir" in capsys.readouterr().err
