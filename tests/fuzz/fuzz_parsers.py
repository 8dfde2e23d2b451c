"""Coverage-guided fuzzing of the parsers that read what others send or write (atheris:
libFuzzer for Python, https://github.com/google/atheris).

Run one target for a bounded time: ``python tests/fuzz/fuzz_parsers.py TARGET [libFuzzer
options] [corpus folders]``, e.g. ``... metadata -max_total_time=20 /tmp/corpus``. A target
fails (libFuzzer writes ``crash-*`` and exits non-zero) when a parser that promises not to raise
raises, when one raises something other than the errors it documents, or when one input takes
longer than ``-timeout`` seconds (super-linear behaviour). tests/test_fuzz.py runs every target
in CI, seeded with tests/corpus.

Targets (each the function an untrusted byte string reaches first):
metadata (parse_metadata), mex (parse_mex), oidc (parse_openid_configuration and Entra's
tenant_id_from_discovery), adfs-export (read_adfs_export), entra-export (the Entra export file
reader), snapshot (read_snapshot), certificate (describe_certificate, load_pem_certificates and
read_certificate_file with PFX inspection), ldap-value (the LDAP attribute decoders), json
(json_input.parse_untrusted_json), pem (pem_blocks and strip_pem_blocks).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["adfs_readiness"]):
    from adfs_readiness.settings import FederationSettings, Limits, Settings
    from adfs_readiness.facts.endpoints import EndpointVia
    from adfs_readiness.json_input import UntrustedJsonError, parse_untrusted_json
    from adfs_readiness.pem import pem_blocks, strip_pem_blocks
    from adfs_readiness.probes import ldap_decode
    from adfs_readiness.probes.adfs_export import read_adfs_export
    from adfs_readiness.probes.catalog import all_probes
    from adfs_readiness.probes.certificates import describe_certificate, load_pem_certificates
    from adfs_readiness.probes.cloud import tenant_id_from_discovery
    from adfs_readiness.probes.entra import _from_file as read_entra_export
    from adfs_readiness.probes.metadata_parser import parse_metadata
    from adfs_readiness.probes.mex import parse_mex, parse_openid_configuration
    from adfs_readiness.probes.tls_file import read_certificate_file
    from adfs_readiness.snapshot import SnapshotError, read_snapshot

# Inputs that need a file go through one file in a private folder (tmpfs when there is one).
_FOLDER = Path(tempfile.mkdtemp(prefix="adfs-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
_LIMITS = Limits(max_input_bytes=1 << 20, max_export_items=1000)
_PROBES = all_probes()


def _file(data: bytes, name: str) -> Path:
    path = _FOLDER / name
    path.write_bytes(data)
    return path


def metadata(data: bytes) -> None:
    parse_metadata(data, source="fuzz.xml", source_kind="file", max_bytes=1 << 20)


def mex(data: bytes) -> None:
    parse_mex(data, url="https://sts.example/adfs/services/trust/mex", via=EndpointVia.SERVICE, address="192.0.2.1")


def oidc(data: bytes) -> None:
    found = parse_openid_configuration(data, url="https://sts.example/adfs/.well-known/openid-configuration",
                                       via=EndpointVia.SERVICE, address="192.0.2.1")
    assert found is not None
    try:
        document = parse_untrusted_json(data, max_items=1000, items_setting="x")
    except UntrustedJsonError:
        return
    if isinstance(document, dict):
        tenant_id_from_discovery(document)


def adfs_export(data: bytes) -> None:
    read_adfs_export(_file(data, "export.json"), _LIMITS)


def entra_export(data: bytes) -> None:
    config = Settings(federation=FederationSettings(domains=("contoso.com",)), limits=_LIMITS)
    read_entra_export(_file(data, "entra.json"), config)


def snapshot(data: bytes) -> None:
    try:
        read_snapshot(_file(data, "evidence.json"), _PROBES, _LIMITS)
    except SnapshotError:
        pass


def certificate(data: bytes) -> None:
    describe_certificate(data)
    load_pem_certificates(data)
    read_certificate_file(_file(data, "new.pfx"), "pw", _LIMITS)


def ldap_value(data: bytes) -> None:
    ldap_decode.text(data)
    ldap_decode.immutable_id(data)
    ldap_decode.parse_generalized_time(data)
    ldap_decode.parse_generalized_time(data.decode("utf-8", "replace"))
    ldap_decode.parse_int(data)
    ldap_decode.interval_seconds(ldap_decode.parse_int(data))
    for decoder in (ldap_decode.guid_from_bytes, ldap_decode.sid_from_bytes):
        try:
            decoder(data)
        except ValueError:
            pass  # documented: not a GUID / SID


def json_input(data: bytes) -> None:
    try:
        parse_untrusted_json(data, max_items=1000, items_setting="x")
    except UntrustedJsonError:
        pass


def pem(data: bytes) -> None:
    list(pem_blocks(data))
    strip_pem_blocks(data.decode("utf-8", "replace"), "PRIVATE KEY", "[REDACTED]")


TARGETS = {"metadata": metadata, "mex": mex, "oidc": oidc, "adfs-export": adfs_export, "entra-export": entra_export,
           "snapshot": snapshot, "certificate": certificate, "ldap-value": ldap_value, "json": json_input, "pem": pem}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [corpus folders]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
