"""Work limits for a parsed metadata document, checked before signature verification and judging.

Why: the bytes are capped (``max_download_bytes``), but the work they cause is not. Exclusive XML
canonicalisation (https://www.w3.org/TR/xml-exc-c14n/, section 3) repeats a namespace declaration
on every element that uses it, so 600 KB with a 30 KB namespace URI on the root and 100 000
elements using it canonicalises to gigabytes inside signxml before any digest is compared; and
tens of thousands of role descriptors or certificates turn judging and one-verification-per-
certificate into minutes. Real AD FS metadata is small and regular (the corpus in
tests/corpus/metadata: at most 570 elements, 4 role descriptors, 7 certificates, namespace URIs
of at most 53 characters), so the limits below leave one to two orders of magnitude of headroom.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from adfs_readiness.probes._xml import DS, MD

__all__ = ["MetadataLimits", "exceeded_limit"]

_ROLE_LOCAL_NAMES = frozenset(
    {"RoleDescriptor", "IDPSSODescriptor", "SPSSODescriptor", "AuthnAuthorityDescriptor",
     "AttributeAuthorityDescriptor", "PDPDescriptor"}
)
# Bytes a canonical namespace declaration adds besides prefix and URI: ` xmlns:` + `="` + `"`.
_DECLARATION_OVERHEAD = 10
_DEFAULT_MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class MetadataLimits:
    """Upper bounds on one metadata document (counts; characters; bytes).

    Attributes:
        max_elements: elements in the whole document (corpus maximum: 570).
        max_roles: role descriptors under the root (corpus maximum: 4).
        max_certificates: ds:X509Certificate elements anywhere (corpus maximum: 7).
        max_namespace_uri_chars: length of one namespace URI (corpus maximum: 53).
        max_canonical_bytes: estimated size of the canonical form (see :func:`exceeded_limit`).
    """

    max_elements: int = 20_000
    max_roles: int = 100
    max_certificates: int = 100
    max_namespace_uri_chars: int = 2048
    max_canonical_bytes: int = 4 * _DEFAULT_MAX_DOWNLOAD_BYTES

    @classmethod
    def for_download_cap(cls, max_download_bytes: int | None) -> MetadataLimits:
        """The limits for a run whose download cap is ``max_download_bytes`` (None: the default
        10 MiB): the canonical form may be four times the largest document the run accepts."""
        return cls(max_canonical_bytes=4 * (max_download_bytes or _DEFAULT_MAX_DOWNLOAD_BYTES))


def exceeded_limit(root: etree._Element, size_bytes: int, limits: MetadataLimits) -> str | None:
    """Why ``root`` (parsed from ``size_bytes`` bytes) is too costly to verify and judge, or None.

    The canonical size estimate is ``size_bytes`` plus, for every element, the prefix and URI of
    every namespace in scope there: an upper bound of what inclusive and exclusive c14n emit as
    namespace declarations (the rest of c14n changes sizes by a small constant factor at most).
    One walk over the tree (O(elements + declarations)), stopped as soon as a limit is passed.
    """
    elements = roles = certificates = 0
    in_scope: list[int] = []  # per open declaration, the bytes it adds to each element in its scope
    in_scope_bytes = 0
    estimate = size_bytes
    certificate_tag = f"{{{DS}}}X509Certificate"
    for event, item in etree.iterwalk(root, events=("start", "start-ns", "end-ns")):
        if event == "start-ns":
            prefix, uri = item
            if len(uri) > limits.max_namespace_uri_chars:
                return (f"a namespace URI is {len(uri)} characters long, more than the limit of "
                        f"{limits.max_namespace_uri_chars} (real metadata uses URIs of a few dozen characters)")
            in_scope.append(len(prefix) + len(uri) + _DECLARATION_OVERHEAD)
            in_scope_bytes += in_scope[-1]
        elif event == "end-ns":
            in_scope_bytes -= in_scope.pop()
        else:
            elements += 1
            estimate += in_scope_bytes
            if elements > limits.max_elements:
                return (f"it has more than {limits.max_elements} elements (real AD FS metadata has a few "
                        "hundred)")
            if estimate > limits.max_canonical_bytes:
                return (f"its canonical form (what the signature check must compute) would exceed "
                        f"{limits.max_canonical_bytes} bytes: namespace declarations repeated on "
                        f"{elements}+ elements")
            tag = item.tag
            if tag == certificate_tag:
                certificates += 1
                if certificates > limits.max_certificates:
                    return (f"it has more than {limits.max_certificates} X509Certificate elements (real AD FS "
                            "metadata lists a handful)")
            elif item.getparent() is root and tag.startswith(f"{{{MD}}}") and \
                    tag[len(MD) + 2:] in _ROLE_LOCAL_NAMES:
                roles += 1
                if roles > limits.max_roles:
                    return (f"it has more than {limits.max_roles} role descriptors (real AD FS metadata has "
                            "four)")
    return None
