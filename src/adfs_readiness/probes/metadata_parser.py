"""Parse and verify SAML 2.0 federation metadata into a :class:`~adfs_readiness.facts.FederationMetadata`.

Pure (no network; :func:`read_metadata_file` reads one local file). Nothing here raises for bad
input: every problem becomes a field of the fact (``parse_error``, ``refused_construct``,
``looks_like_html``, the signature status, per-KeyDescriptor ``problems``), which the
``metadata.*`` checks judge.

Safety (the document may come from anywhere): the bytes are parsed as bytes (the XML declaration
or BOM decides the encoding), a prolog pre-scan with expat refuses any DOCTYPE, entity
declaration or external reference before lxml sees the document, and lxml itself runs with
entity resolution, DTD loading and network access off. See the OWASP XXE prevention cheat sheet
(https://cheatsheetseries.owasp.org/cheatsheets/XML_External_Entity_Prevention_Cheat_Sheet.html).

Rules and sources:
- SAML 2.0 metadata (https://docs.oasis-open.org/security/saml/v2.0/saml-metadata-2.0-os.pdf):
  EntityDescriptor, role descriptors, KeyDescriptor ``use`` (absent = both uses), validUntil,
  cacheDuration, endpoints.
- WS-Federation 1.2, section 3 "Federation Metadata"
  (http://docs.oasis-open.org/wsfed/federation/v1.2/os/ws-federation-1.2-spec-os.html):
  fed:SecurityTokenServiceType / fed:ApplicationServiceType role descriptors, their
  PassiveRequestorEndpoint / SecurityTokenServiceEndpoint (WS-Addressing EndpointReference) and
  ClaimTypesOffered.
- XML-DSig enveloped signature (https://www.w3.org/TR/xmldsig-core1/); AD FS signs its metadata
  with its token-signing certificate, and Entra reads that metadata to pick up renewed certificates
  (https://learn.microsoft.com/entra/identity/hybrid/connect/how-to-connect-fed-o365-certs).
"""

from __future__ import annotations

import dataclasses
import hashlib
import pyexpat
import re
import warnings
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree

from adfs_readiness.facts import (
    FederationMetadata,
    HttpExchange,
    KeyDescriptorInfo,
    KeyUse,
    MetadataDocument,
    MetadataEndpoint,
    RoleInfo,
    SignatureInfo,
    SignatureStatus,
)
from adfs_readiness.probes._xml import AUTH, DS, FED, MD, SAML, WSA, XSI, element_text, parse_xml, tag_parts
from adfs_readiness.probes.certificates import certificate_from_base64
from adfs_readiness.probes.metadata_limits import MetadataLimits, exceeded_limit
from adfs_readiness.probes.metadata_signature import verify_metadata_signature

__all__ = ["parse_metadata", "read_metadata_file"]

_XINCLUDE = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")

_BOM = b"\xef\xbb\xbf"
_ROLE_ELEMENTS = frozenset(
    {
        "RoleDescriptor",
        "IDPSSODescriptor",
        "SPSSODescriptor",
        "AuthnAuthorityDescriptor",
        "AttributeAuthorityDescriptor",
        "PDPDescriptor",
    }
)
_SAML_ENDPOINTS = frozenset(
    {"SingleSignOnService", "SingleLogoutService", "ArtifactResolutionService", "AssertionConsumerService"}
)
_FED_ENDPOINTS = frozenset({"PassiveRequestorEndpoint", "SecurityTokenServiceEndpoint"})
_FED_TYPES = frozenset({"SecurityTokenServiceType", "ApplicationServiceType"})
# xs:dateTime fractions may carry more digits than datetime.fromisoformat accepts.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
# lxml appends the position to its message; the fact states it once, in words.
_POSITION_SUFFIX = re.compile(r",? line \d+, column \d+$")


class _StopScan(Exception):
    """Raised from expat handlers to end the prolog pre-scan early."""


class _Prolog:
    """What the prolog holds: a DOCTYPE, entity declarations, the root element's name.

    expat reads the bytes in the document's own encoding and reports DOCTYPE and ENTITY
    declarations through handlers; the scan stops at the DOCTYPE's end or the root element, so
    no entity is ever expanded and no content is read.
    """

    def __init__(self, data: bytes) -> None:
        self.doctype: str | None = None
        self.doctype_system: str | None = None
        self.entities: list[tuple[str, str | None]] = []  # (name, system id)
        self.root: str | None = None
        self.completed = True
        scanner = pyexpat.ParserCreate()
        scanner.StartDoctypeDeclHandler = self._doctype
        scanner.EndDoctypeDeclHandler = self._stop
        scanner.EntityDeclHandler = self._entity
        scanner.StartElementHandler = self._element
        try:
            with warnings.catch_warnings():
                # pyexpat's unknown-encoding handler asks Python's codecs, which may warn (and so
                # raise under -W error) or fail for names like "base64", "mbcs" or "iso-2022-kr".
                warnings.simplefilter("ignore")
                scanner.Parse(data, True)
        except _StopScan:
            pass
        except Exception:  # noqa: BLE001 - ExpatError, LookupError, ValueError, UnicodeError, ...
            # Not well-formed, or an encoding expat cannot read: lxml's own parse (with the safe
            # parser, and its docinfo checked for a DOCTYPE) is authoritative and reports why.
            self.completed = False

    def _doctype(self, name: str, system_id: str | None, public_id: str | None, has_subset: int) -> None:
        self.doctype, self.doctype_system = name, system_id
        if name.lower() == "html":
            raise _StopScan

    def _stop(self) -> None:
        raise _StopScan

    def _entity(self, name: str, is_parameter: int, value: str | None, base: str | None,
                system_id: str | None, public_id: str | None, notation: str | None) -> None:
        self.entities.append((("%" if is_parameter else "") + name, system_id))

    def _element(self, name: str, attributes: object) -> None:
        self.root = name
        raise _StopScan

    @property
    def is_html(self) -> bool:
        names = [n for n in (self.doctype, self.root) if n]
        return bool(names) and names[0].rpartition(":")[2].lower() == "html"

    def refusal(self) -> tuple[str, str] | None:
        """(refused_construct, explanation) or None when the prolog is acceptable."""
        external = [f"{name} -> {system}" for name, system in self.entities if system]
        if self.doctype_system:
            external.insert(0, f"DOCTYPE -> {self.doctype_system}")
        if external:
            listed = ", ".join(external)
            return "external reference", f"the document refers to external resources (never fetched): {listed}"
        if self.entities:
            names = ", ".join(name for name, _ in self.entities)
            return "entity declaration", f"the document declares entities ({names}), which are never expanded"
        if self.doctype is not None:
            return "DTD", f"the document has a DOCTYPE ({self.doctype}); metadata never needs one"
        return None


_HTML_ERROR = "an HTML page was returned instead of metadata (typically a sign-in or error page)"


@dataclasses.dataclass(frozen=True)
class _Rejection:
    """Why bytes are not a usable EntityDescriptor (fields of FederationMetadata)."""

    parse_error: str
    refused: str | None = None
    html: bool = False


def _html_like_content_type(content_type: str | None) -> bool:
    return bool(content_type) and "html" in content_type.split(";")[0].lower()


def _read_root(data: bytes, content_type: str | None, limits: MetadataLimits) -> etree._Element | _Rejection:
    """The EntityDescriptor element of ``data``, or why there is none."""
    if not data.strip(b" \t\r\n" + _BOM):
        return _Rejection("the document is empty")
    # HTML first, so that a sign-in page's <!DOCTYPE html> is reported as HTML, not as a DTD.
    prolog = _Prolog(data)
    if prolog.is_html:
        return _Rejection(_HTML_ERROR, html=True)
    refusal = prolog.refusal()
    if refusal:
        return _Rejection(f"refused for safety: {refusal[1]}", refused=refusal[0])

    try:
        root = parse_xml(data)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        html = _html_like_content_type(content_type)
        prefix = "an HTML page was returned instead of metadata; " if html else ""
        message = _POSITION_SUFFIX.sub("", exc.msg)
        return _Rejection(f"{prefix}not well-formed XML at line {line}, column {column}: {message}", html=html)

    # Belt and braces for encodings expat cannot read: lxml's own view of the prolog.
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        return _Rejection(f"refused for safety: the document has a DOCTYPE ({docinfo.doctype})", refused="DTD")
    if any(True for ns in _XINCLUDE for _ in root.iter(f"{{{ns}}}*")):
        return _Rejection(
            "refused for safety: the document contains XInclude elements, which are never processed",
            refused="external reference",
        )
    # Before any signature check or judging: bound the work the document can cause.
    too_costly = exceeded_limit(root, len(data), limits)
    if too_costly:
        return _Rejection(f"refused as too costly to process: {too_costly}")

    if root.tag != f"{{{MD}}}EntityDescriptor":
        namespace, localname = tag_parts(root)
        if localname.lower() == "html":
            return _Rejection(_HTML_ERROR, html=True)
        name = f"{{{namespace}}}{localname}" if namespace else localname
        if localname == "EntitiesDescriptor":
            name += " (an aggregate of many entities, not one federation service's metadata)"
        return _Rejection(f"the root element is {name}, not a SAML 2.0 md:EntityDescriptor")
    return root


def parse_metadata(
    data: bytes,
    *,
    source: str,
    source_kind: str,
    fetch: HttpExchange | None = None,
    content_type: str | None = None,
    max_bytes: int | None = None,
) -> FederationMetadata:
    """Parse and verify federation metadata bytes. Never raises for bad input.

    Args:
        data: the document exactly as received (BOM and all); never decoded by guess.
        source: the URL fetched or the file path read; source_kind: "url" or "file".
        fetch: the HTTP exchange that produced ``data`` (None for a file). When it says the body
            was truncated at the download cap, the bytes are not parsed.
        content_type: the Content-Type header, recorded as is.
        max_bytes: the run's download cap (``config.network.max_download_bytes``; None: the default); the
            work limits of :class:`~adfs_readiness.probes.metadata_limits.MetadataLimits` scale with it.

    Returns:
        A FederationMetadata fact. ``document`` is None when ``parse_error`` says why the bytes are
        not a usable EntityDescriptor; ``refused_construct`` is "DTD", "entity declaration" or
        "external reference" when the document was refused for safety; ``looks_like_html`` when an
        HTML page (typically a sign-in page) came back instead of metadata. A document over a
        work limit (elements, role descriptors, certificates, namespace URI length, estimated
        canonical size) has ``parse_error`` "refused as too costly to process: ..." and is neither
        verified nor judged.
    """
    data = data or b""

    def fact(rejection: _Rejection | None = None, document: MetadataDocument | None = None) -> FederationMetadata:
        return FederationMetadata(
            source=source,
            source_kind=source_kind,
            fetch=fetch,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest().upper(),
            has_bom=data.startswith(_BOM),
            content_type=content_type,
            looks_like_html=rejection.html if rejection else False,
            refused_construct=rejection.refused if rejection else None,
            parse_error=rejection.parse_error if rejection else None,
            document=document,
        )

    if fetch is not None and fetch.truncated:
        return fact(
            _Rejection(
                f"the answer exceeded the download size cap; reading stopped after {fetch.body_bytes} bytes, "
                "so it was not parsed"
            )
        )
    root = _read_root(data, content_type, MetadataLimits.for_download_cap(max_bytes))
    if isinstance(root, _Rejection):
        return fact(root)

    roles = tuple(_role(child) for child in root if _is_role(child))
    valid_until_raw = root.get("validUntil")
    document = MetadataDocument(
        entity_id=root.get("entityID"),
        document_id=root.get("ID"),
        valid_until=_parse_datetime(valid_until_raw),
        valid_until_raw=valid_until_raw,
        cache_duration=root.get("cacheDuration"),
        roles=roles,
        signature=SignatureInfo(status=SignatureStatus.UNSIGNED, reason="not yet verified"),
    )
    signature = verify_metadata_signature(data, root, document)
    return fact(document=dataclasses.replace(document, signature=signature))


def read_metadata_file(path: Path, max_bytes: int) -> FederationMetadata:
    """Read a metadata file (at most ``max_bytes`` bytes) and :func:`parse_metadata` it.

    Never raises: an unreadable file gives ``parse_error`` with the OS reason, a file bigger than
    ``max_bytes`` gives ``parse_error`` naming the size cap (and nothing is parsed).
    """
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return FederationMetadata(
            source=source, source_kind="file", fetch=None, size_bytes=None, sha256=None, has_bom=False,
            content_type=None, looks_like_html=False, refused_construct=None,
            parse_error=f"the file could not be read: {reason}", document=None,
        )
    if len(data) > max_bytes:
        return FederationMetadata(
            source=source, source_kind="file", fetch=None, size_bytes=None, sha256=None,
            has_bom=data.startswith(_BOM), content_type=None, looks_like_html=False, refused_construct=None,
            parse_error=f"the file is larger than the size cap of {max_bytes} bytes; it was not parsed",
            document=None,
        )
    return parse_metadata(data, source=source, source_kind="file", max_bytes=max_bytes)


def _parse_datetime(raw: str | None) -> datetime | None:
    """xs:dateTime -> aware UTC. SAML times are UTC (saml-core-2.0-os 1.3.3), so a value
    without a zone is taken as UTC. None when absent or unparseable."""
    if not raw:
        return None
    text = _LONG_FRACTION.sub(r"\1", raw.strip())
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _is_role(element: etree._Element) -> bool:
    if not isinstance(element.tag, str):  # comments and processing instructions
        return False
    namespace, localname = tag_parts(element)
    return namespace == MD and localname in _ROLE_ELEMENTS


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return element_text(element).strip() or None


def _role_type(element: etree._Element) -> str:
    local = tag_parts(element)[1]
    xsi_type = element.get(f"{{{XSI}}}type")
    if local != "RoleDescriptor" or not xsi_type:
        return local
    prefix, _, type_local = xsi_type.strip().rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if type_local in _FED_TYPES and namespace not in (FED, None):
        # Same local name in a foreign namespace is not the WS-Fed type: keep it distinguishable.
        return f"{{{namespace}}}{type_local}"
    return type_local


def _role(element: etree._Element) -> RoleInfo:
    endpoints: list[MetadataEndpoint] = []
    for child in element:
        if not isinstance(child.tag, str):
            continue
        namespace, localname = tag_parts(child)
        if namespace == MD and localname in _SAML_ENDPOINTS:
            endpoints.append(MetadataEndpoint(localname, child.get("Binding"), child.get("Location")))
        elif namespace == FED and localname in _FED_ENDPOINTS:
            references = child.findall(f"{{{WSA}}}EndpointReference")
            for reference in references or [None]:
                address = _text(reference.find(f"{{{WSA}}}Address")) if reference is not None else None
                endpoints.append(MetadataEndpoint(localname, None, address))
    claims = [
        uri.strip()
        for claim in element.iterfind(f"{{{FED}}}ClaimTypesOffered/{{{AUTH}}}ClaimType")
        if (uri := claim.get("Uri"))
    ]
    claims += [
        name.strip() for attribute in element.iterfind(f"{{{SAML}}}Attribute") if (name := attribute.get("Name"))
    ]
    return RoleInfo(
        element=tag_parts(element)[1],
        role_type=_role_type(element),
        protocols=tuple((element.get("protocolSupportEnumeration") or "").split()),
        key_descriptors=tuple(_key_descriptor(kd) for kd in element.iterfind(f"{{{MD}}}KeyDescriptor")),
        endpoints=tuple(endpoints),
        claim_types_offered=tuple(claims),
        nameid_formats=tuple(t for f in element.iterfind(f"{{{MD}}}NameIDFormat") if (t := _text(f))),
    )


def _key_descriptor(element: etree._Element) -> KeyDescriptorInfo:
    problems: list[str] = []
    raw_use = element.get("use")
    try:
        use = KeyUse(raw_use) if raw_use is not None else KeyUse.UNSPECIFIED
    except ValueError:
        use = KeyUse.UNSPECIFIED
        problems.append(f"unknown use {raw_use!r} (SAML allows signing, encryption); treated as unspecified")
    found = element.iterfind(f"{{{DS}}}KeyInfo//{{{DS}}}X509Certificate")
    certificates = tuple(certificate_from_base64(element_text(e)) for e in found)
    if not certificates:
        problems.append("no ds:X509Certificate in its KeyInfo")
    for index, cert in enumerate(certificates, 1):
        if not cert.decodable:
            detail = "; ".join(cert.problems) or "unknown reason"
            problems.append(
                f"certificate {index} of {len(certificates)} (SHA-1 {cert.sha1}) could not be decoded: {detail}"
            )
    return KeyDescriptorInfo(use=use, certificates=certificates, problems=tuple(problems))
