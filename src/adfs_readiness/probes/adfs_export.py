"""Reading the AD FS server exports: the JSON files the bundled collector writes
(``adfs-readiness collector > collect-adfs.ps1``), one per AD FS server and per Web Application
Proxy. Several can be given (``--adfs-export`` repeated, a list in ``[adfs] export``, or a folder:
every ``*.json`` in it).

The farm's configuration (properties, certificates, endpoints, trusts, farm information,
authentication providers) is the same on every AD FS node; it is read from the first AD FS
server's export, preferring the primary node of a WID farm. Each file also gives an
:class:`~adfs_readiness.facts.adfs_servers.AdfsServer` (what that server knows about itself).

The files are ``ConvertTo-Json`` output of Windows PowerShell 5.1 or PowerShell 7; see
:mod:`adfs_readiness.probes._export_json` for the shapes handled. Anything missing or unknown
becomes a problem in the fact (a finding), never an exception.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from adfs_readiness.settings import Limits
from adfs_readiness.facts import CertificateInfo, ProbeError, ProbeErrorKind
from adfs_readiness.facts.adfs_export import (
    AdfsCertificateEntry,
    AdfsEndpointEntry,
    AdfsExport,
    AdfsFarm,
    AdfsFarmNode,
    AdfsProperties,
    AdfsTrust,
    AuthenticationProvider,
)
from adfs_readiness.facts.adfs_servers import ROLE_ADFS, ROLE_WAP, AdfsServer
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes._export_json import ExportReader, ci, items, parse_ps_date
from adfs_readiness.probes.adfs_server_export import read_server_section, role_of
from adfs_readiness.probes.claim_rules import parse_claim_rules
from adfs_readiness.files import FileTooLarge, read_capped
from adfs_readiness.json_input import UntrustedJsonError, parse_untrusted_json
from adfs_readiness.probes._input_limits import EXPORT_ITEMS_SETTING, INPUT_BYTES_SETTING, bounded_problems

__all__ = ["probe_adfs_export", "read_adfs_export", "read_adfs_exports", "parse_ps_date", "MAX_EXPORT_FILES"]

#: At most this many files are read from a folder (one per server).
MAX_EXPORT_FILES = 64
_FARM_SECTIONS = ("Properties", "Certificates", "Endpoints", "RelyingPartyTrusts", "ClaimsProviderTrusts",
                  "FarmInformation")
_KNOWN = {s.lower() for s in _FARM_SECTIONS} | {"collectorversion", "collectedat", "computername", "role", "server",
                                                "authenticationproviders", "globalauthenticationpolicy",
                                                "collectorproblems"}


def _properties(r: ExportReader, raw: Any) -> AdfsProperties:
    p, w = ci(raw), "Properties"
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
        artifact_db_connection=r.name(p, "ArtifactDbConnection", w),
        https_port=r.integer(p, "HttpsPort", w), tls_client_port=r.integer(p, "TlsClientPort", w))


def _certificates(r: ExportReader, raw: Any) -> tuple[AdfsCertificateEntry, ...]:
    entries = []
    for index, item in enumerate(items(raw)):
        c, w = ci(item), f"Certificates[{index}]"
        kind = r.name(c, "CertificateType", w)
        if kind is None:
            r.problem(f"{w}: no CertificateType")
            continue
        cert = r.certificate(c.get("certificate"), w) if c.get("certificate") is not None else None
        thumbprint = r.name(c, "Thumbprint", w)
        entries.append(AdfsCertificateEntry(certificate_type=kind, is_primary=r.boolean(c, "IsPrimary", w),
                                            thumbprint=thumbprint.upper() if thumbprint else None, certificate=cert,
                                            store_location=r.name(c, "StoreLocation", w) or None,
                                            store_name=r.name(c, "StoreName", w) or None))
    return tuple(entries)


def _endpoints(r: ExportReader, raw: Any) -> tuple[AdfsEndpointEntry, ...]:
    entries = []
    for index, item in enumerate(items(raw)):
        e, w = ci(item), f"Endpoints[{index}]"
        path = r.name(e, "AddressPath", w)
        if not path:
            r.problem(f"{w}: no AddressPath")
            continue
        entries.append(AdfsEndpointEntry(address_path=path, enabled=r.boolean(e, "Enabled", w),
                                         proxy=r.boolean(e, "Proxy", w), protocol=r.name(e, "Protocol", w)))
    return tuple(entries)


def _trusts(r: ExportReader, raw: Any, kind: str, section: str, cert_keys: tuple[str, ...]) -> tuple[AdfsTrust, ...]:
    trusts = []
    for index, item in enumerate(items(raw)):
        t, w = ci(item), f"{section}[{index}]"
        name = r.name(t, "Name", w) or f"(unnamed {index})"
        certs: list[tuple[str, CertificateInfo]] = []
        for key in cert_keys:
            for c_index, value in enumerate(items(t.get(key.lower()))):
                info = r.certificate(value, f"{w}.{key}[{c_index}]")
                if info is not None:
                    certs.append((key, info))
        rules = None
        text = t.get("issuancetransformrules")
        if isinstance(text, str):
            rules = parse_claim_rules(text)
        elif text is not None:
            r.problem(f"{w}.IssuanceTransformRules is not text")
        trusts.append(AdfsTrust(kind=kind, name=name, identifiers=r.text_list(t, "Identifier", w) or (),
                                enabled=r.boolean(t, "Enabled", w),
                                signature_algorithm=r.name(t, "SignatureAlgorithm", w), certificates=tuple(certs),
                                issuance_rules=rules))
    return tuple(trusts)


def _farm(r: ExportReader, raw: Any, properties: AdfsProperties | None) -> AdfsFarm:
    f = ci(raw)
    nodes, details = [], []
    for index, node in enumerate(items(f.get("farmnodes"))):
        n = ci(node)
        fqdn = n.get("fqdn") if isinstance(node, dict) else node
        if isinstance(fqdn, str):
            nodes.append(fqdn)
            details.append(AdfsFarmNode(fqdn, r.integer(n, "BehaviorLevel", f"FarmInformation.FarmNodes[{index}]"),
                                        r.name(n, "NodeType", f"FarmInformation.FarmNodes[{index}]")))
    connection = (properties.artifact_db_connection or "") if properties else ""
    database = None
    if connection:
        database = "WID" if "##wid" in connection.lower() or "microsoft##" in connection.lower() else "SQL"
    return AdfsFarm(behavior_level=r.integer(f, "CurrentFarmBehavior", "FarmInformation"), nodes=tuple(nodes),
                    database=database, node_details=tuple(details))


def _providers(r: ExportReader, raw: Any, policy: Any) -> tuple[AuthenticationProvider, ...]:
    in_policy: set[str] | None = None
    if isinstance(policy, dict):
        p = ci(policy)
        in_policy = set()
        for key in ("AdditionalAuthenticationProvider", "PrimaryExtranetAuthenticationProvider",
                    "PrimaryIntranetAuthenticationProvider"):
            in_policy |= {v.lower() for v in (r.text_list(p, key, "GlobalAuthenticationPolicy") or ())}
    providers = []
    for index, item in enumerate(items(raw)):
        p, w = ci(item), f"AuthenticationProviders[{index}]"
        name = r.name(p, "Name", w)
        if name:
            providers.append(AuthenticationProvider(name, r.name(p, "DisplayName", w), r.boolean(p, "IsCustom", w),
                                                    name.lower() in in_policy if in_policy is not None else None))
    return tuple(providers)


def _load(path: Path, limits: Limits, deadline: float | None) -> tuple[dict | None, str | None, ProbeError | None]:
    """The export's top-level object, or (None, why not, and the local failure when this machine
    could not read the file at all). Hostile input is refused before it is
    interpreted, naming the cap and the setting that raises it: a file over
    ``limits.max_input_bytes``, a list over ``limits.max_export_items`` entries, deep nesting, huge
    numbers (:mod:`adfs_readiness.json_input`); reading stops at ``deadline`` (the probe's)."""
    try:
        raw = read_capped(path, limits.max_input_bytes, setting=INPUT_BYTES_SETTING)
        data = parse_untrusted_json(raw, max_items=limits.max_export_items, items_setting=EXPORT_ITEMS_SETTING,
                                    deadline=deadline)
    except FileTooLarge as exc:  # refused by its cap: a problem of the file, not of this machine
        return None, f"cannot read {path}: {exc.strerror or exc}", None
    except OSError as exc:
        why = f"cannot read {path}: {exc.strerror or exc}"
        return None, why, ProbeError(ProbeErrorKind.LOCAL, f"the AD FS export {path} cannot be read on this "
                                                          f"machine ({exc.strerror or exc})", str(path))
    except UntrustedJsonError as exc:
        return None, f"{path} was refused: {exc}", None
    if not isinstance(data, dict):
        return None, f"{path}: the export is not a JSON object", None
    return data, None, None


def _read_one(path: Path, limits: Limits, deadline: float | None) -> tuple[AdfsExport, AdfsServer]:
    """One file: the farm configuration it carries (if any) and its server."""
    data, error, local = _load(path, limits, deadline)
    if data is None:
        return (AdfsExport(configured=True, source=str(path), problems=(error or "",),
                           local_failures=(local,) if local else ()),
                AdfsServer(source=str(path), role=None, problems=(error or "",)))
    top, r = ci(data), ExportReader()
    role = role_of(top.get("role"))
    if top.get("role") is not None and role is None:
        r.problem(f"unknown Role {top.get('role')!r}")
    # A v1 export has no Role: it comes from an AD FS server.
    role = role or (ROLE_ADFS if any(top.get(s.lower()) is not None for s in _FARM_SECTIONS) else None)
    if role == ROLE_ADFS:
        for section in _FARM_SECTIONS:
            if top.get(section.lower()) is None:
                r.problem(f"the export has no {section} section")
    for key in data:
        if key.lower() not in _KNOWN:
            r.problem(f"unknown section {key!r} (ignored)")
    for noted in items(top.get("collectorproblems")):
        # What the collector itself could not read on the server (a cmdlet that failed, a store it could not open).
        r.problem(f"the collector could not read {noted}" if isinstance(noted, str) else "a collector problem")
    server = read_server_section(r, top, str(path), role)
    properties = _properties(r, top["properties"]) if top.get("properties") is not None else None
    export = AdfsExport(
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
        authentication_providers=_providers(r, top["authenticationproviders"], top.get("globalauthenticationpolicy"))
        if top.get("authenticationproviders") is not None else None,
        problems=bounded_problems(r.problems))
    return export, _with_problems(server, bounded_problems(r.problems))


def _with_problems(server: AdfsServer, problems: tuple[str, ...]) -> AdfsServer:
    return replace(server, problems=problems)


def _expand(paths: tuple[Path, ...]) -> tuple[list[Path], list[str]]:
    """The files to read: each file as given, each folder's ``*.json`` (sorted)."""
    files, problems = [], []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if p.is_file())
            if not found:
                problems.append(f"the folder {path} holds no *.json export")
            files.extend(found)
        else:
            files.append(path)
    if len(files) > MAX_EXPORT_FILES:
        problems.append(f"{len(files)} export files given; only the first {MAX_EXPORT_FILES} were read")
        files = files[:MAX_EXPORT_FILES]
    return files, problems


def _primary_first(item: tuple[AdfsExport, AdfsServer]) -> tuple[int, int]:
    export, server = item
    has_farm = export.properties is not None or export.relying_parties is not None
    return (0 if has_farm else 1, 0 if (server.sync_role or "").lower() == "primarycomputer" else 1)


def read_adfs_exports(paths: tuple[Path, ...], limits: Limits = Limits(), deadline: float | None = None) -> AdfsExport:
    """Read and combine the exports of ``paths`` (files or folders). Never raises: an unreadable
    or refused file (over ``limits``, past ``deadline``), a missing section or field, an unknown
    value are listed in ``problems`` (prefixed with the file name when there are several files)."""
    files, problems = _expand(paths)
    read = [_read_one(path, limits, deadline) for path in files]
    if not read:
        return AdfsExport(configured=True, source=", ".join(str(p) for p in paths), problems=tuple(problems),
                          sources=tuple(str(p) for p in paths))
    several = len(read) > 1
    for export, _ in read:
        problems.extend(f"{Path(export.source or '').name}: {p}" if several else p for p in export.problems)
    farm_export = sorted(read, key=_primary_first)[0][0]
    servers = tuple(server for _, server in read)
    if not any(s.role == ROLE_ADFS for s in servers) and any(s.role == ROLE_WAP for s in servers):
        problems.append("only Web Application Proxy exports were given: the farm configuration comes from an AD FS "
                        "server's export")
    from dataclasses import replace

    return replace(farm_export, servers=servers, sources=tuple(str(p) for p in files),
                   problems=bounded_problems(problems),
                   local_failures=tuple(failure for export, _ in read for failure in export.local_failures))


def read_adfs_export(path: Path, limits: Limits = Limits(), deadline: float | None = None) -> AdfsExport:
    """Read one export file (see :func:`read_adfs_exports`)."""
    return read_adfs_exports((path,), limits, deadline)


def probe_adfs_export(ctx: ProbeContext) -> AdfsExport:
    """Gather the ``adfs_export`` fact from ``config.adfs.export`` (``--adfs-export FILE|DIR``,
    repeatable); ``configured=False`` when none is given."""
    paths = ctx.config.adfs.export
    if not paths:
        return AdfsExport(configured=False)
    return read_adfs_exports(paths, ctx.config.limits, ctx.deadline)
