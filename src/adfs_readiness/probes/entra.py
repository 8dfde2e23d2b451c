"""Entra federation settings: Graph's ``internalDomainFederation`` per domain, from (a) a JSON file
exported with Microsoft Graph PowerShell::

    Get-MgDomainFederationConfiguration -DomainId contoso.com | ConvertTo-Json -Depth 5 > entra-federation.json

(one object, an array of them, or a Graph REST answer ``{"value": [...]}``; several domains may be
exported into one array, each object then needs the ``domainId`` key the docs describe — see
docs/cloud.md), or (b) live Microsoft Graph ``GET /v1.0/domains/{id}/federationConfiguration``
with app credentials (msal client credentials; secret from an environment variable or a
certificate; https://learn.microsoft.com/graph/api/resources/internaldomainfederation).

Property names are matched case-insensitively: Graph REST answers camelCase, Graph PowerShell
objects serialise PascalCase.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from adfs_readiness.settings import Settings, HostPort
from adfs_readiness.facts import CertificateInfo, ProbeError, ProbeErrorKind
from adfs_readiness.facts.cloud import DomainFederation, EntraFederationFacts
from adfs_readiness.files import FileTooLarge, read_capped
from adfs_readiness.json_input import UntrustedJsonError, parse_untrusted_json
from adfs_readiness.net.msal_http import HttpFailure, MsalHttpClient
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes._input_limits import EXPORT_ITEMS_SETTING, INPUT_BYTES_SETTING, bounded_problems
from adfs_readiness.probes.certificates import certificate_from_base64

__all__ = ["probe_entra_federation", "parse_federation_json", "GRAPH_PROPERTIES", "graph_token"]

#: internalDomainFederation's documented properties (v1.0), lower-cased -> canonical name.
GRAPH_PROPERTIES = {name.lower(): name for name in (
    "activeSignInUri", "displayName", "federatedIdpMfaBehavior", "id", "isSignedAuthenticationRequestRequired",
    "issuerUri", "metadataExchangeUri", "nextSigningCertificate", "passiveSignInUri", "passwordResetUri",
    "preferredAuthenticationProtocol", "promptLoginBehavior", "signingCertificate", "signOutUri",
    "signingCertificateUpdateStatus")}
# Keys a Graph PowerShell object or a REST answer adds around the resource (not findings).
_ENVELOPE = {"@odata.context", "@odata.type", "additionalproperties", "domainid", "domain"}
_REQUIRED = ("issuerUri", "passiveSignInUri", "signingCertificate")


def _certificate(value: Any, what: str, problems: list[str]) -> CertificateInfo | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        problems.append(f"{what} is not a base64 string")
        return None
    info = certificate_from_base64(value)
    if not info.decodable:
        problems.append(f"{what} is not a decodable X.509 certificate ({'; '.join(info.problems)})")
    return info


def _domain_federation(obj: dict[str, Any], domain: str) -> DomainFederation:
    by_lower = {k.lower(): v for k, v in obj.items()}
    known = {k: by_lower.get(k.lower()) for k in GRAPH_PROPERTIES.values()}
    unknown = tuple(sorted(k for k in obj if k.lower() not in GRAPH_PROPERTIES and k.lower() not in _ENVELOPE))
    missing = tuple(name for name in _REQUIRED if known.get(name) in (None, ""))
    problems: list[str] = []

    def text(name: str) -> str | None:
        value = known.get(name)
        return value if isinstance(value, str) and value else (str(value) if isinstance(value, int) else None)

    return DomainFederation(
        domain=domain, issuer_uri=text("issuerUri"), passive_sign_in_uri=text("passiveSignInUri"),
        active_sign_in_uri=text("activeSignInUri"), metadata_exchange_uri=text("metadataExchangeUri"),
        sign_out_uri=text("signOutUri"), display_name=text("displayName"),
        signing_certificate=_certificate(known.get("signingCertificate"), "signingCertificate", problems),
        next_signing_certificate=_certificate(known.get("nextSigningCertificate"), "nextSigningCertificate",
                                              problems),
        certificate_problems=tuple(problems), federated_idp_mfa_behavior=text("federatedIdpMfaBehavior"),
        prompt_login_behavior=text("promptLoginBehavior"),
        preferred_authentication_protocol=text("preferredAuthenticationProtocol"),
        unknown_fields=unknown, missing_fields=missing)


def parse_federation_json(data: Any, domains: tuple[str, ...]) -> tuple[list[DomainFederation], list[str]]:
    """Turn exported JSON into DomainFederation objects. ``data`` is one object, a list, or
    ``{"value": [...]}``. An object names its domain with ``domainId``/``domain``; without one,
    a lone object is taken to belong to the only configured domain. Returns (federations,
    problems); never raises."""
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        data = data["value"]
    items = data if isinstance(data, list) else [data]
    result, problems = [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"item {index} is not a JSON object")
            continue
        lower = {k.lower(): v for k, v in item.items()}
        domain = lower.get("domainid") or lower.get("domain")
        if not isinstance(domain, str) or not domain:
            if len(items) == 1 and len(domains) == 1:
                domain = domains[0]
            else:
                problems.append(f"item {index} does not say which domain it belongs to (add \"domainId\")")
                continue
        result.append(_domain_federation(item, domain.lower()))
    return result, problems


def _from_file(path: Path, config: Settings, deadline: float | None = None) -> EntraFederationFacts | ProbeError:
    limits = config.limits
    try:
        raw = read_capped(path, limits.max_input_bytes, setting=INPUT_BYTES_SETTING)
        # Size, item count, depth and number bounds checked before anything reads the document.
        data = parse_untrusted_json(raw, max_items=limits.max_export_items, items_setting=EXPORT_ITEMS_SETTING,
                                    deadline=deadline)
    except FileTooLarge as exc:  # the input's size, refused by its cap: a problem of the export
        return EntraFederationFacts(configured=True, source=str(path), source_kind="file",
                                    problems=(f"cannot read {path}: {exc.strerror or exc}",))
    except OSError as exc:
        # This machine cannot read its own input: not determined, not a problem of the settings.
        return ProbeError(ProbeErrorKind.LOCAL, f"the Entra export {path} cannot be read on this machine "
                                                f"({exc.strerror or exc})", str(path))
    except UntrustedJsonError as exc:
        return EntraFederationFacts(configured=True, source=str(path), source_kind="file",
                                    problems=(f"{path} was refused: {exc}",))
    federations, problems = parse_federation_json(data, config.federation.domains)
    return _facts(str(path), "file", federations, list(bounded_problems(problems)), config)


def _facts(source: str, kind: str, federations: list[DomainFederation], problems: list[str],
           config: Settings) -> EntraFederationFacts:
    found = {f.domain for f in federations}
    return EntraFederationFacts(configured=True, source=source, source_kind=kind, domains=tuple(federations),
                                not_federated=tuple(d for d in config.federation.domains if d not in found),
                                problems=tuple(problems))


def _credential(config: Settings) -> dict[str, str] | str | None:
    cloud = config.cloud
    if cloud.client_certificate is not None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import Encoding

        # msal's certificate credential: the PEM private key and the certificate's SHA-1 thumbprint.
        pem = read_capped(cloud.client_certificate, config.limits.max_input_bytes, setting=INPUT_BYTES_SETTING)
        certificate = x509.load_pem_x509_certificate(pem)
        return {"private_key": pem.decode("ascii"), "thumbprint": certificate.fingerprint(hashes.SHA1()).hex(),
                "public_certificate": certificate.public_bytes(Encoding.PEM).decode("ascii")}
    return os.environ.get(cloud.client_secret_env) or None


def graph_token(ctx: ProbeContext) -> tuple[str, dict[str, HostPort]] | str:
    """An app-only Microsoft Graph access token (msal client credentials, its HTTP through the
    run's client) and the pinned addresses by host name, or why there is none. Nothing the token
    endpoint says is echoed but its error code and the first line of its description; the token
    is never logged or stored in a fact."""
    import msal

    config, cloud = ctx.config, ctx.config.cloud
    credential = _credential(config)
    if credential is None:
        return (f"no client secret in the environment variable {cloud.client_secret_env} "
                f"and no client_certificate configured")
    authority_host = cloud.authority_host or cloud.login_host
    pins = {h.lower(): a for h, a in ((cloud.graph_host, cloud.graph_address),
                                      (authority_host, cloud.authority_address or (
                                          cloud.login_address if authority_host == cloud.login_host else None)))
            if a is not None}
    http = MsalHttpClient(ctx.net.http, ctx.budget, pins)
    try:
        app = msal.ConfidentialClientApplication(
            cloud.client_id, authority=f"https://{authority_host}/{cloud.tenant_id}", client_credential=credential,
            http_client=http, instance_discovery=False)
        token = app.acquire_token_for_client(scopes=[f"https://{cloud.graph_host}/.default"])
    except HttpFailure as exc:
        return f"could not get a token from {authority_host}: {exc.error}"
    except Exception as exc:  # noqa: BLE001 - msal raises ValueError and the like on a bad authority answer
        return f"could not get a token from {authority_host}: {type(exc).__name__}"
    if not isinstance(token, dict) or not isinstance(token.get("access_token"), str):
        # msal's error answer: never echo anything but the error code and the description's first line.
        error = token.get("error") if isinstance(token, dict) else None
        description = token.get("error_description") if isinstance(token, dict) else None
        first_line = str(description).splitlines()[0] if description else ""
        return f"token request refused: {error}: {first_line}".rstrip(": ")
    return token["access_token"], pins


def _from_graph(ctx: ProbeContext) -> EntraFederationFacts:
    """Live Graph: a client-credentials token (:func:`graph_token`), then ``GET
    /v1.0/domains/{id}/federationConfiguration`` per domain. Every answer is capped and bounded by
    the probe's budget."""
    config, cloud = ctx.config, ctx.config.cloud
    base = f"https://{cloud.graph_host}/v1.0"
    obtained = graph_token(ctx)
    if isinstance(obtained, str):
        return EntraFederationFacts(configured=True, source=base, source_kind="graph", problems=(obtained,))
    access_token, pins = obtained
    token = {"access_token": access_token}
    federations, problems = [], []
    for domain in config.federation.domains:
        url = f"{base}/domains/{quote(domain)}/federationConfiguration"
        answer = ctx.net.http.get(url, budget=ctx.budget, accept="application/json", max_redirects=0,
                                  headers={"Authorization": f"Bearer {token['access_token']}"},
                                  connect_address=pins.get(cloud.graph_host.lower()),
                                  total_seconds=ctx.budget.operation_seconds)
        if answer.error is not None:
            problems.append(f"{domain}: Graph request failed: {answer.error}")
            continue
        try:
            data = parse_untrusted_json(answer.body) if answer.body else None
        except ValueError as exc:
            problems.append(f"{domain}: Graph answered HTTP {answer.status} with a body that is not JSON ({exc})")
            continue
        if answer.status != 200:
            error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
            problems.append(f"{domain}: Graph answered HTTP {answer.status} "
                            f"{error.get('code', '') if isinstance(error, dict) else ''}".rstrip())
            continue
        values = data.get("value") if isinstance(data, dict) else None
        if isinstance(values, list):
            for item in values:
                if isinstance(item, dict):
                    federations.append(_domain_federation(item, domain))
    return _facts(base, "graph", federations, problems, config)


def probe_entra_federation(ctx: ProbeContext) -> EntraFederationFacts | ProbeError:
    """Gather the ``entra_federation`` fact: from ``[cloud] entra_export`` when set, else live
    Graph when ``tenant_id`` and ``client_id`` are set, else ``configured=False``."""
    cloud = ctx.config.cloud
    if cloud.entra_export is not None:
        return _from_file(cloud.entra_export, ctx.config, ctx.deadline)
    if cloud.graph_configured:
        return _from_graph(ctx)
    return EntraFederationFacts(configured=False)
