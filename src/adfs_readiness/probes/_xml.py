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


def parse_xml(data: bytes) -> etree._Element:
    """Parse an untrusted document with :func:`safe_parser` and refuse one that is not
    namespace-well-formed (Namespaces in XML 1.0, section 5: every prefix must be declared).
    libxml2 reports an undeclared prefix as a non-fatal error and, depending on where it stands,
    lxml raises or returns the element with a bare "prefix:name" tag; .NET's XmlReader (AD FS,
    Entra ID) refuses such a document. One answer for every position.

    Raises:
        etree.XMLSyntaxError: not well-formed, or a namespace error (its message and position).
    """
    parser = safe_parser()
    root = etree.fromstring(data, parser)
    for entry in parser.error_log:
        # Only the undeclared prefix: a relative namespace URI (WAR_NS_URI_RELATIVE) is a warning
        # real AD FS metadata carries (tests/corpus: tmschbgr_ofis_unsigned_sha1.xml).
        if entry.type == etree.ErrorTypes.NS_ERR_UNDEFINED_NAMESPACE:
            raise etree.XMLSyntaxError(entry.message, entry.type, entry.line, entry.column)
    return root


def tag_parts(element: etree._Element) -> tuple[str | None, str]:
    """(namespace URI or None, local name) of an element's tag; never raises. ``etree.QName``
    raises ValueError for a tag such as ``fed:TokenTypesOffered``, which libxml2 keeps (with a
    non-fatal namespace error) when a hostile or broken document uses a prefix it never declares;
    such an element has no namespace, so no rule of ours matches it (found by the fuzzer)."""
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return None, ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


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
