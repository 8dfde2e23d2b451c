"""The Azure Multi-Factor Auth Client service principal's key credentials from live Microsoft Graph:
``GET /v1.0/servicePrincipals(appId='981f26a1-7f43-403b-a875-f8b09b8cd720')?$select=id,appId,keyCredentials``
(https://learn.microsoft.com/graph/api/serviceprincipal-get; keyCredential:
https://learn.microsoft.com/graph/api/resources/keycredential). Graph returns a credential's
``key`` only when keyCredentials is selected on one object, as here. Needs the app registration of
``[cloud]`` with Application.Read.All. The request goes through the same Graph session as the
federation settings (:func:`adfs_readiness.probes.entra.graph_token`, the run's HTTP client).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from adfs_readiness.facts.entra_mfa import AZURE_MFA_CLIENT_APP_ID, EntraMfaClient, MfaKeyCredential
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes._export_json import parse_ps_date
from adfs_readiness.probes.certificates import certificate_from_base64
from adfs_readiness.probes.entra import graph_token
from adfs_readiness.json_input import parse_untrusted_json

__all__ = ["probe_entra_mfa_client", "parse_key_credentials", "MAX_CREDENTIALS"]

#: Key credentials beyond this many are not read (a service principal holds a handful).
MAX_CREDENTIALS = 200


def _thumbprint(custom_key_identifier: Any) -> str | None:
    """customKeyIdentifier as a SHA-1 thumbprint: base64 of the 20 thumbprint bytes (what the
    portal and Add-MgServicePrincipalKey store), or the thumbprint's hex text base64-encoded."""
    if not isinstance(custom_key_identifier, str) or not custom_key_identifier:
        return None
    try:
        raw = base64.b64decode(custom_key_identifier, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) == 20:
        return raw.hex().upper()
    text = raw.decode("ascii", "replace")
    return text.upper() if len(text) == 40 and all(c in "0123456789abcdefABCDEF" for c in text) else None


def parse_key_credentials(data: Any) -> tuple[list[MfaKeyCredential], list[str]]:
    """The keyCredentials of a Graph servicePrincipal object. Returns (credentials, problems)."""
    if not isinstance(data, dict):
        return [], ["the Graph answer is not a JSON object"]
    lowered = {k.lower(): v for k, v in data.items()}
    items = lowered.get("keycredentials")
    if items is None:
        return [], []
    if not isinstance(items, list):
        return [], ["keyCredentials is not a list"]
    credentials, problems = [], []
    for index, item in enumerate(items[:MAX_CREDENTIALS]):
        if not isinstance(item, dict):
            problems.append(f"keyCredentials[{index}] is not an object")
            continue
        c = {k.lower(): v for k, v in item.items()}
        key = c.get("key")
        certificate = certificate_from_base64(key) if isinstance(key, str) and key else None
        credentials.append(MfaKeyCredential(
            key_id=c.get("keyid") if isinstance(c.get("keyid"), str) else None,
            display_name=c.get("displayname") if isinstance(c.get("displayname"), str) else None,
            start=parse_ps_date(c.get("startdatetime")), end=parse_ps_date(c.get("enddatetime")),
            thumbprint=_thumbprint(c.get("customkeyidentifier")) or (certificate.sha1 if certificate else None),
            certificate=certificate if certificate is not None and certificate.decodable else None))
    if len(items) > MAX_CREDENTIALS:
        problems.append(f"{len(items)} key credentials; only the first {MAX_CREDENTIALS} were read")
    return credentials, problems


def probe_entra_mfa_client(ctx: ProbeContext) -> EntraMfaClient:
    """Gather the ``entra_mfa_client`` fact: ``configured=False`` without live Graph; else the
    service principal's key credentials, or the problems that kept them from being read. Never
    raises for network trouble."""
    cloud = ctx.config.cloud
    if not cloud.graph_configured:
        return EntraMfaClient(configured=False)
    url = (f"https://{cloud.graph_host}/v1.0/servicePrincipals(appId='{AZURE_MFA_CLIENT_APP_ID}')"
           f"?$select=id,appId,displayName,keyCredentials")
    obtained = graph_token(ctx)
    if isinstance(obtained, str):
        return EntraMfaClient(configured=True, source=url, problems=(obtained,))
    access_token, pins = obtained
    answer = ctx.net.http.get(url, budget=ctx.budget, accept="application/json", max_redirects=0,
                              headers={"Authorization": f"Bearer {access_token}"},
                              connect_address=pins.get(cloud.graph_host.lower()))
    if answer.error is not None:
        return EntraMfaClient(configured=True, source=url, problems=(f"Graph request failed: {answer.error}",))
    try:
        data = parse_untrusted_json(answer.body) if answer.body else None
    except ValueError as exc:
        return EntraMfaClient(configured=True, source=url,
                              problems=(f"Graph answered HTTP {answer.status} with a body that is not JSON ({exc})",))
    if answer.status == 404:
        return EntraMfaClient(configured=True, source=url, found=False)
    if answer.status != 200:
        error = data.get("error", {}) if isinstance(data, dict) else {}
        code = error.get("code", "") if isinstance(error, dict) else ""
        hint = " (the app registration needs Application.Read.All)" if answer.status == 403 else ""
        return EntraMfaClient(configured=True, source=url,
                              problems=(f"Graph answered HTTP {answer.status} {code}".rstrip() + hint,))
    credentials, problems = parse_key_credentials(data)
    return EntraMfaClient(configured=True, source=url, found=True, key_credentials=tuple(credentials),
                          problems=tuple(problems))
