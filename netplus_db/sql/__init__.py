"""netplus-db's own SQL (ledger, catalog, seed, backup...), kept in .sql files in this folder.

`internal().name(conn, **params)` runs the query `name` with aiosql's result conventions
(`$` a value, `^` a row tuple, no suffix a list of tuples, `!` a row count, `#` nothing), but
through `netplus_db.querylayer`, so a literal `%` works and arguments are checked before
anything is sent. Database errors are raised as psycopg raises them (callers decide).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psycopg

from netplus_db.querylayer import (
    SqlQuery,
    bind,
    has_rows,
    load_area,
    result_of,
    row_factory,
    statement,
)

SQL_DIR = Path(__file__).parent


@dataclass(frozen=True)
class InternalQuery:
    """One internal query, callable on a sync connection."""

    query: SqlQuery

    @property
    def sql(self) -> str:
        """The statement with psycopg placeholders (%(name)s) and literal % doubled."""
        return self.query.sql

    def __call__(self, conn: psycopg.Connection[Any], **params: Any) -> Any:
        """Run on a sync connection; the result has aiosql's shape for the query's suffix."""
        bound: Mapping[str, Any] = bind(self.query, params)
        with conn.cursor(row_factory=row_factory(self.query, None)) as cur:
            cur.execute(*statement(self.query, bound))
            return result_of(self.query, cur.rowcount, cur.fetchall() if has_rows(cur) else [])


class Internal:
    """Every query of this folder's .sql files, by name."""

    def __init__(self, queries: dict[str, InternalQuery]) -> None:
        self._queries = queries

    def __getattr__(self, name: str) -> InternalQuery:
        try:
            return self._queries[name]
        except KeyError:
            raise AttributeError(f"no query named {name!r} in {SQL_DIR}/*.sql") from None


@cache
def internal() -> Internal:
    """The internal queries, one callable per `-- name:` in this folder's .sql files."""
    queries: dict[str, InternalQuery] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        for name, query in load_area(path).items():
            if name in queries:
                raise ValueError(f"{path}: query name {name!r} is also used in another file")
            queries[name] = InternalQuery(query)
    return Internal(queries)
