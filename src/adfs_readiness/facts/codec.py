"""Decode JSON back into fact dataclasses: the inverse of :func:`adfs_readiness.facts.to_jsonable`.

An evidence snapshot (``adfs-readiness collect``) stores every gathered fact as JSON; ``assess``
must hand the checks the same typed, frozen objects the probes made, so that the checks judge
exactly as in the live run. Rather than a hand-written loader per fact, :func:`decode` reads the
type hints of a dataclass (``typing.get_type_hints``) and rebuilds it field by field. It knows:

* ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes`` (base64, as ``to_jsonable`` writes);
* ``datetime`` (ISO 8601 with a time zone, returned in UTC; a naive one is an error) / ``date``
  (ISO 8601), ``pathlib.Path``, ``(str, Enum)`` and other enums (by value);
* ``X | None``, ``Optional[X]`` and other unions (the first member that decodes wins, ``None``
  first when the value is null), so ``HttpExchange.error: ProbeError | None`` and a top-level
  "fact or ProbeError" both work;
* ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``, ``frozenset[X]``, ``Mapping[K, V]`` /
  ``dict[K, V]`` (keys as JSON strings, decoded to K), ``Any`` (kept as is);
* nested dataclasses, with strict keys: an unknown key or a missing required field is an error,
  which is what lets a union pick the right member.

Fields with a default may be missing (a snapshot written before the field was added decodes).
``Mapping`` values decode to plain dicts, as the probes make them.

This module imports only :mod:`adfs_readiness.facts` (DESIGN.md, "Layers").
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import types
import typing
from collections.abc import Mapping as AbcMapping
from collections.abc import Sequence as AbcSequence
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Union

__all__ = ["FactDecodeError", "decode", "encode"]


class FactDecodeError(ValueError):
    """A JSON value does not fit the type it should decode to; ``path`` says where
    (e.g. ``metadata.document.roles[0].element``)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path or '(root)'}: {message}")


def encode(value: Any) -> Any:
    """JSON-ready form of a fact (or any dataclass tree): ``facts.to_jsonable`` plus ``Path``
    as its string. Raises TypeError for values neither knows."""
    from adfs_readiness.facts import to_jsonable

    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, AbcMapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    return to_jsonable(value)


def decode(tp: Any, value: Any, path: str = "") -> Any:
    """Rebuild a value of type ``tp`` (a class or a typing construct) from its JSON form.

    Raises:
        FactDecodeError: the value does not fit (wrong JSON type, unknown or missing dataclass
            key, no union member fits, bad date, unknown enum value).
    """
    if tp is Any or tp is object:
        return value
    if isinstance(tp, str):
        raise FactDecodeError(path, f"unresolved forward reference {tp!r}")
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return _decode_union(typing.get_args(tp), value, path)
    if origin is typing.Literal:
        if value in typing.get_args(tp):
            return value
        raise FactDecodeError(path, f"{_short(value)} is not one of {typing.get_args(tp)}")
    if origin is not None:
        return _decode_generic(origin, typing.get_args(tp), value, path)
    if tp is type(None):
        if value is None:
            return None
        raise FactDecodeError(path, f"expected null, got {type(value).__name__}")
    if isinstance(tp, type):
        return _decode_class(tp, value, path)
    raise FactDecodeError(path, f"cannot decode to {tp!r}")


def _decode_union(members: tuple[Any, ...], value: Any, path: str) -> Any:
    if value is None and type(None) in members:
        return None
    errors = []
    for member in members:
        if member is type(None):
            continue
        try:
            return decode(member, value, path)
        except FactDecodeError as exc:
            errors.append(str(exc))
    # Cut: nested unions would otherwise multiply their members' messages.
    message = "; ".join(errors)
    raise FactDecodeError(path, "no member of the union fits: " + (message if len(message) <= 600
                                                                   else message[:600] + "…"))


def _decode_generic(origin: Any, args: tuple[Any, ...], value: Any, path: str) -> Any:
    if origin in (tuple, list, set, frozenset, AbcSequence):
        if not isinstance(value, list):
            raise FactDecodeError(path, f"expected a list, got {type(value).__name__}")
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise FactDecodeError(path, f"expected {len(args)} items, got {len(value)}")
            return tuple(decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        items = [decode(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
        if origin is list:
            return items
        if origin in (set, frozenset):
            return frozenset(items)
        return tuple(items)
    if origin in (dict, AbcMapping, typing.Mapping) or (isinstance(origin, type) and issubclass(origin, AbcMapping)):
        if not isinstance(value, dict):
            raise FactDecodeError(path, f"expected an object, got {type(value).__name__}")
        key_type, value_type = (args + (Any, Any))[:2] if args else (Any, Any)
        return {decode(key_type, k, f"{path}.<key>"): decode(value_type, v, f"{path}.{k}")
                for k, v in value.items()}
    raise FactDecodeError(path, f"cannot decode to {origin!r}")


def _decode_class(tp: type, value: Any, path: str) -> Any:
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value, path)
    if issubclass(tp, Enum):
        try:
            return tp(value)
        except (ValueError, TypeError):
            raise FactDecodeError(path, f"{_short(value)} is not a {tp.__name__}") from None
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif tp is datetime:
        moment = _iso(datetime.fromisoformat, value, path)
        # Every datetime in a fact is aware UTC; a naive one would crash the first comparison with
        # the run's clock (a hostile or hand-edited snapshot).
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise FactDecodeError(path, f"{value!r} has no time zone (expected e.g. 2026-11-30T12:00:00+00:00)")
        return moment.astimezone(timezone.utc)
    elif tp is date:
        return _iso(date.fromisoformat, value, path)
    elif tp is bytes:
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except ValueError:
                raise FactDecodeError(path, "not base64") from None
    elif issubclass(tp, Path):
        if isinstance(value, str):
            return Path(value)
    elif issubclass(tp, (dict, AbcMapping)):
        return _decode_generic(dict, (), value, path)
    elif issubclass(tp, (tuple, list)):
        return _decode_generic(tp, (), value, path)
    else:
        raise FactDecodeError(path, f"cannot decode to {tp.__name__}")
    raise FactDecodeError(path, f"expected {tp.__name__}, got {type(value).__name__}")


def _iso(parse: Any, value: Any, path: str) -> Any:
    if not isinstance(value, str):
        raise FactDecodeError(path, f"expected an ISO 8601 string, got {type(value).__name__}")
    try:
        return parse(value)
    except ValueError:
        raise FactDecodeError(path, f"{_short(value)} is not an ISO 8601 date/time") from None


def _short(value: Any) -> str:
    """repr() of a value for an error message, cut (a hostile snapshot's value may be megabytes)."""
    text = repr(value)
    return text if len(text) <= 120 else text[:120] + "…"


@functools.cache
def _hints(tp: type) -> dict[str, Any]:
    # Cached per class: get_type_hints evaluates the string annotations of
    # ``from __future__ import annotations`` modules, which is slow to repeat per value.
    return typing.get_type_hints(tp)


def _decode_dataclass(tp: type, value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise FactDecodeError(path, f"expected an object for {tp.__name__}, got {type(value).__name__}")
    hints = _hints(tp)
    fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise FactDecodeError(path, f"unknown key(s) for {tp.__name__}: {', '.join(unknown)}")
    kwargs = {}
    for name, f in fields.items():
        if name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise FactDecodeError(path, f"{tp.__name__} needs {name!r}")
            continue
        kwargs[name] = decode(hints[name], value[name], f"{path}.{name}" if path else name)
    try:
        return tp(**kwargs)
    except (TypeError, ValueError) as exc:  # a dataclass's own validation (__post_init__)
        raise FactDecodeError(path, f"not a valid {tp.__name__}: {exc}") from None
