"""Checks of the Windows platform under AD FS and the Web Application Proxy, one finding per server,
from the collector v2 exports (``--adfs-export``, one file per server): Windows Server support
lifecycle, the farm behavior level, how recently updates were installed, and the SCHANNEL / .NET
strong-crypto settings. A server whose export lacks what a check needs gets an ``error`` finding
saying so; a v1 export (no Server section) makes the check ``error`` as a whole.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adfs_readiness.api import Area, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT
from adfs_readiness.facts.adfs_servers import ROLE_ADFS, AdfsServer

from ._adfs_common import (
    NO_EXPORT,
    REF_LIFECYCLE_POLICY,
    REF_TLS_ADFS,
    REF_TLS_DISABLEMENT,
    REF_TLS_ENTRA,
    REF_UPGRADE_FBL,
    export_of,
    need,
    servers_of,
)
from ._refs_entra import REF_SECURING_ADFS
from ._windows_lifecycle import RELEASE_INFO, release_of

__all__ = ["os_support", "farm_behavior_level", "update_age", "schannel", "judge_schannel"]

REF_TLS_REGISTRY = Reference(
    "Transport Layer Security (TLS) registry settings (Enabled, DisabledByDefault: enabled / disabled by default / "
    "disabled)", "https://learn.microsoft.com/en-us/windows-server/security/tls/tls-registry-settings")
REF_SCHANNEL_PROTOCOLS = Reference(
    "Protocols in TLS/SSL (Schannel SSP): the versions each Windows release enables by default",
    "https://learn.microsoft.com/en-us/windows/win32/secauthn/protocols-in-tls-ssl--schannel-ssp-")


def _os_evidence(server: AdfsServer) -> dict[str, Any]:
    os = server.os
    return {"server": server.label, "role": server.role, "caption": os.caption if os else None,
            "version": os.version if os else None, "build": os.build if os else None, "ubr": os.ubr if os else None}


@check(id="adfs.os-support", title="Windows Server still supported", area=Area.ADFS, severity=Severity.HIGH,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="Each AD FS server's and proxy's Windows Server version is within Microsoft's extended support: "
            "warn within thresholds.os_support_warn_days (180) of its end, fail after it.",
       remediation="Plan the move to a supported Windows Server: add servers of the new version to the farm (and new "
                   "proxies), move the load balancer to them, remove the old ones, then raise the farm behavior level "
                   "(Invoke-AdfsFarmBehaviorLevelRaise).",
       references=(REF_LIFECYCLE_POLICY, RELEASE_INFO, REF_UPGRADE_FBL))
def os_support(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per server: FAIL after the end of extended support, WARN within the threshold, PASS before;
    ERROR for a server whose version is not a known Windows Server release."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    warn_days = ctx.config.thresholds.os_support_warn_days
    outcomes = []
    for server in servers_of(export, need_section="its operating system"):
        evidence = _os_evidence(server)
        release = release_of(server.os.build if server.os else None, server.os.caption if server.os else None)
        if release is None:
            outcomes.append(Outcome(Status.ERROR, f"{server.label}: {evidence['caption'] or 'the operating system'} "
                                                  f"(build {evidence['build']}) is not a Windows Server release this "
                                                  f"check knows; look its support up by hand.",
                                    evidence=evidence, target=server.label))
            continue
        left = (release.extended_end - ctx.now.date()).days
        evidence.update(release=release.name, extended_support_ends=release.extended_end.isoformat(), days_left=left,
                        source=release.source.url)
        if left < 0:
            outcomes.append(Outcome(Status.FAIL, f"{server.label}: {release.name}'s extended support ended on "
                                                 f"{release.extended_end:%Y-%m-%d} ({-left} days ago): no more security "
                                                 f"updates.", evidence=evidence, target=server.label))
        elif left <= warn_days:
            outcomes.append(Outcome(Status.WARN, f"{server.label}: {release.name}'s extended support ends on "
                                                 f"{release.extended_end:%Y-%m-%d}, in {left} days.",
                                    evidence=evidence, target=server.label))
        else:
            outcomes.append(Outcome(Status.PASS, f"{server.label}: {release.name}, supported until "
                                                 f"{release.extended_end:%Y-%m-%d}.", evidence=evidence,
                                    target=server.label))
    return outcomes


@check(id="adfs.farm-behavior-level", title="Farm behavior level matches the servers", area=Area.ADFS,
       severity=Severity.LOW, blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="The farm behavior level (Get-AdfsFarmInformation CurrentFarmBehavior) equals the highest level the "
            "oldest node supports (Windows Server 2012 R2 = 1, 2016 = 3, 2019 and later = 4); nodes of different "
            "versions (a mixed farm) are reported.",
       remediation="Once every node runs the new Windows Server version and the AD schema is current, raise the level "
                   "with Invoke-AdfsFarmBehaviorLevelRaise (Test-AdfsFarmBehaviorLevelRaise first). Do not stay in a "
                   "mixed farm longer than the migration takes.",
       references=(REF_UPGRADE_FBL,))
def farm_behavior_level(ctx: CheckContext) -> Outcome:
    """FAIL when a node supports less than the farm's level (it cannot run at it); WARN when the
    farm is below what its oldest node supports (not raised after an upgrade) or mixed; PASS when
    level and nodes agree."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    farm = need(export.farm, "its farm information", export)
    current = need(farm.behavior_level, "the farm behavior level (CurrentFarmBehavior)", export)
    levels: dict[str, int] = {n.fqdn: n.behavior_level for n in farm.node_details if n.behavior_level is not None}
    releases: dict[str, str] = {}
    for server in export.servers:
        if server.role != ROLE_ADFS or server.os is None:
            continue
        release = release_of(server.os.build, server.os.caption)
        if release is not None:
            releases[server.label] = release.name
            if release.behavior_level is not None and server.label not in levels:
                levels[server.label] = release.behavior_level
    evidence = {"current_farm_behavior": current, "node_levels": levels, "node_releases": releases}
    if not levels:
        need(None, "the nodes' behavior levels (FarmNodes BehaviorLevel) or their Windows Server versions", export)
    lowest = min(levels.values())
    mixed = len(set(levels.values())) > 1 or len(set(releases.values())) > 1
    evidence["highest_supported_by_all_nodes"] = lowest
    if lowest < current:
        below = [n for n, level in levels.items() if level < current]
        return Outcome(Status.FAIL, f"The farm runs at behavior level {current} but {', '.join(below)} supports only "
                                    f"{lowest}: such a node cannot serve this farm.", evidence=evidence)
    if current < lowest:
        return Outcome(Status.WARN, f"The farm runs at behavior level {current} while every node supports {lowest}: "
                                    f"raise it to use the newer AD FS features.", evidence=evidence)
    if mixed:
        versions = ", ".join(f"{node} {releases.get(node) or f'level {levels.get(node)}'}"
                             for node in sorted(set(levels) | set(releases)))
        return Outcome(Status.WARN, f"Mixed farm: nodes of different versions ({versions}) at behavior level {current}; "
                                    f"finish the migration.", evidence=evidence)
    return Outcome(Status.PASS, f"Farm behavior level {current}, the highest every node supports.", evidence=evidence)


@check(id="adfs.update-age", title="Servers recently updated", area=Area.ADFS, severity=Severity.MEDIUM,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="On each AD FS server and proxy the newest installed update (Get-HotFix) is younger than "
            "thresholds.update_warn_days (60, warn) and thresholds.update_fail_days (180, fail).",
       remediation="Install the latest cumulative update on every AD FS server and Web Application Proxy (one node at "
                   "a time behind the load balancer); Microsoft's hardening guide asks to keep them current.",
       references=(REF_SECURING_ADFS,))
def update_age(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per server: FAIL / WARN / PASS by the age of the newest dated update, judged at the run's
    clock; ERROR when no update carries a usable date (an install date after the export was taken is
    a misread one and ignored)."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    thresholds = ctx.config.thresholds
    outcomes = []
    for server in servers_of(export, need_section="its installed updates"):
        # An install date after the export was taken is a misread one (Get-HotFix's InstalledOn is a
        # locale-dependent string): it must not make an unpatched server look current.
        latest_possible = (server.collected_at or ctx.now) + timedelta(days=1)
        dated = [u for u in server.updates or () if u.installed_on is not None and u.installed_on <= latest_possible]
        impossible = [u.hotfix_id for u in server.updates or ()
                      if u.installed_on is not None and u.installed_on > latest_possible]
        evidence: dict[str, Any] = {"server": server.label, "updates_listed": len(server.updates or ()),
                                    "collected_at": server.collected_at.isoformat() if server.collected_at else None,
                                    "ubr": server.os.ubr if server.os else None,
                                    "dates_after_collection_ignored": impossible}
        if not dated:
            outcomes.append(Outcome(Status.ERROR, f"{server.label}: no installed update with a date in the export "
                                                  f"(Get-HotFix lists none, or without InstalledOn).",
                                    evidence=evidence, target=server.label))
            continue
        newest = dated[0]
        age = (ctx.now - newest.installed_on).days  # type: ignore[operator]
        evidence.update(newest=newest.hotfix_id, installed_on=newest.installed_on.isoformat(),  # type: ignore[union-attr]
                        days_ago=age)
        if age > thresholds.update_fail_days:
            status = Status.FAIL
        elif age > thresholds.update_warn_days:
            status = Status.WARN
        else:
            status = Status.PASS
        outcomes.append(Outcome(status, f"{server.label}: newest update {newest.hotfix_id} installed {age} days ago.",
                                evidence=evidence, target=server.label))
    return outcomes


_ENABLED, _DISABLED_BY_DEFAULT, _DISABLED = "enabled", "disabled by default", "disabled"


def _protocol_state(setting: Any, default_enabled: bool, default_disabled_by_default: bool) -> tuple[str, str]:
    """(state, how we know) of one protocol side, per Microsoft's "TLS registry settings": Enabled=0
    is Disabled whatever DisabledByDefault says; a non-zero DisabledByDefault is "Disabled by
    default" (negotiated only for an application that asks for the version explicitly); otherwise
    Enabled. A value that is not set keeps the OS default."""
    enabled_value = setting.enabled if setting is not None else None
    dbd_value = setting.disabled_by_default if setting is not None else None
    enabled = default_enabled if enabled_value is None else enabled_value != 0
    disabled_by_default = default_disabled_by_default if dbd_value is None else dbd_value != 0
    how = ", ".join(part for part in (f"Enabled={enabled_value}" if enabled_value is not None else "",
                                      f"DisabledByDefault={dbd_value}" if dbd_value is not None else "") if part)
    how = how or "OS default"
    if enabled_value is None or dbd_value is None:
        how = how if how == "OS default" else f"{how}, otherwise the OS default"
    if not enabled:
        return _DISABLED, how
    return (_DISABLED_BY_DEFAULT if disabled_by_default else _ENABLED), how


def judge_schannel(server: AdfsServer) -> Outcome:
    """One server's SCHANNEL and .NET settings, per protocol and side in the three states of
    Microsoft's TLS registry settings (enabled, disabled by default, disabled). http.sys serves AD FS
    and WAP with the system default protocols, so on the server side only an *enabled* version is
    offered. FAIL when TLS 1.2 is not offered on the server side or is disabled on the client side;
    WARN when TLS 1.2 on the client side is only disabled by default (WinHTTP and .NET with
    SystemDefaultTlsVersions do not use it), TLS 1.0 or 1.1 is offered on the server side, or .NET
    strong crypto is not on in both registry views; PASS otherwise. OS defaults (no registry
    value): TLS 1.2 enabled from Windows Server 2012 on, disabled by default on 2008 / 2008 R2;
    TLS 1.0/1.1 enabled before Windows Server 2025."""
    release = release_of(server.os.build if server.os else None, server.os.caption if server.os else None)
    legacy_off = release.legacy_tls_off_by_default if release else False
    modern_dbd = release.modern_tls_disabled_by_default if release else False
    defaults = {"TLS 1.0": (True, legacy_off), "TLS 1.1": (True, legacy_off or modern_dbd), "TLS 1.2": (True, modern_dbd)}
    settings = {(s.protocol.upper().replace(" ", ""), s.side.lower()): s for s in server.schannel or ()}
    state: dict[str, dict[str, str]] = {}
    effective: dict[tuple[str, str], str] = {}
    for protocol, (default_enabled, default_dbd) in defaults.items():
        for side in ("client", "server"):
            current, how = _protocol_state(settings.get((protocol.upper().replace(" ", ""), side)), default_enabled,
                                           default_dbd)
            effective[(protocol, side)] = current
            state.setdefault(protocol, {})[side] = f"{current} ({how})"
    crypto = {c.key: {"SchUseStrongCrypto": c.sch_use_strong_crypto,
                      "SystemDefaultTlsVersions": c.system_default_tls_versions} for c in server.dotnet_crypto or ()}
    weak_crypto = [key for key, values in crypto.items() if values["SchUseStrongCrypto"] != 1]
    evidence = {"server": server.label, "protocols": state, "dotnet": crypto,
                "os_release": release.name if release else None,
                "os_default_legacy_tls": _DISABLED_BY_DEFAULT if legacy_off else _ENABLED,
                "os_default_tls12": _DISABLED_BY_DEFAULT if modern_dbd else _ENABLED}
    failures = []
    server_tls12 = effective[("TLS 1.2", "server")]
    if server_tls12 != _ENABLED:
        failures.append(f"TLS 1.2 is {server_tls12} on the server side, so http.sys does not offer it")
    if effective[("TLS 1.2", "client")] == _DISABLED:
        failures.append("TLS 1.2 is disabled on the client side")
    if failures:
        return Outcome(Status.FAIL, f"{server.label}: {'; '.join(failures)}: Microsoft 365 and Entra ID require TLS "
                                    f"1.2.", evidence=evidence, target=server.label)
    problems = []
    if effective[("TLS 1.2", "client")] == _DISABLED_BY_DEFAULT:
        problems.append("TLS 1.2 is only disabled by default on the client side (WinHTTP and .NET with "
                        "SystemDefaultTlsVersions do not use it)")
    legacy = [p for p in ("TLS 1.0", "TLS 1.1") if effective[(p, "server")] == _ENABLED]
    if legacy:
        problems.append(f"{' and '.join(legacy)} enabled on the server side")
    if not crypto:
        problems.append(".NET strong crypto not exported")
    elif weak_crypto:
        problems.append(f".NET SchUseStrongCrypto not 1 in {len(weak_crypto)} of {len(crypto)} registry views")
    if problems:
        return Outcome(Status.WARN, f"{server.label}: {'; '.join(problems)}.", evidence=evidence, target=server.label)
    return Outcome(Status.PASS, f"{server.label}: TLS 1.2 on, TLS 1.0/1.1 not offered, .NET strong crypto on.",
                   evidence=evidence, target=server.label)


@check(id="adfs.schannel", title="TLS protocol settings (SCHANNEL, .NET strong crypto)", area=Area.ADFS,
       severity=Severity.MEDIUM, blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="On every AD FS server and proxy TLS 1.2 is enabled (Enabled not 0 and DisabledByDefault 0, or the OS "
            "default) on the server side and not disabled on the client side (only disabled by default there: "
            "warn), TLS 1.0 and 1.1 are not enabled on the server side (warn), and .NET Framework strong crypto "
            "(SchUseStrongCrypto = 1) is on (warn). OS defaults: TLS 1.2 disabled by default on Windows Server "
            "2008/2008 R2, TLS 1.0/1.1 off from Windows Server 2025.",
       remediation="Under HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols set TLS 1.2 "
                   "Client and Server Enabled=1 / DisabledByDefault=0 and TLS 1.0 / 1.1 Server Enabled=0 / "
                   "DisabledByDefault=1; set SchUseStrongCrypto=1 and SystemDefaultTlsVersions=1 under "
                   "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 and its Wow6432Node twin; restart the server.",
       references=(REF_TLS_ADFS, REF_TLS_REGISTRY, REF_SCHANNEL_PROTOCOLS, REF_TLS_ENTRA, REF_TLS_DISABLEMENT))
def schannel(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per server: :func:`judge_schannel`; ERROR for a server whose export lacks the settings."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    outcomes = []
    for server in servers_of(export, need_section="its SCHANNEL settings"):
        if server.schannel is None:
            outcomes.append(Outcome(Status.ERROR, f"{server.label}: the export has no SCHANNEL settings.",
                                    evidence={"server": server.label, "problems": list(server.problems)},
                                    target=server.label))
            continue
        outcomes.append(judge_schannel(server))
    return outcomes
