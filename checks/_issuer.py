"""The issuer Entra ID finds a user's domain by, shared by cloud.issuer-uri and adfs.o365-claim-rules
(private to ``adfs_readiness_checks``; pure, no I/O, no clock).

What Microsoft documents ("Multiple Domain Support for Federating with Microsoft Entra ID",
https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-install-multiple-domains):

* Entra ID looks the user's domain up by the issuer of the token: the issuerid claim when the
  Microsoft Office 365 Identity Platform trust issues one, else the token's own Issuer, which is
  AD FS's federation service identifier. A domain federated without SupportMultipleDomain gets that
  identifier as its issuerUri ("By default, Microsoft Entra ID sets the URI to the value of the
  federation service identifier").
* With SupportMultipleDomain the issuerUri is ``http://<domain>/adfs/services/trust/`` and the trust's
  issuerid rule makes the same value from the user's UPN suffix:
  ``regexreplace(c.Value, ".+@(?<domain>.+)", "http://${domain}/adfs/services/trust/")``. Entra
  Connect writes the same rule with its domains listed (and a constant issuerid for domain-joined
  computers).
* A subdomain inherits its parent's settings, so its users need the parent's issuerUri: the plain
  rule issues ``http://<subdomain>/...``, "which won't match the domain's required value and
  authentication fails"; the page gives a rule that strips the subdomain.

Entra ID compares the issuer as a string (a mismatch is AADSTS50107, "The requested federation realm
object ... does not exist"); whether it forgives letter case or a trailing slash is not documented,
so such a difference is reported as a risk, not as a match.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import regex

from adfs_readiness.api import CheckContext
from adfs_readiness.facts import METADATA_FACT
from adfs_readiness.facts.adfs_export import ADFS_EXPORT_FACT, AdfsExport, AdfsTrust
from adfs_readiness.facts.claim_rules import UPN_CLAIM, ClaimRuleSet

__all__ = ["O365_IDENTIFIER", "AdfsIdentifier", "IssuerForUser", "adfs_identifier", "multiple_domain_issuer",
           "issuer_for_user", "compare_issuers", "o365_trust", "sample_upn", "CERTAIN_MISMATCH", "parent_domain"]

O365_IDENTIFIER = "urn:federation:MicrosoftOnline"
#: A rule's regular expression runs on one short UPN; a hostile export's pattern is cut off here.
_REGEX_SECONDS = 0.2


@dataclass(frozen=True)
class AdfsIdentifier:
    """AD FS's federation service identifier and where it was read (``known`` False: not read in
    this run, ``value`` None)."""

    value: str | None
    source: str

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class IssuerForUser:
    """The issuer a token for a user carries in AD FS's eyes: ``value`` (None when it cannot be
    computed), ``how`` in words, ``rule`` the issuerid rule that makes it (None: no rule, the
    token's Issuer is AD FS's identifier)."""

    value: str | None
    how: str
    rule: str | None = None


def adfs_identifier(ctx: CheckContext) -> AdfsIdentifier:
    """The identifier AD FS actually uses, most authoritative first: the entityID of the federation
    metadata this run read, AD FS's Identifier property from an AD FS export, the configured
    ``federation.expected_issuer``. The default (http://<fs>/adfs/services/trust) is never
    assumed: a farm may have been set up with another identifier."""
    metadata = ctx.facts.get(METADATA_FACT)
    document = getattr(metadata, "document", None)
    if document is not None and getattr(document, "entity_id", None):
        return AdfsIdentifier(document.entity_id, "the entityID of the federation metadata AD FS publishes")
    export = ctx.facts.get(ADFS_EXPORT_FACT)
    properties = getattr(export, "properties", None) if getattr(export, "configured", False) else None
    if properties is not None and properties.identifier:
        return AdfsIdentifier(properties.identifier, "AD FS's Identifier property (Get-AdfsProperties, AD FS export)")
    if ctx.config.federation.expected_issuer:
        return AdfsIdentifier(ctx.config.federation.expected_issuer, "the configured federation.expected_issuer")
    return AdfsIdentifier(None, "AD FS's identifier was not read in this run (no federation metadata, no AD FS "
                                "export, no federation.expected_issuer)")


def parent_domain(domain: str, domains: set[str] | frozenset[str]) -> str | None:
    """The shortest of ``domains`` that ``domain`` is a subdomain of (whose settings Entra ID makes
    it inherit), or None."""
    parents = [d for d in domains if domain != d and domain.endswith("." + d)]
    return min(parents, key=len) if parents else None


def multiple_domain_issuer(domain: str) -> str:
    """``http://<domain>/adfs/services/trust/``: the SupportMultipleDomain issuerUri of ``domain``
    and what Microsoft's issuerid rule issues for its users."""
    return f"http://{domain.lower().rstrip('.')}/adfs/services/trust/"


def sample_upn(domain: str) -> str:
    """A UPN of ``domain`` to compute the issuerid rule's output with (the rule reads only the
    suffix)."""
    return f"someone@{domain.rstrip('.')}"


def compare_issuers(found: str, expected: str) -> str | None:
    """None when ``found`` is exactly ``expected``; otherwise how they differ: "a trailing slash",
    "letter case" (possibly "and a trailing slash") or "the scheme (http/https)" when only that
    differs, else "different". Entra ID compares the strings; its tolerance of the first two is not
    documented."""
    if found == expected:
        return None
    if found.rstrip("/") == expected.rstrip("/"):
        return "a trailing slash"
    try:
        a, b = urlsplit(found), urlsplit(expected)
        a_port, b_port = a.port, b.port
    except ValueError:
        return "different"
    same_place = ((a.hostname or ""), a_port, a.path.rstrip("/"), a.query) == \
        ((b.hostname or ""), b_port, b.path.rstrip("/"), b.query)
    if same_place and a.scheme.lower() == b.scheme.lower():
        return "letter case" + (" and a trailing slash" if a.path.endswith("/") != b.path.endswith("/") else "")
    if same_place:
        return "the scheme (http/https)"
    return "different"


#: Differences that are a mismatch for certain when the exact value AD FS issues is known.
CERTAIN_MISMATCH = ("different", "the scheme (http/https)")


def o365_trust(export: AdfsExport | None) -> AdfsTrust | None:
    """The Microsoft Office 365 Identity Platform relying-party trust of an export, or None."""
    if export is None or not export.configured or not export.relying_parties:
        return None
    return next((t for t in export.relying_parties
                 if O365_IDENTIFIER.lower() in (i.lower() for i in t.identifiers)), None)


def _replacement(text: str) -> str | None:
    """A .NET Regex.Replace replacement (``$1``, ``${name}``, ``$$``, ``$&``; a backslash is a
    plain character) in the ``regex`` module's syntax, or None for a form not translated
    (https://learn.microsoft.com/dotnet/standard/base-types/substitutions-in-regular-expressions)."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        following = text[index + 1:index + 2]
        if char == "\\":
            out.append("\\\\")
        elif char != "$":
            out.append(char)
        elif following == "$":
            out.append("$")
            index += 1
        elif following == "&":
            out.append("\\g<0>")
            index += 1
        elif following == "{":
            end = text.find("}", index)
            name = text[index + 2:end] if end > 0 else ""
            if not (name.isdigit() or name.isidentifier()):
                return None
            out.append(f"\\g<{name}>")
            index = end
        elif following.isdigit():
            end = index + 1
            while end < len(text) and text[end].isdigit():
                end += 1
            out.append(f"\\g<{text[index + 1:end]}>")
            index = end - 1
        elif following in ("`", "'", "+", "_"):
            return None  # the text before / after the match, the last group, the whole input
        else:
            out.append("$")  # .NET: a "$" that starts no substitution is literal
        index += 1
    return "".join(out)


def issuer_for_user(rules: ClaimRuleSet, upn: str, identifier: AdfsIdentifier) -> IssuerForUser:
    """The issuer Entra ID reads from AD FS's token for a user signing in as ``upn``, computed from
    the trust's issuerid rules (AD FS's RegexReplace is .NET's Regex.Replace: every match is replaced,
    an input that does not match is kept as it is). Without an issuerid rule for users it is AD FS's
    identifier (``value`` None when that is not known)."""
    applicable = [r for r in rules.issuer_id_rules if r.accounts in ("users", "all")]
    if not applicable:
        return IssuerForUser(identifier.value, "no issuerid rule applies to user sign-ins, so Entra ID reads the "
                                               "token's Issuer: AD FS's identifier"
                             + ("" if identifier.known else f" ({identifier.source})"))
    if len(applicable) > 1:
        names = ", ".join(repr(r.rule) for r in applicable)
        return IssuerForUser(None, f"{len(applicable)} rules issue an issuerid claim for users ({names}): which one "
                                   f"Entra ID reads cannot be told")
    rule = applicable[0]
    if rule.value == "literal":
        return IssuerForUser(rule.literal, f"the rule {rule.rule!r} issues the constant {rule.literal!r}", rule.rule)
    if rule.value != "regexreplace" or rule.pattern is None or rule.replacement is None:
        return IssuerForUser(None, f"the issuerid value of the rule {rule.rule!r} is an expression this analysis does "
                                   f"not compute", rule.rule)
    if (rule.input_claim or "").lower() != UPN_CLAIM.lower():
        return IssuerForUser(None, f"the rule {rule.rule!r} rewrites {rule.input_claim or 'a claim'}, not the UPN: its "
                                   f"value for a user of the domain cannot be computed here", rule.rule)
    replacement = _replacement(rule.replacement)
    if replacement is None:
        return IssuerForUser(None, f"the rule {rule.rule!r} uses a .NET substitution this analysis does not compute "
                                   f"({rule.replacement!r})", rule.rule)
    try:
        value = regex.sub(rule.pattern, replacement, upn, timeout=_REGEX_SECONDS)
    except (regex.error, IndexError, TimeoutError) as exc:
        return IssuerForUser(None, f"the regular expression of the rule {rule.rule!r} could not be evaluated "
                                   f"({type(exc).__name__}: {exc})", rule.rule)
    return IssuerForUser(value, f"the rule {rule.rule!r} turns {upn} into {value!r}", rule.rule)
