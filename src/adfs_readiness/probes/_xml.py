"""XML namespaces of SAML / WS-Federation metadata and the one safe lxml parser configuration."""

from __future__ import annotations

from lxml import etree

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
FED = "http://docs.oasis-open.org/wsfed/federation/200706"
AUTH = "http://docs.oasis-open.org/wsfed/authorization/200706"
WSA = "http://www.w3.org/2005/08/addressing"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def safe_parser() -> etree.XMLParser:
    # A new parser per document: lxml parsers keep state and must not be shared across threads.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False
    )


def element_text(element: etree._Element) -> str:
    """The character data directly inside ``element``: every text node, comments and processing
    instructions skipped. ``element.text`` stops at the first comment, so
    ``https://sts.example<!-- -->/adfs/ls/`` would read as ``https://sts.example`` while the
    signature (computed over c14n without comments) still covers the whole URL: the
    CVE-2017-11427 class of SAML bugs
    (https://duo.com/blog/duo-finds-saml-vulnerabilities-affecting-multiple-implementations)."""
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return "".join(parts)
