"""Checks of the federation metadata document (the ``metadata.*`` ids of CHECKS.md).

Each check judges the :class:`~adfs_readiness.facts.FederationMetadata` fact (key ``metadata``):
how the document was fetched, whether it parses, its signature, entityID, validity, endpoints,
key consistency and the claims it offers. The token certificates inside it are judged in
``token_certificates``. Pure functions of facts, configuration and ``ctx.now``.
"""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Severity, Status, check, days_left
from adfs_readiness.facts import METADATA_FACT, FederationMetadata, HttpExchange, SignatureStatus

from ._common import (
    REF_ADFS_REQUIREMENTS,
    REF_ENTRA_TRUST,
    REF_RENEW_FEDERATION_CERTS,
    REF_SAML_METADATA,
    REF_TS_TD_CERTS,
    REF_XMLDSIG,
    is_idp_role,
    is_sts_role,
    legacy_renegotiation_note,
    metadata_fact,
    not_determined_text,
    not_the_targets,
    require_document,
    same_uri,
    signing_certificates_of,
    token_signing_certificates,
    url_host,
)

_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
_UPN_CLAIMS = (
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    # The AD FS 1.x UPN claim type: the one the Microsoft Office 365 Identity Platform
    # relying-party rules written by Entra Connect issue.
    "http://schemas.xmlsoap.org/claims/UPN",
)
_IMMUTABLE_ID_CLAIM = "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"


def _fetch_evidence(fact: FederationMetadata, fetch: HttpExchange, expected_url: str | None) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in fetch.headers.items()}
    return {
        "url": fetch.url,
        "expected_url": expected_url,
        "final_url": fetch.final_url,
        "connect_address": fetch.connect_address,
        "status": fetch.status,
        "reason": fetch.reason,
        "content_type": fact.content_type or headers.get("content-type"),
        "redirects": [{"status": r.status, "url": r.url, "location": r.location} for r in fetch.redirects],
        "elapsed_seconds": round(fetch.elapsed_seconds, 3),
        "bytes": fetch.body_bytes,
        "truncated": fetch.truncated,
        "error_kind": fetch.error.kind.value if fetch.error else None,
        "error": fetch.error.reason if fetch.error else None,
        "legacy_renegotiation": fetch.legacy_renegotiation,
    }


@check(
    id="metadata.reachable",
    title="Federation metadata reachable",
    area=Area.METADATA,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(METADATA_FACT,),
    rule="https://<fs>/FederationMetadata/2007-06/FederationMetadata.xml answers HTTP 200 with XML from "
         "the external view: Entra ID's automatic token-signing certificate update polls this URL "
         "from the internet.",
    remediation="Make the metadata URL answer from the internet: the Web Application Proxy publishes the AD FS "
                "endpoints whose Proxy flag is set, so Get-AdfsEndpoint -AddressPath "
                "/FederationMetadata/2007-06/FederationMetadata.xml must show Enabled and Proxy True (fix with "
                "Enable-AdfsEndpoint -TargetAddressPath /FederationMetadata/2007-06/FederationMetadata.xml and "
                "Set-AdfsEndpoint -TargetAddressPath /FederationMetadata/2007-06/FederationMetadata.xml -Proxy "
                "$true), and the firewall or load balancer must forward TCP 443 for the federation service name "
                "to the proxies. No pre-authentication, sign-in page or URL rewriting may sit in front of the "
                "path. Until it is reachable, Entra ID cannot pick up new token-signing certificates by itself: "
                "push them with Update-MgDomainFederationConfiguration (or the Microsoft Entra Connect trust "
                "repair) after every rollover.",
    references=(REF_RENEW_FEDERATION_CERTS, REF_ADFS_REQUIREMENTS),
)
def reachable(ctx: CheckContext) -> Outcome:
    """PASS when the metadata URL answered 200 with XML; FAIL on a transport error, another
    status, or an HTML / non-XML answer; SKIP when the metadata was read from a file; ERROR when
    the run's deadline or this tool's network policy stopped the fetch (nothing was learned)."""
    fact = metadata_fact(ctx)
    if fact.source_kind == "file":
        return Outcome(Status.SKIP, f"Metadata was read from the file {fact.source}; live reachability "
                                    f"of the metadata URL was not tested.",
                       evidence={"source": fact.source, "source_kind": "file"})
    fetch = fact.fetch
    if fetch is None:
        raise CannotDetermine(f"No HTTP exchange was recorded for {fact.source}.", {"source": fact.source})
    evidence = _fetch_evidence(fact, fetch, ctx.config.federation.metadata_url)
    why = ("Entra ID's automatic token-signing certificate update polls this URL from the internet; "
           "while it fails, a certificate rollover breaks sign-in.")
    if not_the_targets(fetch.error):
        raise CannotDetermine(f"Fetching {fetch.url}: {not_determined_text(fetch.error, 'the metadata URL')}.",
                              evidence)
    if fetch.error is not None:
        kind = fetch.error.kind.value
        detail = fetch.error.reason
        if kind == "too_large":
            detail = f"{detail} (download cap {ctx.config.network.max_download_bytes} bytes)"
        return Outcome(Status.FAIL, f"Fetching {fetch.url} failed ({kind}): {detail}. {why}", evidence=evidence)
    if fetch.status != 200:
        return Outcome(Status.FAIL, f"{fetch.url} answered HTTP {fetch.status} {fetch.reason or ''}".rstrip()
                       + f" instead of 200 with the metadata. {why}", evidence=evidence)
    if fact.looks_like_html:
        return Outcome(Status.FAIL, f"{fetch.url} answered with an HTML page, not metadata (typically a sign-in "
                                    f"page of a pre-authenticating proxy). {why}", evidence=evidence)
    content_type = (evidence["content_type"] or "").lower()
    if "xml" not in content_type and fact.document is None:
        return Outcome(Status.FAIL, f"{fetch.url} answered 200 with content type "
                                    f"{evidence['content_type'] or '(none)'} and a body that is not XML "
                                    f"metadata. {why}", evidence=evidence)
    if fetch.body_bytes == 0:
        return Outcome(Status.FAIL, f"{fetch.url} answered 200 with an empty body. {why}", evidence=evidence)
    via = f" via {fetch.connect_address}" if fetch.connect_address else ""
    hops = f" after {len(fetch.redirects)} redirect(s)" if fetch.redirects else ""
    final_scheme = (fetch.final_url or fetch.url).split(":", 1)[0].lower()
    if final_scheme != "https":
        # Metadata over plain HTTP can be altered in transit; AD FS publishes it over HTTPS.
        return Outcome(Status.WARN, f"{fetch.final_url or fetch.url}{via} answered HTTP 200 with XML, but over "
                                    f"plain HTTP: anyone on the path can change it. Publish and fetch the "
                                    f"metadata over HTTPS.", evidence=evidence)
    return Outcome(Status.PASS, f"{fetch.url}{via} answered HTTP 200 with XML ({fetch.body_bytes} bytes, "
                                f"{evidence['content_type'] or 'no content type'}){hops} in "
                                f"{fetch.elapsed_seconds:.2f} s.{legacy_renegotiation_note(fetch)}", evidence=evidence)


@check(
    id="metadata.well-formed",
    title="Federation metadata is a well-formed SAML 2.0 EntityDescriptor",
    area=Area.METADATA,
    severity=Severity.CRITICAL,
    blocker=True,
    requires=(METADATA_FACT,),
    rule="The document parses, with a DTD-free, entity-free parser, as a SAML 2.0 md:EntityDescriptor; "
         "a UTF-8 byte-order mark is fine; an HTML page (a sign-in page) is a failure.",
    remediation="Open the metadata URL in a browser from outside the network and compare it with "
                "https://<fs>/FederationMetadata/2007-06/FederationMetadata.xml fetched on an AD FS server. "
                "An HTML sign-in page means a reverse proxy in front of AD FS pre-authenticates the "
                "metadata path: exempt /FederationMetadata/ from pre-authentication (pass-through). "
                "A DTD or entity declaration means "
                "something other than AD FS produced the file; AD FS metadata never contains one.",
    references=(REF_SAML_METADATA, REF_RENEW_FEDERATION_CERTS),
)
def well_formed(ctx: CheckContext) -> Outcome:
    """PASS when the bytes parsed as metadata; FAIL for unsafe XML, HTML or a parse error;
    ``error`` (CannotDetermine) when nothing was read."""
    fact = metadata_fact(ctx)
    evidence = {"source": fact.source, "size_bytes": fact.size_bytes, "sha256": fact.sha256,
                "has_bom": fact.has_bom, "content_type": fact.content_type,
                "refused_construct": fact.refused_construct, "parse_error": fact.parse_error}
    if fact.size_bytes is None:
        reason = (f"fetching {fact.fetch.url} failed: {fact.fetch.error}" if fact.fetch and fact.fetch.error
                  else (fact.parse_error or "no bytes were read"))
        raise CannotDetermine(f"Nothing was read from {fact.source}, so well-formedness cannot be judged: "
                              f"{reason}.", evidence)
    if fact.refused_construct:
        return Outcome(Status.FAIL, f"The metadata contains a {fact.refused_construct}, refused as unsafe XML "
                                    f"(a DTD, entity or external reference could expand or fetch content); "
                                    f"AD FS metadata never contains one.", evidence=evidence)
    if fact.looks_like_html:
        return Outcome(Status.FAIL, f"{fact.source} is an HTML page, not metadata: typically a sign-in page, "
                                    f"because a proxy or the WAP pre-authenticates the metadata path.",
                       evidence=evidence)
    if fact.parse_error or fact.document is None:
        return Outcome(Status.FAIL, f"The metadata is not a usable SAML 2.0 EntityDescriptor: "
                                    f"{fact.parse_error or 'it could not be parsed'}.", evidence=evidence)
    bom = " It starts with a UTF-8 byte-order mark, which is fine." if fact.has_bom else ""
    return Outcome(Status.PASS, f"The metadata ({fact.size_bytes} bytes) parses as a SAML 2.0 EntityDescriptor "
                                f"for {fact.document.entity_id}.{bom}", evidence=evidence)


_SIGNATURE_FIX_SHA1 = ("Sign the metadata with RSA-SHA256 (http://www.w3.org/2001/04/xmldsig-more#rsa-sha256) "
                       "and SHA-256 digests. AD FS on Windows Server 2012 R2 and later does so by default; an "
                       "RSA-SHA1 signature points to an old AD FS 2.0 farm or another identity provider.")


_ORDINALS = {1: "second", 2: "third", 3: "fourth"}
_SIGNER_ORDER_FIX = (
    "AD FS lists the primary token-signing certificate first and signs with it; a document signed by a later "
    "listed certificate was edited or assembled by something else (a copy kept across a rollover, a metadata "
    "aggregator). Serve the metadata AD FS generates (Get-AdfsCertificate -CertificateType Token-Signing shows "
    "which is primary), and give partners whose SAML library uses only the first certificate the primary one.")


@check(
    id="metadata.signature",
    title="Federation metadata signature",
    area=Area.METADATA,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(METADATA_FACT,),
    rule="An enveloped XML signature is present and valid, made by a token-signing certificate the metadata "
         "lists; RSA-SHA1, an unsigned document, or a signer that is not the first listed signing certificate "
         "(libraries that use the first one fail) is a warning, an invalid signature a failure; a signature whose "
         "listed signing certificate is unreadable cannot be checked (error).",
    remediation="AD FS signs its federation metadata with the primary token-signing certificate. An invalid "
                "signature means the document was changed after signing (edited by hand, rewritten by a "
                "proxy, or a stale copy served from elsewhere): serve the file exactly as AD FS produces it "
                "at /FederationMetadata/2007-06/FederationMetadata.xml. A signer the metadata does not list "
                "means the token-signing certificates were changed without the metadata being regenerated: "
                "check Get-AdfsCertificate -CertificateType Token-Signing on every farm node.",
    references=(REF_XMLDSIG, REF_SAML_METADATA, REF_RENEW_FEDERATION_CERTS),
)
def signature(ctx: CheckContext) -> Outcome:
    """PASS for VALID, WARN for VALID_SHA1 and UNSIGNED, FAIL for INVALID and UNKNOWN_SIGNER."""
    fact, doc = require_document(ctx)
    sig = doc.signature
    evidence = {"status": sig.status.value, "method": sig.signature_method, "digests": list(sig.digest_methods),
                "signer_sha1": sig.signer_sha1, "embedded_certificate_sha1": sig.embedded_certificate_sha1,
                "reference_uri": sig.reference_uri, "reason": sig.reason, "source": fact.source}
    status = sig.status
    listed = [c for c in token_signing_certificates(doc) if c.decodable]
    if status in (SignatureStatus.VALID, SignatureStatus.VALID_SHA1) and listed and sig.signer_sha1 and \
            listed[0].sha1 != sig.signer_sha1:
        position = next((i for i, c in enumerate(listed) if c.sha1 == sig.signer_sha1), None)
        evidence["listed_signing_sha1"] = [c.sha1 for c in listed]
        evidence["signer_position"] = position + 1 if position is not None else None
        place = f"listed {_ORDINALS.get(position, f'#{(position or 0) + 1}')}" if position is not None else "listed"
        return Outcome(Status.WARN, f"The metadata signature is valid ({sig.signature_method}), but it was made by the "
                                    f"signing certificate {place} (SHA-1 {sig.signer_sha1}), not by the first listed "
                                    f"({listed[0].label}): SAML libraries that take the first listed certificate "
                                    f"as the signing key fail to verify this metadata and the tokens signed with "
                                    f"the same key.", evidence=evidence, remediation=_SIGNER_ORDER_FIX)
    if status is SignatureStatus.VALID:
        return Outcome(Status.PASS, f"The metadata signature is valid ({sig.signature_method}), made by the listed "
                                    f"signing certificate SHA-1 {sig.signer_sha1}.", evidence=evidence)
    if status is SignatureStatus.VALID_SHA1:
        return Outcome(Status.WARN, f"The metadata signature is valid but uses deprecated SHA-1 "
                                    f"({sig.signature_method}; digests {', '.join(sig.digest_methods) or 'n/a'}): "
                                    f"set the signature algorithm to SHA-256.", evidence=evidence,
                       remediation=_SIGNATURE_FIX_SHA1)
    if status is SignatureStatus.UNSIGNED:
        return Outcome(Status.WARN, "The metadata is not signed, so a consumer cannot tell that it comes from the "
                                    "federation service; AD FS always signs the metadata it publishes.",
                       evidence=evidence)
    if status is SignatureStatus.UNVERIFIABLE:
        raise CannotDetermine(f"The metadata signature cannot be checked: {sig.reason}. This says nothing about "
                              f"whether the document was changed after signing.", evidence)
    if status is SignatureStatus.UNKNOWN_SIGNER:
        return Outcome(Status.FAIL, f"The metadata is signed by a certificate it does not list as a signing "
                                    f"certificate (SHA-1 {sig.embedded_certificate_sha1 or sig.signer_sha1 or 'unknown'}"
                                    f"): {sig.reason}.", evidence=evidence)
    reason = sig.reason.removeprefix("the signature does not verify: ")
    return Outcome(Status.FAIL, f"The metadata signature does not verify: {reason}. The document was changed "
                                f"after it was signed, or is damaged.", evidence=evidence)


@check(
    id="metadata.entity-id",
    title="Federation metadata entityID",
    area=Area.METADATA,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(METADATA_FACT,),
    rule="The entityID equals the expected issuer: the configured expected_issuer, else AD FS's default "
         "http://<fs>/adfs/services/trust (http, no trailing slash). Against the default, an identifier that "
         "differs only by https is a warning (a common, working change when Entra's IssuerUri matches).",
    remediation="Compare Get-AdfsProperties | Select-Object Identifier with the issuer Entra ID expects "
                "(IssuerUri of Get-MgDomainFederationConfiguration). If the Federation Service identifier was "
                "changed on purpose, set federation.expected_issuer in the adfs-readiness configuration; "
                "otherwise restore it with Set-AdfsProperties -Identifier http://<fs>/adfs/services/trust.",
    references=(REF_ENTRA_TRUST, REF_SAML_METADATA),
)
def entity_id(ctx: CheckContext) -> Outcome:
    """PASS when entityID == config.federation.issuer (exact string), FAIL when different, INFO when no
    issuer is expected (no service name nor expected_issuer configured)."""
    fact, doc = require_document(ctx)
    expected = ctx.config.federation.issuer
    evidence = {"entity_id": doc.entity_id, "expected_issuer": expected, "source": fact.source}
    if expected is None:
        return Outcome(Status.INFO, f"The metadata's entityID is {doc.entity_id}; no expected issuer is configured "
                                    f"(no federation service name or expected_issuer), so it was not compared.",
                       evidence=evidence)
    if same_uri(doc.entity_id, expected):
        # Host names compare as DNS compares them: STS.Contoso.com is sts.contoso.com.
        return Outcome(Status.PASS, f"The entityID {doc.entity_id} is the expected issuer.", evidence=evidence)
    hint = _issuer_difference(doc.entity_id or "", expected)
    if not ctx.config.federation.expected_issuer and hint.endswith("http versus https)"):
        # Farms whose identifier was changed to https:// are common and work, as long as Entra's
        # IssuerUri says the same; only the default expectation was wrong, so this is a warning.
        return Outcome(Status.WARN, f"The entityID {doc.entity_id} is not AD FS's default issuer {expected}"
                                    f"{hint}; make sure Entra's IssuerUri for each federated domain is "
                                    f"{doc.entity_id} and set federation.expected_issuer to it.",
                       evidence=evidence)
    return Outcome(Status.FAIL, f"The entityID {doc.entity_id!s} differs from the expected issuer {expected}"
                                f"{hint}.", evidence=evidence)


def _issuer_difference(found: str, expected: str) -> str:
    """A hint when two issuers differ only in a way admins often miss."""
    if found.rstrip("/") == expected.rstrip("/"):
        return " (only by a trailing slash, which still makes them different issuers)"
    if found.lower() == expected.lower():
        return " (only by letter case)"
    if found.split("://", 1)[-1] == expected.split("://", 1)[-1]:
        return " (only by the scheme, http versus https)"
    return ""


@check(
    id="metadata.valid-until",
    title="Federation metadata validity (validUntil)",
    area=Area.METADATA,
    severity=Severity.MEDIUM,
    blocker=False,
    requires=(METADATA_FACT,),
    rule="validUntil, when published, is not in the past; cacheDuration is reported. AD FS publishes neither "
         "by default, which is fine.",
    remediation="Metadata past its validUntil is rejected by consumers that honour it. AD FS does not set "
                "validUntil: if the document carries one, it was produced or rewritten by something else "
                "(a static copy, a metadata aggregator); serve the metadata AD FS generates, or regenerate "
                "the copy with a future validUntil.",
    references=(REF_SAML_METADATA,),
)
def valid_until(ctx: CheckContext) -> Outcome:
    """FAIL when validUntil <= now; WARN when present but unparseable; PASS otherwise."""
    fact, doc = require_document(ctx)
    evidence: dict[str, Any] = {"valid_until": doc.valid_until.isoformat() if doc.valid_until else None,
                                "valid_until_raw": doc.valid_until_raw, "cache_duration": doc.cache_duration,
                                "source": fact.source}
    cache = f" cacheDuration is {doc.cache_duration}." if doc.cache_duration else ""
    if doc.valid_until is None:
        if doc.valid_until_raw:
            return Outcome(Status.WARN, f"validUntil {doc.valid_until_raw!r} is not an xs:dateTime; consumers may "
                                        f"reject the metadata.{cache}", evidence=evidence)
        return Outcome(Status.PASS, f"The metadata sets no validUntil (AD FS never does), so it does not expire."
                                    f"{cache}", evidence=evidence)
    left = days_left(doc.valid_until, ctx.now)
    evidence["days_left"] = left
    if doc.valid_until <= ctx.now:
        return Outcome(Status.FAIL, f"The metadata expired at validUntil {doc.valid_until.isoformat()} "
                                    f"({-left} day(s) ago); consumers that honour it reject it.{cache}",
                       evidence=evidence)
    return Outcome(Status.PASS, f"The metadata is valid until {doc.valid_until.isoformat()} ({left} day(s) left)."
                                f"{cache}", evidence=evidence)


@check(
    id="metadata.endpoints",
    title="SAML and WS-Federation sign-in endpoints published",
    area=Area.METADATA,
    severity=Severity.HIGH,
    blocker=True,
    requires=(METADATA_FACT,),
    rule="The IDPSSODescriptor publishes a SingleSignOnService with the HTTP-Redirect or HTTP-POST binding and "
         "the STS RoleDescriptor a WS-Federation PassiveRequestorEndpoint, each over https on the federation "
         "service name.",
    remediation="Check Get-AdfsProperties | Format-List HostName, HttpsPort and Get-AdfsEndpoint -AddressPath "
                "/adfs/ls/ (Enabled and Proxy True). HostName must be the federation service name clients "
                "use; fix with Set-AdfsProperties -HostName <fs> and restart the AD FS service on every node.",
    references=(REF_SAML_METADATA, REF_ENTRA_TRUST),
)
def endpoints(ctx: CheckContext) -> Outcome:
    """PASS when both sign-in endpoints exist, are https and on the configured host; FAIL listing
    each missing or wrong endpoint. Without a configured service name the host is not compared."""
    fact, doc = require_document(ctx)
    expected_host = ctx.config.federation.service_name.lower() if ctx.config.federation.service_name else None
    sso = [ep for role in doc.roles if is_idp_role(role) for ep in role.endpoints
           if ep.kind == "SingleSignOnService" and ep.binding in (_REDIRECT, _POST)]
    passive = [ep for role in doc.roles if is_sts_role(role) for ep in role.endpoints
               if ep.kind == "PassiveRequestorEndpoint"]
    problems: list[str] = []
    if not sso:
        problems.append("no SAML SingleSignOnService with the HTTP-Redirect or HTTP-POST binding in an "
                        "IDPSSODescriptor")
    if not passive:
        problems.append("no WS-Federation PassiveRequestorEndpoint in the SecurityTokenServiceType RoleDescriptor")
    for label, found in (("SingleSignOnService", sso), ("PassiveRequestorEndpoint", passive)):
        for ep in found:
            problems.extend(_endpoint_problems(label, ep.binding, ep.location, expected_host))
    evidence = {"sso_endpoints": [{"binding": ep.binding, "location": ep.location} for ep in sso],
                "passive_endpoints": [ep.location for ep in passive], "expected_host": expected_host,
                "problems": problems, "source": fact.source}
    if problems:
        return Outcome(Status.FAIL, f"The sign-in endpoints are wrong: {'; '.join(problems)}.", evidence=evidence)
    where = f"on {expected_host}" if expected_host else "(host not compared: no federation service name configured)"
    return Outcome(Status.PASS, f"SAML SingleSignOnService ({len(sso)}) and WS-Federation PassiveRequestorEndpoint "
                                f"({len(passive)}) are published over https {where}.", evidence=evidence)


def _endpoint_problems(label: str, binding: str | None, location: str | None, expected_host: str | None) -> list[str]:
    name = f"{label} {binding.rsplit(':', 1)[-1]}" if binding else label
    if not location:
        return [f"{name} has no location"]
    problems = []
    if not location.strip().lower().startswith("https://"):
        problems.append(f"{name} {location} is not https")
    host = url_host(location)
    if expected_host and host != expected_host:
        problems.append(f"{name} {location} is on host {host}, not {expected_host}")
    return problems


@check(
    id="metadata.consistency",
    title="Signing certificates consistent across roles",
    area=Area.METADATA,
    severity=Severity.LOW,
    blocker=False,
    requires=(METADATA_FACT,),
    rule="The signing certificates of the IDPSSODescriptor (SAML) and of the STS RoleDescriptor (WS-Fed) are "
         "the same set, as AD FS publishes them.",
    remediation="AD FS writes the same token-signing certificates into every role. Different sets mean the "
                "document was assembled or edited by hand, or comes from another product: serve the metadata "
                "AD FS generates, and check Get-AdfsCertificate -CertificateType Token-Signing.",
    references=(REF_SAML_METADATA, REF_TS_TD_CERTS),
)
def consistency(ctx: CheckContext) -> Outcome:
    """PASS when the two sets of SHA-1 thumbprints are equal; WARN when they differ (or a present
    role publishes none); INFO when one role is absent; SKIP when both are absent."""
    fact, doc = require_document(ctx)
    idp_roles = [r for r in doc.roles if is_idp_role(r)]
    sts_roles = [r for r in doc.roles if is_sts_role(r)]
    # Unreadable certificates (a placeholder, text that is not base64) have no identity to compare.
    idp = sorted({c.sha1 for r in idp_roles for c in signing_certificates_of(r) if c.decodable})
    sts = sorted({c.sha1 for r in sts_roles for c in signing_certificates_of(r) if c.decodable})
    unreadable = [p for r in (*idp_roles, *sts_roles) for c in signing_certificates_of(r) if not c.decodable
                  for p in c.problems]
    evidence = {"idpsso_signing_sha1": idp, "sts_signing_sha1": sts,
                "only_in_idpsso": sorted(set(idp) - set(sts)), "only_in_sts": sorted(set(sts) - set(idp)),
                "unreadable_certificates_ignored": unreadable, "source": fact.source}
    if not idp_roles and not sts_roles:
        return Outcome(Status.SKIP, "The metadata has neither an IDPSSODescriptor nor an STS RoleDescriptor "
                                    "(it does not describe an identity provider); nothing to compare.",
                       evidence=evidence)
    if not idp_roles or not sts_roles:
        present = "IDPSSODescriptor" if idp_roles else "STS RoleDescriptor"
        return Outcome(Status.INFO, f"Only the {present} is published ({len(idp or sts)} signing certificate(s)); "
                                    f"there is no second role to compare with.", evidence=evidence)
    if not idp and not sts and unreadable:
        return Outcome(Status.INFO, "No readable signing certificate is published in either role (see "
                                    "token-signing.key), so there is nothing to compare.", evidence=evidence)
    if idp == sts and idp:
        return Outcome(Status.PASS, f"The IDPSSODescriptor and the STS RoleDescriptor list the same "
                                    f"{len(idp)} signing certificate(s): {', '.join(idp)}.", evidence=evidence)
    return Outcome(Status.WARN, f"The signing certificates differ between roles: IDPSSODescriptor "
                                f"{{{', '.join(idp) or 'none'}}} versus STS RoleDescriptor "
                                f"{{{', '.join(sts) or 'none'}}}; SAML and WS-Fed relying parties would trust "
                                f"different keys.", evidence=evidence)


@check(
    id="metadata.claims-offered",
    title="UPN claim offered (ImmutableID reported)",
    area=Area.METADATA,
    severity=Severity.LOW,
    blocker=False,
    requires=(METADATA_FACT,),
    rule="The WS-Fed ClaimTypesOffered include a UPN claim type; ImmutableID is reported (AD FS issues it "
         "through the Microsoft 365 relying-party rules and does not list it by default); NameID formats listed.",
    remediation="Entra ID signs users in from the UPN and ImmutableID claims that the 'Microsoft Office 365 "
                "Identity Platform' relying-party trust issues. If the UPN claim description was removed or "
                "unpublished, restore it: Get-AdfsClaimDescription -ClaimType "
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn, then Set-AdfsClaimDescription "
                "-TargetClaimType <that URI> -IsOffered $true -IsAccepted $true. Repair the Microsoft 365 claim "
                "rules with Microsoft Entra "
                "Connect (Repair Microsoft Entra ID and AD FS trust).",
    references=(REF_ENTRA_TRUST,),
)
def claims_offered(ctx: CheckContext) -> Outcome:
    """PASS when a UPN claim type is offered, WARN when not; SKIP without an STS RoleDescriptor."""
    fact, doc = require_document(ctx)
    sts_roles = [r for r in doc.roles if is_sts_role(r)]
    offered = {c.casefold(): c for r in sts_roles for c in r.claim_types_offered}
    upn = next((offered[u.casefold()] for u in _UPN_CLAIMS if u.casefold() in offered), None)
    immutable = _IMMUTABLE_ID_CLAIM.casefold() in offered
    nameid_formats = list(dict.fromkeys(f for r in doc.roles if is_idp_role(r) for f in r.nameid_formats))
    evidence = {"upn_claim": upn, "immutable_id_offered": immutable, "claim_types_offered": len(offered),
                "nameid_formats": nameid_formats, "source": fact.source}
    if not sts_roles:
        return Outcome(Status.SKIP, "The metadata has no WS-Federation STS RoleDescriptor, so it lists no "
                                    "ClaimTypesOffered to judge.", evidence=evidence)
    immutable_note = ("ImmutableID is offered too." if immutable else
                      "ImmutableID is not listed, which is normal for AD FS: the Microsoft 365 relying-party "
                      "rules issue it without a published claim description.")
    if upn is None:
        return Outcome(Status.WARN, f"No UPN claim type is among the {len(offered)} claim types offered; Entra ID "
                                    f"needs the UPN claim to sign federated users in. {immutable_note}",
                       evidence=evidence)
    return Outcome(Status.PASS, f"The UPN claim ({upn}) is offered among {len(offered)} claim types. "
                                f"{immutable_note}", evidence=evidence)
