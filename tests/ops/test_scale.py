"""`load_scale` (seed --scale): deterministic, consistent, refused twice, needs a catalog,
progress with rate and ETA.

A small catalog (components of several types, questions of every type, a quiz and a practice
exam linked to components, achievements) is inserted with plain SQL into one database; every test
loads into its own clone of it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, LiteralString

import bcrypt
import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from netplus_db.config import Target
from netplus_db.connection import connect, create_database, drop_database
from netplus_db.grading import validate_question
from netplus_db.ops.progress import Meter, counted, terminal_line
from netplus_db.ops.scale import (
    PASSWORD,
    TABLE_NAMES,
    CatalogEmpty,
    NotPrivileged,
    ScaleDataExists,
    ScaleReport,
    anchor_date,
    check_can_load,
    load_scale,
)
from tests.support.server import Server, fresh_name

# Scale loads: seconds each; `make test` runs them, `make test-fast` skips them.
pytestmark = pytest.mark.slow

Conn = psycopg.Connection[Any]

OPTIONS = [{"id": i, "text": f"option {i}"} for i in "abcd"]
QUESTIONS: list[tuple[str, str, str, dict[str, Any], dict[str, Any], int]] = [
    # (domain, type, difficulty, question_data, correct_answer, points)
    ("1.0", "multiple_choice", "beginner", {"options": OPTIONS}, {"option": "c"}, 1),
    (
        "1.0",
        "multiple_choice",
        "advanced",
        {"options": OPTIONS},
        {"option": "b", "partial": {"d": 0.5}},
        2,
    ),
    ("1.0", "true_false", "beginner", {}, {"value": True}, 1),
    (
        "1.0",
        "fill_blank",
        "intermediate",
        {"normalize": "ports"},
        {"accepted": [{"answer": "22", "credit": 1}]},
        1,
    ),
    (
        "1.0",
        "multiple_select",
        "intermediate",
        {"options": OPTIONS, "all_or_nothing": False},
        {"options": ["a", "c"]},
        2,
    ),
    (
        "2.0",
        "matching",
        "intermediate",
        {
            "stems": [
                {"id": "1", "text": "SSH"},
                {"id": "2", "text": "HTTPS"},
                {"id": "3", "text": "DNS"},
            ],
            "choices": [
                {"id": "a", "text": "22"},
                {"id": "b", "text": "443"},
                {"id": "c", "text": "53"},
            ],
        },
        {"pairs": {"1": "a", "2": "b", "3": "c"}},
        3,
    ),
    (
        "2.0",
        "simulation",
        "advanced",
        {
            "parts": [
                {
                    "id": "p1",
                    "type": "multiple_choice",
                    "weight": 2,
                    "prompt": "Which port?",
                    "data": {"options": OPTIONS},
                },
                {"id": "p2", "type": "true_false", "weight": 1, "prompt": "Is it TCP?", "data": {}},
            ]
        },
        {"parts": {"p1": {"option": "a"}, "p2": {"value": False}}},
        4,
    ),
    ("2.0", "true_false", "beginner", {}, {"value": False}, 1),
]
COMPONENTS = [
    # (slug, type, domain, subdomain, minutes, linked assessment slug)
    ("osi-model", "lesson", "1.0", "1.1", 25, None),
    ("ports-video", "video", "1.0", "1.4", 12, None),
    ("ports-cards", "flashcard", "1.0", "1.4", 10, None),
    ("cabling-lab", "lab", "1.0", "1.5", 40, None),
    ("domain-1-quiz", "quiz", "1.0", None, 15, "quiz-domain-1"),
    ("routing-lesson", "lesson", "2.0", "2.1", 30, None),
    ("vlan-simulation", "simulation", "2.0", "2.2", 35, None),
    ("practice-exam", "practice_exam", "2.0", None, 60, "practice-exam"),
    ("draft-lesson", "lesson", "2.0", "2.3", 20, "unpublished"),
]
ACHIEVEMENTS: list[tuple[str, dict[str, Any]]] = [
    ("first-steps", {"type": "first_login"}),
    ("founding-learner", {}),
    ("first-lesson", {"type": "components_completed", "count": 1, "component_type": "lesson"}),
    ("getting-started", {"type": "components_completed", "count": 3}),
    ("domain-1-master", {"type": "components_mastered", "count": 1, "domain": "1.0"}),
    ("quiz-passed", {"type": "assessments_passed", "count": 1, "assessment_type": "quiz"}),
    ("perfect-score", {"type": "perfect_score", "count": 1}),
    ("streak-2", {"type": "streak_days", "days": 2}),
    ("active-3", {"type": "active_days", "days": 3}),
    ("marathon", {"type": "total_minutes", "minutes": 60}),
]

# Each query counts violations of one invariant; every count must be 0.
INVARIANTS: dict[str, LiteralString] = {
    "attempt score is the sum of its answers' points": """
        SELECT count(*) FROM assessment_attempts t
         WHERE t.score IS DISTINCT FROM
               (SELECT sum(a.points_earned) FROM assessment_answers a WHERE a.attempt_id = t.id)
    """,
    "attempt counts match its answers": """
        SELECT count(*) FROM assessment_attempts t
         CROSS JOIN LATERAL (
               SELECT count(*) FILTER (WHERE a.is_correct) AS c,
                      count(*) FILTER (WHERE NOT a.is_correct AND a.user_answer IS NOT NULL) AS i,
                      count(*) FILTER (WHERE a.user_answer IS NULL) AS s
                 FROM assessment_answers a WHERE a.attempt_id = t.id) AS x
         WHERE (t.correct_answers, t.incorrect_answers, t.skipped_questions) <> (x.c, x.i, x.s)
    """,
    "percentage = score / total points x 100, rounded to 2": """
        SELECT count(*) FROM assessment_attempts t
          JOIN assessments s ON s.id = t.assessment_id
         WHERE t.percentage IS DISTINCT FROM round(t.score * 100 /
               (SELECT sum(q.points) FROM question_bank q WHERE q.id = ANY (s.question_ids)), 2)
    """,
    "passed = percentage >= passing_score": """
        SELECT count(*) FROM assessment_attempts t
          JOIN assessments s ON s.id = t.assessment_id
         WHERE t.passed <> (t.percentage >= s.passing_score)
    """,
    "question_order is a permutation of the assessment's questions": """
        SELECT count(*) FROM assessment_attempts t
          JOIN assessments s ON s.id = t.assessment_id
         WHERE (SELECT array_agg(x ORDER BY x) FROM unnest(t.question_order) x)
               IS DISTINCT FROM (SELECT array_agg(x ORDER BY x) FROM unnest(s.question_ids) x)
    """,
    "one answer per question of the attempt": """
        SELECT count(*) FROM assessment_attempts t
          JOIN assessments s ON s.id = t.assessment_id
         WHERE (SELECT array_agg(a.question_id ORDER BY a.question_id)
                  FROM assessment_answers a WHERE a.attempt_id = t.id)
               IS DISTINCT FROM (SELECT array_agg(x ORDER BY x) FROM unnest(s.question_ids) x)
    """,
    "a right answer earns the question's points": """
        SELECT count(*) FROM assessment_answers a
          JOIN question_bank q ON q.id = a.question_id
         WHERE (a.is_correct AND a.points_earned <> q.points)
            OR (a.user_answer IS NULL AND (a.points_earned <> 0 OR a.is_correct))
            OR a.points_earned > q.points
    """,
    "attempts numbered 1..k per user and assessment": """
        SELECT count(*) FROM (
            SELECT user_id, assessment_id FROM assessment_attempts
             GROUP BY user_id, assessment_id
            HAVING max(attempt_number) <> count(*) OR min(attempt_number) <> 1) x
    """,
    "attempts are graded and end after they start": """
        SELECT count(*) FROM assessment_attempts
         WHERE status NOT IN ('completed', 'timed_out') OR completed_at < started_at
            OR score IS NULL OR percentage IS NULL
            OR time_spent_minutes <> ceil(extract(epoch FROM completed_at - started_at) / 60)
    """,
    "progress unique per user and component": """
        SELECT count(*) FROM (SELECT 1 FROM user_progress
                               GROUP BY user_id, component_id HAVING count(*) > 1) x
    """,
    "progress status, percentage and dates agree": """
        SELECT count(*) FROM user_progress
         WHERE (status IN ('completed', 'mastered')
                AND (completion_date IS NULL OR progress_percentage <> 100))
            OR (status = 'mastered' AND (mastery_date IS NULL OR mastery_date < completion_date))
            OR (status IN ('not_started', 'in_progress')
                AND (completion_date IS NOT NULL OR mastery_date IS NOT NULL
                     OR progress_percentage = 100))
            OR (status = 'completed' AND mastery_date IS NOT NULL)
            OR (status = 'not_started' AND progress_percentage <> 0)
            OR updated_at < created_at
    """,
    "progress on unpublished components": """
        SELECT count(*) FROM user_progress p
          JOIN learning_components c ON c.id = p.component_id
         WHERE NOT c.is_published
    """,
    "time spent on a component is the sum of its sessions": """
        SELECT count(*) FROM user_progress p
          JOIN learning_components c ON c.id = p.component_id
         WHERE c.component_type NOT IN ('quiz', 'assessment', 'practice_exam')
           AND p.time_spent_minutes <> coalesce(
               (SELECT sum(s.duration_minutes) FROM learning_sessions s
                 WHERE s.user_id = p.user_id AND s.component_id = p.component_id), 0)
    """,
    "sessions end after they start; duration matches": """
        SELECT count(*) FROM learning_sessions
         WHERE session_end IS NULL OR session_end < session_start
            OR duration_minutes <> floor(extract(epoch FROM session_end - session_start) / 60)
    """,
    "streaks: current <= longest <= active days, dates in order": """
        SELECT count(*) FROM learning_streaks
         WHERE current_streak > longest_streak OR longest_streak > total_active_days
            OR last_activity_date < streak_start_date
            OR (current_streak > 0
                AND last_activity_date - streak_start_date + 1 <> current_streak)
            OR (total_active_days = 0 AND last_activity_date IS NOT NULL)
    """,
    "one streak, profile and settings row per user": """
        SELECT count(*) FROM users u
         WHERE (SELECT count(*) FROM learning_streaks s WHERE s.user_id = u.id) <> 1
            OR (SELECT count(*) FROM user_profiles p WHERE p.user_id = u.id) <> 1
            OR (SELECT count(*) FROM user_settings s WHERE s.user_id = u.id) <> 1
    """,
    "user_achievements unique per user and achievement": """
        SELECT count(*) FROM (SELECT 1 FROM user_achievements
                               GROUP BY user_id, achievement_id HAVING count(*) > 1) x
    """,
    "goals: values, status and dates agree": """
        SELECT count(*) FROM study_goals
         WHERE current_value < 0 OR target_value <= 0
            OR (status = 'completed') <> (completed_date IS NOT NULL)
            OR (status = 'completed' AND current_value < target_value)
            OR (status <> 'completed' AND current_value >= target_value)
    """,
    "emails and usernames unique": """
        SELECT (SELECT count(*) - count(DISTINCT lower(email)) FROM users)
             + (SELECT count(*) - count(DISTINCT lower(username)) FROM users)
    """,
}
# Every timestamp column of the scale tables, none of which may be after the anchor date.
TIMESTAMPS: dict[str, tuple[str, ...]] = {
    "users": ("created_at", "updated_at"),
    "user_progress": ("created_at", "updated_at", "completion_date", "mastery_date"),
    "learning_sessions": ("session_start", "session_end", "created_at"),
    "assessment_attempts": ("started_at", "completed_at", "updated_at"),
    "assessment_answers": ("created_at", "updated_at"),
    "user_achievements": ("earned_at",),
    "user_activity_logs": ("created_at",),
    "bookmarks": ("created_at",),
}


def _insert_catalog(conn: Conn) -> None:
    """The small catalog, with plain parameterised SQL."""
    ids: dict[str, list[Any]] = {"1.0": [], "2.0": []}
    for n, (domain, qtype, level, data, key, points) in enumerate(QUESTIONS):
        validate_question(qtype, data, key)
        row = conn.execute(
            "INSERT INTO question_bank (question_type, domain, difficulty_level, question_text,"
            " question_data, correct_answer, points, is_published)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, true) RETURNING id",
            [qtype, domain, level, f"Question {n}?", Jsonb(data), Jsonb(key), points],
        ).fetchone()
        assert row is not None
        ids[domain].append(row[0])
    conn.execute(
        "INSERT INTO assessments (assessment_type, title, slug, domain, time_limit_minutes,"
        " passing_score, question_ids, randomize_questions, is_published)"
        " VALUES ('quiz', 'Domain 1 quiz', 'quiz-domain-1', '1.0', 20, 70, %s, true, true),"
        "        ('practice_exam', 'Practice exam', 'practice-exam', NULL, 3, 75, %s, false, true),"
        "        ('quiz', 'Draft quiz', 'draft-quiz', '2.0', NULL, 70, %s, true, false)",
        [ids["1.0"], ids["1.0"] + ids["2.0"], ids["2.0"]],
    )
    for slug, kind, domain, subdomain, minutes, linked in COMPONENTS:
        content = {"assessment_slug": linked} if linked else {}
        conn.execute(
            "INSERT INTO learning_components (component_type, domain, subdomain, title, slug,"
            " content, estimated_duration_minutes, is_published)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [kind, domain, subdomain, slug.title(), slug, Jsonb(content), minutes,
             linked != "unpublished"],
        )  # fmt: skip
    for code, criteria in ACHIEVEMENTS:
        conn.execute(
            "INSERT INTO achievements (achievement_type, code, name, criteria, points)"
            " VALUES ('badge', %s, %s, %s, 10)",
            [code, code.title(), Jsonb(criteria)],
        )


@pytest.fixture(scope="module")
def catalog(server: Server, template: str) -> Iterator[str]:
    """A migrated database holding the small catalog: the template of this module's tests."""
    name = fresh_name("scalecatalog")
    target = server.database(name)
    create_database(target, template=template)
    with connect(target, autocommit=True) as conn:
        _insert_catalog(conn)
    yield name
    drop_database(target)


@pytest.fixture
def scale_db(server: Server, catalog: str) -> Iterator[Target]:
    """This test's own copy of the catalog database."""
    target = server.database(fresh_name("scale"))
    create_database(target, template=catalog)
    yield target
    drop_database(target)


def _load(target: Target, **kwargs: Any) -> tuple[ScaleReport, list[str], str]:
    """load_scale with its messages and progress captured."""
    messages: list[str] = []
    progress = io.StringIO()
    kwargs.setdefault("thousands", 0)
    result = load_scale(target, report=messages.append, progress=progress, **kwargs)
    return result, messages, progress.getvalue()


# The catalog tables the load updates, by the columns it sets (their updated_at is stamped with
# now() by the updated_at trigger, as the application's own statistics updates are).
CATALOG_STATISTICS: dict[str, tuple[str, ...]] = {
    "question_bank": ("id", "usage_count", "correct_count", "incorrect_count",
                      "average_time_seconds"),
    "learning_components": ("id", "view_count", "completion_count"),
}  # fmt: skip


def _checksums(target: Target) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over the sorted rows of every table the load writes or updates."""
    queries = [
        (table, sql.SQL("SELECT t.*::text AS line FROM {} AS t").format(sql.Identifier(table)))
        for table in TABLE_NAMES
    ] + [
        (
            table,
            sql.SQL("SELECT ({})::text AS line FROM {}").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
            ),
        )
        for table, columns in CATALOG_STATISTICS.items()
    ]
    sums = {}
    with connect(target, autocommit=True) as conn:
        for table, rows in queries:
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), coalesce(md5(string_agg(line, E'\\n' ORDER BY line)), '')"
                    " FROM ({}) AS r"
                ).format(rows)
            ).fetchone()
            assert row is not None
            sums[table] = (int(row[0]), str(row[1]))
    return sums


def test_same_seed_gives_identical_data_and_another_seed_does_not(
    server: Server, catalog: str
) -> None:
    targets = [server.database(fresh_name("scale")) for _ in range(3)]
    try:
        for target in targets:
            create_database(target, template=catalog)
        _load(targets[0], users=80, random_seed=7)
        _load(targets[1], users=80, random_seed=7)
        _load(targets[2], users=80, random_seed=8)
        first, second, other = (_checksums(t) for t in targets)
    finally:
        for target in targets:
            drop_database(target)
    assert first == second
    for table in ("users", "user_progress", "assessment_attempts", "assessment_answers"):
        assert first[table][0] > 0, table
        assert first[table][1] != other[table][1], table


def test_the_load_satisfies_every_invariant(scale_db: Target) -> None:
    result, messages, _ = _load(scale_db, thousands=1)
    assert result.users == 1000
    anchor = anchor_date(42)
    with connect(scale_db, autocommit=True) as conn:
        for name, query in INVARIANTS.items():
            row = conn.execute(query).fetchone()
            assert row is not None
            assert row[0] == 0, name
        for table, columns in TIMESTAMPS.items():
            for column in columns:
                row = conn.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE {} >= %s::date").format(
                        sql.Identifier(table), sql.Identifier(column)
                    ),
                    [anchor],
                ).fetchone()
                assert row is not None and row[0] == 0, f"{table}.{column} after {anchor}"
        # Rows per table as reported, and every table has some.
        for load in result.tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(load.table))
            ).fetchone()
            assert row is not None
            assert row[0] == load.rows > 0, load.table
        # One shared, valid bcrypt hash.
        hashes = conn.execute("SELECT DISTINCT password_hash FROM users").fetchall()
        assert len(hashes) == 1
        assert bcrypt.checkpw(PASSWORD, hashes[0][0].encode())
        # Skewed: few master, a minority take the practice exam, some never start.
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'mastered'),"
            "       count(*) FILTER (WHERE status IN ('completed', 'mastered')),"
            "       count(*) FROM user_progress"
        ).fetchone()
        assert row is not None
        mastered, completed, total = row
        assert 0 < mastered < completed < total
        row = conn.execute(
            "SELECT count(DISTINCT t.user_id) FROM assessment_attempts t"
            " JOIN assessments a ON a.id = t.assessment_id"
            " WHERE a.assessment_type = 'practice_exam'"
        ).fetchone()
        assert row is not None and 0 < row[0] < 300
        # Slow learners run out of time on the short practice exam: graded all the same.
        statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM assessment_attempts")}
        assert statuses == {"completed", "timed_out"}
        # Nothing of the unpublished assessment; question statistics count the answers.
        row = conn.execute(
            "SELECT (SELECT count(*) FROM assessment_attempts t JOIN assessments a"
            "         ON a.id = t.assessment_id WHERE NOT a.is_published),"
            "       (SELECT sum(usage_count) FROM question_bank)"
            "     - (SELECT count(*) FROM assessment_answers)"
        ).fetchone()
        assert row == (0, 0)
        # The history earns exactly the achievements it holds: the database's own function
        # finds nothing more to award (manual ones aside).
        with conn.transaction(force_rollback=True):
            row = conn.execute(
                "SELECT count(*) FROM users u CROSS JOIN achievements a"
                " WHERE a.criteria <> '{}' AND check_and_award_achievement(u.id, a.code)"
            ).fetchone()
            assert row == (0,)
    assert any("1,000 users" in m for m in messages)
    assert "assessment_answers" in str(result)


def test_a_second_load_is_refused_and_changes_nothing(scale_db: Target) -> None:
    _load(scale_db, users=40)
    before = _checksums(scale_db)
    with pytest.raises(ScaleDataExists, match=r"scale data already loaded in database .*: 40 "):
        _load(scale_db, users=40)
    with pytest.raises(ScaleDataExists, match=r"To start over: `netplus-db migrate reset`"):
        _load(scale_db, users=10, random_seed=99)
    assert _checksums(scale_db) == before


def test_check_can_load_refuses_what_the_load_would_refuse(
    scale_db: Target, empty_db: Target
) -> None:
    check_can_load(scale_db)  # the catalog only: a load may go ahead
    check_can_load(empty_db)  # not migrated: left to the seed, which says so
    _load(scale_db, users=2000)
    with pytest.raises(ScaleDataExists) as refused:
        check_can_load(scale_db)
    message = str(refused.value)
    assert f"database {scale_db.dbname}: 2,000 synthetic users" in message
    assert "(what `seed --scale 2` loads)" in message and "@scale.test" in message
    assert "nothing was changed" in message and "`netplus-db migrate reset`" in message


def test_a_role_that_cannot_copy_is_refused_before_anything_is_written(
    scale_db: Target, server: Server
) -> None:
    role = fresh_name("scale_plain_role")
    with connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        as_role = Target({**scale_db.params, "user": role}, scale_db.source)
        with pytest.raises(NotPrivileged, match=rf"role {role} .*superuser \(or a BYPASSRLS"):
            check_can_load(as_role)
        with pytest.raises(NotPrivileged):
            _load(as_role, users=10)
    finally:
        with connect(server.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    assert _checksums(scale_db)["users"][0] == 0


def test_an_empty_catalog_is_a_clear_error(db: Target) -> None:
    with pytest.raises(CatalogEmpty, match=r"run `netplus-db seed` first"):
        _load(db, users=10)
    with connect(db, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM users").fetchone()
    assert row == (0,)


def test_report_and_progress(scale_db: Target) -> None:
    result, messages, progress = _load(scale_db, users=30, random_seed=3)
    assert [t.table for t in result.tables] == list(TABLE_NAMES)
    assert result.total_rows == sum(t.rows for t in result.tables) > 30
    assert result.seconds > 0 and result.rows_per_second > 0
    text = str(result)
    for name in TABLE_NAMES:
        assert name in text
    assert "total" in text and messages[-1] == text
    assert len(messages) == 2 and messages[0].startswith("Loading scale data: 30 users")
    # A quick load (under QUIET_FOR seconds) shows no progress at all.
    assert progress == ""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_piped_progress_is_one_line_per_step_with_rate_and_eta(scale_db: Target) -> None:
    """Blocks of 1000 users: 2500 users reach 40 %, 80 % and 100 %, each said once."""
    result, messages, progress = _load(scale_db, users=2500, quiet_for=0)
    lines = progress.splitlines()
    assert [line.split(":")[1].split("%")[0].strip() for line in lines] == ["40", "80", "100"]
    assert lines[0].startswith("seed --scale: 40% (1,000 users of 2,500 users, ")
    assert all(" users/s, ETA " in line for line in lines)
    assert lines[-1].endswith("ETA 0:00)")
    assert "\x1b[" not in progress and "\r" not in progress
    assert [m for m in messages if "total (wall clock)" in m] == [str(result)]


def test_a_one_block_load_says_its_progress_once(scale_db: Target) -> None:
    """Piped `seed --scale 1` used to repeat the same line nine times."""
    _, _, progress = _load(scale_db, thousands=1, quiet_for=0)
    assert progress.splitlines() == [progress.splitlines()[0]]
    assert progress.startswith("seed --scale: 100% (1,000 users of 1,000 users, ")


def test_a_terminal_gets_a_live_line(scale_db: Target) -> None:
    terminal = _Terminal()
    load_scale(scale_db, thousands=0, users=1500, report=lambda _: None, progress=terminal,
               quiet_for=0)  # fmt: skip
    shown = terminal.getvalue()
    assert shown.startswith("\r\x1b[Kseed --scale: ") and shown.endswith("\n")
    assert shown.count("\n") == 1  # one line, redrawn in place, ended once
    assert "seed --scale: 100% (1,500 users of 1,500 users, " in shown and "ETA" in shown


def test_the_meter_counts_users_as_well_as_bytes() -> None:
    now = [0.0]
    lines: list[str] = []
    meter = Meter("seed --scale", 10_000, lines.append, amount=counted("users"),
                  clock=lambda: now[0])  # fmt: skip
    now[0] = 4.0
    meter.update(2_000)
    assert lines == ["seed --scale: 20% (2,000 users of 10,000 users, 500 users/s, ETA 0:16)"]
    assert terminal_line(io.StringIO()) is None


def test_replica_mode_loads_the_same_rows(server: Server, catalog: str) -> None:
    targets = [server.database(fresh_name("scale")) for _ in range(2)]
    try:
        for target in targets:
            create_database(target, template=catalog)
        _load(targets[0], users=50, random_seed=5)
        _load(targets[1], users=50, random_seed=5, replica=True)
        assert _checksums(targets[0]) == _checksums(targets[1])
    finally:
        for target in targets:
            drop_database(target)
