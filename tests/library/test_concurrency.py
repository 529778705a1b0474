"""Races a real backend meets: double submits, racing starts, simultaneous completions."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import psycopg

from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.errors import AttemptClosed, MaxAttemptsReached
from tests.support.apis import ROUNDS, build_catalog

WORKERS = 4


def together(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run the actions in threads released at the same instant; results or exceptions."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = actions[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def register(db: Database) -> Any:
    tag = uuid.uuid4().hex[:8]
    return db.register(
        email=f"r{tag}@network.test", username=f"r_{tag}", password="password123", rounds=ROUNDS
    )


def test_two_submits_of_one_attempt_grade_it_once(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    course = build_catalog(conn)
    with Database(db, max_size=WORKERS) as lib:
        user = register(lib)
        started = lib.start_attempt(user_id=user.id, assessment_id=course.assessment)
        for qtype, qid in course.questions.items():
            lib.save_answer(
                user_id=user.id,
                attempt_id=started.attempt.id,
                question_id=qid,
                user_answer=course.keys[qtype],
            )
        results = together(
            [lambda: lib.submit_attempt(user_id=user.id, attempt_id=started.attempt.id)] * WORKERS
        )
    graded = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, AttemptClosed)]
    assert (len(graded), len(refused)) == (1, WORKERS - 1), results
    usage = conn.execute(
        "SELECT DISTINCT usage_count FROM question_bank WHERE id = ANY(%s)",
        [list(course.questions.values())],
    ).fetchall()
    assert usage == [(1,)]
    totals = conn.execute(
        "SELECT t.score, sum(a.points_earned) FROM assessment_attempts t"
        " JOIN assessment_answers a ON a.attempt_id = t.id WHERE t.id = %s GROUP BY t.score",
        [started.attempt.id],
    ).fetchone()
    assert totals is not None and totals[0] == totals[1] == 12


def test_racing_starts_never_exceed_max_attempts(db: Target, conn: psycopg.Connection[Any]) -> None:
    course = build_catalog(conn, max_attempts=2)
    with Database(db, max_size=WORKERS) as lib:
        user = register(lib)
        results = together(
            [lambda: lib.start_attempt(user_id=user.id, assessment_id=course.assessment)] * WORKERS
        )
    started = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, MaxAttemptsReached)]
    assert (len(started), len(refused)) == (2, WORKERS - 2), results
    assert sorted(r.attempt.attempt_number for r in started) == [1, 2]


def complete(lib: Database, user_id: uuid.UUID, component_id: uuid.UUID) -> Any:
    return lib.record_progress(user_id=user_id, component_id=component_id, status="completed")


def test_concurrent_completions_on_one_day_count_the_streak_once(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    courses = [build_catalog(conn) for _ in range(2)]
    components = [c.lesson for c in courses] + [c.lab for c in courses]
    with Database(db, max_size=WORKERS) as lib:
        user = register(lib)
        results = together([partial(complete, lib, user.id, cid) for cid in components])
    assert all(not isinstance(r, Exception) and r.newly_completed for r in results), results
    streak = conn.execute(
        "SELECT current_streak, total_active_days FROM learning_streaks WHERE user_id = %s",
        [user.id],
    ).fetchone()
    assert streak == (1, 1)


def test_async_submits_raced_on_one_loop_grade_once(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    course = build_catalog(conn)

    async def scenario() -> list[Any]:
        async with AsyncDatabase(db, max_size=WORKERS) as lib:
            tag = uuid.uuid4().hex[:8]
            user = await lib.register(
                email=f"a{tag}@network.test",
                username=f"a_{tag}",
                password="password123",
                rounds=ROUNDS,
            )
            started = await lib.start_attempt(user_id=user.id, assessment_id=course.assessment)
            return await asyncio.gather(
                *(
                    lib.submit_attempt(user_id=user.id, attempt_id=started.attempt.id)
                    for _ in range(WORKERS)
                ),
                return_exceptions=True,
            )

    results = asyncio.run(scenario())
    assert sum(isinstance(r, AttemptClosed) for r in results) == WORKERS - 1, results
    assert sum(not isinstance(r, BaseException) for r in results) == 1


def test_pool_connections_recover_after_a_backend_is_killed(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    with Database(db, min_size=1, max_size=1) as lib:
        user = register(lib)
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with lib.as_user(user.id) as q:  # the pool's check replaces the dead connection
            assert q.users.get_user(user_id=user.id) is not None
