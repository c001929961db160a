"""The one decoder for request bodies: what it keeps exactly and what it refuses, by field path."""

from __future__ import annotations

import json

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.core.json_input import MAX_DEPTH, decode


def problems(raw: str) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        decode(raw.encode())
    return {detail.field: detail.message for detail in caught.value.details}


@pytest.mark.parametrize(
    "raw",
    [
        '{"a": 99999999999999999999999999999999999999, "b": -99999999999999999999999999999999999999}',
        '{"a": 0.1, "b": 19.99, "c": 1e-130, "d": 9.99e125, "e": -1.5e3, "f": 0, "g": 0e-400, "h": 1E+40}',
        '{"t": "\\ud83d\\ude80 \u63a5\u7d9a \\u0000 \\" \\\\ \\u2028", "\\u00e9": [true, false, null]}',
    ],
)
def test_storable_values_are_kept_exactly(raw: str) -> None:
    assert decode(raw.encode()) == json.loads(raw)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    raw = '{"d": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    assert decode(raw.encode()) == json.loads(raw)


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ('{"data": {"items": [{"name": "ok"}, {"name": "\\ud800"}]}}', "data.items[1].name", "Unicode"),
        ('{"data": {"\\udc00x": 1}}', "data", "key"),
        ('{"n": ' + "9" * 39 + "}", "n", "38 digits"),
        ('{"n": -' + "1" * 61 + "}", "n", "38 digits"),
        ('{"n": 1e-400}', "n", "closer to zero"),
        ('{"n": -1e-131}', "n", "closer to zero"),
        ('{"n": 1e400}', "n", "larger"),
        ('{"n": 1e126}', "n", "larger"),
        ('{"n": NaN}', "n", "NaN"),
        ('{"n": [Infinity]}', "n[0]", "Infinity"),
        ('{"n": 1.00000000000000000001}', "n", "precision"),
        ('{"d": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}", "d" + "[0]" * (MAX_DEPTH - 1), "deeper"),
    ],
)
def test_unstorable_values_are_refused_by_path(raw: str, field: str, reason: str) -> None:
    found = problems(raw)
    assert field in found and reason in found[field], found


def test_every_problem_is_named_and_no_value_is_echoed() -> None:
    found = problems('{"secret": "hunter2\\ud800", "n": 1e999, "ok": "fine"}')
    assert set(found) == {"secret", "n"}
    assert "hunter2" not in json.dumps(found)


def test_a_top_level_lone_surrogate_is_the_body() -> None:
    assert "body" in problems('"\\ud800"')
