"""netplus-db's own SQL (ledger, catalog look-ups), kept in .sql files and loaded by aiosql."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import aiosql

SQL_DIR = Path(__file__).parent


@cache
def internal() -> Any:
    """The internal queries, one function per `-- name:` in this folder's .sql files."""
    return aiosql.from_path(SQL_DIR, "psycopg")
