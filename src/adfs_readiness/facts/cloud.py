"""Facts of the Entra ID side: what Microsoft's realm discovery and OpenID Connect discovery say
about each federated domain, and the domains' federation settings (Graph's
``internalDomainFederation``) from an exported JSON file or live Microsoft Graph.

Fact keys: :data:`REALM_FACT` (:class:`RealmFacts`) and :data:`ENTRA_FEDERATION_FACT`
(:class:`EntraFederationFacts`). Imports only from :mod:`adfs_readiness.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from adfs_readiness.facts import CertificateInfo, HttpExchange

__all__ = [
    "REALM_FACT",
    "ENTRA_FEDERATION_FACT",
    "RealmDiscovery",
    "TenantDiscovery",
    "RealmFacts",
    "DomainFederation",
    "EntraFederationFacts",
]

#: Fact key of :class:`RealmFacts`.
REALM_FACT = "cloud_realm"
#: Fact key of :class:`EntraFederationFacts`.
ENTRA_FEDERATION_FACT = "entra_federation"


@dataclass(frozen=True)
class RealmDiscovery:
    """``GET https://<login host>/getuserrealm.srf?login=<made-up user>@<domain>&xml=1``.

    Attributes:
        domain / login: the domain and the made-up user name asked about (no password is sent).
        exchange: the HTTP exchange.
        namespace_type: "Federated", "Managed" or "Unknown" as Microsoft answered (None when the
            answer could not be read).
        auth_url: AuthURL (the passive sign-in URL users are sent to) for a federated domain.
        sts_auth_url / mex_url: STSAuthURL (active endpoint) and MEXURL, when given.
        brand_name / cloud_instance: FederationBrandName and CloudInstanceName.
        parse_error: why the answer is unusable.
    """

    domain: str
    login: str
    exchange: HttpExchange
    namespace_type: str | None = None
    auth_url: str | None = None
    sts_auth_url: str | None = None
    mex_url: str | None = None
    brand_name: str | None = None
    cloud_instance: str | None = None
    parse_error: str | None = None


@dataclass(frozen=True)
class TenantDiscovery:
    """OpenID Connect discovery of a domain, as MSAL asks it (``GET https://<login host>/<domain>/
    v2.0/.well-known/openid-configuration``; the v1 document ``/<domain>/.well-known/
    openid-configuration``, as ADAL asks it, when the v2 one gives no answer): the ``tenant_id``
    and where it was read (``tenant_id_from``: "issuer" — v1 ``https://sts.windows.net/<id>/``,
    v2 ``https://<login host>/<id>/v2.0``, national clouds alike — or "endpoints" when only the
    authorization/token endpoints carry it), or Entra's error code (e.g. AADSTS90002 "tenant not
    found") for a domain no tenant has verified."""

    domain: str
    exchange: HttpExchange
    tenant_id: str | None = None
    issuer: str | None = None
    error_code: str | None = None
    error_description: str | None = None
    parse_error: str | None = None
    tenant_id_from: str | None = None


@dataclass(frozen=True)
class RealmFacts:
    """The realm fact (key ``cloud_realm``): ``configured`` is False without federated domains or
    a federation service name; ``login_host`` (and ``login_address`` when pinned) says where the
    questions went (worldwide, US Government, China, or a lab)."""

    configured: bool
    login_host: str
    login_address: str | None = None
    service_name: str | None = None
    realms: tuple[RealmDiscovery, ...] = ()
    tenants: tuple[TenantDiscovery, ...] = ()


@dataclass(frozen=True)
class DomainFederation:
    """One domain's federation configuration in Entra ID (Graph ``internalDomainFederation``).

    Attributes (Graph property names in brackets):
        domain: the domain it belongs to.
        issuer_uri [issuerUri], passive_sign_in_uri [passiveSignInUri], active_sign_in_uri
            [activeSignInUri], metadata_exchange_uri [metadataExchangeUri], sign_out_uri
            [signOutUri], display_name [displayName].
        signing_certificate / next_signing_certificate: decoded from the base64 DER strings
            [signingCertificate] / [nextSigningCertificate]; None when absent or empty.
        certificate_problems: why a certificate string could not be decoded.
        federated_idp_mfa_behavior [federatedIdpMfaBehavior], prompt_login_behavior
            [promptLoginBehavior], preferred_authentication_protocol
            [preferredAuthenticationProtocol].
        unknown_fields: property names the file had that Graph's resource does not document.
        missing_fields: documented properties the file lacked.
    """

    domain: str
    issuer_uri: str | None = None
    passive_sign_in_uri: str | None = None
    active_sign_in_uri: str | None = None
    metadata_exchange_uri: str | None = None
    sign_out_uri: str | None = None
    display_name: str | None = None
    signing_certificate: CertificateInfo | None = None
    next_signing_certificate: CertificateInfo | None = None
    certificate_problems: tuple[str, ...] = ()
    federated_idp_mfa_behavior: str | None = None
    prompt_login_behavior: str | None = None
    preferred_authentication_protocol: str | None = None
    unknown_fields: tuple[str, ...] = ()
    missing_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntraFederationFacts:
    """The Entra federation settings fact (key ``entra_federation``).

    Attributes:
        configured: False when neither an export file nor Graph credentials are configured.
        source / source_kind: the file path, or the Graph URL base; "file" or "graph".
        domains: the federation configuration of each domain found.
        not_federated: configured federated domains for which Entra holds no federation
            configuration (still managed, or not in the export).
        problems: what was wrong with the input (not JSON, a Graph error, ...).
    """

    configured: bool
    source: str | None = None
    source_kind: str | None = None
    domains: tuple[DomainFederation, ...] = ()
    not_federated: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def for_domain(self, domain: str) -> DomainFederation | None:
        """The configuration of ``domain`` (case-insensitive), None when absent."""
        return next((d for d in self.domains if d.domain.lower() == domain.lower()), None)
