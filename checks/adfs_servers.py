"""Checks of what only the AD FS servers and Web Application Proxies know about themselves, from the
collector v2 exports (one file per server): http.sys SSL bindings, the configured certificates in
the machine store and their private keys' access rules, the AD FS / WAP services, the proxy trust,
and the computer name against the federation service name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adfs_readiness.api import Area, CheckContext, Outcome, Severity, Status, check, days_left
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT, AdfsExport
from adfs_readiness.facts.adfs_servers import ROLE_ADFS, ROLE_WAP, AdfsServer, KeyAccessEntry, StoredCertificate

from ._adfs_common import (
    NO_EXPORT,
    REF_ADFS_REQUIREMENTS,
    REF_ADFS_TOOLBOX,
    REF_CONNECT_HEALTH_ALERTS,
    REF_MANAGE_SSL,
    REF_NETSH_HTTP,
    REF_WAP_INSTALL,
    export_of,
    servers_of,
)
from ._refs_entra import REF_TS_TD_CERTS

__all__ = ["ssl_bindings", "certificate_store", "service", "proxy_trust", "computer_name", "key_access"]

_CTL_STORE = "AdfsTrustedDevices"
# The any-address IP bindings http.sys falls back to when no hostname (SNI) binding matches.
_WILDCARD_ADDRESSES = ("0.0.0.0", "::")
# FileSystemRights that include reading the file's data (FILE_READ_DATA = 0x1, GENERIC_READ and
# GENERIC_ALL), by name or as the number a raw ConvertTo-Json writes:
# https://learn.microsoft.com/dotnet/api/system.security.accesscontrol.filesystemrights
_READ_NAMES = ("fullcontrol", "read", "readdata", "readandexecute", "modify", "genericall", "genericread")
_READ_BITS = 0x1 | 0x80000000 | 0x10000000
# Principals every service account belongs to (the file system grants them to it too).
_EVERYONE = ("everyone", "nt authority\\authenticated users", "builtin\\users")
_SYSTEM = ("nt authority\\system", "localsystem", ".\\localsystem", "system")


def _fs_name(export: AdfsExport, ctx: CheckContext) -> str | None:
    props = export.properties
    name = (props.hostname if props else None) or ctx.config.federation.service_name
    return name.lower() if name else None


def _grants_read(rights: str) -> bool:
    text = rights.strip()
    if text.lstrip("-").isdigit():
        return bool(int(text) & _READ_BITS)
    return any(part.strip().lower() in _READ_NAMES for part in text.split(","))


def key_access(entries: tuple[KeyAccessEntry, ...], account: str | None, service_sid: str | None) -> tuple[str, str]:
    """Whether ``account`` (``DOMAIN\\name``, ``name$`` or LocalSystem) can read a private key with
    these access rules: ("readable" | "denied" | "not-granted" | "unknown", why). A Deny rule for the
    account or for Everyone / Authenticated Users / Users wins (Windows evaluates Deny entries
    first); a Deny for another group makes it "unknown"; an Allow for the account, its service SID
    (``NT SERVICE\\adfssrv``), SYSTEM for LocalSystem, or Everyone / Authenticated Users / Users
    grants; a rule for any other group is "unknown" (its membership is not in the export)."""
    if not account:
        return "unknown", "the service account is not in the export"
    names = {account.lower()}
    if account.lower() in _SYSTEM:
        names |= set(_SYSTEM)
    if service_sid:
        names.add(service_sid.lower())

    def is_account(identity: str) -> bool:
        identity = identity.lower()
        if identity in names:
            return True
        # An account given without its domain matches any domain's account of that name.
        return "\\" not in account and identity.split("\\")[-1] == account.lower()

    reading = [e for e in entries if _grants_read(e.rights)]
    # Windows evaluates Deny entries first: a Deny for the account, or for a group every account
    # belongs to, wins over any Allow; a Deny for another group may or may not apply.
    denied = [e for e in reading if e.access.lower() == "deny"
              and (is_account(e.identity) or e.identity.lower() in _EVERYONE)]
    if denied:
        return "denied", f"a Deny rule for {denied[0].identity} ({denied[0].rights})"
    group_denies = [e.identity for e in reading if e.access.lower() == "deny" and e.identity.lower() not in _SYSTEM
                    and e.identity.lower() != "builtin\\administrators"]
    if group_denies:
        return "unknown", (f"a Deny rule for {', '.join(group_denies)} applies if the account is a member; the "
                           f"membership is not in the export")
    allowed = [e for e in reading if e.access.lower() == "allow"]
    direct = [e for e in allowed if is_account(e.identity) or e.identity.lower() in _EVERYONE]
    if direct:
        return "readable", f"allowed to {direct[0].identity} ({direct[0].rights})"
    groups = [e.identity for e in allowed if e.identity.lower() not in _SYSTEM
              and e.identity.lower() != "builtin\\administrators"]
    if groups:
        return "unknown", f"only groups may grant it ({', '.join(groups)}); their members are not in the export"
    return "not-granted", "no access rule grants it read access"


@check(id="adfs.ssl-bindings", title="SSL bindings on each server", area=Area.ADFS, severity=Severity.HIGH,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="On each AD FS server and proxy, http.sys (netsh http show sslcert) has the SSL binding for the federation "
            "service name on port 443 with the certificate AD FS / WAP is configured with (Get-AdfsSslCertificate / "
            "Get-WebApplicationProxySslCertificate), and on the certificate-authentication port (49443) when "
            "scope.certificate_authentication is set; on AD FS servers the 443 binding carries the AdfsTrustedDevices "
            "CTL store (warn).",
       remediation="On the server: Set-AdfsSslCertificate -Thumbprint <thumbprint> (AD FS) or "
                   "Set-WebApplicationProxySslCertificate -Thumbprint <thumbprint> (WAP), which rewrites every binding; "
                   "then restart the service (adfssrv / appproxysvc).",
       references=(REF_MANAGE_SSL, REF_NETSH_HTTP, REF_ADFS_TOOLBOX, REF_CONNECT_HEALTH_ALERTS))
def ssl_bindings(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per server: FAIL when the 443 (or, in scope, certificate-authentication) binding is missing
    or binds another certificate than configured; WARN when the name has no binding of its own but
    the port's IP fallback binding (0.0.0.0 / [::]) serves the configured certificate (http.sys
    then serves it from there), or for a missing CTL store; ERROR when the netsh output or the
    configured certificate is not in the export; PASS otherwise."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    fs = _fs_name(export, ctx)
    certauth = ctx.config.scope.certificate_authentication
    tls_port = (export.properties.tls_client_port if export.properties else None) or ctx.config.tls.certauth_port
    outcomes = []
    for server in servers_of(export, need_section="its SSL bindings"):
        bindings = server.ssl_bindings or ()
        netsh = {(b.host or "").lower() + f":{b.port}": b for b in bindings if b.source == "netsh"}
        configured = {(b.host or "").lower() + f":{b.port}": b for b in bindings if b.source in ("adfs", "wap")}
        evidence: dict[str, Any] = {"server": server.label, "role": server.role, "federation_service_name": fs,
                                    "http_sys": {k: {"hash": b.certificate_hash, "ctl_store": b.ctl_store}
                                                 for k, b in netsh.items()},
                                    "configured": {k: b.certificate_hash for k, b in configured.items()}}
        if not server.netsh_read or fs is None:
            outcomes.append(Outcome(Status.ERROR, f"{server.label}: the export lacks "
                                                  f"{'the netsh output' if fs else 'the federation service name'}.",
                                    evidence=evidence, target=server.label))
            continue
        expected = configured.get(f"{fs}:443")
        thumbprint = expected.certificate_hash if expected else None
        if thumbprint is None and server.role == ROLE_ADFS:
            thumbprint = next((c.thumbprint for c in export.certificates or ()
                               if c.certificate_type.lower() == "service-communications" and c.thumbprint), None)
        if thumbprint is None:
            outcomes.append(Outcome(Status.ERROR, f"{server.label}: the export does not say which SSL certificate "
                                                  f"{'AD FS' if server.role == ROLE_ADFS else 'WAP'} is configured with.",
                                    evidence=evidence, target=server.label))
            continue
        wanted = [(f"{fs}:443", "the federation service name on 443")]
        if certauth:
            alternate = f"certauth.{fs}:443"
            wanted.append((alternate if alternate in netsh else f"{fs}:{tls_port}",
                           f"certificate authentication (port {tls_port} or certauth.{fs})"))
        failures, warnings = [], []
        fallbacks = {b.port: b for b in bindings if b.source == "netsh" and b.kind == "ip"
                     and (b.host or "") in _WILDCARD_ADDRESSES}
        for key, what in wanted:
            binding = netsh.get(key)
            if binding is None:
                # http.sys serves a name without its own (SNI) binding from the IP binding of the
                # port: the fallback admins add for clients without SNI keeps sign-in working.
                fallback = fallbacks.get(int(key.rsplit(":", 1)[1]))
                if fallback is not None and fallback.certificate_hash == thumbprint:
                    warnings.append(f"no http.sys binding for {key} ({what}): it is served by the IP fallback "
                                    f"binding {fallback.address} with the configured certificate; "
                                    f"Set-AdfsSslCertificate recreates the name's own binding")
                elif fallback is not None:
                    failures.append(f"no http.sys binding for {key} ({what}), and the IP fallback binding "
                                    f"{fallback.address} serves certificate {fallback.certificate_hash}, not the "
                                    f"configured {thumbprint}")
                else:
                    failures.append(f"no http.sys binding for {key} ({what})")
            elif binding.certificate_hash != thumbprint:
                failures.append(f"{key} binds certificate {binding.certificate_hash}, not the configured {thumbprint}")
        main = netsh.get(f"{fs}:443")
        if server.role == ROLE_ADFS and main is not None and (main.ctl_store or "").lower() != _CTL_STORE.lower():
            warnings.append(f"{fs}:443 has no {_CTL_STORE} CTL store (device authentication)")
        evidence["configured_thumbprint"] = thumbprint
        if failures:
            outcomes.append(Outcome(Status.FAIL, f"{server.label}: {'; '.join(failures)}.", evidence=evidence,
                                    target=server.label))
        elif warnings:
            outcomes.append(Outcome(Status.WARN, f"{server.label}: {'; '.join(warnings)}.", evidence=evidence,
                                    target=server.label))
        else:
            outcomes.append(Outcome(Status.PASS, f"{server.label}: http.sys binds the configured certificate for "
                                                 f"{' and '.join(k for k, _ in wanted)}.", evidence=evidence,
                                    target=server.label))
    return outcomes


def _certificate_problem(server: AdfsServer, cert: StoredCertificate) -> tuple[Status, str] | None:
    if cert.in_store is False:
        return Status.FAIL, "not in LocalMachine\\My"
    if cert.in_store is None:
        return Status.ERROR, "not looked up in the store"
    if cert.has_private_key is False:
        return Status.FAIL, "in LocalMachine\\My without its private key"
    if cert.key_access is None:
        return Status.ERROR, f"its private key's access rules were not read ({cert.key_access_error or 'no reason given'})"
    service_name = "adfssrv" if server.role == ROLE_ADFS else "appproxysvc"
    service = server.service(service_name)
    account = service.account if service else None
    verdict, why = key_access(cert.key_access, account, f"NT SERVICE\\{service_name}")
    if verdict == "readable":
        return None
    if verdict == "unknown":
        return Status.WARN, f"whether {account or 'the service account'} can read its private key is unknown: {why}"
    return Status.FAIL, f"{account or 'the service account'} cannot read its private key: {why}"


@check(id="adfs.certificate-store", title="Configured certificates present with readable private keys", area=Area.ADFS,
       severity=Severity.HIGH, blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="Every certificate AD FS or WAP is configured with (SSL, token-signing and token-decrypting unless AD FS "
            "generated them, the Azure MFA adapter's, the proxy-trust certificate) is in LocalMachine\\My on each "
            "server, with its private key, readable by the service account (the AD FS service account; SYSTEM for "
            "WAP). A failure for the primary token-signing certificate blocks SSO.",
       remediation="Import the certificate with its private key (PFX) into LocalMachine\\My on the server, then grant the "
                   "AD FS service account Read on the private key (certlm.msc > the certificate > All Tasks > Manage "
                   "Private Keys) and restart adfssrv.",
       references=(REF_CONNECT_HEALTH_ALERTS, REF_TS_TD_CERTS, REF_MANAGE_SSL))
def certificate_store(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per server and certificate: FAIL when missing from the store, without a private key, or
    not readable by the service account (blocking for the primary token-signing certificate); WARN
    when readability depends on a group's membership; ERROR when not looked up; one PASS per server
    whose certificates are all fine. Certificates AD FS generated (automatic rollover) are skipped."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    outcomes = []
    for server in servers_of(export, need_section="its certificate store"):
        checked = []
        for cert in server.certificates or ():
            if cert.managed_by_adfs:
                continue
            checked.append(f"{cert.role} {cert.thumbprint}")
            problem = _certificate_problem(server, cert)
            if problem is None:
                continue
            status, why = problem
            primary_signing = cert.role == "token-signing" and cert.is_primary is not False
            evidence = {"server": server.label, "role": cert.role, "thumbprint": cert.thumbprint,
                        "is_primary": cert.is_primary, "in_store": cert.in_store, "has_private_key": cert.has_private_key,
                        "key_provider": cert.key_provider, "key_file": cert.key_file,
                        "key_access": [{"identity": e.identity, "rights": e.rights, "access": e.access}
                                       for e in cert.key_access or ()]}
            outcomes.append(Outcome(status, f"{server.label}: the {cert.role} certificate {cert.thumbprint}: {why}.",
                                    evidence=evidence, target=f"{server.label}/{cert.role}/{cert.thumbprint}",
                                    blocker=True if status is Status.FAIL and primary_signing else None))
        if server.certificates is None:
            outcomes.append(Outcome(Status.ERROR, f"{server.label}: the export does not list its certificates.",
                                    evidence={"server": server.label}, target=server.label))
        elif not any(o.target and o.target.startswith(f"{server.label}/") for o in outcomes):
            outcomes.append(Outcome(Status.PASS, f"{server.label}: {len(checked)} certificate(s) in LocalMachine\\My with "
                                                 f"private keys the service account can read.",
                                    evidence={"server": server.label, "checked": checked}, target=server.label))
    return outcomes


@check(id="adfs.service", title="AD FS / WAP service running", area=Area.ADFS, severity=Severity.HIGH, blocker=False,
       requires=(ADFS_EXPORT_FACT,),
       rule="adfssrv (AD FS) on every AD FS server and appproxysvc (Web Application Proxy) on every proxy is running "
            "and set to start automatically.",
       remediation="Start-Service adfssrv (or appproxysvc) and Set-Service -StartupType Automatic; when it does not "
                   "start, read the AD FS/Admin event log on the server.",
       references=(REF_CONNECT_HEALTH_ALERTS, REF_ADFS_TOOLBOX))
def service(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per server: FAIL when the service is missing or not running; WARN when it runs but does not
    start automatically; PASS otherwise."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    outcomes = []
    for server in servers_of(export, need_section="its services"):
        name = "adfssrv" if server.role == ROLE_ADFS else "appproxysvc" if server.role == ROLE_WAP else None
        state = server.service(name) if name else None
        evidence = {"server": server.label, "role": server.role, "service": name,
                    "state": state.state if state else None, "start_mode": state.start_mode if state else None,
                    "account": state.account if state else None}
        if name is None or (state is None and not server.services):
            outcomes.append(Outcome(Status.ERROR, f"{server.label}: the export does not say its role or lists no services.",
                                    evidence=evidence, target=server.label))
        elif state is None or state.present is False:
            outcomes.append(Outcome(Status.FAIL, f"{server.label}: the {name} service is not installed.",
                                    evidence=evidence, target=server.label))
        elif (state.state or "").lower() != "running":
            outcomes.append(Outcome(Status.FAIL, f"{server.label}: {name} is {state.state or 'in an unknown state'}.",
                                    evidence=evidence, target=server.label))
        elif not (state.start_mode or "").lower().startswith("auto"):
            outcomes.append(Outcome(Status.WARN, f"{server.label}: {name} runs but starts {state.start_mode or '?'}: it "
                                                 f"will not come back after a restart.", evidence=evidence,
                                    target=server.label))
        else:
            outcomes.append(Outcome(Status.PASS, f"{server.label}: {name} running, starts automatically.",
                                    evidence=evidence, target=server.label))
    return outcomes


@check(id="adfs.proxy-trust", title="Proxy trust between WAP and the farm", area=Area.ADFS, severity=Severity.HIGH,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="Each Web Application Proxy holds a proxy-trust certificate that was valid for more than "
            "thresholds.proxy_trust_warn_days (3) when the export was taken, every AD FS server export lists it in "
            "AdfsTrustedDevices, and the proxy could reach the farm.",
       remediation="On the proxy: Install-WebApplicationProxy -FederationServiceName <name> -CertificateThumbprint "
                   "<SSL thumbprint> (re-establishes the trust; WAP renews the two-week proxy-trust certificate itself "
                   "only while it reaches the farm), then restart appproxysvc.",
       references=(REF_CONNECT_HEALTH_ALERTS, REF_WAP_INSTALL, REF_ADFS_TOOLBOX))
def proxy_trust(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per proxy: FAIL when the proxy-trust certificate is missing or expired, not trusted by an AD FS
    server, or the farm was unreachable; WARN when it was about to expire, the export is older than
    the certificate's two-week life, or an AD FS server's export predates the certificate (it could
    not list it yet); PASS otherwise. SKIP without a proxy export."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    proxies = [s for s in export.servers if s.role == ROLE_WAP and s.described]
    if not proxies:
        return Outcome(Status.SKIP, "No Web Application Proxy export is given (run the collector on each proxy too).")
    adfs_servers = [s for s in export.servers if s.role == ROLE_ADFS and s.trusted_devices is not None]
    warn_days = ctx.config.thresholds.proxy_trust_warn_days
    outcomes = []
    for proxy in proxies:
        trust = [(c.certificate.not_after, c) for c in proxy.certificates or ()
                 if c.role == "proxy-trust" and c.certificate is not None and c.certificate.not_after is not None]
        newest = max(trust, key=lambda pair: pair[0])[1] if trust else None
        at = proxy.collected_at or ctx.now
        evidence: dict[str, Any] = {"proxy": proxy.label, "collected_at": at.isoformat(),
                                    "farm_reachable": proxy.wap.farm_reachable if proxy.wap else None,
                                    "farm_detail": proxy.wap.farm_detail if proxy.wap else None}
        failures, warnings = [], []
        if newest is None:
            failures.append("no proxy-trust certificate (CN=ADFS ProxyTrust - ...) in its store")
        else:
            assert newest.certificate is not None and newest.certificate.not_after is not None
            left = days_left(newest.certificate.not_after, at)
            evidence.update(thumbprint=newest.thumbprint, not_after=newest.certificate.not_after.isoformat(),
                            days_left_when_collected=left)
            if newest.certificate.not_after <= at:
                failures.append(f"its proxy-trust certificate had expired ({-left} days) when the export was taken: "
                                f"the farm no longer trusts it")
            elif left < warn_days:
                warnings.append(f"its proxy-trust certificate had {left} days left when the export was taken "
                                f"(renewal is failing)")
            missing = [s for s in adfs_servers if newest.thumbprint not in (s.trusted_devices or ())]
            issued = newest.certificate.not_before
            # WAP renews its proxy-trust certificate every few days; an AD FS export taken before the
            # current one was issued cannot list it, which says nothing about the trust.
            earlier = [s for s in missing if issued is not None and s.collected_at is not None and s.collected_at < issued]
            untrusted = [s.label for s in missing if s not in earlier]
            evidence["adfs_servers_checked"] = [s.label for s in adfs_servers]
            if untrusted:
                failures.append(f"AD FS server(s) {', '.join(untrusted)} do not list it in AdfsTrustedDevices")
            if earlier:
                warnings.append(f"the export of {', '.join(s.label for s in earlier)} was taken before this "
                                f"proxy-trust certificate was issued ({issued:%Y-%m-%d %H:%M} UTC), so whether that "
                                f"server trusts it is not known: collect the AD FS and proxy exports together")
        if proxy.wap is not None and proxy.wap.farm_reachable is False:
            failures.append(f"it could not reach the farm ({proxy.wap.farm_detail or 'no detail'})")
        if ctx.now - at > timedelta(days=14) and not failures:
            warnings.append(f"the export is {(ctx.now - at).days} days old, older than the proxy-trust certificate's "
                            f"two-week life: collect it again to judge the trust as it is now")
        if failures:
            outcomes.append(Outcome(Status.FAIL, f"{proxy.label}: {'; '.join(failures)}.", evidence=evidence,
                                    target=proxy.label))
        elif warnings:
            outcomes.append(Outcome(Status.WARN, f"{proxy.label}: {'; '.join(warnings)}.", evidence=evidence,
                                    target=proxy.label))
        else:
            outcomes.append(Outcome(Status.PASS, f"{proxy.label}: proxy trust valid ({evidence.get('days_left_when_collected')} "
                                                 f"days left when collected) and the farm reachable.",
                                    evidence=evidence, target=proxy.label))
    return outcomes


@check(id="adfs.computer-name", title="Computer name differs from the federation service name", area=Area.ADFS,
       severity=Severity.HIGH, blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="No AD FS server's DNS name equals the federation service name (the HOST SPN of the computer would then "
            "take the name the AD FS service account needs for Kerberos).",
       remediation="Choose a federation service name that is not the name of a server (e.g. sts.contoso.com); changing "
                   "it means re-creating the farm or Set-AdfsProperties -HostName plus new certificates and the Entra "
                   "trust (Update-MgDomainFederationConfiguration).",
       references=(REF_ADFS_TOOLBOX, REF_ADFS_REQUIREMENTS))
def computer_name(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Per AD FS server: FAIL when its DNS host name (computer name + domain) equals the federation
    service name (adfsToolbox TestComputerNameEqFarmName); PASS otherwise; ERROR when the export
    names neither."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    fs = _fs_name(export, ctx)
    outcomes = []
    for server in servers_of(export, ROLE_ADFS, need_section="its computer name"):
        fqdn = server.dns_host_name if server.dns_host_name and "." in server.dns_host_name else (
            f"{server.computer_name}.{server.domain}" if server.computer_name and server.domain else None)
        evidence = {"server": server.label, "computer_name": server.computer_name, "dns_host_name": fqdn,
                    "federation_service_name": fs}
        if fqdn is None or fs is None:
            outcomes.append(Outcome(Status.ERROR, f"{server.label}: the export does not give "
                                                  f"{'its DNS name' if fqdn is None else 'the federation service name'}.",
                                    evidence=evidence, target=server.label))
        elif fqdn.lower().rstrip(".") == fs:
            outcomes.append(Outcome(Status.FAIL, f"{server.label}: the server's name is the federation service name "
                                                 f"{fs}.", evidence=evidence, target=server.label))
        else:
            outcomes.append(Outcome(Status.PASS, f"{server.label}: named {fqdn}, not {fs}.", evidence=evidence,
                                    target=server.label))
    return outcomes
