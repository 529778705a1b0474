"""Synthetic load data: `netplus-db seed --scale N` adds N thousand learners with their history.

`load_scale` builds on the catalog already in the database (published components, questions,
assessments, achievements) and adds, per user: the account, profile, settings and streak, progress
on a skewed share of the components with the learning sessions behind it, bookmarks, assessment
attempts with an answer for every question, study goals, the achievements the generated history
earns, and activity log entries.

Deterministic: every value, ids and timestamps included, comes from `random.Random` streams seeded
with `random_seed` (one stream per block of `CHUNK_USERS` users) and from a fixed anchor date
derived from the seed; nothing reads the clock or `gen_random_uuid()`. The same seed on the same
catalog gives identical rows.

Consistent by construction (the invariants the tests and benchmarks check): one progress row per
(user, component); completed and mastered rows carry their dates and 100 %; time spent is the sum of
the sessions; attempts are numbered 1..k, their question order is a permutation of the assessment's
questions, every question has an answer row, graded by `netplus_db.grading`, whose points add up to
the score and whose kinds add up to the counts; streaks are computed from the active days; goals
and achievements from the generated events.

Fast: a producer thread generates the rows of a block of users as COPY text while the main thread
COPYs the previous block (each table in foreign-key order), all in one transaction, so a failure
leaves nothing behind. The tables are ANALYZEd afterwards. Users are marked by the email domain
`scale.test`; a second load on the same database is refused.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from random import Random
from typing import Any, TextIO

import bcrypt
import psycopg
from psycopg import sql

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.errors import NetplusError
from netplus_db.generated.enums import (
    AssessmentType,
    DeviceType,
    DifficultyLevel,
    FontSize,
    GoalType,
    StudyGoalMetric,
    UserSettingTheme,
)
from netplus_db.grading import answer_key, grade, wrong_answers
from netplus_db.ops.progress import QUIET_FOR, LiveLine, Meter, counted, terminal_line
from netplus_db.ops.seed import ASSESSMENT_COMPONENTS
from netplus_db.sql import sql_files

EMAIL_DOMAIN = "scale.test"
CHUNK_USERS = 1000
PASSWORD = b"password123"
# A fixed salt (cost 4) makes the one password hash every scale user shares deterministic.
PASSWORD_SALT = b"$2b$04$NetplusDbScaleLoadSalu"

DAY = 86_400
HISTORY_DAYS = 800  # timestamps are seconds since the anchor date minus this many days
ANCHOR_BASE = date(2025, 1, 1)

# (table, columns) in foreign-key order: the order of the COPYs.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "users",
        (
            "id", "email", "username", "password_hash", "role", "email_verified",
            "account_status", "created_at", "updated_at",
        ),
    ),
    (
        "user_profiles",
        (
            "id", "user_id", "first_name", "last_name", "display_name", "bio", "avatar_url",
            "timezone", "locale", "certifications", "created_at", "updated_at",
        ),
    ),
    (
        "user_settings",
        (
            "id", "user_id", "theme", "notifications_enabled", "email_notifications",
            "study_reminders", "reminder_time", "reminder_days", "accessibility_mode",
            "high_contrast", "font_size", "daily_goal_minutes", "privacy_settings",
            "created_at", "updated_at",
        ),
    ),
    (
        "learning_streaks",
        (
            "id", "user_id", "current_streak", "longest_streak", "last_activity_date",
            "streak_start_date", "total_active_days", "streak_frozen_days", "streak_history",
            "created_at", "updated_at",
        ),
    ),
    (
        "user_progress",
        (
            "id", "user_id", "component_id", "status", "progress_percentage",
            "time_spent_minutes", "last_position", "best_score", "latest_score",
            "completion_date", "mastery_date", "created_at", "updated_at",
        ),
    ),
    (
        "learning_sessions",
        (
            "id", "user_id", "component_id", "session_start", "session_end", "duration_minutes",
            "interaction_count", "completion_achieved", "device_type", "session_data",
            "created_at",
        ),
    ),
    (
        "bookmarks",
        ("id", "user_id", "component_id", "position", "note", "created_at", "updated_at"),
    ),
    (
        "assessment_attempts",
        (
            "id", "user_id", "assessment_id", "attempt_number", "status", "started_at",
            "completed_at", "time_spent_minutes", "score", "percentage", "passed",
            "question_order", "correct_answers", "incorrect_answers", "skipped_questions",
            "created_at", "updated_at",
        ),
    ),
    (
        "assessment_answers",
        (
            "id", "attempt_id", "question_id", "user_answer", "is_correct", "points_earned",
            "time_spent_seconds", "flagged_for_review", "created_at", "updated_at",
        ),
    ),
    (
        "study_goals",
        (
            "id", "user_id", "goal_type", "title", "target_value", "current_value", "metric",
            "start_date", "target_date", "completed_date", "status", "created_at", "updated_at",
        ),
    ),
    ("user_achievements", ("id", "user_id", "achievement_id", "earned_at", "progress_data")),
    (
        "user_activity_logs",
        (
            "id", "user_id", "activity_type", "activity_description", "resource_type",
            "resource_id", "metadata", "ip_address", "user_agent", "created_at",
        ),
    ),
)  # fmt: skip
TABLE_NAMES: tuple[str, ...] = tuple(name for name, _ in TABLES)
(
    T_USERS,
    T_PROFILES,
    T_SETTINGS,
    T_STREAKS,
    T_PROGRESS,
    T_SESSIONS,
    T_BOOKMARKS,
    T_ATTEMPTS,
    T_ANSWERS,
    T_GOALS,
    T_ACHIEVEMENTS,
    T_ACTIVITY,
) = range(len(TABLES))

NULL = "\\N"
ASSESSMENT_COMPONENT_TYPES = frozenset(ASSESSMENT_COMPONENTS)
EXAM_TYPES = frozenset({AssessmentType.PRACTICE_EXAM, AssessmentType.FINAL_EXAM})
DIFFICULTY_BONUS = {
    DifficultyLevel.BEGINNER: 0.12,
    DifficultyLevel.INTERMEDIATE: 0.0,
    DifficultyLevel.ADVANCED: -0.12,
}


def _weighted(*weights: tuple[StrEnum, int]) -> tuple[str, ...]:
    """Each value repeated by its weight, for `rng.choice`; plain str, which an f-string
    formats three times as fast as an enum member."""
    return tuple(member.value for member, weight in weights for _ in range(weight))


FIRST_NAMES = (
    "Alex", "Amara", "Ben", "Carlos", "Chen", "Dana", "Diego", "Elena", "Farah", "Gabriel",
    "Hana", "Ivan", "Jamal", "Jin", "Kai", "Laila", "Lucas", "Maya", "Mohammed", "Nadia",
    "Noah", "Olivia", "Omar", "Priya", "Quinn", "Rafael", "Rosa", "Sam", "Sofia", "Tariq",
    "Uma", "Victor", "Wen", "Xavier", "Yara", "Yusuf", "Zoe", "Aisha", "Bruno", "Ingrid",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Ahmed", "Baker", "Chen", "Costa", "Davis", "Diaz", "Evans", "Fischer", "Garcia",
    "Gupta", "Hansen", "Ito", "Jensen", "Khan", "Kim", "Kowalski", "Lee", "Lopez", "Martin",
    "Mensah", "Meyer", "Morales", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Perez", "Rossi",
    "Sato", "Schmidt", "Silva", "Singh", "Smith", "Tanaka", "Taylor", "Walker", "Wang", "Young",
)  # fmt: skip
BIOS = (
    "Help desk technician studying for Network+.",
    "Career changer, first IT certification.",
    "Junior network administrator.",
    "Student in a networking program.",
)
TIMEZONES = (
    "UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Singapore", "Australia/Sydney",
)  # fmt: skip
LOCALES = ("en-US", "en-US", "en-US", "en-GB", "en-IN", "en-AU", "es-ES", "de-DE")
CERTIFICATIONS = ("{}",) * 16 + ('{"CompTIA A+"}',) * 3 + ('{"CompTIA A+","CompTIA ITF+"}',)
THEMES = _weighted(
    (UserSettingTheme.SYSTEM, 3), (UserSettingTheme.LIGHT, 1), (UserSettingTheme.DARK, 2)
)
FONT_SIZES = _weighted(
    (FontSize.MEDIUM, 8), (FontSize.SMALL, 1), (FontSize.LARGE, 1), (FontSize.X_LARGE, 1)
)
GOAL_MINUTES = (15, 20, 30, 30, 30, 45, 60, 90)
REMINDER_DAYS = ("{1,2,3,4,5,6,7}",) * 3 + ("{1,2,3,4,5}", "{6,7}", "{1,3,5}")
PRIVACY = (
    '{"profile_public": false, "show_progress": false}',
    '{"profile_public": true, "show_progress": true}',
    '{"profile_public": false, "show_progress": true}',
    "{}",
)
DEVICES = _weighted((DeviceType.DESKTOP, 6), (DeviceType.MOBILE, 3), (DeviceType.TABLET, 1))
USER_AGENTS: dict[str, str] = {
    DeviceType.DESKTOP: (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0"
    ),
    DeviceType.MOBILE: (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
    ),
    DeviceType.TABLET: "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
}
SESSION_DATA = ('{"source": "web"}', '{"source": "web"}', '{"source": "app"}', "{}")
POSITIONS = tuple(f'{{"section": {n}}}' for n in range(1, 9))
NOTES = ("Review before the exam", "Good summary", "Come back to this", "Tricky part")
# (goal_type, title, metric, target, days to the target date); target 0: the daily minutes
GOALS = (
    (GoalType.DAILY, "", StudyGoalMetric.MINUTES, 0, None),
    (GoalType.WEEKLY, "Finish 3 components this week", StudyGoalMetric.COMPONENTS, 3, 7),
    (GoalType.MONTHLY, "Study 10 hours this month", StudyGoalMetric.MINUTES, 600, 30),
    (
        GoalType.EXAM_DATE,
        "Work through 20 components before the exam",
        StudyGoalMetric.COMPONENTS,
        20,
        90,
    ),
)


class CatalogEmpty(NetplusError):
    """There is no catalog (components, assessments) for the scale data to build on."""


class ScaleDataExists(NetplusError):
    """Scale data is already loaded in this database; loading twice is refused."""


class NotPrivileged(NetplusError):
    """The connecting role cannot COPY into the row-level-secured tables."""


# --- the report ---------------------------------------------------------------------------------


@dataclass
class TableLoad:
    """Rows COPYed into one table and the seconds its COPYs took (server ingestion included)."""

    table: str
    rows: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        """Rows per second of this table's COPYs."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ScaleReport:
    """What a scale load did: users, rows and seconds per table, and the wall-clock total."""

    users: int
    random_seed: int
    anchor: date
    tables: list[TableLoad] = field(default_factory=list)
    seconds: float = 0.0  # wall clock, end to end (catalog, generation, COPY, commit, ANALYZE)
    generate_seconds: float = 0.0  # the producer's busy time (overlaps the COPYs)
    stats_seconds: float = 0.0  # adding the load to the question and component statistics
    analyze_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows loaded into all tables."""
        return sum(t.rows for t in self.tables)

    @property
    def rows_per_second(self) -> float:
        """Rows per wall-clock second, end to end."""
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0

    def table(self, name: str) -> TableLoad:
        """The load of one table."""
        for load in self.tables:
            if load.table == name:
                return load
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [
            f"scale data: {self.users:,} users, seed {self.random_seed}, anchor {self.anchor}",
            f"{'table':<22}{'rows':>12}{'seconds':>10}{'rows/s':>12}",
        ]
        for t in self.tables:
            lines.append(f"{t.table:<22}{t.rows:>12,}{t.seconds:>10.2f}{t.rows_per_second:>12,.0f}")
        lines.append(
            f"{'total (wall clock)':<22}{self.total_rows:>12,}{self.seconds:>10.2f}"
            f"{self.rows_per_second:>12,.0f}"
        )
        lines.append(
            f"generation {self.generate_seconds:.2f}s (overlapping the COPYs), catalog"
            f" statistics {self.stats_seconds:.2f}s, ANALYZE {self.analyze_seconds:.2f}s"
        )
        return "\n".join(lines)


# --- the catalog, prepared once -----------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    """A precomputed answer to one question: its COPY text (None: skipped) and its grade."""

    json: str | None
    correct: bool
    cents: int


@dataclass(frozen=True)
class _Question:
    id: str
    cents: int  # points x 100
    bonus: float  # added to the learner's chance of a right answer
    right: _Answer | None
    wrong: tuple[_Answer, ...]


@dataclass(frozen=True)
class _Component:
    id: str
    kind: str
    domain: str
    minutes: int


@dataclass(frozen=True)
class _Assessment:
    id: str
    kind: str
    domain: str | None
    passing: int
    max_attempts: int | None
    time_limit: int | None
    randomize: bool
    questions: tuple[_Question, ...]
    order_text: str  # question_ids as a uuid[] literal, for unshuffled attempts
    possible_cents: int
    component: _Component | None  # the component whose content points at this assessment


@dataclass(frozen=True)
class _Achievement:
    id: str
    kind: str  # the criteria type
    required: int
    domain: str | None
    component_type: str | None
    assessment_type: str | None
    criteria_json: str


@dataclass(frozen=True)
class _Catalog:
    path: tuple[_Component, ...]  # components learned by reading/doing, in learning order
    assessments: tuple[_Assessment, ...]
    achievements: tuple[_Achievement, ...]


def _copy_text(value: str) -> str:
    """Escape a value for COPY's text format (JSON may hold backslashes)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _json(value: Any) -> str:
    return _copy_text(json.dumps(value, ensure_ascii=True))


def _graded(row: Mapping[str, Any], answer: Any) -> _Answer | None:
    try:
        result = grade(row["question_type"], row["question_data"], row["correct_answer"], answer)
    except Exception:  # a definition the grader refuses: leave this answer out
        return None
    cents = int(result.points(row["points"]) * 100)
    return _Answer(_json(answer), result.correct, cents)


def _question(row: Mapping[str, Any]) -> _Question:
    """Precompute the key and a few wrong answers of a question, graded once."""
    qtype, data, key = row["question_type"], row["question_data"], row["correct_answer"]
    right: _Answer | None = None
    wrong: list[_Answer] = []
    try:
        candidates = [answer_key(qtype, data, key), *wrong_answers(qtype, data, key)]
    except Exception:  # malformed definition: every answer to it is a skip
        candidates = []
    for candidate in candidates:
        graded = _graded(row, candidate)
        if graded is None:
            continue
        if graded.correct:
            right = right or graded
        else:
            wrong.append(graded)
    return _Question(
        id=row["id"].hex,
        cents=int(row["points"]) * 100,
        bonus=DIFFICULTY_BONUS.get(row["difficulty_level"], 0.0),
        right=right,
        wrong=tuple(wrong),
    )


def _achievement(row: Mapping[str, Any]) -> _Achievement | None:
    """An achievement whose criteria the generator can evaluate, else None (never awarded)."""
    criteria = row["criteria"] if isinstance(row["criteria"], dict) else {}
    kind = criteria.get("type") or ("manual" if not criteria else None)
    threshold = {
        "components_completed": "count",
        "components_mastered": "count",
        "assessments_passed": "count",
        "perfect_score": "count",
        "streak_days": "days",
        "active_days": "days",
        "total_minutes": "minutes",
    }
    if kind in ("manual", "first_login"):
        required = 0
    elif kind in threshold:
        try:
            required = int(criteria[threshold[kind]])
        except (KeyError, TypeError, ValueError):
            return None
    else:
        return None
    return _Achievement(
        id=row["id"].hex,
        kind=kind,
        required=max(required, 0),
        domain=criteria.get("domain"),
        component_type=criteria.get("component_type"),
        assessment_type=criteria.get("assessment_type"),
        criteria_json=_json(criteria),
    )


COMPONENT_COLUMNS = (
    "id", "component_type", "domain", "subdomain", "difficulty_level", "slug",
    "estimated_duration_minutes", "assessment_slug",
)  # fmt: skip
ASSESSMENT_COLUMNS = (
    "id", "slug", "assessment_type", "domain", "passing_score", "max_attempts",
    "time_limit_minutes", "randomize_questions", "question_ids",
)  # fmt: skip
QUESTION_COLUMNS = (
    "id", "question_type", "difficulty_level", "question_data", "correct_answer", "points",
)  # fmt: skip


def _rows(columns: Sequence[str], rows: Any) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _read_catalog(conn: psycopg.Connection[Any]) -> _Catalog:
    """Read and prepare the catalog; CatalogEmpty when there is nothing to build on."""
    queries = sql_files()
    components = _rows(COMPONENT_COLUMNS, queries.scale.components(conn))
    assessments = _rows(ASSESSMENT_COLUMNS, queries.scale.assessments(conn))
    if not components or not assessments:
        raise CatalogEmpty(
            f"the catalog is empty ({len(components)} published learning components, "
            f"{len(assessments)} published assessments with questions): run `netplus-db seed` "
            "first, then `netplus-db seed --scale N`"
        )
    ids = sorted({q for a in assessments for q in a["question_ids"]})
    questions = {
        row["id"]: _question(row)
        for row in _rows(QUESTION_COLUMNS, queries.scale.questions(conn, ids=ids))
    }
    # Left out: an assessment naming a question twice or one that does not exist (its answers
    # could not be stored one per question).
    usable = [
        a
        for a in assessments
        if len(set(a["question_ids"])) == len(a["question_ids"])
        and all(q in questions for q in a["question_ids"])
    ]
    slugs = {a["slug"] for a in usable}
    linked: dict[str, _Component] = {}  # assessment slug: the component pointing at it
    path: list[_Component] = []
    for c in components:
        component = _Component(
            id=c["id"].hex,
            kind=c["component_type"],
            domain=c["domain"],
            minutes=int(c["estimated_duration_minutes"] or 20),
        )
        slug = c["assessment_slug"]
        if c["component_type"] in ASSESSMENT_COMPONENT_TYPES and slug in slugs:
            linked.setdefault(slug, component)
            if linked[slug] is component:
                continue
        path.append(component)
    prepared = []
    for a in usable:
        qs = tuple(questions[q] for q in a["question_ids"])
        prepared.append(
            _Assessment(
                id=a["id"].hex,
                kind=a["assessment_type"],
                domain=a["domain"],
                passing=int(a["passing_score"]),
                max_attempts=a["max_attempts"],
                time_limit=a["time_limit_minutes"],
                randomize=bool(a["randomize_questions"]),
                questions=qs,
                order_text="{" + ",".join(q.id for q in qs) + "}",
                possible_cents=sum(q.cents for q in qs),
                component=linked.get(a["slug"]),
            )
        )
    achievements = [
        _achievement(row)
        for row in _rows(("id", "code", "criteria"), queries.scale.achievements(conn))
    ]
    return _Catalog(
        path=tuple(path),
        assessments=tuple(prepared),
        achievements=tuple(a for a in achievements if a is not None),
    )


# --- the generator ------------------------------------------------------------------------------


def anchor_date(random_seed: int) -> date:
    """The fixed 'today' of a load: every timestamp lies before it. Derived from the seed."""
    return ANCHOR_BASE + timedelta(
        days=Random(f"netplus-scale-anchor:{random_seed}").randrange(365)
    )


def password_hash() -> str:
    """The bcrypt hash of `password123` with the fixed salt (computed once per load)."""
    return bcrypt.hashpw(PASSWORD, PASSWORD_SALT).decode()


def _pct_text(hundredths: int) -> str:
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def _uuid(bits: Callable[[int], int]) -> str:
    """A version-4 UUID from a seeded stream, as 32 hex digits (PostgreSQL reads them)."""
    n = bits(128)
    n = (n & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    return f"{n:032x}"


def _runs(days: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs (first day, length) of sorted distinct day numbers."""
    runs: list[tuple[int, int]] = []
    for d in days:
        if runs and runs[-1][0] + runs[-1][1] == d:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((d, 1))
    return runs


@dataclass
class _Learner:
    """One synthetic user while their rows are generated: who they are and what they did."""

    number: int
    id: str
    reg: int  # registration time
    active: bool
    engagement: float  # 0..1: how far through the course this user gets
    skill: float  # chance of answering a question right
    start: int  # first learning activity
    span: int  # seconds of learning activity from `start`
    ip: str
    agent: str
    device: str
    completions: list[tuple[int, str, str]] = field(default_factory=list)  # (t, type, domain)
    masteries: list[tuple[int, str]] = field(default_factory=list)  # (t, domain)
    minutes: list[tuple[int, int]] = field(default_factory=list)  # (t, minutes recorded)
    days: set[int] = field(default_factory=set)  # active day numbers
    logs: list[tuple[int, str]] = field(default_factory=list)  # (t, log line sans id and time)
    started: list[tuple[_Component, int]] = field(default_factory=list)  # (component, t)
    domain_done: dict[str, int] = field(default_factory=dict)  # domain: last completion t
    passes: list[tuple[int, str]] = field(default_factory=list)  # (t, assessment type)
    perfect: list[int] = field(default_factory=list)  # completed attempts at 100 %
    passed_ids: set[tuple[str, str]] = field(default_factory=set)  # (assessment, type) passed


class _Generator:
    """Turns user numbers into COPY text lines, one list per table."""

    def __init__(self, catalog: _Catalog, random_seed: int, anchor: date, hashed: str) -> None:
        self.catalog = catalog
        self.seed = random_seed
        self.hash = hashed
        epoch = anchor - timedelta(days=HISTORY_DAYS)
        # Day numbers to ISO dates, up to a year past the anchor (goal target dates).
        self.days = [(epoch + timedelta(days=d)).isoformat() for d in range(HISTORY_DAYS + 400)]
        self.now = HISTORY_DAYS * DAY  # the anchor, in seconds since the epoch
        self.rng = Random()
        self.out: list[list[str]] = []

    def ts(self, t: int) -> str:
        """A timestamptz in COPY text from seconds since the epoch (UTC)."""
        d, s = divmod(t, DAY)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return f"{self.days[d]} {h:02d}:{m:02d}:{s:02d}+00"

    def new_id(self) -> str:
        """The next version-4 UUID of the seeded stream."""
        return _uuid(self.rng.getrandbits)

    def chunk(self, index: int, first: int, count: int) -> list[list[str]]:
        """The rows of users first..first+count-1 (block `index` of the seeded streams)."""
        self.rng = Random(f"netplus-scale:{self.seed}:{index}")
        self.out = [[] for _ in TABLES]
        for u in range(first, first + count):
            self.user(u)
        return self.out

    def user(self, u: int) -> None:
        """Append every row of user number `u`."""
        rng = self.rng
        rand = rng.random
        now = self.now
        reg = now - DAY - int(364 * DAY * (1.0 - rand() ** 0.6)) - rng.randrange(DAY)
        active = rand() >= 0.08
        engagement = rand() ** 1.8 if active else 0.0
        start = reg + 300 + rng.randrange(3600)
        span = max(3600, int((now - reg - 7200) * min(1.0, 0.1 + engagement * 1.2)))
        device = rng.choice(DEVICES)
        who = _Learner(
            number=u,
            id=self.new_id(),
            reg=reg,
            active=active,
            engagement=engagement,
            skill=min(0.95, 0.45 + 0.3 * engagement + 0.25 * rand()),
            start=start,
            span=max(60, min(now - 3600, start + span) - start),
            ip=f"198.51.100.{u % 250 + 1}" if u % 3 else f"203.0.113.{u % 250 + 1}",
            agent=USER_AGENTS[device],
            device=device,
        )
        if active:
            self.learning_path(who)
            self.assessments(who)
        goal_minutes = self.account(who)
        self.streak(who)
        self.bookmarks(who)
        if active:
            self.goals(who, goal_minutes)
        self.achievements(who)
        self.activity(who)

    def learning_path(self, who: _Learner) -> None:
        """Progress on a skewed share of the path, mostly in order, with its sessions."""
        rng, ts, new_id, now = self.rng, self.ts, self.new_id, self.now
        rand = rng.random
        uid = who.id
        progress = self.out[T_PROGRESS]
        sessions = self.out[T_SESSIONS]
        path = self.catalog.path
        n = len(path)
        k = min(n, int(who.engagement * n * 0.55 + rand() * 2) + 1)
        window = min(n, k + 1 + k // 3)
        p_complete = 0.5 + 0.45 * who.engagement
        p_master = 0.04 + 0.3 * who.engagement**2
        for j, ci in enumerate(sorted(rng.sample(range(window), k))):
            comp = path[ci]
            base = who.start + int(who.span * (j + 0.8 * rand()) / k)
            who.started.append((comp, base))
            if rand() < 0.03:  # opened, never worked on
                progress.append(
                    f"{new_id()}\t{uid}\t{comp.id}\tnot_started\t0\t0\t\\N\t\\N\t\\N\t\\N\t\\N"
                    f"\t{ts(base)}\t{ts(base)}\n"
                )
                continue
            if (j < k - 1 or rand() < 0.3) and rand() < p_complete:
                status = "mastered" if rand() < p_master else "completed"
            else:
                status = "in_progress"
            pct = 100 if status != "in_progress" else rng.randrange(5, 96)
            total = max(2, int(comp.minutes * (0.6 + 0.8 * rand()) * pct / 100))
            count = 1 if status == "in_progress" else 1 + (rand() < 0.6) + (rand() < 0.2)
            count += status == "mastered"  # a review session earns the mastery
            # Each session gets an equal slot of the time left before the anchor, so they stay
            # in order and end before it: duration at most half the slot, then a gap.
            slot = (now - 120 - base) // count
            spent = 0
            t = base
            ends: list[int] = []
            for s in range(count):
                dur = max(1, min(180, slot // 120, total // count + rng.randrange(-2, 3)))
                t_end = t + dur * 60 + rng.randrange(60)
                achieved = status != "in_progress" and (
                    s == count - 1 or (status == "mastered" and s == count - 2)
                )
                sessions.append(
                    f"{new_id()}\t{uid}\t{comp.id}\t{ts(t)}\t{ts(t_end)}\t{dur}"
                    f"\t{dur * rng.randrange(1, 6)}\t{'t' if achieved else 'f'}"
                    f"\t{rng.choice(DEVICES) if rand() < 0.2 else who.device}"
                    f"\t{SESSION_DATA[who.number % 4]}\t{ts(t)}\n"
                )
                who.days.add(t // DAY)
                who.minutes.append((t_end, dur))
                spent += dur
                ends.append(t_end)
                t = t_end + max(60, min(rng.randrange(3600, 3 * DAY), slot - dur * 60 - 60))
            completion = mastery = NULL
            if status != "in_progress":
                done = ends[-2] if status == "mastered" else ends[-1]
                completion = ts(done)
                self.completed(who, comp, done, "{}")
                if status == "mastered":
                    mastery = ts(ends[-1])
                    who.masteries.append((ends[-1], comp.domain))
            progress.append(
                f"{new_id()}\t{uid}\t{comp.id}\t{status}\t{pct}\t{spent}"
                f"\t{POSITIONS[min(7, pct * 7 // 100)]}\t\\N\t\\N\t{completion}\t{mastery}"
                f"\t{ts(base)}\t{ts(ends[-1])}\n"
            )

    @staticmethod
    def completed(who: _Learner, comp: _Component, t: int, metadata: str) -> None:
        """Note a first completion (the flow logs it, achievements and goals count it)."""
        who.completions.append((t, comp.kind, comp.domain))
        who.domain_done[comp.domain] = max(who.domain_done.get(comp.domain, 0), t)
        who.logs.append(
            (
                t,
                f"{who.id}\tcomponent_completed\tCompleted a learning component"
                f"\tlearning_component\t{comp.id}\t{metadata}\t{who.ip}\t{who.agent}",
            )
        )

    def assessments(self, who: _Learner) -> None:
        """Attempts at the domain quizzes and checkpoints the user has studied for, and, for a
        minority, the practice exam; retakes after a fail; progress on linked components."""
        rng, now = self.rng, self.now
        rand = rng.random
        for a in self.catalog.assessments:
            if a.domain is None or a.kind in EXAM_TYPES:
                if rand() >= 0.02 + 0.45 * who.engagement**2:
                    continue
                t = who.start + int(who.span * (0.7 + 0.3 * rand()))
            elif a.domain in who.domain_done:
                if rand() >= min(0.9, 0.35 + 0.5 * who.engagement):
                    continue
                t = who.domain_done[a.domain] + rng.randrange(600, 2 * DAY)
            else:
                if rand() >= 0.04:
                    continue
                t = who.start + int(who.span * rand())
            pace = 0.7 + 0.9 * rand() ** 3  # slow learners run out of time on long exams
            need = int(a.time_limit * 60 if a.time_limit else len(a.questions) * 80 * pace) + 600
            if t + need > now:
                t = now - need - rng.randrange(60, 3600)
                if t < who.start:
                    continue
            results: list[tuple[int, int, int, bool]] = []  # (started, done, hundredths, passed)
            skill = who.skill
            while True:
                done, hundredths, passed = self.attempt(who, a, len(results) + 1, t, skill, pace)
                results.append((t, done, hundredths, passed))
                if len(results) >= (a.max_attempts or 4) or rand() >= (0.08 if passed else 0.55):
                    break
                t = done + rng.randrange(3600, 5 * DAY)
                if t + need > now:
                    break
                skill = min(0.97, skill + 0.06)
            if a.component is not None:
                self.assessment_progress(who, a.component, results)

    def attempt(
        self, who: _Learner, a: _Assessment, number: int, t: int, skill: float, pace: float
    ) -> tuple[int, int, bool]:
        """One graded attempt with an answer row per question: (done, hundredths of a percent,
        passed)."""
        rng, ts, new_id = self.rng, self.ts, self.new_id
        rand, randrange = rng.random, rng.randrange
        attempt_id = new_id()
        qs = list(a.questions)
        if a.randomize:
            rng.shuffle(qs)
            order = "{" + ",".join(q.id for q in qs) + "}"
        else:
            order = a.order_text
        limit = a.time_limit * 60 if a.time_limit else None
        low, high = int(12 * pace), int(80 * pace)
        clock = t
        timed_out = False
        score = right = wrong = skipped = 0
        rows: list[tuple[str, _Answer | None, int, int]] = []  # (question, answer, seconds, t)
        for q in qs:
            sec = randrange(low, high)
            if timed_out or (limit is not None and clock + sec - t > limit):
                timed_out = True  # answers after the deadline count as not given
                rows.append((q.id, None, 0, 0))
                skipped += 1
                continue
            clock += sec
            r = rand()
            answer: _Answer | None
            if r < 0.02 or q.right is None:
                answer = None
            elif r < 0.02 + skill + q.bonus or not q.wrong:
                answer = q.right
            else:
                answer = q.wrong[int(rand() * len(q.wrong))]
            if answer is None:
                skipped += 1
            else:
                score += answer.cents
                if answer.correct:
                    right += 1
                else:
                    wrong += 1
            rows.append((q.id, answer, sec, clock))
        if timed_out and limit is not None:
            done = t + limit + randrange(1, 120)
        else:
            done = clock + randrange(5, 90)
        done_text = ts(done)
        answers = self.out[T_ANSWERS]
        for qid, answer, sec, at in rows:
            if answer is None:
                answers.append(
                    f"{new_id()}\t{attempt_id}\t{qid}\t\\N\tf\t0.00\t{sec}\tf"
                    f"\t{done_text}\t{done_text}\n"
                )
            else:
                answers.append(
                    f"{new_id()}\t{attempt_id}\t{qid}\t{answer.json}"
                    f"\t{'t' if answer.correct else 'f'}\t{_pct_text(answer.cents)}\t{sec}"
                    f"\t{'t' if rand() < 0.03 else 'f'}\t{ts(at)}\t{done_text}\n"
                )
        # percentage = score / possible x 100, rounded half up to hundredths, in integers
        hundredths = 0
        if a.possible_cents:
            hundredths, rest = divmod(score * 10_000, a.possible_cents)
            hundredths += 2 * rest >= a.possible_cents
        passed = hundredths >= a.passing * 100
        status = "timed_out" if timed_out else "completed"
        pct = _pct_text(hundredths)
        self.out[T_ATTEMPTS].append(
            f"{attempt_id}\t{who.id}\t{a.id}\t{number}\t{status}\t{ts(t)}\t{done_text}"
            f"\t{-(-(done - t) // 60)}\t{_pct_text(score)}\t{pct}\t{'t' if passed else 'f'}"
            f"\t{order}\t{right}\t{wrong}\t{skipped}\t{ts(t)}\t{done_text}\n"
        )
        who.days.add(t // DAY)
        outcome = "true" if passed else "false"
        who.logs.append(
            (
                done,
                f"{who.id}\tassessment_submitted"
                f"\tScored {pct}% ({'passed' if passed else 'not passed'})"
                f"\tassessment_attempt\t{attempt_id}"
                f'\t{{"passed": {outcome}, "percentage": "{pct}", "status": "{status}"}}'
                f"\t{who.ip}\t{who.agent}",
            )
        )
        if not timed_out:  # what the achievements count: completed attempts
            if hundredths == 10_000:
                who.perfect.append(done)
            if passed and (a.id, a.kind) not in who.passed_ids:
                who.passed_ids.add((a.id, a.kind))
                who.passes.append((done, a.kind))
        return done, hundredths, passed

    def assessment_progress(
        self, who: _Learner, comp: _Component, results: list[tuple[int, int, int, bool]]
    ) -> None:
        """The progress row the assessment flow leaves on the component linked to it: completed
        at the first pass, else in progress at the best percentage; scores; time spent."""
        ts = self.ts
        spent = 0
        for started, done, _, _ in results:
            minutes = -(-(done - started) // 60)
            spent += minutes
            who.minutes.append((done, minutes))
        best = max(r[2] for r in results)
        first_pass = next((r[1] for r in results if r[3]), None)
        if first_pass is not None:
            self.completed(who, comp, first_pass, f'{{"score": "{_pct_text(best)}"}}')
        status = "completed" if first_pass is not None else "in_progress"
        self.out[T_PROGRESS].append(
            f"{self.new_id()}\t{who.id}\t{comp.id}\t{status}"
            f"\t{100 if first_pass is not None else best // 100}\t{spent}\t\\N"
            f"\t{_pct_text(best)}\t{_pct_text(results[-1][2])}"
            f"\t{ts(first_pass) if first_pass is not None else NULL}\t\\N"
            f"\t{ts(results[0][1])}\t{ts(results[-1][1])}\n"
        )

    def account(self, who: _Learner) -> int:
        """The user, profile and settings rows; returns the daily goal in minutes."""
        rng, ts = self.rng, self.ts
        rand, choice = rng.random, rng.choice
        u, uid, reg = who.number, who.id, who.reg
        name = f"load{u:06d}"
        role = "instructor" if u % 997 == 996 else "student"
        status = "suspended" if u % 211 == 7 else "deactivated" if u % 307 == 11 else "active"
        last_seen = max((m[0] for m in who.minutes), default=reg + 60)
        self.out[T_USERS].append(
            f"{uid}\t{name}@{EMAIL_DOMAIN}\t{name}\t{self.hash}\t{role}"
            f"\t{'t' if rand() < 0.85 else 'f'}\t{status}\t{ts(reg)}\t{ts(last_seen)}\n"
        )
        first, last = choice(FIRST_NAMES), choice(LAST_NAMES)
        bio = choice(BIOS) if rand() < 0.1 else NULL
        avatar = f"https://cdn.example.test/avatars/{uid}.png" if rand() < 0.2 else NULL
        self.out[T_PROFILES].append(
            f"{self.new_id()}\t{uid}\t{first}\t{last}\t{first} {last[0]}.\t{bio}\t{avatar}"
            f"\t{choice(TIMEZONES)}\t{choice(LOCALES)}\t{choice(CERTIFICATIONS)}"
            f"\t{ts(reg)}\t{ts(reg)}\n"
        )
        goal_minutes = choice(GOAL_MINUTES)
        reminder = f"{rng.randrange(6, 22):02d}:{choice((0, 15, 30, 45)):02d}:00"
        self.out[T_SETTINGS].append(
            f"{self.new_id()}\t{uid}\t{choice(THEMES)}\t{'t' if rand() < 0.9 else 'f'}"
            f"\t{'t' if rand() < 0.7 else 'f'}\t{'t' if rand() < 0.6 else 'f'}"
            f"\t{reminder if rand() < 0.6 else NULL}\t{choice(REMINDER_DAYS)}"
            f"\t{'t' if rand() < 0.03 else 'f'}\t{'t' if rand() < 0.02 else 'f'}"
            f"\t{choice(FONT_SIZES)}\t{goal_minutes}\t{choice(PRIVACY)}\t{ts(reg)}\t{ts(reg)}\n"
        )
        return goal_minutes

    def streak(self, who: _Learner) -> None:
        """The streak row as update_learning_streak leaves it after the user's active days."""
        ts, days = self.ts, self.days
        active = sorted(who.days)
        runs = _runs(active)
        if not runs:
            self.out[T_STREAKS].append(
                f"{self.new_id()}\t{who.id}\t0\t0\t\\N\t\\N\t0\t0\t[]\t{ts(who.reg)}"
                f"\t{ts(who.reg)}\n"
            )
            return
        run_start, run_length = runs[-1]
        history = ", ".join(
            f'{{"start": "{days[s]}", "end": "{days[s + n - 1]}", "length": {n}}}'
            for s, n in runs[:-1]
        )
        touched = max(who.reg, min(self.now - 1, max(t for t, _ in who.minutes or [(0, 0)])))
        self.out[T_STREAKS].append(
            f"{self.new_id()}\t{who.id}\t{run_length}\t{max(n for _, n in runs)}"
            f"\t{days[active[-1]]}\t{days[run_start]}\t{len(active)}\t0\t[{history}]"
            f"\t{ts(who.reg)}\t{ts(touched)}\n"
        )

    def bookmarks(self, who: _Learner) -> None:
        """A third of the learners bookmark one to four of the components they opened."""
        rng, ts = self.rng, self.ts
        if not who.started or rng.random() >= 0.35:
            return
        picks = rng.sample(who.started, min(len(who.started), 1 + int(rng.random() * 4)))
        for comp, t in picks:
            at = min(self.now - 1, t + rng.randrange(60, 3600))
            position = rng.choice(POSITIONS) if rng.random() < 0.5 else NULL
            note = rng.choice(NOTES) if rng.random() < 0.3 else NULL
            self.out[T_BOOKMARKS].append(
                f"{self.new_id()}\t{who.id}\t{comp.id}\t{position}\t{note}\t{ts(at)}\t{ts(at)}\n"
            )

    def goals(self, who: _Learner, goal_minutes: int) -> None:
        """0-3 study goals, their progress replayed from the user's minutes and completions
        (completed exactly when the target is reached, as advance_goals does)."""
        rng, ts = self.rng, self.ts
        now_day = self.now // DAY
        roll = rng.random()
        count = 0 if roll < 0.4 else 1 if roll < 0.75 else 2 if roll < 0.93 else 3
        for template in rng.sample(range(len(GOALS)), count):
            kind, title, metric, target, length = GOALS[template]
            if metric == StudyGoalMetric.MINUTES and target == 0:
                target, title = goal_minutes, f"Study {goal_minutes} minutes a day"
            begin = who.start + rng.randrange(max(1, (self.now - who.start) // 2))
            begin_day = begin // DAY
            deadline = begin_day + length if length else None
            events = (
                who.minutes
                if metric == StudyGoalMetric.MINUTES
                else [(c[0], 1) for c in who.completions]
            )
            current = 0
            done_day: int | None = None
            for t, amount in sorted(e for e in events if e[0] >= begin):
                if deadline is not None and t // DAY > deadline:
                    break
                current += amount
                if current >= target:
                    done_day = t // DAY
                    break
            if done_day is not None:
                status, completed = "completed", self.days[done_day]
            elif deadline is not None and deadline < now_day:
                status, completed = ("failed" if rng.random() < 0.8 else "abandoned"), NULL
            else:
                status, completed = ("active" if rng.random() < 0.9 else "abandoned"), NULL
            self.out[T_GOALS].append(
                f"{self.new_id()}\t{who.id}\t{kind}\t{title}\t{target}\t{current}\t{metric}"
                f"\t{self.days[begin_day]}\t{self.days[deadline] if deadline else NULL}"
                f"\t{completed}\t{status}\t{ts(begin)}\t{ts(begin)}\n"
            )

    def achievements(self, who: _Learner) -> None:
        """Every achievement whose criteria the user's history meets, earned when it was met
        (check_and_award_achievement would award nothing more, manual ones aside)."""
        rng = self.rng
        completions = sorted(who.completions)
        masteries = sorted(who.masteries)
        passes = sorted(who.passes)
        perfect = sorted(who.perfect)
        minutes = sorted(who.minutes)
        active = sorted(who.days)
        runs = _runs(active)
        for ach in self.catalog.achievements:
            need = ach.required
            earned: int | None = None
            hits: list[int] = []
            if ach.kind == "first_login":
                earned = who.reg + 60
            elif ach.kind == "manual":
                if who.active and rng.random() < 0.01:
                    earned = who.start + rng.randrange(who.span)
            elif ach.kind == "components_completed":
                hits = [
                    t
                    for t, kind, domain in completions
                    if ach.domain in (None, domain) and ach.component_type in (None, kind)
                ]
            elif ach.kind == "components_mastered":
                hits = [t for t, domain in masteries if ach.domain in (None, domain)]
            elif ach.kind == "assessments_passed":
                hits = [t for t, kind in passes if ach.assessment_type in (None, kind)]
            elif ach.kind == "perfect_score":
                hits = perfect
            elif ach.kind == "active_days":
                hits = [d * DAY + DAY - 1 for d in active]
            elif ach.kind == "streak_days":
                earned = next(((s + need - 1) * DAY + DAY - 1 for s, n in runs if n >= need), None)
            elif ach.kind == "total_minutes":
                total = 0
                for t, m in minutes:
                    total += m
                    if total >= need > 0:
                        earned = t
                        break
            if hits and 0 < need <= len(hits):
                earned = hits[need - 1]
            if earned is None:
                continue
            measured = (
                f', "measured": {need}, "required": {need}'
                if ach.kind not in ("manual", "first_login")
                else ""
            )
            self.out[T_ACHIEVEMENTS].append(
                f"{self.new_id()}\t{who.id}\t{ach.id}\t{self.ts(min(earned, self.now - 1))}"
                f'\t{{"criteria": {ach.criteria_json}, "type": "{ach.kind}"{measured}}}\n'
            )

    def activity(self, who: _Learner) -> None:
        """Registration, logins, completions and submissions, in time order."""
        rng = self.rng
        uid = who.id
        login = f"{uid}\tlogin\tLogged in\tuser\t{uid}\t{{}}\t{who.ip}\t{who.agent}"
        logs = who.logs
        logs.append((who.reg, f"{uid}\tregister\tAccount created\tuser\t{uid}\t{{}}\t{who.ip}"
                     f"\t{who.agent}"))  # fmt: skip
        logs.append((who.reg + 30, login))
        if who.active:
            for _ in range(int(who.engagement * 6 + rng.random() * 2)):
                logs.append((who.start + rng.randrange(who.span), login))
        logs.sort(key=lambda entry: entry[0])
        out = self.out[T_ACTIVITY]
        for t, line in logs:
            out.append(f"{self.new_id()}\t{line}\t{self.ts(min(t, self.now - 1))}\n")


# --- loading ------------------------------------------------------------------------------------


def _writer(stream: TextIO) -> Callable[[str], None]:
    def write(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()

    return write


def _chunks(users: int) -> Iterator[tuple[int, int, int]]:
    for index, first in enumerate(range(0, users, CHUNK_USERS)):
        yield index, first, min(CHUNK_USERS, users - first)


_DONE = object()


def _produce(
    generator: _Generator,
    users: int,
    out: queue.Queue[Any],
    stop: threading.Event,
    busy: list[float],
) -> None:
    """Producer thread: put (users, [rows per table], [COPY text per table]) per block of users,
    then _DONE; or the exception that stopped it."""
    try:
        for index, first, count in _chunks(users):
            began = time.perf_counter()
            lines = generator.chunk(index, first, count)
            data = [("".join(rows)).encode() for rows in lines]
            busy[0] += time.perf_counter() - began
            while not stop.is_set():
                try:
                    out.put((count, [len(rows) for rows in lines], data), timeout=0.2)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        out.put(_DONE)
    except BaseException as exc:  # handed to the consumer, which raises it
        out.put(exc)


def _refuse_privilege(conn: psycopg.Connection[Any]) -> None:
    role = sql_files().server.whoami(conn)
    if not (role[1] or role[2]):
        raise NotPrivileged(
            f"role {role[0]} can neither COPY into the row-level-secured tables nor bypass"
            " their policies: load scale data as a superuser (or a BYPASSRLS role)"
        )


def _refuse_second_load(conn: psycopg.Connection[Any], target: Target) -> None:
    existing = int(sql_files().scale.user_count(conn, domain=EMAIL_DOMAIN))
    if not existing:
        return
    size = f" (what `seed --scale {existing // 1000}` loads)" if existing % 1000 == 0 else ""
    raise ScaleDataExists(
        f"scale data already loaded in database {target.dbname}: {existing:,} synthetic users"
        f"{size}, emails @{EMAIL_DOMAIN}, with their history; a second load is refused and"
        " nothing was changed. To start over: `netplus-db migrate reset` (drops and re-creates"
        " the database: every row is lost), then `netplus-db seed --scale N`"
    )


def check_can_load(target: Target) -> None:
    """Raise what `load_scale` would raise before writing anything: NotPrivileged for a role
    that cannot COPY into the row-level-secured tables, ScaleDataExists when scale data is
    already loaded. A database without the users table passes (seeding it says it is not
    migrated). `seed --scale` calls this before the seed itself."""
    with connect(target, autocommit=True) as conn:
        _refuse_privilege(conn)
        if not list(sql_files().seed.missing_tables(conn, tables=["users"])):
            _refuse_second_load(conn, target)


def load_scale(
    target: Target,
    *,
    thousands: int,
    random_seed: int = 42,
    report: Callable[[str], None] = print,
    users: int | None = None,
    progress: TextIO | None = None,
    live: LiveLine | None = None,
    quiet_for: float = QUIET_FOR,
    replica: bool = False,
) -> ScaleReport:
    """Add `thousands` x 1000 synthetic users (or exactly `users`) with their history.

    Needs the catalog (`netplus-db seed`) and a superuser (or BYPASSRLS) connection; refuses when
    scale data is already loaded. One transaction: a failure leaves nothing. `replica=True` COPYs
    with `session_replication_role = replica` (no foreign-key triggers; the data is consistent by
    construction). Progress with rate and ETA, once the load runs longer than `quiet_for`
    seconds, goes to `live` (a line redrawn in place; by default when `progress` is a terminal)
    or as a line per 10 % to `progress` (default stderr); `report` gets the start line and the
    final table, once. Returns the per-table rows and seconds.
    """
    count = thousands * 1000 if users is None else users
    if count < 0:
        raise ValueError("the number of users must not be negative")
    stream = progress if progress is not None else sys.stderr
    began = time.perf_counter()
    anchor = anchor_date(random_seed)
    result = ScaleReport(users=count, random_seed=random_seed, anchor=anchor)
    result.tables = [TableLoad(name) for name in TABLE_NAMES]
    queries = sql_files()
    with connect(target) as conn:
        _refuse_privilege(conn)
        queries.scale.lock(conn)
        _refuse_second_load(conn, target)
        catalog = _read_catalog(conn)
        report(
            f"Loading scale data: {count:,} users (seed {random_seed}, anchor {anchor}) on"
            f" {len(catalog.path) + sum(a.component is not None for a in catalog.assessments)}"
            f" components, {len(catalog.assessments)} assessments,"
            f" {len(catalog.achievements)} achievements"
        )
        if replica:
            conn.execute("SET LOCAL session_replication_role = replica")
        generator = _Generator(catalog, random_seed, anchor, password_hash())
        statements = [
            sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            for name, columns in TABLES
        ]
        blocks: queue.Queue[Any] = queue.Queue(maxsize=2)
        stop = threading.Event()
        busy = [0.0]
        producer = threading.Thread(
            target=_produce, args=(generator, count, blocks, stop, busy), daemon=True
        )
        meter = Meter(
            "seed --scale",
            float(count),
            _writer(stream),
            live if live is not None else terminal_line(stream),
            amount=counted("users"),
            quiet_for=quiet_for,
        )
        done = 0
        producer.start()
        try:
            with conn.cursor() as cur:
                while True:
                    item = blocks.get()
                    if item is _DONE:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    block_users, row_counts, data = item
                    for load, statement, rows, payload in zip(
                        result.tables, statements, row_counts, data, strict=True
                    ):
                        if not rows:
                            continue
                        t0 = time.perf_counter()
                        with cur.copy(statement) as copy:
                            copy.write(payload)
                        load.seconds += time.perf_counter() - t0
                        load.rows += rows
                    done += block_users
                    meter.update(done)
            t0 = time.perf_counter()
            queries.scale.question_stats(conn, domain=EMAIL_DOMAIN)
            queries.scale.component_stats(conn, domain=EMAIL_DOMAIN)
            result.stats_seconds = time.perf_counter() - t0
            conn.commit()
        finally:
            stop.set()
            producer.join()
            meter.finish()
    result.generate_seconds = busy[0]
    t0 = time.perf_counter()
    with connect(target, autocommit=True) as conn:
        for name in (*TABLE_NAMES, "question_bank", "learning_components"):
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(name)))
    result.analyze_seconds = time.perf_counter() - t0
    result.seconds = time.perf_counter() - began
    report(str(result))
    return result
