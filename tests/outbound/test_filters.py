"""The event-pattern matcher and its create-time checks (EventBridge's semantics, no AWS call)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.jsontext import JsonNumber
from chalicelib.outbound import filters

EVENT: dict[str, Any] = {
    "id": "evt-1",
    "type": "OrderPlaced",
    "source": "shop",
    "timestamp": "2026-01-01T00:00:00Z",
    "data": {
        "amount": 120,
        "ratio": JsonNumber("0.75"),
        "currency": "EUR",
        "tags": ["vip", "eu"],
        "customer": {"tier": "gold", "email": "a@example.com"},
        "note": None,
        "paid": True,
    },
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"type": ["OrderPlaced"]}, True),
        ({"type": ["OrderShipped", "OrderPlaced"]}, True),
        ({"type": ["OrderShipped"]}, False),
        ({"data": {"currency": [{"prefix": "EU"}]}}, True),
        ({"data": {"currency": [{"suffix": "UR"}]}}, True),
        ({"data": {"currency": [{"equals-ignore-case": "eur"}]}}, True),
        ({"data": {"currency": [{"anything-but": "EUR"}]}}, False),
        ({"data": {"currency": [{"anything-but": ["USD", "GBP"]}]}}, True),
        ({"data": {"currency": [{"anything-but": {"prefix": "E"}}]}}, False),
        ({"data": {"amount": [{"numeric": [">", 100, "<=", 120]}]}}, True),
        ({"data": {"amount": [{"numeric": [">", 120]}]}}, False),
        ({"data": {"amount": [120.0]}}, True),
        ({"data": {"amount": ["120"]}}, False),
        ({"data": {"ratio": [{"numeric": ["<", 1]}]}}, True),
        ({"data": {"ratio": [0.75]}}, True),
        ({"data": {"tags": ["eu"]}}, True),
        ({"data": {"tags": ["us"]}}, False),
        ({"data": {"customer": {"tier": ["gold"]}}}, True),
        ({"data": {"customer": {"tier": ["gold"], "email": [{"suffix": ".org"}]}}}, False),
        ({"data": {"coupon": [{"exists": False}]}}, True),
        ({"data": {"coupon": [{"exists": True}]}}, False),
        ({"data": {"currency": [{"exists": True}]}}, True),
        ({"data": {"customer": [{"exists": True}]}}, False),
        ({"data": {"note": [None]}}, True),
        ({"data": {"paid": [True]}}, True),
        ({"data": {"paid": [1]}}, False),
        ({"data": {"amount": [{"anything-but": 5}]}}, True),
        ({"data": {"missing": {"deeper": [{"exists": False}]}}}, True),
        ({"source": [{"prefix": "sh"}], "type": ["OrderPlaced"]}, True),
    ],
)
def test_patterns_match_as_eventbridge_does(pattern: dict[str, Any], expected: bool) -> None:
    assert filters.matches(filters.check(pattern), EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ({"data": {"amount": [{"between": [1, 2]}]}}, "filter.data.amount[0].between"),
        ({"data": {"amount": [{"numeric": [">", "1"]}]}}, "filter.data.amount[0].numeric[1]"),
        ({"data": {"amount": [{"numeric": ["~", 1]}]}}, "filter.data.amount[0].numeric[0]"),
        ({"data": {"amount": [{"numeric": ["<", 1, ">", 0]}]}}, "filter.data.amount[0].numeric"),
        ({"data": {"amount": [{"prefix": 1}]}}, "filter.data.amount[0].prefix"),
        ({"data": {"amount": [{"exists": "yes"}]}}, "filter.data.amount[0].exists"),
        ({"data": {"amount": [{"prefix": "a", "suffix": "b"}]}}, "filter.data.amount[0]"),
        ({"data": {"amount": [{"anything-but": {"suffix": "x"}}]}}, "filter.data.amount[0].anything-but"),
        ({"data": {"amount": 5}}, "filter.data.amount"),
        ({"data": {"amount": []}}, "filter.data.amount"),
        ({"data": {}}, "filter.data"),
        ({}, "filter"),
    ],
)
def test_invalid_patterns_are_a_400_naming_the_path(pattern: dict[str, Any], path: str) -> None:
    with pytest.raises(filters.InvalidPattern) as caught:
        filters.check(pattern)
    assert caught.value.status == 400
    assert [d.field for d in caught.value.details] == [path]


def test_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {"leaf": ["x"]}
    for level in range(filters.MAX_DEPTH):
        deep = {f"k{level}": deep}
    with pytest.raises(filters.InvalidPattern, match="deeper"):
        filters.check(deep)
    with pytest.raises(filters.InvalidPattern, match="values"):
        filters.check({"data": {"id": list(range(filters.MAX_VALUES + 1))}})
    with pytest.raises(filters.InvalidPattern, match="bytes"):
        filters.check({"data": {"id": ["x" * filters.MAX_BYTES]}})
