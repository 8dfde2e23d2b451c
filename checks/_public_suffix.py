"""The public suffix list (https://publicsuffix.org/) as shipped with the ``publicsuffixlist``
package: the one reader every check uses (routable UPN suffixes, federation service names).

The list's ICANN section holds every top-level domain delegated in the root zone (its private
section only adds names below those: it names no top-level domain of its own), so a name whose
last label matches no rule is under a top-level domain the public DNS does not have. The data is
the package's snapshot: a top-level domain delegated after it was cut is unknown until the
package is updated (the evidence names the list's version).

Pure: rule data loaded once, no I/O beyond the package's own data file.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["public_suffix_list", "undelegated_tld", "list_version"]


@lru_cache(maxsize=1)
def public_suffix_list() -> Any:
    """The ``publicsuffixlist.PublicSuffixList`` (ICANN and private sections), loaded once."""
    from publicsuffixlist import PublicSuffixList  # noqa: PLC0415 - rule data, loaded on first use

    return PublicSuffixList()


def undelegated_tld(name: str) -> str | None:
    """The top-level label of ``name`` (lower case, no trailing dot) when no public suffix rule
    covers it — a top-level domain that does not exist in the public DNS (``lab``, ``zz``) — else
    None. A name with fewer than two labels gives None (single-label names are judged apart).
    Source: the public suffix list's ICANN section (every delegated TLD, wildcard-only ones such
    as ``*.ck`` included)."""
    host = name.strip().rstrip(".").lower()
    labels = host.split(".")
    if len(labels) < 2 or not all(labels):
        return None
    if public_suffix_list().publicsuffix(host, accept_unknown=False) is not None:
        return None
    return labels[-1]


@lru_cache(maxsize=1)
def list_version() -> str:
    """The ``publicsuffixlist`` package version ("1.1.2.20261023": its last part is the date the
    list was taken), or "unknown"."""
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("publicsuffixlist")
    except metadata.PackageNotFoundError:
        return "unknown"
