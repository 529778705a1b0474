"""`make demo`: a living Network+ database in one command.

Migrates the target (the embedded PostgreSQL when nothing is configured), seeds it, plays one
scripted learner through a lesson and a quiz with the library, and prints what a newcomer
should see. Running it again changes nothing but adds the learner's next quiz attempt.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from netplus_db import Database
from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.grading import answer_key
from netplus_db.migrate.migrator import Migrator
from netplus_db.sql import sql_files

LEARNER = "student1@network.test"
LESSON = "osi-model-layers"
QUIZ = "quiz-domain-1"


def run_demo(target: Target, report: Callable[[str], None] = print) -> None:
    """Migrate, seed, play the scripted learner, and print the tour."""
    from netplus_db.ops.seed import seed_database

    report(f"Target: {target.describe()}")
    steps = Migrator(target, report=lambda m: report(f"  {m}")).up()
    report(f"migrations: {len(steps)} applied now")
    seed_database(target, report=lambda m: report(f"  {m}"))
    report("")
    _catalog(target, report)
    _accounts(target, report)
    _learner(target, report)


def _catalog(target: Target, report: Callable[[str], None]) -> None:
    from netplus_db.ops.seed import default_seed_dir

    blueprint = json.loads((default_seed_dir() / "blueprint.json").read_text())
    names = {d["code"]: (d["name"], d["weight"]) for d in blueprint["domains"]}
    with connect(target) as conn:
        rows = list(sql_files().demo.catalog_by_domain(conn))
    report(f"Catalog ({blueprint['name']} {blueprint['exam']}):")
    report(f"  {'domain':<34} {'weight':>6} {'components':>11} {'questions':>10}")
    for domain, components, questions in rows:
        name, weight = names.get(domain, ("?", 0))
        report(f"  {domain + ' ' + name:<34} {weight:>5}% {components:>11} {questions:>10}")


def _accounts(target: Target, report: Callable[[str], None]) -> None:
    with connect(target) as conn:
        rows = list(sql_files().demo.accounts(conn))
    report("Demo accounts (password: password123):")
    for email, username, role, status in rows:
        report(f"  {role:<11} {email:<28} {username:<12} {status}")


def _learner(target: Target, report: Callable[[str], None]) -> None:
    with Database(target, min_size=1, max_size=2) as db:
        login = db.login(login=LEARNER, password="password123")
        if login.user is None:
            raise RuntimeError(f"the demo learner {LEARNER} cannot log in: {login.reason}")
        user_id = login.user.id
        with db.as_user(user_id) as q:
            lesson = q.content.get_component(slug=LESSON)
            quiz = q.assessments.get_assessment(slug=QUIZ)
        if lesson is None or quiz is None:
            raise RuntimeError(f"the seed lacks {LESSON} or {QUIZ}")
        done = db.record_progress(
            user_id=user_id, component_id=lesson.id, status="completed", time_spent_minutes=20
        )
        report(
            f"Learner {LEARNER}: completed '{lesson.title}'"
            f"{' (already done before)' if not done.newly_completed else ''}"
        )
        started = db.start_attempt(user_id=user_id, assessment_id=quiz.id)
        with connect(target) as conn:  # the scripted learner knows the answers to 4 in 5
            keys = list(sql_files().demo.answer_keys(conn, attempt_id=started.attempt.id))
        for n, (question_id, qtype, data, key) in enumerate(keys):
            answer = answer_key(qtype, data, key) if n % 5 != 4 else None
            if answer is not None:
                db.save_answer(
                    user_id=user_id,
                    attempt_id=started.attempt.id,
                    question_id=question_id,
                    user_answer=answer,
                    time_spent_seconds=45,
                )
        result = db.submit_attempt(user_id=user_id, attempt_id=started.attempt.id)
        a = result.attempt
        report(
            f"  took '{quiz.title}' (attempt {a.attempt_number}): {a.percentage}% — "
            f"{'passed' if a.passed else 'not passed'} ({a.correct_answers} correct, "
            f"{a.incorrect_answers} wrong, {a.skipped_questions} skipped)"
        )
        with db.as_user(user_id) as q:
            s = q.analytics.dashboard_summary(user_id=user_id)
        assert s is not None
        report("Dashboard:")
        report(
            f"  components started {s.components_started}, completed "
            f"{s.components_completed}, time {s.total_time_minutes} min"
        )
        report(
            f"  streak {s.current_streak} (longest {s.longest_streak}), achievements "
            f"{s.achievements_count}, average score {s.average_assessment_score}%, "
            f"overall progress {s.overall_progress}%"
        )
        _readiness(db, user_id, a.id, report)


def _readiness(
    db: Database, user_id: uuid.UUID, attempt_id: uuid.UUID, report: Callable[[str], None]
) -> None:
    """The learner's score report per objective, ESTIMATED readiness, weakest objectives
    and reviews due (migration 0019)."""
    missed = [r for r in db.attempt_report(user_id=user_id, attempt_id=attempt_id) if r.missed]
    report(
        "  objectives missed in this attempt: "
        + (", ".join(f"{r.objective_code} ({r.correct}/{r.items})" for r in missed) or "none")
    )
    ready = db.readiness(user_id=user_id, weakest=3)
    e = ready.exam
    report(
        f"Readiness ({e.code}, an ESTIMATE: CompTIA publishes no raw-to-scaled mapping): "
        f"{e.estimated_score} (90% interval {e.score_lower}-{e.score_upper}; passing "
        f"{e.passing_score}) — {'likely ready' if e.likely_ready else 'not yet likely ready'}"
    )
    for d in ready.domains:
        report(
            f"  {d.code} {d.name:<26} {d.estimated_score:>4} ({d.score_lower}-{d.score_upper}),"
            f" {d.answers} answers"
        )
    report("Weakest objectives:")
    for w in ready.weakest:
        teach = ", ".join(str(c) for c in w.component_slugs[:2]) or "no component yet"
        report(
            f"  {w.objective_code} {w.objective_name}: mastery {w.mastery:.2f} "
            f"({w.mastery_lower:.2f}-{w.mastery_upper:.2f}); study {teach}"
        )
    r = ready.reviews
    next_due = r.next_due.isoformat(timespec="minutes") if r.next_due else "none"
    report(
        f"Reviews: {r.due_now} due now, {r.due_today} due today, {r.scheduled} scheduled "
        f"(next {next_due})"
    )
