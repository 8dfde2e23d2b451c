"""Checks of how AD FS identifies users to Microsoft 365 and protects their sign-in, from the AD FS
exports: the Microsoft Office 365 Identity Platform trust's issuance transform rules (ImmutableID
and UPN, parsed with the claim rule language grammar), Extranet Smart Lockout, and the Azure MFA
adapter's certificate (with, when live Graph is configured, its registration on the Azure
Multi-Factor Auth Client service principal).
"""

from __future__ import annotations

from typing import Any

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Severity, Status, check, days_left
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT, AZURE_MFA_PROVIDER, AdfsExport
from adfs_readiness.facts.adfs_servers import ROLE_ADFS, StoredCertificate
from adfs_readiness.facts import METADATA_FACT
from adfs_readiness.facts.claim_rules import AD_UPN_CLAIM, IMMUTABLE_ID_CLAIM, UPN_CLAIM, ClaimRuleSet, ClaimSource
from adfs_readiness.facts.cloud import ENTRA_FEDERATION_FACT, EntraFederationFacts
from adfs_readiness.facts.entra_mfa import AZURE_MFA_CLIENT_APP_ID, ENTRA_MFA_CLIENT_FACT, EntraMfaClient

from ._adfs_common import (
    NO_EXPORT,
    REF_AZURE_MFA,
    REF_CLAIM_RULE_LANGUAGE,
    REF_DESIGN_CONCEPTS,
    export_of,
    need,
)
from ._issuer import (
    CERTAIN_MISMATCH,
    adfs_identifier,
    compare_issuers,
    issuer_for_user,
    parent_domain,
    sample_upn,
)
from ._refs_entra import REF_ENTRA_TRUST, REF_EXTRANET_LOCKOUT, REF_MULTIPLE_DOMAINS, REF_SET_ADFSPROPERTIES
from .directory_rules import anchor_population

__all__ = ["o365_claim_rules", "smart_lockout", "mfa_adapter_certificate", "immutable_id_source"]

O365_IDENTIFIER = "urn:federation:MicrosoftOnline"
_DIRECTORY_FACT = "directory"
_CONSISTENCY_GUID, _OBJECT_GUID = "ms-DS-ConsistencyGuid", "objectGUID"


def _describe(sources: tuple[ClaimSource, ...]) -> list[str]:
    return [(f"{s.store}:{s.attribute}" if s.kind == "attribute" else
             f"incoming {s.claim_type}" if s.kind == "incoming" else s.kind)
            + (" (rewritten)" if s.transformed else "") + f" [{s.rule}]" for s in sources]


def immutable_id_source(sources: tuple[ClaimSource, ...]) -> str:
    """Classify where the ImmutableID comes from: "consistencyguid+objectguid" (Entra Connect's rules:
    ms-DS-ConsistencyGuid, objectGUID when it is empty), "consistencyguid", "objectguid", "literal",
    "other" (another attribute) or "unknown" (a value the analysis cannot follow)."""
    attributes = {s.attribute.lower() for s in sources if s.kind == "attribute" and s.attribute}
    if any(s.kind == "literal" for s in sources) and not attributes:
        return "literal"
    if any(s.kind in ("unknown", "incoming") or (s.kind == "attribute" and not s.attribute) for s in sources):
        return "unknown"
    if attributes == {"ms-ds-consistencyguid", "objectguid"}:
        return "consistencyguid+objectguid"
    if attributes == {"ms-ds-consistencyguid"}:
        return "consistencyguid"
    if attributes == {"objectguid"}:
        return "objectguid"
    return "other"


def _upn_source(sources: tuple[ClaimSource, ...], upn_attribute: str) -> str:
    """"ok" when every UPN source is the expected attribute (or, when that is userPrincipalName, the
    UPN claim the Active Directory claims provider issues from it); "wrong" when one is another
    attribute or a constant; "unknown" when one is a value the analysis cannot follow (a claim from
    another claims provider, a custom attribute store without a readable query)."""
    kinds = set()
    for source in sources:
        if source.kind == "attribute" and source.attribute:
            kinds.add("ok" if source.attribute.lower() == upn_attribute.lower() else "wrong")
        elif source.kind == "incoming" and (source.claim_type or "").lower() == AD_UPN_CLAIM:
            kinds.add("ok" if upn_attribute.lower() == "userprincipalname" else "wrong")
        elif source.kind == "literal":
            kinds.add("wrong")
        else:
            kinds.add("unknown")
    return "wrong" if "wrong" in kinds else "unknown" if "unknown" in kinds else "ok"


def _expected_anchor(ctx: CheckContext) -> tuple[str | None, str]:
    """The sourceAnchor Entra Connect uses: configured, else inferred from the directory (Entra
    Connect writes ms-DS-ConsistencyGuid back on every object it syncs when that is its anchor)."""
    if ctx.config.adfs.source_anchor:
        return ctx.config.adfs.source_anchor, "configured ([adfs] source_anchor)"
    directory = ctx.facts.get(_DIRECTORY_FACT)
    scan = getattr(directory, "scan", None) if getattr(directory, "configured", False) else None
    objects, with_consistency_guid = anchor_population(scan) if scan is not None else (0, 0)
    if objects:
        if with_consistency_guid:
            return _CONSISTENCY_GUID, (f"inferred: {with_consistency_guid} of {objects} directory objects "
                                       f"have ms-DS-ConsistencyGuid")
        return _OBJECT_GUID, f"inferred: none of {objects} directory objects has ms-DS-ConsistencyGuid"
    return None, "unknown (set [adfs] source_anchor, or configure [directory] to infer it)"


def _judge_immutable_id(kind: str, anchor: str | None, how: str) -> tuple[Status, str]:
    inferred = anchor is not None and how.startswith("inferred")
    mismatch = Status.WARN if inferred else Status.FAIL
    described = {"consistencyguid+objectguid": "ms-DS-ConsistencyGuid (objectGUID when it is empty)",
                 "consistencyguid": "ms-DS-ConsistencyGuid", "objectguid": "objectGUID",
                 "other": "another attribute", "unknown": "a value this analysis cannot follow"}.get(kind, kind)
    if anchor is None:
        return Status.INFO, f"ImmutableID is issued from {described}; which sourceAnchor Entra Connect uses is {how}"
    if kind == "unknown":
        return Status.WARN, f"ImmutableID is issued from {described}; Entra Connect's sourceAnchor is {anchor} ({how})"
    matches = (kind in ("consistencyguid+objectguid", "consistencyguid") if anchor == _CONSISTENCY_GUID
               else kind == "objectguid")
    if matches:
        return Status.PASS, f"ImmutableID is issued from {described}, the sourceAnchor Entra Connect uses ({how})"
    if anchor == _OBJECT_GUID and kind == "consistencyguid+objectguid":
        return Status.WARN, (f"ImmutableID is issued from {described} while Entra Connect anchors on objectGUID ({how}): "
                             f"it matches only while ms-DS-ConsistencyGuid stays empty")
    return mismatch, (f"ImmutableID is issued from {described} but Entra Connect anchors on {anchor} ({how}): users "
                      f"whose values differ cannot sign in (AADSTS51004)")


@check(id="adfs.o365-claim-rules", title="Microsoft 365 trust issues ImmutableID, UPN and the issuer Entra expects",
       area=Area.ADFS, severity=Severity.CRITICAL, blocker=True, requires=(ADFS_EXPORT_FACT,),
       optional=(_DIRECTORY_FACT, ENTRA_FEDERATION_FACT, METADATA_FACT),
       rule="The Microsoft Office 365 Identity Platform trust's issuance transform rules (parsed with the claim rule "
            "language grammar) issue the ImmutableID claim from the sourceAnchor Entra Connect uses "
            "(ms-DS-ConsistencyGuid with objectGUID as fallback, or objectGUID; [adfs] source_anchor, else inferred "
            "from the directory) and the UPN claim from userPrincipalName ([adfs] upn_attribute); when Entra's "
            "federation settings were read, the issuer the rules give a user of each domain (the issuerid rule's "
            "output, else AD FS's identifier) is exactly the domain's issuerUri (a subdomain: its parent's). No "
            "ImmutableID or UPN at all, or an issuer Entra does not hold, blocks SSO; the wrong source is a "
            "non-blocking fail.",
       remediation="Let Entra Connect rewrite the rules (Microsoft Entra Connect > Manage federation > Reset Microsoft "
                   "Entra ID trust), or set them with Set-AdfsRelyingPartyTrust -TargetIdentifier "
                   "urn:federation:MicrosoftOnline -IssuanceTransformRules <the rules Entra Connect documents>.",
       references=(REF_ENTRA_TRUST, REF_CLAIM_RULE_LANGUAGE, REF_DESIGN_CONCEPTS, REF_MULTIPLE_DOMAINS))
def o365_claim_rules(ctx: CheckContext) -> Outcome:
    """FAIL (blocking) when no rule issues ImmutableID or UPN, or (with Entra's federation settings)
    when the issuer the rules give a user of a domain is not that domain's issuerUri (AADSTS50107;
    Microsoft Learn, "Multiple Domain Support for Federating with Microsoft Entra ID": Entra finds
    the domain by the issuerid claim, else the token's Issuer); WARN when they differ only by letter
    case or a trailing slash, or the issuer cannot be computed; FAIL (not blocking) when ImmutableID
    or UPN come from another source than Entra Connect's configured one (WARN when that source was
    only inferred); INFO when the sourceAnchor is unknown; ERROR when the rules are not in the
    export or do not parse; SKIP without the Microsoft 365 trust (adfs.o365-relying-party reports it)."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    trusts = need(export.relying_parties, "its relying-party trusts", export)
    trust = next((t for t in trusts if O365_IDENTIFIER.lower() in (i.lower() for i in t.identifiers)), None)
    if trust is None:
        return Outcome(Status.SKIP, f"No relying-party trust for {O365_IDENTIFIER} (see adfs.o365-relying-party).")
    rules = trust.issuance_rules
    if rules is None:
        raise CannotDetermine(f"The export does not carry the issuance transform rules of {trust.name!r} (collector v1): "
                              "re-run the bundled collector.")
    if rules.parse_error:
        raise CannotDetermine(f"The issuance transform rules of {trust.name!r} could not be parsed: {rules.parse_error}.",
                              {"trust": trust.name})
    upn_sources = rules.sources_of(UPN_CLAIM)
    id_sources = rules.sources_of(IMMUTABLE_ID_CLAIM)
    anchor, how = _expected_anchor(ctx)
    upn_attribute = ctx.config.adfs.upn_attribute
    evidence: dict[str, Any] = {"trust": trust.name, "rules": list(rules.rule_names),
                                "immutable_id_sources": _describe(id_sources or ()),
                                "upn_sources": _describe(upn_sources or ()), "expected_source_anchor": anchor,
                                "source_anchor_known": how, "expected_upn_attribute": upn_attribute}
    missing = [name for name, sources in (("ImmutableID", id_sources), ("UPN", upn_sources)) if not sources]
    if missing:
        return Outcome(Status.FAIL, f"The rules of {trust.name!r} issue no {' and no '.join(missing)} claim: Entra ID "
                                    f"cannot match the user to a synchronised account.", evidence=evidence)
    assert id_sources is not None and upn_sources is not None
    kind = immutable_id_source(id_sources)
    evidence["immutable_id_from"] = kind
    if kind == "literal":
        return Outcome(Status.FAIL, f"The rules of {trust.name!r} issue a constant ImmutableID: every user would be "
                                    f"the same account.", evidence=evidence, blocker=True)
    id_status, id_sentence = _judge_immutable_id(kind, anchor, how)
    upn_kind = _upn_source(upn_sources, upn_attribute)
    rewritten = any(s.transformed for s in (*id_sources, *upn_sources))
    statuses = [id_status]
    sentences = [id_sentence]
    if upn_kind == "wrong":
        statuses.append(Status.FAIL)
        sentences.append(f"UPN is issued from {', '.join(_describe(upn_sources))}, not {upn_attribute}")
    elif upn_kind == "unknown":
        statuses.append(Status.WARN)
        sentences.append(f"UPN is issued from {', '.join(_describe(upn_sources))}, which this analysis cannot follow "
                         f"to an attribute (expected {upn_attribute})")
    elif rewritten:
        statuses.append(Status.WARN)
        sentences.append("a rule rewrites the ImmutableID or UPN value on the way")
    issuer_blocks = _judge_issuers(ctx, rules, statuses, sentences, evidence)
    order = (Status.FAIL, Status.WARN, Status.INFO, Status.PASS)
    status = next(s for s in order if s in statuses)
    return Outcome(status, "; ".join(sentences) + ".", evidence=evidence,
                   blocker=None if issuer_blocks else False if status is Status.FAIL else None)


def _judge_issuers(ctx: CheckContext, rules: ClaimRuleSet, statuses: list[Status], sentences: list[str],
                   evidence: dict[str, Any]) -> bool:
    """Compare, per domain of Entra's federation settings, the issuer the rules give its users with
    the issuerUri Entra holds; add the statuses and sentences; True when a mismatch blocks sign-in."""
    entra = ctx.facts.get(ENTRA_FEDERATION_FACT)
    if not isinstance(entra, EntraFederationFacts) or not entra.configured or not entra.domains:
        return False
    identifier = adfs_identifier(ctx)
    held = {d.domain.lower(): d.issuer_uri for d in entra.domains if d.issuer_uri}
    compared: dict[str, Any] = {}
    blocks = False
    for domain in sorted(held):
        parent = parent_domain(domain, frozenset(held))
        needed = held[parent] if parent else held[domain]
        issued = issuer_for_user(rules, sample_upn(domain), identifier)
        compared[domain] = {"entra_issuer_uri": needed, "inherited_from": parent, "adfs_issues": issued.value,
                            "how": issued.how, "issuerid_rule": issued.rule}
        if issued.value is None:
            statuses.append(Status.WARN)
            sentences.append(f"the issuer the rules give users of {domain} cannot be computed ({issued.how}); Entra ID "
                             f"expects {needed!r}")
            continue
        difference = compare_issuers(issued.value, needed)
        if difference is None:
            continue
        if difference in CERTAIN_MISMATCH:
            statuses.append(Status.FAIL)
            blocks = True
            sentences.append(f"users of {domain} get the issuer {issued.value!r} ({issued.how}), but Entra ID holds "
                             f"{needed!r}{f' (inherited from {parent})' if parent else ''} for them: sign-in fails "
                             f"with AADSTS50107")
        else:
            statuses.append(Status.WARN)
            sentences.append(f"users of {domain} get the issuer {issued.value!r} and Entra ID holds {needed!r}: they "
                             f"differ only by {difference}, which Entra ID may refuse (AADSTS50107)")
    evidence["issuer_by_domain"] = compared
    evidence["adfs_identifier"], evidence["adfs_identifier_source"] = identifier.value, identifier.source
    if compared and all(v["adfs_issues"] is not None and compare_issuers(v["adfs_issues"], v["entra_issuer_uri"]) is None
                        for v in compared.values()):
        sentences.append(f"users of {', '.join(compared)} get the issuer Entra ID holds for their domain")
    return blocks


#: Set-AdfsProperties -ExtranetLockoutMode is a flags enum (ExtranetLockoutModes in
#: Microsoft.IdentityServer.PolicyModel.Configuration: ADPasswordCounter = 1, ADFSSmartLockoutLogOnly = 2,
#: ADFSSmartLockoutEnforce = 4, as the AD FS module's type shows, e.g. its stub in github.com/X-Guardian/AdfsDsc,
#: Tests/Unit/Stubs/AdfsStub.psm1). Windows PowerShell 5.1's ConvertTo-Json writes the number.
_LOCKOUT_FLAGS = {"adpasswordcounter": 1, "adfssmartlockoutlogonly": 2, "adfssmartlockoutenforce": 4}
_LOCKOUT_NAMES = {1: "ADPasswordCounter", 2: "ADFSSmartLockoutLogOnly", 4: "ADFSSmartLockoutEnforce"}


def _lockout_flags(mode: str) -> int | None:
    """The ExtranetLockoutMode value as flags: a number as ConvertTo-Json writes it, or the names
    Get-AdfsProperties prints (several joined by ", "; Microsoft's examples write "Adfs..."), case
    insensitive. None for anything else."""
    text = mode.strip()
    if text.isdigit():
        return int(text) if len(text) <= 4 else None
    flags = 0
    for part in text.split(","):
        flag = _LOCKOUT_FLAGS.get(part.strip().lower().replace(" ", ""))
        if flag is None:
            return None
        flags |= flag
    return flags


#: From log-only to enforced (Microsoft Learn, "AD FS Extranet Lockout and Extranet Smart Lockout":
#: set the mode, then restart the AD FS service on every node of the farm).
_ENFORCE_FIX = ("Once the familiar locations log-only mode records look right (after 3-7 days), enforce it: "
                "Set-AdfsProperties -ExtranetLockoutMode AdfsSmartLockoutEnforce, then restart adfssrv on every node "
                "of the farm.")
_ENFORCE_COMMANDS = ("Set-AdfsProperties -ExtranetLockoutMode AdfsSmartLockoutEnforce",
                     "Restart-Service adfssrv  # on every AD FS server of the farm")


@check(id="adfs.smart-lockout", title="Extranet Smart Lockout enforced", area=Area.ADFS, severity=Severity.MEDIUM,
       blocker=False, requires=(ADFS_EXPORT_FACT,),
       rule="Extranet lockout is on in Extranet Smart Lockout's enforce mode (ADFSSmartLockoutEnforce, 4); log-only "
            "mode (ADFSSmartLockoutLogOnly, 2, or AD FS 2019's mode 3, ADPasswordCounter + ADFSSmartLockoutLogOnly, "
            "which keeps the soft lockout while ESL logs) is a warn; the classic soft lockout (ADPasswordCounter, 1, "
            "the default; none on AD FS 2012 R2) is info; a combination Microsoft does not document is not determined.",
       remediation="Set-AdfsProperties -EnableExtranetLockout $true -ExtranetLockoutMode AdfsSmartLockoutLogOnly, review "
                   "the familiar locations it records for a while (3-7 days), then Set-AdfsProperties "
                   "-ExtranetLockoutMode AdfsSmartLockoutEnforce and restart adfssrv on every node.",
       references=(REF_EXTRANET_LOCKOUT, REF_SET_ADFSPROPERTIES))
def smart_lockout(ctx: CheckContext) -> Outcome:
    """The modes of ExtranetLockoutMode as Microsoft documents them (Microsoft Learn, "AD FS Extranet
    Lockout and Extranet Smart Lockout": ADPasswordCounter the default legacy soft lockout,
    ADFSSmartLockoutLogOnly, ADFSSmartLockoutEnforce, and on AD FS 2019 ``Set-AdfsProperties
    -ExtranetLockoutMode 3``, "a bitwise combination of ADPasswordCounter and ADFSSmartLockoutLogOnly"),
    by name or by number (a flags enum: 1, 2, 4; see ``_LOCKOUT_FLAGS``): PASS in enforce mode (4);
    WARN in log-only mode (2, or 3 with the soft lockout kept) or with extranet lockout off; INFO
    for the classic soft lockout (1, or no mode at all: AD FS 2012 R2); ERROR for a value or a
    combination Microsoft does not document (0, 5, 6, 7, another name), naming what it holds."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    props = need(export.properties, "its properties", export)
    enabled = need(props.enable_extranet_lockout, "EnableExtranetLockout", export)
    mode = props.extranet_lockout_mode
    flags = _lockout_flags(mode) if mode is not None else 1
    names = [name for bit, name in _LOCKOUT_NAMES.items() if flags is not None and flags & bit]
    evidence: dict[str, Any] = {"EnableExtranetLockout": enabled, "ExtranetLockoutMode": mode,
                                "mode_flags": flags, "mode_names": names}
    if not enabled:
        return Outcome(Status.WARN, "Extranet lockout is off, so Extranet Smart Lockout does not protect accounts.",
                       evidence=evidence)
    if flags == 4:
        return Outcome(Status.PASS, "Extranet Smart Lockout is enforced (ADFSSmartLockoutEnforce).", evidence=evidence)
    if flags in (2, 3):
        # Already logging: the next step is enforcing, not the log-only command that opens the
        # remediation (the action plan would otherwise offer the state the farm is in).
        evidence["commands"] = list(_ENFORCE_COMMANDS)
    if flags == 2:
        return Outcome(Status.WARN, "Extranet Smart Lockout only logs (AdfsSmartLockoutLogOnly): it locks nobody out.",
                       evidence=evidence, remediation=_ENFORCE_FIX)
    if flags == 3:
        return Outcome(Status.WARN, "Extranet Smart Lockout only logs while the classic soft lockout stays enforced "
                                    "(AD FS 2019's mode 3): move to AdfsSmartLockoutEnforce once the familiar "
                                    "locations are learnt.", evidence=evidence, remediation=_ENFORCE_FIX)
    if flags == 1:
        return Outcome(Status.INFO, "The classic extranet soft lockout is on (ADPasswordCounter, no Extranet Smart "
                                    "Lockout): a password attack also locks the real user out from the extranet.",
                       evidence=evidence)
    held = (f"the flags {' + '.join(names)} ({flags})" if names else f"the value {mode!r}")
    raise CannotDetermine(f"ExtranetLockoutMode holds {held}, which Microsoft does not document (Set-AdfsProperties "
                          f"documents ADPasswordCounter = 1, ADFSSmartLockoutLogOnly = 2, ADFSSmartLockoutEnforce = 4, "
                          f"and AD FS 2019 the combination 3).", evidence)


def _mfa_configured(export: AdfsExport) -> bool | None:
    providers = export.authentication_providers
    if providers is not None:
        return any(p.name.lower() == AZURE_MFA_PROVIDER.lower() for p in providers)
    if any(c.role == "azure-mfa" for s in export.servers for c in s.certificates or ()):
        return True
    return None


def _registered(cert: StoredCertificate, client: EntraMfaClient) -> bool:
    info = cert.certificate
    for credential in client.key_credentials:
        if credential.thumbprint and credential.thumbprint == cert.thumbprint:
            return True
        if credential.certificate is not None and info is not None and credential.certificate.sha1 == info.sha1:
            return True
    return False


@check(id="adfs.mfa-adapter-certificate", title="Azure MFA adapter certificate", area=Area.ADFS, severity=Severity.HIGH,
       blocker=False, requires=(ADFS_EXPORT_FACT, ENTRA_MFA_CLIENT_FACT),
       rule="When the Azure MFA adapter (AzureMfaAuthentication) is configured, each AD FS server holds its "
            "certificate (CN=<tenant id>, OU=Microsoft AD FS Azure MFA) with thresholds.mfa_certificate_warn_days (60) "
            "or more left; with live Graph, the certificate is a key credential of the Azure Multi-Factor Auth Client "
            f"service principal (appId {AZURE_MFA_CLIENT_APP_ID}); expired credentials still registered are listed.",
       remediation="Renew it: New-AdfsAzureMfaTenantCertificate -TenantId <tenant id> on each AD FS server, register "
                   "the new certificate on the Azure Multi-Factor Auth Client service principal "
                   "(New-MgServicePrincipalKeyCredential / Update-MgServicePrincipal keyCredentials), restart adfssrv; "
                   "remove expired credentials afterwards.",
       references=(REF_AZURE_MFA,))
def mfa_adapter_certificate(ctx: CheckContext) -> list[Outcome] | Outcome:
    """SKIP when the adapter is not configured. Per AD FS server: FAIL when its certificate is
    missing or expired, or (with Graph) not registered on the service principal; WARN within the
    threshold; ERROR when Graph is configured but could not be read; PASS otherwise. Expired key
    credentials on the service principal are listed in the evidence."""
    export = export_of(ctx)
    if export is None:
        return NO_EXPORT
    configured = _mfa_configured(export)
    if configured is None:
        raise CannotDetermine("The export does not list the authentication providers (collector v1): whether the Azure "
                              "MFA adapter is configured is unknown.")
    if not configured:
        return Outcome(Status.SKIP, "The Azure MFA adapter (AzureMfaAuthentication) is not configured.")
    client: EntraMfaClient = ctx.fact(ENTRA_MFA_CLIENT_FACT)
    stale = [c for c in client.key_credentials if c.end is not None and c.end <= ctx.now]
    stale_evidence = [{"key_id": c.key_id, "display_name": c.display_name, "thumbprint": c.thumbprint,
                       "end": c.end.isoformat() if c.end else None} for c in stale]
    warn_days = ctx.config.thresholds.mfa_certificate_warn_days
    outcomes = []
    servers = [s for s in export.servers if s.role == ROLE_ADFS and s.described]
    if not servers:
        raise CannotDetermine("No AD FS server export carries its certificate store (collector v2 Server section).")
    for server in servers:
        certificates = [c for c in server.certificates or () if c.role == "azure-mfa"]
        usable = [(c.certificate.not_after, c) for c in certificates
                  if c.in_store and c.certificate is not None and c.certificate.not_after is not None]
        current = max(usable, key=lambda pair: pair[0])[1] if usable else None
        evidence: dict[str, Any] = {"server": server.label, "graph": client.source if client.configured else None,
                                    "stale_credentials": stale_evidence}
        if current is None or current.certificate is None or current.certificate.not_after is None:
            outcomes.append(Outcome(Status.FAIL, f"{server.label}: the Azure MFA adapter is configured but its "
                                                 f"certificate is not in LocalMachine\\My: MFA fails on this server.",
                                    evidence=evidence, target=server.label))
            continue
        left = days_left(current.certificate.not_after, ctx.now)
        evidence.update(thumbprint=current.thumbprint, subject=current.certificate.subject,
                        not_after=current.certificate.not_after.isoformat(), days_left=left)
        if current.certificate.not_after <= ctx.now:
            outcomes.append(Outcome(Status.FAIL, f"{server.label}: the Azure MFA adapter certificate expired "
                                                 f"{-left} days ago.", evidence=evidence, target=server.label))
            continue
        if client.configured:
            if client.problems or client.found is None:
                outcomes.append(Outcome(Status.ERROR, f"{server.label}: the certificate has {left} days left; whether "
                                                      f"Entra ID holds it could not be read: "
                                                      f"{'; '.join(client.problems) or 'no answer'}.",
                                        evidence=evidence, target=server.label))
                continue
            registered = client.found and _registered(current, client)
            evidence["registered_in_entra"] = registered
            if not registered:
                outcomes.append(Outcome(Status.FAIL, f"{server.label}: its Azure MFA certificate {current.thumbprint} is "
                                                     f"not a key credential of the Azure Multi-Factor Auth Client service "
                                                     f"principal: Entra ID refuses the adapter.", evidence=evidence,
                                        target=server.label))
                continue
        stale_note = f"; {len(stale)} expired credential(s) still on the service principal" if stale else ""
        if left < warn_days:
            outcomes.append(Outcome(Status.WARN, f"{server.label}: the Azure MFA adapter certificate expires in {left} "
                                                 f"days{stale_note}.", evidence=evidence, target=server.label))
        else:
            registered_note = ", registered in Entra ID" if client.configured else ""
            outcomes.append(Outcome(Status.PASS, f"{server.label}: the Azure MFA adapter certificate has {left} days "
                                                 f"left{registered_note}{stale_note}.", evidence=evidence,
                                    target=server.label))
    return outcomes
