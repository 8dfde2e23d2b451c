"""The recorded directory facts of the lab DC (issue 14): the committed recording decodes with
today's fact types (else: re-run the recording script), replays with its times moved to the run's
clock, gives the demo a judged directory area marked as recorded in every report; and, where Samba
runs, a fresh recording judges the same as the committed one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from adfs_readiness.cli import main
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.facts.directory import DirectoryFacts, filetime_from_datetime
from adfs_readiness.lab.stack import packaged_recording
from adfs_readiness.probes.catalog import DIRECTORY_RERECORD
from adfs_readiness.probes.recorded import RecordingError, read_recording, replay, shift_times

from conftest import FIXED_NOW

REGISTRY = discover_checks(strict=True)


def test_the_committed_recording_decodes_with_the_current_fact_types():
    recording = read_recording(packaged_recording())
    try:
        fact = replay(recording, DirectoryFacts, FIXED_NOW, rerecord=DIRECTORY_RERECORD)
    except RecordingError as exc:
        pytest.fail(f"The committed directory recording no longer fits DirectoryFacts: {exc}")
    assert isinstance(fact, DirectoryFacts) and fact.connection.result == "ok"
    assert recording.recorded_with["script"] == "scripts/record_lab_directory.py"
    # The replayed clock is the run's: the DC's time and the local times around it moved together.
    assert abs(fact.root_dse.current_time - FIXED_NOW) < timedelta(minutes=5)


def test_a_recording_of_another_shape_fails_loudly_naming_the_script(tmp_path):
    doc = json.loads(packaged_recording().read_text())
    doc["fact"]["connection"]["renamed_field"] = doc["fact"]["connection"].pop("result")
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(RecordingError) as info:
        replay(read_recording(path), DirectoryFacts, FIXED_NOW, rerecord=DIRECTORY_RERECORD)
    assert "scripts/record_lab_directory.py" in str(info.value) and "renamed_field" in str(info.value)


def test_times_move_by_shape_and_never_values_stay():
    recorded, now = FIXED_NOW - timedelta(days=100), FIXED_NOW
    moment = FIXED_NOW - timedelta(days=500)
    value = {"when": moment.isoformat(), "filetime": filetime_from_datetime(moment), "never": 9223372036854775807,
             "zero": 0, "count": 12, "name": "2019", "nested": [{"t": moment.isoformat()}]}
    shifted = shift_times(value, now - recorded)
    assert shifted["when"] == (moment + timedelta(days=100)).isoformat()
    assert shifted["filetime"] == filetime_from_datetime(moment + timedelta(days=100))
    assert (shifted["never"], shifted["zero"], shifted["count"]) == (9223372036854775807, 0, 12)
    assert shifted["name"] == "2019"
    assert shifted["nested"][0]["t"] == shifted["when"]


def test_the_recorded_demo_judges_the_directory_and_says_it_is_recorded(tmp_path, capsys):
    js, html = tmp_path / "r.json", tmp_path / "r.html"
    main(["demo", "--directory", "recorded", "--json", str(js), "--html", str(html)])
    out = capsys.readouterr().out
    doc = json.loads(js.read_text())
    directory = {f["check_id"]: f["status"] for f in doc["findings"] if f["check_id"].startswith("directory.")}
    assert directory["directory.connect"] == "pass" and directory["directory.spn"] == "fail"
    note = doc["run"]["recorded_facts"]["directory"]
    assert note.startswith("directory facts replayed from the lab's Samba AD DC, recorded ")
    assert "Recorded facts: directory facts replayed" in out
    assert "Recorded facts" in html.read_text() and "replayed from the lab&#39;s Samba AD DC" in html.read_text()


def _judged(fact: DirectoryFacts, config) -> set[tuple[str, str | None, str]]:
    from adfs_readiness.engine.runner import judge, plan_run

    plan = plan_run(REGISTRY, config, ("directory.*",))
    return {(f.check_id, f.target, f.status.value) for f in judge(plan, {"directory": fact}, config, FIXED_NOW)}


def test_a_fresh_recording_matches_the_committed_one_in_substance():
    from adfs_readiness.lab.samba import netns_missing_reason, samba_missing_reason

    reason = samba_missing_reason() or netns_missing_reason()
    if reason:
        pytest.skip(f"no Samba lab to record here: {reason}")
    from adfs_readiness.lab.directory_recording import record_directory
    from adfs_readiness.probes.recorded import Recording
    from adfs_readiness.settings import DirectorySettings, FederationSettings, Settings

    fresh_doc = record_directory()
    committed = read_recording(packaged_recording())
    fresh = Recording(fresh_doc["fact_key"], fresh_doc["fact_type"], datetime.fromisoformat(fresh_doc["recorded_at"]),
                      fresh_doc["recorded_with"], fresh_doc["fact"], packaged_recording())
    config = Settings(federation=FederationSettings(service_name="sts.contoso.test", domains=("contoso.test",)),
                      directory=DirectorySettings(service_account="gmsa-adfs", ad_domain="corp.contoso.test"))
    old = replay(committed, DirectoryFacts, FIXED_NOW, rerecord=DIRECTORY_RERECORD)
    new = replay(fresh, DirectoryFacts, FIXED_NOW, rerecord=DIRECTORY_RERECORD)
    assert _judged(new, config) == _judged(old, config), (
        f"a fresh recording judges differently: re-run {DIRECTORY_RERECORD} and commit the result")
    # The same objects (by DN) were read; their GUIDs and SIDs differ from one provisioning to the next.
    assert sorted(o.dn for o in new.scan.objects) == sorted(o.dn for o in old.scan.objects)
