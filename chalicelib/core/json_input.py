"""What a JSON request body may hold: the rule every route's body passes (``api.requests.parse_json_body``).

Whatever the API accepts must be storable exactly as sent, or it would fail later
as a 500 (a lone surrogate cannot be encoded as UTF-8, so DynamoDB, Secrets
Manager and every signature refuse it) or be changed silently (``1e-400`` parses
as ``0.0``, a 61-digit integer cannot be a DynamoDB number). So the body is
decoded once, here, by the guarded reader (``jsontext.read``: bounded size and
nesting), with the number literals kept as text, and then walked:

- every string, key or value, at any depth, must be valid Unicode;
- an integer has at most 38 digits (DynamoDB's precision);
- any other number is finite, zero or of magnitude 1e-130 to 9.99...e125
  (DynamoDB's range), and must come back exactly as written: it is carried as a
  64-bit float, so a literal with more precision than that is refused, not rounded;
- nesting is at most 32 levels (DynamoDB's limit for a document).

Problems are reported with the field path (``data.items[3].name``) and never the
value, because the value may be a secret.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.core import jsontext
from chalicelib.core.errors import FieldError, ValidationFailed

MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 38
SMALLEST = Decimal("1E-130")
LARGEST = Decimal("9.9999999999999999999999999999999999999E+125")
MAX_DETAILS = 20


class _IntLiteral(str):
    """An integer literal, as written; turned into ``int`` only once its length is known to be safe."""


class _FloatLiteral(str):
    """A number literal with a fraction or an exponent, as written."""


class _Constant(str):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json reads them, JSON does not have them."""


class _Walk:
    def __init__(self) -> None:
        self.problems: list[FieldError] = []

    def refuse(self, path: str, message: str) -> None:
        if len(self.problems) < MAX_DETAILS:
            self.problems.append(FieldError(path or "body", message))

    def value(self, value: Any, path: str, depth: int) -> Any:
        if isinstance(value, dict):
            return self.obj(value, path, depth + 1)
        if isinstance(value, list):
            return self.array(value, path, depth + 1)
        if isinstance(value, _IntLiteral):
            return self.integer(value, path)
        if isinstance(value, _FloatLiteral):
            return self.number(value, path)
        if isinstance(value, _Constant):
            self.refuse(path, f"{value} is not a JSON number")
            return None
        if isinstance(value, str) and not valid_unicode(value):
            self.refuse(path, "is not valid Unicode (it holds a lone surrogate, half of a UTF-16 pair)")
        return value

    def nested_too_deep(self, path: str, depth: int) -> bool:
        if depth > MAX_DEPTH:
            self.refuse(path, f"is nested deeper than {MAX_DEPTH} levels")
            return True
        return False

    def obj(self, value: dict[str, Any], path: str, depth: int) -> dict[str, Any] | None:
        if self.nested_too_deep(path, depth):
            return None
        checked: dict[str, Any] = {}
        for key, item in value.items():
            if not valid_unicode(key):
                self.refuse(path, "has a key that is not valid Unicode (it holds a lone surrogate)")
                continue
            checked[key] = self.value(item, f"{path}.{key}" if path else key, depth)
        return checked

    def array(self, value: list[Any], path: str, depth: int) -> list[Any] | None:
        if self.nested_too_deep(path, depth):
            return None
        return [self.value(item, f"{path}[{index}]", depth) for index, item in enumerate(value)]

    def integer(self, literal: str, path: str) -> int | None:
        if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
            self.refuse(path, f"has more than {MAX_INTEGER_DIGITS} digits")
            return None
        return int(literal)

    def number(self, literal: str, path: str) -> float | None:
        try:
            exact = Decimal(literal)
        except InvalidOperation:
            self.refuse(path, "is not a number")
            return None
        magnitude = abs(exact)
        if magnitude and magnitude < SMALLEST:
            self.refuse(path, f"is closer to zero than {SMALLEST:E} (it would be stored as 0)")
            return None
        if magnitude > LARGEST:
            self.refuse(path, "is larger than 9.99e125 in magnitude")
            return None
        carried = float(exact)
        if Decimal(repr(carried)) != exact:
            self.refuse(path, "has more precision than a 64-bit float keeps (it would be rounded)")
            return None
        return carried


def valid_unicode(text: str) -> bool:
    """``False`` for a string holding a lone surrogate, which no UTF-8 store or signature can take."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode(raw_body: bytes) -> Any:
    """The body as JSON values (``int``, ``float``, ``str``, ...), or ``ValidationFailed`` naming each bad field."""
    try:
        document: Any = jsontext.read(
            raw_body, parse_int=_IntLiteral, parse_float=_FloatLiteral, parse_constant=_Constant
        )
    except jsontext.JsonRejected as exc:
        if exc.reason == "depth":
            raise ValidationFailed("The request body is nested too deeply.", [FieldError("body", "too deep")]) from exc
        raise ValidationFailed("The request body is not valid JSON.", [FieldError("body", str(exc))]) from exc
    walk = _Walk()
    checked = walk.value(document, "", 0)
    if walk.problems:
        raise ValidationFailed("The request body holds values that cannot be stored as sent.", walk.problems)
    return checked
