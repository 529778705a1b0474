"""Type aliases shared across the package (the generated query modules use the first two)."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address
from typing import Any, TypeAlias

# A JSON value as psycopg loads jsonb: dict, list, str, int, float, bool or None.
Json: TypeAlias = Any
# What psycopg loads an inet column as.
IPAddress: TypeAlias = IPv4Address | IPv6Address

# A callback that reports progress, one line at a time (click.echo to stderr, a list's append...).
Progress: TypeAlias = Callable[[str], None]
