"""Grading a learner's answer to one question, by its type (see docs/question-formats.md).

Every question yields a fraction in [0, 1]; points earned = fraction x the question's points,
and an answer is correct only when the fraction is 1. `None` is a skipped question. A
malformed answer raises ValidationError naming the field; a malformed question definition
raises QuestionFormatError (checked when seeding, so it never reaches a learner).
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from netplus_db.errors import QuestionFormatError, ValidationError
from netplus_db.generated.enums import QuestionType

# question_bank.question_type's CHECK list, in its order (the generated enum is its one source).
QUESTION_TYPES: tuple[QuestionType, ...] = tuple(QuestionType)
NORMALIZERS = ("text", "number", "ipv4", "ipv6", "cidr", "ports", "mac", "term")


@dataclass(frozen=True)
class Grade:
    """The outcome for one question."""

    fraction: Fraction
    skipped: bool = False
    parts: Mapping[str, Fraction] | None = None

    @property
    def correct(self) -> bool:
        """Full marks (partial credit earns points but is not correct)."""
        return not self.skipped and self.fraction == 1

    def points(self, question_points: int | Decimal) -> Decimal:
        """Points earned, rounded half up to the cent as stored (numeric(10,2)), exactly."""
        if self.fraction == 0:  # the common cases without Fraction arithmetic (a submit
            return _NO_POINTS  # grades 90 questions; this was a third of its grading time)
        # equivalent for mutation testing: a fast path, the general one below gives the same
        whole = self.fraction == 1 and type(question_points) is int  # pragma: no mutate
        if whole and 0 <= question_points < 10**9:  # pragma: no mutate
            return Decimal(question_points).quantize(_CENT)
        cents = self.fraction * Fraction(question_points) * 100
        return (Decimal(math.floor(cents + Fraction(1, 2))) / 100).quantize(Decimal("0.01"))


_CENT = Decimal("0.01")
_NO_POINTS = Decimal("0.00")
SKIPPED = Grade(Fraction(0), skipped=True)


def grade(
    question_type: str,
    question_data: Mapping[str, Any],
    correct_answer: Mapping[str, Any],
    user_answer: Any,
) -> Grade:
    """Grade one answer; `None` (or an empty object) means the learner skipped the question."""
    if user_answer is None or user_answer == {}:
        return SKIPPED
    grader = _GRADERS.get(question_type)
    if grader is None:
        raise QuestionFormatError(f"unknown question type {question_type!r}")
    _require_object(user_answer, "user_answer")
    return grader(question_data, correct_answer, user_answer, "user_answer")


def validate_question(
    question_type: str, question_data: Mapping[str, Any], correct_answer: Mapping[str, Any]
) -> None:
    """Raise QuestionFormatError unless the definition is well formed and its key scores 1."""
    if question_type not in _GRADERS:
        raise QuestionFormatError(f"unknown question type {question_type!r}")
    try:
        key = answer_key(question_type, question_data, correct_answer)
        result = grade(question_type, question_data, correct_answer, key)
    except ValidationError as exc:
        raise QuestionFormatError(f"correct_answer does not fit question_data: {exc}") from None
    if result.fraction != 1:
        raise QuestionFormatError(f"the correct answer scores {result.fraction}, not 1")


def answer_key(
    question_type: str, question_data: Mapping[str, Any], correct_answer: Mapping[str, Any]
) -> dict[str, Any]:
    """A learner answer that earns full marks: the key, in the shape a learner submits."""
    if question_type == QuestionType.MULTIPLE_CHOICE:
        return {"option": _str(correct_answer, "option", "correct_answer")}
    if question_type == QuestionType.MULTIPLE_SELECT:
        return {"options": list(_str_list(correct_answer, "options", "correct_answer"))}
    if question_type == QuestionType.TRUE_FALSE:
        return {"value": _bool(correct_answer, "value", "correct_answer")}
    if question_type == QuestionType.FILL_BLANK:
        accepted = _accepted(correct_answer)
        full = [a for a, credit in accepted if credit == 1 and "*" not in a]
        if not full:
            raise QuestionFormatError("fill_blank needs an accepted answer with credit 1 and no *")
        return {"text": full[0]}
    if question_type == QuestionType.MATCHING:
        return {"pairs": dict(_pairs(correct_answer, "correct_answer"))}
    if question_type == QuestionType.SIMULATION:
        parts = _parts(question_data)
        keys = _require_object(correct_answer.get("parts"), "correct_answer.parts")
        return {
            "parts": {
                p["id"]: answer_key(
                    p["type"],
                    # equivalent for mutation testing: only a simulation's key reads its
                    # question_data, and a part is never a simulation
                    p.get("data", {}),  # pragma: no mutate
                    keys.get(p["id"], {}),
                )
                for p in parts
            }
        }
    raise QuestionFormatError(f"unknown question type {question_type!r}")


def wrong_answers(
    question_type: str, question_data: Mapping[str, Any], correct_answer: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Answers in the shape a learner submits that do not earn full marks: the first earns
    nothing where the question allows it, later ones may earn partial credit. For synthetic
    learners, benchmarks and tests; empty when no wrong answer exists."""
    candidates = _wrong_candidates(question_type, question_data, correct_answer)
    return [
        a for a in candidates if grade(question_type, question_data, correct_answer, a).fraction < 1
    ]


def _wrong_candidates(qtype: str, data: Mapping[str, Any], key: Mapping[str, Any]) -> list[Any]:
    """Answers that should not earn full marks, for a question that passed validate_question
    (its ids and keys are there: a missing one is a KeyError, not a quiet default)."""
    if qtype == "multiple_choice":
        partial = key.get("partial") or {}
        others = [o["id"] for o in data["options"] if o["id"] != key["option"]]
        return [{"option": o} for o in sorted(others, key=lambda o: o in partial)]
    if qtype == "multiple_select":
        right = list(key["options"])
        wrong = [o["id"] for o in data["options"] if o["id"] not in right]  # never empty
        # With one right option the last is the key itself, which wrong_answers drops.
        return [
            {"options": wrong[:1]},
            {"options": [*right[:-1], wrong[0]]},
            {"options": right[:1]},
        ]
    if qtype == "true_false":
        return [{"value": not key["value"]}]
    if qtype == "fill_blank":
        return [{"text": "zz certainly not the answer zz"}]
    if qtype == "matching":
        pairs = key["pairs"]
        choices = [c["id"] for c in data["choices"]]
        stems = [s["id"] for s in data["stems"]]
        none_right = {s: next((c for c in choices if c != pairs[s]), pairs[s]) for s in stems}
        out = [{"pairs": none_right}]
        if len(stems) > 2:
            out.append({"pairs": {**none_right, stems[0]: pairs[stems[0]]}})
        return out
    if qtype == "simulation":
        parts = data["parts"]
        keys = key["parts"]
        all_wrong: dict[str, Any] = {}
        for p in parts:
            # equivalent for mutation testing: a part may leave its data out only if its type
            # reads none (true/false)
            part_data = p.get("data", {})  # pragma: no mutate
            wrong = wrong_answers(p["type"], part_data, keys[p["id"]])
            all_wrong[p["id"]] = wrong[0] if wrong else {}  # none can be wrong: skipped
        first = parts[0]
        # With one part this solves the question, and wrong_answers drops it.
        solved = answer_key(first["type"], {}, keys[first["id"]])  # its key reads no data
        return [{"parts": all_wrong}, {"parts": {**all_wrong, first["id"]: solved}}]
    return []


# --- the rules, one per type -------------------------------------------------------------------


def _multiple_choice(
    data: Mapping[str, Any], key: Mapping[str, Any], answer: Any, at: str
) -> Grade:
    options = _option_ids(data)
    chosen = _str(answer, "option", at)
    if chosen not in options:
        raise ValidationError(f"{at}.option", f"must be one of {', '.join(options)}")
    if chosen == _str(key, "option", "correct_answer"):
        return Grade(Fraction(1))
    partial = key.get("partial") or {}
    credit = partial.get(chosen, 0) if isinstance(partial, Mapping) else 0
    return Grade(_clamp(_fraction(credit, "correct_answer.partial")))


def _multiple_select(
    data: Mapping[str, Any], key: Mapping[str, Any], answer: Any, at: str
) -> Grade:
    options = _option_ids(data)
    ticked = _str_list(answer, "options", at)
    if len(set(ticked)) != len(ticked):
        raise ValidationError(f"{at}.options", "lists an option twice")
    unknown = [o for o in ticked if o not in options]
    if unknown:
        raise ValidationError(f"{at}.options", f"unknown option(s) {', '.join(unknown)}")
    right = set(_str_list(key, "options", "correct_answer"))
    if not right or not right <= set(options):
        raise QuestionFormatError("multiple_select correct options must be a non-empty subset")
    if right == set(options):
        raise QuestionFormatError("multiple_select needs at least one distractor")
    if data.get("all_or_nothing"):
        return Grade(Fraction(int(set(ticked) == right)))
    wrong = len(options) - len(right)
    total = sum(
        ((Fraction(1, len(right)) if o in right else -Fraction(1, wrong)) for o in ticked),
        start=Fraction(0),
    )
    return Grade(_clamp(total))


def _true_false(_data: Mapping[str, Any], key: Mapping[str, Any], answer: Any, at: str) -> Grade:
    value = _bool(answer, "value", at)
    return Grade(Fraction(int(value == _bool(key, "value", "correct_answer"))))


def _fill_blank(data: Mapping[str, Any], key: Mapping[str, Any], answer: Any, at: str) -> Grade:
    text = _str(answer, "text", at)
    if len(text) > 1000:
        raise ValidationError(f"{at}.text", "is longer than 1000 characters")
    if not text.strip():
        return SKIPPED
    normalizer = data.get("normalize", "text")
    case_sensitive = bool(data.get("case_sensitive"))
    units = _units(data) if normalizer == "number" else ()
    given = _normalize(text, normalizer, case_sensitive, units)
    if given is None:
        return Grade(Fraction(0))
    accepted = _accepted(key)
    credit = _first_match(given, accepted, normalizer, case_sensitive, units)
    if credit is None and normalizer == "term":
        # "expansion (abbreviation)" or the other way round: both halves must be right
        both = re.fullmatch(r"([^()]+)\(([^()]+)\)", given)
        if both:
            first, second = _term(both[1]), _term(both[2])  # `given` is folded already
            if first and second:
                one = _first_match(first, accepted, normalizer, case_sensitive, units)
                other = _first_match(second, accepted, normalizer, case_sensitive, units)
                if one is not None and other is not None:
                    credit = min(one, other)
    return Grade(credit if credit is not None else Fraction(0))


def _first_match(
    given: str,
    accepted: list[tuple[str, Fraction]],
    normalizer: str,
    case_sensitive: bool,
    units: tuple[str, ...],
) -> Fraction | None:
    """The credit of the first accepted answer the canonical answer matches, or None."""
    for candidate, credit in accepted:
        if "*" in candidate:
            pattern = _fold(candidate, case_sensitive)
            if normalizer == "term":
                pattern = _term(pattern)
            regex = ".*".join(re.escape(piece) for piece in pattern.split("*"))
            if re.fullmatch(regex, given):  # folding left no line break for `.` to miss
                return credit
        elif _normalize(candidate, normalizer, case_sensitive, units) == given:
            return credit
    return None


def _units(data: Mapping[str, Any]) -> tuple[str, ...]:
    units = data.get("units", [])
    if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
        raise QuestionFormatError("question_data.units must be a list of strings")
    return tuple(units)


def _matching(data: Mapping[str, Any], key: Mapping[str, Any], answer: Any, at: str) -> Grade:
    stems = [s["id"] for s in _items(data, "stems")]
    choices = {c["id"] for c in _items(data, "choices")}
    given = _pairs(answer, at)
    for stem, choice in given.items():
        if stem not in stems:
            raise ValidationError(f"{at}.pairs", f"unknown stem {stem!r}")
        if choice not in choices:
            raise ValidationError(f"{at}.pairs.{stem}", f"unknown choice {choice!r}")
    right = _pairs(key, "correct_answer")
    if set(right) != set(stems) or not set(right.values()) <= choices:
        raise QuestionFormatError(
            "matching correct_answer.pairs must pair every stem with a choice"
        )
    return Grade(Fraction(sum(1 for s in stems if given.get(s) == right[s]), len(stems)))


def _simulation(data: Mapping[str, Any], key: Mapping[str, Any], answer: Any, at: str) -> Grade:
    parts = _parts(data)
    keys = _require_object(key.get("parts"), "correct_answer.parts")
    given = _require_object(answer.get("parts"), f"{at}.parts")
    unknown = set(given) - {p["id"] for p in parts}
    if unknown:
        raise ValidationError(f"{at}.parts", f"unknown part(s) {', '.join(sorted(unknown))}")
    scores: dict[str, Fraction] = {}
    weighted = Fraction(0)
    total_weight = Fraction(0)
    for part in parts:
        weight = _fraction(part.get("weight", 1), f"question_data.parts.{part['id']}.weight")
        if weight < 0:
            raise QuestionFormatError(f"question_data.parts.{part['id']}.weight is negative")
        total_weight += weight
        part_answer = given.get(part["id"])
        if part_answer is None or part_answer == {}:
            scores[part["id"]] = Fraction(0)
            continue
        _require_object(part_answer, f"{at}.parts.{part['id']}")
        result = _GRADERS[part["type"]](
            part.get("data", {}), keys.get(part["id"], {}), part_answer, f"{at}.parts.{part['id']}"
        )
        scores[part["id"]] = result.fraction
        weighted += weight * result.fraction
    return Grade(weighted / total_weight if total_weight else Fraction(0), parts=scores)


Grader = Callable[[Mapping[str, Any], Mapping[str, Any], Any, str], Grade]
_GRADERS: dict[str, Grader] = {
    QuestionType.MULTIPLE_CHOICE: _multiple_choice,
    QuestionType.MULTIPLE_SELECT: _multiple_select,
    QuestionType.TRUE_FALSE: _true_false,
    QuestionType.FILL_BLANK: _fill_blank,
    QuestionType.MATCHING: _matching,
    QuestionType.SIMULATION: _simulation,
}


# --- normalisers for fill_blank ----------------------------------------------------------------


def _normalize(
    text: str, normalizer: str, case_sensitive: bool, units: tuple[str, ...] = ()
) -> str | None:
    """The canonical form of an answer, or None when it cannot be read as that kind of value."""
    text = _fold(text, case_sensitive)
    try:
        if normalizer == "number":
            return _number(text, units, case_sensitive)
        if normalizer == "ipv4":
            return str(ipaddress.IPv4Address(text))
        if normalizer == "ipv6":
            return ipaddress.IPv6Address(text).compressed
        if normalizer == "cidr":  # a network: host bits set make it unreadable
            return ipaddress.ip_network(text.replace(" ", "")).with_prefixlen  # strict
        if normalizer == "ports":
            return ",".join(str(p) for p in sorted(_ports(text)))
        if normalizer == "mac":
            return _mac(text)
        if normalizer == "term":
            return _term(text)
    except (ValueError, ArithmeticError):  # decimal's InvalidOperation and Overflow included
        return None
    if normalizer != "text":
        raise QuestionFormatError(f"unknown normalizer {normalizer!r}")
    return text


def _fold(text: str, case_sensitive: bool) -> str:
    """NFC, whitespace collapsed to single spaces and trimmed, case folded unless it counts."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).strip())
    if not case_sensitive:  # case folding can undo composition: normalise again
        text = unicodedata.normalize("NFC", text.casefold())
    return text


def _number(text: str, units: tuple[str, ...], case_sensitive: bool) -> str:
    """A decimal number, bare or with one of the question's units before or after it."""
    try:
        return str(Decimal(text.replace(",", "")).normalize())
    except ArithmeticError:
        pass
    for unit in units:  # a unit as long as the answer, or empty, leaves nothing to read
        word = _fold(unit, case_sensitive)
        for rest in (
            text[: -len(word)] if text.endswith(word) else None,
            text[len(word) :] if text.startswith(word) else None,
        ):
            if rest is None:
                continue
            try:
                return str(Decimal(rest.replace(",", "")).normalize())
            except ArithmeticError:
                pass
    raise ValueError  # unreadable: the caller scores it 0


_PORT_SEPARATORS = re.compile(r"[,\s/]+|\b(?:and|tcp|udp|ports?)\b")


def _ports(text: str) -> set[int]:
    ports: set[int] = set()
    for piece in _PORT_SEPARATORS.split(text):
        if not piece:
            continue
        low, _, high = piece.partition("-")
        first, last = int(low), int(high or low)
        if not 0 <= first <= last <= 65535:
            raise ValueError  # out of range: unreadable
        ports.update(range(first, last + 1))
    if not ports:
        raise ValueError
    return ports


_MAC_FORMS = (
    re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}"),
    re.compile(r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}"),
    re.compile(r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"),
    re.compile(r"[0-9A-Fa-f]{12}"),
)


def _mac(text: str) -> str:
    """aa:bb:cc:dd:ee:ff from colon, hyphen, Cisco dotted or bare hexadecimal spellings."""
    if not any(form.fullmatch(text) for form in _MAC_FORMS):
        raise ValueError
    hexdigits = re.sub(r"[:.-]", "", text).translate(_ASCII_LOWER)
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))


_ASCII_LOWER = str.maketrans("ABCDEF", "abcdef")
_HYPHENS = re.compile("[-_\u2010\u2011\u2012\u2013\u2014]+")


def _term(text: str) -> str:
    """Hyphens and underscores read as spaces, a leading article dropped."""
    text = _HYPHENS.sub(" ", text)
    text = re.sub(" +", " ", text).strip()
    return re.sub(r"^(?:the|an?) ", "", text)


# --- shape checks ------------------------------------------------------------------------------


def _require_object(value: Any, at: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(at, f"must be a JSON object, got {type(value).__name__}")
    return value


def _str(obj: Mapping[str, Any], field: str, at: str) -> str:
    value = obj.get(field)
    if not isinstance(value, str):
        raise ValidationError(f"{at}.{field}", "must be a string")
    return value


def _bool(obj: Mapping[str, Any], field: str, at: str) -> bool:
    value = obj.get(field)
    if not isinstance(value, bool):
        raise ValidationError(f"{at}.{field}", "must be true or false")
    return value


def _str_list(obj: Mapping[str, Any], field: str, at: str) -> list[str]:
    value = obj.get(field)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{at}.{field}", "must be a list of option ids")
    return value


def _pairs(obj: Mapping[str, Any], at: str) -> dict[str, str]:
    value = obj.get("pairs")
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError(f"{at}.pairs", "must map stem ids to choice ids")
    return dict(value)


def _items(data: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    items = data.get(field)
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(i, Mapping) and isinstance(i.get("id"), str) for i in items)
    ):
        raise QuestionFormatError(f"question_data.{field} must be a non-empty list of {{id, text}}")
    ids = [i["id"] for i in items]
    if len(set(ids)) != len(ids):
        raise QuestionFormatError(f"question_data.{field} repeats an id")
    return items


def _option_ids(data: Mapping[str, Any]) -> list[str]:
    options = [o["id"] for o in _items(data, "options")]
    if len(options) < 2:
        raise QuestionFormatError("question_data.options needs at least two options")
    return options


def _parts(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    parts = _items(data, "parts")
    for part in parts:
        if part.get("type") not in _GRADERS or part.get("type") == QuestionType.SIMULATION:
            raise QuestionFormatError(
                f"question_data.parts.{part['id']}.type must be a non-simulation question type"
            )
    return parts


def _accepted(key: Mapping[str, Any]) -> list[tuple[str, Fraction]]:
    accepted = key.get("accepted")
    if not isinstance(accepted, list) or not accepted:
        raise QuestionFormatError("correct_answer.accepted must be a non-empty list")
    result = []
    for item in accepted:
        if not isinstance(item, Mapping) or not isinstance(item.get("answer"), str):
            raise QuestionFormatError("each correct_answer.accepted item needs an answer string")
        # equivalent for mutation testing: any default of 1 or more is clamped to 1
        default = 1  # pragma: no mutate
        credit = _clamp(_fraction(item.get("credit", default), "correct_answer.accepted.credit"))
        result.append((item["answer"], credit))
    return result


def _fraction(value: Any, at: str) -> Fraction:
    try:  # what str() makes of a bool, null, list or object is no number either
        return Fraction(str(value))
    except ValueError:
        raise QuestionFormatError(f"{at} must be a number") from None


def _clamp(value: Fraction) -> Fraction:
    return max(Fraction(0), min(Fraction(1), value))
