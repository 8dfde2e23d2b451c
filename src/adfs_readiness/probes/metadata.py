"""The federation metadata probe: where the metadata comes from, fetched or read, then parsed.

Sources, in order: ``config.federation.metadata`` (``--metadata PATH|URL``: a saved file, or a
partner's URL), else the live service at ``https://<federation service name>/FederationMetadata/
2007-06/FederationMetadata.xml`` — the URL Entra's automatic certificate update polls — connected
through ``config.federation.service_address`` when one is pinned. Parsing and signature verification live in
:mod:`adfs_readiness.probes.metadata_parser`; the HTTP exchange in :mod:`adfs_readiness.net.http`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from adfs_readiness.facts import FederationMetadata, HttpExchange, ProbeError, ProbeErrorKind
from adfs_readiness.probes import ProbeContext
from adfs_readiness.probes.metadata_parser import parse_metadata, read_metadata_file
from adfs_readiness.probes.tls import capture_peer_chain

__all__ = ["probe_federation_metadata", "METADATA_ACCEPT"]

#: What we ask for: SAML metadata's registered type first, then generic XML (AD FS answers text/xml).
METADATA_ACCEPT = "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"


def probe_federation_metadata(ctx: ProbeContext) -> FederationMetadata | ProbeError:
    """Gather the ``metadata`` fact. Returns ProbeError(NOT_CONFIGURED) when neither a federation
    service name nor a metadata source is configured; network and parse trouble are data inside
    the returned FederationMetadata (metadata.reachable and metadata.well-formed judge them)."""
    config = ctx.config
    source = config.federation.metadata
    if source and not source.lower().startswith(("http://", "https://")):
        return read_metadata_file(Path(source), config.network.max_download_bytes)
    url = source or config.federation.metadata_url
    if url is None:
        return ProbeError(ProbeErrorKind.NOT_CONFIGURED,
                          "no federation service name (federation.service_name) and no metadata "
                          "source (--metadata) are configured")
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # a malformed URL ("https://[::1/"): fetch reports it as an http error
        host = ""
    # Pin only the federation service name: a partner URL on another host resolves normally.
    pinned = config.federation.service_address if host == (config.federation.service_name or "") else None
    # The chain the server sends is kept with the exchange (dns.caa reads the issuing CA from it).
    answer = ctx.net.http.get(url, budget=ctx.budget, connect_address=pinned, accept=METADATA_ACCEPT,
                              capture_tls=partial(capture_peer_chain, policy=ctx.net.policy))
    exchange, body = answer.exchange, answer.body
    url = exchange.url  # as recorded: never with credentials from the URL's userinfo
    if exchange.error is not None or exchange.status != 200:
        return _not_parsed(url, exchange)
    return parse_metadata(body, source=url, source_kind="url", fetch=exchange,
                          content_type=exchange.headers.get("content-type"),
                          max_bytes=config.network.max_download_bytes)


def _not_parsed(url: str, exchange: HttpExchange) -> FederationMetadata:
    if exchange.error is not None:
        why = str(exchange.error)
    else:
        why = f"the server answered HTTP {exchange.status} {exchange.reason or ''}".rstrip()
    return FederationMetadata(
        source=url, source_kind="url", fetch=exchange, size_bytes=None, sha256=None, has_bom=False,
        content_type=exchange.headers.get("content-type"), looks_like_html=False,
        refused_construct=None, parse_error=f"nothing to parse: {why}", document=None)
