"""Deleting a parent does what the ERD's cascade table says; updated_at triggers stamp updates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from psycopg import sql

from tests.support import factories as f
from tests.support.factories import BUILDERS, Conn
from tests.support.spec import cascade_rules

# Foreign keys the ERD's one-to-many table does not list: authored content outlives its
# author, and the 1:1 tables go with their user.
EXTRA_RULES: dict[tuple[str, str], str] = {
    ("users", "learning_components"): "SET NULL",
    ("users", "assessments"): "SET NULL",
    ("users", "question_bank"): "SET NULL",
    ("users", "user_profiles"): "CASCADE",
    ("users", "user_settings"): "CASCADE",
    ("users", "learning_streaks"): "CASCADE",
    # migration 0019: the blueprint, the study state and the item statistics
    ("exam_blueprints", "exam_domains"): "CASCADE",
    ("exam_domains", "exam_objectives"): "CASCADE",
    ("users", "objective_mastery"): "CASCADE",
    ("exam_objectives", "objective_mastery"): "CASCADE",
    ("users", "review_cards"): "CASCADE",
    ("question_bank", "review_cards"): "CASCADE",
    ("users", "review_log"): "CASCADE",
    ("question_bank", "review_log"): "CASCADE",
    ("assessment_attempts", "review_log"): "SET NULL",
    ("question_bank", "question_item_statistics"): "CASCADE",
    ("question_bank", "question_option_statistics"): "CASCADE",
}

RULES: dict[tuple[str, str], str] = {**cascade_rules(), **EXTRA_RULES}
DELETE_ACTIONS = {
    "c": "CASCADE",
    "n": "SET NULL",
    "a": "NO ACTION",
    "r": "RESTRICT",
    "d": "SET DEFAULT",
}


def foreign_keys(conn: Conn) -> dict[tuple[str, str], tuple[str, str]]:
    """{(parent, child): (child column, ON DELETE action)} from the catalog."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for parent, child, column, action, width in conn.execute(
        """
        SELECT con.confrelid::regclass::text, con.conrelid::regclass::text,
               a.attname, con.confdeltype::text, cardinality(con.conkey)
          FROM pg_constraint con
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
         WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace
           AND con.conparentid = 0  -- a partition's copy of its table's key is not another key
        """
    ).fetchall():
        assert width == 1, f"{child} -> {parent}: composite foreign key"
        assert (parent, child) not in found, f"{child} has two foreign keys to {parent}"
        found[(parent, child)] = (column, DELETE_ACTIONS[action])
    return found


def test_the_erd_cascade_table_was_parsed() -> None:
    rules = cascade_rules()
    assert len(rules) == 15
    assert rules[("users", "user_activity_logs")] == "SET NULL"
    assert set(rules.values()) == {"CASCADE", "SET NULL"}


def test_every_foreign_key_has_the_rule_of_the_erd(tx: Conn) -> None:
    live = foreign_keys(tx)
    assert {pair: action for pair, (_, action) in live.items()} == RULES


@pytest.mark.parametrize(
    ("parent", "child", "rule"),
    [(parent, child, rule) for (parent, child), rule in RULES.items()],
    ids=[f"{parent}->{child}:{rule}" for (parent, child), rule in RULES.items()],
)
def test_deleting_the_parent_applies_the_rule_to_the_child(
    tx: Conn, parent: str, child: str, rule: str
) -> None:
    column, _ = foreign_keys(tx)[(parent, child)]
    parent_id = BUILDERS[parent](tx)
    child_id = BUILDERS[child](tx, **{column: parent_id})
    # A child of another parent of the same table is not touched.
    other_parent = BUILDERS[parent](tx)
    sibling_id = BUILDERS[child](tx, **{column: other_parent})
    before = f.fetch(tx, child, child_id)
    sibling_before = f.fetch(tx, child, sibling_id)
    assert before is not None and before[column] == parent_id

    deleted = tx.execute(
        sql.SQL("DELETE FROM {} WHERE id = %s").format(sql.Identifier(parent)), [parent_id]
    )
    assert deleted.rowcount == 1

    after = f.fetch(tx, child, child_id)
    if rule == "CASCADE":
        assert after is None
    else:
        assert after is not None
        assert after[column] is None
        unchanged = {k: v for k, v in before.items() if k not in (column, "updated_at")}
        assert {k: v for k, v in after.items() if k in unchanged} == unchanged
    assert f.fetch(tx, child, sibling_id) == sibling_before


def test_deleting_a_user_removes_everything_they_own_down_to_answers(tx: Conn) -> None:
    user = f.user(tx)
    author = f.user(tx)
    component = f.component(tx, created_by=author)
    attempt = f.attempt(tx, user_id=user)
    answer = f.answer(tx, attempt_id=attempt)
    owned = {
        "user_profiles": f.profile(tx, user_id=user),
        "user_settings": f.settings(tx, user_id=user),
        "learning_streaks": f.streak(tx, user_id=user),
        "user_progress": f.progress(tx, user_id=user, component_id=component),
        "learning_sessions": f.session(tx, user_id=user, component_id=component),
        "bookmarks": f.bookmark(tx, user_id=user, component_id=component),
        "assessment_attempts": attempt,
        "assessment_answers": answer,
        "user_achievements": f.user_achievement(tx, user_id=user),
        "study_goals": f.goal(tx, user_id=user),
    }
    log = f.activity_log(tx, user_id=user)
    tx.execute("DELETE FROM users WHERE id = %s", [user])
    assert {table: f.fetch(tx, table, row) for table, row in owned.items()} == dict.fromkeys(owned)
    kept = f.fetch(tx, "user_activity_logs", log)
    assert kept is not None and kept["user_id"] is None
    # Shared content stays.
    assert f.fetch(tx, "learning_components", component) is not None
    assert f.count(tx, "assessments") == 1 and f.count(tx, "question_bank") == 1


def test_deleting_an_assessment_removes_its_attempts_and_their_answers(tx: Conn) -> None:
    attempt = f.attempt(tx)
    answer = f.answer(tx, attempt_id=attempt)
    assessment = f.scalar(
        tx, "SELECT assessment_id FROM assessment_attempts WHERE id = %s", [attempt]
    )
    question = f.scalar(tx, "SELECT question_id FROM assessment_answers WHERE id = %s", [answer])
    tx.execute("DELETE FROM assessments WHERE id = %s", [assessment])
    assert f.fetch(tx, "assessment_attempts", attempt) is None
    assert f.fetch(tx, "assessment_answers", answer) is None
    assert f.fetch(tx, "question_bank", question) is not None


def test_deleting_a_question_removes_its_answers_but_not_the_attempt(tx: Conn) -> None:
    attempt = f.attempt(tx)
    kept = f.answer(tx, attempt_id=attempt)
    gone = f.answer(tx, attempt_id=attempt)
    question = f.scalar(tx, "SELECT question_id FROM assessment_answers WHERE id = %s", [gone])
    tx.execute("DELETE FROM question_bank WHERE id = %s", [question])
    assert f.fetch(tx, "assessment_answers", gone) is None
    assert f.fetch(tx, "assessment_answers", kept) is not None
    assert f.fetch(tx, "assessment_attempts", attempt) is not None


def test_soft_deleting_a_user_or_component_cascades_nothing(tx: Conn) -> None:
    progress = f.progress(tx)
    row = f.fetch(tx, "user_progress", progress)
    assert row is not None
    f.update(tx, "users", row["user_id"], {"deleted_at": datetime.now(UTC)})
    f.update(tx, "learning_components", row["component_id"], {"deleted_at": datetime.now(UTC)})
    assert f.fetch(tx, "user_progress", progress) == row


# ---------------------------------------------------------------------------
# updated_at triggers
# ---------------------------------------------------------------------------

TABLES_WITH_UPDATED_AT = sorted(
    [
        "users",
        "user_profiles",
        "user_settings",
        "learning_components",
        "user_progress",
        "bookmarks",
        "question_bank",
        "assessments",
        "assessment_attempts",
        "assessment_answers",
        "achievements",
        "learning_streaks",
        "study_goals",
        "component_analytics",
        "objective_mastery",
        "review_cards",
    ]
)


def updated_at_tables(conn: Conn) -> set[str]:
    return {
        table
        for (table,) in conn.execute(
            """
            SELECT c.relname
              FROM pg_class c
              JOIN pg_attribute a ON a.attrelid = c.oid AND NOT a.attisdropped
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
               AND NOT c.relispartition AND a.attname = 'updated_at'
            """
        ).fetchall()
    }


def test_the_tables_with_updated_at_are_the_ones_tested(tx: Conn) -> None:
    assert updated_at_tables(tx) == set(TABLES_WITH_UPDATED_AT)


def test_each_table_with_updated_at_and_only_those_have_the_trigger(tx: Conn) -> None:
    found: dict[str, list[str]] = {}
    for table, definition in tx.execute(
        """
        SELECT t.tgrelid::regclass::text, pg_get_triggerdef(t.oid)
          FROM pg_trigger t
          JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
           AND t.tgfoid = 'update_updated_at_column()'::regprocedure
        """
    ).fetchall():
        found.setdefault(table, []).append(definition)
    assert sorted(found) == TABLES_WITH_UPDATED_AT
    for table, definitions in found.items():
        assert definitions == [
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON public.{table}"
            " FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()"
        ]


@pytest.mark.parametrize("table", TABLES_WITH_UPDATED_AT)
def test_an_update_in_a_later_transaction_moves_updated_at_forward(conn: Conn, table: str) -> None:
    row_id = BUILDERS[table](conn)  # autocommit: its own, earlier transaction
    before = f.fetch(conn, table, row_id)
    assert before is not None
    assert before["updated_at"] == before["created_at"]
    with conn.transaction():
        update_time = f.scalar(conn, "SELECT now()")
        conn.execute(
            sql.SQL("UPDATE {} SET id = id WHERE id = %s").format(sql.Identifier(table)), [row_id]
        )
    after = f.fetch(conn, table, row_id)
    assert after is not None
    assert after["updated_at"] > before["updated_at"]
    assert after["updated_at"] == update_time
    assert after["created_at"] == before["created_at"]


@pytest.mark.parametrize("table", TABLES_WITH_UPDATED_AT)
def test_the_trigger_overrides_an_updated_at_given_by_the_update(tx: Conn, table: str) -> None:
    row_id = BUILDERS[table](tx)
    stale = datetime(2001, 1, 1, tzinfo=UTC)
    f.update(tx, table, row_id, {"updated_at": stale, "created_at": stale})
    row = f.fetch(tx, table, row_id)
    assert row is not None
    assert row["created_at"] == stale  # created_at is the caller's to set
    assert row["updated_at"] == f.scalar(tx, "SELECT now()")


def test_only_the_write_once_tables_lack_updated_at(tx: Conn) -> None:
    write_once = {
        "learning_sessions",
        "user_achievements",
        "user_activity_logs",
        "performance_metrics",
        "audit_log",  # append-only
        "review_log",  # append-only (0019)
        # reference rows written by the migration, statistics rebuilt whole (0019)
        "exam_blueprints",
        "exam_domains",
        "exam_objectives",
        "question_item_statistics",
        "question_option_statistics",
    }
    assert f.public_tables(tx) - updated_at_tables(tx) == write_once
