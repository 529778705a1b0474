"""The query classes of the spec's "Query Performance Targets", each runnable three ways.

- `api`: through `netplus_db` as a backend calls it (`Database`, `as_user`, the flows);
- `raw`: raw psycopg running the same SQL (`querylayer.query(area, name).sql`) on the very
  connection the library's pool lends (`raw_driver.lent_connection`: taken from the pool once
  and used directly while it sits idle there), in a transaction that switches to the
  application role and sets `app.user_id` with the library's own `act_as` statement, statements
  prepared by psycopg the same way (on their sixth execution). A class whose library call is a
  flow (progress update, submit) runs that very flow with `raw_driver.drive_raw` on one cursor,
  so the baseline cannot drift from the flow; a single-statement class fetches plain tuples
  (login reads its one row by field name, as the generated row class). The same connection,
  not merely the same kind: on a 2-vCPU VM two backends can answer the same statements tens of
  microseconds apart per call, depending on where the scheduler puts each process, which would
  swamp a difference of a few microseconds;
- `pgbench`: the same SQL as pgbench `-M prepared` commands (see `bench.pgbench`).

Each class draws its arguments (users, components...) at random from the samples of the
benchmark database, with one seeded generator, so that `api` and `raw` do identical work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random
from typing import Any, ClassVar

from bench.pgbench import Script, command
from bench.raw_driver import Conn, act_as, lent_connection, raw_statement, run_flow
from bench.sql import bench_sql
from netplus_db.config import Target
from netplus_db.database import Database
from netplus_db.flows import assessments, learning
from netplus_db.flows.accounts import LOGIN_STATUSES
from netplus_db.generated import Queries
from netplus_db.generated.content import BrowseComponentsRow
from netplus_db.generated.users import FindLoginRow
from netplus_db.grading import answer_key, wrong_answers
from netplus_db.ops import scale
from netplus_db.querylayer import SqlQuery, query
from netplus_db.sql import sql_files

APP_ROLE = "app_user"
ADMIN_ROLE = "admin"
PRACTICE_EXAM = "practice-exam-n10-009"
PAGE_SIZE = 20
ANALYTICS_DAYS = 30
ANALYTICS_WEEKS = 12


def sql_of(area: str, name: str) -> str:
    """The statement the library sends for a named query (psycopg placeholders)."""
    return query(area, name).sql


# --- samples ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """What answering a question needs: its type, data and key."""

    question_type: str
    question_data: Mapping[str, Any]
    correct_answer: Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    """One page request of the catalog: a domain, and the keyset cursor (None: first page)."""

    domain: str
    after_title: str | None = None
    after_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Samples:
    """What the runners draw from, read from the benchmark database's `netplus_bench` tables."""

    users: list[tuple[uuid.UUID, str]]  # every scale user: id, email (login)
    learners: list[uuid.UUID]  # active scale users
    components: list[uuid.UUID]
    domains: list[str]
    cursors: list[Page]
    assessments: dict[str, uuid.UUID]  # slug -> id
    questions: dict[uuid.UUID, Question]
    last_day: date
    # Components a learner completes by recording progress: the others present an assessment
    # and are completed only by passing it.
    completable: list[uuid.UUID]

    @property
    def practice_exam(self) -> uuid.UUID:
        """The 90-question practice exam."""
        return self.assessments[PRACTICE_EXAM]

    @property
    def quizzes(self) -> list[uuid.UUID]:
        """The short quizzes (the mixed workload's attempts)."""
        return [i for slug, i in self.assessments.items() if slug.startswith("quiz-")]


def load_samples(conn: Conn) -> Samples:
    """Read the samples (made by `bench.scale_database`) and every question's key."""
    q = sql_files()
    users = [(row[1], str(row[2])) for row in bench_sql().sample_users(conn)]
    if not users:
        raise ValueError("the benchmark database has no scale users")
    learners = [row[1] for row in bench_sql().sample_learners(conn)]
    components = [row[1] for row in bench_sql().sample_components(conn)]
    domains = [str(row[1]) for row in bench_sql().sample_domains(conn)]
    cursors = [Page(str(r[1]), str(r[2]), r[3]) for r in bench_sql().sample_cursors(conn)]
    assessments = {str(row[2]): row[1] for row in bench_sql().sample_assessments(conn)}
    ids = [row[0] for row in conn.execute("SELECT id FROM question_bank").fetchall()]
    questions = {
        row[0]: Question(row[1], row[3], row[4]) for row in q.scale.questions(conn, ids=ids)
    }
    meta = bench_sql().meta_get(conn)
    if meta is None:
        raise ValueError("the benchmark database records no finished build")
    # The analytics window ends on the scale data's last day (the day before its anchor), not
    # today: the suite's own writes are today's, and the views see them after a refresh, so a
    # window ending today would change from one run to the next.
    last_day = scale.anchor_date(int(meta[1])) - timedelta(days=1)
    assessed = {row[0] for row in bench_sql().components_presenting_assessments(conn)}
    completable = [c for c in components if c not in assessed]
    return Samples(
        users, learners, components, domains, cursors, assessments, questions, last_day, completable
    )


def answer_for(question: Question, rng: Random) -> Any:
    """A learner's answer of the right shape: the key three times in four, else one of the
    grader's wrong (or partly right) answers."""
    shape = (question.question_type, question.question_data, question.correct_answer)
    key = answer_key(*shape)
    wrong = wrong_answers(*shape)
    return key if rng.random() < 0.75 or not wrong else rng.choice(wrong)


# --- the context the runners share ------------------------------------------------------------


@dataclass
class Context:
    """The benchmark database, its samples, the library's pools and a raw connection."""

    target: Target
    samples: Samples
    db: Database  # the library as a backend uses it (application role); a pool of one
    admin_db: Database  # the library acting as the admin role (analytics); a pool of one
    rng: Random = field(default_factory=lambda: Random(42))
    raw: Conn = field(init=False)  # db's connection, used directly (see the module docstring)
    admin_raw: Conn = field(init=False)  # admin_db's connection, used directly

    def __post_init__(self) -> None:
        self.raw = lent_connection(self.db)
        self.admin_raw = lent_connection(self.admin_db)

    def prepare_attempt(self, user_id: uuid.UUID, assessment_id: uuid.UUID) -> uuid.UUID:
        """Start an attempt and save an answer to every question through the library."""
        started = self.db.start_attempt(user_id=user_id, assessment_id=assessment_id)
        for q in started.questions:
            self.db.save_answer(
                user_id=user_id,
                attempt_id=started.attempt.id,
                question_id=q.id,
                user_answer=answer_for(self.samples.questions[q.id], self.rng),
                time_spent_seconds=self.rng.randint(15, 120),
            )
        return started.attempt.id


@dataclass(frozen=True)
class Runner:
    """How one way runs a class: `prepare` (untimed) makes the argument `call` (timed) takes."""

    call: Callable[[Any], object]
    prepare: Callable[[Any], Any] = lambda item: item


@dataclass(frozen=True)
class PgbenchPlan:
    """pgbench scripts of a class, the variables they need, and what to set up first."""

    scripts: list[Script]
    defines: dict[str, str] = field(default_factory=dict)
    setup: Callable[[int], None] | None = None  # given the number of transactions to come
    note: str = ""


def act_as_command(role: str, user: str) -> str:
    """pgbench form of the library's `act_as` statement (`role`, `user` are pgbench values;
    nobody is the literal `''`, since pgbench refuses an empty variable)."""
    return command(sql_files().session.act_as.query, {"role": role, "user_id": user})


def transaction_script(draws: Sequence[str], role: str, user: str, commands: Sequence[str]) -> str:
    """A pgbench transaction: first `draws`, the `\\set` lines and the lookup of the sampled ids
    (not part of the class), then BEGIN, the `act_as` statement, the class's commands, COMMIT."""
    return "\n".join([*draws, "BEGIN;", act_as_command(role, user), *commands, "COMMIT;"])


def draw_page(s: Samples, rng: Random) -> Page:
    """A catalog page to ask for: half first pages of a domain, half pages after a component."""
    if rng.random() < 0.5 or not s.cursors:
        return Page(rng.choice(s.domains))
    return rng.choice(s.cursors)


def browse_arguments(page: Page) -> dict[str, Any]:
    """The arguments of `content.browse_components` for one page of a domain."""
    return {
        "domain": page.domain,
        "subdomain": None,
        "component_type": None,
        "difficulty_level": None,
        "after_title": page.after_title,
        "after_id": page.after_id,
        "page_size": PAGE_SIZE,
    }


def browse(q: Queries, page: Page) -> list[BrowseComponentsRow]:
    """One catalog page through the library (the component list class, the mixed workload)."""
    return q.content.browse_components(**browse_arguments(page))


class QueryClass:
    """One query class: spec target, our target, and its three runners."""

    key: ClassVar[str]
    title: ClassVar[str]
    spec_ms: ClassVar[float]
    target_ms: ClassVar[float]  # our p95 target at SCALE=100 on the 2-core machine
    what: ClassVar[str]  # what one call does, for the report
    heavy: ClassVar[bool] = False  # fewer iterations (each needs an untimed preparation)

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        """The arguments of n calls, drawn at random (shared by the api and raw runners)."""
        raise NotImplementedError

    def api(self, ctx: Context) -> Runner:
        """Through the library."""
        raise NotImplementedError

    def raw(self, ctx: Context) -> Runner:
        """Raw psycopg, same SQL, same kind of connection."""
        raise NotImplementedError

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        """The same SQL as pgbench scripts."""
        raise NotImplementedError

    def statements(self) -> list[SqlQuery]:
        """The named queries one call runs (the plan checks look at each)."""
        raise NotImplementedError


# --- login --------------------------------------------------------------------------------------


class Login(QueryClass):
    """users.find_login + the status check, as the login flow does before bcrypt."""

    key = "login"
    title = "User login (lookup + status check)"
    spec_ms = 50
    target_ms = 2.5
    what = (
        "`as_user(None)`: `users.find_login` (email, case-insensitive) and the account status"
        " check; bcrypt is on its own line"
    )

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        return [rng.choice(s.users)[1] for _ in range(n)]

    def api(self, ctx: Context) -> Runner:
        db = ctx.db

        def call(email: str) -> bool:
            with db.as_user(None) as q:
                found = q.users.find_login(login=email)
            return found is not None and found.account_status in LOGIN_STATUSES

        return Runner(call)

    def raw(self, ctx: Context) -> Runner:
        conn, find_login = ctx.raw, raw_statement("users", "find_login")

        def call(email: str) -> bool:
            with conn.transaction(), conn.cursor() as cur:
                act_as(cur, APP_ROLE, None)
                found: FindLoginRow | None = find_login.run(cur, {"login": email})
            return found is not None and found.account_status in LOGIN_STATUSES

        return Runner(call)

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        text = transaction_script(
            [
                "\\set n random(1, :users)",
                "SELECT email AS login FROM netplus_bench.users WHERE n = :n \\gset",
            ],
            ":app_role",
            "''",
            [command(q) for q in self.statements()],
        )
        return PgbenchPlan(
            [Script("login", text)],
            {"users": str(len(ctx.samples.users)), "app_role": APP_ROLE},
        )

    def statements(self) -> list[SqlQuery]:
        return [query("users", "find_login")]


# --- dashboard ----------------------------------------------------------------------------------


class Dashboard(QueryClass):
    """analytics.dashboard_summary acting as the learner."""

    key = "dashboard"
    title = "Dashboard load"
    spec_ms = 200
    target_ms = 10
    what = "`as_user(learner)`: `analytics.dashboard_summary` (get_user_dashboard_summary)"

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        return [rng.choice(s.learners) for _ in range(n)]

    def api(self, ctx: Context) -> Runner:
        db = ctx.db

        def call(user_id: uuid.UUID) -> object:
            with db.as_user(user_id) as q:
                return q.analytics.dashboard_summary(user_id=user_id)

        return Runner(call)

    def raw(self, ctx: Context) -> Runner:
        conn, sql_text = ctx.raw, sql_of("analytics", "dashboard_summary")

        def call(user_id: uuid.UUID) -> object:
            with conn.transaction(), conn.cursor() as cur:
                act_as(cur, APP_ROLE, user_id)
                return cur.execute(sql_text, {"user_id": user_id}).fetchone()

        return Runner(call)

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        text = transaction_script(
            [
                "\\set n random(1, :learners)",
                "SELECT user_id FROM netplus_bench.learners WHERE n = :n \\gset",
            ],
            ":app_role",
            ":user_id",
            [command(q) for q in self.statements()],
        )
        return PgbenchPlan(
            [Script("dashboard", text)],
            {"learners": str(len(ctx.samples.learners)), "app_role": APP_ROLE},
        )

    def statements(self) -> list[SqlQuery]:
        return [query("analytics", "dashboard_summary")]


# --- component list -----------------------------------------------------------------------------


class ComponentList(QueryClass):
    """content.browse_components of one domain, 20 per page, keyset pages."""

    key = "component_list"
    title = "Component list"
    spec_ms = 100
    target_ms = 5
    what = (
        "`as_user(learner)`: `content.browse_components` with a domain filter, page_size 20;"
        " half first pages, half keyset pages after a component"
    )

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        out: list[tuple[uuid.UUID, Page]] = []
        for _ in range(n):
            page = draw_page(s, rng)
            out.append((rng.choice(s.learners), page))
        return out

    def api(self, ctx: Context) -> Runner:
        db = ctx.db

        def call(item: tuple[uuid.UUID, Page]) -> object:
            user_id, page = item
            with db.as_user(user_id) as q:
                return browse(q, page)

        return Runner(call)

    def raw(self, ctx: Context) -> Runner:
        conn, sql_text = ctx.raw, sql_of("content", "browse_components")

        def call(item: tuple[uuid.UUID, Page]) -> object:
            user_id, page = item
            with conn.transaction(), conn.cursor() as cur:
                act_as(cur, APP_ROLE, user_id)
                return cur.execute(sql_text, browse_arguments(page)).fetchall()

        return Runner(call)

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        browse = query("content", "browse_components")
        nulls = {"subdomain": "NULL", "component_type": "NULL", "difficulty_level": "NULL"}
        first = transaction_script(
            [
                "\\set n random(1, :learners)",
                "\\set d random(1, :domains)",
                "SELECT l.user_id, d.domain FROM netplus_bench.learners l,"
                " netplus_bench.domains d WHERE l.n = :n AND d.n = :d \\gset",
            ],
            ":app_role",
            ":user_id",
            [command(browse, {**nulls, "after_title": "NULL", "after_id": "NULL"})],
        )
        after = transaction_script(
            [
                "\\set n random(1, :learners)",
                "\\set c random(1, :cursors)",
                "SELECT l.user_id, c.domain, c.after_title, c.after_id"
                " FROM netplus_bench.learners l, netplus_bench.cursors c"
                " WHERE l.n = :n AND c.n = :c \\gset",
            ],
            ":app_role",
            ":user_id",
            [command(browse, nulls)],
        )
        scripts = [Script("browse_first", first)]
        if ctx.samples.cursors:
            scripts.append(Script("browse_after", after))
        return PgbenchPlan(
            scripts,
            {
                "learners": str(len(ctx.samples.learners)),
                "domains": str(len(ctx.samples.domains)),
                "cursors": str(max(1, len(ctx.samples.cursors))),
                "app_role": APP_ROLE,
                "page_size": str(PAGE_SIZE),
            },
        )

    def statements(self) -> list[SqlQuery]:
        return [query("content", "browse_components")]


# --- progress update ----------------------------------------------------------------------------


class ProgressUpdate(QueryClass):
    """record_progress with status in_progress: the progress function (the upsert and the
    minutes goals, in the database) and the read-back of the goals it changed."""

    key = "progress_update"
    title = "Progress update"
    spec_ms = 50
    target_ms = 2.5
    what = (
        "`record_progress(status='in_progress', time_spent_minutes=1)`: `progress.record_progress`"
        " (upsert and minutes goals in the database) and `goals.goals_by_id` for the goals it"
        " changed, one transaction, no completion"
    )

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        return [
            (rng.choice(s.learners), rng.choice(s.components), rng.randint(5, 95)) for _ in range(n)
        ]

    def api(self, ctx: Context) -> Runner:
        db = ctx.db

        def call(item: tuple[uuid.UUID, uuid.UUID, int]) -> object:
            user_id, component_id, pct = item
            return db.record_progress(
                user_id=user_id,
                component_id=component_id,
                status="in_progress",
                progress_percentage=pct,
                time_spent_minutes=1,
            )

        return Runner(call)

    def raw(self, ctx: Context) -> Runner:
        conn = ctx.raw

        def call(item: tuple[uuid.UUID, uuid.UUID, int]) -> object:
            user_id, component_id, pct = item
            flow = learning.record_progress(
                user_id=user_id,
                component_id=component_id,
                status="in_progress",
                progress_percentage=pct,
                time_spent_minutes=1,
            )
            return run_flow(conn, APP_ROLE, user_id, flow)

        return Runner(call)

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        text = transaction_script(
            [
                "\\set n random(1, :learners)",
                "\\set c random(1, :components)",
                "\\set progress_percentage random(5, 95)",
                "SELECT l.user_id, c.component_id FROM netplus_bench.learners l,"
                " netplus_bench.components c WHERE l.n = :n AND c.n = :c \\gset",
            ],
            ":app_role",
            ":user_id",
            [
                command(query("progress", "record_progress"), {"last_position": "NULL"}, gset="r_"),
                # -M prepared binds a variable as a parameter, so the array text needs no quotes
                "SELECT cardinality(:r_goal_ids::uuid[]) > 0 AS changed \\gset",
                "\\if :changed",
                command(query("goals", "goals_by_id"), {"ids": ":r_goal_ids::uuid[]"}),
                "\\endif",
            ],
        )
        return PgbenchPlan(
            [Script("progress", text)],
            {
                "learners": str(len(ctx.samples.learners)),
                "components": str(len(ctx.samples.components)),
                "app_role": APP_ROLE,
                "status": "in_progress",
                "time_spent_minutes": "1",
            },
        )

    def statements(self) -> list[SqlQuery]:
        return [query("progress", "record_progress"), query("goals", "goals_by_id")]


# --- assessment submit --------------------------------------------------------------------------


class AssessmentSubmit(QueryClass):
    """submit_attempt of a 90-question practice exam whose every answer was saved."""

    key = "assessment_submit"
    title = "Assessment submit (90 answers)"
    spec_ms = 500
    target_ms = 25
    heavy = True
    what = (
        "`submit_attempt` of the 90-question practice exam, every answer saved (start + 90"
        " `save_answer` untimed): lock, state, grading sheet, Python grading, grades, question"
        " statistics, totals, progress (and, when passed the first time, streak, goals,"
        " achievements), activity log"
    )

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        return [rng.choice(s.learners) for _ in range(n)]

    def api(self, ctx: Context) -> Runner:
        db = ctx.db

        def call(item: tuple[uuid.UUID, uuid.UUID]) -> object:
            return db.submit_attempt(user_id=item[0], attempt_id=item[1])

        return Runner(call, self._prepare(ctx))

    def raw(self, ctx: Context) -> Runner:
        conn = ctx.raw

        def call(item: tuple[uuid.UUID, uuid.UUID]) -> object:
            user_id, attempt_id = item
            flow = assessments.submit_attempt(user_id=user_id, attempt_id=attempt_id)
            return run_flow(conn, APP_ROLE, user_id, flow)

        return Runner(call, self._prepare(ctx))

    def _prepare(self, ctx: Context) -> Callable[[uuid.UUID], tuple[uuid.UUID, uuid.UUID]]:
        """A learner's practice exam, started and every question answered (untimed)."""
        exam = ctx.samples.practice_exam

        def prepare(user_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
            return user_id, ctx.prepare_attempt(user_id, exam)

        return prepare

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        def setup(count: int) -> None:
            fill_submit_queue(ctx, count)

        a = "assessments"
        commands = [
            command(query(a, "submit_attempt"), {"attempt_id": ":s_attempt_id"}, gset="r_"),
            "\\if :r_newly_completed",
            command(query("achievements", "get_streak"), {"user_id": ":s_user_id"}),
            "\\endif",
        ]
        text = transaction_script(
            [
                "SELECT s.* FROM netplus_bench.submits s"
                " WHERE s.n = (SELECT nextval('netplus_bench.submit_next')) \\gset s_"
            ],
            ":app_role",
            ":s_user_id",
            commands,
        )
        return PgbenchPlan(
            [Script("submit", text)],
            {"app_role": APP_ROLE},
            setup,
            "attempts prepared (start + 90 answers) before the run; pgbench runs the submit"
            " (graded in the database) and the streak read of the flow; the rarer reads of"
            " changed goals and awarded achievements are left out",
        )

    def statements(self) -> list[SqlQuery]:
        return [
            query("assessments", "submit_attempt"),
            query("goals", "goals_by_id"),
            query("achievements", "get_streak"),
            query("achievements", "achievement_summaries"),
        ]


def fill_submit_queue(ctx: Context, count: int) -> None:
    """Prepare `count` practice-exam attempts through the library and queue them for pgbench
    (`netplus_bench.submits`, handed out in order by `netplus_bench.submit_next`)."""
    exam = ctx.samples.practice_exam
    with ctx.raw.transaction():
        bench_sql().submit_queue_create(ctx.raw)
    for n in range(1, count + 1):
        user_id = ctx.rng.choice(ctx.samples.learners)
        attempt_id = ctx.prepare_attempt(user_id, exam)
        bench_sql().submit_queue_put(ctx.raw, n=n, attempt_id=attempt_id, user_id=user_id)


# --- practice exam build ------------------------------------------------------------------------


class ExamBuild(QueryClass):
    """start_attempt of the drawn practice exam: the draw of its 90 questions on the blueprint
    (migration 0018, ranked by the learner's review schedule since 0021) and the attempt's
    questions in their stored order, as `Database.start_attempt` returns them."""

    key = "exam_build"
    title = "Practice exam build (draw of 90)"
    spec_ms = 500  # the spec names no target for a start: its assessment (submit) target
    target_ms = 20
    heavy = True
    what = (
        "`start_attempt(practice exam)`: `assessments.start_attempt` (the draw: 21/18/17/13/21,"
        " simulations, objectives and difficulties in turn, due and unseen first) and"
        " `assessments.attempt_questions` (90 questions, options in the attempt's order)"
    )

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        return [rng.choice(s.learners) for _ in range(n)]

    def api(self, ctx: Context) -> Runner:
        db, exam = ctx.db, ctx.samples.practice_exam

        def call(user_id: uuid.UUID) -> object:
            return db.start_attempt(user_id=user_id, assessment_id=exam)

        return Runner(call)

    def raw(self, ctx: Context) -> Runner:
        conn, exam = ctx.raw, ctx.samples.practice_exam

        def call(user_id: uuid.UUID) -> object:
            flow = assessments.start_attempt(user_id=user_id, assessment_id=exam)
            return run_flow(conn, APP_ROLE, user_id, flow)

        return Runner(call)

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        text = transaction_script(
            [
                "\\set n random(1, :learners)",
                "SELECT user_id FROM netplus_bench.learners WHERE n = :n \\gset",
            ],
            ":app_role",
            ":user_id",
            [
                command(query("assessments", "start_attempt"), gset="a_"),
                command(query("assessments", "attempt_questions"), {"attempt_id": ":a_id"}),
            ],
        )
        return PgbenchPlan(
            [Script("exam_build", text)],
            {
                "learners": str(len(ctx.samples.learners)),
                "app_role": APP_ROLE,
                "assessment_id": str(ctx.samples.practice_exam),
            },
        )

    def statements(self) -> list[SqlQuery]:
        return [query("assessments", "start_attempt"), query("assessments", "attempt_questions")]


# --- analytics ----------------------------------------------------------------------------------


class Analytics(QueryClass):
    """The analytics reads: daily activity over 30 days, weekly domain progress, and how one
    assessment performs, as the admin role."""

    key = "analytics"
    title = "Analytics query"
    spec_ms = 2000
    target_ms = 100
    what = (
        "admin role (`Database(app_role='admin').as_user(None)`): `analytics.daily_activity`"
        " (30 days), `analytics.weekly_domain_progress` (12 weeks) and"
        " `analytics.assessment_performance` of a random assessment, one transaction"
    )

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        ids = list(s.assessments.values())
        return [rng.choice(ids) for _ in range(n)]

    def window(self, s: Samples) -> dict[str, date]:
        """The analytics window, ending at the newest day of activity in the data."""
        return {
            "from_day": s.last_day - timedelta(days=ANALYTICS_DAYS - 1),
            "to_day": s.last_day,
            "from_week": s.last_day - timedelta(weeks=ANALYTICS_WEEKS),
        }

    def api(self, ctx: Context) -> Runner:
        db, w = ctx.admin_db, self.window(ctx.samples)

        def call(assessment_id: uuid.UUID) -> object:
            with db.as_user(None) as q:
                days = q.analytics.daily_activity(from_day=w["from_day"], to_day=w["to_day"])
                weeks = q.analytics.weekly_domain_progress(from_week=w["from_week"])
                one = q.analytics.assessment_performance(assessment_id=assessment_id)
            return days, weeks, one

        return Runner(call)

    def raw(self, ctx: Context) -> Runner:
        conn, w = ctx.admin_raw, self.window(ctx.samples)
        days_sql = sql_of("analytics", "daily_activity")
        weeks_sql = sql_of("analytics", "weekly_domain_progress")
        one_sql = sql_of("analytics", "assessment_performance")
        days_args = {"from_day": w["from_day"], "to_day": w["to_day"]}
        weeks_args = {"from_week": w["from_week"]}

        def call(assessment_id: uuid.UUID) -> object:
            with conn.transaction(), conn.cursor() as cur:
                act_as(cur, ADMIN_ROLE, None)
                days = cur.execute(days_sql, days_args).fetchall()
                weeks = cur.execute(weeks_sql, weeks_args).fetchall()
                return (
                    days,
                    weeks,
                    cur.execute(one_sql, {"assessment_id": assessment_id}).fetchone(),
                )

        return Runner(call)

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        w = self.window(ctx.samples)
        text = transaction_script(
            [
                "\\set n random(1, :assessments)",
                "SELECT assessment_id FROM netplus_bench.assessments WHERE n = :n \\gset",
            ],
            ":admin_role",
            "''",
            [command(q) for q in self.statements()],
        )
        return PgbenchPlan(
            [Script("analytics", text)],
            {
                "assessments": str(len(ctx.samples.assessments)),
                "admin_role": ADMIN_ROLE,
                **{k: v.isoformat() for k, v in w.items()},
            },
        )

    def statements(self) -> list[SqlQuery]:
        return [
            query("analytics", "daily_activity"),
            query("analytics", "weekly_domain_progress"),
            query("analytics", "assessment_performance"),
        ]


# --- learning intelligence (migration 0019) -------------------------------------------------------


class LearnerRead(QueryClass):
    """One named query of queries/learning.sql acting as a learner, with its user id (and a
    limit where it takes one)."""

    area: ClassVar[str] = "learning"
    name: ClassVar[str]
    limit: ClassVar[int | None] = None

    def draw(self, s: Samples, rng: Random, n: int) -> list[Any]:
        return [rng.choice(s.learners) for _ in range(n)]

    def arguments(self, user_id: uuid.UUID) -> dict[str, Any]:
        """The query's arguments for one learner."""
        given: dict[str, Any] = {"user_id": user_id}
        if self.limit is not None:
            given["limit"] = self.limit
        return given

    def api(self, ctx: Context) -> Runner:
        db, area, name = ctx.db, self.area, self.name

        def call(user_id: uuid.UUID) -> object:
            with db.as_user(user_id) as q:
                return getattr(getattr(q, area), name)(**self.arguments(user_id))

        return Runner(call)

    def raw(self, ctx: Context) -> Runner:
        conn, sql_text = ctx.raw, sql_of(self.area, self.name)

        def call(user_id: uuid.UUID) -> object:
            with conn.transaction(), conn.cursor() as cur:
                act_as(cur, APP_ROLE, user_id)
                return cur.execute(sql_text, self.arguments(user_id)).fetchall()

        return Runner(call)

    def pgbench(self, ctx: Context) -> PgbenchPlan:
        text = transaction_script(
            [
                "\\set n random(1, :learners)",
                "SELECT user_id FROM netplus_bench.learners WHERE n = :n \\gset",
            ],
            ":app_role",
            ":user_id",
            [
                command(q, {"limit": str(self.limit)} if self.limit else None)
                for q in self.statements()
            ],
        )
        return PgbenchPlan(
            [Script(self.key, text)],
            {"learners": str(len(ctx.samples.learners)), "app_role": APP_ROLE},
        )

    def statements(self) -> list[SqlQuery]:
        return [query(self.area, self.name)]


class Readiness(LearnerRead):
    """learning.readiness: the exam and its domains, estimated from mastery per objective."""

    key = "readiness"
    title = "Readiness (exam and domains, estimated)"
    spec_ms = 200
    target_ms = 10
    what = "`as_user(learner)`: `learning.readiness` (learner_readiness over 25 objectives)"
    name = "readiness"


class DashboardWithReadiness(LearnerRead):
    """learning.dashboard_with_readiness: the dashboard, the exam estimate, reviews due."""

    key = "dashboard_readiness"
    title = "Dashboard with readiness and reviews due"
    spec_ms = 200
    target_ms = 10
    what = (
        "`as_user(learner)`: `learning.dashboard_with_readiness` (dashboard summary, exam"
        " estimate, review_due_counts)"
    )
    name = "dashboard_with_readiness"


class ReviewQueue(LearnerRead):
    """learning.review_queue: the 20 cards due first, questions without keys."""

    key = "review_queue"
    title = "Review queue (20 due cards)"
    spec_ms = 100
    target_ms = 5
    what = "`as_user(learner)`: `learning.review_queue` (20 due cards with their questions)"
    name = "review_queue"
    limit = 20


CLASSES: tuple[QueryClass, ...] = (
    Login(),
    Dashboard(),
    ComponentList(),
    ProgressUpdate(),
    AssessmentSubmit(),
    Analytics(),
    Readiness(),
    DashboardWithReadiness(),
    ReviewQueue(),
    ExamBuild(),
)


def by_key(keys: Iterable[str] | None) -> list[QueryClass]:
    """The classes with these keys (all when None), in the spec's order."""
    if keys is None:
        return list(CLASSES)
    wanted = set(keys)
    unknown = wanted - {c.key for c in CLASSES}
    if unknown:
        raise ValueError(
            f"unknown query class(es): {', '.join(sorted(unknown))};"
            f" known: {', '.join(c.key for c in CLASSES)}"
        )
    return [c for c in CLASSES if c.key in wanted]
