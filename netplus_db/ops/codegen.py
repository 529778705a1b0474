"""Typed Python generated from `queries/*.sql`, as sqlc does for Go: SQL first, code from it.

Each named query is prepared against a freshly migrated database; PostgreSQL describes its
parameter types and result columns, `pg_attribute` and a generic plan tell which columns can
be NULL (outer joins included), and one module per area is written under
`netplus_db/generated/`: a row class (a slots dataclass, `netplus_db.rows.Row`) per result
shape and keyword-only typed methods, sync and async. The same database's CHECK value lists
become `generated/enums.py` (see `netplus_db.ops.check_enums`). `check()` fails, naming file
and line, on a query that does not prepare, a result marker that does not fit its statement,
or generated code that is stale.

Hints a query's comment may carry (one per line, after the description):
  -- row: Name             the result class's name (queries sharing it share the shape)
  -- optional: a, b        parameters that accept None (the rest are required)
  -- not-null: x, y        computed result columns that are never NULL
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import connect, ensure_server_started, scratch_database
from netplus_db.errors import NetplusError
from netplus_db.migrate.migrator import Migrator
from netplus_db.ops.check_enums import ENUMS_MODULE, ValueList, read_value_lists, render_enums
from netplus_db.querylayer import Shape, SqlQuery, default_queries_dir, load_all
from netplus_db.sql import sql_files

GENERATED_DIR = Path(__file__).resolve().parent.parent / "generated"

# PostgreSQL type name -> Python annotation. Arrays are list[...] of the element type.
PY_TYPES = {
    "uuid": "uuid.UUID",
    "text": "str",
    "varchar": "str",
    "bpchar": "str",
    "name": "str",
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "oid": "int",
    "numeric": "Decimal",
    "float4": "float",
    "float8": "float",
    "bool": "bool",
    "timestamptz": "datetime.datetime",
    "timestamp": "datetime.datetime",
    "date": "datetime.date",
    "time": "datetime.time",
    "interval": "datetime.timedelta",
    "jsonb": "Json",
    "json": "Json",
    "inet": "IPAddress",
    "void": "None",
}
JSON_TYPES = {"json", "jsonb"}
HINT = re.compile(r"^(?P<key>row|optional|not-null|replica):\s*(?P<value>.*)$")


class CodegenError(NetplusError):
    """One or more queries do not prepare, do not fit their marker, or generated code is stale."""


@dataclass(frozen=True)
class Param:
    """A query parameter: its name, PostgreSQL type and whether None is accepted."""

    name: str
    pg_type: str
    optional: bool

    @property
    def annotation(self) -> str:
        """The Python annotation of the keyword argument (arrays accept any sequence)."""
        base = py_type(self.pg_type).replace("list[", "Sequence[", 1)
        return f"{base} | None" if self.optional else base


@dataclass(frozen=True)
class Column:
    """A result column: name, PostgreSQL type, nullability."""

    name: str
    pg_type: str
    nullable: bool

    @property
    def annotation(self) -> str:
        """The Python annotation of the result field."""
        base = py_type(self.pg_type)
        return f"{base} | None" if self.nullable and base != "None" else base


@dataclass(frozen=True)
class Described:
    """What PostgreSQL says about one query."""

    query: SqlQuery
    params: list[Param]
    columns: list[Column]
    row_name: str | None
    summary: str


@dataclass
class CodegenReport:
    """Problems found while describing the queries, each naming file and line."""

    problems: list[str] = field(default_factory=list)

    def add(self, q: SqlQuery, message: str) -> None:
        """Record one problem of one query."""
        self.problems.append(f"{q.where}: {q.area}.{q.name}: {message}")


def py_type(pg_type: str) -> str:
    """The Python annotation for a PostgreSQL type name (arrays as list[...])."""
    if pg_type.startswith("_"):
        return f"list[{PY_TYPES.get(pg_type[1:], 'Any')} | None]"
    return PY_TYPES.get(pg_type, "Any")


# --- describing -------------------------------------------------------------------------------


@contextmanager
def migrated_scratch_database(
    target: Target, migrations_dir: Path | None = None
) -> Iterator[Target]:
    """A freshly migrated scratch database on the target's server, dropped afterwards."""
    target = ensure_server_started(target)
    with scratch_database(target, f"{target.dbname}__querygen") as scratch:
        Migrator(scratch, migrations_dir).up()
        yield scratch


def describe_all(
    target: Target, queries_dir: Path | None = None
) -> tuple[list[Described], CodegenReport]:
    """Prepare and describe every query of every area on a migrated database."""
    report = CodegenReport()
    described: list[Described] = []
    # Statements are prepared with libpq directly; psycopg's own statement cache is off so
    # that it never deallocates them behind our back.
    with connect(target, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        types = _type_names(conn)
        for area in load_all(queries_dir).values():
            for q in area.values():
                result = _describe(conn, q, types, report)
                if result is not None:
                    described.append(result)
    _check_row_names(described, report)
    return described, report


def _describe(
    conn: psycopg.Connection[Any], q: SqlQuery, types: dict[int, str], report: CodegenReport
) -> Described | None:
    summary, hints = _split_doc(q.doc)
    if not summary:
        report.add(q, "has no comment saying what it is for")
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    text = re.sub(r"%\((\w+)\)s", number, q.sql).replace("%%", "%")
    statement = f"netplus_gen_{q.area}_{q.name}".encode()
    pg = conn.pgconn
    prepared = pg.prepare(statement, text.encode())
    if prepared.error_message:
        report.add(q, f"does not prepare: {_first_line(prepared.error_message.decode())}")
        return None
    try:
        desc = pg.describe_prepared(statement)
        params_by_name = {
            name: types.get(desc.param_type(i), "unknown") for i, name in enumerate(order)
        }
        nullable_tables = _nullable_relations(conn, statement, len(order))
        not_null_hint = _names(hints.get("not-null", ""))
        columns: list[Column] = []
        for i in range(desc.nfields):
            name = (desc.fname(i) or b"").decode()
            table, attnum = desc.ftable(i), desc.ftablecol(i)
            nullable = True
            if name in not_null_hint:
                nullable = False
            elif table and attnum > 0:
                nullable = not _attnotnull(conn, table, attnum) or table in nullable_tables
            columns.append(Column(name, types.get(desc.ftype(i), "unknown"), nullable))
    finally:
        conn.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(statement.decode())))
    optional = _names(hints.get("optional", ""))
    for name in sorted((optional | not_null_hint) - set(order) - {c.name for c in columns}):
        report.add(q, f"hint names {name!r}, which is neither a parameter nor a column")
    _check_marker(q, columns, report)
    if "replica" in hints:
        if hints["replica"] != "yes":
            report.add(q, f"`replica:` takes `yes`, not {hints['replica']!r}")
        elif q.shape not in (Shape.ROWS, Shape.ROW, Shape.VALUE):
            report.add(q, f"`replica: yes` marks a read, but its marker says {q.shape}")
        summary += " Read-only: may run on a replica (as_user(..., read_only=True))."
    params = [Param(p, params_by_name[p], p in optional) for p in q.parameters]
    return Described(q, params, columns, hints.get("row"), summary)


def _check_marker(q: SqlQuery, columns: list[Column], report: CodegenReport) -> None:
    returns = bool(columns) and not (len(columns) == 1 and columns[0].pg_type == "void")
    if q.shape in (Shape.ROWS, Shape.ROW, Shape.RETURNING, Shape.VALUE) and not columns:
        report.add(q, f"its marker says it returns rows ({q.shape}) but the statement returns none")
    if q.shape is Shape.VALUE and len(columns) != 1:
        report.add(q, f"`$` returns one value but the statement returns {len(columns)} columns")
    if q.shape is Shape.EXEC and returns and not q.sql.lstrip().upper().startswith("SELECT"):
        report.add(q, "`!` discards the rows this statement returns; use `<!`, `^` or no suffix")


def _nullable_relations(conn: psycopg.Connection[Any], statement: bytes, nparams: int) -> set[int]:
    """OIDs of tables scanned on the nullable side of an outer join in the generic plan."""
    explain = sql.SQL("EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {}").format(
        sql.Identifier(statement.decode())
    )
    if nparams:  # every parameter NULL: the generic plan does not depend on values
        explain = sql.SQL("{}({})").format(explain, sql.SQL(", ").join([sql.NULL] * nparams))
    try:
        with conn.transaction(force_rollback=True):  # EXPLAIN of a write plans, never runs it
            row = conn.execute(explain).fetchone()
    except psycopg.Error:
        return set()  # not explainable (e.g. a utility statement): keep catalog nullability
    plan = row[0] if row else []
    names: set[str] = set()
    for top in plan:
        _walk(top["Plan"], False, names)
    if not names:
        return set()
    return {int(r[0]) for r in sql_files().codegen.relation_oids(conn, names=sorted(names))}


def _walk(node: dict[str, Any], nullable: bool, found: set[str]) -> None:
    if nullable and "Relation Name" in node:
        found.add(node["Relation Name"])
    join = node.get("Join Type")
    for child in node.get("Plans", []):
        side = child.get("Parent Relationship")
        child_nullable = nullable or (
            (join in ("Left", "Anti") and side == "Inner")
            or (join == "Right" and side == "Outer")
            or join == "Full"
        )
        _walk(child, child_nullable, found)


def _attnotnull(conn: psycopg.Connection[Any], table: int, attnum: int) -> bool:
    return bool(sql_files().codegen.column_not_null(conn, table=table, attnum=attnum))


def _type_names(conn: psycopg.Connection[Any]) -> dict[int, str]:
    return {int(oid): str(name) for oid, name in sql_files().codegen.type_names(conn)}


def _split_doc(doc: str) -> tuple[str, dict[str, str]]:
    summary: list[str] = []
    hints: dict[str, str] = {}
    for line in doc.splitlines():
        found = HINT.match(line.strip())
        if found:
            hints[found["key"]] = found["value"].strip()
        elif line.strip():
            summary.append(line.strip())
    return " ".join(summary), hints


def _names(value: str) -> set[str]:
    return {n.strip() for n in value.split(",") if n.strip()}


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0].removeprefix("ERROR:").strip()


def _check_row_names(described: list[Described], report: CodegenReport) -> None:
    shapes: dict[tuple[str, str], tuple[list[Column], SqlQuery]] = {}
    for d in described:
        if d.row_name:
            key = (d.query.area, d.row_name)
            if key in shapes and shapes[key][0] != d.columns:
                other = shapes[key][1]
                report.add(d.query, f"row {d.row_name} differs from the one of {other.name}")
            shapes.setdefault(key, (d.columns, d.query))


# --- writing ----------------------------------------------------------------------------------


def render(described: list[Described], value_lists: list[ValueList]) -> dict[Path, str]:
    """The generated modules: one per area, the package's __init__ with the facades, and the
    enumerations of the CHECK value lists."""
    areas: dict[str, list[Described]] = {}
    for d in described:
        areas.setdefault(d.query.area, []).append(d)
    if "enums" in areas:
        raise CodegenError("queries/enums.sql: the area name `enums` is taken by the enumerations")
    files = {
        GENERATED_DIR / f"{area}.py": _render_area(area, items) for area, items in areas.items()
    }
    files[GENERATED_DIR / "__init__.py"] = _render_init(sorted(areas))
    files[GENERATED_DIR / ENUMS_MODULE] = render_enums(value_lists)
    return files


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _row_class(d: Described) -> str | None:
    if d.query.shape in (Shape.EXEC, Shape.SCRIPT, Shape.VALUE):
        return None
    return d.row_name or f"{_camel(d.query.name)}Row"


def _returns(d: Described) -> str:
    row = _row_class(d)
    if d.query.shape is Shape.ROWS:
        return f"list[{row}]"
    if d.query.shape in (Shape.ROW, Shape.RETURNING):
        return f"{row} | None"
    if d.query.shape is Shape.VALUE:
        column = d.columns[0]
        base = py_type(column.pg_type)
        return "None" if base == "None" else f"{base} | None"
    if d.query.shape is Shape.EXEC:
        return "int"
    return "None"


def _render_area(area: str, items: list[Described]) -> str:
    used = " ".join(
        [c.annotation for d in items for c in d.columns]
        + [p.annotation for d in items for p in d.params]
        + [_returns(d) for d in items]
    )
    stdlib = [
        line
        for line, needed in (
            ("import datetime", "datetime." in used),
            ("import uuid", "uuid." in used),
            ("from collections.abc import Sequence", "Sequence[" in used),
            ("from dataclasses import dataclass", any(_row_class(d) for d in items)),
            ("from decimal import Decimal", "Decimal" in used),
            ("from typing import Any, cast", True),
        )
        if needed
    ]
    ours = ["arun"]
    if any(p.pg_type in JSON_TYPES for d in items for p in d.params):
        ours.append("jsonb")
    ours += ["query", "run"]
    aliases = [name for name in ("IPAddress", "Json") if re.search(rf"\b{name}\b", used)]
    out = [
        f'"""Typed queries of queries/{area}.sql.',
        "",
        "Generated by `netplus-db queries gen` from the SQL and a migrated database: do not edit.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *stdlib,
        "",
        "from psycopg import AsyncConnection, Connection",
        "",
        f"from netplus_db.querylayer import {', '.join(ours)}",
    ]
    if any(_row_class(d) for d in items):
        out.append("from netplus_db.rows import Row")
    if aliases:
        out.append(f"from netplus_db.types import {', '.join(aliases)}")
    out.append("")
    seen: set[str] = set()
    for d in items:
        row = _row_class(d)
        if row is None or row in seen:
            continue
        seen.add(row)
        out += ["", "@dataclass(slots=True)", f"class {row}(Row):"]
        out.append(f'    """A row of {area}.{d.query.name}."""')
        out.append("")
        out += [f"    {c.name}: {c.annotation}" for c in d.columns]
        out.append("")
    out.append("")
    for d in items:
        out.append(f'_{d.query.name.upper()} = query("{area}", "{d.query.name}")')
    for asynchronous in (False, True):
        cls = ("Async" if asynchronous else "") + f"{_camel(area)}Queries"
        conn_type = "AsyncConnection[Any]" if asynchronous else "Connection[Any]"
        kind = "async " if asynchronous else ""
        out += [
            "",
            "",
            f"class {cls}:",
            f'    """The queries of queries/{area}.sql on one {kind}connection."""',
            "",
            '    __slots__ = ("conn",)',
            "",
            f"    def __init__(self, conn: {conn_type}) -> None:",
            "        self.conn = conn",
        ]
        for d in items:
            out += _render_method(d, asynchronous)
    return "\n".join(out).rstrip() + "\n"


def _render_method(d: Described, asynchronous: bool) -> list[str]:
    q = d.query
    prefix = "async " if asynchronous else ""
    returns = _returns(d)
    lines = [""]
    if d.params:
        one_line = (
            f"    {prefix}def {q.name}(self, *, "
            + ", ".join(f"{p.name}: {p.annotation}" for p in d.params)
            + f") -> {returns}:"
        )
        if len(one_line) <= 100:
            lines.append(one_line)
        else:
            lines.append(f"    {prefix}def {q.name}(")
            lines.append("        self,")
            lines.append("        *,")
            lines += [f"        {p.name}: {p.annotation}," for p in d.params]
            lines.append(f"    ) -> {returns}:")
    else:
        lines.append(f"    {prefix}def {q.name}(self) -> {returns}:")
    lines += _docstring(d.summary)
    runner = "await arun" if asynchronous else "run"
    lines += [
        "        return cast(",
        f'            "{returns}",',
        f"            {runner}(",
        "                self.conn,",
        f"                _{q.name.upper()},",
    ]
    if d.params:
        lines.append("                {")
        for p in d.params:
            value = f"jsonb({p.name})" if p.pg_type in JSON_TYPES else p.name
            lines.append(f'                    "{p.name}": {value},')
        lines.append("                },")
    else:
        lines.append("                {},")
    lines += [f"                {_row_class(d) or 'None'},", "            ),", "        )"]
    return lines


def _docstring(summary: str) -> list[str]:
    text = summary.replace('"""', "'''").replace("\\", "\\\\")
    lines: list[str] = []
    line = ""
    for word in text.split():
        if len(line) + len(word) + 1 > 88:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    if len(lines) == 1:
        return [f'        """{lines[0]}"""']
    return [f'        """{lines[0]}', *(f"        {x}" for x in lines[1:]), '        """']


def _render_init(areas: list[str]) -> str:
    out = [
        '"""All typed queries, by area. Generated by `netplus-db queries gen`: do not edit."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "from psycopg import AsyncConnection, Connection",
        "",
    ]
    for area in areas:
        out.append(
            f"from netplus_db.generated.{area} import "
            + ", ".join(sorted([f"{_camel(area)}Queries", f"Async{_camel(area)}Queries"]))
        )
    for asynchronous in (False, True):
        prefix = "Async" if asynchronous else ""
        conn_type = "AsyncConnection[Any]" if asynchronous else "Connection[Any]"
        out += [
            "",
            "",
            f"class {prefix}Queries:",
            f'    """Every query area on one {"async " if asynchronous else ""}connection.',
            "",
            "    An area is made when asked for: a call of one query builds one small object, not",
            "    one per area.",
            '    """',
            "",
            '    __slots__ = ("conn",)',
            "",
            f"    def __init__(self, conn: {conn_type}) -> None:",
            "        self.conn = conn",
        ]
        for a in areas:
            cls = f"{prefix}{_camel(a)}Queries"
            out += [
                "",
                "    @property",
                f"    def {a}(self) -> {cls}:",
                f'        """The {a} queries."""',
                f"        return {cls}(self.conn)",
            ]
    out += ["", "", '__all__ = ["AsyncQueries", "Queries"]']
    return "\n".join(out) + "\n"


# --- entry points -----------------------------------------------------------------------------


def generate(
    target: Target, queries_dir: Path | None = None, migrations_dir: Path | None = None
) -> dict[Path, str]:
    """Describe every query and read the CHECK value lists on a scratch database migrated on
    the target's server; render."""
    with migrated_scratch_database(target, migrations_dir) as scratch:
        described, report = describe_all(scratch, queries_dir or default_queries_dir())
        with connect(scratch) as conn:
            value_lists = read_value_lists(conn)
    if report.problems:
        raise CodegenError("\n".join(report.problems))
    return render(described, value_lists)


def stale(files: dict[Path, str]) -> list[Path]:
    """Generated files that differ from (or are missing on) disk, and extra files on disk."""
    differing = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in GENERATED_DIR.glob("*.py") if p not in files]
    return sorted(differing + extra)


def write(files: dict[Path, str]) -> list[Path]:
    """Write the generated modules that changed; remove ones no area produces any more."""
    changed = []
    GENERATED_DIR.mkdir(exist_ok=True)
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    for path in GENERATED_DIR.glob("*.py"):
        if path not in files:
            path.unlink()
            changed.append(path)
    return changed
