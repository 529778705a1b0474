"""A thin layer over aiosql: named SQL from `queries/*.sql`, run the same way sync and async.

aiosql parses the files (names, operations, `:name` parameters); this module fixes what it
leaves to the caller under psycopg 3 (see shared notes): every call returns the same shape
sync and async, many-row results are lists (not lazy generators), keyword arguments are
checked against the query's parameters before anything is sent, a literal `%` works, and rows
are typed rows (`netplus_db.rows`). Database errors become domain errors
(`netplus_db.errors`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import aiosql
import psycopg
from psycopg.rows import BaseRowFactory, scalar_row, tuple_row
from psycopg.types.json import Jsonb

from netplus_db.data_files import data_dir
from netplus_db.errors import (
    Conflict,
    Forbidden,
    NotFound,
    NotReadOnly,
    QueryArgumentError,
    ValidationError,
)
from netplus_db.validation import parameter

_REPLICA = re.compile(r"^\s*replica:\s*yes\s*$", re.MULTILINE)


def default_queries_dir() -> Path:
    """`queries/` of a checkout, else the copy shipped inside the installed wheel."""
    return data_dir("queries")


class Shape(StrEnum):
    """What a query returns, from its aiosql suffix."""

    ROWS = "rows"  # no suffix: list of rows
    ROW = "row"  # ^ : one row or None
    VALUE = "value"  # $ : first column of the first row, or None
    EXEC = "exec"  # ! : number of rows affected
    RETURNING = "returning"  # <! : the one row RETURNING gives (None when it gives none)
    SCRIPT = "script"  # # : nothing


_SHAPES = {
    "SELECT": Shape.ROWS,
    "SELECT_ONE": Shape.ROW,
    "SELECT_VALUE": Shape.VALUE,
    "INSERT_UPDATE_DELETE": Shape.EXEC,
    "INSERT_UPDATE_DELETE_MANY": Shape.EXEC,
    "INSERT_RETURNING": Shape.RETURNING,
    "SCRIPT": Shape.SCRIPT,
}


@dataclass(frozen=True)
class SqlQuery:
    """One named query as written in a .sql file."""

    area: str
    name: str
    sql: str  # psycopg placeholders: %(name)s, literal % doubled
    raw_sql: str  # as written, for a parameterless script sent without parameters
    parameters: tuple[str, ...]
    parameter_set: frozenset[str]
    shape: Shape
    doc: str
    path: Path
    line: int
    # `-- replica: yes` in its comment: a pure read, allowed in read-only sessions (which may
    # run on a replica); any other query raises NotReadOnly there.
    replica: bool = False

    @property
    def where(self) -> str:
        """`queries/users.sql:12`: where the query is written."""
        return f"{self.path}:{self.line}"


@cache
def load_area(path: Path) -> dict[str, SqlQuery]:
    """Every query of one .sql file, by name, in file order."""
    text = path.read_text("utf-8")
    queries = aiosql.from_str(text, "psycopg")
    found: dict[str, SqlQuery] = {}
    for name in queries.available_queries:
        if name.endswith("_cursor"):
            continue
        fn = getattr(queries, name)
        found[name] = SqlQuery(
            area=path.stem,
            name=name,
            sql=_escape_percent(fn.sql),
            raw_sql=fn.sql,
            parameters=tuple(fn.parameters or ()),
            parameter_set=frozenset(fn.parameters or ()),
            shape=_SHAPES[fn.operation.name],
            doc=(fn.__doc__ or "").strip(),
            path=path,
            line=_line_of(text, name),
            replica=bool(_REPLICA.search(fn.__doc__ or "")),
        )
    return dict(sorted(found.items(), key=lambda item: item[1].line))


def load_all(directory: Path | None = None) -> dict[str, dict[str, SqlQuery]]:
    """Every area (file stem) of the queries directory and its queries."""
    directory = directory or default_queries_dir()
    return {p.stem: load_area(p) for p in sorted(directory.glob("*.sql"))}


def query(area: str, name: str) -> SqlQuery:
    """One query by area and name (raises KeyError naming the file when it is missing)."""
    path = default_queries_dir() / f"{area}.sql"
    queries = load_area(path)
    if name not in queries:
        raise KeyError(f"{path}: no query named {name!r}")
    return queries[name]


def jsonb(value: Any) -> Any:
    """Wrap a value for a json/jsonb parameter (None stays NULL)."""
    return None if value is None else Jsonb(value)


# The parameter types that `validation.parameter` looks into (others pass untouched).
_SCANNED = frozenset({str, list, tuple, dict, Jsonb})


def bind(q: SqlQuery, args: Mapping[str, Any]) -> Mapping[str, Any]:
    """Check keyword arguments against the query's parameters, and their values as the
    library's edge does for every parameter (validation.parameter: no NUL in text, JSON and
    arrays within depth), before anything is sent."""
    if args.keys() == q.parameter_set:
        for name, value in args.items():
            if type(value) in _SCANNED:
                parameter(name, value)
        return args
    given = set(args)
    expected = q.parameter_set
    if given != expected:
        missing = ", ".join(sorted(expected - given)) or "none"
        extra = ", ".join(sorted(given - expected)) or "none"
        raise QueryArgumentError(
            f"{q.area}.{q.name} ({q.where}) takes {', '.join(q.parameters) or 'no arguments'}; "
            f"missing: {missing}; unexpected: {extra}"
        )
    return args


def statement(q: SqlQuery, params: Mapping[str, Any]) -> tuple[str, Mapping[str, Any] | None]:
    """What to send: a parameterless script goes as written, with no parameters, so that
    its several statements run (PostgreSQL refuses several in one parameterised command)."""
    if q.shape is Shape.SCRIPT and not q.parameters:
        return q.raw_sql, None
    return q.sql, params


def row_factory(q: SqlQuery, row: type | None) -> BaseRowFactory[Any]:
    """The psycopg row factory for a query's shape and result class."""
    if q.shape is Shape.VALUE:
        return scalar_row
    if row is None:
        return tuple_row
    return _positional(row)


@cache
def _positional(cls: type) -> BaseRowFactory[Any]:
    """Rows built from values by position: the generated rows (slots dataclasses,
    `netplus_db.rows`) list their fields in the statement's column order (checked by `queries
    check`), so a row is `cls(*values)` (a frozen dataclass cost several times more)."""

    def make(values: Sequence[Any]) -> Any:
        return cls(*values)

    def factory(cursor: Any) -> Any:
        return make

    return factory


# A pooled connection (`session.GuardedConnection`) keeps the cursors its statements used, in
# this attribute, for the next statement: a new cursor costs more per statement than a used
# one (its adapters map and the loaders it looked up per column type). Other
# connections get a new cursor per statement.
SPARE_CURSORS = "_netplus_cursors"
# A cursor whose last result had more rows is closed rather than kept, so that an idle pooled
# connection does not hold a large result in memory.
KEEP_CURSOR_ROWS = 1000


def run(
    conn: psycopg.Connection[Any], q: SqlQuery, args: Mapping[str, Any], row: type | None = None
) -> Any:
    """Execute a query on a sync connection and return its shape's result."""
    params = bind(q, args)
    if not q.replica and getattr(conn, "_netplus_read_only", False):
        raise not_read_only(q)
    spare: list[psycopg.Cursor[Any]] | None = getattr(conn, SPARE_CURSORS, None)
    cur = spare.pop() if spare else conn.cursor()
    try:
        cur.row_factory = row_factory(q, row)
        cur.execute(*statement(q, params))
        return result_of(q, cur.rowcount, cur.fetchall() if has_rows(cur) else [])
    except psycopg.Error as exc:
        raise translate(exc, q) from exc
    finally:
        if spare is not None and cur.rowcount <= KEEP_CURSOR_ROWS:
            spare.append(cur)
        else:
            cur.close()


async def arun(
    conn: psycopg.AsyncConnection[Any],
    q: SqlQuery,
    args: Mapping[str, Any],
    row: type | None = None,
) -> Any:
    """Execute a query on an async connection; the result has the same shape as `run`'s."""
    params = bind(q, args)
    if not q.replica and getattr(conn, "_netplus_read_only", False):
        raise not_read_only(q)
    spare: list[psycopg.AsyncCursor[Any]] | None = getattr(conn, SPARE_CURSORS, None)
    cur = spare.pop() if spare else conn.cursor()
    try:
        cur.row_factory = row_factory(q, row)
        await cur.execute(*statement(q, params))
        return result_of(q, cur.rowcount, await cur.fetchall() if has_rows(cur) else [])
    except psycopg.Error as exc:
        raise translate(exc, q) from exc
    finally:
        if spare is not None and cur.rowcount <= KEEP_CURSOR_ROWS:
            spare.append(cur)
        else:
            await cur.close()


def not_read_only(q: SqlQuery) -> NotReadOnly:
    """The error for a query not marked `-- replica: yes` in a read-only session."""
    return NotReadOnly(
        f"{q.area}.{q.name} ({q.where}) is not marked `-- replica: yes`: a read-only session "
        "(as_user(..., read_only=True)), which may run on a replica, runs only those; use "
        "as_user(user_id) for it"
    )


def has_rows(cur: psycopg.Cursor[Any] | psycopg.AsyncCursor[Any]) -> bool:
    """Whether the statement returned columns (cheaper than building `cur.description`)."""
    result = cur.pgresult
    return result is not None and result.nfields > 0


def result_of(q: SqlQuery, rowcount: int, rows: list[Any]) -> Any:
    """What a query of this shape returns, given its row count and fetched rows."""
    if q.shape is Shape.ROWS:
        return rows
    if q.shape in (Shape.ROW, Shape.VALUE, Shape.RETURNING):
        return rows[0] if rows else None
    if q.shape is Shape.EXEC:
        return rowcount
    return None


# Constraint names say which field a violation is about: users_email_check -> email.
_FIELD = re.compile(
    r"^(?:idx_)?(?P<table>[a-z_]+?)_(?:lower_)?(?P<field>[a-z_]+?)(?:_check|_key|_fkey)?$"
)


def translate(exc: psycopg.Error, q: SqlQuery) -> Exception:
    """Map a database error to a domain error a backend can turn into an HTTP status."""
    diag = exc.diag
    constraint = diag.constraint_name or ""
    message = (diag.message_primary or str(exc)).strip()
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return Conflict(_field(constraint, diag.table_name), f"already exists ({constraint})")
    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        return NotFound(f"{_field(constraint, diag.table_name)}: {message}")
    if isinstance(exc, psycopg.errors.CheckViolation | psycopg.errors.NotNullViolation):
        field = diag.column_name or _field(constraint, diag.table_name)
        return ValidationError(field, f"rejected by {constraint or 'NOT NULL'}: {message}")
    if isinstance(
        exc,
        psycopg.errors.InvalidTextRepresentation
        | psycopg.errors.InvalidParameterValue
        | psycopg.errors.NumericValueOutOfRange
        | psycopg.errors.StringDataRightTruncation
        | psycopg.errors.InvalidDatetimeFormat,
    ):
        # "<field>: <message>" from the database's own checks (grade_answer also names the
        # field in the error's COLUMN, diag.column_name).
        named = _NAMED.match(message)
        if named and diag.column_name in (None, named.group(1)):
            return ValidationError(named.group(1), named.group(2))
        return ValidationError(diag.column_name or q.name, message)
    if isinstance(exc, psycopg.errors.NoDataFound):
        return NotFound(message)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return Forbidden(message)
    return exc


# A message naming its field first, as the SECURITY DEFINER functions and grade_answer raise
# them: `user_answer.options[2]: not an option`.
_NAMED = re.compile(r"^([a-z_]\w*(?:[.\[][^\s:]*)?): (.+)$", re.DOTALL)


# The partitions of a partitioned table (migration 0017) report their own name in an error:
# learning_sessions_p2026_12, learning_sessions_before, learning_sessions_default.
_PARTITION = re.compile(r"_(?:p\d{4}_\d{2}|before|default)$")


def _field(constraint: str, table: str | None) -> str:
    if table and not constraint.startswith(f"{table}_"):
        table = _PARTITION.sub("", table)
    if table and constraint.startswith(f"{table}_"):
        rest = constraint[len(table) + 1 :]
        return re.sub(r"_(check|key|fkey|pkey)$", "", rest)
    found = _FIELD.match(constraint)
    if found:
        field = found["field"]
        if table and constraint.startswith(f"idx_{table}_"):
            field = re.sub(r"^lower_", "", constraint[len(f"idx_{table}_") :])
        return field
    return constraint or "value"


def _escape_percent(sql: str) -> str:
    """Double every % that is not one of aiosql's %(name)s placeholders."""
    return re.sub(r"%(?!\(\w+\)s)", "%%", sql)


def _line_of(text: str, name: str) -> int:
    found = re.search(rf"^--\s*name:\s*{re.escape(name)}\b", text, flags=re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else 1
