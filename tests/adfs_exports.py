"""Test helpers for the AD FS server checks: write a farm's exports (an AD FS server and, optionally,
a Web Application Proxy, in the shapes Windows PowerShell 5.1 and PowerShell 7 write) and run the
adfs.* checks on them through the real probe and engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.lab.adfs_samples import ServerSwitches, adfs_export_document, wap_export_document, write_adfs_export
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.model import Finding
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.settings import AdfsSettings, ChecksSettings, Settings

FS = "sts.contoso.test"
REGISTRY = discover_checks(strict=True)
OTHER_AREAS = ("dns.*", "tls.*", "metadata.*", "token-signing.*", "token-decrypting.*", "endpoints.*", "cloud.*",
               "directory.*")


def write_farm(pki: LabPki, folder: Path, *, adfs: ServerSwitches | None = ServerSwitches(),
               wap: ServerSwitches | None = None, shape: str = "ps51", wap_shape: str = "ps7",
               trust_proxy: bool = True, ts_days: float = 200, **document: Any) -> list[Path]:
    """Write ``adfs1.json`` (and ``wap1.json`` when ``wap`` is given) into ``folder``; the AD FS
    server lists the proxy's proxy-trust certificate in AdfsTrustedDevices unless ``trust_proxy`` is
    False. ``document`` goes to :func:`adfs_export_document`."""
    folder.mkdir(parents=True, exist_ok=True)
    token_signing = pki.token_certificate("signing", FS, pki.now - timedelta(days=365 - ts_days),
                                          pki.now + timedelta(days=ts_days))
    ssl = pki.issue_tls([FS, f"certauth.{FS}"])
    paths = []
    if wap is not None:
        wap_document, proxy_trust = wap_export_document(pki, FS, server=wap, ssl_certificate=ssl)
        if adfs is not None and trust_proxy:
            adfs = replace(adfs, trusted_devices=(proxy_trust.sha1,))
        paths.append(write_adfs_export(folder / "wap1.json", wap_document, shape=wap_shape))
    paths.insert(0, write_adfs_export(folder / "adfs1.json", adfs_export_document(
        pki, FS, token_signing, server=adfs, ssl_certificate=ssl, **document), shape=shape))
    return paths


def wap_switches(**changes: Any) -> ServerSwitches:
    """A healthy proxy's switches, with ``changes``."""
    base = dict(computer_name="WAP1", dns_host_name="wap1.dmz.contoso.test")
    base.update(changes)
    return ServerSwitches(**base)


def judge(paths: list[Path] | tuple[Path, ...], now, **sections: Any) -> dict[str, list[Finding]]:
    """Findings of the adfs.* checks by id, for a run over ``paths`` with ``sections`` changed
    (as ``Settings.with_changes``: ``adfs={"source_anchor": ...}``, ``scope=Scope(...)``)."""
    config = Settings(adfs=AdfsSettings(export=tuple(paths)), checks=ChecksSettings(skip=OTHER_AREAS))
    result = run_checks(REGISTRY, builtin_probes(), config.with_changes(**sections), now)
    found: dict[str, list[Finding]] = {}
    for finding in result.findings:
        if finding.check_id.startswith("adfs."):
            found.setdefault(finding.check_id, []).append(finding)
    return found


def statuses(found: dict[str, list[Finding]], check_id: str) -> list[str]:
    """The statuses of one check's findings, in order."""
    return [f.status.value for f in found[check_id]]
