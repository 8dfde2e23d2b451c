"""The TLS probe (fact ``tls``): every address of the federation service asked for its certificate
with SNI = the federation service name, the chains verified in the external and internal views,
and the protocol versions each address accepts.

Addresses: the federation service name on 443 (connected through ``federation.service_address``
when one is pinned, like curl --resolve; else resolved), every ``federation.farm_nodes`` and
``federation.proxies`` address, and, when certificate authentication is in scope, each of them
on ``tls.certauth_port`` (49443: AD FS's certificate-authentication binding,
https://learn.microsoft.com/en-us/powershell/module/adfs/set-adfsalternatetlsclientbinding).

Every handshake of one run goes through a small thread pool; each is bounded by
``network.timeout_seconds`` and the time left before the probe's deadline.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from adfs_readiness.facts import ProbeError, ProbeErrorKind, TlsPeerChain
from adfs_readiness.facts.tls import EndpointRole, ProtocolSupport, TlsEndpoint, TlsFacts
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes.tls import TLS_VERSIONS, capture_peer_chain
from adfs_readiness.probes.tls_verify import TrustStore, load_trust_stores, public_key_sha256, verify_views
from adfs_readiness.settings import HostPort, Settings

__all__ = ["probe_tls", "planned_addresses", "LEGACY_VERSIONS"]

#: Versions probed with OpenSSL's security level lowered to 0 (OpenSSL 3 refuses them otherwise).
LEGACY_VERSIONS = ("TLSv1", "TLSv1.1")
_MAX_WORKERS = 16


@dataclass(frozen=True)
class _Target:
    role: EndpointRole
    address: HostPort
    label: str
    of_role: EndpointRole | None = None


def planned_addresses(config: Settings) -> list[tuple[EndpointRole, HostPort, EndpointRole | None]]:
    """(role, address, of_role) of every address the probe will ask, in order (see the module
    docstring). Empty when no federation service name is configured."""
    if not config.federation.service_name:
        return []
    service = config.federation.service_address or HostPort(config.federation.service_name, 443)
    main = [(EndpointRole.SERVICE, service)]
    main += [(EndpointRole.NODE, a) for a in config.federation.farm_nodes]
    main += [(EndpointRole.PROXY, a) for a in config.federation.proxies]
    planned: list[tuple[EndpointRole, HostPort, EndpointRole | None]] = [(r, a, None) for r, a in main]
    if config.scope.certificate_authentication:
        seen = set()
        for role, address in main:
            certauth = HostPort(address.host, config.tls.certauth_port)
            if certauth not in seen:
                seen.add(certauth)
                planned.append((EndpointRole.CERTAUTH, certauth, role))
    return planned


def _label(role: EndpointRole, address: HostPort, config: Settings) -> str:
    if role is EndpointRole.SERVICE and config.federation.service_address is None:
        return f"{config.federation.service_name}:{address.port}"
    return str(address)


def _protocol(result: TlsPeerChain | ProbeError, version: str, lowered: bool) -> ProtocolSupport:
    if isinstance(result, TlsPeerChain):
        legacy = "; only without RFC 5746 secure renegotiation" if result.legacy_renegotiation else ""
        return ProtocolSupport(version, True, f"accepted ({result.cipher}{legacy})", lowered)
    if result.kind is ProbeErrorKind.TLS:
        return ProtocolSupport(version, False, result.reason, lowered)
    return ProtocolSupport(version, None, f"not determined: {result.reason}", lowered)


def probe_tls(ctx: ProbeContext) -> TlsFacts | ProbeError:
    """Gather the ``tls`` fact.

    Without a federation service name (an offline run) the fact has no endpoints and
    ``service_name`` None: the tls checks skip. Unreachable addresses
    and failed handshakes are data inside the fact (``TlsEndpoint.error``); when the modern
    handshake fails but a legacy version (TLS 1.0/1.1, security level 0) is accepted, the chain of
    that legacy handshake is kept (``chain_from_legacy_handshake``) so that the certificate can
    still be judged.
    """
    config = ctx.config
    if not config.federation.service_name:
        # An offline run (--metadata FILE only): there is no service to connect to.
        return TlsFacts(service_name=None, endpoints=(), trust_stores=())
    name = config.federation.service_name
    targets = [_Target(role, address, _label(role, address, config), of_role)
               for role, address, of_role in planned_addresses(config)]
    stores = load_trust_stores(config)

    def timeout() -> float:
        return max(0.1, min(config.network.timeout_seconds, ctx.remaining() / 2))

    with ThreadPoolExecutor(max_workers=_MAX_WORKERS, thread_name_prefix="tls-probe") as pool:
        policy = ctx.net.policy
        captures = {t: pool.submit(capture_peer_chain, t.address, name, timeout(), policy=policy) for t in targets}
        pinned = {}
        for t in targets:
            if t.role is EndpointRole.CERTAUTH:
                continue
            for version in TLS_VERSIONS:
                lowered = version in LEGACY_VERSIONS
                pinned[(t, version)] = pool.submit(capture_peer_chain, t.address, name, timeout(),
                                                   pin_version=version, lower_security_level=lowered,
                                                   policy=policy)
        endpoints = [_endpoint(t, captures[t].result(), {v: pinned[(t, v)].result() for v in TLS_VERSIONS
                                                         if (t, v) in pinned}, name, ctx, stores)
                     for t in targets]
    return TlsFacts(service_name=name, endpoints=tuple(endpoints),
                    trust_stores=tuple(s.info for s in stores),
                    certauth_port=config.tls.certauth_port if config.scope.certificate_authentication else None)


def _endpoint(target: _Target, capture: TlsPeerChain | ProbeError,
              pinned: dict[str, TlsPeerChain | ProbeError], name: str, ctx: ProbeContext,
              stores: tuple[TrustStore, TrustStore]) -> TlsEndpoint:
    error = capture if isinstance(capture, ProbeError) else None
    chain = capture if isinstance(capture, TlsPeerChain) else None
    reached = error is None or error.kind is ProbeErrorKind.TLS
    protocols = tuple(_protocol(result, version, version in LEGACY_VERSIONS)
                      for version, result in pinned.items()) if reached else tuple(
        ProtocolSupport(version, None, f"not determined: {error}", version in LEGACY_VERSIONS)
        for version in pinned)
    legacy = False
    if chain is None and reached:
        # The modern handshake failed (e.g. a TLS 1.0-only server): keep the chain of any pinned
        # handshake that worked, so the certificate itself can still be judged.
        for result in pinned.values():
            if isinstance(result, TlsPeerChain):
                chain, legacy = result, True
                break
    verifications = verify_views(chain.chain, name, ctx.now, stores) if chain is not None and chain.chain else ()
    leaf = chain.chain[0] if chain is not None and chain.chain else None
    return TlsEndpoint(
        role=target.role,
        address=target.label,
        server_name=name,
        connected_to=chain.address if chain is not None else None,
        chain=chain,
        error=error,
        chain_from_legacy_handshake=legacy,
        leaf_public_key_sha256=public_key_sha256(leaf) if leaf is not None else None,
        verifications=verifications,
        protocols=protocols,
        of_role=target.of_role,
    )
