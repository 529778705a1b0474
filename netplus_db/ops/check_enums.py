"""The value lists of the CHECK constraints, as `netplus_db/generated/enums.py`.

The catalog names every CHECK of a public table whose expression has an `IN (...)` / `= ANY`;
PostgreSQL prints it back as `((col)::text = ANY ((ARRAY['a'::character varying, ...])::text[]))`
or `(col = ANY (ARRAY['a'::text, ...]))`, optionally behind `col IS NULL OR`. A strict parser
reads that printout: any other shape (a compound condition, a list of numbers, an `IN` over an
expression) fails loudly, naming the constraint, rather than being guessed at or skipped.

Naming, one `enum.StrEnum` per class name:
- a column named for what it holds (a name with an underscore: `difficulty_level`,
  `account_status`) with the same list in every table shares one enumeration named after it
  (`DifficultyLevel`): the tables store the same thing and values pass between them;
- a one-word column (`role`, `status`, `theme`) says little on its own, and a column whose
  lists differ between tables cannot share: those are named after table and column
  (`UserRole`, `StudyGoalStatus`), one per table.
Members are the values in the order the CHECK lists them, named in upper case
(`x-large` -> `X_LARGE`).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from netplus_db.errors import NetplusError
from netplus_db.sql import sql_files

ENUMS_MODULE = "enums.py"
TEXT_TYPES = frozenset({"text", "character varying", "character", "bpchar", "varchar"})
HOW_TO_WRITE = "write `column IN ('a', 'b', ...)`, optionally behind `column IS NULL OR`"

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<string>'(?:[^']|'')*')
    | (?P<word>"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<punct>::|[()\[\],])
    | (?P<op>[-+*/<>=~!@#%^&|`?]+)
    """,
    re.VERBOSE,
)
_CLOSING = {"(": ")", "[": "]"}
_MEMBER = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class ValueList:
    """A CHECK restricting one column to a list of text values."""

    constraint: str
    table: str
    column: str
    values: tuple[str, ...]
    nullable: bool


@dataclass(frozen=True)
class Token:
    """A lexical token of a printed constraint: kind (string, word, number, punct, op), text."""

    kind: str
    text: str

    def is_word(self, word: str) -> bool:
        """An unquoted keyword or name, compared without regard to case."""
        return self.kind == "word" and self.text.upper() == word


@dataclass(frozen=True)
class Group:
    """A bracketed run of nodes: `(...)` or `[...]`."""

    opening: str
    items: tuple[Node, ...]


Node = Token | Group


class CheckShapeError(NetplusError):
    """A CHECK tests a value against a list in a shape the enumeration generator cannot read."""


class _Unreadable(Exception):
    """Why a printed constraint does not have an understood shape."""


# --- reading the catalog ----------------------------------------------------------------------


def read_value_lists(conn: psycopg.Connection[Any]) -> list[ValueList]:
    """Every value-list CHECK of the connected database, parsed; raise naming each one that is
    not in an understood shape."""
    found: list[ValueList] = []
    problems: list[str] = []
    for constraint, table, definition, columns, not_null in sql_files().codegen.value_list_checks(
        conn
    ):
        try:
            column, values = parse_value_list(definition)
            if list(columns) != [column]:
                raise _Unreadable(f"it names columns {', '.join(columns)}, not only {column}")
        except _Unreadable as exc:
            problems.append(
                f"CHECK {constraint} on {table} is not in a shape it reads ({exc}): {definition}"
            )
            continue
        found.append(ValueList(constraint, table, column, values, nullable=not not_null[0]))
    names = [v.constraint for v in found]
    for name in sorted({n for n in names if names.count(n) > 1}):
        tables = ", ".join(v.table for v in found if v.constraint == name)
        problems.append(f"CHECK {name} on {tables}: the name is not unique (ENUMERATIONS keys)")
    if problems:
        raise CheckShapeError(
            "cannot generate the enumerations: "
            + "; ".join(problems)
            + f". A value-list CHECK: {HOW_TO_WRITE}; or teach netplus_db/ops/check_enums.py"
            " the new shape."
        )
    return found


def parse_value_list(definition: str) -> tuple[str, tuple[str, ...]]:
    """(column, values) of a CHECK as `pg_get_constraintdef` prints it; _Unreadable otherwise."""
    nodes = _group(_tokens(definition))
    if len(nodes) == 4 and _words(nodes[2:]) == "NOT VALID":
        nodes = nodes[:2]  # a NOT VALID check still holds for every new row
    match nodes:
        case [Token() as check, Group("(", body)] if check.is_word("CHECK"):
            pass
        case _:
            raise _Unreadable("not `CHECK (expression)`")
    expression = _unwrap(body)
    if any(isinstance(n, Token) and (n.is_word("AND") or n.is_word("NOT")) for n in expression):
        raise _Unreadable("it combines conditions with AND or NOT")
    parts = _split(expression, lambda n: isinstance(n, Token) and n.is_word("OR"))
    if len(parts) > 2:
        raise _Unreadable("more than one OR")
    null_tests = [p for p in parts if _is_null_test(p)]
    lists = [p for p in parts if not _is_null_test(p)]
    if len(lists) != 1:
        raise _Unreadable("not one `column = ANY (ARRAY[...])`")
    column, values = _in_list(_unwrap(lists[0]))
    for test in null_tests:
        if _name(_unwrap(test)[0]) != column:
            raise _Unreadable("its IS NULL tests another column")
    return column, values


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        found = _TOKEN.match(text, at)
        if found is None or found.lastgroup is None:
            raise _Unreadable(f"unexpected character {text[at]!r}")
        if found.lastgroup != "space":
            tokens.append(Token(found.lastgroup, found.group()))
        at = found.end()
    return tokens


def _group(tokens: list[Token]) -> list[Node]:
    """Nest the tokens by their brackets."""
    stack: list[tuple[str, list[Node]]] = [("", [])]
    for token in tokens:
        if token.kind == "punct" and token.text in _CLOSING:
            stack.append((token.text, []))
        elif token.kind == "punct" and token.text in (")", "]"):
            opening, items = stack.pop()
            if not stack or _CLOSING.get(opening) != token.text:
                raise _Unreadable("unbalanced brackets")
            stack[-1][1].append(Group(opening, tuple(items)))
        else:
            stack[-1][1].append(token)
    if len(stack) != 1:
        raise _Unreadable("unbalanced brackets")
    return stack[0][1]


def _unwrap(nodes: Sequence[Node]) -> Sequence[Node]:
    """Drop the redundant parentheses PostgreSQL prints around every expression."""
    while len(nodes) == 1 and isinstance(nodes[0], Group) and nodes[0].opening == "(":
        nodes = nodes[0].items
    return nodes


def _split(nodes: Sequence[Node], at: Callable[[Node], bool]) -> list[list[Node]]:
    parts: list[list[Node]] = [[]]
    for node in nodes:
        if at(node):
            parts.append([])
        else:
            parts[-1].append(node)
    if any(not part for part in parts):
        raise _Unreadable("an empty operand")
    return parts


def _words(nodes: Sequence[Node]) -> str:
    if not all(isinstance(n, Token) and n.kind == "word" for n in nodes):
        return ""
    return " ".join(n.text.upper() for n in nodes if isinstance(n, Token))


def _is_null_test(nodes: Sequence[Node]) -> bool:
    nodes = _unwrap(nodes)
    return len(nodes) == 3 and _words(nodes[1:]) == "IS NULL"


def _name(node: Node) -> str:
    """The identifier a node spells (unquoted as PostgreSQL would)."""
    if isinstance(node, Group) and node.opening == "(" and len(node.items) == 1:
        return _name(node.items[0])
    if not isinstance(node, Token) or node.kind != "word":
        raise _Unreadable("the list is not tested against a plain column")
    if node.text.startswith('"'):
        return node.text[1:-1].replace('""', '"')
    if node.text.upper() in ("ANY", "ARRAY", "NULL", "OR", "AND", "NOT", "IS"):
        raise _Unreadable(f"unexpected {node.text}")
    return node.text


def _text_cast(nodes: Sequence[Node], *, array: bool = False) -> None:
    """Accept `::<a text type>`, or `::<a text type>[]` for an array (the tokens after the
    value)."""
    if not nodes or not (isinstance(nodes[0], Token) and nodes[0].text == "::"):
        raise _Unreadable("expected a `::` cast")
    rest = list(nodes[1:])
    if array:
        if not (rest and isinstance(rest[-1], Group) and rest[-1] == Group("[", ())):
            raise _Unreadable("expected a cast to an array type")
        rest = rest[:-1]
    if _words(rest).lower() not in TEXT_TYPES:
        raise _Unreadable("the values are not text (a StrEnum holds text)")


def _in_list(nodes: Sequence[Node]) -> tuple[str, tuple[str, ...]]:
    """`column = ANY (array)`, the column possibly cast to text."""
    equals = [i for i, n in enumerate(nodes) if isinstance(n, Token) and n.text == "="]
    if len(equals) != 1:
        raise _Unreadable("not one `column = ANY (ARRAY[...])`")
    i = equals[0]
    match nodes[i + 1 :]:
        case [Token() as any_, Group("(", array)] if any_.is_word("ANY"):
            pass
        case _:
            raise _Unreadable("not `column = ANY (ARRAY[...])`")
    left = _unwrap(nodes[:i])
    if len(left) > 1:
        if not (isinstance(left[1], Token) and left[1].text == "::"):
            raise _Unreadable("the list is not tested against a plain column")
        _text_cast(left[1:])
    return _name(left[0]), _array(_unwrap(array))


def _array(nodes: Sequence[Node]) -> tuple[str, ...]:
    """`ARRAY['a'::type, ...]` or the same cast to a text array: the values, in order."""
    match nodes:
        case [Token() as word, Group("[", items)] if word.is_word("ARRAY"):
            pass
        case [Group("(", inner), *cast] if cast:
            _text_cast(cast, array=True)
            return _array(_unwrap(inner))
        case _:
            raise _Unreadable("the list is not an ARRAY[...] of literals")
    values: list[str] = []
    for element in _split(items, lambda n: isinstance(n, Token) and n.text == ","):
        match element:
            case [Token(kind="string", text=text), *cast]:
                if cast:
                    _text_cast(cast)
            case _:
                raise _Unreadable("a value of the list is not a string literal")
        value = text[1:-1].replace("''", "'")
        if value in values:
            raise _Unreadable(f"it lists {value!r} twice")
        values.append(value)
    return tuple(values)


# --- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enumeration:
    """One generated StrEnum: its class name, values, and the CHECKs it stands for."""

    name: str
    values: tuple[str, ...]
    checks: tuple[ValueList, ...]


def enumerations(lists: Sequence[ValueList]) -> list[Enumeration]:
    """The value lists named and merged as the module docstring says, by class name."""
    lists_by_column: dict[str, set[tuple[str, ...]]] = {}
    for v in lists:
        lists_by_column.setdefault(v.column, set()).add(v.values)
    by_name: dict[str, list[ValueList]] = {}
    for v in lists:
        shared = "_" in v.column and len(lists_by_column[v.column]) == 1
        name = _camel(v.column) if shared else _camel(_singular(v.table)) + _camel(v.column)
        by_name.setdefault(name, []).append(v)
    found: list[Enumeration] = []
    for name, checks in sorted(by_name.items()):
        if len({v.values for v in checks}) != 1:
            where = ", ".join(f"{v.table}.{v.column}" for v in checks)
            raise CheckShapeError(f"{where} would all be enum {name} but list different values")
        if name in ("CheckedColumn", "StrEnum", "NamedTuple"):
            raise CheckShapeError(
                f"{checks[0].table}.{checks[0].column}: enum name {name} is taken"
            )
        _member_names(checks[0])
        found.append(Enumeration(name, checks[0].values, tuple(checks)))
    return found


def render_enums(lists: Sequence[ValueList]) -> str:
    """The text of netplus_db/generated/enums.py."""
    enums = enumerations(lists)
    out = [
        '"""The value lists of the CHECK constraints `column IN (...)`, one StrEnum per list.',
        "",
        "Generated by `netplus-db queries gen` from a migrated database's catalog: do not edit.",
        "A column named for what it holds (`difficulty_level`) that has the same list in every",
        "table shares one enumeration; a one-word column (`role`, `status`), or one whose lists",
        "differ between tables, has one per table, named after the table (`UserRole`).",
        "`ENUMERATIONS` maps each CHECK's name to its table, column and enumeration.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from enum import StrEnum",
        "from typing import NamedTuple",
        "",
        "",
        "class CheckedColumn(NamedTuple):",
        '    """A column that a CHECK constraint restricts to the values of one enumeration."""',
        "",
        "    table: str",
        "    column: str",
        "    nullable: bool",
        "    values: type[StrEnum]",
    ]
    for enum in enums:
        out += ["", "", f"class {enum.name}(StrEnum):", *_enum_docstring(enum), ""]
        names = _member_names(enum.checks[0])
        out += [
            f"    {name} = {_literal(value)}"
            for name, value in zip(names, enum.values, strict=True)
        ]
    out += ["", "", "ENUMERATIONS: dict[str, CheckedColumn] = {"]
    by_constraint = sorted(((v, e.name) for e in enums for v in e.checks), key=_constraint)
    for v, name in by_constraint:
        key = f"    {_literal(v.constraint)}: CheckedColumn("
        args = f"{_literal(v.table)}, {_literal(v.column)}, {v.nullable}, {name}"
        if len(f"{key}{args}),") <= 100:  # laid out as ruff format lays it out
            out.append(f"{key}{args}),")
        else:
            out += [key, f"        {args}", "    ),"]
    out.append("}")
    return "\n".join(out) + "\n"


def _enum_docstring(enum: Enumeration) -> list[str]:
    where = ", ".join(
        f"{v.table}.{v.column}" + (" (or NULL)" if v.nullable else "") for v in enum.checks
    )
    text = f"The values the CHECKs allow in {where}." if len(enum.checks) > 1 else ""
    text = text or f"The values CHECK {enum.checks[0].constraint} allows in {where}."
    text = text.replace("\\", "\\\\").replace('"""', "'''")
    lines = textwrap.wrap(text, width=92)
    if len(lines) == 1:
        return [f'    """{lines[0]}"""']
    return [f'    """{lines[0]}', *(f"    {line}" for line in lines[1:]), '    """']


def _member_names(v: ValueList) -> list[str]:
    names = [re.sub(r"[^A-Z0-9]+", "_", value.upper()).strip("_") for value in v.values]
    for name, value in zip(names, v.values, strict=True):
        if not _MEMBER.match(name):
            raise CheckShapeError(
                f"CHECK {v.constraint}: value {value!r} makes no enum member name ({name!r})"
            )
    if len(set(names)) != len(names):
        raise CheckShapeError(f"CHECK {v.constraint}: two values make the same member name")
    return names


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _singular(table: str) -> str:
    if table.endswith("ies"):
        return table[:-3] + "y"
    if table.endswith("s") and not table.endswith("ss"):
        return table[:-1]
    return table


def _constraint(item: tuple[ValueList, str]) -> str:
    return item[0].constraint


def _literal(value: str) -> str:
    """A Python string literal in the form ruff format keeps (double quotes)."""
    return json.dumps(value, ensure_ascii=False)
