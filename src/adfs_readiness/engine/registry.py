"""Check discovery through the ``adfs_readiness.checks`` entry-point group.

Built-in checks register through the same group as third-party packages (pyproject.toml), so the
plugin API is exercised by our own code. An entry point names a module (every :class:`Check`
defined in it is collected, in definition order) or a single Check, or a list of Checks.
"""

from __future__ import annotations

import logging
import types
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Iterable

from adfs_readiness.api import Check

__all__ = ["ENTRY_POINT_GROUP", "RegistryError", "CheckRegistry", "discover_checks", "checks_from_object"]

ENTRY_POINT_GROUP = "adfs_readiness.checks"

log = logging.getLogger(__name__)


class RegistryError(Exception):
    """A plugin could not be loaded, or two checks claim the same id (the message names both sources)."""


@dataclass(frozen=True)
class CheckRegistry:
    """The discovered checks, in a stable order (by entry-point name, then definition order).

    Attributes:
        checks: the checks.
        load_errors: entry points that failed to import, as (entry point, reason) pairs; the CLI
            reports them and the run continues with the rest.
    """

    checks: tuple[Check, ...]
    load_errors: tuple[tuple[str, str], ...] = ()

    def get(self, check_id: str) -> Check | None:
        """The check with this id, or None."""
        for c in self.checks:
            if c.id == check_id:
                return c
        return None

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.checks]


def checks_from_object(obj: object) -> list[Check]:
    """The checks an entry point's object provides: a module's Check attributes (definition
    order), a Check, or an iterable of Checks. Raises RegistryError for anything else."""
    if isinstance(obj, Check):
        return [obj]
    if isinstance(obj, types.ModuleType):
        # Module __dict__ keeps definition order; a check imported from elsewhere is skipped
        # so that re-exporting a check does not register it twice.
        return [v for v in vars(obj).values()
                if isinstance(v, Check) and v.function.__module__ == obj.__name__]
    if isinstance(obj, (list, tuple)) and all(isinstance(v, Check) for v in obj):
        return list(obj)
    raise RegistryError(f"{obj!r} is not a module of checks, a Check or a list of Checks")


def discover_checks(extra: Iterable[EntryPoint] | None = None, *, strict: bool = False) -> CheckRegistry:
    """Load every entry point of the group and collect the checks.

    ``extra`` adds entry points (tests); ``strict`` raises RegistryError when a plugin fails to
    import instead of recording it in ``load_errors``. An id defined twice always raises
    RegistryError naming both sources.
    """
    eps = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value))
    eps = list(eps) + list(extra or ())
    by_id: dict[str, tuple[Check, str]] = {}
    ordered: list[Check] = []
    errors: list[tuple[str, str]] = []
    for ep in eps:
        label = f"{ep.name} = {ep.value}"
        try:
            found = checks_from_object(ep.load())
        except RegistryError:
            raise
        except Exception as exc:  # a broken plugin must not take the built-in checks down
            if strict:
                raise RegistryError(f"entry point {label!r} failed to load: {exc}") from exc
            log.debug("entry point %s failed to load", label, exc_info=True)
            errors.append((label, f"{type(exc).__name__}: {exc}"))
            continue
        for c in found:
            if c.id in by_id:
                other, other_label = by_id[c.id]
                if other is c:
                    continue
                raise RegistryError(
                    f"check id {c.id!r} is defined twice: by {other.source} (entry point "
                    f"{other_label!r}) and by {c.source} (entry point {label!r})")
            by_id[c.id] = (c, label)
            ordered.append(c)
    return CheckRegistry(checks=tuple(ordered), load_errors=tuple(errors))
