"""Parsing of AD FS's WS-MetadataExchange document (``/adfs/services/trust/mex``) and its OpenID
Connect discovery document, with the one safe lxml parser configuration (no DTD, no entity
expansion, no network: :func:`adfs_readiness.probes._xml.safe_parser`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from lxml import etree

from adfs_readiness.facts.endpoints import EndpointVia, MexDocument, MexEndpoint, OpenIdConfiguration
from adfs_readiness.probes._xml import parse_xml, tag_parts
from adfs_readiness.json_input import parse_untrusted_json

__all__ = ["parse_mex", "parse_openid_configuration"]

_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
_WSA10 = "http://www.w3.org/2005/08/addressing"
_BOM = b"\xef\xbb\xbf"


def _local(name: str | None) -> str | None:
    return name.rsplit(":", 1)[-1] if name else name


def parse_mex(body: bytes, *, url: str, via: EndpointVia, address: str) -> MexDocument:
    """Parse a WS-MetadataExchange (WSDL) document into its ``wsdl:service/wsdl:port`` endpoints.

    The address of a port is its ``soap12:address/@location``, else the WS-Addressing
    ``EndpointReference/Address`` text; white space around it is stripped (real farms wrap it in
    new lines). A UTF-8 BOM is accepted. Never raises: a document that is not XML, carries a DTD
    or entity declarations, or is not a ``wsdl:definitions`` has ``parse_error`` set.
    """
    has_bom = body.startswith(_BOM)
    data = body[len(_BOM):] if has_bom else body
    head = data[:2048].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        return MexDocument(url=url, via=via, address=address, has_bom=has_bom, refused_construct="DTD",
                           parse_error="the document carries a DTD or entity declarations (refused)")
    try:
        root = parse_xml(data)
    except etree.XMLSyntaxError as exc:
        return MexDocument(url=url, via=via, address=address, has_bom=has_bom,
                           parse_error=f"not well-formed XML: {exc}")
    namespace, localname = tag_parts(root)
    if namespace != _WSDL or localname != "definitions":
        return MexDocument(url=url, via=via, address=address, has_bom=has_bom, root_element=localname,
                           parse_error=f"the root element is {{{namespace}}}{localname}, "
                                       f"not wsdl:definitions")
    endpoints = []
    for port in root.iterfind(f"{{{_WSDL}}}service/{{{_WSDL}}}port"):
        soap = port.find(f"{{{_SOAP12}}}address")
        location = soap.get("location") if soap is not None else None
        if not location:
            epr = port.find(f".//{{{_WSA10}}}Address")
            location = epr.text if epr is not None else None
        location = location.strip() if location else None
        endpoints.append(MexEndpoint(name=port.get("name"), binding=_local(port.get("binding")), address=location,
                                     path=_path(location)))
    return MexDocument(url=url, via=via, address=address, has_bom=has_bom, parse_error=None,
                       endpoints=tuple(endpoints), root_element="definitions")


def _path(location: str | None) -> str | None:
    """The path of an endpoint address; None when there is none or it does not parse as a URL
    (urlsplit raises ValueError for "https://[::1/x": found by the mex fuzz target)."""
    if not location:
        return None
    try:
        return urlsplit(location).path
    except ValueError:
        return None


def parse_openid_configuration(body: bytes, *, url: str, via: EndpointVia, address: str) -> OpenIdConfiguration:
    """Parse AD FS's OpenID Connect discovery document (JSON, RFC 8414 / OpenID Discovery 1.0).
    Never raises: a body that is not a JSON object has ``parse_error`` set."""
    try:
        data = parse_untrusted_json(body)
    except ValueError as exc:
        return OpenIdConfiguration(url=url, via=via, address=address, issuer=None, parse_error=f"not JSON: {exc}")
    if not isinstance(data, dict):
        return OpenIdConfiguration(url=url, via=via, address=address, issuer=None,
                                   parse_error="the JSON is not an object")

    def text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) else None

    return OpenIdConfiguration(url=url, via=via, address=address, issuer=text("issuer"),
                               authorization_endpoint=text("authorization_endpoint"),
                               token_endpoint=text("token_endpoint"), jwks_uri=text("jwks_uri"),
                               access_token_issuer=text("access_token_issuer"),
                               userinfo_endpoint=text("userinfo_endpoint"),
                               end_session_endpoint=text("end_session_endpoint"),
                               device_authorization_endpoint=text("device_authorization_endpoint"),
                               parse_error=None if text("issuer") else "no issuer in the document")
