"""facts.to_jsonable: strict for facts (unknown types are a bug), total for reports."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from adfs_readiness.facts import to_jsonable
from adfs_readiness.model import Status
from adfs_readiness.report._common import jsonable


@dataclass(frozen=True)
class _Fact:
    when: datetime
    raw: bytes
    tags: frozenset[str]
    status: Status


def test_strict_and_total_agree_on_facts_and_differ_only_on_what_json_cannot_carry():
    fact = _Fact(datetime(2026, 11, 30, 12, tzinfo=timezone.utc), b"\x00\xff", frozenset({"b", "a", "c"}), Status.WARN)
    expected = {"when": "2026-11-30T12:00:00+00:00", "raw": "AP8=", "tags": ["a", "b", "c"], "status": "warn"}
    assert to_jsonable(fact) == jsonable(fact) == expected
    with pytest.raises(TypeError, match="cannot convert object"):
        to_jsonable({"x": object()})
    odd = jsonable({"nan": math.nan, "inf": -math.inf, "thing": object(), 1: (Status.PASS,)})
    assert odd["nan"] == "nan" and odd["inf"] == "-inf" and odd["thing"].startswith("<object object")
    assert odd["1"] == ["pass"]
    json.dumps(odd, allow_nan=False)  # valid JSON, no NaN tokens
