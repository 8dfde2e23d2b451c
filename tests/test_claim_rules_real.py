"""adfs.o365-claim-rules on real rule sets (review of issue 15 §2): Entra Connect's complete issuance
transform rules for the Microsoft Office 365 Identity Platform trust as Get-AdfsRelyingPartyTrust
prints them on a real farm (a Microsoft Q&A thread, 2022: every rule Entra Connect's documentation
lists under "Issuance transform rules set by Microsoft Entra Connect", including the
SupportMultipleDomain issuerid rule), the custom ms-DS-ConsistencyGuid rules of Microsoft's "Manage
and customize AD FS" page, the classic Convert-MsolDomainToFederated rule, and the UPN taken from
somewhere the analysis cannot follow. Judged through the export reader and the check, as a run does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adfs_exports import judge, write_farm
from adfs_readiness.lab.pki import LabPki
from adfs_readiness.probes.claim_rules import parse_claim_rules

CLAIM_RULES = Path(__file__).parent / "corpus" / "claimrules"
#: Entra Connect's rule set as Get-AdfsRelyingPartyTrust printed it on a real farm (15 rules).
ENTRA_CONNECT = (CLAIM_RULES / "entra_connect_o365_issuance_qna2022_DERIVED.txt").read_text(encoding="utf-8")
#: Microsoft's custom ms-DS-ConsistencyGuid ImmutableID rules (its own claim types) and Issue UPN.
CUSTOM_CONSISTENCY = (CLAIM_RULES / "msdocs_custom_consistencyguid_immutableid_DERIVED.txt").read_text(encoding="utf-8")
#: The two default rules Convert-MsolDomainToFederated wrote (UPN and ImmutableID=objectGUID from one
#: Active Directory query, then nameidentifier).
CLASSIC = (CLAIM_RULES / "adfs3_o365_default_rules_blog2017_DERIVED.txt").read_text(encoding="utf-8")
# The ImmutableID rules of the custom set alone (its last rule, Issue UPN, dropped).
_IMMUTABLE_FROM_CONSISTENCY = CUSTOM_CONSISTENCY[:CUSTOM_CONSISTENCY.rindex("c:[Type ==")]
#: The UPN from another claims provider (an incoming http://schemas.xmlsoap.org/claims/UPN claim).
UPN_FROM_CLAIMS_PROVIDER = _IMMUTABLE_FROM_CONSISTENCY + (
    'c:[Type == "http://schemas.xmlsoap.org/claims/UPN"]\n=> issue(claim = c);\n')
#: The UPN as the Active Directory claims provider issues it from userPrincipalName.
UPN_FROM_AD_CLAIMS_PROVIDER = _IMMUTABLE_FROM_CONSISTENCY + (
    'c:[Type == "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"]\n'
    '=> issue(Type = "http://schemas.xmlsoap.org/claims/UPN", Value = c.Value);\n')


@pytest.fixture(scope="module")
def pki():
    from conftest import FIXED_NOW

    return LabPki(FIXED_NOW)


def _farm_with_rules(pki, folder, rules: str):
    (path,) = write_farm(pki, folder)
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    (trust,) = [t for t in document["RelyingPartyTrusts"] if "urn:federation:MicrosoftOnline" in t["Identifier"]]
    trust["IssuanceTransformRules"] = rules
    path.write_text(json.dumps(document), encoding="utf-8")
    return [path]


def test_entra_connects_rule_set_parses_with_every_rule():
    rules = parse_claim_rules(ENTRA_CONNECT)
    assert rules.parse_error is None and rules.rule_count == 15
    kinds = {(s.kind, s.attribute)
             for s in rules.sources_of("http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID")}
    assert kinds == {("attribute", "mS-DS-ConsistencyGuid"), ("attribute", "objectGUID")}
    # The SupportMultipleDomain issuerid rule: the issuer derives from the UPN, rewritten.
    issuer = rules.sources_of("http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid")
    assert ("attribute", "userPrincipalName", True) in {(s.kind, s.attribute, s.transformed) for s in issuer}


@pytest.mark.parametrize("rules, anchor, upn_attribute, status, words", [
    (ENTRA_CONNECT, "ms-DS-ConsistencyGuid", "userPrincipalName", "pass",
     "ImmutableID is issued from ms-DS-ConsistencyGuid (objectGUID when it is empty), the sourceAnchor"),
    (CUSTOM_CONSISTENCY, "ms-DS-ConsistencyGuid", "userPrincipalName", "pass", "objectGUID when it is empty"),
    (CLASSIC, "objectGUID", "userPrincipalName", "pass", "ImmutableID is issued from objectGUID"),
    # The AD claims provider's own UPN claim is userPrincipalName: right unless Entra Connect syncs
    # another attribute as the UPN (alternate login ID), then wrong (before: passed in both cases).
    (UPN_FROM_AD_CLAIMS_PROVIDER, "ms-DS-ConsistencyGuid", "userPrincipalName", "pass", "the sourceAnchor"),
    (UPN_FROM_AD_CLAIMS_PROVIDER, "ms-DS-ConsistencyGuid", "mail", "fail",
     "UPN is issued from incoming http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"),
    # A UPN claim passed through from another claims provider cannot be followed to an attribute: a
    # warning that says so (before: a failure "not userPrincipalName").
    (UPN_FROM_CLAIMS_PROVIDER, "ms-DS-ConsistencyGuid", "userPrincipalName", "warn",
     "which this analysis cannot follow to an attribute (expected userPrincipalName)"),
])
def test_real_rule_sets(pki, tmp_path, now, rules, anchor, upn_attribute, status, words):
    found = judge(_farm_with_rules(pki, tmp_path, rules), now, adfs={"source_anchor": anchor, "upn_attribute": upn_attribute})
    (finding,) = found["adfs.o365-claim-rules"]
    assert finding.status.value == status and words in finding.summary, finding.summary
    assert finding.blocker is False
