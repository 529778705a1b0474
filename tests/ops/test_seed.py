"""`netplus-db seed` against a real PostgreSQL: idempotent, validated first, one transaction.

Most checks read one database seeded once for the module (bcrypt at cost 12 costs ~0.25 s per
hash, and the seed hashes once per run); the tests that write get a database of their own.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from netplus_db.cli.context import CliContext
from netplus_db.cli.seed import seed as seed_command
from netplus_db.config import Target
from netplus_db.connection import connect, create_database, drop_database
from netplus_db.generated.enums import QuestionType
from netplus_db.grading import answer_key, grade, wrong_answers
from netplus_db.ops import seed as seed_module
from netplus_db.ops.scale import TABLE_NAMES
from netplus_db.ops.seed import (
    DEMO_PASSWORD,
    DemoAccountsRefused,
    SeedData,
    SeedDataError,
    SeedError,
    SeedReport,
    load_seed_data,
    question_id,
    seed_database,
)
from tests.ops.test_cli import run
from tests.support.server import REPO, Server, fresh_name

SEED = REPO / "seed"
SEEDED_TABLES = (
    "achievements",
    "learning_components",
    "question_bank",
    "assessments",
    "users",
    "user_profiles",
    "user_settings",
    "learning_streaks",
)
REMOTE = Target({"host": "db.example.com", "dbname": "netplus", "user": "app"}, "--dsn")
DOMAIN_ITEMS = {"1.0": 21, "2.0": 18, "3.0": 17, "4.0": 13, "5.0": 21}

Snapshot = dict[str, tuple[int, str, Any]]


def snapshot(target: Target) -> Snapshot:
    """Per seeded table: row count, md5 of every row but updated_at, and the newest updated_at."""
    result: Snapshot = {}
    with connect(target, autocommit=True) as conn:
        for table in SEEDED_TABLES:
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(r.t, '|' ORDER BY r.t), '')),"
                    "       max(r.updated_at)"
                    "  FROM (SELECT (to_jsonb(x) - 'updated_at')::text AS t, x.updated_at"
                    "          FROM {} AS x) AS r"
                ).format(sql.Identifier(table))
            ).fetchone()
            assert row is not None
            result[table] = (row[0], row[1], row[2])
    return result


def rows(target: Target, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with connect(target, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


class Seeded:
    """The module's seeded database and what its first seed reported."""

    def __init__(self, target: Target, report: SeedReport, lines: list[str], after: Snapshot):
        self.target, self.report, self.lines, self.after = target, report, lines, after


@pytest.fixture(scope="module")
def data() -> SeedData:
    return load_seed_data()


@pytest.fixture(scope="module")
def seeded(server: Server, template: str) -> Iterator[Seeded]:
    target = server.database(fresh_name("seeded"))
    create_database(target, template=template)
    lines: list[str] = []
    report = seed_database(target, allow_demo_accounts=True, report=lines.append)
    yield Seeded(target, report, lines, snapshot(target))
    drop_database(target)


def no_connection(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("a connection was attempted")


# --- idempotence --------------------------------------------------------------------------------


def test_first_seed_inserts_every_row_of_the_files(seeded: Seeded, data: SeedData) -> None:
    expected = {
        "achievements": len(data.achievements),
        "learning_components": len(data.components),
        "question_bank": len(data.questions),
        "assessments": len(data.assessments),
        **{table: len(data.users) for table in SEEDED_TABLES[4:]},
    }
    assert list(seeded.report.counts) == list(SEEDED_TABLES)
    assert {t: c.inserted for t, c in seeded.report.counts.items()} == expected
    assert seeded.report.updated == 0
    assert {t: n for t, (n, _, _) in seeded.after.items()} == expected
    assert (len(data.components), len(data.questions), len(data.assessments)) == (54, 251, 11)
    assert "question_bank        inserted 251, updated 0, unchanged 0" in seeded.lines
    assert seeded.lines[-1].startswith("seeded in ")


def test_seeding_twice_is_seeding_once(seeded: Seeded) -> None:
    lines: list[str] = []
    again = seed_database(seeded.target, allow_demo_accounts=True, report=lines.append)
    assert (again.inserted, again.updated) == (0, 0)
    assert all(c.unchanged == c.total for c in again.counts.values())
    assert not again.changed
    # Same rows, same content, and no updated_at moved: the no-op upserts wrote nothing.
    assert snapshot(seeded.target) == seeded.after
    assert "learning_components  inserted 0, updated 0, unchanged 54" in lines
    assert lines[-1].endswith("(nothing changed)")


def test_a_changed_row_is_updated_in_place(db: Target, data: SeedData) -> None:
    seed_database(db, allow_demo_accounts=True, report=lambda _: None)
    first = snapshot(db)
    some_question = str(question_id(data.questions[0]["key"]))
    with connect(db, autocommit=True) as conn:
        conn.execute("UPDATE question_bank SET points = 5, is_published = false")
        conn.execute(
            "UPDATE learning_components SET prerequisites = '{}' WHERE slug = 'domain-5-quiz'"
        )
        conn.execute("UPDATE achievements SET name = 'renamed' WHERE code = 'first-steps'")
        conn.execute("UPDATE users SET password_hash = 'not-bcrypt' WHERE username = 'student2'")
        conn.execute("UPDATE user_settings SET theme = 'dark'")
        conn.execute("UPDATE learning_streaks SET current_streak = 3, longest_streak = 3")
    report = seed_database(db, allow_demo_accounts=True, report=lambda _: None)
    counts = {t: (c.inserted, c.updated) for t, c in report.counts.items()}
    assert counts == {
        "achievements": (0, 1),
        "learning_components": (0, 1),
        "question_bank": (0, 251),
        "assessments": (0, 0),
        "users": (0, 1),
        "user_profiles": (0, 0),
        "user_settings": (0, 5),
        "learning_streaks": (0, 0),  # a learner's streak is history: never reset
    }
    after = snapshot(db)
    for table in ("achievements", "learning_components", "question_bank", "user_settings"):
        assert after[table][:2] == first[table][:2], table
    assert after["learning_streaks"][1] != first["learning_streaks"][1]
    (points,) = rows(db, "SELECT points FROM question_bank WHERE id = %s", some_question)[0]
    assert points == 1
    (stored,) = rows(db, "SELECT password_hash FROM users WHERE username = 'student2'")[0]
    assert bcrypt.checkpw(DEMO_PASSWORD.encode(), stored.encode())


def test_two_seeds_at_once_insert_each_row_once(db: Target) -> None:
    reports: list[SeedReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(seed_database(db, allow_demo_accounts=True, report=lambda _: None))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.inserted for r in reports) == [0, 251 + 54 + 11 + 25 + 4 * 5]
    assert rows(db, "SELECT count(*) FROM question_bank")[0][0] == 251


# --- the rows as stored -------------------------------------------------------------------------


def test_every_stored_question_grades_by_its_key(seeded: Seeded, data: SeedData) -> None:
    stored = rows(
        seeded.target,
        "SELECT id, question_type, question_data, correct_answer, is_published FROM question_bank",
    )
    assert {str(r[0]) for r in stored} == {str(question_id(q["key"])) for q in data.questions}
    assert {q["id"] for q in data.questions} == {str(r[0]) for r in stored}
    types_seen: Counter[str] = Counter()
    for qid, qtype, qdata, key, published in stored:
        assert published, qid
        assert grade(qtype, qdata, key, answer_key(qtype, qdata, key)).fraction == 1, qid
        assert grade(qtype, qdata, key, wrong_answers(qtype, qdata, key)[0]).fraction < 1, qid
        types_seen[qtype] += 1
    assert set(types_seen) == set(QuestionType)


def test_the_practice_exam_follows_the_blueprint(seeded: Seeded) -> None:
    (exam,) = rows(
        seeded.target,
        "SELECT assessment_type, question_ids, time_limit_minutes, passing_score, max_attempts,"
        "       randomize_questions, is_published, domain, description"
        "  FROM assessments WHERE slug = 'practice-exam-n10-009'",
    )
    kind, ids, minutes, passing, attempts, randomized, published, domain, description = exam
    assert (kind, minutes, passing, attempts, randomized, published, domain) == (
        "practice_exam",
        90,
        80,
        None,
        True,
        True,
        None,
    )
    assert len(ids) == 90 and len(set(ids)) == 90
    assert "720" in description and "estimate" in description
    # Each attempt draws its own 90 in this split (migration 0018); question_ids is the fixed
    # form the scale data replays.
    ((split, size, simulations, avoid, shuffled),) = rows(
        seeded.target,
        "SELECT draw_split, draw_size, draw_min_simulations, draw_avoid_recent, randomize_answers"
        "  FROM assessments WHERE slug = 'practice-exam-n10-009'",
    )
    assert (split, size, avoid, shuffled) == (DOMAIN_ITEMS, 90, 2, True) and simulations >= 3
    found = rows(
        seeded.target,
        "SELECT domain, subdomain FROM question_bank WHERE id = ANY(%s)",
        ids,
    )
    assert len(found) == 90
    assert Counter(d for d, _ in found) == DOMAIN_ITEMS
    # Each domain's share is spread over its objectives as evenly as possible.
    for domain in DOMAIN_ITEMS:
        per_objective = Counter(s for d, s in found if d == domain)
        assert max(per_objective.values()) - min(per_objective.values()) <= 1, per_objective


def test_quizzes_and_checkpoints_stay_in_their_domain(seeded: Seeded) -> None:
    found = rows(
        seeded.target,
        "SELECT a.slug, a.assessment_type, a.domain, a.time_limit_minutes, a.passing_score,"
        "       a.max_attempts, a.randomize_questions, a.is_published,"
        "       cardinality(a.question_ids), count(DISTINCT q.id),"
        "       array_agg(DISTINCT q.domain), count(DISTINCT q.subdomain)"
        "  FROM assessments AS a JOIN question_bank AS q ON q.id = ANY(a.question_ids)"
        " WHERE a.assessment_type <> 'practice_exam'"
        " GROUP BY a.id ORDER BY a.slug",
    )
    assert len(found) == 10
    objectives = {"1.0": 8, "2.0": 4, "3.0": 5, "4.0": 3, "5.0": 5}
    for (
        slug,
        kind,
        domain,
        minutes,
        passing,
        attempts,
        randomized,
        published,
        n,
        distinct,
        domains,
        subs,
    ) in found:
        number = domain[0]
        if kind == "quiz":
            assert (slug, n, minutes, passing) == (f"quiz-domain-{number}", 10, 20, 70)
        else:
            assert (kind, slug, n, passing) == ("checkpoint", f"checkpoint-domain-{number}", 15, 75)
        assert (attempts, randomized, published) == (None, True, True)
        assert distinct == n, f"{slug} repeats a question"
        assert domains == [domain], f"{slug} has questions of {domains}"
        assert subs == objectives[domain], f"{slug} leaves an objective out"
    overlap = rows(
        seeded.target,
        "SELECT c.slug FROM assessments AS c JOIN assessments AS q"
        "    ON q.slug = replace(c.slug, 'checkpoint', 'quiz')"
        " WHERE c.assessment_type = 'checkpoint' AND c.question_ids && q.question_ids",
    )
    assert overlap == [], "a checkpoint repeats its domain quiz"


def test_components_link_to_assessments_and_prerequisites(seeded: Seeded, data: SeedData) -> None:
    dangling = rows(
        seeded.target,
        "SELECT c.slug FROM learning_components AS c"
        " WHERE c.content ? 'assessment_slug'"
        "   AND NOT EXISTS (SELECT 1 FROM assessments AS a"
        "                    WHERE a.slug = c.content->>'assessment_slug')",
    )
    assert dangling == []
    linked = rows(
        seeded.target,
        "SELECT count(*) FROM learning_components WHERE content ? 'assessment_slug'",
    )[0][0]
    assert linked == 11
    stored = dict(
        rows(
            seeded.target,
            "SELECT c.slug, ARRAY(SELECT p.slug FROM unnest(c.prerequisites) WITH ORDINALITY AS"
            "       u(id, n) JOIN learning_components AS p ON p.id = u.id ORDER BY u.n)"
            "  FROM learning_components AS c",
        )
    )
    assert stored == {c["slug"]: c["prerequisites"] for c in data.components}
    unpublished = rows(seeded.target, "SELECT slug FROM learning_components WHERE NOT is_published")
    assert unpublished == []


def test_selection_is_deterministic_whatever_the_file_order(tmp_path: Path) -> None:
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    for path in (copy / "questions").glob("*.json"):
        path.write_text(json.dumps(list(reversed(json.loads(path.read_text())))))
    original = {a["slug"]: a["question_ids"] for a in load_seed_data(SEED).assessments}
    assert {a["slug"]: a["question_ids"] for a in load_seed_data(copy).assessments} == original
    assert {a["slug"]: a["question_ids"] for a in load_seed_data(SEED).assessments} == original


# --- demo accounts ------------------------------------------------------------------------------


def test_demo_accounts_can_log_in(seeded: Seeded) -> None:
    accounts = rows(
        seeded.target,
        "SELECT u.email, u.role, u.account_status, u.email_verified, u.password_hash,"
        "       p.display_name, s.theme, k.current_streak"
        "  FROM users AS u"
        "  JOIN user_profiles AS p ON p.user_id = u.id"
        "  JOIN user_settings AS s ON s.user_id = u.id"
        "  JOIN learning_streaks AS k ON k.user_id = u.id"
        " ORDER BY u.email",
    )
    assert [(a[0], a[1]) for a in accounts] == [
        ("admin@network.test", "admin"),
        ("instructor@network.test", "instructor"),
        ("student1@network.test", "student"),
        ("student2@network.test", "student"),
        ("student3@network.test", "student"),
    ]
    assert all(a[2:4] == ("active", True) for a in accounts)
    hashes = {a[4] for a in accounts}
    assert len(hashes) == 1, "hashed once per run"
    stored = hashes.pop()
    assert stored.startswith("$2b$12$")
    assert bcrypt.checkpw(b"password123", stored.encode())
    assert not bcrypt.checkpw(b"password124", stored.encode())


def test_demo_accounts_are_refused_on_a_remote_database_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not REMOTE.is_local
    monkeypatch.setattr(psycopg, "connect", no_connection)
    monkeypatch.setattr(seed_module, "connect", no_connection)
    with pytest.raises(DemoAccountsRefused, match=r"host db\.example\.com") as refused:
        seed_database(REMOTE, report=lambda _: None)
    assert "--allow-demo-accounts" in str(refused.value)


def test_allowing_demo_accounts_lifts_the_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Connecting(Exception):
        pass

    def connecting(*_args: Any, **_kwargs: Any) -> Any:
        raise Connecting

    monkeypatch.setattr(seed_module, "connect", connecting)
    with pytest.raises(Connecting):
        seed_database(REMOTE, allow_demo_accounts=True, report=lambda _: None)


def test_a_local_database_takes_demo_accounts_without_the_flag(seeded: Seeded) -> None:
    if not seeded.target.is_local:
        pytest.skip("the test server is not local")
    report = seed_database(seeded.target, report=lambda _: None)
    assert report.counts["users"].total == 5 and not report.changed


def test_the_command_refuses_a_remote_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(psycopg, "connect", no_connection)
    result = CliRunner().invoke(
        seed_command, [], obj=CliContext("postgresql://app@db.example.com/netplus", None)
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, DemoAccountsRefused)
    assert "db.example.com" in str(result.exception)
    assert result.output.startswith("Target: host db.example.com port 5432 database netplus")


# --- invalid seed files -------------------------------------------------------------------------


def broken_copy(tmp_path: Path, relative: str, change: Any) -> Path:
    """A copy of seed/ with one file passed through `change` (a JSON value -> JSON value)."""
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    path = copy / relative
    path.write_text(json.dumps(change(json.loads(path.read_text()))))
    return copy


def break_first_question(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    choice = next(q for q in questions if q["question_type"] == "multiple_choice")
    choice["correct_answer"] = {"option": "no-such-option"}
    return questions


def test_an_invalid_question_names_file_and_key_and_writes_nothing(
    db: Target, tmp_path: Path
) -> None:
    copy = broken_copy(tmp_path, "questions/2.0.json", break_first_question)
    key = next(
        q["key"]
        for q in json.loads((copy / "questions" / "2.0.json").read_text())
        if q["correct_answer"] == {"option": "no-such-option"}
    )
    before = snapshot(db)
    with pytest.raises(SeedDataError) as failed:
        seed_database(db, allow_demo_accounts=True, report=lambda _: None, seed_dir=copy)
    message = str(failed.value)
    assert f"{copy / 'questions' / '2.0.json'}: question {key}: " in message
    assert "nothing was written" in message
    assert len(failed.value.problems) == 1
    assert snapshot(db) == before
    assert before["question_bank"][0] == 0

    result = CliRunner().invoke(
        seed_command, ["--seed-dir", str(copy)], obj=CliContext(db.conninfo, None)
    )
    assert result.exit_code == 1 and isinstance(result.exception, SeedDataError)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("relative", "change", "expected"),
    [
        ("achievements.json", lambda _: "[{", "achievements.json: is not valid JSON"),
        (
            "components/3.0.json",
            lambda cs: [{**cs[0], "content": {"assessment_slug": "quiz-domain-9"}}, *cs[1:]],
            "3.0.json: component {slug}: content.assessment_slug 'quiz-domain-9' is not in",
        ),
        (
            "components/4.0.json",
            lambda cs: [{**cs[0], "prerequisites": ["no-such-component"]}, *cs[1:]],
            "4.0.json: component {slug}: unknown prerequisite(s) no-such-component",
        ),
        (
            "assessments.json",
            lambda a: [*a[:-1], {**a[-1], "select": {"domains": {"4.0": 99}}}],
            "assessments.json: assessment practice-exam-n10-009: select: domain 4.0 has 33",
        ),
        (
            "assessments.json",
            lambda a: [a[0], {**a[0]}, *a[1:]],
            "assessments.json: assessment quiz-domain-1: slug is used twice",
        ),
        (
            "assessments.json",
            lambda a: [*a[:-1], {**a[-1], "draw": {**a[-1]["draw"], "min_simulations": 24}}],
            "assessment practice-exam-n10-009: draw: 23 simulations fit its domains' places,"
            " not 24",
        ),
        (
            "assessments.json",
            lambda a: [*a[:-1], {**a[-1], "draw": {"domains": {"4.0": 34}}}],
            "assessment practice-exam-n10-009: draw: domain 4.0 has 33 questions, not 34",
        ),
        (
            "assessments.json",
            lambda a: [*a[:-1], {**a[-1], "draw": {"domains": {"1.0": 0}, "shuffle": True}}],
            "assessment practice-exam-n10-009: draw must be null or {{domains, size,",
        ),
        (
            "assessments.json",
            lambda a: [*a[:-1], {**a[-1], "draw": {**a[-1]["draw"], "avoid_recent": -1}}],
            "assessment practice-exam-n10-009: draw.avoid_recent must be 0..100",
        ),
        (
            "achievements.json",
            lambda a: [{**a[0], "rarity": "mythic"}, *a[1:]],
            "achievements.json: achievement first-steps: rarity must be one of",
        ),
        (
            "users.json",
            lambda u: [{**u[0], "role": "root"}, *u[1:]],
            "users.json: user admin@network.test: role must be one of",
        ),
        (
            "questions/1.0.json",
            lambda qs: [{**qs[0], "subdomain": "2.1"}, *qs[1:]],
            "1.0.json: question {key}: subdomain '2.1' is not an objective of domain '1.0'",
        ),
    ],
    ids=[
        "json",
        "assessment-slug",
        "prerequisite",
        "too-few-questions",
        "duplicate-slug",
        "draw-simulations",
        "draw-too-few-questions",
        "draw-unknown-field",
        "draw-avoid-recent",
        "rarity",
        "role",
        "objective",
    ],
)
def test_invalid_files_are_named_with_their_item(
    tmp_path: Path, relative: str, change: Any, expected: str
) -> None:
    original = json.loads((SEED / relative).read_text())
    first = original[0] if isinstance(original, list) else {}
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy)
    changed = change(original)
    path = copy / relative
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed))
    with pytest.raises(SeedDataError) as failed:
        load_seed_data(copy)
    assert expected.format(slug=first.get("slug"), key=first.get("key")) in str(failed.value)


def test_a_clash_in_the_database_rolls_everything_back(db: Target) -> None:
    """users are written last: a username taken by another account undoes the whole seed."""
    with connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (email, username, password_hash) VALUES (%s, %s, %s)",
            ("someone@example.org", "student3", "x"),
        )
    before = snapshot(db)
    with pytest.raises(SeedError, match=r"users\.json: a demo account clashes"):
        seed_database(db, allow_demo_accounts=True, report=lambda _: None)
    assert snapshot(db) == before
    assert before["question_bank"][0] == 0


def test_an_unmigrated_database_is_refused(empty_db: Target) -> None:
    with pytest.raises(SeedError, match="not migrated"):
        seed_database(empty_db, report=lambda _: None)


# --- the command ----------------------------------------------------------------------------------


def test_the_command_says_target_counts_and_time(db: Target) -> None:
    result = CliRunner().invoke(seed_command, [], obj=CliContext(db.conninfo, None))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Target: ") and f"database {db.dbname}" in lines[0]
    assert "question_bank        inserted 251, updated 0, unchanged 0" in lines
    assert "users                inserted 5, updated 0, unchanged 0" in lines
    assert lines[-1].startswith("seeded in ")


def invoke(target: Target, *args: str) -> Any:
    """The seed command in this process (stdout and stderr apart)."""
    return CliRunner().invoke(seed_command, list(args), obj=CliContext(target.conninfo, None))


def test_json_is_one_document_on_stdout(db: Target) -> None:
    first = invoke(db, "--json")
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)  # the whole of stdout
    assert set(doc) == {"target", "result", "summary", "items", "errors"}
    assert doc["result"] == "ok" and doc["errors"] == []
    assert doc["target"]["database"] == db.dbname
    items = {item["table"]: item for item in doc["items"]}
    assert list(items) == list(SEEDED_TABLES)
    assert items["question_bank"] == {
        "part": "seed", "table": "question_bank", "inserted": 251, "updated": 0, "unchanged": 0
    }  # fmt: skip
    summary = doc["summary"]
    assert summary["inserted"] == sum(i["inserted"] for i in doc["items"]) > 251
    assert summary["changed"] is True and summary["scale"] is None
    assert summary["seconds"] >= summary["seed_seconds"] > 0
    assert "question_bank        inserted 251" in first.stderr  # human lines on stderr
    again = json.loads(invoke(db, "--json").stdout)
    assert again["summary"]["changed"] is False and again["summary"]["inserted"] == 0
    assert again["summary"]["unchanged"] == summary["inserted"]


@pytest.mark.slow
def test_scale_runs_after_the_seed_and_once(db: Target) -> None:
    """A plain run: the summary once on stdout, progress on stderr; then --json: one document;
    then a second --scale: refused before the seed runs again, in the one JSON shape."""
    result = invoke(db, "--scale", "1", "--random-seed", "7")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0].startswith("seed files valid")
    assert sum(line.startswith("scale data: 1,000 users, seed 7") for line in out) == 1
    assert sum(line.startswith("total (wall clock)") for line in out) == 1
    assert out[-1].startswith("seed and scale data in ")
    assert not any(line.startswith("seed --scale:") for line in out)  # progress: stderr only
    assert result.stderr.startswith("Target: ")
    assert rows(db, "SELECT count(*) FROM users WHERE email LIKE %s", "%@scale.test") == [(1000,)]

    # What a second run would visibly undo: an edited seeded question.
    key_id = question_id(load_seed_data().questions[0]["key"])
    with connect(db, autocommit=True) as conn:
        conn.execute("UPDATE question_bank SET explanation = 'edited' WHERE id = %s", [key_id])
    second = run("--dsn", db.conninfo, "seed", "--scale", "1", "--json")
    assert second.returncode == 1, second.stderr
    doc = json.loads(second.stdout)
    assert doc["result"] == "error" and doc["items"] == [] and doc["summary"] == {}
    (error,) = doc["errors"]
    assert error["kind"] == "ScaleDataExists"
    assert f"in database {db.dbname}: 1,000 synthetic users" in error["message"]
    assert "`netplus-db migrate reset`" in error["message"]
    assert "seed files valid" not in second.stderr  # the seed did not run again
    assert rows(db, "SELECT explanation FROM question_bank WHERE id = %s", key_id) == [("edited",)]
    assert rows(db, "SELECT count(*) FROM users WHERE email LIKE %s", "%@scale.test") == [(1000,)]


@pytest.mark.slow
def test_scale_json_reports_every_table(db: Target) -> None:
    result = invoke(db, "--scale", "1", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    scale = doc["summary"]["scale"]
    assert (scale["users"], scale["random_seed"]) == (1000, 42)
    loaded = [item for item in doc["items"] if item["part"] == "scale"]
    assert [item["table"] for item in loaded] == list(TABLE_NAMES)
    assert scale["rows"] == sum(item["rows"] for item in loaded)
    with connect(db, autocommit=True) as conn:
        for item in loaded:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(item["table"]))
            count = conn.execute(query).fetchone()
            seeded = 5 if item["table"] in SEEDED_TABLES else 0  # the demo accounts' rows
            assert count == (item["rows"] + seeded,), item
    assert result.stderr.count("total (wall clock)") == 1


def test_help_teaches_with_examples() -> None:
    result = CliRunner().invoke(seed_command, ["--help"])
    assert result.exit_code == 0
    text = result.output
    assert "seed/README.md" in text and "questions/<domain>.json" in text
    for example in (
        "netplus-db seed --scale 10",
        "netplus-db seed --json",
        "seed --allow-demo-accounts",
        "--random-seed 7",
        "netplus-db migrate reset",
    ):
        assert example in text, example
