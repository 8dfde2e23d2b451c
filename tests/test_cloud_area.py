"""cloud.* end to end: realm and OIDC discovery against the lab's login service (HTTPS on loopback,
answering for federated, managed and unknown domains as Microsoft's does), Entra federation
settings from an exported JSON file (Graph PowerShell's ConvertTo-Json shape) and from the lab's
Graph through msal (client credentials). The classic outage: AD FS rolled its token-signing
certificate and Entra still holds the old one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.lab import Lab
from adfs_readiness.lab.cloud_lab import LAB_TENANT_ID, CloudDomain, CloudLab, federation_configuration
from adfs_readiness.model import Status
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.probes.entra import parse_federation_json
from adfs_readiness.settings import HostPort

REGISTRY = discover_checks(strict=True)
OTHER_TENANT = "0f0f0f0f-1111-4222-8333-444444444444"
SKIP = ("dns.*", "tls.*", "metadata.*", "token-signing.*", "token-decrypting.*", "endpoints.*", "adfs.*")


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    now = datetime.now(timezone.utc)
    workdir = tmp_path_factory.mktemp("cloud")
    with Lab("healthy", now=now, workdir=workdir) as lab:
        domains = {"contoso.test": CloudDomain("federated", auth_host=lab.fs_name),
                   "fabrikam.test": CloudDomain("managed"),
                   "elsewhere.test": CloudDomain("federated", auth_host="sts.elsewhere.test", tenant_id=OTHER_TENANT)}
        with CloudLab(lab.pki, workdir, domains=domains) as cloud:
            yield lab, cloud, now


def run(lab, cloud, now, domains, *, graph=False, export=None, **changes):
    cfg = lab.config(network={"timeout_seconds": 3.0, "deadline_seconds": 20.0}, checks={"skip": SKIP},
                     federation={"domains": tuple(domains)}, **cloud.config_changes(graph=graph, entra_export=export),
                     **changes)
    return run_checks(REGISTRY, builtin_probes(), cfg, now)


def by_target(result, check_id):
    return {f.target: (f.status.value, f.evidence) for f in result.findings if f.check_id == check_id}


def test_realm_discovery_federated_managed_elsewhere_unknown(labs):
    lab, cloud, now = labs
    result = run(lab, cloud, now, ["contoso.test", "fabrikam.test", "elsewhere.test", "nowhere.test"])
    found = by_target(result, "cloud.realm-discovery")
    assert {d: s for d, (s, _) in found.items()} == {"contoso.test": "pass", "fabrikam.test": "info",
                                                     "elsewhere.test": "fail", "nowhere.test": "fail"}
    assert found["contoso.test"][1]["auth_url"].startswith(f"https://{lab.fs_name}/adfs/ls/?username=")
    assert found["contoso.test"][1]["mex_url"] == f"https://{lab.fs_name}/adfs/services/trust/mex"
    assert found["nowhere.test"][1]["namespace_type"] == "Unknown"
    assert found["contoso.test"][1]["login_host"] == "login.lab.test"
    (tenant,) = [f for f in result.findings if f.check_id == "cloud.tenant"]
    assert tenant.status is Status.FAIL and tenant.evidence["tenants"] == {
        "contoso.test": LAB_TENANT_ID, "fabrikam.test": LAB_TENANT_ID, "elsewhere.test": OTHER_TENANT,
        "nowhere.test": None}
    assert tenant.evidence["errors"] == {"nowhere.test": "AADSTS90002"}
    assert result.grade.verdict.value == "NOT_READY"


@pytest.mark.parametrize("domains, expected", [(["contoso.test", "fabrikam.test"], "pass"),
                                               (["contoso.test", "nowhere.test"], "warn")])
def test_tenant(labs, domains, expected):
    lab, cloud, now = labs
    result = run(lab, cloud, now, domains)
    (finding,) = [f for f in result.findings if f.check_id == "cloud.tenant"]
    assert finding.status.value == expected and LAB_TENANT_ID in finding.summary


def test_login_host_unreachable_is_error_not_pass(labs, tmp_path):
    lab, cloud, now = labs
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    cfg_changes = cloud.config_changes()
    from dataclasses import replace

    cfg = lab.config(cloud=replace(cfg_changes["cloud"], login_address=HostPort("127.0.0.1", port)),
                     network={"timeout_seconds": 2.0}, checks={"skip": SKIP}, federation={"domains": ("contoso.test",)})
    result = run_checks(REGISTRY, builtin_probes(), cfg, now)
    statuses = {f.check_id: f.status.value for f in result.findings if f.check_id in ("cloud.realm-discovery", "cloud.tenant")}
    assert statuses == {"cloud.realm-discovery": "error", "cloud.tenant": "error"}
    assert result.grade.verdict.value == "INCOMPLETE"


def _export(tmp_path, items, name="entra.json"):
    path = tmp_path / name
    # ConvertTo-Json of Get-MgDomainFederationConfiguration output: PascalCase, UTF-8 with a BOM.
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(items, indent=2).encode())
    return path


def _old_signing(lab, now):
    return lab.pki.token_certificate("signing", lab.fs_name, now - timedelta(days=400), now - timedelta(days=30))


def test_rolled_certificate_with_the_old_one_in_entra_fails_and_next_passes(labs, tmp_path):
    lab, cloud, now = labs
    new, old = lab.material.token_signing[0], _old_signing(lab, now)
    stale = _export(tmp_path, federation_configuration("contoso.test", lab.fs_name, old, pascal_case=True), "stale.json")
    result = run(lab, cloud, now, ["contoso.test"], export=stale)
    (finding,) = [f for f in result.findings if f.check_id == "cloud.signing-cert-match"]
    assert finding.status is Status.FAIL and finding.blocker and "AADSTS50008" in finding.summary
    assert finding.evidence["entra_signing_certificate"]["sha1"] == old.sha1
    assert finding.evidence["adfs_primary"]["sha1"] == new.sha1
    assert result.grade.verdict.value == "NOT_READY"
    fixed = _export(tmp_path, federation_configuration("contoso.test", lab.fs_name, old, new, pascal_case=True), "ok.json")
    result = run(lab, cloud, now, ["contoso.test"], export=fixed)
    (finding,) = [f for f in result.findings if f.check_id == "cloud.signing-cert-match"]
    assert finding.status is Status.PASS and finding.evidence["entra_next_signing_certificate"]["sha1"] == new.sha1


def test_successor_not_in_entra_warns(tmp_path):
    now = datetime.now(timezone.utc)
    with Lab("rollover", now=now, workdir=tmp_path) as lab:
        primary, successor = lab.material.token_signing
        path = _export(tmp_path, federation_configuration("contoso.test", lab.fs_name, primary, pascal_case=True))
        cfg = lab.config(network={"timeout_seconds": 3.0}, checks={"skip": SKIP})
        from dataclasses import replace

        cfg = replace(cfg, cloud=replace(cfg.cloud, entra_export=path))
        result = run_checks(REGISTRY, builtin_probes(), cfg, now)
    (finding,) = [f for f in result.findings if f.check_id == "cloud.signing-cert-match"]
    assert finding.status is Status.WARN and finding.evidence["adfs_successors"][0]["sha1"] == successor.sha1


def test_live_graph_through_msal(labs, monkeypatch):
    lab, cloud, now = labs
    new, old = lab.material.token_signing[0], _old_signing(lab, now)
    monkeypatch.setenv(cloud.secret_env, cloud.client_secret)
    cloud.domains["contoso.test"] = CloudDomain("federated", auth_host=lab.fs_name,
                                                federation=federation_configuration("contoso.test", lab.fs_name, old))
    issued = cloud.tokens_issued
    result = run(lab, cloud, now, ["contoso.test"], graph=True)
    (finding,) = [f for f in result.findings if f.check_id == "cloud.signing-cert-match"]
    assert finding.status is Status.FAIL and finding.evidence["source"] == "https://graph.lab.test/v1.0"
    assert cloud.tokens_issued == issued + 1
    cloud.domains["contoso.test"] = CloudDomain("federated", auth_host=lab.fs_name,
                                                federation=federation_configuration("contoso.test", lab.fs_name, new))
    result = run(lab, cloud, now, ["contoso.test"], graph=True)
    assert {f.check_id: f.status.value for f in result.findings if f.check_id.startswith("cloud.")} == {
        "cloud.realm-discovery": "pass", "cloud.tenant": "pass", "cloud.signing-cert-match": "pass",
        "cloud.issuer-uri": "pass", "cloud.sign-in-uris": "pass", "cloud.mfa-behavior": "info"}
    # A wrong secret: the token request is refused; the checks cannot run (error), never pass, never a secret shown.
    monkeypatch.setenv(cloud.secret_env, "wrong")
    result = run(lab, cloud, now, ["contoso.test"], graph=True)
    (finding,) = [f for f in result.findings if f.check_id == "cloud.signing-cert-match"]
    assert finding.status is Status.ERROR and "invalid_client" in finding.summary
    assert cloud.client_secret not in json.dumps([f.summary for f in result.findings])


def test_not_configured_skips_and_empty_export_errors(labs, tmp_path):
    lab, cloud, now = labs
    result = run(lab, cloud, now, ["contoso.test"])
    entra = {f.check_id: f.status.value for f in result.findings
             if f.check_id in ("cloud.signing-cert-match", "cloud.issuer-uri", "cloud.sign-in-uris", "cloud.mfa-behavior")}
    assert set(entra.values()) == {"skip"}
    empty = _export(tmp_path, [], "empty.json")
    result = run(lab, cloud, now, ["contoso.test"], export=empty)
    assert {f.status.value for f in result.findings if f.check_id == "cloud.issuer-uri"} == {"error"}


def _multi(lab, specs):
    items = []
    for domain, issuer, extra in specs:
        item = federation_configuration(domain, lab.fs_name, lab.material.token_signing[0], issuer_uri=issuer,
                                        pascal_case=True)
        item["DomainId"] = domain
        item.update(extra)
        items.append(item)
    return items


def test_issuer_uri_rules(labs, tmp_path):
    lab, cloud, now = labs
    fs = lab.fs_name
    specs = [("contoso.test", "http://contoso.test/adfs/services/trust/", {}),
             ("sub.contoso.test", "http://contoso.test/adfs/services/trust/", {}),  # inherits the parent
             ("fabrikam.test", "http://fabrikam.test/adfs/services/trust/", {}),
             ("tailspin.test", "http://wrong.test/adfs/services/trust/", {}),
             ("a.test", "http://shared.test/adfs/services/trust/", {}),
             ("b.test", "http://shared.test/adfs/services/trust/", {})]
    path = _export(tmp_path, _multi(lab, specs))
    result = run(lab, cloud, now, [d for d, _, _ in specs], export=path)
    found = {d: s for d, (s, _) in by_target(result, "cloud.issuer-uri").items()}
    # sub.contoso.test inherits a SupportMultipleDomain parent: its users need the issuerid rule that
    # strips the subdomain, which this run (no AD FS export) cannot see (Microsoft Learn, "Support
    # for subdomains"), so it is a warning, not a pass.
    assert found == {"contoso.test": "pass", "sub.contoso.test": "warn", "fabrikam.test": "pass",
                     "tailspin.test": "fail", "a.test": "fail", "b.test": "fail"}
    mixed = _export(tmp_path, _multi(lab, [("contoso.test", f"http://{fs}/adfs/services/trust", {}),
                                            ("fabrikam.test", "http://fabrikam.test/adfs/services/trust/", {})]), "m.json")
    found = by_target(run(lab, cloud, now, ["contoso.test", "fabrikam.test"], export=mixed), "cloud.issuer-uri")
    assert {d: s for d, (s, _) in found.items()} == {"contoso.test": "warn", "fabrikam.test": "warn"}


def test_sign_in_uris_and_mfa(labs, tmp_path):
    lab, cloud, now = labs
    specs = [("contoso.test", None, {}),
             ("fabrikam.test", None, {"PassiveSignInUri": "https://sts.elsewhere.test/adfs/ls/"}),
             ("tailspin.test", None, {"SignOutUri": None, "FederatedIdpMfaBehavior": "acceptIfMfaDoneByFederatedIdp"})]
    items = _multi(lab, specs)
    items[1]["IssuerUri"], items[2]["IssuerUri"] = "http://fabrikam.test/adfs/services/trust/", \
        "http://tailspin.test/adfs/services/trust/"
    path = _export(tmp_path, items)
    result = run(lab, cloud, now, [d for d, _, _ in specs], export=path)
    uris = by_target(result, "cloud.sign-in-uris")
    assert {d: s for d, (s, _) in uris.items()} == {"contoso.test": "pass", "fabrikam.test": "fail", "tailspin.test": "warn"}
    assert uris["fabrikam.test"][1]["wrong"] == ["passive_sign_in_uri = https://sts.elsewhere.test/adfs/ls/"]
    # Entra ID sends every browser sign-in of the domain to the passiveSignInUri: a wrong one blocks.
    blocking = {f.target: f.blocker for f in result.findings if f.check_id == "cloud.sign-in-uris"}
    assert blocking == {"contoso.test": False, "fabrikam.test": True, "tailspin.test": False}
    fabrikam = next(f for f in result.findings if f.check_id == "cloud.sign-in-uris" and f.target == "fabrikam.test")
    assert "federated users of the domain cannot sign in" in fabrikam.summary
    mfa = by_target(result, "cloud.mfa-behavior")
    assert mfa["tailspin.test"] == ("info", mfa["tailspin.test"][1])
    assert mfa["tailspin.test"][1]["federatedIdpMfaBehavior"] == "acceptIfMfaDoneByFederatedIdp"
    assert mfa["contoso.test"][1]["promptLoginBehavior"] == "nativeSupport"


def test_export_shapes_and_unknown_fields(labs):
    lab, _, _ = labs
    cert = lab.material.token_signing[0]
    rest = {"value": [dict(federation_configuration("contoso.test", lab.fs_name, cert), newThing=1)]}
    (fed,), problems = parse_federation_json(rest, ("contoso.test",))
    assert problems == [] and fed.unknown_fields == ("newThing",) and fed.signing_certificate.sha1 == cert.sha1
    bad = federation_configuration("contoso.test", lab.fs_name, None, pascal_case=True)
    bad["SigningCertificate"] = "not base64!"
    (fed,), _ = parse_federation_json(bad, ("contoso.test",))
    assert fed.certificate_problems and "signingCertificate" in fed.missing_fields or fed.signing_certificate.decodable is False
    feds, problems = parse_federation_json([{"IssuerUri": "x"}, {"IssuerUri": "y"}], ("a.test", "b.test"))
    assert feds == [] and len(problems) == 2 and "domainId" in problems[0]



# --- class 2: OpenID Connect discovery in every real shape -------------------------------------

@pytest.mark.parametrize("shape, source", [("v1-only", "issuer"), ("china-v1", "issuer"),
                                           ("placeholder-issuer", "endpoints"), ("v2", "issuer")])
def test_tenant_from_every_discovery_shape(tmp_path, shape, source):
    # The same tenant, whichever document shape the login service answers with; the v1 document is
    # asked (as ADAL asks it) only when the v2 one (MSAL's) gives none.
    now = datetime.now(timezone.utc)
    with Lab("healthy", now=now, workdir=tmp_path) as lab:
        domains = {"contoso.test": CloudDomain("federated", auth_host=lab.fs_name),
                   "fabrikam.test": CloudDomain("managed", discovery=shape)}
        with CloudLab(lab.pki, tmp_path, domains=domains) as cloud:
            result = run(lab, cloud, now, ["contoso.test", "fabrikam.test"])
    (finding,) = [f for f in result.findings if f.check_id == "cloud.tenant"]
    assert finding.status is Status.PASS and LAB_TENANT_ID in finding.summary, finding.summary
    tenants = {t["domain"]: t for t in result.facts["cloud_realm"]["tenants"]}
    assert tenants["fabrikam.test"]["tenant_id"] == LAB_TENANT_ID
    assert tenants["fabrikam.test"]["tenant_id_from"] == source
    asked = tenants["fabrikam.test"]["exchange"]["url"]
    assert asked.endswith("/fabrikam.test/.well-known/openid-configuration" if shape in ("v1-only", "china-v1")
                          else "/fabrikam.test/v2.0/.well-known/openid-configuration")


@pytest.mark.parametrize("document, expected", [
    ({"issuer": "https://sts.windows.net/72F988BF-86F1-41AF-91AB-2D7CD011DB47/"},
     ("72f988bf-86f1-41af-91ab-2d7cd011db47", "issuer")),
    ({"issuer": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
     ("72f988bf-86f1-41af-91ab-2d7cd011db47", "issuer")),
    ({"issuer": "https://login.microsoftonline.us/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
     ("72f988bf-86f1-41af-91ab-2d7cd011db47", "issuer")),
    ({"issuer": "https://sts.chinacloudapi.cn/72f988bf-86f1-41af-91ab-2d7cd011db47/"},
     ("72f988bf-86f1-41af-91ab-2d7cd011db47", "issuer")),
    ({"issuer": "https://login.partner.microsoftonline.cn/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
     ("72f988bf-86f1-41af-91ab-2d7cd011db47", "issuer")),
    ({"issuer": "https://sts.windows.net/{tenantid}/",
      "authorization_endpoint": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/authorize"},
     ("72f988bf-86f1-41af-91ab-2d7cd011db47", "endpoints")),
    ({"issuer": "https://sts.windows.net/{tenantid}/", "authorization_endpoint":
      "https://login.microsoftonline.com/common/oauth2/authorize"}, (None, None)),
    ({"issuer": "https://sts.contoso.com/adfs"}, (None, None)),  # AD FS: no tenant
])
def test_tenant_id_from_discovery_documents(document, expected):
    from adfs_readiness.probes.cloud import tenant_id_from_discovery

    assert tenant_id_from_discovery(document) == expected


def test_sign_in_uris_block_only_for_the_passive_uri_and_compare_hosts_as_dns_does(labs, tmp_path):
    """A wrong passiveSignInUri stops every browser sign-in of the domain (Entra ID redirects there):
    a failed blocker, so the run is NOT_READY even with realm discovery off. A wrong MEX or active
    URI fails without blocking; a host written with capitals or a trailing dot is the same host."""
    lab, cloud, now = labs
    fs = lab.fs_name
    specs = [("contoso.test", None, {"PassiveSignInUri": f"http://{fs}/adfs/ls/"}),  # http: broken
             ("fabrikam.test", None, {"MetadataExchangeUri": "https://sts.elsewhere.test/adfs/services/trust/mex"}),
             ("tailspin.test", None, {"PassiveSignInUri": f"https://{fs.upper()}./adfs/ls/"})]
    items = _multi(lab, specs)
    for item, (domain, _, _) in zip(items[1:], specs[1:]):
        item["IssuerUri"] = f"http://{domain}/adfs/services/trust/"
    import dataclasses

    settings = cloud.config_changes(entra_export=_export(tmp_path, items))["cloud"]
    cfg = lab.config(network={"timeout_seconds": 3.0, "deadline_seconds": 20.0}, checks={"skip": SKIP},
                     federation={"domains": tuple(d for d, _, _ in specs)},
                     cloud=dataclasses.replace(settings, realm_discovery=False))
    result = run_checks(REGISTRY, builtin_probes(), cfg, now)
    assert {f.status for f in result.findings if f.check_id == "cloud.realm-discovery"} == {Status.SKIP}
    uris = {f.target: f for f in result.findings if f.check_id == "cloud.sign-in-uris"}
    assert (uris["contoso.test"].status, uris["contoso.test"].blocker) == (Status.FAIL, True)
    assert (uris["fabrikam.test"].status, uris["fabrikam.test"].blocker) == (Status.FAIL, False)
    assert uris["tailspin.test"].status is Status.PASS, uris["tailspin.test"].summary
    assert result.grade.verdict.value == "NOT_READY"
    assert any(r.kind == "blocker_failed" and r.check_id == "cloud.sign-in-uris" for r in result.grade.reasons)
