"""DynamoDB attribute values: validation, number normalisation, ordering, equality and size.

Values keep boto3's low-level shape (``{"S": "x"}``, ``{"N": "1.5"}``, ``{"B": b"..."}``,
``{"L": [...]}``...). Numbers stay strings, normalised as DynamoDB stores them (no exponent,
no leading or trailing zeros) and compared as exact decimals: they are never floats.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from decimal import Context, Decimal
from typing import Any

from headwater.core.errors import AwsError

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

SCALAR_TYPES = frozenset({"S", "N", "B"})
SET_TYPES = frozenset({"SS", "NS", "BS"})
ALL_TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
#: Deepest nesting of lists and maps DynamoDB accepts.
MAX_DEPTH = 32
MAX_SIGNIFICANT_DIGITS = 38

#: Exact arithmetic for SET a = b + c and ADD: wide enough that nothing rounds before
#: the result is checked against the 38-digit limit.
ARITHMETIC = Context(prec=400, Emax=999_999, Emin=-999_999)

_NUMBER = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?", re.ASCII)
_PLAIN_INTEGER = re.compile(r"-?[1-9]\d{0,37}|0", re.ASCII)


def validation(message: str) -> AwsError:
    """DynamoDB's ValidationException with ``message``."""
    return AwsError("ValidationException", message)


def invalid(message: str) -> AwsError:
    return validation(f"One or more parameter values were invalid: {message}")


# ---- numbers ----


def integer_fits(text: str, bits: int) -> bool:
    """Whether the written integer ``text`` (sign and digits) fits a signed ``bits``-bit
    integer; text of any length is judged without converting it whole."""
    if len(text.lstrip("+-").lstrip("0")) > 19:  # past any 64-bit value
        return False
    value = int(text)
    return bool(-(2 ** (bits - 1)) <= value < 2 ** (bits - 1))


def number_parts(text: str) -> tuple[bool, str, int] | None:
    """``(negative, significant digits, exponent)`` of a number string, or ``None``.

    The value is ``-1**negative * int(digits) * 10**exponent``; ``digits`` has no leading or
    trailing zeros and is ``""`` for zero.
    """
    match = _NUMBER.fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction, exponent = match.groups()
    fraction = fraction or ""
    if not whole and not fraction:
        return None
    written = 0
    if exponent:
        # AWS reads the exponent as a 64-bit integer: past that the text is no number.
        if not integer_fits(exponent, 64):
            return None
        written = int(exponent)
    digits = (whole + fraction).lstrip("0")
    exp = written - len(fraction)
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    if not stripped:
        # Zero keeps the exponent it was written with (0e126 is out of range, as AWS's
        # BigDecimal-like reading finds); it is stored as "0" all the same.
        return False, "", exp
    return sign == "-", stripped, exp


def format_number(negative: bool, digits: str, exp: int) -> str:
    """The plain decimal text of a normalised number (as DynamoDB returns it)."""
    if not digits:
        return "0"
    if exp >= 0:
        text = digits + "0" * exp
    else:
        point = len(digits) + exp
        text = digits[:point] + "." + digits[point:] if point > 0 else "0." + "0" * -point + digits
    return "-" + text if negative else text


def normalize_number(text: Any) -> str:
    """``text`` as DynamoDB stores it; ValidationException when it is not a valid Number."""
    if type(text) is str and _PLAIN_INTEGER.fullmatch(text):
        return text
    if not isinstance(text, str) or not text:
        raise validation("The parameter cannot be converted to a numeric value")
    parts = number_parts(text)
    if parts is None:
        raise validation(f"The parameter cannot be converted to a numeric value: {text}")
    return checked_number(*parts)


def checked_number(negative: bool, digits: str, exp: int) -> str:
    """Format a number after checking DynamoDB's precision and range limits."""
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise validation("Attempting to store more than 38 significant digits in a Number")
    # The exponent of the leading digit; a zero's is the exponent it was written with.
    magnitude = len(digits) - 1 + exp if digits else exp
    if magnitude > 125:
        raise validation(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if magnitude < -130:
        raise validation(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return format_number(negative, digits, exp)


def decimal_of(text: str) -> Decimal:
    return Decimal(text)


def number_from_decimal(value: Decimal) -> str:
    """A computed Decimal as a stored number string (checked against the limits)."""
    sign, digit_tuple, exp = value.as_tuple()
    assert isinstance(exp, int)
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exp += len(digits) - len(stripped)
    if not stripped:
        return "0"
    return checked_number(bool(sign), stripped, exp)


def add_numbers(left: str, right: str, *, subtract: bool = False) -> str:
    """``left + right`` (``left - right``) of two stored numbers, exact, checked."""
    if _PLAIN_INTEGER.fullmatch(left) and _PLAIN_INTEGER.fullmatch(right):
        # Counters (SET n = n + :one, ADD n :one) are integers: Python's ints are exact too,
        # and several times cheaper than Decimal arithmetic and its digit tuple.
        total = int(left) - int(right) if subtract else int(left) + int(right)
        text = str(total)
        digits = text.lstrip("-")
        stripped = digits.rstrip("0")
        if not stripped:
            return "0"
        return checked_number(total < 0, stripped, len(digits) - len(stripped))
    a, b = Decimal(left), Decimal(right)
    return number_from_decimal(ARITHMETIC.subtract(a, b) if subtract else ARITHMETIC.add(a, b))


# ---- validation ----


def value_type(value: Any) -> str:
    """The one type key of an attribute value (assumes a validated value)."""
    for key in value:
        return str(key)
    raise validation(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


def _collection_text(values: list[Any]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def validate_value(value: Any, depth: int = 0) -> AttributeValue:
    """``value`` checked as DynamoDB checks an AttributeValue; numbers normalised.

    Returns ``value`` itself when nothing needed normalising (the common case), else a
    new dict: the caller's data is never modified.
    """
    return sized_value(value, depth)[0]


#: AWS's text for a value nested past MAX_DEPTH levels (PutItem, BatchWriteItem,
#: TransactWriteItems, expression values; eu-west-2 and us-east-1 captures).
NESTING_TOO_DEEP = (
    "Nesting Levels have exceeded supported limits: Attributes in the item have nested "
    "levels beyond supported limit"
)
_EMPTY = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"


def sized_value(value: Any, depth: int = 0) -> tuple[AttributeValue, int]:
    """``validate_value`` and ``value_size`` of the checked value, in one walk (a put
    checks and sizes every attribute of its item; two walks cost twice the calls)."""
    if type(value) is not dict or len(value) != 1:
        if isinstance(value, dict) and len(value) > 1:
            raise validation(
                "Supplied AttributeValue has more than one datatypes set, must contain "
                "exactly one of the supported datatypes"
            )
        raise validation(_EMPTY)
    ((kind, inner),) = value.items()
    if kind == "S":
        if type(inner) is not str:
            raise validation(_EMPTY)
        return value, len(inner) if inner.isascii() else _text_size(inner)
    if kind == "N":
        if (
            type(inner) is str
            and inner.isdigit()
            and inner.isascii()
            and inner[0] != "0"
            and len(inner) <= MAX_SIGNIFICANT_DIGITS
        ):
            # Most numbers are positive integers, stored as written: checked here
            # without normalize_number's regular expression.
            return value, _number_size(inner)
        normal = normalize_number(inner)
        return value if normal is inner else {"N": normal}, _number_size(normal)
    if kind == "B":
        if not isinstance(inner, bytes | bytearray):
            raise invalid("An AttributeValue may not contain a null or empty binary type.")
        return value, len(inner)
    if kind == "BOOL":
        if type(inner) is not bool:
            raise validation(_EMPTY)
        return value, 1
    if kind == "NULL":
        if inner is not True:
            raise invalid("Null attribute value types must have the value of true")
        return value, 1
    if kind in ("M", "L"):
        if depth >= MAX_DEPTH - 1 and inner:
            # The attribute is level 1, so members of a container at level 32 would be
            # at level 33: AWS accepts 31 single-key map wraps around a leaf, not 32.
            raise validation(NESTING_TOO_DEEP)
        size = 3
        if kind == "M":
            if not isinstance(inner, dict):
                raise validation(_EMPTY)
            changed: dict[str, Any] | None = None
            for name, member in inner.items():
                checked, member_size = sized_value(member, depth + 1)
                size += (len(name) if name.isascii() else _text_size(name)) + member_size + 1
                if checked is not member:
                    changed = changed if changed is not None else dict(inner)
                    changed[name] = checked
            return value if changed is None else {"M": changed}, size
        if not isinstance(inner, list):
            raise validation(_EMPTY)
        items = []
        for member in inner:
            checked, member_size = sized_value(member, depth + 1)
            items.append(checked)
            size += member_size + 1
        same = all(a is b for a, b in zip(items, inner, strict=True))
        return value if same else {"L": items}, size
    if kind in ("SS", "NS", "BS") and None in inner:  # a JSON null among the members
        if kind == "SS":
            raise invalid("An string set may not have a null string as a member")
        raise validation(_EMPTY)
    if kind == "SS":
        if not inner:
            raise invalid("An string set  may not be empty")
        if len(set(inner)) != len(inner):
            raise invalid(f"Input collection {_collection_text(inner)} contains duplicates.")
        size = 0
        for text in inner:
            size += len(text) if text.isascii() else _text_size(text)
        ordered = sorted(inner)
        return value if ordered == inner else {"SS": ordered}, size
    if kind == "NS":
        if not inner:
            raise invalid("An number set  may not be empty")
        numbers = [normalize_number(n) for n in inner]
        if len({Decimal(n) for n in numbers}) != len(numbers):
            raise validation("Input collection contains duplicates")
        numbers = ordered_members("NS", numbers)
        same = all(a is b for a, b in zip(numbers, inner, strict=True))
        return value if same else {"NS": numbers}, sum(_number_size(n) for n in numbers)
    if kind == "BS":
        if not inner:
            raise invalid("Binary sets should not be empty")
        if len({bytes(b) for b in inner}) != len(inner):
            # AWS shows the members as they came on the wire: base64.
            shown = [base64.b64encode(b).decode("ascii") for b in inner]
            raise invalid(
                f"Input collection {_collection_text(shown)}of type BS contains duplicates."
            )
        ordered = sorted(inner)
        return value if ordered == inner else {"BS": ordered}, sum(len(b) for b in inner)
    raise validation(_EMPTY)


def validate_item_values(item: Any) -> Item:
    """Every attribute of ``item`` validated (names non-empty); a copy only if needed."""
    return sized_item(item)[0]


def sized_item(item: Any) -> tuple[Item, int]:
    """``validate_item_values`` and ``item_size`` of the checked item, in one walk."""
    if not isinstance(item, dict):
        raise validation(_EMPTY)
    changed: Item | None = None
    size = 0
    for name, value in item.items():
        if not name:
            # AWS's text (captured for TransactWriteItems' Put; DynamoDB Local's too).
            raise validation("Empty attribute name")
        checked, value_bytes = sized_value(value)
        size += (len(name) if name.isascii() else _text_size(name)) + value_bytes
        if checked is not value:
            changed = changed if changed is not None else dict(item)
            changed[name] = checked
    return item if changed is None else changed, size


# ---- size ----


def _number_size(text: str) -> int:
    """Bytes of a stored number: one for the exponent, one per base-100 digit pair
    (pairs aligned on the decimal point, so ``1.5`` is ``01.50``, two pairs, where ``15``
    is one) from the first to the last non-zero pair, and one more if negative. Zero is
    one byte. Matches AWS's byte-exact sizes at the 400 KB gate (23 literals captured in
    eu-west-2 by a conformance suite: ``3.14159`` is 5, ``123456`` is 4, ``-42`` is 3)."""
    if text.isdigit() and text.isascii() and text[0] != "0":
        # A positive integer (most numbers), without the regular expression.
        negative, digits, leading = False, len(text.rstrip("0")), len(text) - 1
    elif _PLAIN_INTEGER.fullmatch(text):
        if text == "0":
            return 1
        negative = text[0] == "-"
        magnitude = text[1:] if negative else text
        digits = len(magnitude.rstrip("0"))
        leading = len(magnitude) - 1  # exponent of the leading digit
    else:
        parts = number_parts(text)
        if not parts or not parts[1]:
            return 1
        negative, significant, exp = parts
        digits = len(significant)
        leading = digits - 1 + exp
    # A leading digit at an even exponent is the low half of its pair ("01"), which
    # takes one more slot; pairs are the slots rounded up to whole pairs.
    return 1 + (digits + 2 - (leading & 1)) // 2 + negative


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def value_size(value: AttributeValue) -> int:
    """Bytes DynamoDB counts for one attribute value (without its name)."""
    # Text sizes are inlined and collections summed in loops rather than generators:
    # every put sizes its item, and the calls were most of the cost.
    for kind, inner in value.items():
        if kind == "S":
            return len(inner) if inner.isascii() else _text_size(inner)
        if kind == "N":
            return _number_size(inner)
        if kind == "B":
            return len(inner)
        if kind in ("BOOL", "NULL"):
            return 1
        total = 0
        if kind == "SS":
            for text in inner:
                total += len(text) if text.isascii() else _text_size(text)
        elif kind == "NS":
            for number in inner:
                total += _number_size(number)
        elif kind == "BS":
            for data in inner:
                total += len(data)
        elif kind == "L":
            total = 3
            for member in inner:
                total += value_size(member) + 1
        elif kind == "M":
            total = 3
            for name, member in inner.items():
                total += (len(name) if name.isascii() else _text_size(name)) + 1
                total += value_size(member)
        return total
    return 0


def item_size(item: Item) -> int:
    """Bytes DynamoDB counts for an item: attribute names plus values."""
    total = 0
    for name, value in item.items():
        total += (len(name) if name.isascii() else _text_size(name)) + value_size(value)
    return total


def resized(size: int, old: Item, new: Item, names: Iterable[str]) -> int:
    """``item_size(new)`` from ``size``, ``old``'s, where ``new`` differs from ``old`` only
    in the top-level attributes ``names`` (an update): only those are sized again."""
    for name in names:
        before, after = old.get(name), new.get(name)
        name_size = len(name) if name.isascii() else _text_size(name)
        if before is not None:
            size -= name_size + value_size(before)
        if after is not None:
            size += name_size + value_size(after)
    return size


# ---- comparison ----


def values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    """DynamoDB equality: same type and value; sets compare as sets, numbers as decimals."""
    ((kind, left),) = a.items()
    ((other_kind, right),) = b.items()
    if kind != other_kind:
        return False
    if kind == "N":
        return bool(left == right or Decimal(left) == Decimal(right))
    if kind == "B":
        return bytes(left) == bytes(right)
    if kind == "SS":
        return set(left) == set(right)
    if kind == "NS":
        return {Decimal(n) for n in left} == {Decimal(n) for n in right}
    if kind == "BS":
        return {bytes(x) for x in left} == {bytes(x) for x in right}
    if kind == "L":
        return len(left) == len(right) and all(
            values_equal(x, y) for x, y in zip(left, right, strict=True)
        )
    if kind == "M":
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    return bool(left == right)


def items_equal(a: Item | None, b: Item | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)


def ordering_key(value: AttributeValue) -> Any:
    """A Python value ordering S, N and B values as DynamoDB orders them, else ``None``.

    Strings order by UTF-8 bytes, which is code point order, so ``str`` comparison is exact.
    """
    ((kind, inner),) = value.items()
    if kind == "S":
        return inner
    if kind == "N":
        return Decimal(inner)
    if kind == "B":
        return bytes(inner)
    return None


def compare(a: AttributeValue, b: AttributeValue) -> int | None:
    """-1/0/1 for two scalars of the same type (S, N or B); ``None`` when not comparable."""
    if value_type(a) != value_type(b):
        return None
    left, right = ordering_key(a), ordering_key(b)
    if left is None:
        return None
    return int(left > right) - int(left < right)


def ordered_members(kind: str, members: list[Any]) -> list[Any]:
    """A set's members in the order DynamoDB keeps and returns them, whatever order they
    were written in: strings and binaries bytewise (a str's code point order is its UTF-8
    byte order), numbers by value."""
    if kind == "NS":
        return sorted(members, key=Decimal)
    return sorted(members)


def set_members(value: AttributeValue) -> list[Any]:
    """The members of a set value, in a form usable as dict keys (numbers as Decimal)."""
    ((kind, inner),) = value.items()
    if kind == "NS":
        return [Decimal(n) for n in inner]
    if kind == "BS":
        return [bytes(b) for b in inner]
    return list(inner)
