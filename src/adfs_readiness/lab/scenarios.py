"""Named lab scenarios: switches for the STS simulator and the certificates it publishes, each with
the findings it exists to produce.

A :class:`Scenario` is data. :func:`build_material` turns one into certificates and a metadata
document for a given ``now``; :class:`adfs_readiness.lab.Lab` serves them.

Certificate lifetimes follow AD FS defaults: token certificates live one year
(CertificateDuration 365), a successor is generated 20 days before the primary expires
(CertificateGenerationThreshold) and promoted 5 days later (CertificatePromotionThreshold)
(https://learn.microsoft.com/en-us/windows-server/identity/ad-fs/operations/configure-ts-td-certs-ad-fs).

``expected`` lists (check id, status) pairs the scenario must produce under the default
thresholds of CHECKS.md; it is not exhaustive (checks of areas the lab does not serve, and
``error`` findings of checks whose facts a broken service cannot give, are not listed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal

from cryptography.hazmat.primitives import hashes

from adfs_readiness.lab.endpoints_lab import DEFAULT_ENDPOINTS
from adfs_readiness.lab.federation_metadata import build_federation_metadata
from adfs_readiness.lab.pki import LabCertificate, LabPki
from adfs_readiness.lab.sts import StsBehaviour
from adfs_readiness.lab.sts_wstrust import SignInLab

__all__ = ["Scenario", "SCENARIOS", "LabMaterial", "build_material", "get_scenario", "with_switches"]

_TOKEN_LIFETIME = timedelta(days=365)  # AD FS CertificateDuration default
_GENERATION_THRESHOLD = timedelta(days=20)  # AD FS CertificateGenerationThreshold default


@dataclass(frozen=True)
class Scenario:
    """Switches of one lab federation service.

    Attributes:
        name / description: how the scenario is listed.
        expected: (check id, status) pairs it exists to produce (see the module docstring).
        token_signing_days_left: days until the primary token-signing certificate expires
            (negative = expired).
        token_signing_successor: publish a successor token-signing certificate (rollover).
        token_signing_key_bits: RSA size of the token-signing keys.
        token_decrypting_days_left: days until the token-decrypting certificate expires.
        signature: "rsa-sha256", "rsa-sha1" or "none" (unsigned metadata).
        tamper: change the metadata after signing.
        bom: serve the metadata with a UTF-8 byte-order mark.
        tls_names: names of the TLS certificate (None = the federation service name); "{fs}" in a
            name stands for the lab's federation service name.
        tls_days_left: days until the TLS certificate expires (negative = expired).
        tls_issuer: "intermediate" (chain leaf + intermediate), "root" or "self" (self-signed).
        answer: "metadata", "html", "slow", "oversized", "drip" (see StsBehaviour) or "no-answer"
            (a TCP listener that never speaks TLS).
        redirects: redirect hops in front of the metadata.
        slow_seconds: how long a "slow" answer waits (longer than any client timeout used).
        oversized_bytes / oversized_declares_length / drip_interval_seconds: see StsBehaviour.
        tls_key_bits / tls_hash: RSA size and signature hash ("sha256" or "sha1") of the TLS
            certificate (weak ones are served with OpenSSL's security level 0).
        tls_send_chain: send the intermediate CA certificate (False: the leaf only).
        tls_protocols: "default" or "tls1.0-only" (a legacy server).
        farm_nodes / proxies: one extra STS simulator per entry, serving the same metadata with
            "same" (the service's certificate), "renewed" (another certificate, same key) or
            "other-key" (another certificate and key).
        sign_in: the lab test account's WS-Trust sign-in (endpoints.sign-in-test): "off" (not
            configured), "ok", "wrong-password" (the STS expects another password), "missing-claim"
            (no ImmutableID claim), "wrong-key" (signed with a key the metadata does not publish),
            "saml2" (a SAML 2.0 assertion), "multi-domain" (issuer http://<UPN suffix>/adfs/services/trust/,
            as Entra Connect's SupportMultipleDomain rules make it).
    """

    name: str
    description: str
    expected: tuple[tuple[str, str], ...] = ()
    token_signing_days_left: float = 300.0
    token_signing_successor: bool = False
    token_signing_key_bits: int = 2048
    token_decrypting_days_left: float = 300.0
    signature: Literal["rsa-sha256", "rsa-sha1", "none"] = "rsa-sha256"
    tamper: bool = False
    bom: bool = False
    tls_names: tuple[str, ...] | None = None
    tls_days_left: float = 365.0
    tls_issuer: Literal["intermediate", "root", "self"] = "intermediate"
    answer: Literal["metadata", "html", "slow", "oversized", "drip", "no-answer"] = "metadata"
    redirects: int = 0
    slow_seconds: float = 120.0
    oversized_bytes: int = 200 * 1024 * 1024
    oversized_declares_length: bool = False
    drip_interval_seconds: float = 0.25
    tls_key_bits: int = 2048
    tls_hash: Literal["sha256", "sha1"] = "sha256"
    tls_send_chain: bool = True
    tls_protocols: Literal["default", "tls1.0-only"] = "default"
    farm_nodes: tuple[Literal["same", "renewed", "other-key"], ...] = ()
    proxies: tuple[Literal["same", "renewed", "other-key"], ...] = ()
    endpoints: tuple[tuple[str, str], ...] = ()
    clock_offset_seconds: float = 0.0
    probe_status: int = 200
    sign_in: Literal["off", "ok", "wrong-password", "missing-claim", "wrong-key", "saml2", "multi-domain"] = "off"

    def behaviour(self, metadata: bytes, now: datetime | None = None, role: Literal["farm", "proxy"] = "farm",
                  fs_name: str = "sts.contoso.test", sign_in: SignInLab | None = None) -> StsBehaviour:
        """The STS simulator's behaviour for this scenario, serving ``metadata``, with the lab's
        clock ``now`` for the Date header; ``role`` "proxy" serves only the endpoints published
        through the proxy. ``endpoints`` overrides states of DEFAULT_ENDPOINTS (path, state);
        ``clock_offset_seconds`` shifts the Date header; ``probe_status`` is what /adfs/probe over
        HTTP answers on every node and proxy."""
        answer = "metadata" if self.answer == "no-answer" else self.answer
        states = {**DEFAULT_ENDPOINTS, **dict(self.endpoints)}
        return StsBehaviour(metadata=metadata, bom=self.bom, answer=answer, redirects=self.redirects,
                            slow_seconds=self.slow_seconds, oversized_bytes=self.oversized_bytes,
                            oversized_declares_length=self.oversized_declares_length,
                            drip_interval_seconds=self.drip_interval_seconds, now=now,
                            endpoints=MappingProxyType(states), role=role, fs_name=fs_name,
                            clock_offset_seconds=self.clock_offset_seconds, sign_in=sign_in)


_TLS_HEALTHY = (
    ("tls.reachable", "pass"),
    ("tls.certificate-name", "pass"),
    ("tls.certificate-expiry", "pass"),
    ("tls.certificate-trust", "pass"),
    ("tls.certificate-key", "pass"),
    ("tls.protocols", "pass"),
    ("tls.revocation-info", "pass"),
    ("tls.node-consistency", "skip"),
    ("tls.san-certauth", "skip"),
    ("tls.san-enterpriseregistration", "skip"),
)

_HEALTHY_EXPECTED = _TLS_HEALTHY + (
    ("metadata.reachable", "pass"),
    ("metadata.well-formed", "pass"),
    ("metadata.signature", "pass"),
    ("metadata.entity-id", "pass"),
    ("metadata.endpoints", "pass"),
    ("metadata.consistency", "pass"),
    ("metadata.claims-offered", "pass"),
    ("token-signing.expiry", "pass"),
    ("token-signing.key", "pass"),
    ("token-signing.rollover", "pass"),
    ("token-decrypting.expiry", "pass"),
)

_PRESETS = (
    Scenario("healthy", "Everything as it should be: SHA-256 signed metadata, certificates with ~300 days left.",
             _HEALTHY_EXPECTED),
    Scenario("demo", "A realistic farm for the demo report: two AD FS nodes and a proxy with one SSL "
             "certificate (certauth and enterpriseregistration names included), a token-signing rollover in "
             "progress (primary 18 days left, successor published), a token-decrypting certificate with 60 "
             "days left.",
             (("metadata.signature", "pass"), ("token-signing.rollover", "info"),
              ("token-signing.expiry", "info"), ("token-decrypting.expiry", "warn"),
              ("tls.node-consistency", "pass")),
             token_signing_days_left=18, token_signing_successor=True, token_decrypting_days_left=60,
             tls_names=("{fs}", "certauth.{fs}", "enterpriseregistration.contoso.test"),
             farm_nodes=("same", "same"), proxies=("same",), sign_in="ok"),
    Scenario("token-signing-expiring", "The token-signing certificate expires in 10 days and no successor "
             "is published (fail, not yet blocking).",
             (("token-signing.expiry", "fail"), ("token-signing.rollover", "warn")),
             token_signing_days_left=10),
    Scenario("token-signing-expired", "The token-signing certificate expired 3 days ago (fail, blocking).",
             (("token-signing.expiry", "fail"), ("token-signing.rollover", "warn")),
             token_signing_days_left=-3),
    Scenario("token-signing-warn", "The token-signing certificate has 60 days left (warn; info when an AD FS "
             "export says AutoCertificateRollover is on, as the demo's does: AD FS makes the successor at 20 days).",
             (("token-signing.expiry", "warn"), ("token-signing.rollover", "pass")),
             token_signing_days_left=60),
    Scenario("rollover", "Rollover in progress: primary with 15 days left, successor published; both signing "
             "certificates listed.",
             (("token-signing.rollover", "info"), ("token-signing.expiry", "info")),
             token_signing_days_left=15, token_signing_successor=True),
    Scenario("rollover-missing", "The primary has 15 days left and no successor is published "
             "(AutoCertificateRollover should have made one at 20 days).",
             (("token-signing.rollover", "warn"), ("token-signing.expiry", "warn")),
             token_signing_days_left=15),
    Scenario("tampered-signature", "The metadata was changed after it was signed.",
             (("metadata.signature", "fail"),), tamper=True),
    Scenario("sha1-signature", "The metadata is signed with RSA-SHA1 and a SHA-1 digest.",
             (("metadata.signature", "warn"),), signature="rsa-sha1"),
    Scenario("unsigned", "The metadata carries no signature.", (("metadata.signature", "warn"),), signature="none"),
    Scenario("bom", "The metadata starts with a UTF-8 byte-order mark (fine).",
             (("metadata.well-formed", "pass"), ("metadata.signature", "pass")), bom=True),
    Scenario("redirected", "The metadata URL answers with two redirects on the same host before the document.",
             (("metadata.reachable", "pass"),), redirects=2),
    Scenario("wrong-tls-name", "The TLS certificate is for another name (www.fabrikam.test): verification fails "
             "with a name mismatch.",
             (("metadata.reachable", "fail"), ("tls.certificate-name", "fail"), ("tls.certificate-trust", "pass")),
             tls_names=("www.fabrikam.test",)),
    Scenario("tls-leaf-only", "The server sends only its own certificate, not the issuing CA's: clients that do not "
             "fetch intermediates fail (intermediate missing).",
             (("tls.certificate-trust", "fail"), ("tls.certificate-name", "pass"), ("tls.reachable", "pass")),
             tls_send_chain=False),
    Scenario("tls-expired", "The TLS certificate expired 5 days ago.",
             (("tls.certificate-expiry", "fail"), ("tls.certificate-trust", "pass"), ("metadata.reachable", "fail")),
             tls_days_left=-5),
    Scenario("tls-expiring", "The TLS certificate expires in 45 days.",
             (("tls.certificate-expiry", "warn"),), tls_days_left=45),
    Scenario("tls-self-signed", "The TLS certificate is self-signed.",
             (("tls.certificate-trust", "fail"), ("tls.revocation-info", "skip")), tls_issuer="self"),
    Scenario("tls-sha1", "The TLS certificate is signed with SHA-1.",
             (("tls.certificate-key", "warn"),), tls_hash="sha1"),
    Scenario("tls-weak-key", "The TLS certificate has an RSA 1024-bit key.",
             (("tls.certificate-key", "fail"),), tls_key_bits=1024),
    Scenario("tls-1.0-only", "The server speaks only TLS 1.0 (a modern client cannot connect).",
             (("tls.protocols", "fail"), ("tls.reachable", "fail"), ("tls.certificate-name", "pass")),
             tls_protocols="tls1.0-only"),
    Scenario("farm-consistent", "Two farm nodes and a proxy, all presenting the service's certificate.",
             (("tls.node-consistency", "pass"), ("tls.reachable", "pass")), farm_nodes=("same", "same"),
             proxies=("same",)),
    Scenario("farm-renewed-node", "One farm node still presents another certificate with the same key "
             "(renewed on one node only).",
             (("tls.node-consistency", "warn"),), farm_nodes=("same", "renewed")),
    Scenario("farm-different-certs", "Nodes and a proxy with different certificates; the proxy's key differs from "
             "the farm's (Windows Integrated Authentication through it fails Extended Protection's channel binding).",
             (("tls.node-consistency", "warn"),), farm_nodes=("same", "renewed"), proxies=("other-key",)),
    Scenario("html-login-page", "The metadata URL answers 200 with an HTML sign-in page.",
             (("metadata.well-formed", "fail"),), answer="html"),
    Scenario("slow-answer", "The service accepts the request but answers only after the client gave up "
             "(timeout).", (("metadata.reachable", "fail"),), answer="slow"),
    Scenario("oversized-answer", "The metadata URL streams 200 MB (download cap exceeded).",
             (("metadata.reachable", "fail"),), answer="oversized"),
    Scenario("weak-signing-key", "The token-signing key is RSA 1024.",
             (("token-signing.key", "fail"),), token_signing_key_bits=1024),
    Scenario("token-decrypting-expiring", "The token-decrypting certificate expires in 10 days.",
             (("token-decrypting.expiry", "fail"),), token_decrypting_days_left=10),
    Scenario("endpoints-windowstransport-exposed", "A farm node and a proxy; the proxy publishes both "
             "windowstransport endpoints (against Microsoft's hardening guide).",
             (("endpoints.windowstransport-exposed", "fail"), ("endpoints.passive", "pass")),
             farm_nodes=("same",), proxies=("same",),
             endpoints=(("/adfs/services/trust/2005/windowstransport", "proxied"),
                        ("/adfs/services/trust/13/windowstransport", "proxied"))),
    Scenario("endpoints-unpublished", "The proxy publishes neither the passive endpoint, MEX nor usernamemixed; "
             "the IdP-initiated page is on; the OpenID configuration is disabled; /adfs/probe answers 503.",
             (("endpoints.passive", "fail"), ("endpoints.mex", "fail"), ("endpoints.usernamemixed", "fail"),
              ("endpoints.probe", "fail"), ("endpoints.openid-configuration", "info")),
             proxies=("same",), probe_status=503,
             endpoints=(("/adfs/ls/", "enabled"), ("/adfs/services/trust/mex", "enabled"),
                        ("/adfs/services/trust/2005/usernamemixed", "disabled"),
                        ("/adfs/services/trust/13/usernamemixed", "enabled"),
                        ("/adfs/.well-known/openid-configuration", "disabled"))),
    Scenario("clock-skew", "The federation service's clock is 10 minutes ahead.",
             (("endpoints.clock-skew", "fail"),), clock_offset_seconds=600),
    Scenario("sign-in", "The lab test account signs in through the proxy (WS-Trust 1.3 usernamemixed) and gets a "
             "token Entra ID would accept.", (("endpoints.sign-in-test", "pass"),), proxies=("same",), sign_in="ok"),
    Scenario("sign-in-wrong-password", "The test account's password is refused (SOAP fault FailedAuthentication): "
             "the test account's trouble, so the sign-in is not determined (INCOMPLETE), not a broken farm.",
             (("endpoints.sign-in-test", "error"),), proxies=("same",), sign_in="wrong-password"),
    Scenario("sign-in-disabled-endpoint", "/adfs/services/trust/13/usernamemixed is disabled: WS-Trust rich clients "
             "get 404 (a failure that does not block: browser sign-in does not use it).",
             (("endpoints.sign-in-test", "fail"), ("endpoints.usernamemixed", "warn")), proxies=("same",),
             sign_in="ok", endpoints=(("/adfs/services/trust/13/usernamemixed", "disabled"),)),
    Scenario("sign-in-missing-claim", "The token lacks the ImmutableID claim (a broken issuance rule).",
             (("endpoints.sign-in-test", "fail"),), proxies=("same",), sign_in="missing-claim"),
    Scenario("sign-in-wrong-key", "The token is signed with a key the federation metadata does not publish.",
             (("endpoints.sign-in-test", "fail"),), proxies=("same",), sign_in="wrong-key"),
    Scenario("no-answer", "A TCP listener that accepts connections and never speaks TLS (timeout).",
             (("metadata.reachable", "fail"),), answer="no-answer"),
)

#: The named presets, read-only.
SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in _PRESETS})


def get_scenario(scenario: str | Scenario) -> Scenario:
    """The Scenario itself, or the preset of that name. Raises KeyError naming the presets."""
    if isinstance(scenario, Scenario):
        return scenario
    try:
        return SCENARIOS[scenario]
    except KeyError:
        raise KeyError(f"no lab scenario {scenario!r}; known: {', '.join(SCENARIOS)}") from None


@dataclass(frozen=True)
class LabMaterial:
    """What a scenario publishes: the TLS certificate (and those of the extra farm nodes and
    proxies), the token-signing certificates (primary first), the token-decrypting certificates and
    the metadata document bytes (without BOM)."""

    tls: LabCertificate
    node_tls: tuple[LabCertificate, ...]
    proxy_tls: tuple[LabCertificate, ...]
    token_signing: tuple[LabCertificate, ...]
    token_decrypting: tuple[LabCertificate, ...]
    metadata: bytes


def _token(pki: LabPki, kind: Literal["signing", "encryption"], fs_name: str, not_after: datetime,
           key_bits: int) -> LabCertificate:
    return pki.token_certificate(kind, fs_name, not_after - _TOKEN_LIFETIME, not_after, key_size=key_bits)


#: How far past (before, for an expired one) a whole "N days left" a lab certificate's notAfter is
#: set: a run a few seconds after the lab was built counts N days left, as the scenario list says,
#: not N - 1 (``api.days_left`` counts whole days toward zero).
_DAYS_LEFT_MARGIN = timedelta(hours=12)


def _expiry(now: datetime, days_left: float) -> datetime:
    """The notAfter of a certificate that ``api.days_left`` counts ``days_left`` days from ``now``
    (and still does for the next 12 hours): the scenario list and the report say the same number."""
    margin = _DAYS_LEFT_MARGIN if days_left >= 0 else -_DAYS_LEFT_MARGIN
    return now + timedelta(days=days_left) + margin


def build_material(scenario: Scenario, pki: LabPki, fs_name: str) -> LabMaterial:
    """Make the certificates and metadata of ``scenario`` for the federation service ``fs_name``,
    with validity relative to ``pki.now``: a certificate of "N days left" has N whole days left
    (``api.days_left``) for 12 hours after ``pki.now``."""
    now = pki.now
    primary_expiry = _expiry(now, scenario.token_signing_days_left)
    signing = [_token(pki, "signing", fs_name, primary_expiry, scenario.token_signing_key_bits)]
    if scenario.token_signing_successor:
        generated = primary_expiry - _GENERATION_THRESHOLD
        signing.append(_token(pki, "signing", fs_name, generated + _TOKEN_LIFETIME, scenario.token_signing_key_bits))
    decrypting = [_token(pki, "encryption", fs_name, _expiry(now, scenario.token_decrypting_days_left), 2048)]
    primary = signing[0]
    metadata = build_federation_metadata(
        fs_name,
        [c.cert for c in signing],
        [c.cert for c in decrypting],
        signing_key=primary.key,
        signing_cert=primary.cert,
        sign=scenario.signature != "none",
        signature_algorithm="rsa-sha1" if scenario.signature == "rsa-sha1" else "rsa-sha256",
        tamper=scenario.tamper,
    )
    names = [n.format(fs=fs_name) for n in scenario.tls_names or (fs_name,)]
    hash_algorithm = hashes.SHA1() if scenario.tls_hash == "sha1" else None
    tls_days = (_expiry(now, scenario.tls_days_left) - now) / timedelta(days=1)
    tls = pki.issue_tls(names, days_valid=30 + tls_days, not_before_offset_days=-30,
                        issuer=scenario.tls_issuer, key_size=scenario.tls_key_bits, hash=hash_algorithm)
    if not scenario.tls_send_chain:
        tls = replace(tls, chain=tls.chain[:1])

    def variant(kind: str, index: int) -> LabCertificate:
        if kind == "same":
            return tls
        # "renewed": another certificate (issued 10 days ago) on the same key; "other-key": its own key.
        return pki.issue_tls(names, days_valid=400, not_before_offset_days=-10, issuer=scenario.tls_issuer,
                             key_size=scenario.tls_key_bits,
                             key_slot=f"tls-other-{index}" if kind == "other-key" else None)

    return LabMaterial(tls=tls, node_tls=tuple(variant(k, i) for i, k in enumerate(scenario.farm_nodes)),
                       proxy_tls=tuple(variant(k, 100 + i) for i, k in enumerate(scenario.proxies)),
                       token_signing=tuple(signing), token_decrypting=tuple(decrypting), metadata=metadata)


def with_switches(scenario: str | Scenario, **switches: object) -> Scenario:
    """A copy of a scenario (or preset name) with some switches changed, e.g.
    ``with_switches("oversized-answer", oversized_declares_length=True)``."""
    return replace(get_scenario(scenario), **switches)  # type: ignore[arg-type]
