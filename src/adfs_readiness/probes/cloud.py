"""The Entra ID realm probe: Microsoft's realm discovery (``getuserrealm.srf``) and OpenID
Connect discovery for every federated domain, on the configured login host (worldwide
login.microsoftonline.com, US Government login.microsoftonline.us, China
login.chinacloudapi.cn), optionally pinned to an address (``[cloud] login_address``) like curl
--resolve. Only a made-up user name is sent; never a password.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from lxml import etree

from adfs_readiness.facts import HttpExchange
from adfs_readiness.facts.cloud import RealmDiscovery, RealmFacts, TenantDiscovery
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes._xml import safe_parser
from adfs_readiness.text import loads_json

__all__ = ["probe_realm", "MADE_UP_USER"]

#: The local part asked about: realm discovery answers per domain, the user need not exist.
MADE_UP_USER = "adfs-readiness-probe"
_TENANT_IN_ISSUER = re.compile(r"^https://[^/]+/([0-9a-fA-F-]{36})/v2\.0/?$")


def _realm(domain: str, exchange: HttpExchange, body: bytes, login: str) -> RealmDiscovery:
    if exchange.error is not None or exchange.status != 200:
        why = str(exchange.error) if exchange.error else f"HTTP {exchange.status}"
        return RealmDiscovery(domain=domain, login=login, exchange=exchange, parse_error=why)
    try:
        root = etree.fromstring(body.lstrip(b"\xef\xbb\xbf"), parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        return RealmDiscovery(domain=domain, login=login, exchange=exchange, parse_error=f"not XML: {exc}")

    def text(tag: str) -> str | None:
        element = root.find(tag)
        return element.text.strip() if element is not None and element.text else None

    return RealmDiscovery(domain=domain, login=login, exchange=exchange, namespace_type=text("NameSpaceType"),
                          auth_url=text("AuthURL"), sts_auth_url=text("STSAuthURL"), mex_url=text("MEXURL"),
                          brand_name=text("FederationBrandName"), cloud_instance=text("CloudInstanceName"),
                          parse_error=None if root.tag == "RealmInfo" else f"unexpected root element {root.tag}")


def _tenant(domain: str, exchange: HttpExchange, body: bytes) -> TenantDiscovery:
    if exchange.error is not None:
        return TenantDiscovery(domain=domain, exchange=exchange, parse_error=str(exchange.error))
    try:
        data = loads_json(body)
    except ValueError as exc:
        return TenantDiscovery(domain=domain, exchange=exchange, parse_error=f"not JSON: {exc}")
    if not isinstance(data, dict):
        return TenantDiscovery(domain=domain, exchange=exchange, parse_error="the JSON is not an object")
    if exchange.status != 200:
        description = str(data.get("error_description") or "")
        code = re.match(r"(AADSTS\d+)", description)
        return TenantDiscovery(domain=domain, exchange=exchange, error_code=code.group(1) if code else None,
                               error_description=description.splitlines()[0] if description else None)
    issuer = data.get("issuer") if isinstance(data.get("issuer"), str) else None
    match = _TENANT_IN_ISSUER.match(issuer or "")
    return TenantDiscovery(domain=domain, exchange=exchange, issuer=issuer,
                           tenant_id=match.group(1).lower() if match else None,
                           parse_error=None if match else f"no tenant id in the issuer {issuer!r}")


def probe_realm(ctx: ProbeContext) -> RealmFacts:
    """Gather the ``cloud_realm`` fact: one realm discovery and one OIDC discovery per configured
    federated domain, in parallel. ``configured=False`` without domains or with
    ``[cloud] realm_discovery = false``."""
    config, cloud = ctx.config, ctx.config.cloud
    pinned = str(cloud.login_address) if cloud.login_address else None
    if not config.federated_domains or not cloud.realm_discovery:
        return RealmFacts(configured=False, login_host=cloud.login_host, login_address=pinned,
                          service_name=config.service_name)

    def get(url: str, accept: str) -> tuple[HttpExchange, bytes]:
        answer = ctx.net.http.get(url, budget=ctx.budget, connect_address=cloud.login_address, accept=accept,
                                  max_redirects=2)
        return answer.exchange, answer.body

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="realm") as pool:
        jobs = []
        for domain in config.federated_domains:
            login = f"{MADE_UP_USER}@{domain}"
            realm_url = f"https://{cloud.login_host}/getuserrealm.srf?login={quote(login)}&xml=1"
            oidc_url = f"https://{cloud.login_host}/{quote(domain)}/v2.0/.well-known/openid-configuration"
            jobs.append((domain, login, pool.submit(get, realm_url, "text/xml, */*;q=0.1"),
                         pool.submit(get, oidc_url, "application/json")))
        realms, tenants = [], []
        for domain, login, realm_job, oidc_job in jobs:
            realms.append(_realm(domain, *realm_job.result(), login))
            tenants.append(_tenant(domain, *oidc_job.result()))
    return RealmFacts(configured=True, login_host=cloud.login_host, login_address=pinned,
                      service_name=config.service_name, realms=tuple(realms), tenants=tuple(tenants))
