"""`migrate lint`: the online-safety rules, the repository's new migrations, and the
templates of docs/migrations.md, which must lint clean and really run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.migrate.files import parse_file
from netplus_db.migrate.lint import LINT_AFTER_VERSION, as_run, lint, squawk_path
from netplus_db.migrate.migrator import Migrator
from tests.support.server import MIGRATIONS, REPO

DOC = REPO / "docs" / "migrations.md"

INDEX_ON_EXISTING = """-- migrate:up
-- 0012 index attempts by status
CREATE INDEX idx_assessment_attempts_status ON assessment_attempts (status);

-- migrate:down
DROP INDEX idx_assessment_attempts_status;
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def rules(path: Path) -> list[tuple[int, str]]:
    return [(f.line, f.rule) for f in lint([parse_file(path)])]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netplus_db", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_squawk_comes_with_the_package() -> None:
    assert squawk_path().is_file()


def test_an_index_on_an_existing_table_without_concurrently_fails(tmp_path: Path) -> None:
    path = write(tmp_path, "0012_index_status.sql", INDEX_ON_EXISTING)
    assert rules(path) == [(3, "require-concurrent-index-creation")]
    result = run_cli("migrate", "lint", str(path))
    assert result.returncode == 1
    assert f"{path}:3: require-concurrent-index-creation" in result.stderr


def test_the_same_index_built_concurrently_outside_a_transaction_passes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "0012_index_status.sql",
        "-- migrate:up transaction:false\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON assessment_attempts (status);\n"
        "-- migrate:down transaction:false\n"
        "DROP INDEX CONCURRENTLY IF EXISTS idx_a;\n",
    )
    assert rules(path) == []


def test_an_index_on_a_table_the_file_creates_is_fine(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "0012_widgets.sql",
        "-- migrate:up\nCREATE TABLE widgets (id bigint PRIMARY KEY, owner uuid);\n"
        "CREATE INDEX idx_widgets_owner ON widgets (owner);\n"
        "-- migrate:down\nDROP TABLE widgets;\n",
    )
    assert rules(path) == []


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        ("ALTER TABLE users DROP COLUMN bio;", "ban-drop-column"),
        ("ALTER TABLE users ADD COLUMN tz text NOT NULL;", "adding-required-field"),
        ("ALTER TABLE users ALTER COLUMN bio SET NOT NULL;", "adding-not-nullable-field"),
        (
            "ALTER TABLE users ADD CONSTRAINT c CHECK (length(bio) < 9);",
            "constraint-missing-not-valid",
        ),
        ("ALTER TABLE users RENAME COLUMN bio TO about;", "renaming-column"),
        ("DROP INDEX idx_users_role;", "require-concurrent-index-deletion"),
    ],
)
def test_the_specs_rules_for_existing_tables(tmp_path: Path, statement: str, rule: str) -> None:
    path = write(tmp_path, "0012_change.sql", f"-- migrate:up\n{statement}\n-- migrate:down\n")
    found = rules(path)
    assert (2, rule) in found, found
    assert all(f.message for f in lint([parse_file(path)]))


def test_the_runners_lock_timeout_counts_and_line_numbers_hold(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "0012_column.sql",
        "-- migrate:up lock_timeout:2s statement_timeout:1min\n-- why\n"
        "ALTER TABLE users ADD COLUMN tz text;\n"
        "-- migrate:down\nALTER TABLE users DROP COLUMN tz;\n",
    )
    assert rules(path) == []  # no require-lock-timeout: the runner sets it on the marker line
    text = as_run(parse_file(path), "10s")
    assert text.splitlines()[0] == "SET lock_timeout = '2s'; SET statement_timeout = '1min';"
    assert text.splitlines()[2] == "ALTER TABLE users ADD COLUMN tz text;"
    assert "DROP COLUMN" not in text  # the down section is not linted


def test_a_transaction_locking_many_existing_tables_is_flagged() -> None:
    [m] = [p for p in MIGRATIONS.glob("0009_*.sql")]
    assert "lock-many-tables" in {f.rule for f in lint([parse_file(m)])}
    result = run_cli("migrate", "lint", "--from", "9", "--to", "9", "--json")
    assert result.returncode == 1
    assert '"rule": "lock-many-tables"' in result.stdout


def test_every_migration_after_0011_lints_clean() -> None:
    """CI's gate: new migrations must be online-safe (docs/migrations.md)."""
    result = run_cli("migrate", "lint")
    assert result.returncode == 0, result.stderr
    newer = [p for p in MIGRATIONS.glob("*.sql") if int(p.name[:4]) > LINT_AFTER_VERSION]
    assert f"ok: {len(newer)} file(s) linted clean" in result.stderr


def test_lint_refuses_files_and_a_range_together(tmp_path: Path) -> None:
    path = write(tmp_path, "0012_index_status.sql", INDEX_ON_EXISTING)
    result = run_cli("migrate", "lint", str(path), "--all")
    assert result.returncode == 2 and "not both" in result.stderr


def doc_templates() -> list[tuple[str, str]]:
    """(file name, text) of every migration template in docs/migrations.md."""
    text = DOC.read_text()
    blocks = re.findall(r"```sql\n(-- migrate:up.*?)```", text, flags=re.DOTALL)
    found = []
    for block in blocks:
        number = re.search(r"^-- (\d{4}) ", block, flags=re.MULTILINE)
        assert number, block
        found.append((f"{number.group(1)}_doc_template.sql", block))
    return found


def test_the_documented_templates_lint_clean(tmp_path: Path) -> None:
    templates = doc_templates()
    assert len(templates) == 5
    paths = [write(tmp_path, name, text) for name, text in templates]
    assert lint([parse_file(p) for p in paths]) == []


def test_the_documented_templates_run_up_and_down(db: Target, tmp_path: Path) -> None:
    directory = tmp_path / "m"
    newest = 0
    for path in MIGRATIONS.glob("*.sql"):
        write(directory, path.name, path.read_text())
        newest = max(newest, int(path.name[:4]))
    # The templates come after the project's own migrations (the database has them all).
    for number, (name, text) in enumerate(doc_templates(), start=newest + 1):
        write(directory, f"{number:04d}{name[4:]}", text)
    with connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (email, username, password_hash)"
            " SELECT 'u' || g || '@example.com', 'user' || g, 'x' FROM generate_series(1, 12000) g"
        )
    migrator = Migrator(db, directory)
    assert [s.version for s in migrator.up()] == list(range(newest + 1, newest + 6))
    with connect(db, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM users WHERE timezone IS NULL").fetchone() == (0,)
        assert conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_users_timezone'::regclass"
        ).fetchone() == (True,)
    assert len(migrator.down(to=newest)) == 5
    with connect(db, autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'users' AND column_name = 'timezone'"
        ).fetchone() == (0,)
