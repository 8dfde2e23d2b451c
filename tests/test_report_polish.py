"""What a newcomer found reading the reports end to end: one total of the points lost in every
output, grade caps and command lines in the text summary that read and paste right, action-plan
commands without an empty argument, dates in evidence shown readably, the facts section's titles."""

from __future__ import annotations

import json

import lxml.html
from report_samples import finding, sample_result

from adfs_readiness.grading import grade
from adfs_readiness.model import Severity, Status
from adfs_readiness.report import render_html, render_text
from adfs_readiness.report.grading_text import grading_explanation_text
from adfs_readiness.report.json_report import render_json


def _graded(findings):
    return sample_result(findings=findings, grade=grade(findings))


# --- 2: one total of the points lost -------------------------------------------------------------

def test_the_points_lost_total_is_one_figure_in_html_json_and_explain() -> None:
    # One high check passes, two low checks and a three-target medium check warn: the rows are
    # 2.27 + 2.27 + 6.06 x 3 (+ rounding) = 22.727...; summing the rows rounded to 0.01 gives
    # 22.75, which prints as 22.8. Summing unrounded and rounding once gives 22.7 everywhere.
    findings = ([finding("metadata.p0", Status.PASS, "ok", severity=Severity.HIGH)]
                + [finding(f"metadata.w{i}", Status.WARN, "w", severity=Severity.LOW, target=f"t{i}")
                   for i in range(2)]
                + [finding("metadata.x", Status.WARN, "w", severity=Severity.MEDIUM, target=f"x{j}")
                   for j in range(3)])
    result = _graded(findings)
    explained = result.grade.explanation
    assert explained is not None
    assert round(sum(round(p.points, 2) for p in explained.points_lost), 1) == 22.8  # the drift this fixes
    assert explained.total_points_lost == 22.7
    doc = json.loads(render_json(result))
    assert doc["grading"]["points_lost_total"] == 22.7
    why = lxml.html.document_fromstring(render_html(result)).get_element_by_id("why").text_content()
    assert "The findings below cost 22.7 points" in " ".join(why.split())
    assert "Points lost (22.7 in all)" in grading_explanation_text(doc)
    # An older report (rows only) still sums to one figure, rounded once.
    del doc["grading"]["points_lost_total"]
    assert "Points lost (22.8 in all)" in grading_explanation_text(doc)


# --- 3: the text summary ------------------------------------------------------------------------

def test_a_cap_over_several_checks_says_and_n_more_not_plus_n() -> None:
    findings = [finding("directory.upn-routable", Status.FAIL, "bad suffix", severity=Severity.HIGH),
                finding("directory.spn", Status.FAIL, "duplicate SPN", severity=Severity.HIGH)] + [
        finding(f"metadata.ok{i}", Status.PASS, "ok", severity=Severity.CRITICAL) for i in range(20)]
    text = render_text(_graded(findings), width=140)
    assert "capped at C: a failed high or critical check (directory.upn-routable and 1 more)" in text
    assert "+1" not in text


def test_a_long_command_is_never_wrapped_so_it_pastes_as_one_command() -> None:
    export = ("Export-PfxCertificate -Cert Cert:\\LocalMachine\\My\\3F2A9C0D5E7B41A6C8D9E0F1A2B3C4D5E6F70819 "
              "-FilePath ssl.pfx -Password (Read-Host -AsSecureString) -ChainOption BuildChain")
    cert = finding("tls.certificate-chain", Status.FAIL, "The chain is incomplete.", severity=Severity.HIGH,
                   evidence={"commands": [export, "certutil -dump ssl.pfx"]},
                   remediation="Export the PFX again with its chain.")
    for width in (60, 80, 100):
        lines = render_text(_graded([cert]), width=width).splitlines()
        commands = [line for line in lines if "Export-PfxCertificate" in line or "-FilePath" in line]
        # One line, the whole command, indented under the prose; nothing continues on the next line.
        assert len(commands) == 1 and commands[0].strip() == export, width
        indent = commands[0][:commands[0].index("Export")]
        assert indent.strip() == "" and len(indent) >= 8
        assert lines[lines.index(commands[0]) + 1] == indent + "certutil -dump ssl.pfx"


# --- 7: one computation of days left ------------------------------------------------------------

def test_the_scenario_list_and_the_report_count_the_same_days_left() -> None:
    """The scenario list says "primary 18 days left": the lab's certificate has 18 whole days left
    as the checks count them (``api.days_left``), also a few minutes after the lab was built (the
    run's clock is a little later than the lab's)."""
    import re
    from datetime import timedelta

    from conftest import FIXED_NOW

    from adfs_readiness.api import days_left
    from adfs_readiness.lab.pki import LabPki
    from adfs_readiness.lab.scenarios import SCENARIOS, build_material

    pki = LabPki(FIXED_NOW)
    for name in ("demo", "token-signing-expired", "rollover", "tls-expired", "tls-expiring",
                 "token-decrypting-expiring"):
        scenario = SCENARIOS[name]
        material = build_material(scenario, pki, "sts.contoso.test")
        for run_at in (FIXED_NOW, FIXED_NOW + timedelta(seconds=20), FIXED_NOW + timedelta(hours=11)):
            counted = [days_left(c.cert.not_valid_after_utc, run_at)
                       for c in (material.token_signing[0], material.token_decrypting[0], material.tls)]
            assert counted == [int(scenario.token_signing_days_left), int(scenario.token_decrypting_days_left),
                               int(scenario.tls_days_left)], (name, run_at)
    said = re.search(r"primary (\d+) days left", SCENARIOS["demo"].description)
    assert said and int(said.group(1)) == SCENARIOS["demo"].token_signing_days_left == 18


# --- 6: no command with an empty argument ----------------------------------------------------------

def plan_commands(result) -> list[tuple[str, str]]:
    """(check id, command line) of every command of ``result``'s action plan."""
    from adfs_readiness.report.action_plan import action_plan

    return [(a.finding.check_id, line) for a in action_plan(result) if a.script for line in a.script.lines]


def test_no_action_plan_command_of_a_corpus_metadata_file_has_an_empty_argument(tmp_path, capsys) -> None:
    """Every real metadata file of the corpus, judged as a file: each command of its action plan
    names every argument (the known service name or a placeholder saying what to put there)."""
    import csv
    from pathlib import Path

    from adfs_readiness.cli import main
    from adfs_readiness.report._commands import empty_arguments

    seen: dict[str, list[str]] = {}
    for path in sorted((Path(__file__).parent / "corpus" / "metadata").glob("*.xml")):
        plan = tmp_path / f"{path.stem}.csv"
        main(["check", "--metadata", str(path), "--as-of", "2026-11-30", "--no-history", "-q",
              "--action-plan", str(plan)])
        for row in csv.DictReader(plan.open(encoding="utf-8")):
            for line in filter(None, row["command"].split("\n")):
                assert empty_arguments(line) == [] and "<fs>" not in line, (path.name, row["check_id"], line)
                seen.setdefault(row["check_id"], []).append(line)
    capsys.readouterr()
    # The newcomer's case: HostName with the service name the metadata names, or a placeholder
    # (an address or a non-URL entityID names no service), never bare.
    host_names = [line for line in seen["metadata.endpoints"] + seen["dns.fs-name-routable"] if "-HostName" in line]
    assert host_names and all(not line.endswith("-HostName") for line in host_names)
    assert "Set-AdfsProperties -HostName <federation service name>" in seen["dns.fs-name-routable"]
    assert "Set-AdfsProperties -HostName idp.msidlab13.com" in seen["metadata.endpoints"]
    assert not any("192.168.1.247" in line for line in host_names)


# --- 8: the facts section and dates ---------------------------------------------------------------

def test_facts_have_titles_in_words_and_empty_ones_are_left_out() -> None:
    facts = {
        "metadata": {"source": "https://sts.contoso.test/FederationMetadata/2007-06/FederationMetadata.xml"},
        "entra_mfa_client": {"configured": True, "found": True, "key_credentials": [{"key_id": "b848"}]},
        # No certificate file was given: every field empty.
        "certificate_file": {"path": None, "file_format": None, "certificates": [], "private_key_present": False,
                             "verifications": [], "error": None, "problems": []},
        # A source that was not configured.
        "sign_in": {"configured": False, "upn": None},
        "plugin.thing_seen": {"value": 3},
    }
    tree = lxml.html.document_fromstring(render_html(sample_result(facts=facts)))
    summaries = [d.find("summary") for d in tree.get_element_by_id("facts").xpath("./details")]
    assert [" ".join(s.text_content().split()) for s in summaries] == [
        "Federation metadata metadata", "Entra ID: the MFA client's certificates (Azure MFA adapter) entra_mfa_client",
        "Plugin thing seen plugin.thing_seen", "Run details"]
    # The JSON key is there for whoever looks it up in the JSON report, muted after the title.
    assert summaries[0].find_class("fact-key")[0].text_content() == "metadata"


def test_dates_in_evidence_and_summaries_read_as_dates_in_html_and_text_and_stay_raw_in_json() -> None:
    raw = "2026-09-21T01:57:27.827015+00:00"
    update = finding("adfs.update-age", Status.WARN, f"newest update KB5036896 installed on {raw}.",
                     evidence={"server": "adfs1.corp.contoso.test", "installed_on": raw,
                               "collected_at": "2026-12-05T02:24:34.309796+00:00",
                               "updates": [{"kb": "KB5036896", "installed_on": raw}]})
    result = _graded([update])
    page = render_html(result)
    card = lxml.html.document_fromstring(page).find_class("finding")[0]
    facts = {dt.text_content(): dd.text_content() for dt, dd in zip(card.xpath(".//dl[@class='kf']//dt"),
                                                                    card.xpath(".//dl[@class='kf']//dd"))}
    assert facts["Installed on"] == "2026-09-21 01:57 UTC"
    assert facts["Collected at"] == "2026-12-05 02:24 UTC"
    assert "installed on 2026-09-21 01:57 UTC." in card.find_class("f-summary")[0].text_content()
    raw_evidence = card.find_class("raw")[0].text_content()
    assert "2026-09-21 01:57 UTC" in raw_evidence and raw not in page
    text = render_text(result, verbose=True, width=140)
    assert "installed on 2026-09-21 01:57 UTC." in text and raw not in text
    doc = json.loads(render_json(result))
    assert doc["findings"][0]["evidence"]["installed_on"] == raw and raw in doc["findings"][0]["summary"]


# --- 4: the README says when a blocker check blocks ----------------------------------------------

def test_readme_says_when_a_blocker_check_blocks_and_its_table_is_honest() -> None:
    import re
    from pathlib import Path

    from adfs_readiness.engine.registry import discover_checks

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    cells = dict(re.findall(r"^\| `([a-z0-9.-]+)` \| ([^|]*) \|", readme, re.M))
    assert "| id | can block SSO | what it judges |" in readme and "blocks SSO when failing" not in readme
    registry = discover_checks()
    for check in registry.checks:
        cell = cells[check.id].strip()
        if check.meta.blocker:
            assert cell, check.id  # a blocker check says it can block (and when, if it decides per finding)
    # The demo's case: a failed directory.upn-routable below the threshold does not block.
    assert "upn_blocking_percent" in cells["directory.upn-routable"]
    assert cells["token-signing.expiry"].startswith("when")
    grading = readme[readme.index("### How the grade is made"):readme.index("## Configuration reference")]
    flat = " ".join(grading.split())
    assert "A failed blocker makes the verdict NOT_READY" not in flat
    assert "Whether a failure blocks is decided per finding" in flat and "not blocking here" in flat
