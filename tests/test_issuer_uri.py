"""Entra ID's issuerUri against what AD FS really issues (cloud.issuer-uri and the issuer half of
adfs.o365-claim-rules), for the whole class of real setups Microsoft documents in "Multiple Domain
Support for Federating with Microsoft Entra ID":

* a farm whose identifier is not the default http://<fs>/adfs/services/trust (cloud.issuer-uri used
  to compare Entra's issuerUri with the configured/default identifier, so such a farm failed
  although Entra held exactly the entityID AD FS publishes, and a farm whose Entra value was the
  default passed although AD FS issues its own identifier);
* SupportMultipleDomain issuerUris (http://<domain>/adfs/services/trust/), their near misses, and
  subdomains, which inherit the parent's value and need the rule that strips the subdomain;
* with an AD FS export: what the Microsoft 365 trust's issuerid rule (a .NET RegexReplace) makes of a
  user's UPN, compared with Entra's value, by both checks.

Checks are judged on built facts, the rule sets parsed by the real claim rule parser."""

from __future__ import annotations

import pytest
from conftest import FIXED_NOW
from factories import document, metadata_fact

from adfs_readiness.api import CheckContext
from adfs_readiness.facts.adfs_export import AdfsExport, AdfsProperties, AdfsTrust
from adfs_readiness.facts.cloud import DomainFederation, EntraFederationFacts
from adfs_readiness.model import Outcome, Status
from adfs_readiness.probes.claim_rules import parse_claim_rules
from adfs_readiness.settings import FederationSettings, Settings
from adfs_readiness_checks import adfs_identity, cloud

FS = "sts.contoso.com"
DEFAULT = f"http://{FS}/adfs/services/trust"
CUSTOM = "https://fs.contoso.com/federation/identity"  # an identifier someone chose at setup
UPN_RULES = ('@RuleName = "Issue UPN" c:[Type == "http://schemas.microsoft.com/ws/2008/06/identity/claims/'
             'windowsaccountname"] => issue(store = "Active Directory", types = ("http://schemas.xmlsoap.org/claims/UPN", '
             '"http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"), query = "samAccountName={0};'
             'userPrincipalName,objectGUID;{1}", param = regexreplace(c.Value, "(?<domain>[^\\\\]+)\\\\(?<user>.+)", '
             '"${user}"), param = c.Value);\n')
ISSUERID = "http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid"
#: Microsoft's SupportMultipleDomain rule, and its subdomain variant, from the Learn page.
PLAIN_RULE = (f'c:[Type == "http://schemas.xmlsoap.org/claims/UPN"] => issue(Type = "{ISSUERID}", Value = '
              'regexreplace(c.Value, ".+@(?<domain>.+)", "http://${domain}/adfs/services/trust/"));')
SUBDOMAIN_RULE = (f'c:[Type == "http://schemas.xmlsoap.org/claims/UPN"] => issue(Type = "{ISSUERID}", Value = '
                  'regexreplace(c.Value, "^.*@([^.]+\\.)*?(?<domain>([^.]+\\.?){2})$", '
                  '"http://${domain}/adfs/services/trust/"));')
#: Entra Connect's rules (tests/corpus/claimrules/entra_connect_o365_issuance_qna2022_DERIVED.txt): the
#: federated domains listed, a constant issuerid for domain-joined computers.
ENTRA_CONNECT_RULES = (
    '@RuleName = "Issue accounttype for domain-joined computers" c:[Type == "http://schemas.microsoft.com/ws/2008/06/'
    'identity/claims/groupsid", Value =~ "-515$"] => issue(Type = "http://schemas.microsoft.com/ws/2012/01/accounttype", '
    'Value = "DJ");\n'
    '@RuleName = "Issue AccountType with the value USER" NOT EXISTS([Type == "http://schemas.microsoft.com/ws/2012/01/'
    'accounttype", Value == "DJ"]) => add(Type = "http://schemas.microsoft.com/ws/2012/01/accounttype", Value = "User");\n'
    '@RuleName = "Issue issuerid when it is not a computer account" c1:[Type == "http://schemas.xmlsoap.org/claims/UPN"] '
    '&& c2:[Type == "http://schemas.microsoft.com/ws/2012/01/accounttype", Value == "User"] => issue(Type = '
    f'"{ISSUERID}", Value = regexreplace(c1.Value, "(?i)(^([^@]+)@)(?<domain>(contoso\\.com|fabrikam\\.com))$", '
    '"http://${domain}/adfs/services/trust/"));\n'
    '@RuleName = "Issue issuerid for DJ computer auth" c1:[Type == "http://schemas.microsoft.com/ws/2012/01/accounttype",'
    f' Value == "DJ"] => issue(Type = "{ISSUERID}", Value = "http://contoso.com/adfs/services/trust/");')


def entra(**domains: str) -> EntraFederationFacts:
    """Entra's federation settings: domain (dots written as "_") -> issuerUri."""
    return EntraFederationFacts(configured=True, source="entra.json", source_kind="file",
                                domains=tuple(DomainFederation(d.replace("_", "."), issuer_uri=u)
                                              for d, u in domains.items()))


def export(rules: str | None, identifier: str | None = None) -> AdfsExport:
    trusts = () if rules is None else (AdfsTrust("relying_party", "Microsoft Office 365 Identity Platform",
                                                 ("urn:federation:MicrosoftOnline",), True,
                                                 issuance_rules=parse_claim_rules(UPN_RULES + rules)),)
    return AdfsExport(configured=True, source="adfs1.json", properties=AdfsProperties(hostname=FS, identifier=identifier),
                      relying_parties=trusts)


def settings(**federation) -> Settings:
    return Settings(federation=FederationSettings(service_name=FS, **federation))


def issuer_uri(facts: dict, **federation) -> dict[str, Outcome]:
    ctx = CheckContext(facts=facts, config=settings(**federation), now=FIXED_NOW)
    return {o.target: o for o in cloud.issuer_uri.function(ctx)}


def _anchored() -> Settings:
    return settings().with_changes(adfs={"source_anchor": "objectGUID"})


def metadata(entity_id: str) -> object:
    return metadata_fact(document(host=FS, entity_id=entity_id))


# --- the identifier AD FS really publishes ---------------------------------------------------------

@pytest.mark.parametrize("where", ["metadata", "export"])
def test_a_customised_identifier_is_judged_by_what_ad_fs_publishes(where):
    source = {"metadata": {"metadata": metadata(CUSTOM)}, "export": {"adfs_export": export(None, CUSTOM)}}[where]
    found = issuer_uri({"entra_federation": entra(contoso_com=CUSTOM, fabrikam_com=DEFAULT), **source})
    ok, stale = found["contoso.com"], found["fabrikam.com"]
    assert ok.status is Status.PASS and "is AD FS's identifier" in ok.summary, ok.summary
    assert ok.evidence["adfs_identifier"] == CUSTOM
    assert ("entityID" if where == "metadata" else "Get-AdfsProperties") in ok.evidence["adfs_identifier_source"]
    # The default form is not what this farm issues: a real AADSTS50107 (it used to pass).
    assert stale.status is Status.FAIL and f"expected AD FS's identifier {CUSTOM!r}" in stale.summary
    assert "AADSTS50107" in stale.summary


def test_the_entity_id_wins_over_a_configured_identifier():
    found = issuer_uri({"entra_federation": entra(contoso_com=CUSTOM), "metadata": metadata(CUSTOM)},
                       expected_issuer=DEFAULT)
    assert found["contoso.com"].status is Status.PASS


def test_an_identifier_nobody_read_is_not_assumed():
    """Neither metadata nor export nor configuration: the default is not assumed, so a value that
    can only be the identifier is not determined; the SupportMultipleDomain form needs no identifier."""
    found = issuer_uri({"entra_federation": entra(contoso_com=DEFAULT, fabrikam_com="http://fabrikam.com/adfs/services/trust/")})
    assert found["contoso.com"].status is Status.ERROR
    assert "whether it is AD FS's identifier could not be determined" in found["contoso.com"].summary
    assert "no federation metadata, no AD FS export" in found["contoso.com"].summary
    configured = issuer_uri({"entra_federation": entra(contoso_com=DEFAULT)}, expected_issuer=DEFAULT)
    assert configured["contoso.com"].status is Status.PASS


# --- the SupportMultipleDomain form as Microsoft documents it ---------------------------------------

@pytest.mark.parametrize("uri, status, words", [
    ("http://contoso.com/adfs/services/trust/", Status.PASS, "the SupportMultipleDomain form Microsoft documents"),
    ("http://contoso.com/adfs/services/trust", Status.WARN, "only by a trailing slash"),
    ("https://contoso.com/adfs/services/trust/", Status.WARN, "only by the scheme (http/https)"),
    ("http://Contoso.com/adfs/services/trust/", Status.WARN, "only by letter case"),
    ("http://other.com/adfs/services/trust/", Status.FAIL, "expected AD FS's identifier"),
])
def test_the_multiple_domain_form_and_its_near_misses(uri, status, words):
    (found,) = issuer_uri({"entra_federation": entra(contoso_com=uri), "metadata": metadata(DEFAULT)}).values()
    assert found.status is status and words in found.summary, found.summary


def test_subdomains_and_mixed_styles_without_the_rules():
    found = issuer_uri({"metadata": metadata(DEFAULT), "entra_federation": entra(
        contoso_com="http://contoso.com/adfs/services/trust/", sales_contoso_com="http://contoso.com/adfs/services/trust/",
        fabrikam_com=DEFAULT, eu_fabrikam_com=DEFAULT)})
    # A subdomain of a SupportMultipleDomain parent needs the rule that strips the subdomain.
    sub = found["sales.contoso.com"]
    assert sub.status is Status.WARN and "strips the subdomain" in sub.summary
    assert "'http://sales.contoso.com/adfs/services/trust/'" in sub.summary
    # A subdomain of an identifier-style parent gets the identifier: no issuerid rule involved.
    assert found["eu.fabrikam.com"].status is Status.PASS
    # Both styles together work only with a rule that lists the multiple-domain ones.
    for domain in ("contoso.com", "fabrikam.com"):
        assert found[domain].status is Status.WARN and "Entra Connect's rule lists them" in found[domain].summary


# --- with the rules: what AD FS issues for the domain's users --------------------------------------

def test_entra_connect_rules_are_evaluated_per_domain():
    facts = {"metadata": metadata(DEFAULT), "adfs_export": export(ENTRA_CONNECT_RULES), "entra_federation": entra(
        contoso_com="http://contoso.com/adfs/services/trust/", fabrikam_com="http://fabrikam.com/adfs/services/trust/",
        tailspin_com=DEFAULT)}
    found = issuer_uri(facts)
    for domain in ("contoso.com", "fabrikam.com"):
        assert found[domain].status is Status.PASS and "is what AD FS issues for its users" in found[domain].summary
        assert found[domain].evidence["issuerid_rule"] == "Issue issuerid when it is not a computer account"
    # tailspin.com is not in the rule's list: .NET's Regex.Replace leaves the UPN as it is, so the
    # token's issuerid is the UPN itself, not the identifier Entra holds.
    assert found["tailspin.com"].status is Status.FAIL
    assert "'someone@tailspin.com'" in found["tailspin.com"].summary and "AADSTS50107" in found["tailspin.com"].summary
    # The same comparison in adfs.o365-claim-rules, blocking.
    rules = adfs_identity.o365_claim_rules.function(CheckContext(facts=facts, config=_anchored(), now=FIXED_NOW))
    assert rules.status is Status.FAIL and rules.blocker is not False
    assert "users of tailspin.com get the issuer 'someone@tailspin.com'" in rules.summary
    assert rules.evidence["issuer_by_domain"]["contoso.com"]["adfs_issues"] == "http://contoso.com/adfs/services/trust/"


@pytest.mark.parametrize("rule, status", [(SUBDOMAIN_RULE, Status.PASS), (PLAIN_RULE, Status.FAIL)])
def test_a_subdomain_needs_the_rule_that_strips_it(rule, status):
    facts = {"metadata": metadata(DEFAULT), "adfs_export": export(rule), "entra_federation": entra(
        contoso_com="http://contoso.com/adfs/services/trust/", sales_contoso_com="http://contoso.com/adfs/services/trust/")}
    found = issuer_uri(facts)
    assert found["contoso.com"].status is Status.PASS
    assert found["sales.contoso.com"].status is status, found["sales.contoso.com"].summary
    rules = adfs_identity.o365_claim_rules.function(CheckContext(facts=facts, config=_anchored(), now=FIXED_NOW))
    assert rules.status is status
    if status is Status.FAIL:
        assert "users of sales.contoso.com get the issuer 'http://sales.contoso.com/adfs/services/trust/'" in rules.summary
        assert "(inherited from contoso.com)" in rules.summary


def test_without_an_issuerid_rule_the_token_carries_the_identifier():
    facts = {"metadata": metadata(CUSTOM), "adfs_export": export(""), "entra_federation": entra(
        contoso_com=CUSTOM, fabrikam_com="http://fabrikam.com/adfs/services/trust/")}
    found = issuer_uri(facts)
    assert found["contoso.com"].status is Status.PASS
    # Entra holds the multiple-domain form, but nothing issues it: the token's issuer is the identifier.
    assert found["fabrikam.com"].status is Status.FAIL and repr(CUSTOM) in found["fabrikam.com"].summary


def test_a_rule_that_cannot_be_evaluated_falls_back_to_the_documented_forms():
    hostile = (f'c:[Type == "http://schemas.xmlsoap.org/claims/UPN"] => issue(Type = "{ISSUERID}", Value = '
               'regexreplace(c.Value, "(?<domain>(a|aa)+)\\.x", "http://${domain}/adfs/services/trust/"));')
    domain = "a" * 40 + ".com"
    facts = {"metadata": metadata(DEFAULT), "adfs_export": export(hostile),
             "entra_federation": EntraFederationFacts(configured=True, source="entra.json", domains=(
                 DomainFederation(domain, issuer_uri=f"http://{domain}/adfs/services/trust/"),))}
    (found,) = issuer_uri(facts).values()
    assert found.status is Status.PASS  # the documented form, the rule being unreadable here
    assert "TimeoutError" in found.evidence["issuerid_not_computed"]
