"""What a report says about where its facts came from when they were not gathered live: the run
metadata ``recorded_facts`` (fact key -> one line), shown near the top of every report."""

from __future__ import annotations

from typing import Any

from adfs_readiness.settings import Settings

__all__ = ["provenance_metadata"]


def provenance_metadata(settings: Settings) -> dict[str, Any]:
    """``{"recorded_facts": {"directory": "..."}}`` when ``settings`` replays a recording
    (``[lab] directory_recording``), else ``{}``. A recording that cannot be read is said so here;
    the probe reports it as the area's error."""
    from adfs_readiness.probes.recorded import RecordingError, read_recording, recording_note

    path = settings.lab.directory_recording
    if path is None:
        return {}
    try:
        note = recording_note(read_recording(path))
    except RecordingError as exc:
        note = f"directory facts from a recording that cannot be replayed: {exc}"
    return {"recorded_facts": {"directory": note}}
