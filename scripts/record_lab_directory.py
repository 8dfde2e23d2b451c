#!/usr/bin/env python3
"""Record the directory facts of the demo lab's Samba AD DC into the package, for machines
without Samba (the demo and ``adfs-readiness lab up`` replay them; the report says so).

Run it from a clone, as root, where Samba is installed (.ci/run lists the Debian packages):

    sudo .venv/bin/python scripts/record_lab_directory.py

It provisions and seeds a throwaway DC exactly as the demo does, reads it with the real directory
probe through the demo's settings, and writes src/adfs_readiness/lab/recordings/directory.json
(or --out PATH). Run it again, and commit the result, when the directory fact's shape or the lab's
seed data changes: tests/test_lab_recording.py fails and names this script when the committed
recording no longer decodes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "src" / "adfs_readiness" / "lab" / "recordings" / "directory.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write it (default: {DEFAULT_OUT})")
    args = parser.parse_args()

    from adfs_readiness.files import write_atomic
    from adfs_readiness.lab.directory_recording import RecordingFailed, record_directory

    try:
        doc = record_directory()
    except RecordingFailed as exc:
        print(f"record_lab_directory: {exc}", file=sys.stderr)
        return 1
    write_atomic(args.out, json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {args.out} (recorded {doc['recorded_at']} with {doc['recorded_with']['samba_version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
