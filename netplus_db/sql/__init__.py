"""netplus-db's own SQL (ledger, catalog, seed, backup...), one `.sql` file per area in this folder.

`sql_files().<area>.<name>(conn, **params)` runs the query `<name>` of `<area>.sql` with
aiosql's result conventions (`$` a value, `^` a row tuple, no suffix a list of tuples, `!` a
row count, `#` nothing), through `netplus_db.querylayer`: a literal `%` works and arguments are
checked before anything is sent. Database errors are raised as psycopg raises them (callers
decide). `sql_folder(path)` does the same for another folder (the benchmarks keep their own).
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


class SqlArea:
    """The queries of one `.sql` file, by name."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._queries = {name: InternalQuery(q) for name, q in load_area(path).items()}

    def __getattr__(self, name: str) -> InternalQuery:
        try:
            return self._queries[name]
        except KeyError:
            raise AttributeError(f"no query named {name!r} in {self._path}") from None


class SqlFolder:
    """The `.sql` files of one folder, each an area named by its file stem."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._areas = {path.stem: SqlArea(path) for path in sorted(directory.glob("*.sql"))}

    def __getattr__(self, area: str) -> SqlArea:
        try:
            return self._areas[area]
        except KeyError:
            raise AttributeError(f"no file {area}.sql in {self._directory}") from None


@cache
def sql_folder(directory: Path) -> SqlFolder:
    """Every query of the `.sql` files in `directory`, as `folder.<area>.<name>`."""
    return SqlFolder(directory)


def sql_files() -> SqlFolder:
    """netplus-db's own queries (this folder): `sql_files().ledger.try_lock(conn, ...)`."""
    return sql_folder(SQL_DIR)
