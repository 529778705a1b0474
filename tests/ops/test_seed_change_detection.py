"""A re-seed repairs a catalog row whose seeded columns differ, one column at a time.

Each upsert of netplus_db/sql/seed.sql writes only the rows whose seeded values differ from
the files (its `WHERE (...) IS DISTINCT FROM (...)`). A column left out of that comparison
would never be repaired when it alone differs; changing several columns of one row together
hides the omission. So every column the upsert sets from the files is changed alone, on a row
of its own, to a value another row holds (so CHECK constraints still pass), and one re-seed
must count each of those rows as updated and restore every value.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.ops.seed import seed_database
from netplus_db.sql import sql_files

pytestmark = pytest.mark.slow  # a full seed per round

# table -> (its upsert in sql/seed.sql, the column it is keyed by)
UPSERTS = {
    "achievements": ("upsert_achievements", "code"),
    "learning_components": ("upsert_components", "slug"),
    "question_bank": ("upsert_questions", "id"),
    "assessments": ("upsert_assessments", "slug"),
}


def seeded_columns(upsert: str) -> list[str]:
    """The columns an upsert's DO UPDATE sets from the seed files (`col = excluded.col`)."""
    text = str(getattr(sql_files().seed, upsert).sql)
    return re.findall(r"\b(\w+)\s*=\s*excluded\.\1\b", text)


def table_state(conn: Any, table: str, key: str) -> dict[Any, tuple[Any, ...]]:
    """Every row but its updated_at, by key."""
    query = sql.SQL("SELECT {key}, to_jsonb(t) - 'updated_at' FROM {table} t").format(
        key=sql.Identifier(key), table=sql.Identifier(table)
    )
    return {k: v for k, v in conn.execute(query).fetchall()}


def varies(conn: Any, table: str, column: str) -> bool:
    """Whether two rows hold different values of `column`."""
    query = sql.SQL("SELECT count(DISTINCT to_jsonb({c})) > 1 FROM {t}").format(
        t=sql.Identifier(table), c=sql.Identifier(column)
    )
    return bool(conn.execute(query).fetchone()[0])


def change_alone(conn: Any, table: str, key: str, column: str, taken: set[Any]) -> Any:
    """Give one row not in `taken` the different value of `column` another row holds; its
    key, or None when every such row is taken. A value the row's CHECKs refuse alone (a draw
    setting of migration 0018 without the others) is left out: the next row is tried."""
    ids = {"t": sql.Identifier(table), "k": sql.Identifier(key), "c": sql.Identifier(column)}
    found = conn.execute(
        sql.SQL(
            "SELECT r.{k}, (SELECT o.{k} FROM {t} o WHERE o.{c} IS DISTINCT FROM r.{c}"
            "  ORDER BY o.{k} LIMIT 1) AS source"
            "  FROM {t} r WHERE r.{k} <> ALL(%s) ORDER BY r.{k}"
        ).format(**ids),
        [list(taken)],
    ).fetchall()
    for row_key, source in found:
        if source is not None:
            try:
                with conn.transaction():
                    conn.execute(
                        sql.SQL(
                            "UPDATE {t} SET {c} = (SELECT o.{c} FROM {t} o WHERE o.{k} = %s)"
                            " WHERE {k} = %s"
                        ).format(**ids),
                        [source, row_key],
                    )
            except psycopg.errors.CheckViolation:
                continue
            return row_key
    return None


@pytest.mark.parametrize("table", sorted(UPSERTS))
def test_a_change_of_any_one_seeded_column_alone_is_repaired(db: Target, table: str) -> None:
    upsert, key = UPSERTS[table]
    columns = seeded_columns(upsert)
    assert "title" in columns or "name" in columns or "question_text" in columns
    if table in ("achievements", "question_bank"):
        assert "points" in columns
    seed_database(db, allow_demo_accounts=True, report=lambda _: None)
    with connect(db, autocommit=True) as conn:
        first = table_state(conn, table, key)
    pending = list(columns)
    changed_columns: list[str] = []
    while pending:
        changed: dict[Any, str] = {}
        with connect(db, autocommit=True) as conn:
            for column in list(pending):
                if not varies(conn, table, column):
                    pending.remove(column)  # one value in every row: nothing to swap in
                    continue
                row_key = change_alone(conn, table, key, column, set(changed))
                if row_key is not None:  # else every row is taken: the next round
                    changed[row_key] = column
                    pending.remove(column)
            state = table_state(conn, table, key)
        if not changed:
            break
        assert sorted(k for k in first if first[k] != state[k]) == sorted(changed)
        report = seed_database(db, allow_demo_accounts=True, report=lambda _: None)
        assert report.counts[table].updated == len(changed), changed
        with connect(db, autocommit=True) as conn:
            assert table_state(conn, table, key) == first, changed
        changed_columns += changed.values()
    if table in ("achievements", "question_bank"):
        assert "points" in changed_columns
    assert len(changed_columns) >= len(columns) // 2
