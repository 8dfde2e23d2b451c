"""Facts about a relying-party trust's issuance transform rules, as parsed from the AD FS claim
rule language: which claim types the rules issue and where each one's value comes from (an AD
attribute, a literal, another claim), so that a check can tell whether the Microsoft 365 trust
issues the ImmutableID from the same source anchor Entra Connect uses, and the UPN from
userPrincipalName.

Rule language: https://learn.microsoft.com/windows-server/identity/ad-fs/technical-reference/the-role-of-the-claim-rule-language.
Imports nothing of ours (DESIGN.md, "Layers").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ClaimSource", "IssuedClaim", "IssuerIdRule", "ClaimRuleSet", "UPN_CLAIM", "IMMUTABLE_ID_CLAIM",
           "AD_UPN_CLAIM", "ISSUER_ID_CLAIM", "ACCOUNT_TYPE_CLAIM"]

#: The claim types Microsoft 365 reads from an AD FS token: the UPN (SAML 1.1 attribute "UPN" in
#: the namespace http://schemas.xmlsoap.org/claims) and the ImmutableID (the source anchor),
#: as the Microsoft Office 365 Identity Platform trust's rules issue them.
UPN_CLAIM = "http://schemas.xmlsoap.org/claims/UPN"
IMMUTABLE_ID_CLAIM = "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"
#: The UPN claim the Active Directory claims provider issues from userPrincipalName itself.
AD_UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
#: The issuer Entra ID looks the user's domain up by when present (else the token's own Issuer,
#: AD FS's identifier): the SupportMultipleDomain rule issues http://<UPN suffix>/adfs/services/trust/
#: ("Multiple Domain Support for Federating with Microsoft Entra ID", Microsoft Learn).
ISSUER_ID_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid"
#: Entra Connect's rules tell user sign-ins ("User") from domain-joined computers ("DJ") by it.
ACCOUNT_TYPE_CLAIM = "http://schemas.microsoft.com/ws/2012/01/accounttype"


@dataclass(frozen=True)
class ClaimSource:
    """Where one issued claim's value comes from.

    ``kind`` is "attribute" (an attribute store query: ``store`` and ``attribute``, e.g. "Active
    Directory" / "mS-DS-ConsistencyGuid"), "incoming" (an incoming claim passed through unchanged
    or transformed: ``claim_type``), "literal" (a constant string) or "unknown" (an expression the
    analysis does not follow: a custom store without a recognisable query, a concatenation).
    ``transformed`` is True when a function (RegexReplace, ...) rewrites the value on the way;
    ``rule`` names the rule (its @RuleName, else "rule N") that issues or adds it.
    """

    kind: str
    rule: str
    store: str | None = None
    attribute: str | None = None
    claim_type: str | None = None
    transformed: bool = False


@dataclass(frozen=True)
class IssuedClaim:
    """A claim type the rules issue to the token (``issue`` statements; ``add`` only feeds later
    rules) and every source its value can come from, following ``add``ed intermediate claims."""

    claim_type: str
    sources: tuple[ClaimSource, ...]


@dataclass(frozen=True)
class IssuerIdRule:
    """One rule that issues the issuerid claim, as far as its value can be computed for a user.

    ``accounts``: whom it applies to, from its accounttype condition: "users" (``Value == "User"``
    or ``Value != "DJ"``), "computers" (``Value == "DJ"``) or "all" (no such condition).
    ``value``: "regexreplace" (``RegexReplace(<input_claim>.Value, pattern, replacement)``, .NET
    regular expression and replacement syntax as written), "literal" (``literal``) or "unknown"
    (an expression this analysis does not compute). ``rule`` names the rule.
    """

    rule: str
    accounts: str
    value: str
    input_claim: str | None = None
    pattern: str | None = None
    replacement: str | None = None
    literal: str | None = None


@dataclass(frozen=True)
class ClaimRuleSet:
    """The parsed rule set: ``rule_count`` rules, ``rule_names`` in order, the ``issued`` claim
    types with their sources, the ``issuer_id_rules`` (every rule issuing the issuerid claim, in
    order); ``parse_error`` (line, column and what was expected) when the text is not valid claim
    rule language, and then nothing else is filled in."""

    rule_count: int = 0
    rule_names: tuple[str, ...] = ()
    issued: tuple[IssuedClaim, ...] = ()
    parse_error: str | None = None
    issuer_id_rules: tuple[IssuerIdRule, ...] = ()

    def sources_of(self, claim_type: str) -> tuple[ClaimSource, ...] | None:
        """The sources of ``claim_type`` (case-insensitive), None when no rule issues it."""
        for claim in self.issued:
            if claim.claim_type.lower() == claim_type.lower():
                return claim.sources
        return None
