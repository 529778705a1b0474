"""The seed files under seed/, checked without a database.

Every row must pass the CHECK constraints of the migrations it will be loaded into, refer only to
codes of the N10-009 blueprint (seed/blueprint.json), and be usable as seeded: components form an
acyclic prerequisite graph, achievement criteria use only the vocabulary that
check_and_award_achievement evaluates (migration 0007), and every question's key scores full
marks with netplus_db.grading. The question files are written by several people; a file that does
not parse fails its own test and leaves the others running.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from netplus_db.generated import enums
from netplus_db.grading import answer_key, grade, validate_question
from netplus_db.ops.seed import ASSESSMENT_COMPONENTS, COMPONENT_FIELDS, QUESTION_FIELDS, SLUG
from tests.support.spec import spec_dir

REPO = Path(__file__).resolve().parent.parent.parent
SEED = REPO / "seed"
EXAM_NOTES = REPO.parent / "shared" / "notes" / "network-plus-exam.md"

# The value lists of the CHECKs are the enums generated from them; `x in set(enums.X)`, as `in`
# on an enum class refuses a plain str before Python 3.12.

# The criteria vocabulary of check_and_award_achievement (0007): type -> (threshold key, filters).
CRITERIA: dict[str, tuple[str | None, frozenset[str]]] = {
    "manual": (None, frozenset()),
    "first_login": (None, frozenset()),
    "components_completed": ("count", frozenset({"domain", "component_type"})),
    "components_mastered": ("count", frozenset({"domain"})),
    "streak_days": ("days", frozenset()),
    "active_days": ("days", frozenset()),
    "assessments_passed": ("count", frozenset({"assessment_type"})),
    "perfect_score": ("count", frozenset()),
    "total_minutes": ("minutes", frozenset()),
}

# The content shape of each component type (seed/README.md).
TEXT_TYPES = (
    enums.ComponentType.LESSON,
    enums.ComponentType.READING,
    enums.ComponentType.STUDY_GUIDE,
)
PRACTICE_EXAM_SLUG = "practice-exam-n10-009"
CONTENT_KEYS = {
    **{t: {"sections", "key_points"} for t in TEXT_TYPES},
    enums.ComponentType.VIDEO: {"transcript", "duration_seconds", "chapters"},
    enums.ComponentType.FLASHCARD: {"cards"},
    enums.ComponentType.LAB: {"scenario", "steps", "hints"},
    enums.ComponentType.SIMULATION: {"scenario", "steps", "hints"},
    **{t: {"assessment_slug"} for t in ASSESSMENT_COMPONENTS},
}


# --- loading ------------------------------------------------------------------------------------


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


BLUEPRINT: dict[str, Any] = _load(SEED / "blueprint.json")
DOMAINS: dict[str, dict[str, Any]] = {d["code"]: d for d in BLUEPRINT["domains"]}
OBJECTIVES: dict[str, str] = {
    o["code"]: d["code"] for d in BLUEPRINT["domains"] for o in d["objectives"]
}

COMPONENT_FILES = sorted((SEED / "components").glob("*.json"))
COMPONENTS: list[tuple[str, dict[str, Any]]] = [
    (path.stem, component) for path in COMPONENT_FILES for component in _load(path)
]
BY_SLUG: dict[str, dict[str, Any]] = {c["slug"]: c for _, c in COMPONENTS}

ACHIEVEMENTS: list[dict[str, Any]] = _load(SEED / "achievements.json")
USERS: list[dict[str, Any]] = _load(SEED / "users.json")

QUESTION_FILES = sorted((SEED / "questions").glob("*.json"))


def _read_questions() -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str]]:
    """(file stem, question) for every readable file, and {file name: error} for the others."""
    questions: list[tuple[str, dict[str, Any]]] = []
    errors: dict[str, str] = {}
    for path in QUESTION_FILES:
        try:
            items = _load(path)
        except (OSError, ValueError) as exc:
            errors[path.name] = f"{type(exc).__name__}: {exc}"
            continue
        if not isinstance(items, list) or not all(isinstance(q, dict) for q in items):
            errors[path.name] = "not a JSON array of objects"
            continue
        questions.extend((path.stem, q) for q in items)
    return questions, errors


QUESTIONS, QUESTION_FILE_ERRORS = _read_questions()


def _component_params() -> list[Any]:
    return [pytest.param(stem, c, id=str(c.get("slug"))) for stem, c in COMPONENTS]


def _question_params(*types: str) -> list[Any]:
    """One parameter set per question (of the given types, else all), named file:key."""
    return [
        pytest.param(stem, q, id=f"{stem}:{q.get('key')}")
        for stem, q in QUESTIONS
        if not types or q.get("question_type") in types
    ]


def _nonblank(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _texts(value: Any) -> bool:
    """A non-empty list of non-blank strings."""
    return isinstance(value, list) and bool(value) and all(_nonblank(v) for v in value)


# --- blueprint ----------------------------------------------------------------------------------


def test_blueprint_exam_facts() -> None:
    assert BLUEPRINT["exam"] == "N10-009"
    assert BLUEPRINT["name"] == "CompTIA Network+"
    assert (BLUEPRINT["questions"], BLUEPRINT["minutes"]) == (90, 90)
    assert BLUEPRINT["passing_score"] == 720
    assert BLUEPRINT["scale"] == [100, 900]


def test_blueprint_has_five_domains_and_25_objectives() -> None:
    assert list(DOMAINS) == ["1.0", "2.0", "3.0", "4.0", "5.0"]
    assert [len(d["objectives"]) for d in DOMAINS.values()] == [8, 4, 5, 3, 5]
    assert len(OBJECTIVES) == 25
    for code, domain in DOMAINS.items():
        expected = [f"{code[0]}.{n}" for n in range(1, len(domain["objectives"]) + 1)]
        assert [o["code"] for o in domain["objectives"]] == expected
        assert all(
            _nonblank(o["name"]) and isinstance(o["scenario"], bool) for o in domain["objectives"]
        )
        assert _nonblank(domain["name"])


def test_blueprint_weights_and_practice_exam_items() -> None:
    weights = [d["weight"] for d in DOMAINS.values()]
    items = [d["practice_exam_items"] for d in DOMAINS.values()]
    assert weights == [23, 20, 19, 14, 24]
    assert sum(weights) == 100
    assert items == [21, 18, 17, 13, 21]
    assert sum(items) == BLUEPRINT["questions"] == 90
    for weight, count in zip(weights, items, strict=True):
        assert abs(count - weight * 90 / 100) < 1, "items must be the weight share of 90, rounded"


def test_blueprint_matches_the_exam_notes() -> None:
    """Objective names and scenario flags are those of shared/notes/network-plus-exam.md."""
    if not EXAM_NOTES.exists():
        pytest.skip(f"{EXAM_NOTES} is not beside this checkout")
    rows = re.findall(
        r"^\|\s*(\d\.\d)\s*\|\s*([^|]+?)\s*\|\s*(S?)\s*\|\s*$", EXAM_NOTES.read_text(), re.M
    )
    expected = {code: (name, flag == "S") for code, name, flag in rows}
    assert len(expected) == 25
    actual = {
        o["code"]: (o["name"], o["scenario"]) for d in BLUEPRINT["domains"] for o in d["objectives"]
    }
    assert actual == expected


# --- learning components ------------------------------------------------------------------------


def test_component_files_are_the_five_domains() -> None:
    assert [p.stem for p in COMPONENT_FILES] == list(DOMAINS)


@pytest.mark.parametrize(("stem", "component"), _component_params())
def test_component_row_satisfies_the_schema(stem: str, component: dict[str, Any]) -> None:
    assert set(component) == COMPONENT_FIELDS
    slug = component["slug"]
    assert isinstance(slug, str) and SLUG.match(slug) and len(slug) <= 255
    assert component["component_type"] in set(enums.ComponentType)
    assert _nonblank(component["title"]) and len(component["title"]) <= 255
    assert _nonblank(component["description"])
    assert component["difficulty_level"] in set(enums.DifficultyLevel)
    assert _positive_int(component["estimated_duration_minutes"])
    assert _texts(component["objectives"])
    prerequisites = component["prerequisites"]
    assert isinstance(prerequisites, list) and all(isinstance(p, str) for p in prerequisites)


@pytest.mark.parametrize(("stem", "component"), _component_params())
def test_component_codes_follow_the_blueprint(stem: str, component: dict[str, Any]) -> None:
    assert component["domain"] == stem, "a component lives in its domain's file"
    assert OBJECTIVES.get(component["subdomain"]) == component["domain"]
    codes = component["comptia_objectives"]
    assert isinstance(codes, list) and codes, "tag at least one objective"
    assert len(set(codes)) == len(codes)
    assert set(codes) <= set(OBJECTIVES), f"not N10-009 codes: {set(codes) - set(OBJECTIVES)}"
    assert component["subdomain"] in codes


@pytest.mark.parametrize(("stem", "component"), _component_params())
def test_component_content_fits_its_type(stem: str, component: dict[str, Any]) -> None:
    ctype = component["component_type"]
    content = component["content"]
    assert isinstance(content, dict)
    assert content.get("blueprint") == "N10-009"
    assert set(content) - {"blueprint"} == CONTENT_KEYS[ctype]
    if ctype in TEXT_TYPES:
        sections = content["sections"]
        assert isinstance(sections, list) and 3 <= len(sections) <= 5
        for section in sections:
            assert set(section) == {"heading", "body"}
            assert _nonblank(section["heading"]) and _nonblank(section["body"])
        assert _texts(content["key_points"])
    elif ctype == "video":
        assert _nonblank(content["transcript"])
        seconds = content["duration_seconds"]
        assert _positive_int(seconds)
        assert component["estimated_duration_minutes"] >= math.ceil(seconds / 60)
        chapters = content["chapters"]
        assert isinstance(chapters, list) and chapters
        starts = [c["at"] for c in chapters]
        assert starts[0] == 0 and starts == sorted(set(starts)) and starts[-1] < seconds
        assert all(_nonblank(c["title"]) and set(c) == {"at", "title"} for c in chapters)
    elif ctype == "flashcard":
        deck = content["cards"]
        assert isinstance(deck, list) and 8 <= len(deck) <= 15
        assert all(set(c) == {"front", "back"} for c in deck)
        assert all(_nonblank(c["front"]) and _nonblank(c["back"]) for c in deck)
        assert len({c["front"] for c in deck}) == len(deck), "a card front is repeated"
    elif ctype in ("lab", "simulation"):
        assert _nonblank(content["scenario"])
        lab_steps = content["steps"]
        assert isinstance(lab_steps, list) and 4 <= len(lab_steps) <= 8
        for step in lab_steps:
            assert set(step) == {"instruction", "expected"}
            assert _nonblank(step["instruction"]) and _nonblank(step["expected"])
        hints = content["hints"]
        assert isinstance(hints, list) and all(_nonblank(h) for h in hints)
    else:
        assert isinstance(content["assessment_slug"], str)


def test_component_slugs_are_unique() -> None:
    counts = Counter(c["slug"] for _, c in COMPONENTS)
    assert [slug for slug, n in counts.items() if n > 1] == []


def test_prerequisites_exist() -> None:
    problems = []
    for _, component in COMPONENTS:
        slug, prerequisites = component["slug"], component["prerequisites"]
        if len(set(prerequisites)) != len(prerequisites):
            problems.append(f"{slug}: a prerequisite is listed twice")
        problems += [f"{slug}: unknown {p}" for p in prerequisites if p not in BY_SLUG]
        if slug in prerequisites:
            problems.append(f"{slug}: requires itself")
    assert problems == []


def test_prerequisites_have_no_cycle() -> None:
    done: set[str] = set()

    def visit(slug: str, path: list[str]) -> None:
        if slug in path:
            cycle = [*path[path.index(slug) :], slug]
            pytest.fail("prerequisite cycle: " + " -> ".join(cycle))
        if slug in done or slug not in BY_SLUG:
            return
        for prerequisite in BY_SLUG[slug]["prerequisites"]:
            visit(prerequisite, [*path, slug])
        done.add(slug)

    for slug in BY_SLUG:
        visit(slug, [])


def test_all_ten_component_types_are_used() -> None:
    used = {c["component_type"] for _, c in COMPONENTS}
    assert sorted(set(enums.ComponentType) - used) == []


def test_every_component_type_of_the_schema_has_a_content_shape() -> None:
    assert sorted(set(enums.ComponentType) ^ set(CONTENT_KEYS)) == []


def test_every_objective_is_taught() -> None:
    """Each of the 25 objectives has a lesson, reading or study guide tagged with it."""
    taught = {
        code
        for _, c in COMPONENTS
        if c["component_type"] in TEXT_TYPES
        for code in c["comptia_objectives"]
    }
    assert sorted(set(OBJECTIVES) - taught) == []


def test_assessment_components_name_the_agreed_assessments() -> None:
    """One quiz and one checkpoint per domain, one practice exam over all 25 objectives."""
    expected = {
        **{f"quiz-domain-{d[0]}": ("quiz", d) for d in DOMAINS},
        **{f"checkpoint-domain-{d[0]}": ("assessment", d) for d in DOMAINS},
        PRACTICE_EXAM_SLUG: ("practice_exam", "1.0"),
    }
    found: dict[str, list[tuple[str, str]]] = {}
    for _, c in COMPONENTS:
        if c["component_type"] in ASSESSMENT_COMPONENTS:
            target = c["content"]["assessment_slug"]
            found.setdefault(target, []).append((c["component_type"], c["domain"]))
    assert found == {slug: [where] for slug, where in expected.items()}
    practice = [c for _, c in COMPONENTS if c["component_type"] == "practice_exam"]
    assert sorted(practice[0]["comptia_objectives"]) == sorted(OBJECTIVES)


def test_assessment_slugs_exist_in_assessments_json() -> None:
    """Cross-check with seed/assessments.json once it exists (it is written separately)."""
    path = SEED / "assessments.json"
    if not path.exists():
        pytest.skip("seed/assessments.json does not exist yet")
    assessments = {a["slug"]: a for a in _load(path)}
    for _, c in COMPONENTS:
        if c["component_type"] in ASSESSMENT_COMPONENTS:
            target = c["content"]["assessment_slug"]
            assert target in assessments, f"{c['slug']} points at missing assessment {target}"
            kind = assessments[target].get("assessment_type")
            assert kind in (None, ASSESSMENT_COMPONENTS[c["component_type"]]), c["slug"]


# --- achievements -------------------------------------------------------------------------------


def _achievement_params() -> list[Any]:
    return [pytest.param(a, id=str(a.get("code"))) for a in ACHIEVEMENTS]


def _available(criteria: dict[str, Any]) -> int | None:
    """How many seeded things could count towards a count threshold (None: no limit)."""
    ctype = criteria["type"]
    if ctype in ("components_completed", "components_mastered"):
        return sum(
            1
            for _, c in COMPONENTS
            if criteria.get("domain") in (None, c["domain"])
            and criteria.get("component_type") in (None, c["component_type"])
        )
    if ctype == "assessments_passed":
        wanted = criteria.get("assessment_type")
        return sum(
            1
            for _, c in COMPONENTS
            if ASSESSMENT_COMPONENTS.get(c["component_type"]) is not None
            and wanted in (None, ASSESSMENT_COMPONENTS[c["component_type"]])
        )
    return None  # perfect scores can repeat


def test_at_least_fifteen_achievements() -> None:
    assert len(ACHIEVEMENTS) >= 15


@pytest.mark.parametrize("achievement", _achievement_params())
def test_achievement_row_satisfies_the_schema(achievement: dict[str, Any]) -> None:
    assert set(achievement) == {
        "code",
        "achievement_type",
        "name",
        "description",
        "criteria",
        "points",
        "rarity",
        "is_active",
    }
    assert isinstance(achievement["code"], str) and SLUG.match(achievement["code"])
    assert len(achievement["code"]) <= 100
    assert _nonblank(achievement["name"]) and len(achievement["name"]) <= 255
    assert _nonblank(achievement["description"])
    assert achievement["achievement_type"] in set(enums.AchievementType)
    assert achievement["rarity"] in set(enums.AchievementRarity)
    points = achievement["points"]
    assert isinstance(points, int) and not isinstance(points, bool) and points >= 0
    assert achievement["is_active"] is True
    assert isinstance(achievement["criteria"], dict)


@pytest.mark.parametrize("achievement", _achievement_params())
def test_achievement_criteria_use_the_evaluated_vocabulary(achievement: dict[str, Any]) -> None:
    criteria = achievement["criteria"]
    if criteria == {}:
        return  # awarded manually
    ctype = criteria.get("type")
    assert ctype in CRITERIA, f"check_and_award_achievement does not evaluate {ctype!r}"
    threshold, filters = CRITERIA[ctype]
    allowed = {"type", *filters} | ({threshold} if threshold else set())
    assert set(criteria) <= allowed, f"unknown keys {set(criteria) - allowed}"
    if threshold is not None:
        assert _positive_int(criteria.get(threshold)), f"needs a positive integer {threshold!r}"
    if "domain" in criteria:
        assert criteria["domain"] in DOMAINS
    if "component_type" in criteria:
        assert criteria["component_type"] in set(enums.ComponentType)
    if "assessment_type" in criteria:
        assert criteria["assessment_type"] in set(enums.AssessmentType)
    available = _available(criteria) if threshold == "count" else None
    if available is not None:
        assert criteria["count"] <= available, f"more than the {available} the seed offers"


def test_achievements_cover_every_type_and_rarity() -> None:
    assert {a["achievement_type"] for a in ACHIEVEMENTS} == set(enums.AchievementType)
    assert {a["rarity"] for a in ACHIEVEMENTS} == set(enums.AchievementRarity)


def test_achievement_codes_and_names_are_unique() -> None:
    for field in ("code", "name"):
        counts = Counter(a[field] for a in ACHIEVEMENTS)
        assert [value for value, n in counts.items() if n > 1] == []


def test_achievements_include_streaks_and_domain_mastery() -> None:
    streaks = {
        a["criteria"].get("days")
        for a in ACHIEVEMENTS
        if a["criteria"].get("type") == "streak_days"
    }
    assert {3, 7, 30, 100} <= streaks
    mastered = {
        a["criteria"].get("domain")
        for a in ACHIEVEMENTS
        if a["criteria"].get("type") == "components_mastered"
    }
    assert set(DOMAINS) <= mastered
    assert any(a["criteria"].get("type") == "first_login" for a in ACHIEVEMENTS)


# --- demo users ---------------------------------------------------------------------------------

DEMO_ACCOUNTS = {
    "admin@network.test": "admin",
    "instructor@network.test": "instructor",
    "student1@network.test": "student",
    "student2@network.test": "student",
    "student3@network.test": "student",
}


def test_demo_accounts_are_those_of_the_spec_appendix() -> None:
    appendix = (spec_dir() / "DATABASE.md").read_text().split("### Demo Accounts", 1)[1]
    listed = re.findall(r"^\s*[\w ]+:\s+(\S+@\S+)\s+/", appendix.split("###", 1)[0], re.M)
    assert sorted(listed) == sorted(DEMO_ACCOUNTS)
    assert {u["email"]: u["role"] for u in USERS} == DEMO_ACCOUNTS
    assert len(USERS) == len(DEMO_ACCOUNTS)


@pytest.mark.parametrize("user", USERS, ids=[str(u.get("username")) for u in USERS])
def test_user_row_satisfies_the_schema(user: dict[str, Any]) -> None:
    assert set(user) == {"email", "username", "role", "profile", "settings"}, "no passwords here"
    assert user["username"] == user["email"].split("@", 1)[0]
    assert len(user["email"]) <= 255 and len(user["username"]) <= 50
    profile = user["profile"]
    assert set(profile) == {"first_name", "last_name", "display_name", "timezone", "locale"}
    assert all(_nonblank(v) for v in profile.values())
    assert len(profile["display_name"]) <= 100
    assert (profile["timezone"], profile["locale"]) == ("UTC", "en-US")
    settings = user["settings"]
    assert settings["theme"] in set(enums.UserSettingTheme)
    assert _positive_int(settings["daily_goal_minutes"]) and settings["daily_goal_minutes"] <= 1440


def test_usernames_and_emails_are_unique_ignoring_case() -> None:
    for field in ("email", "username"):
        values = [u[field].lower() for u in USERS]
        assert len(set(values)) == len(values)


# --- questions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", QUESTION_FILES, ids=[p.name for p in QUESTION_FILES])
def test_question_file_is_a_domain_and_parses(path: Path) -> None:
    assert path.stem in DOMAINS, f"{path.name} is not named after a domain"
    assert path.name not in QUESTION_FILE_ERRORS, QUESTION_FILE_ERRORS.get(path.name)


@pytest.mark.parametrize(("stem", "question"), _question_params())
def test_question_row_satisfies_the_schema(stem: str, question: dict[str, Any]) -> None:
    missing = QUESTION_FIELDS - set(question)
    assert not missing, f"missing {sorted(missing)}"
    assert _nonblank(question["key"])
    assert question["question_type"] in set(enums.QuestionType)
    assert question["difficulty_level"] in set(enums.DifficultyLevel)
    assert _nonblank(question["question_text"])
    assert _nonblank(question["explanation"])
    assert isinstance(question["hints"], list) and all(
        isinstance(h, str) for h in question["hints"]
    )
    points = question["points"]
    assert isinstance(points, int) and not isinstance(points, bool) and points >= 0
    assert isinstance(question["question_data"], dict)
    assert isinstance(question["correct_answer"], dict)


@pytest.mark.parametrize(("stem", "question"), _question_params())
def test_question_codes_follow_the_blueprint(stem: str, question: dict[str, Any]) -> None:
    assert question["domain"] == stem, "a question lives in its domain's file"
    assert OBJECTIVES.get(question["subdomain"]) == question["domain"]
    codes = question["comptia_objectives"]
    assert isinstance(codes, list) and codes
    assert set(codes) <= set(OBJECTIVES), f"not N10-009 codes: {set(codes) - set(OBJECTIVES)}"


@pytest.mark.parametrize(("stem", "question"), _question_params())
def test_question_key_scores_full_marks(stem: str, question: dict[str, Any]) -> None:
    qtype, data, key = (
        question["question_type"],
        question["question_data"],
        question["correct_answer"],
    )
    validate_question(qtype, data, key)
    assert grade(qtype, data, key, answer_key(qtype, data, key)).fraction == 1


@pytest.mark.parametrize(("stem", "question"), _question_params("multiple_choice", "true_false"))
def test_a_wrong_answer_scores_zero(stem: str, question: dict[str, Any]) -> None:
    qtype, data, key = (
        question["question_type"],
        question["question_data"],
        question["correct_answer"],
    )
    if qtype == "true_false":
        assert grade(qtype, data, key, {"value": not key["value"]}).fraction == 0
        return
    wrong = [o["id"] for o in data["options"] if o["id"] != key["option"]]
    scores = {o: grade(qtype, data, key, {"option": o}).fraction for o in wrong}
    assert all(score < 1 for score in scores.values()), "a second option scores full marks"
    assert 0 in scores.values(), "every wrong option earns partial credit"


def test_question_keys_are_unique() -> None:
    counts = Counter(q["key"] for _, q in QUESTIONS)
    assert [key for key, n in counts.items() if n > 1] == []


def test_every_objective_has_at_least_four_questions() -> None:
    counts = Counter(q.get("subdomain") for _, q in QUESTIONS)
    short = {code: counts[code] for code in OBJECTIVES if counts[code] < 4}
    assert short == {}, f"objectives with fewer than 4 questions: {short}"


def test_every_domain_can_fill_its_practice_exam_share() -> None:
    counts = Counter(q.get("domain") for _, q in QUESTIONS)
    short = {
        code: (counts[code], d["practice_exam_items"])
        for code, d in DOMAINS.items()
        if counts[code] < d["practice_exam_items"]
    }
    assert short == {}, f"domain: (questions, practice exam items) {short}"


def test_all_six_question_types_appear() -> None:
    used = {q.get("question_type") for _, q in QUESTIONS}
    assert sorted(set(enums.QuestionType) - used) == []
