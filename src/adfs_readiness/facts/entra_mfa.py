"""Facts of the Azure Multi-Factor Auth Client service principal in Entra ID (appId
981f26a1-7f43-403b-a875-f8b09b8cd720): the key credentials (certificates) AD FS's Azure MFA adapter
authenticates with, read live from Microsoft Graph
(``GET /v1.0/servicePrincipals(appId='...')?$select=keyCredentials``; needs Application.Read.All).

Fact key: :data:`ENTRA_MFA_CLIENT_FACT` (:class:`EntraMfaClient`). Imports only from
:mod:`adfs_readiness.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adfs_readiness.facts import CertificateInfo

__all__ = ["ENTRA_MFA_CLIENT_FACT", "AZURE_MFA_CLIENT_APP_ID", "MfaKeyCredential", "EntraMfaClient"]

#: Fact key of :class:`EntraMfaClient`.
ENTRA_MFA_CLIENT_FACT = "entra_mfa_client"
#: The well-known application id of the Azure Multi-Factor Auth Client (Set-AdfsAzureMfaTenant -ClientId).
AZURE_MFA_CLIENT_APP_ID = "981f26a1-7f43-403b-a875-f8b09b8cd720"


@dataclass(frozen=True)
class MfaKeyCredential:
    """One keyCredential of the service principal: ``key_id``, ``display_name`` (for the adapter's
    certificates its subject, ``CN=<tenant id>, OU=Microsoft AD FS Azure MFA``), ``start`` / ``end``
    (aware UTC), ``thumbprint`` (customKeyIdentifier as upper-case hex when it is a SHA-1
    thumbprint) and ``certificate`` (the key itself, when Graph returned it)."""

    key_id: str | None
    display_name: str | None
    start: datetime | None
    end: datetime | None
    thumbprint: str | None = None
    certificate: CertificateInfo | None = None


@dataclass(frozen=True)
class EntraMfaClient:
    """The service principal as Graph returned it.

    Attributes:
        configured: False when live Graph is not configured (``[cloud] tenant_id`` / ``client_id``).
        source: the Graph URL asked.
        found: whether the service principal exists in the tenant (None = not determined).
        key_credentials: its key credentials (Graph's ``keyCredentials``: public certificates and
            their dates, no secret; not named ``credentials``, a key the redactor blanks whole).
        problems: why it could not be read (token refused, HTTP status, malformed answer).
    """

    configured: bool
    source: str | None = None
    found: bool | None = None
    key_credentials: tuple[MfaKeyCredential, ...] = ()
    problems: tuple[str, ...] = ()
