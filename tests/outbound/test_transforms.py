"""JMESPath transforms: checked with where they fail, applied with a result-size limit."""

from __future__ import annotations

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.core.jsontext import JsonNumber
from chalicelib.outbound import transforms

ENVELOPE = {"id": "evt-1", "type": "OrderPlaced", "data": {"amount": JsonNumber("1e-400"), "items": [1, 2, 3]}}


def test_the_projection_is_the_body_with_vendor_numbers_untouched() -> None:
    text = transforms.apply("{event: type, amount: data.amount, count: length(data.items)}", ENVELOPE)
    assert text == '{"event":"OrderPlaced","amount":1e-400,"count":3}'


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [("data.[", "column"), ("{a: }", "column"), ("", "empty"), ("a" * (transforms.MAX_EXPRESSION + 1), "longer")],
)
def test_a_bad_expression_is_a_400_naming_transform(expression: str, fragment: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        transforms.check(expression)
    assert caught.value.details[0].field == "transform"
    assert fragment in caught.value.details[0].message


def test_evaluation_errors_and_oversized_results_fail_the_body() -> None:
    with pytest.raises(transforms.TransformFailed, match="failed"):
        transforms.apply("length(data.amount.missing.x) > `1` && abs(type)", ENVELOPE)
    big = {"data": {"text": "x" * (transforms.MAX_RESULT_BYTES // 4)}}
    with pytest.raises(transforms.TransformFailed, match="larger"):
        transforms.apply("[data.text, data.text, data.text, data.text, data.text]", big)
