"""``--csv-dir``: every object-level directory problem of a run as ``directory-problems.csv``.

The rows are the attribute rules' (``adfs_readiness_checks.directory_rules``) over the directory
fact the run gathered, read back from the run's JSON-ready facts (the same decoding an evidence
snapshot uses), so the CSV says exactly what the findings counted. UTF-8 with a byte order mark
(Excel then reads non-ASCII names), one row per object and problem, sorted by check and DN.
Every cell goes through :func:`adfs_readiness.text.csv_cell`, the one formula guard of every CSV
the tool writes (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path
from typing import Any, Sequence

from adfs_readiness.text import csv_cell

__all__ = ["CSV_NAME", "directory_csv_text", "write_directory_csv"]

#: The file written in the ``--csv-dir`` folder.
CSV_NAME = "directory-problems.csv"


def directory_csv_text(directory_fact: Any, federated_domains: Sequence[str] = ()) -> str | None:
    """The CSV text (with a BOM) for the JSON form of the ``directory`` fact, or None when the run
    has no scan to report (not configured, bind failed, probe error). Raises nothing for a fact
    that does not decode: None then too."""
    from adfs_readiness.facts.codec import FactDecodeError, decode
    from adfs_readiness.facts.directory import DirectoryFacts
    from adfs_readiness_checks.directory_rules import CSV_COLUMNS, problem_rows

    if not isinstance(directory_fact, dict) or not directory_fact.get("scan"):
        return None
    try:
        facts = decode(DirectoryFacts, directory_fact)
    except FactDecodeError:
        return None
    if facts.scan is None:
        return None
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in problem_rows(facts.scan, federated_domains):
        writer.writerow([csv_cell(v) for v in (p.check_id, p.dn, p.attribute, p.value, p.problem, p.fix)])
    return "\ufeff" + out.getvalue()


def write_directory_csv(folder: Path, directory_fact: Any, federated_domains: Sequence[str] = ()) -> Path | None:
    """Write :data:`CSV_NAME` in ``folder`` (created) for the JSON form of the ``directory`` fact;
    the path written, or None when there is no scan to report. Mode 0600 (the rows name the
    directory's objects), written beside the old file and swapped in, no link followed
    (``files.write_atomic``). Raises OSError when the folder or file cannot be written."""
    from adfs_readiness.files import PRIVATE_MODE, ensure_dir, write_atomic

    text = directory_csv_text(directory_fact, federated_domains)
    if text is None:
        return None
    return write_atomic(ensure_dir(Path(folder).expanduser()) / CSV_NAME, text, mode=PRIVATE_MODE)
