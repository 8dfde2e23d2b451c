"""endpoints.openid-configuration on AD FS's own OpenID Connect discovery document in every real
shape (issue 11 §2 class 2, the AD FS half): the documents AD FS 2016, 2019 and later publish (real
ones from tests/corpus/oidc: Microsoft's documentation, a published AD FS 2019 answer with escaped
slashes, the django-auth-adfs fixture), the HostName's capitals in the issuer, access_token_issuer
in its http:// identifier form, :443 written out, a trailing slash; and the shapes that really name
another service. Each case is judged as the check sees it (the parsed document behind a 200
answer), and two of them over the wire from the lab's STS."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from adfs_readiness.api import CheckContext
from adfs_readiness.settings import FederationSettings, Settings
from adfs_readiness.engine.registry import discover_checks
from adfs_readiness.engine.runner import run_checks
from adfs_readiness.facts import HttpExchange
from adfs_readiness.facts.endpoints import PATH_OPENID, EndpointAnswer, EndpointsFacts, EndpointVia
from adfs_readiness.lab import Lab
from adfs_readiness.lab.scenarios import with_switches
from adfs_readiness.probes.catalog import builtin_probes
from adfs_readiness.probes.mex import parse_openid_configuration
from adfs_readiness_checks import endpoints as endpoint_checks

CORPUS = Path(__file__).parent / "corpus" / "oidc"
REGISTRY = discover_checks(strict=True)


def _judge(body: bytes, service_name: str, now):
    url = f"https://{service_name}{PATH_OPENID}"
    exchange = HttpExchange(url=url, final_url=url, connect_address="127.0.0.1:443", status=200, reason="OK",
                            headers={"content-type": "application/json;charset=UTF-8"}, redirects=(),
                            elapsed_seconds=0.05, body_bytes=len(body), truncated=False, error=None)
    answer = EndpointAnswer(path=PATH_OPENID, via=EndpointVia.SERVICE, address="127.0.0.1:443", exchange=exchange)
    facts = EndpointsFacts(configured=True, service_name=service_name, external_places=("127.0.0.1:443",),
                           answers=(answer,), openid=parse_openid_configuration(
                               body, url=url, via=EndpointVia.SERVICE, address="127.0.0.1:443"))
    return endpoint_checks.openid_configuration.function(
        CheckContext(facts={"endpoints": facts}, config=Settings(federation=FederationSettings(service_name=service_name)),
                     now=now))


def _document(host: str, issuer_host: str | None = None, **changes) -> bytes:
    base = f"https://{host}/adfs"
    document = {"issuer": f"https://{issuer_host or host}/adfs", "authorization_endpoint": f"{base}/oauth2/authorize/",
                "token_endpoint": f"{base}/oauth2/token/", "jwks_uri": f"{base}/discovery/keys",
                "access_token_issuer": f"http://{issuer_host or host}/adfs/services/trust",
                "userinfo_endpoint": f"{base}/userinfo", "end_session_endpoint": f"{base}/oauth2/logout",
                "device_authorization_endpoint": f"{base}/oauth2/devicecode", **changes}
    return json.dumps(document).encode()


@pytest.mark.parametrize("name, service_name, endpoints", [
    # AD FS 2016 (KB4038801), Microsoft's documentation: five endpoint URLs, no device code.
    ("msdocs_adfs2016_logout_openid-configuration_DERIVED.json", "fs.fabidentity.com", 5),
    # AD FS 2019 as a proxy publishes it: every "/" escaped as "\/", device_authorization_endpoint.
    ("agilicus_adfs2019_escaped_openid-configuration_DERIVED.json", "oidc.cloud.egov.city", 6),
    ("djangoadfs_adfs-openid-configuration.json", "adfs.example.com", 5),
])
def test_real_adfs_documents_pass(now, name, service_name, endpoints):
    raw = (CORPUS / name).read_bytes()
    outcome = _judge(raw, service_name, now)
    assert outcome.status.value == "pass", outcome.summary
    assert outcome.summary == (f"The OpenID Connect issuer is https://{service_name}/adfs and its {endpoints} endpoint "
                               f"URL(s) are on {service_name}.")
    # access_token_issuer is AD FS's identifier, http:// by design: reported, never judged a downgrade.
    assert outcome.evidence["access_token_issuer"] == f"http://{service_name}/adfs/services/trust"


@pytest.mark.parametrize("body, service_name", [
    # The HostName typed in capitals: AD FS writes the issuer (and access_token_issuer) with them and
    # the endpoints in lower case (a real AD FS 2019 answer has "https://EC2AMAZ-…REDPANDA.COM/adfs").
    (_document("sts.contoso.com", issuer_host="STS.CONTOSO.COM"), "sts.contoso.com"),
    (_document("STS.Contoso.com"), "sts.contoso.com"),
    # Port 443 written out, a trailing slash, a root-label dot: the same origin and issuer.
    (_document("sts.contoso.com", issuer="https://sts.contoso.com:443/adfs",
               token_endpoint="https://sts.contoso.com:443/adfs/oauth2/token/"), "sts.contoso.com"),
    (_document("sts.contoso.com", issuer="https://sts.contoso.com/adfs/"), "sts.contoso.com"),
    (_document("sts.contoso.com", issuer="https://sts.contoso.com./adfs"), "sts.contoso.com"),
])
def test_equivalent_spellings_pass(now, body, service_name):
    outcome = _judge(body, service_name, now)
    assert outcome.status.value == "pass", outcome.summary


@pytest.mark.parametrize("body, words", [
    (_document("sts.contoso.com", issuer_host="adfs.contoso.com"),
     "the issuer is 'https://adfs.contoso.com/adfs' (host adfs.contoso.com), expected 'https://sts.contoso.com/adfs'"),
    (_document("sts.contoso.com", issuer="http://sts.contoso.com/adfs"), "(scheme http, not https)"),
    (_document("sts.contoso.com", issuer="https://sts.contoso.com:444/adfs"), "(port 444)"),
    # The identifier where the issuer belongs (a hand-made document): not what clients validate.
    (_document("sts.contoso.com", issuer="https://sts.contoso.com/adfs/services/trust"),
     "(path /adfs/services/trust, not /adfs)"),
    (_document("sts.contoso.com", device_authorization_endpoint="https://node1.corp.contoso.com/adfs/oauth2/devicecode"),
     "device_authorization_endpoint 'https://node1.corp.contoso.com/adfs/oauth2/devicecode' (host "
     "node1.corp.contoso.com)"),
    # A hostile document: an endpoint that is not a URL is named, never a crash.
    (_document("sts.contoso.com", token_endpoint="https://[sts.contoso.com/adfs/oauth2/token/"),
     "token_endpoint 'https://[sts.contoso.com/adfs/oauth2/token/' (not a URL)"),
    # Another service's discovery document answering on AD FS's path (Entra ID v1 issuer).
    ((CORPUS / "msidentitymodel_IssuerMetadata_v1.json").read_bytes(),
     "the issuer is 'https://sts.windows.net/d062b2b0-9aca-4ff7-b32a-ba47231a4002/' (host sts.windows.net)"),
])
def test_documents_naming_another_service_fail(now, body, words):
    outcome = _judge(body, "sts.contoso.com", now)
    assert outcome.status.value == "fail" and words in outcome.summary, outcome.summary
    assert outcome.summary.startswith("The discovery document does not name the federation service sts.contoso.com: ")


@pytest.mark.parametrize("state, status, issuer", [
    ("issuer-case", "pass", "https://STS.CONTOSO.TEST/adfs"),
    ("proxied", "pass", "https://sts.contoso.test/adfs"),
    ("wrong-issuer", "fail", "https://other.sts.contoso.test/adfs"),
])
def test_adfs_2019_shaped_document_over_the_wire(tmp_path, state, status, issuer):
    """The lab serves AD FS 2019's shape (escaped slashes, application/json;charset=UTF-8) through HTTPS."""
    now = datetime.now(timezone.utc)
    switches = {"endpoints": (("/adfs/.well-known/openid-configuration", state),)}
    with Lab(with_switches("healthy", **switches), now=now, workdir=tmp_path) as lab:
        cfg = lab.config(network={"timeout_seconds": 3.0, "deadline_seconds": 20.0},
                         checks={"skip": ("dns.*", "tls.*", "metadata.*", "token-signing.*", "token-decrypting.*",
                                          "cloud.*", "adfs.*", "directory.*")})
        result = run_checks(REGISTRY, builtin_probes(), cfg, now)
    (finding,) = [f for f in result.findings if f.check_id == "endpoints.openid-configuration"]
    assert finding.status.value == status and finding.evidence["issuer"] == issuer, finding.summary
    assert finding.evidence["access_token_issuer"].startswith("http://")
