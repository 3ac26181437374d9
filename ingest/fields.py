"""Read values out of parsed JSON leniently, naming the exact place when a value is wrong.

Real result files are messy: numbers arrive as strings and optional fields go
missing. These helpers accept what can be read without guessing and raise
`BadField` with a path like `simulations[3].trial` for anything else.
"""

from __future__ import annotations

import math
from typing import Any

from ingest.errors import BadField

MISSING = object()


def child(place: str, key: str | int) -> str:
    """The path of `key` inside `place`: `a.b` for names, `a[3]` for list positions."""
    if isinstance(key, int):
        return f"{place}[{key}]"
    return f"{place}.{key}" if place else key


def describe(value: Any) -> str:
    """A short rendering of a bad value for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value).lower()
    return text if len(text) <= 40 else text[:37] + "..."


def require(obj: dict[str, Any], key: str, place: str) -> Any:
    """`obj[key]`, or `BadField(...: missing)` when the key is absent."""
    if key not in obj:
        raise BadField(child(place, key), "missing")
    return obj[key]


def as_object(value: Any, place: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadField(place, f"expected an object, got {describe(value)}")
    return value


def as_list(value: Any, place: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadField(place, f"expected a list, got {describe(value)}")
    return value


def as_number(value: Any, place: str) -> float:
    """A finite float from a number or a numeric string ("0.5", " 1 ")."""
    if isinstance(value, bool):
        raise BadField(place, f"expected a number, got {describe(value)}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise BadField(place, f"expected a number, got {describe(value)}") from None
    else:
        raise BadField(place, f"expected a number, got {describe(value)}")

    if not math.isfinite(number):
        raise BadField(place, f"expected a finite number, got {describe(value)}")
    return number


def as_int(value: Any, place: str) -> int:
    """A whole number from an int, an integral float or a numeric string ("2", "2.0")."""
    number = as_number(value, place)
    if not number.is_integer():
        raise BadField(place, f"expected a whole number, got {describe(value)}")
    return int(number)


def as_id(value: Any, place: str) -> str:
    """A task or simulation id: tau-bench uses ints, tau2-bench strings; both become text."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadField(place, f"expected an id (text or number), got {describe(value)}")
    if isinstance(value, float):
        value = as_int(value, place)
    text = str(value).strip()
    if not text:
        raise BadField(place, "expected an id, got an empty string")
    return text


def optional_number(obj: dict[str, Any], key: str, place: str) -> float | None:
    """A number when present and not null, else None."""
    value = obj.get(key)
    return None if value is None else as_number(value, child(place, key))


def optional_text(obj: dict[str, Any], key: str, place: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadField(child(place, key), f"expected text, got {describe(value)}")
    return value
