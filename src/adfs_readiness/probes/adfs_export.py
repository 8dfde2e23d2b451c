"""Reading the AD FS server export: the one JSON file the bundled collector writes
(``adfs-readiness collector > collect-adfs.ps1``; run on an AD FS server).

The file is ``ConvertTo-Json`` output. Windows PowerShell 5.1 writes DateTime values as
``"\\/Date(1700000000000)\\/"`` and enums as numbers unless converted; PowerShell 7 writes ISO
8601 and (for enums) numbers too. The collector converts enums to their names itself; a number
found where a name is expected is kept as its digits and reported as a problem. Anything missing
or unknown becomes a problem in the fact (a finding), never an exception.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from adfs_readiness.facts import CertificateInfo, ProbeError, ProbeErrorKind
from adfs_readiness.facts.adfs_export import (
    AdfsCertificateEntry,
    AdfsEndpointEntry,
    AdfsExport,
    AdfsFarm,
    AdfsProperties,
    AdfsTrust,
)
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes.certificates import certificate_from_base64
from adfs_readiness.text import loads_json

__all__ = ["probe_adfs_export", "read_adfs_export", "parse_adfs_export", "parse_ps_date"]

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_SECTIONS = ("Properties", "Certificates", "Endpoints", "RelyingPartyTrusts", "ClaimsProviderTrusts",
             "FarmInformation")


def parse_ps_date(value: Any) -> datetime | None:
    """A ConvertTo-Json date: ``"/Date(ms)/"`` (Windows PowerShell 5.1; the JSON escape ``\\/``
    is already undone by the JSON parser), an ISO 8601 string (PowerShell 7), or a
    ``{"value": ..., "DateTime": ...}`` wrapper. Aware UTC datetime, None when unreadable."""
    if isinstance(value, dict):
        value = value.get("value", value.get("DateTime"))
    if not isinstance(value, str):
        return None
    match = _MS_DATE.match(value.strip())
    if match:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(match.group(1)))
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _ci(obj: Any) -> dict[str, Any]:
    return {k.lower(): v for k, v in obj.items()} if isinstance(obj, dict) else {}


def _items(value: Any) -> list:
    # ConvertTo-Json writes a one-element pipeline as a bare object.
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def boolean(self, obj: dict, key: str, where: str) -> bool | None:
        value = obj.get(key.lower())
        if isinstance(value, bool):
            return value
        if value is not None:
            self.problems.append(f"{where}.{key} = {value!r} is not true/false")
        return None

    def integer(self, obj: dict, key: str, where: str) -> int | None:
        value = obj.get(key.lower())
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if value is not None:
            self.problems.append(f"{where}.{key} = {value!r} is not a whole number")
        return None

    def name(self, obj: dict, key: str, where: str) -> str | None:
        value = obj.get(key.lower())
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("Value", value.get("value")), str):
            return value.get("Value", value.get("value"))
        if isinstance(value, int) and not isinstance(value, bool):
            self.problems.append(f"{where}.{key} is the number {value}, not a name (an enum serialised by "
                                 f"ConvertTo-Json without the collector); re-run the bundled collector")
            return str(value)
        return None

    def text_list(self, obj: dict, key: str, where: str) -> tuple[str, ...] | None:
        value = obj.get(key.lower())
        if value is None:
            return None
        items = _items(value)
        if all(isinstance(i, str) for i in items):
            return tuple(items)
        self.problems.append(f"{where}.{key} = {value!r} is not a list of names")
        return tuple(str(i) for i in items)

    def certificate(self, value: Any, where: str) -> CertificateInfo | None:
        # The collector writes RawData as base64; a raw ConvertTo-Json of an X509Certificate2 has
        # "RawData" as a list of byte values.
        obj = _ci(value)
        raw = obj.get("rawdata") if obj else value
        if isinstance(raw, list) and all(isinstance(b, int) for b in raw):
            import base64

            raw = base64.b64encode(bytes(b & 0xFF for b in raw)).decode("ascii")
        if not isinstance(raw, str) or not raw:
            self.problems.append(f"{where}: no certificate bytes (RawData)")
            return None
        info = certificate_from_base64(raw)
        if not info.decodable:
            self.problems.append(f"{where}: the certificate could not be decoded")
        return info


def _properties(r: _Reader, raw: Any) -> AdfsProperties:
    p, w = _ci(raw), "Properties"
    return AdfsProperties(
        hostname=r.name(p, "HostName", w), identifier=r.name(p, "Identifier", w),
        auto_certificate_rollover=r.boolean(p, "AutoCertificateRollover", w),
        certificate_generation_threshold=r.integer(p, "CertificateGenerationThreshold", w),
        certificate_promotion_threshold=r.integer(p, "CertificatePromotionThreshold", w),
        enable_extranet_lockout=r.boolean(p, "EnableExtranetLockout", w),
        extranet_lockout_threshold=r.integer(p, "ExtranetLockoutThreshold", w),
        extranet_lockout_mode=r.name(p, "ExtranetLockoutMode", w),
        extranet_observation_window=r.name(p, "ExtranetObservationWindow", w),
        log_level=r.text_list(p, "LogLevel", w),
        extended_protection_token_check=r.name(p, "ExtendedProtectionTokenCheck", w),
        artifact_db_connection=r.name(p, "ArtifactDbConnection", w))


def _certificates(r: _Reader, raw: Any) -> tuple[AdfsCertificateEntry, ...]:
    entries = []
    for index, item in enumerate(_items(raw)):
        c, w = _ci(item), f"Certificates[{index}]"
        kind = r.name(c, "CertificateType", w)
        if kind is None:
            r.problems.append(f"{w}: no CertificateType")
            continue
        cert = r.certificate(c.get("certificate"), w) if c.get("certificate") is not None else None
        thumbprint = r.name(c, "Thumbprint", w)
        entries.append(AdfsCertificateEntry(certificate_type=kind, is_primary=r.boolean(c, "IsPrimary", w),
                                            thumbprint=thumbprint.upper() if thumbprint else None, certificate=cert))
    return tuple(entries)


def _endpoints(r: _Reader, raw: Any) -> tuple[AdfsEndpointEntry, ...]:
    entries = []
    for index, item in enumerate(_items(raw)):
        e, w = _ci(item), f"Endpoints[{index}]"
        path = r.name(e, "AddressPath", w)
        if not path:
            r.problems.append(f"{w}: no AddressPath")
            continue
        entries.append(AdfsEndpointEntry(address_path=path, enabled=r.boolean(e, "Enabled", w),
                                         proxy=r.boolean(e, "Proxy", w), protocol=r.name(e, "Protocol", w)))
    return tuple(entries)


def _trusts(r: _Reader, raw: Any, kind: str, section: str, cert_keys: tuple[str, ...]) -> tuple[AdfsTrust, ...]:
    trusts = []
    for index, item in enumerate(_items(raw)):
        t, w = _ci(item), f"{section}[{index}]"
        name = r.name(t, "Name", w) or f"(unnamed {index})"
        certs: list[tuple[str, CertificateInfo]] = []
        for key in cert_keys:
            for c_index, value in enumerate(_items(t.get(key.lower()))):
                info = r.certificate(value, f"{w}.{key}[{c_index}]")
                if info is not None:
                    certs.append((key, info))
        trusts.append(AdfsTrust(kind=kind, name=name, identifiers=r.text_list(t, "Identifier", w) or (),
                                enabled=r.boolean(t, "Enabled", w),
                                signature_algorithm=r.name(t, "SignatureAlgorithm", w), certificates=tuple(certs)))
    return tuple(trusts)


def _farm(r: _Reader, raw: Any, properties: AdfsProperties | None) -> AdfsFarm:
    f = _ci(raw)
    nodes = []
    for node in _items(f.get("farmnodes")):
        fqdn = _ci(node).get("fqdn") if isinstance(node, dict) else node
        if isinstance(fqdn, str):
            nodes.append(fqdn)
    connection = (properties.artifact_db_connection or "") if properties else ""
    database = None
    if connection:
        database = "WID" if "##wid" in connection.lower() or "microsoft##" in connection.lower() else "SQL"
    return AdfsFarm(behavior_level=r.integer(f, "CurrentFarmBehavior", "FarmInformation"), nodes=tuple(nodes),
                    database=database)


def read_adfs_export(path: Path) -> AdfsExport:
    """Read and interpret an export file. Never raises: an unreadable or non-JSON file, a missing
    section or field, an unknown value are listed in ``problems``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return AdfsExport(configured=True, source=str(path), problems=(f"cannot read {path}: {exc.strerror or exc}",))
    return parse_adfs_export(raw, path)


def parse_adfs_export(raw: bytes, path: Path) -> AdfsExport:
    """Interpret the bytes of an export file read from ``path``. Never raises: a non-JSON file, a
    missing section or field, an unknown value are listed in ``problems``."""
    try:
        data = loads_json(raw)
    except ValueError as exc:
        return AdfsExport(configured=True, source=str(path), problems=(f"{path} is not JSON: {exc}",))
    if not isinstance(data, dict):
        return AdfsExport(configured=True, source=str(path), problems=("the export is not a JSON object",))
    top = _ci(data)
    r = _Reader()
    for section in _SECTIONS:
        if top.get(section.lower()) is None:
            r.problems.append(f"the export has no {section} section")
    known = {s.lower() for s in _SECTIONS} | {"collectorversion", "collectedat", "computername"}
    for key in data:
        if key.lower() not in known:
            r.problems.append(f"unknown section {key!r} (ignored)")
    properties = _properties(r, top["properties"]) if top.get("properties") is not None else None
    return AdfsExport(
        configured=True, source=str(path),
        collector_version=top.get("collectorversion") if isinstance(top.get("collectorversion"), str) else None,
        collected_at=parse_ps_date(top.get("collectedat")),
        computer_name=top.get("computername") if isinstance(top.get("computername"), str) else None,
        properties=properties,
        certificates=_certificates(r, top["certificates"]) if top.get("certificates") is not None else None,
        endpoints=_endpoints(r, top["endpoints"]) if top.get("endpoints") is not None else None,
        relying_parties=_trusts(r, top["relyingpartytrusts"], "relying_party", "RelyingPartyTrusts",
                                ("RequestSigningCertificate", "EncryptionCertificate"))
        if top.get("relyingpartytrusts") is not None else None,
        claims_providers=_trusts(r, top["claimsprovidertrusts"], "claims_provider", "ClaimsProviderTrusts",
                                 ("TokenSigningCertificates", "EncryptionCertificate"))
        if top.get("claimsprovidertrusts") is not None else None,
        farm=_farm(r, top["farminformation"], properties) if top.get("farminformation") is not None else None,
        problems=tuple(r.problems))


def probe_adfs_export(ctx: ProbeContext) -> AdfsExport | ProbeError:
    """Gather the ``adfs_export`` fact from ``config.adfs_export`` (``--adfs-export FILE``);
    ``configured=False`` when none is given. A file this machine cannot read is a ProbeError of
    kind ``local`` (not determined), not a problem of the export."""
    if ctx.config.adfs_export is None:
        return AdfsExport(configured=False)
    path = ctx.config.adfs_export
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return ProbeError(ProbeErrorKind.LOCAL, f"the AD FS export {path} cannot be read on this machine "
                                                f"({exc.strerror or exc})", str(path))
    return parse_adfs_export(raw, path)
