"""Type aliases the generated query modules use."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address
from typing import Any, TypeAlias

# A JSON value as psycopg loads jsonb: dict, list, str, int, float, bool or None.
Json: TypeAlias = Any
# What psycopg loads an inet column as.
IPAddress: TypeAlias = IPv4Address | IPv6Address
