"""Checks of the AD FS HTTP endpoints (the ``endpoints.*`` ids of CHECKS.md), judged on the
:class:`~adfs_readiness.facts.endpoints.EndpointsFacts` fact (key ``endpoints``).

How AD FS answers a plain GET differs per endpoint; each check's docstring says what "enabled"
and "disabled" look like and where that comes from. Common to all: an endpoint that is disabled
(Disable-AdfsEndpoint) or not published through the Web Application Proxy (Set-AdfsEndpoint
-Proxy $false) is not registered with http.sys on that server, which answers 404; a WAP answers
404 (or 503 when it has no backend) for a path it does not publish. So "served" means: a complete
HTTP answer whose status is neither 404 nor 503.

An endpoint is judged only from an answer actually received. When OUR client's TLS handshake or
certificate verification fails (only the leaf sent, an untrusted root, a name mismatch), nothing
is known about the endpoint behind it: browsers may well succeed (Windows fetches a missing
intermediate through AIA), so these checks say "could not be determined" (error) and point at the
tls.* checks, which judge the certificate; they never fail the endpoint for it. A timeout or a
refused connection is reported as exactly that ("no answer"), never as "disabled".
"""

from __future__ import annotations

import statistics
from typing import Any
from urllib.parse import urlsplit

from adfs_readiness.api import Area, CannotDetermine, CheckContext, Outcome, Reference, Severity, Status, check
from adfs_readiness.facts import ProbeErrorKind
from adfs_readiness.facts.endpoints import (
    ENDPOINTS_FACT,
    PATH_IDP_INITIATED,
    PATH_MEX,
    PATH_OPENID,
    PATH_PASSIVE,
    PATH_USERNAMEMIXED,
    PATH_WINDOWSTRANSPORT,
    EndpointAnswer,
    EndpointsFacts,
)

from ._common import legacy_renegotiation_note, not_determined_text, not_the_targets
from ._refs_entra import (
    REF_ADFS_REQUIREMENTS,
    REF_DISABLE_ADFSENDPOINT,
    REF_HTTP_DATE,
    REF_OIDC_DISCOVERY,
    REF_SECURING_ADFS,
    REF_SET_ADFSENDPOINT,
    REF_SET_ADFSPROPERTIES,
)


def _facts(ctx: CheckContext) -> EndpointsFacts | None:
    facts: EndpointsFacts = ctx.fact(ENDPOINTS_FACT)
    return facts if facts.configured else None


_NOT_CONFIGURED = Outcome(Status.SKIP, "No federation service name is configured (federation.service_name).")


def _seen(answer: EndpointAnswer) -> dict[str, Any]:
    ex = answer.exchange
    return {"path": answer.path, "via": answer.via.value, "address": answer.address, "url": ex.url,
            "status": ex.status, "content_type": ex.headers.get("content-type"),
            "location": ex.headers.get("location"), "error": str(ex.error) if ex.error else None,
            "legacy_renegotiation": ex.legacy_renegotiation}


def _tls_failed(answers: list[EndpointAnswer]) -> EndpointAnswer | None:
    """The first answer whose request failed in our client's TLS handshake/verification."""
    return next((a for a in answers if a.exchange.error is not None and a.exchange.error.kind is ProbeErrorKind.TLS),
                None)


def _tls_reason(answer: EndpointAnswer) -> str:
    reason = answer.exchange.error.reason if answer.exchange.error else "unknown"
    return (f"the TLS handshake/verification failed ({reason}); see tls.certificate-trust / tls.certificate-name / "
            f"tls.reachable")


def _tls_error(answer: EndpointAnswer, what: str) -> Outcome:
    """An ERROR outcome for ``what`` through the answer's place: our TLS client failed, so the
    endpoint itself is unknown."""
    return Outcome(Status.ERROR, f"{what} through {answer.address}: could not be determined: {_tls_reason(answer)}.",
                   evidence={**_seen(answer), "tls_error": answer.exchange.error.reason if answer.exchange.error
                             else None}, target=answer.address)


def _cannot_tls(answer: EndpointAnswer, answers: list[EndpointAnswer]) -> CannotDetermine:
    return CannotDetermine(f"{_tls_reason(answer)} (through {answer.address}).",
                           evidence={"answers": [_seen(a) for a in answers],
                                     "tls_error": answer.exchange.error.reason if answer.exchange.error else None})


def _undetermined(answer: EndpointAnswer, what: str, target: str | None | bool = True) -> Outcome:
    """An ERROR outcome for an answer the run's deadline (or this tool's network policy) cut
    before the server could answer: nothing is known about the endpoint."""
    assert answer.exchange.error is not None
    return Outcome(Status.ERROR, f"{what}: {not_determined_text(answer.exchange.error, 'the endpoint')}.",
                   evidence=_seen(answer), target=answer.address if target is True else None)


def _state(answer: EndpointAnswer) -> str:
    ex = answer.exchange
    if ex.error is not None:
        return f"no answer ({ex.error.kind.value}: {ex.error.reason})"
    return f"HTTP {ex.status}"


@check(id="endpoints.probe", title="Load balancer health probe /adfs/probe", area=Area.ENDPOINTS,
       severity=Severity.MEDIUM, blocker=False, requires=(ENDPOINTS_FACT,),
       rule="http://<node>/adfs/probe answers HTTP 200 on every AD FS node and Web Application Proxy.",
       remediation="Open TCP 80 from the load balancer to each node and proxy and make sure the AD FS / Web "
                   "Application Proxy service runs there; point the load balancer's health probe at "
                   "http://<server>/adfs/probe (HTTP, so no SNI issue). A node that fails the probe is taken out "
                   "of rotation.",
       references=(REF_ADFS_REQUIREMENTS,))
def probe(ctx: CheckContext) -> list[Outcome] | Outcome:
    """AD FS 2016+ and WAP answer ``GET http://<server>/adfs/probe`` with 200 and an empty body,
    served locally without any back-end dependency (Microsoft Learn, AD FS requirements, load
    balancer section). PASS per target on 200; FAIL on anything else; SKIP without nodes,
    proxies or ``[endpoints] probe_urls``."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    if not facts.probes:
        return Outcome(Status.SKIP, "No farm nodes, proxies or probe URLs are configured "
                                    "(federation.farm_nodes, federation.proxies, endpoints.probe_urls).")
    outcomes = []
    for answer in facts.probes:
        if not_the_targets(answer.exchange.error):
            outcomes.append(_undetermined(answer, answer.exchange.url))
            continue
        ok = answer.answered and answer.exchange.status == 200
        outcomes.append(Outcome(Status.PASS if ok else Status.FAIL,
                                f"{answer.exchange.url} answered {_state(answer)}"
                                + ("." if ok else "; a load balancer probing it takes this server out of rotation."),
                                evidence=_seen(answer), target=answer.address))
    return outcomes


@check(id="endpoints.passive", title="Passive sign-in endpoint /adfs/ls/ answers through the external path",
       area=Area.ENDPOINTS, severity=Severity.CRITICAL, blocker=True, requires=(ENDPOINTS_FACT,),
       rule="https://<fs>/adfs/ls/ answers the WS-Federation sign-in request Entra ID sends, through every "
            "proxy (or the federation service name).",
       remediation="Browsers are sent to /adfs/ls/ for every federated sign-in. Check that the Web Application "
                   "Proxy is running and trusted by the farm (Install-WebApplicationProxy / the proxy trust), that "
                   "the firewall forwards TCP 443 to the proxies, and that Get-AdfsEndpoint -AddressPath /adfs/ls/ "
                   "shows Enabled and Proxy True.",
       references=(REF_SECURING_ADFS, REF_SET_ADFSENDPOINT))
def passive(ctx: CheckContext) -> list[Outcome] | Outcome:
    """The probe sends what Entra ID sends: ``GET /adfs/ls/?wa=wsignin1.0&wtrealm=urn:federation:
    MicrosoftOnline``. Enabled: 200 with the sign-in page (forms authentication) or a redirect
    within /adfs/ (into Windows or certificate authentication). Not published / stopped: 404 or
    503 (WAP), or no answer (timeout, refused). PASS / FAIL per external place; ERROR for a place
    where our TLS client failed (the certificate is judged by tls.*, the endpoint is unknown)."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    outcomes = []
    for answer in facts.external_answers(PATH_PASSIVE):
        if _tls_failed([answer]):
            outcomes.append(_tls_error(answer, "/adfs/ls/"))
            continue
        if not_the_targets(answer.exchange.error):
            outcomes.append(_undetermined(answer, f"/adfs/ls/ through {answer.address}"))
            continue
        status = answer.exchange.status
        location = answer.exchange.headers.get("location") or ""
        ok = answer.answered and (status == 200 or (status in (301, 302, 303, 307) and "/adfs/" in location))
        what = "the sign-in page" if answer.looks_like_sign_in_page else _state(answer)
        outcomes.append(Outcome(Status.PASS if ok else Status.FAIL,
                                f"/adfs/ls/ through {answer.address}: {what}"
                                + ("." if ok else "; federated users cannot sign in through this path.")
                                + legacy_renegotiation_note(answer.exchange),
                                evidence=_seen(answer), target=answer.address))
    if not outcomes:
        raise CannotDetermine("The passive endpoint was not requested.")
    return outcomes


@check(id="endpoints.mex", title="WS-MetadataExchange document", area=Area.ENDPOINTS, severity=Severity.MEDIUM,
       blocker=False, requires=(ENDPOINTS_FACT,),
       rule="https://<fs>/adfs/services/trust/mex returns a WS-MetadataExchange (WSDL) document listing the "
            "WS-Trust endpoints.",
       remediation="Rich clients (older Office, ADAL/MSAL with WS-Trust, Hybrid Join) read the MEX document to find "
                   "the WS-Trust endpoints. Enable it and publish it through the proxy: Enable-AdfsEndpoint "
                   "-TargetAddressPath /adfs/services/trust/mex; Set-AdfsEndpoint -TargetAddressPath "
                   "/adfs/services/trust/mex -Proxy $true.",
       references=(REF_SET_ADFSENDPOINT, REF_SECURING_ADFS))
def mex(ctx: CheckContext) -> Outcome:
    """Enabled: 200 ``text/xml`` with a ``wsdl:definitions`` whose ``wsdl:service/wsdl:port``
    elements carry the endpoint addresses (the corpus holds real ones; a UTF-8 BOM and addresses
    wrapped in white space occur); only enabled endpoints are listed. Disabled: 404. PASS on a
    parsed document, WARN when it answers but does not parse (HTML, refused DTD), FAIL when not
    served (404/503) or no answer came (timeout, refused); ERROR when our TLS client failed."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    answers = facts.external_answers(PATH_MEX)
    if not answers:
        raise CannotDetermine("The MEX endpoint was not requested.")
    first = answers[0]
    evidence = _seen(first)
    if _tls_failed([first]):
        raise _cannot_tls(first, [first])
    if not_the_targets(first.exchange.error):
        return _undetermined(first, f"/adfs/services/trust/mex through {first.address}", target=None)
    if not first.answered:
        return Outcome(Status.FAIL, f"/adfs/services/trust/mex through {first.address}: {_state(first)}; clients "
                                    f"cannot fetch the MEX document through this path.", evidence=evidence)
    if not first.served:
        return Outcome(Status.FAIL, f"/adfs/services/trust/mex through {first.address}: {_state(first)}; the "
                                    f"MEX endpoint is disabled or not published.", evidence=evidence)
    document = facts.mex
    if document is None or document.parse_error:
        reason = document.parse_error if document else f"{_state(first)} instead of the document"
        return Outcome(Status.WARN, f"The MEX endpoint answered, but not with a usable WS-MetadataExchange "
                                    f"document: {reason}.", evidence={**evidence, "parse_error": reason})
    listed = [{"name": e.name, "binding": e.binding, "address": e.address} for e in document.endpoints]
    evidence = {**evidence, "endpoints": listed, "bom": document.has_bom}
    plain = [e for e in document.endpoints if (e.address or "").lower().startswith("http://")]
    transport = [e for e in plain if _transport_secured(e.path)]
    message = [e for e in plain if not _transport_secured(e.path)]
    evidence.update(plain_http_transport=[e.address for e in transport], plain_http_message=[e.address for e in message])
    note = ""
    if message:
        note = (f" {len(message)} message-security endpoint(s) are published over plain http "
                f"({', '.join(e.path or e.address or '?' for e in message)}): WS-Security protects the message "
                f"itself there, which is why AD FS serves them on http; Microsoft 365 rich clients do not use them. "
                f"Disable them (Disable-AdfsEndpoint) unless a partner application needs them.")
    if transport:
        # Judged per kind: an https windowstransport does not stand in for a plain-http
        # usernamemixed (the username/password flow has then nothing left), and the reverse.
        secure = {_kind(e.path) for e in document.endpoints if (e.address or "").lower().startswith("https://")}
        kinds = sorted({_kind(e.path) for e in transport} & set(_FLOWS))
        lost = [k for k in kinds if k not in secure]
        names = ", ".join(e.address or "?" for e in transport)
        parts = [f"the https {k} endpoint(s) listed too are used instead" for k in kinds if k in secure]
        parts += [f"no https {k} endpoint is left, so {_FLOWS[k]} fails" for k in lost]
        consequence = "; ".join(parts) or "the other endpoints listed are used instead"
        return Outcome(Status.FAIL if lost else Status.WARN,
                       f"The MEX document publishes transport-secured WS-Trust endpoints over plain http ({names}): "
                       f"rich clients skip them (ADAL and MSAL accept only https endpoints from MEX), and "
                       f"{consequence}.{note}", evidence=evidence, remediation=_MEX_HTTP_FIX)
    return Outcome(Status.PASS, f"The MEX document lists {len(listed)} endpoint(s)"
                                f"{' (with a byte-order mark)' if document.has_bom else ''}.{note}",
                   evidence=evidence)


def _transport_secured(path: str | None) -> bool:
    """AD FS's ...mixed and ...transport WS-Trust endpoints rely on TLS (transport security, with
    or without message credentials): over plain http they are unprotected and clients refuse them.
    The others (/2005/username, /2005/windows, issuedtoken...symmetric...) are message-security
    endpoints, protected by WS-Security and meant for http."""
    last = (path or "").rstrip("/").rsplit("/", 1)[-1].lower()
    return last.endswith(("mixed", "transport")) or "mixed" in last


#: The transport-secured WS-Trust endpoint kinds Microsoft 365 rich clients use, and the flow each one carries.
_FLOWS = {
    "usernamemixed": "WS-Trust username/password sign-in of rich clients (older Office, Skype for Business, "
                     "ADAL/MSAL username-password flows)",
    "windowstransport": "Windows-integrated WS-Trust sign-in of rich clients (domain-joined Office, Hybrid Azure AD "
                        "join, ADAL/MSAL integrated Windows authentication)",
}


def _kind(path: str | None) -> str:
    """The WS-Trust endpoint kind of a MEX address path: its last segment, lower case
    (``/adfs/services/trust/13/usernamemixed`` -> ``usernamemixed``)."""
    return (path or "").rstrip("/").rsplit("/", 1)[-1].lower()


_MEX_HTTP_FIX = (
    "The MEX document names the addresses AD FS believes it is reached at. Plain-http addresses for the transport "
    "endpoints mean TLS is offloaded in front of AD FS or something rewrites the document: terminate TLS on the "
    "AD FS servers and Web Application Proxies, or make the load balancer re-encrypt to them (SSL bridging) with "
    "the federation service name, so the MEX lists https://<fs>/adfs/services/trust/... again.")


@check(id="endpoints.usernamemixed", title="WS-Trust usernamemixed endpoints enabled", area=Area.ENDPOINTS,
       severity=Severity.MEDIUM, blocker=False, requires=(ENDPOINTS_FACT,),
       rule="/adfs/services/trust/2005/usernamemixed and /adfs/services/trust/13/usernamemixed are served "
            "through the external path.",
       remediation="Active clients (Exchange ActiveSync and other basic-auth clients, older Office) use the "
                   "usernamemixed endpoints. Enable-AdfsEndpoint -TargetAddressPath <path>; Set-AdfsEndpoint "
                   "-TargetAddressPath <path> -Proxy $true, for both the 2005 and the 13 path.",
       references=(REF_SET_ADFSENDPOINT,))
def usernamemixed(ctx: CheckContext) -> Outcome:
    """The WS-Trust endpoints are WCF SOAP services: a plain GET is not a SOAP request and an
    enabled endpoint answers it with a SOAP fault or an HTTP error (400/405, seen from WCF), never
    404; a disabled or unpublished endpoint is not registered and answers 404 (503 on a WAP).
    PASS when both are served, WARN when one is, FAIL when neither (each missing path with what
    came back: HTTP 404/503, or no answer); ERROR when our TLS client failed."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    everything = [a for path in PATH_USERNAMEMIXED for a in facts.external_answers(path)]
    failed = _tls_failed(everything)
    if failed is not None:
        raise _cannot_tls(failed, everything)
    cut = next((a for a in everything if not_the_targets(a.exchange.error)), None)
    if cut is not None:
        assert cut.exchange.error is not None
        raise CannotDetermine(f"{cut.path} through {cut.address}: {not_determined_text(cut.exchange.error, 'the endpoint')}.",
                              evidence={"answers": [_seen(a) for a in everything]})
    served, evidence, why = [], [], []
    for path in PATH_USERNAMEMIXED:
        answers = facts.external_answers(path)
        evidence += [_seen(a) for a in answers]
        if answers and all(a.served for a in answers):
            served.append(path)
        else:
            why.append(f"{path} ({'; '.join(f'{_state(a)} through {a.address}' for a in answers if not a.served)})"
                       if answers else f"{path} (not requested)")
    missing = [p for p in PATH_USERNAMEMIXED if p not in served]
    status = Status.PASS if not missing else Status.WARN if served else Status.FAIL
    summary = ("Both usernamemixed endpoints are served through the external path." if not missing else
               f"Not served through the external path: {', '.join(why)}.")
    return Outcome(status, summary, evidence={"answers": evidence, "missing": missing})


@check(id="endpoints.windowstransport-exposed", title="windowstransport not reachable through the proxy",
       area=Area.ENDPOINTS, severity=Severity.HIGH, blocker=False, requires=(ENDPOINTS_FACT,),
       rule="/adfs/services/trust/2005/windowstransport and /13/windowstransport do NOT answer through the "
            "proxies: they accept Windows authentication without Extranet Lockout, and Microsoft's hardening "
            "guide says to remove them from the extranet.",
       remediation="Keep the endpoints for the intranet (Hybrid Join uses them there) but unpublish them: "
                   "Set-AdfsEndpoint -TargetAddressPath /adfs/services/trust/2005/windowstransport -Proxy $false; "
                   "Set-AdfsEndpoint -TargetAddressPath /adfs/services/trust/13/windowstransport -Proxy $false; "
                   "then restart the AD FS and Web Application Proxy services.",
       references=(REF_SECURING_ADFS, REF_SET_ADFSENDPOINT, REF_DISABLE_ADFSENDPOINT))
def windowstransport_exposed(ctx: CheckContext) -> list[Outcome] | Outcome:
    """WCF endpoints: served = any status but 404/503 (see ``usernamemixed``). Requiring these
    endpoints, as an older tool does, is wrong: they must be absent from the extranet. PASS when no
    proxy serves them; FAIL per proxy that does; without configured proxies the federation service
    name is looked at and an answer is INFO (the run may have gone to the farm from inside, where
    the endpoints belong). A place where no answer came (TLS failure of our client, timeout,
    refused) is ERROR: "not served" is only said from a received 404/503."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    outcomes = []
    for place in facts.external_places:
        answers = [a for p in PATH_WINDOWSTRANSPORT for a in facts.external_answers(p) if a.address == place]
        exposed = [a.path for a in answers if a.served]
        evidence = {"answers": [_seen(a) for a in answers], "exposed": exposed}
        failed = _tls_failed(answers)
        unanswered = [a for a in answers if not a.answered]
        if not exposed and failed is not None:
            outcomes.append(Outcome(Status.ERROR, f"windowstransport through {place}: could not be determined: "
                                                  f"{_tls_reason(failed)}.", evidence=evidence, target=place))
        elif not exposed and (unanswered or not answers):
            what = "; ".join(f"{a.path}: {_state(a)}" for a in unanswered) or "not requested"
            outcomes.append(Outcome(Status.ERROR, f"windowstransport through {place}: could not be determined: no "
                                                  f"answer ({what}).", evidence=evidence, target=place))
        elif not exposed:
            outcomes.append(Outcome(Status.PASS, f"windowstransport is not served through {place}.",
                                    evidence=evidence, target=place))
        elif facts.proxies_configured:
            outcomes.append(Outcome(Status.FAIL, f"The proxy {place} serves {', '.join(exposed)}: Windows "
                                                 f"authentication is reachable from the internet, without "
                                                 f"Extranet Lockout.", evidence=evidence, target=place))
        else:
            outcomes.append(Outcome(Status.INFO, f"The federation service name ({place}) serves "
                                                 f"{', '.join(exposed)}; if this run went through the internet, the "
                                                 f"endpoints are exposed (configure federation.proxies to judge each "
                                                 f"proxy).", evidence=evidence, target=place))
    return outcomes


@check(id="endpoints.idp-initiated-signon", title="IdP-initiated sign-on page state", area=Area.ENDPOINTS,
       severity=Severity.INFO, blocker=False, requires=(ENDPOINTS_FACT,),
       rule="Reports whether /adfs/ls/IdpInitiatedSignon.aspx offers a sign-in page through the external path.",
       remediation="Microsoft 365 does not need the IdP-initiated sign-on page; AD FS 2016 and later disable it "
                   "by default. Leave it disabled unless an application needs it: Set-AdfsProperties "
                   "-EnableIdpInitiatedSignonPage $false.",
       references=(REF_SET_ADFSPROPERTIES, REF_SECURING_ADFS))
def idp_initiated_signon(ctx: CheckContext) -> Outcome:
    """Enabled: 200 with the page's sign-in form. Disabled (EnableIdpInitiatedSignonPage false):
    AD FS answers its error page instead of the form; unpublished: 404/503. Always INFO (the state
    is reported, not judged); ERROR when no place showed the page and our TLS client failed."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    answers = facts.external_answers(PATH_IDP_INITIATED)
    if not answers:
        raise CannotDetermine("The IdP-initiated sign-on page was not requested.")
    enabled = [a.address for a in answers if a.served and a.exchange.status == 200 and a.looks_like_sign_in_page]
    failed = _tls_failed(answers)
    if not enabled and failed is not None:
        raise _cannot_tls(failed, answers)
    unanswered = [a for a in answers if not a.answered]
    if enabled:
        summary = f"The IdP-initiated sign-on page is enabled and reachable through {', '.join(enabled)}."
    elif unanswered:
        summary = ("The IdP-initiated sign-on page was not seen: no answer ("
                   + "; ".join(f"{_state(a)} through {a.address}" for a in unanswered) + ").")
    else:
        summary = "The IdP-initiated sign-on page is disabled or not published through the external path."
    return Outcome(Status.INFO, summary, evidence={"enabled_through": enabled, "answers": [_seen(a) for a in answers]})


REF_ADFS_OIDC = Reference(
    "AD FS OpenID Connect/OAuth concepts (AD FS endpoints: /.well-known/openid-configuration)",
    "https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/development/ad-fs-openid-connect-oauth-concepts")
_OPENID_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
                     "end_session_endpoint", "device_authorization_endpoint")


def _host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # "https://[" from a hostile document
        return None


def _url_on_service(url: str, service_name: str) -> str | None:
    """Why ``url`` is not an https URL on the federation service name, or None when it is. Host
    names compare as DNS compares them (case-insensitive, RFC 4343); port 443 may be written out."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    if parts.scheme.lower() != "https":
        return f"scheme {parts.scheme or 'none'}, not https"
    if (parts.hostname or "").rstrip(".") != service_name:
        return f"host {parts.hostname}"
    if port not in (None, 443):
        return f"port {port}"
    return None


@check(id="endpoints.openid-configuration", title="OpenID Connect discovery issuer", area=Area.ENDPOINTS,
       severity=Severity.LOW, blocker=False, requires=(ENDPOINTS_FACT,),
       rule="/adfs/.well-known/openid-configuration (AD FS 2016+) publishes issuer https://<fs>/adfs and its endpoint "
            "URLs (authorization, token, jwks, userinfo, end_session, device_authorization) on the federation service "
            "name; host names compare case-insensitively, :443 may be written out. access_token_issuer "
            "(http://<fs>/adfs/services/trust, AD FS's identifier) is reported, not judged.",
       remediation="An issuer on another host means the federation service name (Set-AdfsProperties -HostName) "
                   "differs from the name clients use; OAuth/OpenID Connect clients reject tokens whose issuer does "
                   "not match the discovery document.",
       references=(REF_OIDC_DISCOVERY, REF_ADFS_OIDC, REF_SET_ADFSPROPERTIES))
def openid_configuration(ctx: CheckContext) -> Outcome:
    """Enabled (AD FS 2016+): 200 JSON with ``issuer`` = ``https://<fs>/adfs`` (the corpus holds
    real ones: AD FS 2016 from Microsoft's documentation, AD FS 2019 with escaped slashes, the
    django-auth-adfs fixture). Absent (AD FS 2012 R2, or disabled): 404 → INFO. PASS when the
    issuer and every endpoint URL are https on the federation service name (case-insensitive, the
    HostName's capitals as AD FS writes them); FAIL otherwise; WARN when the answer is not a
    discovery document; ERROR when no answer came (our TLS client failed, timeout, refused)."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    answers = facts.external_answers(PATH_OPENID)
    if not answers:
        raise CannotDetermine("The OpenID configuration was not requested.")
    if _tls_failed(answers[:1]):
        raise _cannot_tls(answers[0], answers[:1])
    if not answers[0].answered:
        raise CannotDetermine(f"no answer from {answers[0].address} for the OpenID configuration "
                              f"({_state(answers[0])}).", evidence=_seen(answers[0]))
    if not answers[0].served:
        return Outcome(Status.INFO, f"No OpenID Connect discovery document ({_state(answers[0])}): AD FS 2012 R2, "
                                    f"or the endpoint is disabled/unpublished.", evidence=_seen(answers[0]))
    doc = facts.openid
    if doc is None or doc.parse_error:
        why = doc.parse_error if doc else _state(answers[0])
        return Outcome(Status.WARN, f"The OpenID configuration endpoint answered, but not with a discovery document: "
                                    f"{why}.", evidence={**_seen(answers[0]), "parse_error": why})
    service = (facts.service_name or "").lower().rstrip(".")
    expected = f"https://{service}/adfs"
    endpoints = {key: getattr(doc, key) for key in _OPENID_ENDPOINTS if getattr(doc, key)}
    wrong = {key: why for key, url in endpoints.items() if (why := _url_on_service(url, service))}
    issuer_problem = _url_on_service(doc.issuer or "", service)
    if issuer_problem is None and urlsplit(doc.issuer or "").path.rstrip("/").lower() != "/adfs":
        issuer_problem = f"path {urlsplit(doc.issuer or '').path or '/'}, not /adfs"
    evidence = {"issuer": doc.issuer, "expected_issuer": expected, "endpoints": endpoints, "url": doc.url,
                "access_token_issuer": doc.access_token_issuer,
                "endpoint_hosts": {k: _host_of(v) for k, v in endpoints.items()}}
    if issuer_problem or wrong:
        problems = ([f"the issuer is {doc.issuer!r} ({issuer_problem}), expected {expected!r}"] if issuer_problem
                    else []) + [f"{key} {endpoints[key]!r} ({why})" for key, why in wrong.items()]
        return Outcome(Status.FAIL, f"The discovery document does not name the federation service {service}: "
                                    f"{'; '.join(problems)}.", evidence=evidence)
    return Outcome(Status.PASS, f"The OpenID Connect issuer is {doc.issuer} and its {len(endpoints)} endpoint URL(s) "
                                f"are on {service}.", evidence=evidence)


@check(id="endpoints.latency", title="Sign-in endpoint response time", area=Area.ENDPOINTS, severity=Severity.LOW,
       blocker=False, requires=(ENDPOINTS_FACT,),
       rule="The median response time of the passive endpoint through each external place is below "
            "thresholds.latency_warn_ms (1500 ms).",
       remediation="Slow sign-in pages point at an overloaded farm, a slow domain controller or a proxy/load "
                   "balancer problem; look at the AD FS performance counters and the DC response times.",
       references=(REF_SECURING_ADFS,))
def latency(ctx: CheckContext) -> list[Outcome] | Outcome:
    """The median of ``[endpoints] latency_samples`` (3) GETs of the passive endpoint per place.
    PASS below the threshold, WARN above, ERROR (could not determine) when every request failed."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    limit = ctx.config.thresholds.latency_warn_ms
    outcomes = []
    for sample in facts.latency:
        times = [s for s in sample.seconds if s is not None]
        evidence = {"url": sample.url, "samples_ms": [round(s * 1000) if s is not None else None for s in sample.seconds],
                    "errors": list(sample.errors), "threshold_ms": limit}
        if not times:
            failed = _tls_failed([a for a in facts.answers_for(PATH_PASSIVE, sample.via)
                                  if a.address == sample.address])
            why = (f"could not be determined: {_tls_reason(failed)}" if failed is not None
                   else "no request succeeded; latency unknown")
            outcomes.append(Outcome(Status.ERROR, f"Latency through {sample.address}: {why}.",
                                    evidence=evidence, target=sample.address))
            continue
        median_ms = round(statistics.median(times) * 1000)
        evidence["median_ms"] = median_ms
        status = Status.WARN if median_ms > limit else Status.PASS
        outcomes.append(Outcome(status, f"Median response time through {sample.address}: {median_ms} ms "
                                        f"({'above' if status is Status.WARN else 'within'} {limit} ms).",
                                evidence=evidence, target=sample.address))
    if not outcomes:
        raise CannotDetermine("No latency samples were taken.")
    return outcomes


@check(id="endpoints.clock-skew", title="Server clock (Date header)", area=Area.ENDPOINTS, severity=Severity.MEDIUM,
       blocker=False, requires=(ENDPOINTS_FACT,),
       rule="The servers' Date header is within thresholds.clock_skew_fail_seconds (300 s) of our clock; warn "
            "beyond clock_skew_warn_seconds (60 s).",
       remediation="Tokens carry validity times; a skewed AD FS clock issues tokens Entra ID rejects as not yet "
                   "valid or expired, and Kerberos fails beyond 5 minutes. Sync the servers with the domain "
                   "hierarchy (w32tm /resync) and the PDC emulator with a reliable source.",
       references=(REF_HTTP_DATE, REF_SECURING_ADFS))
def clock_skew(ctx: CheckContext) -> list[Outcome] | Outcome:
    """Compares each place's ``Date`` header (RFC 9110, one-second resolution) with the run's clock
    at the moment the answer arrived. PASS / WARN / FAIL by the thresholds; ERROR without any
    readable Date header; ERROR per external place our TLS client could not talk to (its clock is
    unknown)."""
    facts = _facts(ctx)
    if facts is None:
        return _NOT_CONFIGURED
    warn_s, fail_s = ctx.config.thresholds.clock_skew_warn_seconds, ctx.config.thresholds.clock_skew_fail_seconds
    outcomes = []
    for sample in facts.clocks:
        evidence = {"date_header": sample.date_header, "local_time": sample.local_time.isoformat(),
                    "warn_seconds": warn_s, "fail_seconds": fail_s}
        if sample.server_date is None:
            outcomes.append(Outcome(Status.ERROR, f"{sample.address} sent an unreadable Date header "
                                                  f"{sample.date_header!r}.", evidence=evidence, target=sample.address))
            continue
        skew = round((sample.server_date - sample.local_time).total_seconds())
        evidence["skew_seconds"] = skew
        status = Status.FAIL if abs(skew) > fail_s else Status.WARN if abs(skew) > warn_s else Status.PASS
        direction = "ahead of" if skew > 0 else "behind"
        outcomes.append(Outcome(status, f"{sample.address}'s clock is {abs(skew)} s {direction} ours.",
                                evidence=evidence, target=sample.address))
    sampled = {s.address for s in facts.clocks}
    for place in facts.external_places:
        failed = _tls_failed([a for a in facts.answers if a.address == place])
        if place not in sampled and failed is not None:
            outcomes.append(_tls_error(failed, "The server clock"))
    if not outcomes:
        raise CannotDetermine("No server sent a Date header.")
    return outcomes
