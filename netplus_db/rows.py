"""One kind of result object: every typed row and every flow result is a `Row`.

A `Row` subclass is a slots dataclass (`@dataclass(slots=True)`): fields by name, `row._asdict()`
for a dict of its fields, equality by value, and no tuple behaviour, so that every JSON layer
writes it as an object with field names:

- the standard library: `json.dumps(result, default=netplus_db.json_default)`;
- FastAPI / pydantic and msgspec: dataclasses are theirs to serialise, with no custom code.

Treat rows as values: the library never changes one after giving it out (they are not frozen,
because a frozen dataclass costs several times more to build and rows are built per fetched
row).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from decimal import Decimal
from ipaddress import IPv4Address, IPv6Address
from typing import Any, ClassVar, Self


class Row:
    """Base of the typed rows (netplus_db.generated) and the flows' results."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of the fields, in order."""
        return tuple(cls.__dataclass_fields__)

    @property
    def _fields(self) -> tuple[str, ...]:
        """The names of the fields, in order (as a named tuple has them)."""
        return tuple(self.__dataclass_fields__)

    def _asdict(self) -> dict[str, Any]:
        """The fields as a dict, in order (nested rows stay rows: `json_default` converts
        them when encoding)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def _make(cls, values: Any) -> Self:
        """A row from its values in field order."""
        return cls(*values)


def json_default(value: object) -> Any:
    """`default=` for `json.dumps`: rows (and any dataclass) as objects with their field names,
    UUID, IP addresses and Decimal... as JSON can hold them.

        json.dumps(db.login(login=..., password=...), default=netplus_db.json_default)

    - `Row` / dataclass -> object of its fields (nested rows, lists of rows: the same)
    - `uuid.UUID`, IP address -> string
    - `Decimal` -> int when whole, else float (as FastAPI's encoder does)
    - `datetime`, `date`, `time` -> ISO 8601 string; `timedelta` -> seconds (float)
    - an enumeration -> its value; `set` / `frozenset` -> list
    Anything else raises TypeError, as json.dumps expects of a `default`.
    """
    if isinstance(value, Row):
        return value._asdict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, uuid.UUID | IPv4Address | IPv6Address):
        return str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
