"""Migration 0020's triggers: what each content change announces on `netplus_cache`, what
announces nothing (derived counters, a rollback), and what a learner can and cannot do with
them (it may NOTIFY the channel: harmless, tests/library/test_cache.py; it may not call,
disable or drop them)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from netplus_db.config import Target
from netplus_db.connection import connect
from tests.schema.test_rls_and_roles import as_app_user
from tests.support import factories as f

Conn = psycopg.Connection[Any]


@pytest.fixture
def heard(db: Target) -> Iterator[Callable[[], list[str]]]:
    """A connection listening on netplus_cache; calling the fixture gives what arrived since
    the last call (a NOTIFY is delivered at commit, so the changes are committed first)."""
    with connect(db, autocommit=True) as listener:
        listener.execute("LISTEN netplus_cache")

        def drain() -> list[str]:
            listener.execute("SELECT 1")  # reads whatever the server has sent meanwhile
            return [n.payload for n in listener.notifies(timeout=0.2)]

        yield drain


def test_content_changes_announce_their_table(conn: Conn, heard: Callable[[], list[str]]) -> None:
    component, question, achievement = f.component(conn), f.question(conn), f.achievement(conn)
    assert sorted(heard()) == ["achievements", "learning_components", "question_bank"]
    conn.execute("UPDATE learning_components SET title = 'New title' WHERE id = %s", [component])
    conn.execute("UPDATE question_bank SET explanation = 'because' WHERE id = %s", [question])
    conn.execute("DELETE FROM achievements WHERE id = %s", [achievement])
    assert heard() == ["learning_components", "question_bank", "achievements"]


def test_derived_counters_and_rollbacks_announce_nothing(
    conn: Conn, heard: Callable[[], list[str]]
) -> None:
    component, question = f.component(conn), f.question(conn)
    heard()
    conn.execute(
        "UPDATE learning_components SET view_count = view_count + 1,"
        " completion_count = completion_count + 1 WHERE id = %s",
        [component],
    )
    conn.execute(
        "UPDATE question_bank SET usage_count = usage_count + 1, correct_count = 1 WHERE id = %s",
        [question],
    )
    with conn.transaction(force_rollback=True):
        conn.execute("UPDATE learning_components SET title = 'Never' WHERE id = %s", [component])
    assert heard() == []


def test_settings_changes_name_their_users(conn: Conn, heard: Callable[[], list[str]]) -> None:
    ana, ben = f.user(conn), f.user(conn)
    f.settings(conn, user_id=ana)
    f.settings(conn, user_id=ben)
    assert heard() == []  # a new row was never cached
    conn.execute("UPDATE user_settings SET theme = 'dark' WHERE user_id = ANY(%s)", [[ana, ben]])
    (payload,) = heard()
    table, _, ids = payload.partition(":")
    assert table == "user_settings"
    assert {uuid.UUID(i) for i in ids.split(",")} == {ana, ben}
    conn.execute("UPDATE user_settings SET theme = 'dark' WHERE false")
    assert heard() == []  # no row changed: nothing to say


def test_a_learner_changing_its_settings_announces_itself_only(
    conn: Conn, heard: Callable[[], list[str]]
) -> None:
    ana, ben = f.user(conn), f.user(conn)
    f.settings(conn, user_id=ana)
    f.settings(conn, user_id=ben)
    heard()
    with conn.transaction():
        as_app_user(conn, ana)
        conn.execute("UPDATE user_settings SET theme = 'light'")  # RLS: its own row only
    assert heard() == [f"user_settings:{ana}"]


def test_many_settings_changed_at_once_announce_the_table(
    conn: Conn, heard: Callable[[], list[str]]
) -> None:
    users = [f.user(conn) for _ in range(201)]
    conn.execute("INSERT INTO user_settings (user_id) SELECT unnest(%s::uuid[])", [users])
    heard()
    conn.execute("UPDATE user_settings SET font_size = 'large' WHERE user_id = ANY(%s)", [users])
    assert heard() == ["user_settings"]  # beyond 200 ids: every cached setting goes


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT notify_cache_change()",
        "SELECT notify_settings_change()",
        "ALTER TABLE learning_components DISABLE TRIGGER trg_learning_components_cache",
        "ALTER TABLE user_settings DISABLE TRIGGER USER",
        "DROP TRIGGER trg_user_settings_cache_update ON user_settings",
        "CREATE OR REPLACE FUNCTION notify_cache_change() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RETURN NULL; END $$",
    ],
)
def test_a_learner_cannot_call_disable_or_replace_the_triggers(conn: Conn, statement: str) -> None:
    learner = f.user(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        as_app_user(conn, learner)
        conn.execute(statement)
