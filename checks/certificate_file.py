"""Checks of a new SSL certificate read from a file before it is deployed
(``adfs-readiness check --certificate FILE``): ``certificate-file.*``.

They judge the :class:`~adfs_readiness.facts.tls.CertificateFile` fact by the same rules as the
live ``tls.*`` checks (AD FS requirements, "TLS/SSL certificates":
https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/overview/ad-fs-requirements). Without
``--certificate`` every one of them is ``skip``. None blocks SSO: the certificate is not in use yet.
"""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Severity, Status, check
from adfs_readiness.facts import CertificateInfo
from adfs_readiness.facts.tls import CERTIFICATE_FILE_FACT, CertificateFile

from ._tls import (
    REF_ADFS_REQUIREMENTS,
    REF_ALTERNATE_TLS_BINDING,
    REF_RFC5280,
    REF_RFC6125,
    REF_SET_ADFS_SSL,
    certificate_evidence,
    covers,
    expiry_outcome,
    failure_text,
    has_server_auth,
    key_problems,
    verification_evidence,
)

_NO_FILE = "No certificate file was given (check --certificate FILE)."


def _leaf(ctx: CheckContext) -> tuple[CertificateFile, CertificateInfo] | Outcome:
    """The fact and its leaf, or a SKIP outcome without a file; raises CannotDetermine when the
    file could not be read."""
    fact: CertificateFile = ctx.fact(CERTIFICATE_FILE_FACT)
    if fact.path is None:
        return Outcome(Status.SKIP, _NO_FILE)
    if fact.error or fact.leaf is None:
        raise CannotDetermine(f"The certificate file {fact.path} could not be read: {fact.error or 'no certificate'}.",
                              {"path": fact.path, "format": fact.file_format})
    return fact, fact.leaf


def _base(fact: CertificateFile, leaf: CertificateInfo, ctx: CheckContext) -> dict[str, Any]:
    return {"path": fact.path, "format": fact.file_format, "certificate": certificate_evidence(leaf, ctx.now)}


@check(
    id="certificate-file.names",
    title="Certificate file: names",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=False,
    requires=(CERTIFICATE_FILE_FACT,),
    rule="The certificate's SAN covers the federation service name (fail), and, when in scope, "
         "certauth.<federation service name> and enterpriseregistration.<suffix> for every federated domain (warn).",
    remediation="Request the certificate again with every required name in the Subject Alternative Name: the "
                "federation service name, certauth.<name> for certificate authentication on 443, and "
                "enterpriseregistration.<suffix> for each UPN suffix when device registration is used.",
    references=(REF_ADFS_REQUIREMENTS, REF_RFC6125, REF_ALTERNATE_TLS_BINDING),
)
def certificate_file_names(ctx: CheckContext) -> Outcome:
    """SKIP without a file; FAIL when the service name is not covered; WARN when an in-scope
    certauth / enterpriseregistration name is missing; PASS otherwise; ERROR without a service name."""
    got = _leaf(ctx)
    if isinstance(got, Outcome):
        return got
    fact, leaf = got
    config = ctx.config
    if not config.federation.service_name:
        raise CannotDetermine("No federation service name is configured, so the names cannot be judged.")
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
        return Outcome(Status.FAIL, f"The certificate {leaf.label} in {fact.path} does not name the federation "
                                    f"service {config.federation.service_name}.", evidence, leaf.sha1)
    if missing:
        return Outcome(Status.WARN, f"The certificate {leaf.label} lacks {', '.join(missing)}.", evidence, leaf.sha1)
    return Outcome(Status.PASS, f"The certificate {leaf.label} names {', '.join(wanted)}.", evidence, leaf.sha1)


@check(
    id="certificate-file.key",
    title="Certificate file: key",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=False,
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
    blocker=False,
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
    return Outcome(Status.FAIL, f"The certificate {leaf.label} does not verify for external clients: "
                                f"{failure_text(external.path.failure)}.{inside}", evidence, leaf.sha1)


@check(
    id="certificate-file.eku",
    title="Certificate file: Server Authentication EKU",
    area=Area.TLS,
    severity=Severity.HIGH,
    blocker=False,
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
    blocker=False,
    requires=(CERTIFICATE_FILE_FACT,),
    rule="The certificate is valid now and has at least tls_fail_days (14) days left (fail) and tls_warn_days (90) "
         "days left (warn).",
    remediation="Request a certificate with a longer validity; do not deploy one that expires within weeks.",
    references=(REF_ADFS_REQUIREMENTS,),
)
def certificate_file_expiry(ctx: CheckContext) -> Outcome:
    """SKIP without a file; otherwise as tls.certificate-expiry, never blocking."""
    got = _leaf(ctx)
    if isinstance(got, Outcome):
        return got
    fact, leaf = got
    thresholds = ctx.config.thresholds
    return expiry_outcome(leaf, ctx.now, thresholds.tls_fail_days, thresholds.tls_warn_days,
                          what="certificate in the file", target=leaf.sha1, evidence={"path": fact.path},
                          block_when_expired=False)
