"""The library's edge: every flow argument checked before anything reaches the server.

Each check raises `ValidationError` naming the field (a dotted path into JSON where it
applies), so a backend maps bad input to a 4xx without parsing database errors. Nothing is
coerced: `True` is not an integer, `1.5` is not a number of seconds, `"yes"` is not a
boolean, `"50"` is not a percentage, and an id is a `uuid.UUID`.

Documented limits (what the server would otherwise reject with a raw error, or store
however large):

- text: no NUL character (PostgreSQL text cannot hold one); each field its column's length
  (email 255, username 3-50, names 100, a login 255).
- JSON values (an answer, `last_position`): dicts with string keys, lists, strings, finite
  numbers, booleans and None; no NUL in any key or string; at most `MAX_JSON_DEPTH` levels
  of nesting and `MAX_JSON_CHARS` characters of JSON text. Checked without recursion, so a
  deeply nested value is an error, not a RecursionError.
- numbers: integers only where the column is one (bool refused), within the column's range.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from enum import StrEnum

from psycopg.types.json import Jsonb

from netplus_db.errors import ValidationError

MAX_JSON_DEPTH = 32
MAX_JSON_CHARS = 64 * 1024  # an answer or a position is small; 64 KiB of JSON text at most
MAX_LOGIN = 255
INT4_MAX = 2**31 - 1


def uuid_(field: str, value: object) -> uuid.UUID:
    """An id: a `uuid.UUID` (a string or number is refused, not parsed)."""
    if not isinstance(value, uuid.UUID):
        raise ValidationError(field, f"must be a uuid.UUID, not {_kind(value)}")
    return value


def optional_uuid(field: str, value: object) -> uuid.UUID | None:
    """An id or None."""
    return None if value is None else uuid_(field, value)


def text(
    field: str, value: object, *, max_length: int, min_length: int = 0, strip: bool = False
) -> str:
    """A string without NUL, of at most `max_length` characters (after stripping if asked)."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {_kind(value)}")
    if "\x00" in value:
        raise ValidationError(field, "must not contain a NUL character")
    length = len(value.strip() if strip else value)
    if length > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters (got {length})")
    if length < min_length:
        raise ValidationError(field, f"must be at least {min_length} characters")
    return value


def optional_text(field: str, value: object, *, max_length: int) -> str | None:
    """A string as `text` checks it, or None."""
    return None if value is None else text(field, value, max_length=max_length)


def integer(field: str, value: object, *, minimum: int, maximum: int) -> int:
    """An int (not a bool, not a float, not a string) within [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be an integer, not {_kind(value)}")
    if not minimum <= value <= maximum:
        raise ValidationError(field, f"must be between {minimum} and {maximum} (got {value})")
    return value


def optional_integer(field: str, value: object, *, minimum: int, maximum: int) -> int | None:
    """An integer as `integer` checks it, or None."""
    return None if value is None else integer(field, value, minimum=minimum, maximum=maximum)


def boolean(field: str, value: object) -> bool:
    """True or False (no truthy strings or numbers)."""
    if not isinstance(value, bool):
        raise ValidationError(field, f"must be True or False, not {_kind(value)}")
    return value


def choice(field: str, value: object, allowed: type[StrEnum] | Iterable[str]) -> str:
    """One of a closed list of strings (a generated enumeration or a tuple)."""
    values = [str(v) for v in allowed]
    if not isinstance(value, str) or value not in values:
        shown = repr(value) if isinstance(value, str) else _kind(value)
        raise ValidationError(field, f"must be one of {', '.join(values)} (got {shown[:60]})")
    return value


def optional_choice(
    field: str, value: object, allowed: type[StrEnum] | Iterable[str]
) -> str | None:
    """One of a closed list, or None."""
    return None if value is None else choice(field, value, allowed)


def json_value(field: str, value: object, *, max_chars: int = MAX_JSON_CHARS) -> object:
    """A JSON value jsonb accepts, within the documented depth and size (no recursion)."""
    budget = max_chars
    stack: list[tuple[str, object, int]] = [(field, value, 1)]
    while stack:
        path, item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(path, f"is nested more than {MAX_JSON_DEPTH} levels deep")
        if item is None or isinstance(item, bool):
            budget -= 5
        elif isinstance(item, str):
            if "\x00" in item:
                raise ValidationError(path, "must not contain a NUL character")
            budget -= len(item) + 2
        elif isinstance(item, int):
            budget -= item.bit_length() // 3 + 1  # about its decimal digits
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValidationError(path, "must be a finite number (JSON has no NaN/Infinity)")
            budget -= 24
        elif isinstance(item, dict):
            budget -= 2
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise ValidationError(path, f"keys must be strings, not {_kind(key)}")
                if "\x00" in key:
                    raise ValidationError(path, "a key must not contain a NUL character")
                budget -= len(key) + 4
                if budget < 0:
                    break
                stack.append((f"{path}.{key}", inner, depth + 1))
        elif isinstance(item, list | tuple):
            budget -= 2
            for index, inner in enumerate(item):
                budget -= 1
                if budget < 0:
                    break
                stack.append((f"{path}[{index}]", inner, depth + 1))
        else:
            raise ValidationError(path, f"is not a JSON value ({_kind(item)})")
        if budget < 0:
            raise ValidationError(field, f"must be at most {max_chars} characters of JSON")
    return value


def parameter(field: str, value: object) -> None:
    """The query layer's check of any parameter: no NUL in text, and JSON or arrays within
    the documented depth and size, so that the server never answers with a raw encoding
    error and the client never recurses out of stack."""
    kind = type(value)
    if kind is str:
        if "\x00" in value:  # type: ignore[operator]
            raise ValidationError(field, "must not contain a NUL character")
    elif kind is list or kind is dict or kind is tuple:
        _structure(field, value)
    elif kind is Jsonb:
        json_value(field, value.obj, max_chars=INT4_MAX)  # type: ignore[attr-defined]


def _structure(field: str, value: object) -> None:
    """NUL and depth of a list/array parameter (its size is the caller's: lists of ids may be
    long); a dict goes through `json_value`."""
    if isinstance(value, dict):
        json_value(field, value, max_chars=INT4_MAX)
        return
    stack: list[tuple[str, object, int]] = [(field, value, 1)]
    while stack:
        path, item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(path, f"is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, str):
            if "\x00" in item:
                raise ValidationError(path, "must not contain a NUL character")
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}[{i}]", inner, depth + 1) for i, inner in enumerate(item))
        elif isinstance(item, dict):
            json_value(path, item, max_chars=INT4_MAX)


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__
