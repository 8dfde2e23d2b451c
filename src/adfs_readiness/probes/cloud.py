"""The Entra ID realm probe: Microsoft's realm discovery (``getuserrealm.srf``) and OpenID
Connect discovery for every federated domain, on the configured login host (worldwide
login.microsoftonline.com, US Government login.microsoftonline.us, China
login.chinacloudapi.cn), optionally pinned to an address (``[cloud] login_address``) like curl
--resolve. Only a made-up user name is sent; never a password.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlsplit

from lxml import etree

from adfs_readiness.facts import HttpExchange
from adfs_readiness.facts.cloud import RealmDiscovery, RealmFacts, TenantDiscovery
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes._xml import parse_xml
from adfs_readiness.json_input import parse_untrusted_json

__all__ = ["probe_realm", "MADE_UP_USER", "tenant_id_from_discovery"]

#: The local part asked about: realm discovery answers per domain, the user need not exist.
MADE_UP_USER = "adfs-readiness-probe"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def tenant_id_from_discovery(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """The tenant id an Entra OpenID Connect discovery document names, and where it was read.

    Every real shape: the v1 issuer ``https://sts.windows.net/<id>/`` (``sts.chinacloudapi.cn``
    in China), the v2 issuer ``https://login.microsoftonline.com/<id>/v2.0`` (``.us``, ``.cn``,
    ``login.partner.microsoftonline.cn`` alike), and — when the issuer holds a placeholder such
    as ``{tenantid}`` (the ``common``/``organizations`` documents) — the first path segment of
    the authorization or token endpoint. Returns (lower-case id, "issuer" | "endpoints") or
    (None, None). Source: Microsoft identity platform, "OpenID Connect on the Microsoft identity
    platform" (issuer formats of v1.0 and v2.0 tokens)."""
    for key, source in (("issuer", "issuer"), ("authorization_endpoint", "endpoints"), ("token_endpoint", "endpoints")):
        value = data.get(key)
        if not isinstance(value, str):
            continue
        try:
            first = urlsplit(value.strip()).path.strip("/").split("/", 1)[0]
        except ValueError:
            continue
        if _GUID.match(first):
            return first.lower(), source
    return None, None


def _realm(domain: str, exchange: HttpExchange, body: bytes, login: str) -> RealmDiscovery:
    if exchange.error is not None or exchange.status != 200:
        why = str(exchange.error) if exchange.error else f"HTTP {exchange.status}"
        return RealmDiscovery(domain=domain, login=login, exchange=exchange, parse_error=why)
    try:
        root = parse_xml(body.lstrip(b"\xef\xbb\xbf"))
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
        data = parse_untrusted_json(body)
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
    tenant_id, source = tenant_id_from_discovery(data)
    return TenantDiscovery(domain=domain, exchange=exchange, issuer=issuer, tenant_id=tenant_id,
                           tenant_id_from=source,
                           parse_error=None if tenant_id else f"no tenant id in the issuer {issuer!r} or the endpoints")


def probe_realm(ctx: ProbeContext) -> RealmFacts:
    """Gather the ``cloud_realm`` fact: one realm discovery and one OIDC discovery per configured
    federated domain, in parallel. ``configured=False`` without domains or with
    ``[cloud] realm_discovery = false``."""
    config, cloud = ctx.config, ctx.config.cloud
    pinned = str(cloud.login_address) if cloud.login_address else None
    if not config.federation.domains or not cloud.realm_discovery:
        return RealmFacts(configured=False, login_host=cloud.login_host, login_address=pinned,
                          service_name=config.federation.service_name)

    def get(url: str, accept: str) -> tuple[HttpExchange, bytes]:
        answer = ctx.net.http.get(url, budget=ctx.budget, connect_address=cloud.login_address, accept=accept,
                                  max_redirects=2)
        return answer.exchange, answer.body

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="realm") as pool:
        jobs = []
        for domain in config.federation.domains:
            login = f"{MADE_UP_USER}@{domain}"
            realm_url = f"https://{cloud.login_host}/getuserrealm.srf?login={quote(login)}&xml=1"
            oidc_url = f"https://{cloud.login_host}/{quote(domain)}/v2.0/.well-known/openid-configuration"
            jobs.append((domain, login, pool.submit(get, realm_url, "text/xml, */*;q=0.1"),
                         pool.submit(get, oidc_url, "application/json")))
        realms, tenants = [], []
        for domain, login, realm_job, oidc_job in jobs:
            realms.append(_realm(domain, *realm_job.result(), login))
            found = _tenant(domain, *oidc_job.result())
            if found.tenant_id is None and found.error_code is None:
                # No v2 answer (or none naming a tenant): ask the v1 document, as ADAL-era clients do.
                v1_url = f"https://{cloud.login_host}/{quote(domain)}/.well-known/openid-configuration"
                v1 = _tenant(domain, *get(v1_url, "application/json"))
                if v1.tenant_id is not None or v1.error_code is not None:
                    found = v1
            tenants.append(found)
    return RealmFacts(configured=True, login_host=cloud.login_host, login_address=pinned,
                      service_name=config.federation.service_name, realms=tuple(realms), tenants=tuple(tenants))
