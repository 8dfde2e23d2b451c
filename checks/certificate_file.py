"""Checks of a new SSL certificate read from a file before it is deployed
(``adfs-readiness check --certificate FILE``): ``certificate-file.*``.

They judge the :class:`~adfs_readiness.facts.tls.CertificateFile` fact by the same rules as the
live ``tls.*`` checks (AD FS requirements, "TLS/SSL certificates":
https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/overview/ad-fs-requirements). Without
``--certificate`` every one of them is ``skip``.

They are blockers: a certificate-file run asks whether this certificate can be deployed, and it
runs in a scope of its own (:mod:`adfs_readiness.engine.scope`) where nothing else is judged, so a
certificate that would stop sign-in once bound (unreadable, self-signed or untrusted for external
clients, the wrong name, expired or about to expire, a weak key, no Server Authentication EKU)
makes the run NOT_READY. A file protected by a password that was not given is not determined
(``error``: the run is INCOMPLETE and says how to give the password), not a broken certificate; a
password that was given and does not open the file is the admin's input too, but as issue 11 asks,
a certificate that cannot be opened cannot be deployed: NOT_READY. A chain that does not verify
says whether the file lacks a CA certificate (export again with the chain) or the complete chain
ends at a root external clients do not trust (another CA is needed, not another export).
"""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Severity, Status, check
from adfs_readiness.facts import CertificateInfo
from adfs_readiness.facts.tls import CERTIFICATE_FILE_FACT, CertificateFile, TrustFailure

from ._tls import (
    REF_ADFS_REQUIREMENTS,
    REF_ALTERNATE_TLS_BINDING,
    REF_RFC5280,
    REF_RFC6125,
    REF_SET_ADFS_SSL,
    certificate_evidence,
    covers,
    encoding_outcome,
    expiry_outcome,
    failure_text,
    has_server_auth,
    key_problems,
    verification_evidence,
)

_NO_FILE = "No certificate file was given (check --certificate FILE)."
#: How to give the password a protected file needs (the CLI flag, the setting, or a prompt).
_GIVE_PASSWORD = ("Give the file's password: name an environment variable holding it with "
                  "--certificate-password-env VAR (or [certificate] password_env in the configuration), or run "
                  "the check interactively to be asked for it; then run the check again.")


def _leaf(ctx: CheckContext) -> tuple[CertificateFile, CertificateInfo] | Outcome:
    """The fact and its leaf, or a SKIP outcome without a file; raises CannotDetermine when the
    file holds no readable certificate (certificate-file.readable fails then, naming why)."""
    fact: CertificateFile = ctx.fact(CERTIFICATE_FILE_FACT)
    if fact.path is None:
        return Outcome(Status.SKIP, _NO_FILE)
    if fact.password_missing and fact.error:
        raise CannotDetermine(f"The certificate file {fact.path} is protected by a password and none was given, "
                              f"so its certificate was not read; see certificate-file.readable.",
                              {"path": fact.path, "format": fact.file_format, "password_given": False,
                               "to_determine": "Give the file's password (certificate-file.readable says how) and "
                                               "run the check again."})
    if fact.error or fact.leaf is None or not fact.leaf.decodable:
        raise CannotDetermine(f"The certificate file {fact.path} holds no readable certificate "
                              f"({_unreadable_reason(fact)}); see certificate-file.readable.",
                              {"path": fact.path, "format": fact.file_format})
    return fact, fact.leaf


def _unreadable_reason(fact: CertificateFile) -> str:
    if fact.error:
        return fact.error
    if fact.leaf is None:
        return "no certificate in the file"
    return "; ".join(fact.leaf.problems) or "the certificate could not be decoded"


@check(
    id="certificate-file.readable",
    title="Certificate file: readable certificate",
    area=Area.TLS,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(CERTIFICATE_FILE_FACT,),
    rule="The file opens (the PFX password is right) and holds a decodable X.509 certificate (PEM, DER or "
         "PFX/PKCS#12); a certificate that is not valid DER (explicit DEFAULT values, a negative serial) is a "
         "warning: OpenSSL and Windows accept it, strict DER parsers do not.",
    remediation="Export the certificate again from the machine that holds it: Export-PfxCertificate -Cert "
                "Cert:\\LocalMachine\\My\\<thumbprint> -FilePath ssl.pfx -Password (Read-Host -AsSecureString) "
                "-ChainOption BuildChain, and give the password with --certificate-password-env VAR. A file that "
                "is not a certificate (a CSR, a private key alone, a truncated copy) cannot be bound by AD FS.",
    references=(REF_ADFS_REQUIREMENTS, REF_SET_ADFS_SSL),
)
def certificate_file_readable(ctx: CheckContext) -> Outcome:
    """SKIP without a file; ERROR (not determined) when the file is protected by a password and
    none was given (missing input, not a broken certificate: the run is INCOMPLETE and says how to
    give it); FAIL (blocking) when the file cannot be read or opened with the password given
    (wrong password: issue 11 counts a certificate that cannot be opened as one that cannot be
    deployed) or holds no decodable certificate; PASS naming the format and the certificate."""
    fact: CertificateFile = ctx.fact(CERTIFICATE_FILE_FACT)
    if fact.path is None:
        return Outcome(Status.SKIP, _NO_FILE)
    evidence: dict[str, Any] = {"path": fact.path, "format": fact.file_format, "error": fact.error,
                                "problems": list(fact.problems),
                                "certificates": len(fact.certificates)}
    if fact.password_missing and fact.error:
        evidence.update(password_given=False, to_determine=_GIVE_PASSWORD)
        return Outcome(Status.ERROR, f"The {fact.file_format or 'certificate'} file {fact.path} is protected by a "
                                     f"password and none was given, so what it holds was not read.",
                       evidence, remediation=_GIVE_PASSWORD)
    if fact.error or fact.leaf is None or not fact.leaf.decodable:
        return Outcome(Status.FAIL, f"The file {fact.path} cannot be used as a certificate: "
                                    f"{_unreadable_reason(fact)}.", evidence)
    leaf = fact.leaf
    evidence["certificate"] = certificate_evidence(leaf, ctx.now)
    if any(c.encoding_problems for c in fact.certificates):
        return encoding_outcome(list(fact.certificates), what=f"file {fact.path}", target=leaf.sha1,
                                evidence=evidence)
    notes = f" ({'; '.join(fact.problems)})" if fact.problems else ""
    return Outcome(Status.PASS, f"The {fact.file_format} file {fact.path} holds {len(fact.certificates)} "
                                f"certificate(s); the server certificate is {leaf.label}{notes}.",
                   evidence, leaf.sha1)


def _base(fact: CertificateFile, leaf: CertificateInfo, ctx: CheckContext) -> dict[str, Any]:
    return {"path": fact.path, "format": fact.file_format, "certificate": certificate_evidence(leaf, ctx.now)}


@check(
    id="certificate-file.names",
    title="Certificate file: names",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=True,
    requires=(CERTIFICATE_FILE_FACT,),
    rule="The certificate's SAN covers the federation service name (fail), and, when in scope, "
         "certauth.<federation service name> and enterpriseregistration.<suffix> for every federated domain (warn).",
    remediation="Request the certificate again with every required name in the Subject Alternative Name: the "
                "federation service name, certauth.<name> for certificate authentication on 443, and "
                "enterpriseregistration.<suffix> for each UPN suffix when device registration is used.",
    references=(REF_ADFS_REQUIREMENTS, REF_RFC6125, REF_ALTERNATE_TLS_BINDING),
)
def certificate_file_names(ctx: CheckContext) -> Outcome:
    """SKIP without a file, and (listing the names) without a federation service name to judge
    them against; FAIL when the service name is not covered, or only by the subject CN without
    a subjectAltName (browsers refuse such a certificate); WARN when an in-scope certauth /
    enterpriseregistration name is missing; PASS otherwise."""
    got = _leaf(ctx)
    if isinstance(got, Outcome):
        return got
    fact, leaf = got
    config = ctx.config
    names = list(leaf.san_dns) or ([f"CN {leaf.subject_cn}"] if leaf.subject_cn else [])
    if not config.federation.service_name:
        # --domain names the UPN suffixes, not the host the certificate must name: saying it
        # would have judged the names sent admins who gave it looking for the missing flag.
        domains = (f" (--domain {', '.join(config.federation.domains)} gives the federated domains, not the "
                   f"host the certificate must name)" if config.federation.domains else "")
        return Outcome(Status.SKIP, f"The certificate {leaf.label} names {', '.join(names) or 'nothing'}"
                                    f"{'' if leaf.san_dns else ' (no subjectAltName)'}; no federation service name "
                                    f"was given (--service-name){domains}, so the names were not judged.",
                       {**_base(fact, leaf, ctx), "san_dns": list(leaf.san_dns), "subject_cn": leaf.subject_cn},
                       leaf.sha1)
    wanted = {config.federation.service_name: "fail"}
    if config.scope.certificate_authentication:
        wanted[f"certauth.{config.federation.service_name}"] = "warn"
    if config.scope.device_registration:
        wanted.update({f"enterpriseregistration.{d}": "warn" for d in config.federation.domains})
    matches = {name: covers(leaf, name) for name in wanted}
    missing = [n for n, (ok, _, _) in matches.items() if not ok]
    evidence = {**_base(fact, leaf, ctx), "san_dns": list(leaf.san_dns), "subject_cn": leaf.subject_cn,
                "required": list(wanted), "missing": missing,
                "upn_suffix_source": "federation.domains (configured federated domains)"}
    if config.federation.service_name in missing:
        return Outcome(Status.FAIL, f"The certificate {leaf.label} in {fact.path} is for "
                                    f"{', '.join(names) or 'no DNS name'}, not for the federation service "
                                    f"{config.federation.service_name}: clients refuse it (name mismatch).", evidence, leaf.sha1)
    if not leaf.san_dns:
        return Outcome(Status.FAIL, f"The certificate {leaf.label} has no subjectAltName: it names "
                                    f"{config.federation.service_name} only in its subject CN, which browsers no longer accept "
                                    f"(RFC 6125; Chrome, Edge, Firefox and Safari require the name in the SAN).",
                       evidence, leaf.sha1)
    if missing:
        return Outcome(Status.WARN, f"The certificate {leaf.label} lacks {', '.join(missing)}.", evidence, leaf.sha1)
    return Outcome(Status.PASS, f"The certificate {leaf.label} names {', '.join(wanted)}.", evidence, leaf.sha1)


@check(
    id="certificate-file.key",
    title="Certificate file: key",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=True,
    requires=(CERTIFICATE_FILE_FACT,),
    rule="RSA at least min_rsa_bits (2048) / EC at least 256 bits (fail); a private key in the file belongs to the "
         "certificate (fail); MD5/SHA-1 signature (warn); no private key in the file is reported (info).",
    remediation="Export the certificate together with its own private key (a PFX from the machine that made the "
                "request); request a new RSA 2048-bit or larger, SHA-256 certificate when the key is weak.",
    references=(REF_ADFS_REQUIREMENTS, REF_SET_ADFS_SSL),
)
def certificate_file_key(ctx: CheckContext) -> Outcome:
    """SKIP without a file; FAIL for a weak key or a private key of another certificate; WARN for
    a weak signature; INFO when the file holds no private key; PASS otherwise."""
    got = _leaf(ctx)
    if isinstance(got, Outcome):
        return got
    fact, leaf = got
    minimum = ctx.config.thresholds.min_rsa_bits
    evidence = {**_base(fact, leaf, ctx), "private_key_present": fact.private_key_present,
                "private_key_matches": fact.private_key_matches, "private_key": (
                    f"{fact.private_key_type} {fact.private_key_bits}" if fact.private_key_type else None),
                "min_rsa_bits": minimum}
    if leaf.public_key_type is None:
        raise CannotDetermine(f"The key of {leaf.label} could not be read ({'; '.join(leaf.problems)}).", evidence)
    if fact.password_missing and not fact.private_key_present:
        raise CannotDetermine(f"The private key in {fact.path} is encrypted and no password was given, so whether it "
                              f"belongs to {leaf.label} was not determined.",
                              {**evidence, "to_determine": _GIVE_PASSWORD})
    failures, warnings = key_problems(leaf, minimum)
    if fact.private_key_present and fact.private_key_matches is False:
        failures.append("a private key in the file that belongs to another certificate")
    if failures:
        return Outcome(Status.FAIL, f"The certificate {leaf.label} has {' and '.join(failures)}.", evidence, leaf.sha1)
    if warnings:
        return Outcome(Status.WARN, f"The certificate {leaf.label} has {' and '.join(warnings)}.", evidence, leaf.sha1)
    key = f"{leaf.public_key_type} {leaf.public_key_bits}-bit"
    if not fact.private_key_present:
        return Outcome(Status.INFO, f"The certificate {leaf.label} has a {key} key; the file holds no private key, "
                                    f"so AD FS cannot use it until it is joined with its key.", evidence, leaf.sha1)
    return Outcome(Status.PASS, f"The certificate {leaf.label} has a {key} key and the file's private key "
                                f"belongs to it.", evidence, leaf.sha1)


@check(
    id="certificate-file.chain",
    title="Certificate file: chain completeness and trust",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=True,
    requires=(CERTIFICATE_FILE_FACT,),
    rule="With the other certificates of the file as intermediates, the certificate verifies to a trusted root in "
         "the external view (system store + certifi) with cryptography's X.509 verifier; a missing intermediate, "
         "an untrusted root or a self-signed certificate fail.",
    remediation="Export the PFX with 'Include all certificates in the certification path' (Export-PfxCertificate "
                "-ChainOption BuildChain), or import the issuing CA certificate on every server; use a publicly "
                "trusted CA for production.",
    references=(REF_ADFS_REQUIREMENTS, REF_RFC5280),
)
def certificate_file_chain(ctx: CheckContext) -> Outcome:
    """SKIP without a file; PASS when the external view trusts the path; FAIL with the classified
    reason otherwise (saying when the internal view trusts it)."""
    got = _leaf(ctx)
    if isinstance(got, Outcome):
        return got
    fact, leaf = got
    external, internal = fact.view("external"), fact.view("internal")
    if external is None or internal is None:
        raise CannotDetermine(f"The certificate {leaf.label} was not verified (it could not be decoded).")
    evidence = {**_base(fact, leaf, ctx), "file_chain": [c.subject for c in fact.certificates],
                "verification": verification_evidence(fact.verifications)}
    if external.path.trusted:
        return Outcome(Status.PASS, f"The certificate {leaf.label} and the {len(fact.certificates) - 1} other "
                                    f"certificate(s) in the file build to a trusted root in the external view.",
                       evidence, leaf.sha1)
    inside = " The configured enterprise CA (tls.ca_bundle) trusts it." if internal.path.trusted else ""
    evidence["failure"] = external.path.failure.value if external.path.failure else None
    cause, remedy = _chain_cause(fact, external.path.failure, internal.path.trusted)
    if cause:
        evidence["cause"] = cause
    # A file is not a server: its missing intermediates are the file's, in the admin's words.
    reason = (_FILE_INTERMEDIATE_MISSING if external.path.failure is TrustFailure.INTERMEDIATE_MISSING
              else failure_text(external.path.failure))
    return Outcome(Status.FAIL, f"The certificate {leaf.label} does not verify for external clients: "
                                f"{reason}.{inside}", evidence, leaf.sha1, remediation=remedy)


def _chain_cause(fact: CertificateFile, failure: TrustFailure | None,
                 trusted_inside: bool) -> tuple[str | None, str | None]:
    """(cause, remediation) of a chain that does not verify externally, when the cause decides the
    fix; (None, None) keeps the check's general remediation.

    "incomplete_chain": the file lacks a CA certificate of the path, so exporting with the chain
    fixes it. "untrusted_root": the path is complete (the file carries the self-signed root, or
    the enterprise CA bundle closes it) but its root is not one external clients trust: another
    export cannot help, a publicly trusted CA can (AD FS requirements, "TLS/SSL certificates")."""
    last = fact.certificates[-1] if fact.certificates else None
    if failure is TrustFailure.INTERMEDIATE_MISSING:
        return "incomplete_chain", (
            "The file holds the certificate without the CA certificates of its path. Export the PFX again with "
            "'Include all certificates in the certification path' (Export-PfxCertificate -ChainOption BuildChain), "
            "or import the issuing CA certificate on every AD FS server and Web Application Proxy.")
    if failure is TrustFailure.SELF_SIGNED:
        return "self_signed", (
            "A self-signed certificate is trusted by no external client. Request the certificate from a publicly "
            "trusted CA for the federation service name; exporting it again does not help.")
    if failure is TrustFailure.UNTRUSTED_ROOT and ((last is not None and last.self_signed) or trusted_inside):
        root = last.subject if last is not None and last.self_signed else "the enterprise root CA"
        return "untrusted_root", (
            f"The chain is complete but ends at {root}, a root CA that external clients (and Microsoft Entra ID) do "
            "not trust: exporting the PFX again does not help. For the federation service use a certificate from "
            "a publicly trusted CA; a certificate of an enterprise CA is trusted only on machines that hold its "
            "root.")
    return None, None


_FILE_INTERMEDIATE_MISSING = ("the file holds only the certificate itself, without the intermediate CA "
                              "certificate(s) that lead to a trusted root (export it with the whole chain, so AD FS "
                              "and the Web Application Proxies send it; browsers may fetch missing intermediates, "
                              "most other clients do not)")


@check(
    id="certificate-file.eku",
    title="Certificate file: Server Authentication EKU",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=True,
    requires=(CERTIFICATE_FILE_FACT,),
    rule="The certificate's extended key usage includes Server Authentication (1.3.6.1.5.5.7.3.1) or is absent.",
    remediation="Request the certificate from a Web Server (or equivalent) template that sets the Server "
                "Authentication EKU.",
    references=(REF_ADFS_REQUIREMENTS, REF_RFC5280),
)
def certificate_file_eku(ctx: CheckContext) -> Outcome:
    """SKIP without a file; PASS with serverAuth (or no EKU extension), FAIL otherwise."""
    got = _leaf(ctx)
    if isinstance(got, Outcome):
        return got
    fact, leaf = got
    evidence = {**_base(fact, leaf, ctx), "eku": list(leaf.eku)}
    if has_server_auth(leaf):
        return Outcome(Status.PASS, f"The certificate {leaf.label} may be used for server authentication.",
                       evidence, leaf.sha1)
    return Outcome(Status.FAIL, f"The certificate {leaf.label} lacks the Server Authentication EKU "
                                f"(it has {', '.join(leaf.eku)}).", evidence, leaf.sha1)


@check(
    id="certificate-file.expiry",
    title="Certificate file: days left",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=True,
    requires=(CERTIFICATE_FILE_FACT,),
    rule="The certificate is valid now and has at least tls_fail_days (14) days left (fail) and tls_warn_days (90) "
         "days left (warn).",
    remediation="Request a certificate with a longer validity; do not deploy one that expires within weeks.",
    references=(REF_ADFS_REQUIREMENTS,),
)
def certificate_file_expiry(ctx: CheckContext) -> Outcome:
    """SKIP without a file; otherwise as tls.certificate-expiry, except that fewer than
    tls_fail_days left blocks too: deploying such a certificate breaks sign-in within days."""
    got = _leaf(ctx)
    if isinstance(got, Outcome):
        return got
    fact, leaf = got
    thresholds = ctx.config.thresholds
    return expiry_outcome(leaf, ctx.now, thresholds.tls_fail_days, thresholds.tls_warn_days,
                          what="certificate in the file", target=leaf.sha1, evidence={"path": fact.path},
                          block_when_expired=True, block_within_fail_days=True)
