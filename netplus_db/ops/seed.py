"""Seeding a database from the reviewed data files in `seed/` (see seed/README.md).

`seed_database` validates every file first (a problem names the file and the item; then nothing
is written), and writes everything in one transaction, idempotently: content is matched by slug,
key or code and updated in place, and a re-run writes nothing at all. Question rows get stable
ids (uuid5 of their key); assessments pick their questions by rule, deterministically; the five
demo accounts of DATABASE.md get the password `password123`, and are refused on a database that
is not local unless explicitly allowed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import bcrypt
import psycopg
from psycopg.types.json import Jsonb

from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.data_files import data_dir
from netplus_db.errors import NetplusError
from netplus_db.generated.enums import (
    AchievementRarity,
    AchievementType,
    AssessmentType,
    ComponentType,
    DifficultyLevel,
    QuestionType,
    UserRole,
    UserSettingTheme,
)
from netplus_db.grading import validate_question
from netplus_db.sql import sql_files
from netplus_db.types import Progress

# The row id of a seeded question is uuid5(NAMESPACE, "netplus-seed:question:" + key). Attempts
# and answers point at these ids: never change the namespace or the prefix.
NAMESPACE = uuid.UUID("75480ef0-3497-4365-8780-727d40f0f995")
QUESTION_ID_PREFIX = "netplus-seed:question:"

DEMO_PASSWORD = "password123"  # DATABASE.md, appendix "Demo Accounts"
LOCK_KEY = int.from_bytes(hashlib.sha256(b"netplus-db seed").digest()[:8], "big", signed=True)

# The database roles the seed writes as (migration 0013); the connecting role must be a member.
CONTENT_ROLE = "content_editor"
ACCOUNTS_ROLE = "admin"

# The order in which tables are seeded and reported.
CONTENT_TABLES = ("achievements", "learning_components", "question_bank", "assessments")
ACCOUNT_TABLES = ("users", "user_profiles", "user_settings", "learning_streaks")

# The slug CHECK of migrations 0003-0004 (the value lists are the enums generated from them).
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Components that present an assessment, and the assessment_type each must point at.
ASSESSMENT_COMPONENTS = {
    ComponentType.QUIZ: AssessmentType.QUIZ,
    ComponentType.ASSESSMENT: AssessmentType.CHECKPOINT,
    ComponentType.PRACTICE_EXAM: AssessmentType.PRACTICE_EXAM,
}

COMPONENT_FIELDS = frozenset(
    [
        "slug",
        "component_type",
        "domain",
        "subdomain",
        "title",
        "description",
        "difficulty_level",
        "estimated_duration_minutes",
        "objectives",
        "comptia_objectives",
        "prerequisites",
        "content",
    ]
)
QUESTION_FIELDS = frozenset(
    [
        "key",
        "question_type",
        "domain",
        "subdomain",
        "difficulty_level",
        "question_text",
        "question_data",
        "correct_answer",
        "explanation",
        "hints",
        "points",
        "comptia_objectives",
    ]
)
# Assessment fields: required ones, and optional ones with the column defaults.
ASSESSMENT_REQUIRED = frozenset(
    [
        "slug",
        "assessment_type",
        "title",
        "description",
        "domain",
        "time_limit_minutes",
        "passing_score",
        "select",
    ]
)
ASSESSMENT_DEFAULTS: Mapping[str, Any] = {
    "difficulty_level": None,
    "randomize_questions": True,
    "randomize_answers": False,
    "show_answers_after": True,
    "allow_review": True,
    "max_attempts": None,
    "draw": None,
}
# An assessment drawn per attempt from the bank (migration 0018): `draw` of assessments.json.
DRAW_FIELDS = frozenset({"domains", "size", "min_simulations", "avoid_recent"})
ACHIEVEMENT_FIELDS = frozenset(
    {"code", "achievement_type", "name", "description", "criteria", "points", "rarity", "is_active"}
)
USER_FIELDS = frozenset({"email", "username", "role", "profile", "settings"})
PROFILE_FIELDS = frozenset({"first_name", "last_name", "display_name", "timezone", "locale"})
SETTINGS_FIELDS = frozenset({"theme", "daily_goal_minutes"})


# --- errors and results -----------------------------------------------------------------------


class SeedError(NetplusError):
    """The seed could not be loaded; nothing was written."""


class SeedDataError(SeedError):
    """One or more seed files are invalid; each problem names the file and the item."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"{len(problems)} problem(s) in the seed files; nothing was written:\n{listed}"
        )


class DemoAccountsRefused(SeedError):
    """Demo accounts (a known password, an admin among them) asked for on a non-local database."""


@dataclass(frozen=True)
class Counts:
    """What seeding did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        """Rows of the seed for this table."""
        return self.inserted + self.updated + self.unchanged

    def __str__(self) -> str:
        return f"inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}"


@dataclass(frozen=True)
class SeedReport:
    """The outcome of `seed_database`: counts per table, in seeding order, and the time taken."""

    counts: dict[str, Counts]
    seconds: float

    @property
    def inserted(self) -> int:
        """Rows inserted, over all tables."""
        return sum(c.inserted for c in self.counts.values())

    @property
    def updated(self) -> int:
        """Rows updated, over all tables."""
        return sum(c.updated for c in self.counts.values())

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return self.inserted + self.updated > 0


@dataclass(frozen=True)
class SeedData:
    """The validated content of a seed directory, ready to be written."""

    seed_dir: Path
    blueprint: dict[str, Any]
    components: list[dict[str, Any]]
    questions: list[dict[str, Any]]  # each with its row "id" (uuid5 of its key)
    assessments: list[dict[str, Any]]  # each with the "question_ids" its rule selected
    achievements: list[dict[str, Any]]
    users: list[dict[str, Any]]

    def summary(self) -> str:
        """One line: how many of each kind."""
        return (
            f"{len(self.components)} components, {len(self.questions)} questions, "
            f"{len(self.assessments)} assessments, {len(self.achievements)} achievements, "
            f"{len(self.users)} demo accounts"
        )


def question_id(key: str) -> uuid.UUID:
    """The row id of the seeded question with this key (stable across re-seeds)."""
    return uuid.uuid5(NAMESPACE, QUESTION_ID_PREFIX + key)


def default_seed_dir() -> Path:
    """`seed/` of a checkout, else a copy shipped inside the installed package."""
    return data_dir("seed")


# --- seeding ----------------------------------------------------------------------------------


def seed_database(
    target: Target,
    *,
    allow_demo_accounts: bool = False,
    report: Progress = print,
    seed_dir: Path | None = None,
) -> SeedReport:
    """Load the seed files into the target in one transaction, idempotently.

    Refuses (DemoAccountsRefused, before connecting) when the target is not local or embedded
    and `allow_demo_accounts` is false; raises SeedDataError naming each invalid file and item
    before anything is written. Reports the counts per table and the time through `report`.
    """
    started = time.perf_counter()
    if not target.is_local and not allow_demo_accounts:
        raise DemoAccountsRefused(
            f"refusing to create the five demo accounts (the well-known password of DATABASE.md,"
            f" an admin among them) on host {target.host} (database {target.dbname}), which is"
            f" not a local or embedded database; pass --allow-demo-accounts"
            f" (allow_demo_accounts=True) if you really want them there"
        )
    data = load_seed_data(seed_dir)
    report(f"seed files valid ({data.seed_dir}): {data.summary()}")
    with connect(target) as conn, conn.transaction():
        q = sql_files()
        q.seed.lock(conn, key=LOCK_KEY)
        _require_schema(conn)
        # The catalog is content_editor's to write, the accounts (an admin among them) the
        # admin role's: the seed holds no more privilege than each part needs, and the audit
        # trail names the role that wrote.
        # (A database migrated only up to 0012 has no content role yet: the connecting role
        # writes it all, as before.)
        least = bool(q.seed.role_writes_catalog(conn, role=CONTENT_ROLE))
        if least:
            q.session.act_as(conn, role=CONTENT_ROLE, user_id="")
        counts = _write_content(conn, data)
        if least:
            q.session.act_as(conn, role=ACCOUNTS_ROLE, user_id="")
        counts.update(_write_accounts(conn, data))
    seconds = time.perf_counter() - started
    width = max(len(name) for name in counts)
    for name, count in counts.items():
        report(f"{name:<{width}}  {count}")
    result = SeedReport(counts, seconds)
    verdict = "" if result.changed else " (nothing changed)"
    report(f"seeded in {seconds:.2f} s{verdict}")
    return result


def _require_schema(conn: psycopg.Connection[Any]) -> None:
    missing = [
        str(name)
        for (name,) in sql_files().seed.missing_tables(
            conn, tables=[*CONTENT_TABLES, *ACCOUNT_TABLES]
        )
    ]
    if missing:
        raise SeedError(
            f"the database is not migrated (missing {', '.join(missing)}): "
            "run `netplus-db migrate up` first; nothing was written"
        )


def _counts(total: int, written: Iterable[tuple[Any, bool]]) -> Counts:
    """Counts from the rows an upsert returned (key, inserted?); the others were unchanged."""
    rows = list(written)
    inserted = sum(1 for _, was_inserted in rows if was_inserted)
    return Counts(inserted, len(rows) - inserted, total - len(rows))


def _write_content(conn: psycopg.Connection[Any], data: SeedData) -> dict[str, Counts]:
    q = sql_files()
    counts: dict[str, Counts] = {}
    counts["achievements"] = _counts(
        len(data.achievements), q.seed.upsert_achievements(conn, rows=Jsonb(data.achievements))
    )

    written = {
        str(slug): bool(inserted)
        for slug, inserted in q.seed.upsert_components(conn, rows=Jsonb(data.components))
    }
    linked = {str(slug) for (slug,) in q.seed.link_prerequisites(conn, rows=Jsonb(data.components))}
    inserted = {slug for slug, was_inserted in written.items() if was_inserted}
    updated = (set(written) | linked) - inserted  # a new row's prerequisites are part of it
    counts["learning_components"] = Counts(
        len(inserted), len(updated), len(data.components) - len(inserted) - len(updated)
    )

    counts["question_bank"] = _counts(
        len(data.questions), q.seed.upsert_questions(conn, rows=Jsonb(data.questions))
    )
    # A database migrated to before 0018 (an upgrade being tested) gets fixed lists only.
    upsert = (
        q.seed.upsert_assessments
        if q.seed.draw_columns_exist(conn)
        else q.seed.upsert_fixed_assessments
    )
    counts["assessments"] = _counts(
        len(data.assessments), upsert(conn, rows=Jsonb(data.assessments))
    )
    return counts


def _write_accounts(conn: psycopg.Connection[Any], data: SeedData) -> dict[str, Counts]:
    q = sql_files()
    users = data.users
    emails = [u["email"] for u in users]
    hashes = _password_hashes(conn, emails)
    accounts = [
        {
            "email": u["email"],
            "username": u["username"],
            "role": u["role"],
            "password_hash": hashes[u["email"].lower()],
        }
        for u in users
    ]
    try:
        counts = {"users": _counts(len(users), q.seed.upsert_users(conn, rows=Jsonb(accounts)))}
    except psycopg.errors.UniqueViolation as exc:
        raise SeedError(
            f"{data.seed_dir / 'users.json'}: a demo account clashes with an existing account"
            f" ({exc.diag.message_detail or exc.diag.constraint_name}); nothing was written"
        ) from None
    profiles = [{"email": u["email"], **u["profile"]} for u in users]
    settings = [{"email": u["email"], **u["settings"]} for u in users]
    counts["user_profiles"] = _counts(
        len(users), q.seed.upsert_profiles(conn, rows=Jsonb(profiles))
    )
    counts["user_settings"] = _counts(
        len(users), q.seed.upsert_settings(conn, rows=Jsonb(settings))
    )
    counts["learning_streaks"] = _counts(len(users), q.seed.create_streaks(conn, emails=emails))
    return counts


def _password_hashes(conn: psycopg.Connection[Any], emails: list[str]) -> dict[str, str]:
    """A hash of the demo password per (lower-cased) email: an account's own while it still
    verifies, else one fresh hash shared by every account that needs one (bcrypt is slow)."""
    from netplus_db.flows.accounts import hash_password

    existing = {
        str(e): str(h) for e, h in sql_files().seed.demo_password_hashes(conn, emails=emails)
    }
    verdicts: dict[str, bool] = {}
    fresh: str | None = None
    hashes: dict[str, str] = {}
    for email in (e.lower() for e in emails):
        current = existing.get(email)
        if current is not None:
            if current not in verdicts:
                verdicts[current] = _verifies(current)
            if verdicts[current]:
                hashes[email] = current
                continue
        if fresh is None:
            fresh = hash_password(DEMO_PASSWORD)
        hashes[email] = fresh
    return hashes


def _verifies(stored: str) -> bool:
    try:
        return bcrypt.checkpw(DEMO_PASSWORD.encode("utf-8"), stored.encode("ascii"))
    except ValueError:  # not a bcrypt hash at all
        return False


# --- loading and validation -------------------------------------------------------------------


class _Problems:
    """Problems found so far, each naming the file and the item."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: Path, item: str, message: str) -> None:
        self.items.append(f"{path}: {item}: {message}" if item else f"{path}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise SeedDataError(self.items)


def load_seed_data(seed_dir: Path | None = None) -> SeedData:
    """Read and validate every seed file; SeedDataError lists every problem found."""
    root = seed_dir or default_seed_dir()
    problems = _Problems()
    if not root.is_dir():
        raise SeedDataError([f"{root}: is not a directory"])

    blueprint_path = root / "blueprint.json"
    blueprint = _read_json(blueprint_path, problems)
    objectives = _blueprint_objectives(blueprint_path, blueprint, problems)
    problems.raise_if_any()  # everything else is checked against the blueprint
    assert isinstance(blueprint, dict)

    component_files = sorted((root / "components").glob("*.json"))
    question_files = sorted((root / "questions").glob("*.json"))
    if not component_files:
        problems.add(root / "components", "", "holds no *.json file")
    if not question_files:
        problems.add(root / "questions", "", "holds no *.json file")

    questions: list[dict[str, Any]] = []
    question_files_by_key: dict[str, Path] = {}
    for path in question_files:
        for label, item in _items(path, problems, "question", "key"):
            if _check_question(path, label, item, objectives, problems):
                key = item["key"]
                if key in question_files_by_key:
                    problems.add(path, label, f"key also used in {question_files_by_key[key]}")
                    continue
                question_files_by_key[key] = path
                questions.append({**item, "id": str(question_id(key))})

    assessments_path = root / "assessments.json"
    assessments = _load_assessments(assessments_path, questions, objectives, problems)

    components: list[dict[str, Any]] = []
    component_files_by_slug: dict[str, Path] = {}
    for path in component_files:
        for label, item in _items(path, problems, "component", "slug"):
            if _check_component(path, label, item, objectives, problems):
                slug = item["slug"]
                if slug in component_files_by_slug:
                    problems.add(path, label, f"slug also used in {component_files_by_slug[slug]}")
                    continue
                component_files_by_slug[slug] = path
                components.append(item)
    _check_component_links(component_files_by_slug, components, assessments, problems)

    achievements_path = root / "achievements.json"
    achievements: list[dict[str, Any]] = []
    codes: set[str] = set()
    for label, item in _items(achievements_path, problems, "achievement", "code"):
        if _check_achievement(achievements_path, label, item, problems):
            if item["code"] in codes:
                problems.add(achievements_path, label, "code is used twice")
                continue
            codes.add(item["code"])
            achievements.append(item)

    users_path = root / "users.json"
    users: list[dict[str, Any]] = []
    seen: set[str] = set()
    for label, item in _items(users_path, problems, "user", "email"):
        if _check_user(users_path, label, item, problems):
            names = {item["email"].lower(), "username:" + item["username"].lower()}
            if names & seen:
                problems.add(users_path, label, "email or username is used twice (ignoring case)")
                continue
            seen |= names
            users.append(item)

    problems.raise_if_any()
    return SeedData(
        root,
        blueprint,
        components,
        questions,
        [a for a in assessments.values() if a is not None],
        achievements,
        users,
    )


def _read_json(path: Path, problems: _Problems) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.add(path, "", "is missing")
    except json.JSONDecodeError as exc:
        problems.add(
            path, "", f"is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
        )
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(path, "", f"cannot be read: {exc}")
    return None


def _items(
    path: Path, problems: _Problems, kind: str, key_field: str
) -> list[tuple[str, dict[str, Any]]]:
    """(label naming the item, item) for each object of a JSON array file."""
    data = _read_json(path, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.add(path, "", "must be a JSON array")
        return []
    items: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(data):
        name = item.get(key_field) if isinstance(item, dict) else None
        label = f"{kind} {name}" if isinstance(name, str) and name else f"{kind} #{index + 1}"
        if not isinstance(item, dict):
            problems.add(path, label, "must be a JSON object")
            continue
        items.append((label, item))
    return items


def _blueprint_objectives(path: Path, blueprint: Any, problems: _Problems) -> dict[str, list[str]]:
    """Domain code -> its objective codes, in blueprint order."""
    objectives: dict[str, list[str]] = {}
    domains = blueprint.get("domains") if isinstance(blueprint, dict) else None
    if blueprint is not None and not isinstance(domains, list):
        problems.add(path, "", "must be an object with a list of domains")
        return objectives
    for index, domain in enumerate(domains or []):
        code = domain.get("code") if isinstance(domain, dict) else None
        codes = [
            o.get("code") if isinstance(o, dict) else None
            for o in (domain.get("objectives") if isinstance(domain, dict) else None) or []
        ]
        if not isinstance(code, str) or not codes or not all(_text(c) for c in codes):
            problems.add(path, f"domain {code or f'#{index + 1}'}", "needs a code and objectives")
            continue
        objectives[code] = [str(c) for c in codes]
    return objectives


def _text(value: Any, limit: int | None = None) -> bool:
    """A non-blank string (of at most `limit` characters)."""
    return isinstance(value, str) and value.strip() != "" and (limit is None or len(value) <= limit)


def _int(value: Any, minimum: int, maximum: int | None = None) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )


def _texts(value: Any) -> bool:
    """A list of non-blank strings (possibly empty)."""
    return isinstance(value, list) and all(_text(v) for v in value)


def _fields(
    path: Path,
    label: str,
    item: Mapping[str, Any],
    problems: _Problems,
    required: frozenset[str],
    optional: Iterable[str] = (),
) -> bool:
    missing = sorted(required - item.keys())
    unknown = sorted(item.keys() - required - set(optional))
    if missing:
        problems.add(path, label, f"missing {', '.join(missing)}")
    if unknown:
        problems.add(path, label, f"unknown field(s) {', '.join(unknown)}")
    return not missing and not unknown


class _Checker:
    """Collects field problems of one item: `check(ok, message)`; `ok` at the end."""

    def __init__(self, path: Path, label: str, problems: _Problems) -> None:
        self.path, self.label, self.problems, self.ok = path, label, problems, True

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.ok = False
            self.problems.add(self.path, self.label, message)

    def one_of(self, item: Mapping[str, Any], field: str, allowed: type[StrEnum]) -> None:
        """The field holds a value of the column's CHECK list."""
        values = tuple(allowed)  # `in` on the enum class itself refuses a plain str
        value = item[field]
        self.check(value in values, f"{field} must be one of {', '.join(values)}, not {value!r}")


def _check_codes(
    c: _Checker, item: Mapping[str, Any], objectives: Mapping[str, list[str]], domain_of_file: str
) -> None:
    """domain, subdomain and comptia_objectives against the blueprint."""
    domain, subdomain = item["domain"], item["subdomain"]
    c.check(domain in objectives, f"domain {domain!r} is not a domain of the blueprint")
    c.check(domain == domain_of_file, f"domain {domain!r} belongs in {domain}.json")
    c.check(
        subdomain is None or subdomain in objectives.get(domain, []),
        f"subdomain {subdomain!r} is not an objective of domain {domain!r}",
    )
    every = {code for codes in objectives.values() for code in codes}
    codes = item["comptia_objectives"]
    c.check(
        _texts(codes) and set(codes) <= every,
        f"comptia_objectives must be N10-009 objective codes, got {codes!r}",
    )


def _check_question(
    path: Path,
    label: str,
    item: Mapping[str, Any],
    objectives: Mapping[str, list[str]],
    problems: _Problems,
) -> bool:
    if not _fields(path, label, item, problems, QUESTION_FIELDS):
        return False
    c = _Checker(path, label, problems)
    c.check(_text(item["key"]), "key must be a non-blank string")
    c.one_of(item, "question_type", QuestionType)
    _check_codes(c, item, objectives, path.stem)
    c.one_of(item, "difficulty_level", DifficultyLevel)
    c.check(_text(item["question_text"]), "question_text must be non-blank")
    c.check(item["explanation"] is None or isinstance(item["explanation"], str), "explanation")
    c.check(
        isinstance(item["hints"], list) and all(isinstance(h, str) for h in item["hints"]),
        "hints must be a list of strings",
    )
    c.check(_int(item["points"], 0), "points must be an integer >= 0")
    data, key = item["question_data"], item["correct_answer"]
    c.check(isinstance(data, dict), "question_data must be an object")
    c.check(isinstance(key, dict), "correct_answer must be an object")
    if c.ok:
        try:
            validate_question(item["question_type"], data, key)
        except NetplusError as exc:
            c.check(False, str(exc))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            c.check(
                False, f"malformed question_data or correct_answer ({type(exc).__name__}: {exc})"
            )
    return c.ok


def _check_component(
    path: Path,
    label: str,
    item: Mapping[str, Any],
    objectives: Mapping[str, list[str]],
    problems: _Problems,
) -> bool:
    if not _fields(path, label, item, problems, COMPONENT_FIELDS):
        return False
    c = _Checker(path, label, problems)
    slug = item["slug"]
    c.check(
        isinstance(slug, str) and bool(SLUG.match(slug)) and len(slug) <= 255,
        "slug must be lowercase letters and digits joined by single hyphens",
    )
    c.one_of(item, "component_type", ComponentType)
    _check_codes(c, item, objectives, path.stem)
    c.check(_text(item["title"], 255), "title must be non-blank, at most 255 characters")
    c.check(item["description"] is None or isinstance(item["description"], str), "description")
    c.one_of(item, "difficulty_level", DifficultyLevel)
    minutes = item["estimated_duration_minutes"]
    c.check(minutes is None or _int(minutes, 1), "estimated_duration_minutes must be > 0")
    c.check(_texts(item["objectives"]), "objectives must be a list of strings")
    c.check(_texts(item["prerequisites"]), "prerequisites must be a list of component slugs")
    c.check(isinstance(item["content"], dict), "content must be an object")
    return c.ok


def _check_component_links(
    files: Mapping[str, Path],
    components: list[dict[str, Any]],
    assessments: Mapping[str, dict[str, Any] | None],
    problems: _Problems,
) -> None:
    """Prerequisites name seeded components without a cycle; assessment_slug names an
    assessment of assessments.json of the matching type."""
    requires = {c["slug"]: list(c["prerequisites"]) for c in components}
    for component in components:
        slug, path, label = (
            component["slug"],
            files[component["slug"]],
            f"component {component['slug']}",
        )
        prerequisites = requires[slug]
        unknown = [p for p in prerequisites if p not in requires]
        if unknown:
            problems.add(path, label, f"unknown prerequisite(s) {', '.join(unknown)}")
        if slug in prerequisites:
            problems.add(path, label, "requires itself")
        if len(set(prerequisites)) != len(prerequisites):
            problems.add(path, label, "lists a prerequisite twice")

        content, kind = component["content"], component["component_type"]
        target = content.get("assessment_slug")
        if kind in ASSESSMENT_COMPONENTS and target is None:
            problems.add(path, label, f"a {kind} component needs content.assessment_slug")
        elif target is not None:
            if target not in assessments:
                problems.add(
                    path, label, f"content.assessment_slug {target!r} is not in assessments.json"
                )
                continue
            wanted = ASSESSMENT_COMPONENTS.get(kind)
            found = assessments[target]
            if wanted and found is not None and found["assessment_type"] != wanted:
                problems.add(
                    path,
                    label,
                    f"a {kind} component must point at a {wanted}, "
                    f"not the {found['assessment_type']} {target}",
                )

    # A cycle would make "what to study first" unanswerable.
    done: set[str] = set()

    def visit(slug: str, trail: list[str]) -> None:
        if slug in trail:
            start = trail[trail.index(slug)]
            cycle = " -> ".join([*trail[trail.index(slug) :], slug])
            problems.add(files[start], f"component {start}", f"prerequisite cycle {cycle}")
            return
        if slug in done or slug not in requires:
            return
        for prerequisite in requires[slug]:
            visit(prerequisite, [*trail, slug])
        done.add(slug)

    for slug in requires:
        visit(slug, [])


def _load_assessments(
    path: Path,
    questions: list[dict[str, Any]],
    objectives: Mapping[str, list[str]],
    problems: _Problems,
) -> dict[str, dict[str, Any] | None]:
    """Slug -> the assessment row with its selected question_ids (None when it is invalid)."""
    by_domain: dict[str, list[dict[str, Any]]] = {}
    for question in questions:
        by_domain.setdefault(question["domain"], []).append(question)
    chosen: dict[str, set[str]] = {}  # slug -> selected question keys, for "exclude"
    assessments: dict[str, dict[str, Any] | None] = {}
    for label, item in _items(path, problems, "assessment", "slug"):
        slug = item.get("slug")
        if isinstance(slug, str) and slug in assessments:
            problems.add(path, label, "slug is used twice")
            continue
        row = _check_assessment(path, label, item, problems)
        keys = _select(path, label, item.get("select"), by_domain, objectives, chosen, problems)
        if isinstance(slug, str):
            assessments[slug] = None
        if row is None or keys is None:
            continue
        domain, picked = row["domain"], set(keys)
        domains = {q["domain"] for q in questions if q["key"] in picked}
        if domain is not None and domains - {domain}:
            problems.add(
                path, label, "its rule picks questions of another domain than its own, " + domain
            )
            continue
        if row["draw_split"] is not None and not _drawable(path, label, row, by_domain, problems):
            continue
        chosen[row["slug"]] = set(keys)
        row["question_ids"] = [str(question_id(k)) for k in keys]
        assessments[row["slug"]] = row
    return assessments


def _check_assessment(
    path: Path, label: str, item: Mapping[str, Any], problems: _Problems
) -> dict[str, Any] | None:
    if not _fields(path, label, item, problems, ASSESSMENT_REQUIRED, ASSESSMENT_DEFAULTS):
        return None
    row = {**ASSESSMENT_DEFAULTS, **item}
    c = _Checker(path, label, problems)
    slug = row["slug"]
    c.check(
        isinstance(slug, str) and bool(SLUG.match(slug)) and len(slug) <= 255,
        "slug must be lowercase letters and digits joined by single hyphens",
    )
    c.one_of(row, "assessment_type", AssessmentType)
    c.check(_text(row["title"], 255), "title must be non-blank, at most 255 characters")
    c.check(row["description"] is None or isinstance(row["description"], str), "description")
    c.check(row["domain"] is None or _text(row["domain"], 100), "domain must be a code or null")
    if row["difficulty_level"] is not None:
        c.one_of(row, "difficulty_level", DifficultyLevel)
    limit = row["time_limit_minutes"]
    c.check(limit is None or _int(limit, 1), "time_limit_minutes must be null or > 0")
    c.check(_int(row["passing_score"], 0, 100), "passing_score must be 0..100")
    c.check(
        row["max_attempts"] is None or _int(row["max_attempts"], 1), "max_attempts: null or > 0"
    )
    for flag in ("randomize_questions", "randomize_answers", "show_answers_after", "allow_review"):
        c.check(isinstance(row[flag], bool), f"{flag} must be true or false")
    draw = _check_draw(row["draw"], c)
    if not c.ok:
        return None
    del row["select"], row["draw"]
    row.update(draw)
    return row


def _check_draw(draw: Any, c: _Checker) -> dict[str, Any]:
    """The draw_* columns of an assessment's `draw` (null: a fixed list of questions)."""
    columns: dict[str, Any] = {
        "draw_split": None,
        "draw_size": None,
        "draw_min_simulations": 0,
        "draw_avoid_recent": 0,
    }
    if draw is None:
        return columns
    if not isinstance(draw, dict) or set(draw) - DRAW_FIELDS or "domains" not in draw:
        c.check(False, "draw must be null or {domains, size, min_simulations, avoid_recent}")
        return columns
    split, size = draw["domains"], draw.get("size")
    c.check(
        isinstance(split, dict)
        and bool(split)
        and all(_text(k) and _int(v, 1, 1000) for k, v in split.items()),
        "draw.domains must map domain codes to weights 1..1000",
    )
    if size is None and isinstance(split, dict) and all(_int(v, 1) for v in split.values()):
        size = sum(split.values())
    c.check(_int(size, 1, 1000), "draw.size must be 1..1000 (default: the weights' sum)")
    minimum = draw.get("min_simulations", 0)
    c.check(
        _int(minimum, 0) and (not _int(size, 1) or minimum <= size),
        "draw.min_simulations must be 0..size",
    )
    avoid = draw.get("avoid_recent", 0)
    c.check(_int(avoid, 0, 100), "draw.avoid_recent must be 0..100")
    columns.update(
        draw_split=split, draw_size=size, draw_min_simulations=minimum, draw_avoid_recent=avoid
    )
    return columns


def draw_quotas(split: Mapping[str, int], size: int) -> dict[str, int]:
    """Questions per domain when a split (domain -> weight) is scaled to `size`: largest
    remainder, ties to the heavier domain, then the lower code (draw_quotas of 0018)."""
    total = sum(split.values())
    base = {d: size * w // total for d, w in split.items()}
    order = sorted(split, key=lambda d: (-(size * split[d] % total), -split[d], d))
    for d in order[: size - sum(base.values())]:
        base[d] += 1
    return base


def _drawable(
    path: Path,
    label: str,
    row: Mapping[str, Any],
    by_domain: Mapping[str, list[dict[str, Any]]],
    problems: _Problems,
) -> bool:
    """Whether the bank can fill every draw of the assessment (its domains' places and the
    simulation minimum), as start_attempt will ask."""
    ok = True
    sims = 0
    for domain, quota in draw_quotas(row["draw_split"], row["draw_size"]).items():
        pool = by_domain.get(domain, [])
        if len(pool) < quota:
            problems.add(
                path, label, f"draw: domain {domain} has {len(pool)} questions, not {quota}"
            )
            ok = False
        sims += min(quota, sum(q["question_type"] == QuestionType.SIMULATION for q in pool))
    if sims < row["draw_min_simulations"]:
        problems.add(
            path,
            label,
            f"draw: {sims} simulations fit its domains' places, not {row['draw_min_simulations']}",
        )
        ok = False
    return ok


def _select(
    path: Path,
    label: str,
    rule: Any,
    by_domain: Mapping[str, list[dict[str, Any]]],
    objectives: Mapping[str, list[str]],
    chosen: Mapping[str, set[str]],
    problems: _Problems,
) -> list[str] | None:
    """The question keys a selection rule picks, deterministically; None when it cannot.

    `{"domain": "1.0", "count": 10}` or `{"domains": {"1.0": 21, ...}}`, optionally with
    `"exclude": [earlier assessment slugs]`. Each domain's count is spread over its objectives
    as evenly as possible: objectives in blueprint order, round-robin, questions by key.
    """
    if not isinstance(rule, dict):
        problems.add(path, label, "select must be an object")
        return None
    counts: dict[str, Any]
    if set(rule) <= {"domain", "count", "exclude"} and "domain" in rule and "count" in rule:
        counts = {rule["domain"]: rule["count"]}
    elif set(rule) <= {"domains", "exclude"} and isinstance(rule.get("domains"), dict):
        counts = dict(rule["domains"])
    else:
        problems.add(
            path,
            label,
            'select must be {"domain": code, "count": n} or {"domains": {code: n, ...}},'
            ' with an optional "exclude": [assessment slugs]',
        )
        return None
    excluded: set[str] = set()
    for slug in rule.get("exclude", []):
        if slug not in chosen:
            problems.add(path, label, f"select.exclude: {slug!r} is not a valid assessment above")
            return None
        excluded |= chosen[slug]
    keys: list[str] = []
    for domain, count in counts.items():
        if domain not in objectives:
            problems.add(path, label, f"select: {domain!r} is not a domain of the blueprint")
            return None
        if not _int(count, 1):
            problems.add(path, label, f"select: the count for {domain} must be a positive integer")
            return None
        pool = [q for q in by_domain.get(domain, []) if q["key"] not in excluded]
        ordered = _round_robin(pool, objectives[domain])
        if len(ordered) < count:
            problems.add(
                path, label, f"select: domain {domain} has {len(ordered)} questions, not {count}"
            )
            return None
        keys += ordered[:count]
    return keys


def _round_robin(pool: list[dict[str, Any]], objectives: list[str]) -> list[str]:
    """Keys of the pool: one per objective in turn (blueprint order), each objective's by key."""
    queues = [
        deque(sorted(q["key"] for q in pool if q["subdomain"] == code)) for code in objectives
    ]
    order: list[str] = []
    while any(queues):
        for queue in queues:
            if queue:
                order.append(queue.popleft())
    return order


def _check_achievement(
    path: Path, label: str, item: Mapping[str, Any], problems: _Problems
) -> bool:
    if not _fields(path, label, item, problems, ACHIEVEMENT_FIELDS):
        return False
    c = _Checker(path, label, problems)
    c.check(_text(item["code"], 100), "code must be non-blank, at most 100 characters")
    c.one_of(item, "achievement_type", AchievementType)
    c.check(_text(item["name"], 255), "name must be non-blank, at most 255 characters")
    c.check(item["description"] is None or isinstance(item["description"], str), "description")
    c.check(isinstance(item["criteria"], dict), "criteria must be an object")
    c.check(_int(item["points"], 0), "points must be an integer >= 0")
    c.one_of(item, "rarity", AchievementRarity)
    c.check(isinstance(item["is_active"], bool), "is_active must be true or false")
    return c.ok


def _check_user(path: Path, label: str, item: Mapping[str, Any], problems: _Problems) -> bool:
    if not _fields(path, label, item, problems, USER_FIELDS):
        return False
    c = _Checker(path, label, problems)
    email = item["email"]
    c.check(_text(email, 255) and "@" in email, "email must be an address")
    c.check(_text(item["username"], 50), "username must be non-blank, at most 50 characters")
    c.one_of(item, "role", UserRole)
    profile, settings = item["profile"], item["settings"]
    c.check(
        isinstance(profile, dict)
        and set(profile) == PROFILE_FIELDS
        and all(_text(v, 100) for v in profile.values()),
        f"profile must have exactly {', '.join(sorted(PROFILE_FIELDS))} (non-blank)",
    )
    c.check(
        isinstance(settings, dict)
        and set(settings) == SETTINGS_FIELDS
        and settings.get("theme") in tuple(UserSettingTheme)
        and _int(settings.get("daily_goal_minutes"), 1, 1440),
        f"settings must have a theme ({'/'.join(UserSettingTheme)}) and daily_goal_minutes 1..1440",
    )
    return c.ok
