"""Migration 0019: mastery per objective, readiness, the FSRS review schedule, item statistics,
the per-objective score report and the instructors' reads, in the database itself.

Every estimate and statistic is checked against a case worked out by hand (the arithmetic is
in the comments), the mastery model against its properties (hypothesis), and the scheduler
against the `fsrs` package it ports, step by step over random review sequences.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from uuid import UUID

import fsrs
import fsrs.scheduler
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.types.json import Jsonb

from tests.schema.test_rls_and_roles import as_app_user, set_role, set_user
from tests.support import factories as f
from tests.support.factories import Conn
from tests.support.server import REPO

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
Z90 = 1.6448536269514722  # the 95th percentile of the standard normal


# --- building blocks ---------------------------------------------------------------------------


def quiz(conn: Conn, objectives: Sequence[Sequence[str]], **settings: Any) -> list[UUID]:
    """An assessment of true/false questions (key: true, 1 point), one per objective list;
    returns [assessment id, question ids...]."""
    questions = [
        f.question(
            conn,
            question_type="true_false",
            question_data={},
            correct_answer={"value": True},
            comptia_objectives=list(codes),
            points=1,
        )
        for codes in objectives
    ]
    return [f.assessment(conn, question_ids=questions, **settings), *questions]


def take(conn: Conn, user: UUID, assessment: UUID, answers: Sequence[bool | None]) -> UUID:
    """Start, answer (True: right, False: wrong, None: not answered) and submit an attempt as
    the learner (app_user), in the order of the assessment's questions."""
    as_app_user(conn, user)
    row = conn.execute("SELECT id FROM start_attempt(%s)", [assessment]).fetchone()
    assert row is not None
    attempt = row[0]
    order = f.scalar(conn, "SELECT question_ids FROM assessments WHERE id = %s", [assessment])
    for question, answer in zip(order, answers, strict=True):
        if answer is not None:
            conn.execute(
                "SELECT id FROM save_answer(%s, %s, %s, 5, false)",
                [attempt, question, Jsonb({"value": answer})],
            )
    conn.execute("SELECT id FROM submit_attempt(%s)", [attempt])
    conn.execute("RESET ROLE")
    assert isinstance(attempt, UUID)
    return attempt


def mastery_rows(conn: Conn, user: UUID) -> dict[str, dict[str, Any]]:
    rows = f.rows(
        conn,
        "SELECT o.code AS objective_code, m.* FROM objective_mastery m"
        " JOIN exam_objectives o ON o.id = m.objective_id WHERE m.user_id = %s",
        [user],
    )
    return {r["objective_code"]: r for r in rows}


def estimate(conn: Conn, s: float, fails: float, age: float = 0.0) -> dict[str, float]:
    return f.rows(conn, "SELECT * FROM mastery_estimate(%s, %s, %s)", [s, fails, age])[0]


# --- the mastery model -------------------------------------------------------------------------


def test_the_blueprint_in_the_database_is_the_seeds(tx: Conn) -> None:
    """Migration 0019 writes the N10-009 blueprint into exam_blueprints, exam_domains and
    exam_objectives (mastery needs it on any database, seeded or not); the seed loader and its
    linter read seed/blueprint.json. The two statements of it must not drift apart."""
    seed = json.loads((REPO / "seed" / "blueprint.json").read_text())
    (exam,) = f.rows(tx, "SELECT * FROM exam_blueprints WHERE is_current")
    facts = ("code", "name", "question_count", "minutes", "passing_score", "scale_min", "scale_max")
    in_seed = ("exam", "name", "questions", "minutes", "passing_score")
    assert [exam[c] for c in facts] == [*(seed[k] for k in in_seed), *seed["scale"]]
    domains = f.rows(
        tx,
        "SELECT code, name, weight, exam_items FROM exam_domains WHERE blueprint_id = %s"
        " ORDER BY code",
        [exam["id"]],
    )
    assert [(d["code"], d["name"], d["weight"], d["exam_items"]) for d in domains] == [
        (d["code"], d["name"], d["weight"], d["practice_exam_items"]) for d in seed["domains"]
    ]
    objectives = f.rows(
        tx,
        "SELECT d.code AS domain, o.code, o.name, o.scenario FROM exam_objectives o"
        " JOIN exam_domains d ON d.id = o.domain_id WHERE d.blueprint_id = %s ORDER BY o.code",
        [exam["id"]],
    )
    assert [(o["domain"], o["code"], o["name"], o["scenario"]) for o in objectives] == [
        (d["code"], o["code"], o["name"], o["scenario"])
        for d in seed["domains"]
        for o in d["objectives"]
    ]


def test_mastery_estimates_worked_by_hand(tx: Conn) -> None:
    # No evidence: the prior Beta(1, 1): mean 1/2, variance 1*1 / (2^2 * 3) = 1/12.
    prior = estimate(tx, 0, 0)
    assert prior["mean"] == pytest.approx(0.5) and prior["variance"] == pytest.approx(1 / 12)
    # 3 right, 1 wrong, today: Beta(4, 2): mean 4/6, variance 4*2 / (6^2 * 7) = 8/252.
    fresh = estimate(tx, 3, 1)
    assert fresh["mean"] == pytest.approx(4 / 6) and fresh["variance"] == pytest.approx(8 / 252)
    # 4 right, 60 days old (one half-life): 2 right remain: Beta(3, 1): mean 3/4,
    # variance 3 / (16 * 5).
    old = estimate(tx, 4, 0, 60)
    assert old["mean"] == pytest.approx(0.75) and old["variance"] == pytest.approx(3 / 80)
    # The interval of the prior: logit ~ N(0, 2 * pi^2/6); 1 / (1 + e^(1.6449 * 1.8138)) = 0.0482.
    assert prior["lower"] == pytest.approx(1 / (1 + math.exp(Z90 * math.sqrt(math.pi**2 / 3))))
    assert prior["upper"] == pytest.approx(1 - prior["lower"])
    assert f.scalar(tx, "SELECT mastery_decay(120)") == pytest.approx(0.25)
    assert f.scalar(tx, "SELECT mastery_decay(-5)") == 1


def beta_quantile(p: float, a: int, b: int) -> float:
    """The exact quantile of Beta(a, b) for whole a, b: its CDF is a binomial tail."""

    def cdf(x: float) -> float:
        n = a + b - 1
        return sum(math.comb(n, j) * x**j * (1 - x) ** (n - j) for j in range(a, n + 1))

    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize(("a", "b"), [(2, 2), (5, 2), (2, 9), (10, 10), (30, 4), (3, 25)])
def test_the_interval_is_close_to_the_exact_beta_quantiles(tx: Conn, a: int, b: int) -> None:
    """The log-odds normal approximation: within 0.036 of the exact 5 % and 95 % quantiles
    once both parameters are at least 2 (docs/learning-intelligence.md)."""
    got = estimate(tx, a - 1, b - 1)
    assert got["lower"] == pytest.approx(beta_quantile(0.05, a, b), abs=0.036)
    assert got["upper"] == pytest.approx(beta_quantile(0.95, a, b), abs=0.036)


evidence = st.floats(min_value=0, max_value=500, allow_nan=False)
ages = st.floats(min_value=0, max_value=3650, allow_nan=False)


@settings(PROPERTY)
@given(s=evidence, fails=evidence, age=ages, more=st.floats(min_value=0.01, max_value=50))
def test_mastery_stays_in_bounds_and_more_correct_never_lowers_it(
    shared: Conn, s: float, fails: float, age: float, more: float
) -> None:
    shared.rollback()
    got = estimate(shared, s, fails, age)
    assert 0 < got["lower"] <= got["mean"] <= got["upper"] < 1
    assert 0 < got["variance"] <= 1 / 12 + 1e-12
    # More credit earned (or a wrong answer turned right) never lowers the estimate.
    assert estimate(shared, s + more, fails, age)["mean"] >= got["mean"]
    turned = min(more, fails)
    assert estimate(shared, s + turned, fails - turned, age)["mean"] >= got["mean"] - 1e-12
    # Time pulls it towards the prior's 1/2, never past it.
    later = estimate(shared, s, fails, age + 30)["mean"]
    # Evidence under 1e-9 answers counts as none (mastery_decayed), each side on its own: when
    # only one side drops under it the mean steps by at most ~1e-9 the other way.
    assert min(got["mean"], 0.5) - 1e-8 <= later <= max(got["mean"], 0.5) + 1e-8


def test_submit_adds_an_attempt_to_mastery_incrementally(tx: Conn) -> None:
    learner = f.user(tx)
    assessment, *_ = quiz(tx, [["1.1"], ["1.1"], ["1.1", "1.4"], ["1.4"], []])
    take(tx, learner, assessment, [True, False, True, None, True])
    # 1.1: right, wrong, right -> s 2, f 1; 1.4: right (shared question), unanswered -> 1, 1;
    # the last question has no objective.
    rows = mastery_rows(tx, learner)
    assert {
        k: (r["successes"], r["failures"], r["answers"], r["correct_answers"])
        for k, r in rows.items()
    } == {"1.1": (2, 1, 3, 2), "1.4": (1, 1, 2, 1)}
    # Sixty days later (one half-life) the same quiz again, all right: 2 * 1/2 + 3, 1 * 1/2 + 0.
    tx.execute(
        "UPDATE objective_mastery SET evidence_at = evidence_at - interval '60 days'"
        " WHERE user_id = %s",
        [learner],
    )
    take(tx, learner, assessment, [True, True, True, True, True])
    again = mastery_rows(tx, learner)
    assert again["1.1"]["successes"] == pytest.approx(4) and again["1.1"]["failures"] == 0.5
    assert again["1.4"]["successes"] == pytest.approx(2.5) and again["1.4"]["failures"] == 0.5
    assert (again["1.1"]["answers"], again["1.1"]["correct_answers"]) == (6, 5)


def test_an_abandoned_attempt_adds_nothing(tx: Conn) -> None:
    learner = f.user(tx)
    assessment, *_ = quiz(tx, [["2.1"]])
    as_app_user(tx, learner)
    attempt = tx.execute("SELECT id FROM start_attempt(%s)", [assessment]).fetchone()
    assert attempt is not None
    tx.execute("SELECT * FROM abandon_attempt(%s)", [attempt[0]])
    tx.execute("RESET ROLE")
    assert mastery_rows(tx, learner) == {}
    assert f.scalar(tx, "SELECT count(*) FROM review_cards WHERE user_id = %s", [learner]) == 0


# --- readiness ---------------------------------------------------------------------------------

WEIGHTS = {"1.0": 0.23, "2.0": 0.20, "3.0": 0.19, "4.0": 0.14, "5.0": 0.24}
OBJECTIVES = {"1.0": 8, "2.0": 4, "3.0": 5, "4.0": 3, "5.0": 5}


def readiness(conn: Conn, user: UUID) -> dict[str, dict[str, Any]]:
    rows = f.rows(conn, "SELECT * FROM learner_readiness(%s)", [user])
    return {r["code"]: r for r in rows}


def test_readiness_without_evidence_is_500_and_not_ready(tx: Conn) -> None:
    # Every objective at the prior: mean 1/2, variance 1/12. A domain of n objectives:
    # variance (n / 12) / n^2 = 1 / (12 n); the exam: sum of w^2 / (12 n) =
    # .0529/96 + .04/48 + .0361/60 + .0196/36 + .0576/60 = 0.0034906, sd 0.059081;
    # score 100 + 800 * 0.5 = 500, +- 800 * 1.64485 * 0.059081 = 77.75: [422, 578].
    got = readiness(tx, f.user(tx))
    exam = got["N10-009"]
    assert (exam["scope"], exam["estimated_score"], exam["score_lower"], exam["score_upper"]) == (
        "exam",
        500,
        422,
        578,
    )
    assert exam["is_estimate"] and not exam["likely_ready"] and exam["passing_score"] == 720
    assert [r["code"] for r in got.values() if r["scope"] == "domain"] == list(WEIGHTS)
    # Domain 4.0 (3 objectives): sd sqrt(1/36) = 1/6: 500 +- 800 * 1.64485 / 6 = 219.3.
    assert (got["4.0"]["score_lower"], got["4.0"]["score_upper"]) == (281, 719)


def test_readiness_of_a_strong_learner_is_likely_ready(tx: Conn) -> None:
    # Every objective: 40 right, 2 wrong today: Beta(41, 3): mean 41/44 = 0.931818,
    # variance 41*3 / (44^2 * 45) = 0.00141185. Exam variance 0.00141185 * sum(w^2 / n)
    # = 0.00141185 * 0.0418858 = 5.9137e-5, sd 0.0076900; score 100 + 800 * 0.931818 = 845.45
    # -> 845; lower 845.45 - 800 * 1.64485 * 0.00769 = 835.33 -> 835 >= 720: likely ready.
    learner = f.user(tx)
    tx.execute(
        "INSERT INTO objective_mastery (user_id, objective_id, successes, failures,"
        " answers, correct_answers, evidence_at)"
        " SELECT %s, id, 40, 2, 42, 40, now() FROM exam_objectives",
        [learner],
    )
    exam = readiness(tx, learner)["N10-009"]
    assert (exam["estimated_score"], exam["score_lower"], exam["score_upper"]) == (845, 835, 856)
    assert exam["likely_ready"] and exam["answers"] == 25 * 42
    # The same evidence a year old has decayed to 40 * 0.5^(365/60) = 0.59 right: not ready.
    tx.execute("UPDATE objective_mastery SET evidence_at = now() - interval '365 days'")
    assert not readiness(tx, learner)["N10-009"]["likely_ready"]


def test_a_high_estimate_with_a_wide_interval_is_not_likely_ready(tx: Conn) -> None:
    # 2 right, 0 wrong everywhere: Beta(3, 1): mean 3/4 -> 700 ... not ready; 5 right:
    # Beta(6, 1): mean 6/7 -> 786, variance 6 / (49 * 8) = 0.0153061; exam variance
    # 0.0153061 * 0.0418858 = 0.00064111, sd 0.025320: lower 785.71 - 33.32 = 752 -> ready.
    # 5 right on all but domain 4.0, nothing there: its prior pulls the lower end down.
    learner = f.user(tx)
    tx.execute(
        "INSERT INTO objective_mastery (user_id, objective_id, successes, failures,"
        " answers, correct_answers, evidence_at)"
        " SELECT %s, id, 5, 0, 5, 5, now() FROM exam_objectives",
        [learner],
    )
    exam = readiness(tx, learner)["N10-009"]
    assert (exam["estimated_score"], exam["score_lower"]) == (786, 752) and exam["likely_ready"]
    tx.execute(
        "DELETE FROM objective_mastery"
        " WHERE objective_id IN (SELECT id FROM exam_objectives WHERE code LIKE '4.%%')"
    )
    exam = readiness(tx, learner)["N10-009"]
    # domain 4.0 at 1/2: p = .86 * .857143 + .14 * .5 = 0.807143 -> 746; its variance
    # .0196 / 36 adds 0.00054444 to 0.00064111 * (1 - .0196/.0418858 * ...) - simply below 720:
    assert exam["estimated_score"] == 746 and exam["score_lower"] < 720
    assert not exam["likely_ready"]


def test_the_weakest_objectives_come_with_the_components_that_teach_them(tx: Conn) -> None:
    learner = f.user(tx)
    lesson = f.component(tx, comptia_objectives=["3.3"], title="Disaster recovery")
    f.component(tx, comptia_objectives=["3.3"], title="Hidden draft", is_published=False)
    tx.execute(
        "INSERT INTO objective_mastery (user_id, objective_id, successes, failures,"
        " answers, correct_answers, evidence_at)"
        " SELECT %s, id, CASE code WHEN '3.3' THEN 0 WHEN '1.1' THEN 1 ELSE 9 END,"
        " CASE code WHEN '3.3' THEN 6 WHEN '1.1' THEN 3 ELSE 1 END, 1, 0, now()"
        " FROM exam_objectives",
        [learner],
    )
    rows = f.rows(tx, "SELECT * FROM learner_weakest_objectives(%s, 2)", [learner])
    # 3.3: Beta(1, 7), mean 1/8; 1.1: Beta(2, 4), mean 1/3.
    assert [(r["objective_code"], round(r["mastery"], 4)) for r in rows] == [
        ("3.3", 0.125),
        ("1.1", 0.3333),
    ]
    assert rows[0]["component_ids"] == [lesson] and rows[1]["component_ids"] == []


# --- the review schedule: FSRS -----------------------------------------------------------------


def db_step(
    conn: Conn, card: tuple[Any, ...], rating: int, at: datetime, fuzz: float | None
) -> Any:
    row = conn.execute(
        "SELECT * FROM fsrs_step(%s::smallint, %s, %s, %s, %s, %s::smallint, %s, %s)",
        [*card, rating, at, fuzz],
    ).fetchone()
    assert row is not None
    return row


@pytest.mark.parametrize("fuzzing", [False, True])
def test_fsrs_step_gives_the_fsrs_package_s_schedule(tx: Conn, fuzzing: bool) -> None:
    """300 random review sequences of 12 reviews each, on time, early and late, every rating:
    state, step, stability, difficulty and due time equal the package's (same float
    operations in the same order: exactly equal). With fuzz, the package's random number is
    the one given to fsrs_step."""
    rng = random.Random(20240620 + fuzzing)
    scheduler = fsrs.Scheduler(enable_fuzzing=fuzzing)
    steps = 0
    for _ in range(300):
        card = fsrs.Card(card_id=1)
        ours: tuple[Any, ...] = (None, None, None, None, None)
        at = datetime(2025, 1, 1, 9, tzinfo=UTC)
        for _ in range(12):
            rating, fuzz = rng.choice([1, 2, 3, 4]), rng.random()
            with mock.patch.object(fsrs.scheduler, "random", lambda fuzz=fuzz: fuzz):
                card, _log = scheduler.review_card(card, fsrs.Rating(rating), at)
            got = db_step(tx, ours, rating, at, fuzz if fuzzing else None)
            expected = (card.state.value, card.step, card.stability, card.difficulty, card.due)
            assert tuple(got[:5]) == expected, (steps, rating)
            if card.state == fsrs.State.Review:
                assert got[5] == (card.due - at).days
            ours = (*got[:4], at)
            at += (card.due - at) * rng.choice([0.3, 1, 1, 1.7, 4]) + timedelta(
                seconds=rng.randint(0, 7200)
            )
            steps += 1
    assert steps == 3600


def test_fsrs_step_worked_by_hand(tx: Conn) -> None:
    at = datetime(2025, 3, 1, tzinfo=UTC)
    # A new card rated again: learning, step 0, stability w0 = 0.212,
    # difficulty w4 - e^(w5 * 0) + 1 = 6.4133, due after the first learning step (1 min).
    new = db_step(tx, (None, None, None, None, None), 1, at, None)
    assert tuple(new[:5]) == (1, 0, 0.212, 6.4133, at + timedelta(minutes=1))
    # Good from review with stability 10 days after exactly 10 days: interval
    # round(S' / F * (0.9^(1/d) - 1)) = S' (retention 0.9); S' = 10 * (1 + e^1.8722 * (11 - 5)
    # * 10^-0.1666 * (e^((1 - R) * 0.796) - 1)) with R = (1 + F * 10 / 10)^d = 0.9:
    # 10 * (1 + 6.5022 * 6 * 0.68163 * 0.082845) = 32.03 -> 32 days.
    factor = 0.9 ** (1 / -0.1542) - 1
    r = (1 + factor * 10 / 10) ** -0.1542
    s = 10 * (1 + math.e**1.8722 * 6 * 10**-0.1666 * (math.e ** ((1 - r) * 0.796) - 1))
    good = db_step(tx, (2, None, 10.0, 5.0, at - timedelta(days=10)), 3, at, None)
    assert good[0] == 2 and good[2] == pytest.approx(s) and good[5] == round(s) == 32
    # Again from review: relearning, step 0, due in 10 minutes.
    lapse = db_step(tx, (2, None, 10.0, 5.0, at - timedelta(days=10)), 1, at, None)
    assert (lapse[0], lapse[1], lapse[4]) == (3, 0, at + timedelta(minutes=10))
    with pytest.raises(psycopg.errors.InvalidParameterValue), tx.transaction():
        db_step(tx, (2, None, 10.0, 5.0, at), 5, at, None)


def card_of(conn: Conn, user: UUID, question: UUID) -> dict[str, Any] | None:
    rows = f.rows(
        conn, "SELECT * FROM review_cards WHERE user_id = %s AND question_id = %s", [user, question]
    )
    return rows[0] if rows else None


def test_missed_questions_enter_the_schedule_and_right_ones_move_it(tx: Conn) -> None:
    learner = f.user(tx)
    assessment, q1, q2, q3 = quiz(tx, [["1.1"], ["1.2"], ["1.3"]])
    take(tx, learner, assessment, [False, None, True])
    # Missed (wrong or not answered): a card each, rated again: learning step 0, due in 1 min.
    first = card_of(tx, learner, q1)
    assert first is not None and (first["state"], first["step"], first["reps"]) == (1, 0, 1)
    assert first["due"] - first["last_review"] == timedelta(minutes=1)
    assert card_of(tx, learner, q2) is not None and card_of(tx, learner, q3) is None
    as_app_user(tx, learner)  # due in a minute: scheduled, not due yet
    counts = f.rows(tx, "SELECT * FROM review_due_counts(%s)", [learner])[0]
    assert (counts["due_now"], counts["scheduled"]) == (0, 2)
    assert counts["next_due"] == first["due"]
    tx.execute("RESET ROLE")
    # The same quiz later, q1 right now: a good review of its card (step 1, 10 minutes).
    tx.execute("UPDATE review_cards SET last_review = last_review - interval '2 minutes'")
    take(tx, learner, assessment, [True, True, True])
    again = card_of(tx, learner, q1)
    assert again is not None and (again["state"], again["step"], again["reps"]) == (1, 1, 2)
    assert card_of(tx, learner, q3) is None  # right, never missed: no card
    log = f.rows(
        tx, "SELECT rating, source FROM review_log WHERE user_id = %s ORDER BY rating", [learner]
    )
    assert [(r["rating"], r["source"]) for r in log] == [
        (1, "attempt"),
        (1, "attempt"),
        (3, "attempt"),
        (3, "attempt"),
    ]


def test_an_assessment_that_hides_its_answers_schedules_nothing(tx: Conn) -> None:
    learner = f.user(tx)
    hidden, q = quiz(tx, [["1.1"]], show_answers_after=False)
    take(tx, learner, hidden, [False])
    assert card_of(tx, learner, q) is None
    assert mastery_rows(tx, learner)["1.1"]["failures"] == 1  # mastery still counts it


def due_card(conn: Conn) -> tuple[UUID, UUID]:
    learner = f.user(conn)
    assessment, q = quiz(conn, [["2.2"]])
    take(conn, learner, assessment, [False])
    conn.execute("UPDATE review_cards SET due = now() - interval '1 second'")
    return learner, q


def test_answer_review_grades_reschedules_logs_and_then_shows_the_key(tx: Conn) -> None:
    learner, q = due_card(tx)
    as_app_user(tx, learner)
    queue = f.rows(
        tx,
        "SELECT c.question_id, q.question_text FROM review_cards c"
        " JOIN question_bank q ON q.id = c.question_id WHERE c.due <= now()",
    )
    assert [r["question_id"] for r in queue] == [q]
    got = f.rows(tx, "SELECT * FROM answer_review(%s, %s, 7)", [q, Jsonb({"value": True})])[0]
    assert got["is_correct"] and got["rating"] == 3 and got["correct_answer"] == {"value": True}
    # learning step 0 -> good -> step 1 (10 minutes)
    assert (got["state"], got["reps"]) == (1, 2)
    # Not due again yet: refused, nothing changed.
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState), tx.transaction():
        tx.execute("SELECT * FROM answer_review(%s, %s, 7)", [q, Jsonb({"value": True})])
    tx.execute("RESET ROLE")
    log = f.rows(
        tx,
        "SELECT source, rating, user_answer, time_spent_seconds FROM review_log"
        " WHERE user_id = %s AND source = 'review'",
        [learner],
    )
    assert log == [
        {"source": "review", "rating": 3, "user_answer": {"value": True}, "time_spent_seconds": 7}
    ]


def test_answer_review_refuses_a_malformed_answer_and_other_learners_cards(tx: Conn) -> None:
    learner, q = due_card(tx)
    other = f.user(tx)
    before = card_of(tx, learner, q)
    as_app_user(tx, learner)
    with pytest.raises(psycopg.errors.InvalidParameterValue) as bad, tx.transaction():
        tx.execute("SELECT * FROM answer_review(%s, %s, 1)", [q, Jsonb({"value": "yes"})])
    assert "user_answer.value" in str(bad.value)
    with pytest.raises(psycopg.errors.InvalidParameterValue), tx.transaction():
        tx.execute("SELECT * FROM answer_review(%s, %s, -1)", [q, Jsonb({"value": True})])
    set_user(tx, other)  # the same question, someone else's card
    with pytest.raises(psycopg.errors.NoDataFound), tx.transaction():
        tx.execute("SELECT * FROM answer_review(%s, %s, 1)", [q, Jsonb({"value": True})])
    tx.execute("RESET ROLE")
    assert card_of(tx, learner, q) == before


# --- the score report ---------------------------------------------------------------------------


def test_the_score_report_lists_each_objective_of_a_submitted_attempt(tx: Conn) -> None:
    learner, other = f.user(tx), f.user(tx)
    assessment, *_ = quiz(tx, [["1.1"], ["1.1"], ["4.2"], []])
    attempt = take(tx, learner, assessment, [True, False, True, True])
    as_app_user(tx, learner)
    report = f.rows(tx, "SELECT * FROM attempt_objective_report(%s)", [attempt])
    assert [
        (r["domain_code"], r["objective_code"], r["items"], r["correct"], r["percentage"])
        for r in report
    ] == [("1.0", "1.1", 2, 1, 50), ("4.0", "4.2", 1, 1, 100)]
    assert [r["missed"] for r in report] == [True, False]
    set_user(tx, other)
    assert f.rows(tx, "SELECT * FROM attempt_objective_report(%s)", [attempt]) == []


# --- item statistics ----------------------------------------------------------------------------

# Three attempts at four true/false questions (1 = right):
#            q1 q2 q3 q4  total
#   A         0  0  0  1    1
#   B         0  1  0  1    2
#   C         1  0  1  1    3
# q1: x = (0, 0, 1), rest = total - x = (1, 2, 2). Means 1/3 and 5/3; deviations
#     (-1/3, -1/3, 2/3) and (-2/3, 1/3, 1/3): sum of products 2/9 - 1/9 + 2/9 = 1/3, sums of
#     squares 2/3 and 2/3: r = (1/3) / (2/3) = 0.5. Facility 1/3, SD sqrt((2/3) / 2) = 0.5774.
# q2: x = (0, 1, 0), rest = (1, 1, 3): deviations (-1/3, 2/3, -1/3) and (-2/3, -2/3, 4/3):
#     products 2/9 - 4/9 - 4/9 = -2/3; squares 2/3 and 8/3: r = (-2/3) / (4/3) = -0.5.
# q3: as q1: 0.5. q4: everyone right: facility 1, SD 0, no correlation (undefined).
COHORT = [(False, False, False, True), (False, True, False, True), (True, False, True, True)]


def test_item_statistics_of_a_three_attempt_cohort_worked_by_hand(tx: Conn) -> None:
    assessment, *questions = quiz(tx, [["1.1"]] * 4)
    for answers in COHORT:
        take(tx, f.user(tx), assessment, list(answers))
    done = f.rows(tx, "SELECT * FROM refresh_item_statistics(3)")
    assert done == [{"questions": 4, "answers": 12, "flagged": 2}]
    stats = {r["question_id"]: r for r in f.rows(tx, "SELECT * FROM question_item_statistics")}
    q1, q2, q3, q4 = (stats[q] for q in questions)
    assert q1["facility"] == pytest.approx(1 / 3) and q1["discrimination"] == pytest.approx(0.5)
    assert q1["standard_deviation"] == pytest.approx(math.sqrt(1 / 3)) and q1["flags"] == []
    assert q2["discrimination"] == pytest.approx(-0.5)
    assert q2["flags"] == ["negative_discrimination"]
    assert q3["discrimination"] == pytest.approx(0.5)
    assert (q4["facility"], q4["standard_deviation"], q4["discrimination"]) == (1, 0, None)
    assert q4["flags"] == ["too_easy", "near_zero_discrimination"]
    options = f.rows(
        tx,
        "SELECT option_id, is_key, selections, selection_rate FROM question_option_statistics"
        " WHERE question_id = %s ORDER BY option_id",
        [questions[0]],
    )
    assert [(o["option_id"], o["is_key"], o["selections"]) for o in options] == [
        ("false", False, 2),
        ("true", True, 1),
    ]
    assert [o["selection_rate"] for o in options] == pytest.approx([2 / 3, 1 / 3])
    # With the default threshold (30 responses) every item has too few.
    f.rows(tx, "SELECT * FROM refresh_item_statistics()")
    assert f.scalar(
        tx,
        "SELECT bool_and('too_few_responses' = ANY (flags)) FROM question_item_statistics",
    )


# --- who reads what ----------------------------------------------------------------------------


@pytest.fixture
def staff(tx: Conn) -> Iterator[dict[str, UUID]]:
    learners = [f.user(tx) for _ in range(2)]
    assessment, *_ = quiz(tx, [["1.1"], ["5.3"]])
    take(tx, learners[0], assessment, [True, False])
    take(tx, learners[1], assessment, [False, False])
    tx.execute("SELECT * FROM refresh_item_statistics(1)")
    yield {
        "learner": learners[0],
        "instructor": f.user(tx, role="instructor"),
        "admin": f.user(tx, role="admin"),
    }


STAFF_READS = (
    "SELECT * FROM cohort_readiness()",
    "SELECT * FROM item_flags(50)",
    "SELECT * FROM platform_weakest_objectives(5)",
)


@pytest.mark.parametrize("query", STAFF_READS)
def test_a_learner_cannot_read_the_cohort_or_the_item_statistics(
    tx: Conn, staff: dict[str, UUID], query: str
) -> None:
    as_app_user(tx, staff["learner"])
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
        tx.execute(query)
    for table in ("question_item_statistics", "question_option_statistics"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
            tx.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_instructors_and_admins_read_the_cohort_and_the_flags(
    tx: Conn, staff: dict[str, UUID], role: str
) -> None:
    as_app_user(tx, staff[role])
    cohort = {(r["scope"], r["code"]): r for r in f.rows(tx, STAFF_READS[0])}
    # 1.1: one right (Beta(2, 1): 2/3), one wrong (Beta(1, 2): 1/3): mean 1/2 over 2 learners.
    assert cohort[("objective", "1.1")]["learners"] == 2
    assert cohort[("objective", "1.1")]["mastery"] == pytest.approx(0.5)
    # 5.3: both wrong: 1/3.
    assert cohort[("objective", "5.3")]["mastery"] == pytest.approx(1 / 3)
    assert cohort[("objective", "2.1")]["learners"] == 0
    weakest = f.rows(tx, STAFF_READS[2])
    assert weakest[0]["objective_code"] == "5.3"
    flags = f.rows(tx, STAFF_READS[1])
    assert {r["question_text"] for r in flags} and all(r["flags"] for r in flags)
    with pytest.raises(psycopg.errors.InvalidParameterValue), tx.transaction():
        tx.execute("SELECT * FROM item_flags(0)")


def test_a_learner_reads_its_own_study_state_only_and_writes_none(
    tx: Conn, staff: dict[str, UUID]
) -> None:
    bob, alice = staff["learner"], f.user(tx)
    nobody = f.user(tx)
    as_app_user(tx, alice)
    for table in ("objective_mastery", "review_cards", "review_log"):
        count = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        assert tx.execute(count).fetchone() == (0,)
    for query in (
        "SELECT * FROM learner_objective_mastery(%s)",
        "SELECT * FROM learner_readiness(%s)",
        "SELECT * FROM learner_weakest_objectives(%s, 25)",
    ):
        assert tx.execute(query, [bob]).fetchall() == tx.execute(query, [nobody]).fetchall()
    for statement in (
        "INSERT INTO objective_mastery (user_id, objective_id, successes)"
        " SELECT %(me)s, id, 1000 FROM exam_objectives",
        "UPDATE objective_mastery SET successes = 1000",
        "DELETE FROM objective_mastery",
        "INSERT INTO review_cards (user_id, question_id, due)"
        " SELECT %(me)s, id, now() + interval '10 years' FROM question_bank",
        "UPDATE review_cards SET due = now() + interval '10 years'",
        "DELETE FROM review_log",
        "UPDATE exam_domains SET weight = 100",
        "SELECT * FROM refresh_item_statistics(1)",
        "SELECT * FROM fsrs_step(2::smallint, NULL, 100, 1, now(), 4::smallint, now(), NULL)",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), tx.transaction():
            tx.execute(statement, {"me": alice})
    set_user(tx, bob)
    assert f.scalar(tx, "SELECT count(*) FROM objective_mastery WHERE user_id <> %s", [bob]) == 0
    assert f.scalar(tx, "SELECT count(*) FROM objective_mastery") == 2
    tx.execute("RESET ROLE")
    set_role(tx, "readonly")
    assert f.scalar(tx, "SELECT count(*) FROM objective_mastery") == 4
