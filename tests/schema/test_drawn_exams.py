"""Practice exams drawn per attempt (migration 0018), on the shipped question bank.

The module seeds one database with the real bank and practice exam; each test works in a
transaction rolled back afterwards. Learners start attempts as `as_user` does (role app_user,
app.user_id set); the checks read as the superuser. The blueprint figures come from
seed/blueprint.json and the Python `draw_quotas` of the seed loader, not from the SQL under test.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from netplus_db.connection import connect, create_database, drop_database
from netplus_db.ops.seed import draw_quotas, seed_database
from netplus_db.querylayer import query
from tests.schema.test_rls_and_roles import as_app_user
from tests.support import factories as f
from tests.support.factories import Conn
from tests.support.server import REPO, Server, fresh_name

EXAM = "practice-exam-n10-009"
BLUEPRINT = json.loads((REPO / "seed" / "blueprint.json").read_text())
SPLIT = {d["code"]: d["practice_exam_items"] for d in BLUEPRINT["domains"]}
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Question:
    domain: str
    objective: str
    question_type: str
    difficulty: str


@dataclass(frozen=True)
class Bank:
    """The seeded database's published questions and its practice exam."""

    questions: dict[UUID, Question]
    exam: UUID
    min_simulations: int
    avoid_recent: int


@pytest.fixture(scope="module")
def seeded_conn(server: Server, template: str) -> Iterator[Conn]:
    target = server.database(fresh_name("drawn"))
    create_database(target, template=template)
    try:
        seed_database(target, allow_demo_accounts=True, report=lambda _line: None)
        with connect(target) as connection:
            yield connection
            connection.rollback()
    finally:
        drop_database(target)


@pytest.fixture
def db(seeded_conn: Conn) -> Iterator[Conn]:
    """The seeded database in a transaction rolled back after the test."""
    yield seeded_conn
    seeded_conn.rollback()


@pytest.fixture(scope="module")
def bank(seeded_conn: Conn) -> Bank:
    questions = {
        r["id"]: Question(r["domain"], r["subdomain"], r["question_type"], r["difficulty_level"])
        for r in f.rows(
            seeded_conn,
            "SELECT id, domain, subdomain, question_type, difficulty_level FROM question_bank"
            " WHERE is_published AND deleted_at IS NULL",
        )
    }
    (exam,) = f.rows(
        seeded_conn,
        "SELECT id, draw_split, draw_size, draw_min_simulations, draw_avoid_recent"
        " FROM assessments WHERE slug = %s",
        [EXAM],
    )
    seeded_conn.rollback()
    assert exam["draw_split"] == SPLIT and exam["draw_size"] == BLUEPRINT["questions"]
    return Bank(questions, exam["id"], exam["draw_min_simulations"], exam["draw_avoid_recent"])


def start(conn: Conn, user: UUID, assessment: UUID) -> dict[str, Any]:
    """Start an attempt as the learner; the stored attempt row, read as the superuser."""
    as_app_user(conn, user)
    row = conn.execute("SELECT id FROM start_attempt(%s)", [assessment]).fetchone()
    conn.execute("RESET ROLE")
    assert row is not None, "no attempt started"
    stored = f.fetch(conn, "assessment_attempts", row[0])
    assert stored is not None
    return stored


def abandon(conn: Conn, user: UUID, attempt: UUID) -> None:
    as_app_user(conn, user)
    assert conn.execute("SELECT id FROM abandon_attempt(%s)", [attempt]).fetchone() is not None
    conn.execute("RESET ROLE")


def spread_evenly(counts: Counter[str], available: Counter[str]) -> list[str]:
    """Round-robin evidence: two groups differ by more than one only when the smaller one has
    nothing left. Returns the groups that break it."""
    return [
        f"{a}={counts[a]} > {b}={counts[b]} + 1 with {b} not exhausted ({available[b]})"
        for a in available
        for b in available
        if counts[a] > counts[b] + 1 and counts[b] < available[b]
    ]


def blueprint_problems(order: list[UUID], bank: Bank, minimum: int) -> list[str]:
    """Everything a drawn practice exam breaks: size, domain split, simulations, repeats,
    objective and difficulty balance."""
    picked = [bank.questions[q] for q in order]
    problems = []
    if len(set(order)) != len(order):
        problems.append("a question twice")
    domains = Counter(q.domain for q in picked)
    if domains != Counter(SPLIT):
        problems.append(f"domains {dict(domains)}")
    sims = sum(q.question_type == "simulation" for q in picked)
    if sims < minimum:
        problems.append(f"{sims} simulations")
    for domain in SPLIT:
        available = Counter(q.objective for q in bank.questions.values() if q.domain == domain)
        counts = Counter(q.objective for q in picked if q.domain == domain)
        problems += spread_evenly(counts, available)
    for objective in {q.objective for q in bank.questions.values()}:
        available = Counter(
            q.difficulty for q in bank.questions.values() if q.objective == objective
        )
        counts = Counter(q.difficulty for q in picked if q.objective == objective)
        problems += [f"{objective}: {p}" for p in spread_evenly(counts, available)]
    return problems


# --- the blueprint -----------------------------------------------------------------------------


def test_quotas_at_90_are_the_blueprint_split(db: Conn) -> None:
    found = dict(db.execute("SELECT * FROM draw_quotas(%s, 90)", [Jsonb(SPLIT)]).fetchall())
    assert found == SPLIT == {"1.0": 21, "2.0": 18, "3.0": 17, "4.0": 13, "5.0": 21}


@PROPERTY
@given(
    weights=st.dictionaries(
        st.sampled_from([f"{n}.0" for n in range(1, 10)]), st.integers(1, 1000), min_size=1
    ),
    size=st.integers(1, 1000),
)
def test_quotas_are_the_largest_remainder_split(
    db: Conn, weights: dict[str, int], size: int
) -> None:
    found = dict(db.execute("SELECT * FROM draw_quotas(%s, %s)", [Jsonb(weights), size]).fetchall())
    assert found == draw_quotas(weights, size)
    assert sum(found.values()) == size
    total = sum(weights.values())
    for domain, weight in weights.items():  # each within one of its exact share
        assert abs(found[domain] - size * weight / total) < 1


def test_a_hundred_drawn_practice_exams_follow_the_blueprint(db: Conn, bank: Bank) -> None:
    assert bank.min_simulations >= 3
    orders = []
    for _ in range(100):
        attempt = start(db, f.user(db), bank.exam)
        order = attempt["question_order"]
        assert blueprint_problems(order, bank, bank.min_simulations) == [], attempt["draw_seed"]
        assert attempt["draw_seed"] is not None and attempt["option_order"] is not None
        orders.append(tuple(order))
    # Every learner got an exam of its own, not one exam in a hundred orders.
    assert len(set(orders)) == 100
    assert len({frozenset(o) for o in orders}) > 90
    # And the simulations are not always the same few.
    sims = {q for o in orders for q in o if bank.questions[q].question_type == "simulation"}
    assert len(sims) > 2 * bank.min_simulations


@PROPERTY
@given(size=st.integers(1, 90), minimum=st.integers(0, 5), seed=st.integers(0, 2**63 - 1))
def test_any_size_draws_the_scaled_split_and_the_simulation_minimum(
    db: Conn, bank: Bank, size: int, minimum: int, seed: int
) -> None:
    minimum = min(minimum, size)
    user = f.user(db)
    with db.transaction(force_rollback=True):
        db.execute(
            "UPDATE assessments SET draw_size = %s, draw_min_simulations = %s WHERE id = %s",
            [size, minimum, bank.exam],
        )
        drawn = [
            r[0]
            for r in db.execute(
                "SELECT question_id FROM draw_questions(%s, %s, %s) ORDER BY draw_rank",
                [bank.exam, user, seed],
            ).fetchall()
        ]
    picked = [bank.questions[q] for q in drawn]
    assert len(set(drawn)) == len(drawn) == size
    expected = {d: n for d, n in draw_quotas(SPLIT, size).items() if n}
    assert Counter(q.domain for q in picked) == expected
    assert sum(q.question_type == "simulation" for q in picked) >= minimum


# --- reproducible ------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_exam(db: Conn, bank: Bank) -> None:
    attempts = [start(db, f.user(db), bank.exam) for _ in range(5)]
    for attempt in attempts:
        again = f.rows(
            db,
            "SELECT question_order, option_order FROM draw_attempt(%s, %s, %s)",
            [bank.exam, f.user(db), attempt["draw_seed"]],  # another learner, same history
        )
        assert again == [
            {"question_order": attempt["question_order"], "option_order": attempt["option_order"]}
        ]
    seeds = [a["draw_seed"] for a in attempts]
    assert len(set(seeds)) == 5
    one, other = f.user(db), f.user(db)
    query = "SELECT draw_attempt(%s, %s, %s)::text"
    assert f.scalar(db, query, [bank.exam, one, 7]) == f.scalar(db, query, [bank.exam, other, 7])
    assert f.scalar(db, query, [bank.exam, one, 7]) != f.scalar(db, query, [bank.exam, one, 8])


def test_fixed_assessments_shuffle_by_the_seed_too(db: Conn) -> None:
    quiz = f.scalar(db, "SELECT id FROM assessments WHERE slug = 'quiz-domain-1'")
    ids = f.scalar(db, "SELECT question_ids FROM assessments WHERE id = %s", [quiz])
    attempt = start(db, f.user(db), quiz)
    assert sorted(attempt["question_order"]) == sorted(ids) and attempt["option_order"] is None
    again = f.scalar(
        db,
        "SELECT question_order FROM draw_attempt(%s, %s, %s)",
        [quiz, f.user(db), attempt["draw_seed"]],
    )
    assert again == attempt["question_order"]


def test_each_questions_option_order_is_computed_once_per_draw(db: Conn, bank: Bank) -> None:
    """option_order_for runs once per drawn question and once per part of a drawn simulation
    (0023: before it, the planner pulled draw_attempt's subquery up and ran it twice)."""
    db.execute("SET LOCAL track_functions = 'all'")
    order = f.scalar(
        db, "SELECT question_order FROM draw_attempt(%s, %s, 7)", [bank.exam, f.user(db)]
    )
    parts = f.scalar(
        db,
        "SELECT coalesce(sum(jsonb_array_length(question_data -> 'parts')), 0) FROM question_bank"
        " WHERE id = ANY (%s) AND question_type = 'simulation'",
        [order],
    )
    calls = f.scalar(
        db, "SELECT calls FROM pg_stat_xact_user_functions WHERE funcname = 'option_order_for'"
    )
    assert parts > 0  # the draw holds simulations, whose parts are ordered too
    assert calls == len(order) + parts


# --- the learner's history ---------------------------------------------------------------------


def test_the_last_attempts_come_back_only_where_the_bank_has_no_others(
    db: Conn, bank: Bank
) -> None:
    # The simulation minimum aside (it comes first: test below), so the counts are exact.
    db.execute(
        "UPDATE assessments SET draw_min_simulations = 0, draw_avoid_recent = 2 WHERE id = %s",
        [bank.exam],
    )
    user = f.user(db)
    taken: list[set[UUID]] = []
    for _ in range(3):
        attempt = start(db, user, bank.exam)
        abandon(db, user, attempt["id"])
        taken.append(set(attempt["question_order"]))
    first, second, third = taken
    assert first.isdisjoint(second)  # every domain holds twice its quota
    recent = first | second
    for domain, quota in SPLIT.items():
        pool = {q for q, meta in bank.questions.items() if meta.domain == domain}
        again = len(third & recent & pool)
        assert again == max(0, quota - len(pool - recent)), domain
    assert len(third & recent) > 0  # domain 4.0: 33 questions, 26 already drawn, 13 places


def test_unseen_questions_come_first(db: Conn) -> None:
    questions = [
        f.question(db, domain="9.0", subdomain="9.1", question_type="true_false",
                   question_data={}, correct_answer={"value": True})
        for _ in range(4)
    ]  # fmt: skip
    quiz = f.assessment(
        db, draw_split=Jsonb({"9.0": 1}), draw_size=2, question_ids=[], randomize_answers=True
    )
    user = f.user(db)
    first = set(start(db, user, quiz)["question_order"])
    second = set(start(db, user, quiz)["question_order"])
    assert first.isdisjoint(second) and first | second == set(questions)


def test_questions_due_for_review_come_before_unseen_ones(db: Conn) -> None:
    questions = [
        f.question(db, domain="9.0", subdomain="9.1", question_type="true_false",
                   question_data={}, correct_answer={"value": True})
        for _ in range(4)
    ]  # fmt: skip
    quiz = f.assessment(db, draw_split=Jsonb({"9.0": 1}), draw_size=2, question_ids=[])
    user = f.user(db)
    first = start(db, user, quiz)["question_order"]
    due, not_due = first  # both seen; one is due in the review schedule, one is not yet
    db.execute(
        "INSERT INTO review_cards (user_id, question_id, due) VALUES"
        " (%(u)s, %(due)s, now() - interval '1 hour'),"
        " (%(u)s, %(later)s, now() + interval '1 day')",
        {"u": user, "due": due, "later": not_due},
    )
    second = start(db, user, quiz)["question_order"]
    unseen = set(questions) - set(first)
    assert due in second and not_due not in second  # due first, then unseen, then the rest
    assert len(set(second) & unseen) == 1


def test_the_simulation_minimum_comes_before_everything_else(db: Conn) -> None:
    plain = [f.question(db, domain="8.0", subdomain="8.1") for _ in range(6)]
    sims = [f.question(db, domain="8.0", subdomain="8.2", question_type="simulation")
            for _ in range(2)]  # fmt: skip
    quiz = f.assessment(
        db,
        draw_split=Jsonb({"8.0": 1}),
        draw_size=3,
        draw_min_simulations=2,
        draw_avoid_recent=5,
    )
    user = f.user(db)
    for _ in range(3):  # the simulations again and again, though recent
        order = start(db, user, quiz)["question_order"]
        assert set(sims) <= set(order) and len(set(order) & set(plain)) == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"draw_split": {"6.0": 1}, "draw_size": 3}, "domain 6.0 has 0 published question(s)"),
        ({"draw_split": {"7.0": 1}, "draw_size": 6}, "domain 7.0 has 5 published question(s)"),
        (
            {"draw_split": {"7.0": 1}, "draw_size": 3, "draw_min_simulations": 2},
            "1 simulation(s) fit its domains' places, not 2",
        ),
    ],
)
def test_a_bank_that_cannot_fill_the_draw_is_an_error_naming_it(
    db: Conn, settings: dict[str, Any], message: str
) -> None:
    f.question(db, domain="7.0", subdomain="7.1", question_type="simulation")
    for _ in range(4):
        f.question(db, domain="7.0", subdomain="7.1")
    values = {k: Jsonb(v) if k == "draw_split" else v for k, v in settings.items()}
    quiz = f.assessment(db, slug="cannot-fill", **values)
    before = f.scalar(db, "SELECT count(*) FROM assessment_attempts")
    with pytest.raises(psycopg.Error) as failed, db.transaction():
        start(db, f.user(db), quiz)
    assert failed.value.sqlstate == "NP002"
    assert message in str(failed.value) and "cannot-fill" in str(failed.value)
    assert f.scalar(db, "SELECT count(*) FROM assessment_attempts") == before


@pytest.mark.parametrize(
    "settings",
    [
        {"draw_split": {"1.0": 1}},  # no size
        {"draw_size": 5},  # no split
        {"draw_split": {}, "draw_size": 5},
        {"draw_split": {"1.0": 0}, "draw_size": 5},
        {"draw_split": {"1.0": 1.5}, "draw_size": 5},
        {"draw_split": {"1.0": "2"}, "draw_size": 5},
        {"draw_split": [1], "draw_size": 5},
        {"draw_split": {"1.0": 1}, "draw_size": 0},
        {"draw_split": {"1.0": 1}, "draw_size": 2, "draw_min_simulations": 3},
        {"draw_min_simulations": 1},
        {"draw_split": {"1.0": 1}, "draw_size": 2, "draw_avoid_recent": -1},
    ],
)
def test_draw_settings_are_checked(db: Conn, settings: dict[str, Any]) -> None:
    values = {k: Jsonb(v) if k == "draw_split" else v for k, v in settings.items()}
    with pytest.raises(psycopg.errors.CheckViolation), db.transaction():
        f.assessment(db, **values)


# --- order -------------------------------------------------------------------------------------


def option_ids(data: Any) -> list[Any]:
    """Every option and choice id of a question's data, parts included, in the order shown."""
    ids = [o["id"] for key in ("options", "choices") for o in data.get(key, [])]
    for part in data.get("parts", []):
        ids += [f"{part['id']}/{i}" for i in option_ids(part["data"])]
    return ids


def test_options_are_shown_in_the_stored_order_and_grade_by_identity(db: Conn, bank: Bank) -> None:
    attempt = start(db, f.user(db), bank.exam)
    shown = f.rows(
        db,
        "SELECT q.id, q.question_type, q.question_data AS defined, q.correct_answer, q.points,"
        "       question_data_in_order(q.question_data, %s -> q.id::text) AS shown"
        "  FROM question_bank q WHERE q.id = ANY (%s)",
        [Jsonb(attempt["option_order"]), attempt["question_order"]],
    )
    moved = 0
    for q in shown:
        defined, shown_data = option_ids(q["defined"]), option_ids(q["shown"])
        assert sorted(defined) == sorted(shown_data)  # the same options, maybe moved
        moved += defined != shown_data
        # Everything but the order is as defined.
        assert q["shown"].keys() == q["defined"].keys()
        assert q["question_type"] not in ("true_false", "fill_blank") or q["shown"] == q["defined"]
        # Stored for every question with options to order (a simulation of fill-in parts
        # has none).
        assert (str(q["id"]) in attempt["option_order"]) == bool(defined), attempt["draw_seed"]
    assert moved > len(shown) / 3
    # Grading reads options by id: the shown order grades every answer as the defined one.
    different = f.scalar(
        db,
        """
        SELECT count(*)
          FROM question_bank q
         CROSS JOIN LATERAL (SELECT question_data_in_order(q.question_data,
                                                           %s -> q.id::text) AS data) AS s
         CROSS JOIN LATERAL (VALUES (q.correct_answer),
                                    (jsonb_build_object('option', 'a')),
                                    (jsonb_build_object('options', jsonb_build_array('a', 'b'))))
               AS answer(value)
         CROSS JOIN LATERAL grade_answer_or_skip(q.question_type, q.question_data,
                                                 q.correct_answer, answer.value, q.points) AS g1
         CROSS JOIN LATERAL grade_answer_or_skip(q.question_type, s.data,
                                                 q.correct_answer, answer.value, q.points) AS g2
         WHERE q.id = ANY (%s) AND (g1.*) IS DISTINCT FROM (g2.*)
        """,
        [Jsonb(attempt["option_order"]), attempt["question_order"]],
    )
    assert different == 0


def test_an_order_naming_options_that_changed_keeps_every_current_option(db: Conn) -> None:
    data = {"options": [{"id": x, "text": x.upper()} for x in "abcd"]}
    order = {"options": ["d", "gone", "b"]}
    shown = f.scalar(db, "SELECT question_data_in_order(%s, %s)", [Jsonb(data), Jsonb(order)])
    assert [o["id"] for o in shown["options"]] == ["d", "b", "a", "c"]
    for nothing in (None, {}, {"choices": ["x"]}):
        again = f.scalar(db, "SELECT question_data_in_order(%s, %s)", [Jsonb(data), Jsonb(nothing)])
        assert again == data


def test_resume_and_review_show_the_order_the_attempt_began_with(db: Conn, bank: Bank) -> None:
    user = f.user(db)
    attempt = start(db, user, bank.exam)
    questions = query("assessments", "attempt_questions").sql
    as_app_user(db, user)
    shown = [
        f.rows(db, questions, {"attempt_id": attempt["id"], "user_id": user}) for _ in range(2)
    ]
    assert shown[0] == shown[1]  # resuming: the same questions, options in the same order
    assert [r["id"] for r in shown[0]] == attempt["question_order"]
    db.execute(
        "SELECT id FROM save_answer(%s, %s, NULL, 5, true)", [attempt["id"], shown[0][0]["id"]]
    )
    assert db.execute("SELECT * FROM submit_attempt(%s)", [attempt["id"]]).fetchone()
    review = f.rows(
        db, "SELECT question_id, question_data FROM review_attempt(%s)", [attempt["id"]]
    )
    db.execute("RESET ROLE")
    assert [(r["question_id"], r["question_data"]) for r in review] == [
        (s["id"], s["question_data"]) for s in shown[0]
    ]


# --- a learner cannot forge a draw -------------------------------------------------------------

FORGERIES = {
    "choose_own_questions": (
        "UPDATE assessment_attempts SET question_order = (SELECT array_agg(id)"
        " FROM question_bank WHERE difficulty_level = 'beginner') WHERE user_id = %(user)s"
    ),
    "unshuffle_options": "UPDATE assessment_attempts SET option_order = NULL",
    "replay_a_seed": "UPDATE assessment_attempts SET draw_seed = 7",
    "insert_own_draw": (
        "INSERT INTO assessment_attempts (user_id, assessment_id, attempt_number, question_order,"
        " draw_seed) VALUES (%(user)s, %(exam)s, 50, ARRAY[]::uuid[], 7)"
    ),
    "undraw_the_exam": "UPDATE assessments SET draw_split = NULL, draw_size = NULL",
    "no_simulations": "UPDATE assessments SET draw_min_simulations = 0",
    "draw_for_a_seed": "SELECT * FROM draw_attempt(%(exam)s, %(user)s, 7)",
    "draw_questions": "SELECT * FROM draw_questions(%(exam)s, %(user)s, 7)",
    "read_the_ranking": "SELECT * FROM draw_candidates(%(exam)s, %(user)s, 7)",
    "shuffle_own_options": "SELECT option_order_for('x', 'multiple_choice', '{}', 7)",
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_learner_cannot_forge_its_draw(db: Conn, bank: Bank, forgery: str) -> None:
    user = f.user(db)
    attempt = start(db, user, bank.exam)
    before = f.rows(db, "SELECT * FROM assessment_attempts ORDER BY id")
    exam_before = f.fetch(db, "assessments", bank.exam)
    as_app_user(db, user)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
        db.execute(FORGERIES[forgery], {"user": user, "exam": bank.exam})
    db.execute("RESET ROLE")
    assert f.rows(db, "SELECT * FROM assessment_attempts ORDER BY id") == before
    assert f.fetch(db, "assessments", bank.exam) == exam_before
    assert f.fetch(db, "assessment_attempts", attempt["id"]) == attempt


def test_answers_to_questions_outside_the_draw_are_refused(db: Conn, bank: Bank) -> None:
    user = f.user(db)
    attempt = start(db, user, bank.exam)
    outside = next(q for q in bank.questions if q not in attempt["question_order"])
    inside = attempt["question_order"][0]
    as_app_user(db, user)
    with (
        pytest.raises(psycopg.errors.InvalidParameterValue, match="not a question of this attempt"),
        db.transaction(),
    ):
        db.execute("SELECT * FROM save_answer(%s, %s, '{}', 1, false)", [attempt["id"], outside])
    assert db.execute(
        "SELECT * FROM save_answer(%s, %s, NULL, 1, false)", [attempt["id"], inside]
    ).fetchone()
    db.execute("RESET ROLE")
    saved = f.rows(
        db, "SELECT question_id FROM assessment_answers WHERE attempt_id = %s", [attempt["id"]]
    )
    assert saved == [{"question_id": inside}]


def test_a_learner_reading_its_attempt_sees_its_draw_and_no_other(db: Conn, bank: Bank) -> None:
    alice, bob = f.user(db), f.user(db)
    mine = start(db, alice, bank.exam)
    start(db, bob, bank.exam)
    as_app_user(db, alice)
    seen = f.rows(db, "SELECT id, draw_seed, option_order FROM assessment_attempts")
    db.execute("RESET ROLE")
    assert seen == [
        {"id": mine["id"], "draw_seed": mine["draw_seed"], "option_order": mine["option_order"]}
    ]
