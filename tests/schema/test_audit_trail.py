"""The audit trail (migration 0014): sensitive changes are recorded by triggers with who, when,
what and the old and new values, without secrets; nobody but the owner can change or remove an
entry, and nobody can write one except through a trigger."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.types.json import Jsonb

from netplus_db.errors import Forbidden
from netplus_db.generated.audit import AuditQueries
from tests.schema.test_rls_and_roles import as_app_user, set_role, set_user
from tests.support import factories as f
from tests.support.apis import build_catalog
from tests.support.factories import Conn


def entries(conn: Conn, **where: Any) -> list[dict[str, Any]]:
    """The audit entries matching column = value, oldest first (as the superuser)."""
    conn.execute("RESET ROLE")
    rows = f.rows(conn, "SELECT * FROM audit_log ORDER BY occurred_at, id")
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def test_an_admin_changing_role_status_email_and_password_is_recorded_without_the_hash(
    tx: Conn,
) -> None:
    user = f.user(tx)
    admin = f.user(tx, role="admin")
    set_role(tx, "admin")
    set_user(tx, admin)
    tx.execute(
        "UPDATE users SET role = 'instructor', account_status = 'suspended',"
        " email = 'new@example.test', password_hash = 'new-hash' WHERE id = %s",
        [user],
    )
    [entry] = entries(tx, subject_user_id=user)
    assert entry["action"] == "update" and entry["table_name"] == "users"
    assert (entry["effective_role"], entry["transaction_role"]) == ("admin", "admin")
    assert entry["app_user_id"] == admin and entry["session_role"] == f.scalar(
        tx, "SELECT session_user"
    )
    assert entry["new_values"] == {
        "role": "instructor",
        "account_status": "suspended",
        "email": "new@example.test",
        "password_hash": "[changed]",
    }
    assert entry["old_values"]["role"] == "student"
    assert "new-hash" not in str(entry) and f.PASSWORD_HASH not in str(entry)


def test_soft_delete_restore_and_hard_delete_are_recorded(tx: Conn) -> None:
    user = f.user(tx)
    set_role(tx, "admin")
    tx.execute(
        "UPDATE users SET deleted_at = now(), account_status = 'deleted' WHERE id = %s", [user]
    )
    tx.execute(
        "UPDATE users SET deleted_at = NULL, account_status = 'active' WHERE id = %s", [user]
    )
    tx.execute("DELETE FROM users WHERE id = %s", [user])
    actions = [
        (e["action"], sorted(e["new_values"] or {})) for e in entries(tx, subject_user_id=user)
    ]
    assert actions == [
        ("update", ["account_status", "deleted_at"]),
        ("update", ["account_status", "deleted_at"]),
        ("delete", []),
    ]
    [deleted] = entries(tx, subject_user_id=user, action="delete")
    assert deleted["old_values"]["password_hash"] == "[changed]"


def test_a_student_registering_is_not_audited_but_a_privileged_account_is(tx: Conn) -> None:
    student = f.user(tx)
    teacher = f.user(tx, role="instructor")
    assert entries(tx, subject_user_id=student) == []
    [created] = entries(tx, subject_user_id=teacher)
    assert created["action"] == "insert" and created["new_values"]["role"] == "instructor"


def test_catalog_edits_are_recorded_and_statistics_are_not(tx: Conn) -> None:
    course = build_catalog(tx)
    question = course.questions["multiple_choice"]
    set_role(tx, "content_editor")
    tx.execute(
        "UPDATE question_bank SET correct_answer = %s WHERE id = %s",
        [Jsonb({"option": "a"}), question],
    )
    tx.execute("UPDATE assessments SET passing_score = 10 WHERE id = %s", [course.assessment])
    tx.execute("DELETE FROM learning_components WHERE id = %s", [course.lab])
    set_role(tx, "admin")
    tx.execute("UPDATE question_bank SET usage_count = usage_count + 5 WHERE id = %s", [question])
    [key] = entries(tx, row_id=question, action="update")
    assert key["effective_role"] == "content_editor"
    assert key["old_values"] == {"correct_answer": {"option": "c"}}
    assert key["new_values"] == {"correct_answer": {"option": "a"}}
    [score] = entries(tx, row_id=course.assessment, action="update")
    assert score["new_values"] == {"passing_score": 10}
    [deleted] = entries(tx, row_id=course.lab, action="delete")
    assert deleted["old_values"]["slug"].startswith("lab-")
    assert len(entries(tx, table_name="question_bank", action="insert")) == 6


def test_a_submit_updating_question_statistics_writes_no_audit_entry(tx: Conn) -> None:
    course = build_catalog(tx)
    learner = f.user(tx)
    as_app_user(tx, learner)
    attempt = f.scalar(tx, "SELECT id FROM start_attempt(%s)", [course.assessment])
    before = len(entries(tx))
    as_app_user(tx, learner)
    tx.execute("SELECT * FROM submit_attempt(%s)", [attempt])
    assert len(entries(tx)) == before
    assert f.scalar(tx, "SELECT sum(usage_count) FROM question_bank") == 6


def test_achievements_granted_outside_the_reward_logic_are_recorded(tx: Conn) -> None:
    course = build_catalog(tx)
    learner = f.user(tx)
    as_app_user(tx, learner)  # the reward logic: completing the lesson earns "first-lesson"
    awarded = f.scalar(
        tx,
        "SELECT achievement_codes FROM record_progress(%s, 'completed', 100, 5, NULL)",
        [course.lesson],
    )
    assert len(awarded) == 1
    assert entries(tx, table_name="user_achievements") == []
    set_role(tx, "admin")  # a manual grant by an admin
    manual = f.scalar(tx, "SELECT code FROM achievements WHERE code LIKE 'handed-out-%%'")
    assert f.scalar(tx, "SELECT check_and_award_achievement(%s, %s)", [learner, manual])
    [grant] = entries(tx, table_name="user_achievements")
    assert grant["subject_user_id"] == learner and grant["effective_role"] == "admin"
    assert grant["action"] == "insert"


@pytest.mark.parametrize("role", ["app_user", "readonly", "admin", "content_editor"])
def test_nobody_changes_removes_or_forges_an_entry(tx: Conn, role: str) -> None:
    f.user(tx, role="admin")  # one entry
    entry = f.scalar(tx, "SELECT id FROM audit_log LIMIT 1")
    set_role(tx, role)
    for statement in (
        "UPDATE audit_log SET action = 'insert' WHERE id = %(id)s",
        "DELETE FROM audit_log WHERE id = %(id)s",
        "TRUNCATE audit_log",
        "INSERT INTO audit_log (table_name, action) VALUES ('users', 'update')",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
            tx.execute(statement, {"id": entry})
    tx.execute("RESET ROLE")
    assert f.scalar(tx, "SELECT count(*) FROM audit_log WHERE id = %s", [entry]) == 1


def test_admins_read_a_users_history_through_the_named_query(tx: Conn) -> None:
    user = f.user(tx)
    set_role(tx, "admin")
    tx.execute("UPDATE users SET role = 'instructor' WHERE id = %s", [user])
    tx.execute("UPDATE users SET role = 'admin' WHERE id = %s", [user])
    history = AuditQueries(tx).user_history(user_id=user, page_size=10)
    assert [h.new_values for h in history] == [{"role": "admin"}, {"role": "instructor"}]
    as_app_user(tx, user)  # a learner reads no audit trail, not even its own
    with pytest.raises(Forbidden), tx.transaction():
        AuditQueries(tx).user_history(user_id=user, page_size=10)


def test_truncating_an_audited_table_is_recorded(tx: Conn) -> None:
    set_role(tx, "admin")
    tx.execute("TRUNCATE performance_metrics, component_analytics")  # not audited
    tx.execute("TRUNCATE user_achievements")
    found = entries(tx, action="truncate")
    assert [(e["table_name"], e["effective_role"]) for e in found] == [
        ("user_achievements", "admin")
    ]


def test_every_catalog_column_but_the_statistics_is_watched(tx: Conn) -> None:
    statistics = {
        "learning_components": {
            "view_count",
            "completion_count",
            "average_rating",
            "rating_count",
            "updated_at",
        },
        "question_bank": {
            "usage_count",
            "correct_count",
            "incorrect_count",
            "average_time_seconds",
            "updated_at",
        },
        "assessments": {"updated_at"},
        "achievements": {"updated_at"},
    }
    for table, skipped in statistics.items():
        watched = {
            name
            for (name,) in tx.execute(
                "SELECT a.attname FROM pg_trigger t"
                "  JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr)"
                " WHERE t.tgrelid = %s::regclass AND t.tgname LIKE 'trg_%%_audit'",
                [table],
            ).fetchall()
        }
        every = {
            name
            for (name,) in tx.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
                " AND attnum > 0 AND NOT attisdropped",
                [table],
            ).fetchall()
        }
        assert watched == every - skipped, table


def test_entries_name_the_row_they_are_about(tx: Conn) -> None:
    achievement = f.achievement(tx)
    [entry] = entries(tx, table_name="achievements")
    assert entry["row_id"] == achievement and isinstance(entry["id"], UUID)
    assert entry["subject_user_id"] is None and entry["action"] == "insert"
