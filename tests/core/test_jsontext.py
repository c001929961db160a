"""The one guarded JSON reader: size and nesting are bounded before anything is parsed."""

from __future__ import annotations

import json

import pytest

from chalicelib.core import jsontext

DEEP = "[" * 1000 + "]" * 1000  # Python's json raises RecursionError on this: a 500 wherever it was parsed


def test_a_text_nested_past_the_bound_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(RecursionError):
        json.loads(DEEP)
    for text in (DEEP, DEEP.encode(), '{"a":' * 5000):  # balanced, as bytes, and never closed
        with pytest.raises(jsontext.JsonRejected) as refused:
            jsontext.read(text)
        assert refused.value.reason == "depth" and isinstance(refused.value, ValueError)
    at_bound = "[" * jsontext.MAX_DEPTH + "]" * jsontext.MAX_DEPTH
    assert jsontext.depth(at_bound) == jsontext.MAX_DEPTH and jsontext.read(at_bound) is not None
    with pytest.raises(jsontext.JsonRejected):
        jsontext.read('{"a": [[[1]]]}', max_depth=3)


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = json.dumps({"a": "[" * 5000, "b": ['{"escaped \\" [[[[', "]]]]"]})
    assert jsontext.depth(text) == 2
    assert jsontext.read(text)["a"] == "[" * 5000


def test_size_and_syntax_are_refused_as_value_errors() -> None:
    with pytest.raises(jsontext.JsonRejected) as large:
        jsontext.read(b'"' + b"x" * 100 + b'"', max_bytes=50)
    assert large.value.reason == "size"
    for bad in (b"{", b"\xff\xfe\xfa", "not json", b""):
        with pytest.raises(jsontext.JsonRejected) as broken:
            jsontext.read(bad)
        assert broken.value.reason == "syntax"


def test_vendor_json_keeps_its_number_literals_through_the_reader() -> None:
    kept = jsontext.loads(b'{"tiny": 1e-400, "n": 7}')
    assert jsontext.dumps(kept) == '{"tiny":1e-400,"n":7}'
    with pytest.raises(jsontext.JsonRejected):
        jsontext.loads(DEEP)
