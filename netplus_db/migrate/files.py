"""One migration file: `NNNN_description.sql` with `-- migrate:up` and `-- migrate:down` sections.

Parsing is strict and every refusal names the file and line (see `netplus_db.errors`). A set of
files is loaded whole or not at all, so a single malformed file stops every migration.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

try:
    import sqlparse
except ImportError:  # pragma: no cover - the message is the point
    raise ImportError(
        "netplus_db.migrate splits migrations with sqlparse: pip install 'netplus-db[migrate]'"
    ) from None

from netplus_db.errors import (
    BadFileName,
    BadMarkerOption,
    DuplicateSection,
    DuplicateVersion,
    EmptySection,
    MigrationFileError,
    MigrationSetError,
    MissingSection,
    SectionsOutOfOrder,
    StrayContent,
)

FILE_NAME = re.compile(r"^(?P<version>\d+)_(?P<name>[a-z0-9][a-z0-9_]*)\.sql$")
MARKER = re.compile(r"^--\s*migrate:(?P<kind>up|down)\b(?P<options>.*)$")
OPTION = re.compile(r"^(?P<name>[a-z_]+):(?P<value>.*)$")
MARKER_OPTIONS = ("transaction", "lock_timeout", "statement_timeout")
# A PostgreSQL duration as lock_timeout and statement_timeout take it: 5s, 500ms, 2min, 1h.
DURATION = re.compile(r"^(?P<number>\d+)(?P<unit>us|ms|s|min|h|d)?$")
TEMPLATE = """-- migrate:up
-- NNNN name: what this migration does, and why (CHANGELOG.md gets the same line).
-- Changing a table that holds data? docs/migrations.md has the online-safe patterns;
-- `netplus-db migrate lint` checks this file. Marker options: transaction:false,
-- lock_timeout:5s, statement_timeout:1min.


-- migrate:down
-- Undo exactly what the up section did, in reverse order.

"""


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a section and the file line it starts on."""

    sql: str
    line: int


@dataclass(frozen=True)
class MarkerOptions:
    """What a section marker asks of the runner: a transaction or not, and its own timeouts
    (PostgreSQL durations; None: the runner's --lock-timeout, no statement timeout)."""

    transaction: bool = True
    lock_timeout: str | None = None
    statement_timeout: str | None = None


@dataclass(frozen=True)
class Section:
    """The SQL of one direction, where it starts in the file, whether it runs in a transaction,
    and the timeouts its marker sets."""

    sql: str
    first_line: int
    transaction: bool
    lock_timeout: str | None = None
    statement_timeout: str | None = None

    @property
    def is_empty(self) -> bool:
        """True when the section holds nothing but comments and blank lines."""
        return not self.statements

    @cached_property
    def statements(self) -> list[Statement]:
        """The section split into statements (by sqlparse, once), each with its file line."""
        result: list[Statement] = []
        cursor = 0
        for raw in sqlparse.split(self.sql, strip_semicolon=False):
            text = raw.strip()
            if not text or _only_comments(text):
                continue
            at = self.sql.find(text, cursor)
            at = cursor if at < 0 else at
            cursor = at + len(text)
            result.append(
                Statement(
                    text,
                    self.first_line + self.sql.count("\n", 0, at) + _leading_comment_lines(text),
                )
            )
        return result


@dataclass(frozen=True)
class Migration:
    """A parsed migration file."""

    version: int
    name: str
    path: Path
    checksum: str
    source: str
    up: Section
    down: Section

    @property
    def label(self) -> str:
        """`0003_learning_content`: the file name without `.sql`."""
        return self.path.stem


def parse_file(path: Path) -> Migration:
    """Parse one migration file, raising a MigrationFileError subclass naming the line at fault."""
    match = FILE_NAME.match(path.name)
    if not match:
        raise BadFileName(
            path,
            1,
            "file name must be NNNN_description.sql (digits, an underscore, then lower-case "
            "letters, digits and underscores)",
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        raise MigrationFileError(path, bad_line, "file is not valid UTF-8") from None
    lines = text.splitlines(keepends=True)

    markers: dict[str, tuple[int, MarkerOptions]] = {}
    for number, line in enumerate(lines, start=1):
        found = MARKER.match(line.strip())
        if not found:
            if not markers and line.strip() and not line.strip().startswith("--"):
                raise StrayContent(
                    path, number, "SQL before the `-- migrate:up` marker belongs to no section"
                )
            continue
        kind = found["kind"]
        if kind in markers:
            raise DuplicateSection(
                path,
                number,
                f"second `-- migrate:{kind}` marker (first on line {markers[kind][0]})",
            )
        if kind == "down" and "up" not in markers:
            raise SectionsOutOfOrder(path, number, "`-- migrate:down` comes before `-- migrate:up`")
        markers[kind] = (number, marker_options(path, number, found["options"]))

    if "up" not in markers:
        raise MissingSection(path, 1, "no `-- migrate:up` marker")
    if "down" not in markers:
        raise MissingSection(path, len(lines) or 1, "no `-- migrate:down` marker")

    up_line, up_opts = markers["up"]
    down_line, down_opts = markers["down"]
    up = _section("".join(lines[up_line : down_line - 1]), up_line + 1, up_opts)
    down = _section("".join(lines[down_line:]), down_line + 1, down_opts)
    if up.is_empty:
        raise EmptySection(path, up_line, "the up section holds no SQL")
    return Migration(
        version=int(match["version"]),
        name=match["name"],
        path=path,
        checksum=hashlib.sha256(data).hexdigest(),
        source=text,
        up=up,
        down=down,
    )


def load_directory(directory: Path) -> list[Migration]:
    """Parse every `*.sql` file of a directory, sorted by version; all must parse or none counts."""
    if not directory.is_dir():
        raise MigrationSetError(
            [MigrationFileError(directory, 0, "migrations directory does not exist")]
        )
    errors: list[MigrationFileError] = []
    migrations: list[Migration] = []
    seen: dict[int, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        try:
            migration = parse_file(path)
        except MigrationFileError as exc:
            errors.append(exc)
            continue
        if migration.version in seen:
            errors.append(
                DuplicateVersion(
                    path,
                    1,
                    f"version {migration.version} is also used by {seen[migration.version]}",
                )
            )
            continue
        seen[migration.version] = path
        migrations.append(migration)
    if errors:
        raise MigrationSetError(errors)
    return sorted(migrations, key=lambda m: m.version)


def new_file(directory: Path, name: str) -> Path:
    """Create `NNNN_name.sql` with the next version number and both section markers."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug:
        raise ValueError(f"migration name {name!r} has no letters or digits")
    directory.mkdir(parents=True, exist_ok=True)
    versions = [
        int(m["version"]) for p in directory.glob("*.sql") if (m := FILE_NAME.match(p.name))
    ]
    path = directory / f"{max(versions, default=0) + 1:04d}_{slug}.sql"
    with path.open("x") as f:  # never overwrite
        f.write(TEMPLATE)
    return path


def marker_options(path: Path, line: int, options: str) -> MarkerOptions:
    """Parse the options after `-- migrate:up` / `-- migrate:down`; BadMarkerOption names
    the file, line, option and value at fault."""
    found: dict[str, str] = {}
    for option in options.split():
        match = OPTION.match(option)
        name = match["name"] if match else option
        if not match or name not in MARKER_OPTIONS:
            raise BadMarkerOption(
                path,
                line,
                f"unknown marker option {option!r} (allowed: transaction:true|false, "
                "lock_timeout:DURATION, statement_timeout:DURATION)",
            )
        if name in found:
            raise BadMarkerOption(path, line, f"marker option {name} is given twice")
        found[name] = match["value"]
    transaction = found.get("transaction", "true")
    if transaction not in ("true", "false"):
        raise BadMarkerOption(
            path, line, f"transaction:{transaction}: the value must be true or false"
        )
    timeouts: dict[str, str | None] = {}
    for name in ("lock_timeout", "statement_timeout"):
        value = found.get(name)
        if value is not None:
            problem = duration_problem(value, allow_zero=False)
            if problem:
                raise BadMarkerOption(path, line, f"{name}:{value}: {problem}")
        timeouts[name] = value
    return MarkerOptions(transaction == "true", **timeouts)


def duration_problem(value: str, *, allow_zero: bool = True) -> str | None:
    """Why `value` is not a PostgreSQL duration such as 5s, 500ms or 2min (None when it is)."""
    match = DURATION.match(value.strip())
    if not match:
        return (
            f"{value!r} is not a duration: a whole number with a unit us, ms, s, min, h or d "
            "(e.g. 5s, 500ms, 2min)"
        )
    if int(match["number"]) == 0 and not allow_zero:
        return "0 would disable the timeout; give a duration such as 5s"
    if int(match["number"]) > 2_147_483_647:
        return f"{value!r} is too large (PostgreSQL stores at most 2147483647 of the unit)"
    return None


def _section(sql: str, first_line: int, options: MarkerOptions) -> Section:
    return Section(
        sql, first_line, options.transaction, options.lock_timeout, options.statement_timeout
    )


def _leading_comment_lines(text: str) -> int:
    """How many comment or blank lines open a statement (so its line is that of its code)."""
    count = 0
    for line in text.splitlines():
        if line.strip() and not line.strip().startswith("--"):
            break
        count += 1
    return count


def _only_comments(text: str) -> bool:
    return (
        all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())
        and "/*" not in text
    )
