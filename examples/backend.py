"""A backend's use of netplus_db, end to end: every flow, typed (mypy --strict checks this file).

Run it against any migrated database (it creates its own small course and learner):

    python examples/backend.py --dsn postgresql://postgres@127.0.0.1:5432/mydb
    python examples/backend.py            # the embedded default, after `netplus-db migrate up`

It prints what a learner would see and exits 0; any failure is an exception.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from decimal import Decimal

from psycopg.types.json import Jsonb

from netplus_db import AsyncDatabase, AttemptClosed, Conflict, Database
from netplus_db.generated.analytics import DashboardSummaryRow
from netplus_db.generated.assessments import Attempt
from netplus_db.generated.content import BrowseComponentsRow
from netplus_db.generated.users import User


def create_course(db: Database) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A published lesson, one true/false question and a quiz presenting it (as the owner)."""
    tag = uuid.uuid4().hex[:8]
    with db.transaction() as q:
        conn = q.conn
        lesson = conn.execute(
            "INSERT INTO learning_components (component_type, domain, subdomain, title, slug,"
            " is_published, content) VALUES ('lesson', '1.0', '1.4', 'Well-known ports', %s,"
            " true, %s) RETURNING id",
            [f"example-ports-{tag}", Jsonb({"sections": [{"heading": "SSH", "body": "TCP 22"}]})],
        ).fetchone()
        question = conn.execute(
            "INSERT INTO question_bank (question_type, domain, subdomain, question_text,"
            " correct_answer, points, is_published) VALUES ('true_false', '1.0', '1.4',"
            " 'SSH listens on TCP port 22 by default.', %s, 1, true) RETURNING id",
            [Jsonb({"value": True})],
        ).fetchone()
        assert lesson is not None and question is not None
        slug = f"example-quiz-{tag}"
        assessment = conn.execute(
            "INSERT INTO assessments (assessment_type, title, slug, question_ids, is_published)"
            " VALUES ('quiz', 'Ports check', %s, %s, true) RETURNING id",
            [slug, [question[0]]],
        ).fetchone()
        conn.execute(
            "INSERT INTO learning_components (component_type, domain, subdomain, title, slug,"
            " is_published, content) VALUES ('quiz', '1.0', '1.4', 'Ports check', %s, true, %s)",
            [f"example-quiz-component-{tag}", Jsonb({"assessment_slug": slug})],
        )
        assert assessment is not None
    return lesson[0], question[0], assessment[0]


def learner_journey(db: Database) -> DashboardSummaryRow:
    """Register, log in, browse, learn, complete, take the quiz, read the dashboard."""
    tag = uuid.uuid4().hex[:8]
    user: User = db.register(
        email=f"example.{tag}@network.test", username=f"example_{tag}", password="password123"
    )
    try:
        db.register(email=user.email, username=f"other_{tag}", password="password123")
    except Conflict as taken:
        print(f"as expected, {taken.field} is taken")
    login = db.login(login=user.username, password="password123")
    assert login.user is not None and login.user.id == user.id

    lesson_id, question_id, assessment_id = create_course(db)
    with db.as_user(user.id) as q:
        page: list[BrowseComponentsRow] = q.content.browse_components(
            domain="1.0",
            subdomain=None,
            component_type="lesson",
            difficulty_level=None,
            after_title=None,
            after_id=None,
            page_size=20,
        )
        session = q.progress.start_session(
            user_id=user.id, component_id=lesson_id, device_type="desktop", session_data={}
        )
    print(f"catalog page: {len(page)} lesson(s)")

    done = db.record_progress(
        user_id=user.id, component_id=lesson_id, status="completed", time_spent_minutes=12
    )
    streak = done.streak.current_streak if done.streak else 0
    print(f"completed the lesson: streak {streak}")
    with db.as_user(user.id) as q:
        if session is not None:
            q.progress.end_session(
                session_id=session.id,
                interaction_count=4,
                completion_achieved=True,
                session_data={},
            )

    started = db.start_attempt(user_id=user.id, assessment_id=assessment_id)
    db.save_answer(
        user_id=user.id,
        attempt_id=started.attempt.id,
        question_id=question_id,
        user_answer={"value": True},
        time_spent_seconds=20,
    )
    submitted = db.submit_attempt(user_id=user.id, attempt_id=started.attempt.id)
    attempt: Attempt = submitted.attempt
    percentage: Decimal | None = attempt.percentage
    print(f"quiz: {percentage}% passed={attempt.passed}")
    try:
        db.submit_attempt(user_id=user.id, attempt_id=started.attempt.id)
    except AttemptClosed:
        print("a second submit is refused: graded once")

    with db.as_user(user.id) as q:
        summary = q.analytics.dashboard_summary(user_id=user.id)
    assert summary is not None
    return summary


async def async_check(dsn: str | None, user_login: str) -> bool:
    """The async twin gives the same answers."""
    async with AsyncDatabase(dsn) as adb:
        result = await adb.login(login=user_login, password="wrong password")
        return result.user is None


def main() -> None:
    """Parse --dsn, run the journey sync, check one call async, print the dashboard."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=None, help="connection string (default: configuration)")
    args = parser.parse_args()
    with Database(args.dsn) as db:
        summary = learner_journey(db)
    print(
        f"dashboard: started {summary.components_started}, completed "
        f"{summary.components_completed}, streak {summary.current_streak}, average score "
        f"{summary.average_assessment_score}"
    )
    assert asyncio.run(async_check(args.dsn, "nobody@network.test"))
    print("ok")


if __name__ == "__main__":
    main()
