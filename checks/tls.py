"""Checks of the TLS service (SSL) certificate and protocols, per federation service address, farm
node and proxy: every ``tls.*`` id of CHECKS.md.

They read the :class:`~adfs_readiness.facts.tls.TlsFacts` fact: each address asked with SNI = the
federation service name, the chain it sent, that chain verified by cryptography's X.509 verifier in
the external view (system trust store + certifi) and the internal view (plus the configured
enterprise CA bundle), and the protocol versions accepted. Per-address checks give one outcome per
address (target "<role> <address>"); per-certificate checks one per distinct server certificate
(target = its SHA-1 thumbprint, the evidence lists where it was seen).

Main source: AD FS requirements, "TLS/SSL certificates"
(https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/overview/ad-fs-requirements).
"""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts import ProbeErrorKind
from adfs_readiness.facts.tls import TLS_FACT, EndpointRole, TlsEndpoint, TlsFacts

from ._common import not_determined_text, not_the_targets
from ._tls import (
    REF_ADFS_REQUIREMENTS,
    REF_ALTERNATE_TLS_BINDING,
    REF_ENTRA_TLS12,
    REF_RFC5280,
    REF_RFC6125,
    REF_SET_ADFS_SSL,
    REF_SET_WAP_SSL,
    REF_X690,
    certificate_evidence,
    encoding_outcome,
    PROFILE_REMEDIATION,
    PROFILE_RULE,
    REF_RFC5280_AKI,
    REF_RFC5280_KEY_USAGE,
    profile_outcome,
    covers,
    expiry_outcome,
    failure_text,
    has_server_auth,
    key_problems,
    verification_evidence,
)

_MAIN_ROLES = (EndpointRole.SERVICE, EndpointRole.NODE, EndpointRole.PROXY)

_REPLACE_SSL = (
    "Install a certificate that meets the AD FS requirements on every federation server and proxy: on the "
    "primary AD FS server import it (with its private key and chain) into LocalMachine\\My and run "
    "Set-AdfsSslCertificate -Thumbprint <thumbprint> (Windows Server 2016 and later update every node; on 2012 R2 "
    "run it on each node), then on every Web Application Proxy run Set-WebApplicationProxySslCertificate "
    "-Thumbprint <thumbprint>."
)


_RENEGOTIATION_FIX = (
    "Enable RFC 5746 secure renegotiation (the renegotiation_info extension) on the device that terminates TLS "
    "for the federation service name — typically a load balancer or reverse proxy on old firmware; update it, or "
    "disable client-initiated renegotiation and enable 'secure renegotiation' in its SSL profile. Windows "
    "(SChannel) supports RFC 5746 since MS10-049, so an AD FS server or WAP answering directly does not show this.")

REF_RFC5746 = Reference("RFC 5746: TLS Renegotiation Indication Extension", "https://www.rfc-editor.org/rfc/rfc5746")
REF_ADFS_IWA = Reference("AD FS troubleshooting: Integrated Windows Authentication (channel binding token: reverse proxies "
                         "that bridge TLS)",
                         "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/troubleshooting/ad-fs-tshoot-iwa")


class _Offline(Exception):
    """No federation service name: the run judges files only."""


def _facts(ctx: CheckContext) -> TlsFacts:
    facts: TlsFacts = ctx.fact(TLS_FACT)
    if facts.service_name is None:
        raise _Offline
    return facts


_OFFLINE = Outcome(Status.SKIP, "No federation service name is configured (federation.service_name), so no TLS "
                                "server was probed.")


def _skip_offline(function):
    """SKIP instead of judging when the run has no federation service name."""
    import functools

    @functools.wraps(function)
    def wrapper(ctx: CheckContext):
        try:
            return function(ctx)
        except _Offline:
            return _OFFLINE
    return wrapper


def _where(endpoint: TlsEndpoint) -> str:
    return f"{endpoint.role.value} {endpoint.address}"


def _main(facts: TlsFacts) -> list[TlsEndpoint]:
    return facts.by_role(*_MAIN_ROLES)


def _distinct_leaves(facts: TlsFacts) -> list[tuple[Any, list[str]]]:
    """(leaf, [where seen]) per distinct server certificate (by SHA-1), in probe order."""
    seen: dict[str, tuple[Any, list[str]]] = {}
    for endpoint in facts.endpoints:
        if endpoint.leaf is not None:
            seen.setdefault(endpoint.leaf.sha1, (endpoint.leaf, []))[1].append(_where(endpoint))
    return list(seen.values())


def _no_certificate(endpoint: TlsEndpoint, what: str) -> Outcome:
    return Outcome(Status.ERROR, f"{_where(endpoint)}: no certificate to judge {what}: the TLS handshake failed "
                                 f"({endpoint.error}).", {"address": endpoint.address,
                                                         "error": str(endpoint.error)}, _where(endpoint))


@check(
    id="tls.reachable",
    title="TLS handshake with the federation service name",
    area=Area.TLS,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(TLS_FACT,),
    rule="A TLS handshake with SNI = the federation service name on port 443 succeeds, for the name itself and for "
         "each configured farm node and proxy address.",
    remediation="When the address cannot be reached, check DNS, firewalls and the load balancer for TCP 443. When "
                "the server answers but the handshake fails, the server's TLS configuration is at fault: an SNI "
                "binding missing for the federation service name (netsh http show sslcert; Get-AdfsSslCertificate), "
                "protocols disabled in SCHANNEL so that only TLS 1.0/1.1 remain, or a renegotiation/cipher problem "
                "named in the evidence. " + _REPLACE_SSL,
    references=(REF_ADFS_REQUIREMENTS, REF_SET_ADFS_SSL, REF_ENTRA_TLS12, REF_RFC5746),
)
@_skip_offline
def tls_reachable(ctx: CheckContext) -> list[Outcome]:
    """Per address (service, nodes, proxies): PASS when a default modern handshake succeeds; FAIL
    when the address cannot be reached (timeout, refused, name not resolved) or when it answers
    but the handshake fails (a server finding, with OpenSSL's reason, e.g. "unsafe legacy
    renegotiation disabled" or a legacy-only protocol). Only the service name's failure blocks."""
    outcomes = []
    for endpoint in _main(_facts(ctx)):
        where = _where(endpoint)
        blocker = endpoint.role is EndpointRole.SERVICE
        evidence: dict[str, Any] = {"address": endpoint.address, "server_name": endpoint.server_name,
                                    "connected_to": endpoint.connected_to}
        if endpoint.error is None and endpoint.chain is not None and endpoint.chain.legacy_renegotiation:
            # RFC 5746 missing (older load balancers): browsers and Windows connect, OpenSSL 3
            # clients refuse by default. The chain came from a retry that allows it.
            evidence.update(protocol=endpoint.chain.protocol, cipher=endpoint.chain.cipher,
                            classification="no_secure_renegotiation", chain_from_legacy_renegotiation=True)
            outcomes.append(Outcome(Status.WARN, f"{where}: the server does not support RFC 5746 secure "
                                                 f"renegotiation ({endpoint.chain.protocol}): browsers and Windows "
                                                 f"clients connect, but clients built on OpenSSL 3 (curl, Python, "
                                                 f"many Linux tools and appliances) refuse it with \"unsafe legacy "
                                                 f"renegotiation disabled\". The certificate was collected by a "
                                                 f"retry that allows legacy renegotiation.", evidence, where,
                                    remediation=_RENEGOTIATION_FIX))
            continue
        if endpoint.error is None and endpoint.chain is not None:
            evidence.update(protocol=endpoint.chain.protocol, cipher=endpoint.chain.cipher)
            outcomes.append(Outcome(Status.PASS, f"{where}: TLS handshake for {endpoint.server_name} succeeded "
                                                 f"({endpoint.chain.protocol}, {endpoint.chain.cipher}).",
                                    evidence, where))
            continue
        error = endpoint.error
        evidence.update(error_kind=error.kind.value if error else None, error=error.reason if error else None)
        if not_the_targets(error):
            outcomes.append(Outcome(Status.ERROR, f"{where}: {not_determined_text(error, 'the server')}.",
                                    evidence, where))
        elif error is not None and error.kind is ProbeErrorKind.TLS:
            legacy = (" Only a legacy handshake (TLS 1.0/1.1 with OpenSSL's security level lowered) "
                      "works." if endpoint.chain_from_legacy_handshake else "")
            evidence["chain_from_legacy_handshake"] = endpoint.chain_from_legacy_handshake
            outcomes.append(Outcome(Status.FAIL, f"{where}: the server accepts TCP connections but the TLS handshake "
                                                 f"fails ({error.reason}): a server configuration problem, not "
                                                 f"a network outage.{legacy}", evidence, where, blocker=blocker))
        else:
            outcomes.append(Outcome(Status.FAIL, f"{where}: cannot be reached ({error}).", evidence, where,
                                    blocker=blocker))
    return outcomes


@check(
    id="tls.certificate-name",
    title="TLS certificate names the federation service",
    area=Area.TLS,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(TLS_FACT,),
    rule="The certificate's subjectAltName DNS names (or its subject CN when it has no SAN) cover the federation "
         "service name under RFC 6125 wildcard rules (a wildcard only as the whole left-most label).",
    remediation="Enroll a certificate whose Subject Alternative Name contains the federation service name (e.g. "
                "sts.contoso.com, or a wildcard *.contoso.com) and bind it. Browsers ignore the subject CN when a "
                "SAN is present and many reject certificates without a SAN. " + _REPLACE_SSL,
    references=(REF_ADFS_REQUIREMENTS, REF_RFC6125, REF_SET_ADFS_SSL),
)
@_skip_offline
def tls_certificate_name(ctx: CheckContext) -> list[Outcome]:
    """Per address: PASS when a SAN DNS name covers the service name; WARN when only the subject
    CN does (no SAN at all); FAIL when nothing does; ERROR without a certificate."""
    outcomes = []
    for endpoint in _main(_facts(ctx)):
        where, leaf = _where(endpoint), endpoint.leaf
        if leaf is None:
            outcomes.append(_no_certificate(endpoint, "its names"))
            continue
        name = endpoint.server_name
        matched, how, entry = covers(leaf, name)
        evidence = {"address": endpoint.address, "service_name": name, "san_dns": list(leaf.san_dns),
                    "subject_cn": leaf.subject_cn, "matched_by": how, "matched_entry": entry,
                    "certificate": certificate_evidence(leaf, ctx.now)}
        if not leaf.decodable:
            outcomes.append(Outcome(Status.ERROR, f"{where}: the certificate {leaf.label} could not be decoded.",
                                    evidence, where))
        elif matched and how == "SAN":
            outcomes.append(Outcome(Status.PASS, f"{where}: the certificate {leaf.label} names {name} "
                                                 f"(SAN {entry}).", evidence, where))
        elif matched:
            outcomes.append(Outcome(Status.WARN, f"{where}: the certificate {leaf.label} names {name} only in its "
                                                 f"subject CN and has no SAN; current browsers require the name in "
                                                 f"the SAN.", evidence, where))
        else:
            names = ", ".join(leaf.san_dns) or f"CN {leaf.subject_cn}"
            outcomes.append(Outcome(Status.FAIL, f"{where}: the certificate {leaf.label} is for {names}, not for "
                                                 f"{name}: clients refuse the connection (name mismatch).",
                                    evidence, where))
    return outcomes


@check(
    id="tls.certificate-expiry",
    title="TLS certificate expiry",
    area=Area.TLS,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(TLS_FACT,),
    rule="Each TLS certificate presented is valid now (fail, blocking SSO, when expired or not yet valid), has at "
         "least tls_fail_days (14) days left (fail) and tls_warn_days (90) days left (warn).",
    remediation="Renew the certificate with the same names before it expires and bind the renewed certificate "
                "everywhere: " + _REPLACE_SSL + " Check afterwards that every node and proxy presents the new "
                "thumbprint (tls.node-consistency).",
    references=(REF_ADFS_REQUIREMENTS, REF_SET_ADFS_SSL, REF_SET_WAP_SSL),
)
@_skip_offline
def tls_certificate_expiry(ctx: CheckContext) -> list[Outcome]:
    """Per distinct server certificate: see ``_tls.expiry_outcome`` (FAIL blocking when expired
    or not yet valid). CannotDetermine when no address presented a certificate."""
    leaves = _distinct_leaves(_facts(ctx))
    if not leaves:
        raise CannotDetermine("No address presented a certificate (every TLS handshake failed; see tls.reachable).")
    thresholds = ctx.config.thresholds
    return [expiry_outcome(leaf, ctx.now, thresholds.tls_fail_days, thresholds.tls_warn_days,
                           what="TLS certificate", target=leaf.sha1, evidence={"seen_at": where},
                           block_when_expired=True)
            for leaf, where in leaves]


@check(
    id="tls.certificate-trust",
    title="TLS certificate chain is trusted",
    area=Area.TLS,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(TLS_FACT,),
    rule="The chain the server sends builds to a trusted root in the external view (system trust store + certifi): "
         "intermediates sent, Server Authentication EKU, not self-signed. Verified with cryptography's X.509 "
         "verifier. The internal view (plus tls.ca_bundle) is reported alongside.",
    remediation="Use a certificate from a public CA for the federation service (AD FS requirements: 'publicly "
                "trusted (for production deployments)'), with the Server Authentication EKU. When the intermediate "
                "is missing, import the issuing CA certificate into the Intermediate Certification Authorities store "
                "of every AD FS server and proxy (http.sys sends the chain it can build locally) and re-run "
                "Set-AdfsSslCertificate / Set-WebApplicationProxySslCertificate. A self-signed or enterprise-CA "
                "certificate is trusted only by clients you configured to trust it; external browsers and mobile "
                "apps refuse it.",
    references=(REF_ADFS_REQUIREMENTS, REF_SET_ADFS_SSL, REF_SET_WAP_SSL, REF_RFC5280),
)
@_skip_offline
def tls_certificate_trust(ctx: CheckContext) -> list[Outcome]:
    """Per address, on the chain-only verification (name and expiry are judged by their own
    checks): PASS when trusted in the external view; FAIL otherwise, naming the classified reason
    (self-signed, untrusted root, intermediate missing, wrong EKU, ...) and whether the internal
    view trusts it; ERROR without a certificate."""
    facts = _facts(ctx)
    outcomes = []
    for endpoint in _main(facts):
        where = _where(endpoint)
        external, internal = endpoint.view("external"), endpoint.view("internal")
        if endpoint.leaf is None or external is None or internal is None:
            outcomes.append(_no_certificate(endpoint, "its chain"))
            continue
        evidence = {"address": endpoint.address, "sent_chain": [c.subject for c in endpoint.chain.chain],
                    "sent_chain_sha1": [c.sha1 for c in endpoint.chain.chain],
                    "server_auth_eku": has_server_auth(endpoint.leaf),
                    "verification": verification_evidence(endpoint.verifications),
                    "trust_stores": [{"view": s.view, "sources": list(s.sources), "certificates": s.certificates}
                                     for s in facts.trust_stores]}
        if external.path.trusted:
            note = ""
            if not external.service.trusted:
                note = (f" (for {endpoint.server_name} at the run's time it does not verify: "
                        f"{failure_text(external.service.failure)}; see tls.certificate-name / tls.certificate-expiry)")
            outcomes.append(Outcome(Status.PASS, f"{where}: the chain of {endpoint.leaf.label} builds to a trusted root "
                                                 f"in the external view{note}.", evidence, where))
            continue
        reason = failure_text(external.path.failure)
        inside = (" Clients that trust the configured enterprise CA (tls.ca_bundle) do trust it; external clients "
                  "do not." if internal.path.trusted else "")
        evidence["failure"] = external.path.failure.value if external.path.failure else None
        outcomes.append(Outcome(Status.FAIL, f"{where}: the certificate {endpoint.leaf.label} is not trusted by "
                                             f"external clients: {reason}.{inside}", evidence, where))
    return outcomes


@check(
    id="tls.certificate-key",
    title="TLS certificate key and signature strength",
    area=Area.TLS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(TLS_FACT,),
    rule="The server certificate has an RSA key of at least min_rsa_bits (2048) bits or an EC key of at least 256 "
         "bits (fail below); neither it nor the intermediates sent are signed with MD5 or SHA-1 (warn).",
    remediation="Enroll a new certificate with an RSA 2048-bit (or larger) key signed with SHA-256, from a CA whose "
                "intermediates are SHA-256 too, and bind it everywhere. " + _REPLACE_SSL,
    references=(REF_ADFS_REQUIREMENTS, REF_SET_ADFS_SSL),
)
@_skip_offline
def tls_certificate_key(ctx: CheckContext) -> list[Outcome]:
    """Per distinct server certificate: FAIL for a weak key, WARN for an MD5/SHA-1 signature on
    it or on a sent intermediate (a sent self-signed root's own signature is not judged), ERROR
    when undecodable, PASS otherwise."""
    facts = _facts(ctx)
    leaves = _distinct_leaves(facts)
    if not leaves:
        raise CannotDetermine("No address presented a certificate (every TLS handshake failed; see tls.reachable).")
    minimum = ctx.config.thresholds.min_rsa_bits
    outcomes = []
    for leaf, where in leaves:
        evidence = {"certificate": certificate_evidence(leaf, ctx.now), "seen_at": where, "min_rsa_bits": minimum}
        if not leaf.decodable or leaf.public_key_type is None:
            outcomes.append(Outcome(Status.ERROR, f"The key of {leaf.label} could not be read "
                                                  f"({'; '.join(leaf.problems) or 'undecodable'}).", evidence, leaf.sha1))
            continue
        failures, warnings = key_problems(leaf, minimum)
        for endpoint in facts.endpoints:
            if endpoint.leaf is leaf or (endpoint.leaf is not None and endpoint.leaf.sha1 == leaf.sha1):
                for ca in endpoint.chain.chain[1:]:
                    if ca.self_signed is not True and (ca.signature_hash or "") in ("md5", "sha1"):
                        text = f"an intermediate ({ca.subject_cn}) signed with {ca.signature_hash.upper()}"
                        if text not in warnings:
                            warnings.append(text)
        what = f"{leaf.public_key_type} {leaf.public_key_bits}-bit key, {(leaf.signature_hash or '?').upper()} signature"
        if failures:
            outcomes.append(Outcome(Status.FAIL, f"The TLS certificate {leaf.label} has {' and '.join(failures)}.",
                                    evidence, leaf.sha1))
        elif warnings:
            outcomes.append(Outcome(Status.WARN, f"The TLS certificate {leaf.label} has {' and '.join(warnings)}.",
                                    evidence, leaf.sha1))
        else:
            outcomes.append(Outcome(Status.PASS, f"The TLS certificate {leaf.label}: {what}.", evidence, leaf.sha1))
    return outcomes


@check(
    id="tls.protocols",
    title="TLS protocol versions",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=True,
    requires=(TLS_FACT,),
    rule="TLS 1.2 is accepted (fail, blocking, if not); TLS 1.0 or 1.1 accepted is a warning; TLS 1.3 is reported. "
         "Each version is tried in its own handshake; TLS 1.0/1.1 are tried with OpenSSL's security level "
         "lowered to 0 for those probes only.",
    remediation="Enable TLS 1.2 (Windows Server 2012 R2 and later support it; on older .NET set "
                "SchUseStrongCrypto) and disable TLS 1.0/1.1 and SSL 3.0 in SCHANNEL on every AD FS server and proxy "
                "(HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols), then restart. "
                "Microsoft Entra ID and Microsoft 365 accept only TLS 1.2 and later.",
    references=(REF_ENTRA_TLS12, REF_ADFS_REQUIREMENTS),
)
@_skip_offline
def tls_protocols(ctx: CheckContext) -> list[Outcome]:
    """Per address: FAIL when TLS 1.2 is refused, WARN when TLS 1.0/1.1 is accepted, PASS
    otherwise (TLS 1.3 named); ERROR when the TLS 1.2 probe could not reach the server."""
    outcomes = []
    for endpoint in _main(_facts(ctx)):
        where = _where(endpoint)
        by_version = {p.version: p for p in endpoint.protocols}
        evidence = {"address": endpoint.address,
                    "protocols": {p.version: {"accepted": p.accepted, "detail": p.detail,
                                              "security_level_lowered": p.security_level_lowered}
                                  for p in endpoint.protocols}}
        tls12 = by_version.get("TLSv1.2")
        if tls12 is None or tls12.accepted is None:
            outcomes.append(Outcome(Status.ERROR, f"{where}: the protocol versions could not be determined "
                                                  f"({tls12.detail if tls12 else 'not probed'}).", evidence, where))
            continue
        accepted = [v for v, p in by_version.items() if p.accepted]
        legacy = [v for v in ("TLSv1", "TLSv1.1") if by_version.get(v) and by_version[v].accepted]
        listed = ", ".join(accepted) or "none"
        if not tls12.accepted:
            outcomes.append(Outcome(Status.FAIL, f"{where}: TLS 1.2 is not accepted ({tls12.detail}); accepted: "
                                                 f"{listed}. Microsoft 365 clients and Entra ID need TLS 1.2.",
                                    evidence, where, blocker=endpoint.role in (EndpointRole.SERVICE, EndpointRole.PROXY)))
        elif legacy:
            outcomes.append(Outcome(Status.WARN, f"{where}: accepts {', '.join(legacy)} besides TLS 1.2 "
                                                 f"(accepted: {listed}; legacy versions probed with OpenSSL's "
                                                 f"security level lowered).", evidence, where))
        else:
            outcomes.append(Outcome(Status.PASS, f"{where}: accepts {listed}; TLS 1.0 and 1.1 are refused.",
                                    evidence, where))
    return outcomes


def _service_leaf(facts: TlsFacts) -> tuple[TlsEndpoint, Any]:
    service = next(iter(facts.by_role(EndpointRole.SERVICE)), None)
    if service is None or service.leaf is None:
        raise CannotDetermine("The federation service name presented no certificate "
                              f"({service.error if service else 'not probed'}); see tls.reachable.")
    return service, service.leaf


@check(
    id="tls.san-certauth",
    title="Certificate authentication binding (certauth SAN or port 49443)",
    area=Area.TLS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(TLS_FACT,),
    rule="When certificate authentication is in scope (scope.certificate_authentication): certauth.<federation "
         "service name> is in the certificate's SAN (user certificate authentication on 443), or port 49443 "
         "answers with the same certificate.",
    remediation="Either add certauth.<federation service name> to the SAN of the SSL certificate and run "
                "Set-AdfsAlternateTlsClientBinding -Thumbprint <thumbprint> (certificate authentication on 443), or "
                "keep the default binding on port 49443 and open TCP 49443 from clients through the proxies; "
                "Set-AdfsSslCertificate binds the same certificate on both ports.",
    references=(REF_ALTERNATE_TLS_BINDING, REF_ADFS_REQUIREMENTS, REF_SET_ADFS_SSL),
)
@_skip_offline
def tls_san_certauth(ctx: CheckContext) -> Outcome:
    """SKIP when out of scope; PASS when certauth.<fs> is covered by the SAN or a certificate-auth
    port answers with the same certificate; FAIL otherwise."""
    facts = _facts(ctx)
    if not ctx.config.scope.certificate_authentication:
        return Outcome(Status.SKIP, "Certificate authentication is not in scope (scope.certificate_authentication "
                                    "= false).")
    service, leaf = _service_leaf(facts)
    wanted = f"certauth.{facts.service_name}"
    matched, how, entry = covers(leaf, wanted)
    ports = [{"address": e.address, "same_certificate": e.leaf is not None and e.leaf.sha1 == leaf.sha1,
              "presented": e.leaf.sha1 if e.leaf else None, "error": str(e.error) if e.error else None}
             for e in facts.by_role(EndpointRole.CERTAUTH)]
    evidence = {"wanted": wanted, "san_dns": list(leaf.san_dns), "matched_entry": entry,
                "certauth_port": facts.certauth_port, "ports": ports}
    if matched and how == "SAN":
        return Outcome(Status.PASS, f"The certificate {leaf.label} covers {wanted} (SAN {entry}): user certificate "
                                    f"authentication can use port 443.", evidence)
    same = [p["address"] for p in ports if p["same_certificate"]]
    if same:
        return Outcome(Status.PASS, f"{wanted} is not in the SAN, but {', '.join(same)} answers with the same "
                                    f"certificate {leaf.label} (certificate authentication on port "
                                    f"{facts.certauth_port}).", evidence)
    other = [p["address"] for p in ports if p["presented"]]
    why = (f"{', '.join(other)} answers with a different certificate" if other else
           f"port {facts.certauth_port} does not answer ({'; '.join(p['error'] or '' for p in ports) or 'not probed'})")
    return Outcome(Status.FAIL, f"Certificate authentication has no working binding: {wanted} is not in the SAN of "
                                f"{leaf.label}, and {why}.", evidence)


@check(
    id="tls.san-enterpriseregistration",
    title="enterpriseregistration names for device registration",
    area=Area.TLS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(TLS_FACT,),
    rule="When device registration is in scope (scope.device_registration): the certificate's SAN covers "
         "enterpriseregistration.<suffix> for every UPN suffix in use (for now: every federated domain).",
    remediation="Enroll a certificate whose SAN contains enterpriseregistration.<suffix> for every UPN suffix in "
                "use (AD FS requirements), then bind it on every AD FS server and proxy. " + _REPLACE_SSL,
    references=(REF_ADFS_REQUIREMENTS, REF_SET_ADFS_SSL),
)
@_skip_offline
def tls_san_enterpriseregistration(ctx: CheckContext) -> Outcome:
    """SKIP when out of scope; PASS when every federated domain has its enterpriseregistration
    name covered; FAIL listing the missing ones; ERROR without federated domains or certificate.
    The UPN suffixes are the configured federated domains until the directory area provides the
    suffixes in use (said in the evidence)."""
    facts = _facts(ctx)
    if not ctx.config.scope.device_registration:
        return Outcome(Status.SKIP, "Device registration is not in scope (scope.device_registration = false).")
    domains = ctx.config.federation.domains
    if not domains:
        raise CannotDetermine("Device registration is in scope but no federated domains (federation.domains) are "
                              "configured, so there are no UPN suffixes to check.")
    _, leaf = _service_leaf(facts)
    results = {d: covers(leaf, f"enterpriseregistration.{d}") for d in domains}
    missing = [f"enterpriseregistration.{d}" for d, (ok, how, _) in results.items() if not (ok and how == "SAN")]
    evidence = {"upn_suffixes": list(domains),
                "upn_suffix_source": "federation.domains (the configured federated domains); the UPN suffixes "
                                     "actually in use in Active Directory are not read yet",
                "san_dns": list(leaf.san_dns), "missing": missing,
                "matched": {f"enterpriseregistration.{d}": entry for d, (_, _, entry) in results.items() if entry}}
    if missing:
        return Outcome(Status.FAIL, f"The certificate {leaf.label} lacks {', '.join(missing)} in its SAN: device "
                                    f"registration for those UPN suffixes fails.", evidence, leaf.sha1)
    return Outcome(Status.PASS, f"The certificate {leaf.label} covers enterpriseregistration.<suffix> for every "
                                f"federated domain ({', '.join(domains)}).", evidence, leaf.sha1)


@check(
    id="tls.node-consistency",
    title="Same certificate on every node and proxy",
    area=Area.TLS,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(TLS_FACT,),
    rule="Every farm node and proxy presents the same certificate (Microsoft recommends it); a proxy with another "
         "key than the farm does not meet AD FS's proxy requirement (the same certificate, same key, when "
         "ExtendedProtectionTokenCheck is on, AD FS's default, or when Windows Integrated Authentication goes through "
         "the proxy): warn, since only Windows Integrated Authentication through that proxy is affected.",
    remediation="Bind the same certificate everywhere: Set-AdfsSslCertificate -Thumbprint <thumbprint> on the farm and "
                "Set-WebApplicationProxySslCertificate -Thumbprint <the farm's thumbprint> on every proxy (import the "
                "farm's certificate with its private key first). The Web Application Proxy ends the client's TLS "
                "connection itself; with another key, Windows authentication bound to that connection (Extended "
                "Protection's channel binding) does not match what the farm sees, and users get a password prompt "
                "instead of single sign-on.",
    references=(REF_ADFS_REQUIREMENTS, REF_ADFS_IWA, REF_SET_ADFS_SSL, REF_SET_WAP_SSL),
)
@_skip_offline
def tls_node_consistency(ctx: CheckContext) -> Outcome:
    """SKIP without configured nodes/proxies; WARN when a proxy's key differs from the farm's
    (Microsoft Learn, AD FS requirements: the proxy's certificate "must be the same (use the same
    key)" when ExtendedProtectionTokenCheck is enabled, the default, or when the proxy carries
    Windows Integrated Authentication; AD FS IWA troubleshooting: a reverse proxy that bridges TLS
    makes the channel binding token differ, "the Kerberos authentication fails and the user is
    prompted" — forms-based and certificate sign-in through the proxy, the extranet default, do not
    depend on it); WARN when certificates differ but keys do not, or farm nodes differ among
    themselves; ERROR when an address presented no certificate; PASS when all present the same
    certificate."""
    facts = _facts(ctx)
    nodes, proxies = facts.by_role(EndpointRole.NODE), facts.by_role(EndpointRole.PROXY)
    if not nodes and not proxies:
        return Outcome(Status.SKIP, "No farm nodes or proxies are configured (federation.farm_nodes / "
                                    "federation.proxies), so there is nothing to compare.")
    compared = _main(facts)
    table = [{"where": _where(e), "sha1": e.leaf.sha1 if e.leaf else None,
              "public_key_sha256": e.leaf_public_key_sha256, "error": str(e.error) if e.leaf is None else None}
             for e in compared]
    evidence: dict[str, Any] = {"presented": table}
    missing = [row["where"] for row in table if row["sha1"] is None]
    farm = [e for e in (nodes or facts.by_role(EndpointRole.SERVICE)) if e.leaf is not None]
    farm_keys = {e.leaf_public_key_sha256 for e in farm}
    odd_proxies = [_where(p) for p in proxies if p.leaf is not None and p.leaf_public_key_sha256 not in farm_keys]
    thumbprints = {row["sha1"] for row in table if row["sha1"]}
    if farm and odd_proxies:
        return Outcome(Status.WARN, f"{', '.join(odd_proxies)} present a certificate with another key than the farm's. "
                                    f"AD FS's requirements ask for the same certificate (same key) on the proxies when "
                                    f"ExtendedProtectionTokenCheck is on (AD FS's default) or when Windows Integrated "
                                    f"Authentication goes through them: the proxy ends the client's TLS connection, so "
                                    f"Windows authentication bound to it (Extended Protection) does not match at the "
                                    f"farm and users get a password prompt instead of single sign-on. Forms-based and "
                                    f"certificate sign-in through the proxies (the extranet default) are not affected.",
                       evidence)
    if missing:
        raise CannotDetermine(f"Not every address could be compared: {', '.join(missing)} presented no certificate.",
                              evidence)
    if len(thumbprints) == 1:
        return Outcome(Status.PASS, f"All {len(table)} addresses present the same certificate "
                                    f"(SHA-1 {thumbprints.pop()}).", evidence)
    keys = {row["public_key_sha256"] for row in table}
    what = "the same key in different certificates" if len(keys) == 1 else "different certificates and keys on farm nodes"
    return Outcome(Status.WARN, f"The addresses present {len(thumbprints)} different certificates ({what}); AD FS "
                                f"recommends one certificate for every node and proxy.", evidence)


@check(
    id="tls.revocation-info",
    title="TLS certificate names revocation locations",
    area=Area.TLS,
    severity=Severity.LOW,
    blocker=False,
    requires=(TLS_FACT,),
    rule="The server certificate names a CRL distribution point or an OCSP responder (RFC 5280 4.2.1.13, 4.2.2.1).",
    remediation="Use a certificate from a CA that publishes CRL/OCSP locations in its certificates (every public "
                "CA does; an enterprise CA needs CDP/AIA extensions configured and reachable by clients).",
    references=(REF_RFC5280, REF_ADFS_REQUIREMENTS),
)
@_skip_offline
def tls_revocation_info(ctx: CheckContext) -> list[Outcome]:
    """Per distinct server certificate: PASS with CRL or OCSP URLs, WARN without, ERROR when the
    extensions could not be read; SKIP (not applicable) for a self-signed certificate: revocation
    is published by the CA that issued a certificate (RFC 5280 3.3, 5), and a self-signed one has
    none; whether clients trust it at all is tls.certificate-trust's finding."""
    leaves = _distinct_leaves(_facts(ctx))
    if not leaves:
        raise CannotDetermine("No address presented a certificate (every TLS handshake failed; see tls.reachable).")
    outcomes = []
    for leaf, where in leaves:
        evidence = {"crl_urls": list(leaf.crl_urls), "ocsp_urls": list(leaf.ocsp_urls), "seen_at": where,
                    "certificate": certificate_evidence(leaf, ctx.now)}
        unread = {"*", "crl_distribution_points", "authority_information_access"} & set(leaf.unreadable_extensions)
        if leaf.self_signed and not (leaf.crl_urls or leaf.ocsp_urls):
            outcomes.append(Outcome(Status.SKIP, f"Not applicable: {leaf.label} is self-signed, so no CA publishes "
                                                 f"revocation for it and none is expected (see tls.certificate-trust "
                                                 f"for whether clients trust it).", evidence, leaf.sha1))
        elif not leaf.decodable or (unread and not (leaf.crl_urls or leaf.ocsp_urls)):
            outcomes.append(Outcome(Status.ERROR, f"The revocation extensions of {leaf.label} could not be read "
                                                  f"({', '.join(sorted(unread)) or 'undecodable'}).", evidence,
                                    leaf.sha1))
        elif leaf.crl_urls or leaf.ocsp_urls:
            outcomes.append(Outcome(Status.PASS, f"The TLS certificate {leaf.label} names "
                                                 f"{len(leaf.crl_urls)} CRL and {len(leaf.ocsp_urls)} OCSP location(s).",
                                    evidence, leaf.sha1))
        else:
            outcomes.append(Outcome(Status.WARN, f"The TLS certificate {leaf.label} names no CRL or OCSP location: "
                                                 f"clients cannot check whether it was revoked.", evidence, leaf.sha1))
    return outcomes


@check(
    id="tls.certificate-encoding",
    title="TLS certificates are valid DER",
    area=Area.TLS,
    severity=Severity.LOW,
    blocker=False,
    requires=(TLS_FACT,),
    rule="Every certificate a server sends is DER as RFC 5280 requires: no explicitly encoded DEFAULT value (such as "
         "basicConstraints cA FALSE), no negative serial number. OpenSSL and Windows accept such certificates and "
         "the other tls checks judge them as those clients do; strict DER parsers refuse them (warn).",
    remediation="Reissue the certificate from a CA whose software writes DER (current public CAs and AD CS do); ask "
                "the CA to re-key the affected intermediate when the problem is in a CA certificate.",
    references=(REF_RFC5280, REF_X690),
)
@_skip_offline
def tls_certificate_encoding(ctx: CheckContext) -> list[Outcome]:
    """Per distinct server certificate (its chain as sent): WARN when a certificate of the chain
    is not valid DER (naming the strict clients that refuse it), PASS otherwise."""
    facts = _facts(ctx)
    outcomes = []
    seen: set[str] = set()
    for endpoint in facts.endpoints:
        if endpoint.chain is None or not endpoint.chain.chain or endpoint.leaf is None or endpoint.leaf.sha1 in seen:
            continue
        seen.add(endpoint.leaf.sha1)
        outcomes.append(encoding_outcome(list(endpoint.chain.chain), what=f"chain sent by {_where(endpoint)}",
                                         target=endpoint.leaf.sha1, evidence={"seen_at": _where(endpoint)}))
    if not outcomes:
        raise CannotDetermine("No address presented a certificate (every TLS handshake failed; see tls.reachable).")
    return outcomes


@check(
    id="tls.certificate-profile",
    title="TLS certificate chain carries the RFC 5280 extensions",
    area=Area.TLS,
    severity=Severity.LOW,
    blocker=False,
    requires=(TLS_FACT,),
    rule=PROFILE_RULE.format(what="The verified path"),
    remediation=PROFILE_REMEDIATION,
    references=(REF_RFC5280_AKI, REF_RFC5280_KEY_USAGE),
)
@_skip_offline
def tls_certificate_profile(ctx: CheckContext) -> list[Outcome]:
    """Per distinct server certificate (its chain as sent and the path verified in each view):
    WARN naming each certificate of the path that lacks authorityKeyIdentifier or (a CA's)
    keyUsage and the strict clients that refuse it; PASS when the path has both; SKIP when no view
    trusts the chain (tls.certificate-trust says why)."""
    facts = _facts(ctx)
    outcomes = []
    seen: set[str] = set()
    for endpoint in facts.endpoints:
        if endpoint.leaf is None or not endpoint.verifications or endpoint.leaf.sha1 in seen:
            continue
        seen.add(endpoint.leaf.sha1)
        outcomes.append(profile_outcome(endpoint.verifications, what=f"chain sent by {_where(endpoint)}",
                                        target=endpoint.leaf.sha1, evidence={"seen_at": _where(endpoint)}))
    if not outcomes:
        raise CannotDetermine("No address presented a certificate (every TLS handshake failed; see tls.reachable).")
    return outcomes
