"""The migration file parser: every malformed file is refused with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from netplus_db.migrate.files import load_directory, new_file, parse_file

GOOD = """-- migrate:up
-- creates t
CREATE TABLE t (a int);

CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  -- a comment; with a semicolon
  RETURN 1;
END $$;
-- migrate:down transaction:false
DROP FUNCTION f();
DROP TABLE t;
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_a_good_file_parses_into_sections_with_lines(tmp_path: Path) -> None:
    m = parse_file(write(tmp_path, "0007_create_t.sql", GOOD))
    assert (m.version, m.name, m.label) == (7, "create_t", "0007_create_t")
    assert m.up.transaction and not m.down.transaction
    assert [(s.line, s.sql.splitlines()[-1]) for s in m.up.statements] == [
        (3, "CREATE TABLE t (a int);"),
        (5, "END $$;"),
    ]
    assert [s.line for s in m.down.statements] == [11, 12]
    assert len(m.checksum) == 64


@pytest.mark.parametrize(
    ("name", "text", "error", "line", "words"),
    [
        ("0001_x.sql", "CREATE TABLE t (a int);\n-- migrate:down\n", StrayContent, 1, "before"),
        ("0001_x.sql", "-- just a comment\nSELECT 1;\n", StrayContent, 2, "belongs to no section"),
        ("0001_x.sql", "-- nothing here\n", MissingSection, 1, "migrate:up"),
        ("0001_x.sql", "-- migrate:up\nSELECT 1;\n", MissingSection, 2, "migrate:down"),
        (
            "0001_x.sql",
            "-- migrate:down\nSELECT 1;\n-- migrate:up\n",
            SectionsOutOfOrder,
            1,
            "before",
        ),
        (
            "0001_x.sql",
            "-- migrate:up\nSELECT 1;\n-- migrate:up\n-- migrate:down\n",
            DuplicateSection,
            3,
            "first on line 1",
        ),
        (
            "0001_x.sql",
            "-- migrate:up transaction:maybe\nSELECT 1;\n-- migrate:down\n",
            BadMarkerOption,
            1,
            "transaction:maybe",
        ),
        (
            "0001_x.sql",
            "-- migrate:up lock_timeout:abc\nSELECT 1;\n-- migrate:down\n",
            BadMarkerOption,
            1,
            "lock_timeout:abc: 'abc' is not a duration",
        ),
        (
            "0001_x.sql",
            "-- migrate:up\nSELECT 1;\n-- migrate:down statement_timeout:5 min\n",
            BadMarkerOption,
            3,
            "unknown marker option 'min'",
        ),
        (
            "0001_x.sql",
            "-- migrate:up lock_timeout:0\nSELECT 1;\n-- migrate:down\n",
            BadMarkerOption,
            1,
            "0 would disable the timeout",
        ),
        (
            "0001_x.sql",
            "-- migrate:up lock_timeout:1s lock_timeout:2s\nSELECT 1;\n-- migrate:down\n",
            BadMarkerOption,
            1,
            "lock_timeout is given twice",
        ),
        (
            "0001_x.sql",
            "-- migrate:up timeout:5s\nSELECT 1;\n-- migrate:down\n",
            BadMarkerOption,
            1,
            "unknown marker option 'timeout:5s'",
        ),
        (
            "0001_x.sql",
            "-- migrate:up\n-- only a comment\n-- migrate:down\n",
            EmptySection,
            1,
            "no SQL",
        ),
        ("create_x.sql", GOOD, BadFileName, 1, "NNNN_description.sql"),
        ("0001-x.sql", GOOD, BadFileName, 1, "NNNN_description.sql"),
        ("0001_X Y.sql", GOOD, BadFileName, 1, "NNNN_description.sql"),
    ],
)
def test_malformed_files_are_refused_naming_file_and_line(
    tmp_path: Path,
    name: str,
    text: str,
    error: type[MigrationFileError],
    line: int,
    words: str,
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(error) as caught:
        parse_file(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert words in str(caught.value)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "0001_x.sql"
    path.write_bytes(b"-- migrate:up\nSELECT '\xff';\n-- migrate:down\n")
    with pytest.raises(MigrationFileError, match=r"0001_x.sql:2: file is not valid UTF-8"):
        parse_file(path)


def test_duplicate_versions_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "0001_a.sql", GOOD)
    write(tmp_path, "1_b.sql", GOOD)
    with pytest.raises(MigrationSetError) as caught:
        load_directory(tmp_path)
    [error] = caught.value.errors
    assert isinstance(error, DuplicateVersion)
    assert "version 1 is also used by" in str(error)


def test_every_malformed_file_is_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "0001_ok.sql", GOOD)
    write(tmp_path, "0002_no_down.sql", "-- migrate:up\nSELECT 1;\n")
    write(tmp_path, "0003_stray.sql", "SELECT 1;\n")
    with pytest.raises(MigrationSetError) as caught:
        load_directory(tmp_path)
    assert [type(e) for e in caught.value.errors] == [MissingSection, StrayContent]
    assert "nothing was applied" in str(caught.value)


def test_files_load_sorted_by_number_not_by_name(tmp_path: Path) -> None:
    write(tmp_path, "10_ten.sql", GOOD)
    write(tmp_path, "9_nine.sql", GOOD)
    assert [m.version for m in load_directory(tmp_path)] == [9, 10]


def test_other_files_in_the_directory_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "notes")
    write(tmp_path, "0001_ok.sql", GOOD)
    assert len(load_directory(tmp_path)) == 1


def test_new_file_takes_the_next_number_and_never_overwrites(tmp_path: Path) -> None:
    write(tmp_path, "0004_old.sql", GOOD)
    path = new_file(tmp_path, "Add Study-Plan table")
    assert path.name == "0005_add_study_plan_table.sql"
    parsed_markers = path.read_text()
    assert "-- migrate:up" in parsed_markers and "-- migrate:down" in parsed_markers
    with pytest.raises(ValueError, match="no letters or digits"):
        new_file(tmp_path, "!!!")


statement = st.sampled_from(
    [
        "SELECT 1;",
        "SELECT ';' AS semicolon;",
        "SELECT $$ a ; b $$;",
        "CREATE TABLE t (\n  a int -- trailing; comment\n);",
        "SELECT 'it''s 100%';",
    ]
)
filler = st.lists(st.sampled_from(["", "-- a comment", "   "]), max_size=3)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(filler, statement), min_size=1, max_size=6))
def test_statement_lines_point_at_the_statement_in_the_file(
    tmp_path_factory: pytest.TempPathFactory, parts: list[tuple[list[str], str]]
) -> None:
    lines = ["-- migrate:up"]
    expected: list[int] = []
    for fill, sql in parts:
        lines += fill
        expected.append(len(lines) + 1)
        lines += sql.splitlines()
    lines += ["-- migrate:down", "SELECT 1;"]
    path = tmp_path_factory.mktemp("prop") / "0001_p.sql"
    path.write_text("\n".join(lines) + "\n")
    found = [s.line for s in parse_file(path).up.statements]
    assert found == expected


def test_marker_timeouts_are_parsed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "0001_x.sql",
        "-- migrate:up lock_timeout:3s statement_timeout:2min transaction:false\nSELECT 1;\n"
        "-- migrate:down lock_timeout:500ms\nSELECT 2;\n",
    )
    m = parse_file(path)
    assert (m.up.lock_timeout, m.up.statement_timeout, m.up.transaction) == ("3s", "2min", False)
    assert (m.down.lock_timeout, m.down.statement_timeout, m.down.transaction) == (
        "500ms",
        None,
        True,
    )
