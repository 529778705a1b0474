"""Property tests of the grader (netplus_db/grading.py) against shared/notes/grading-rules.md.

Hypothesis builds valid question definitions of every type (random option ids, correct
subsets, partial credits, weights, accepted-answer lists, stems and choices, simulations made
of the other types) together with an answer and the fraction the rule gives it, computed here
independently of the grader. Pure Python: no database.
"""

from __future__ import annotations

import functools
import ipaddress
import string
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netplus_db.errors import QuestionFormatError, ValidationError
from netplus_db.generated.enums import QuestionType
from netplus_db.grading import (
    NORMALIZERS,
    QUESTION_TYPES,
    Grade,
    answer_key,
    grade,
    validate_question,
    wrong_answers,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PART_TYPES = [t for t in QUESTION_TYPES if t != QuestionType.SIMULATION]


@dataclass(frozen=True)
class Question:
    """One question definition as stored: question_type, question_data, correct_answer."""

    type: str
    data: dict[str, Any]
    key: dict[str, Any]


@dataclass(frozen=True)
class Case:
    """A question, a learner's answer and the fraction the rules give that answer."""

    question: Question
    answer: dict[str, Any]
    expected: Fraction


def run(question: Question, answer: Any) -> Grade:
    return grade(question.type, question.data, question.key, answer)


def clamp(value: Fraction) -> Fraction:
    return max(Fraction(0), min(Fraction(1), value))


def hundredths(k: int) -> int | float:
    """A credit of k/100 spelled as JSON would hold it (an int when whole)."""
    return k // 100 if k % 100 == 0 else k / 100


def quarters(k: int) -> int | float:
    """A weight of k/4 spelled as JSON would hold it."""
    return k // 4 if k % 4 == 0 else k / 4


def exact_points(fraction: Fraction, question_points: int | Decimal) -> Decimal:
    """fraction x points, rounded half up to the cent, computed exactly with Fraction."""
    exact = fraction * Fraction(question_points)
    cents = floor(exact * 100 + Fraction(1, 2))
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


# --- strategies --------------------------------------------------------------------------------

ID = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=3)
LABEL = st.text(max_size=12)
PADDING = st.text(alphabet=" \t\n\u00a0\u2003", max_size=3)
WORD = st.text(alphabet=string.ascii_letters + string.digits + "-._'", min_size=1, max_size=8)


def id_lists(min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(ID, min_size=min_size, max_size=max_size, unique=True)


def items(draw: st.DrawFn, ids: Sequence[str]) -> list[dict[str, Any]]:
    return [{"id": i, "text": draw(LABEL)} for i in ids]


def fresh_id(draw: Callable[[st.SearchStrategy[str]], str], taken: Collection[str]) -> str:
    """An id that is not among `taken`."""
    return draw(ID.filter(lambda i: i not in taken))


def case_variant(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if up else c.lower() for c, up in zip(text, flips, strict=True))


def padded(draw: st.DrawFn, text: str) -> str:
    """text with white space around it and every single space widened to a random run."""
    pieces = text.split(" ")
    joined = pieces[0]
    for piece in pieces[1:]:
        joined += draw(PADDING.filter(bool)) + piece
    return draw(PADDING) + joined + draw(PADDING)


@dataclass(frozen=True)
class MultipleChoice:
    question: Question
    options: list[str]
    key: str
    expected: dict[str, Fraction]  # the fraction each option earns


@st.composite
def multiple_choice_questions(draw: st.DrawFn) -> MultipleChoice:
    ids = draw(id_lists(2, 6))
    key = draw(st.sampled_from(ids))
    others = [i for i in ids if i != key]
    with_partial = draw(st.lists(st.sampled_from(others), unique=True))
    credits = {i: draw(st.integers(-50, 150)) for i in with_partial}
    correct: dict[str, Any] = {"option": key}
    spell_partial: bool = bool(credits) or draw(st.booleans())
    if spell_partial:
        correct["partial"] = {i: hundredths(k) for i, k in credits.items()}
    expected = {i: clamp(Fraction(credits.get(i, 0), 100)) for i in ids}
    expected[key] = Fraction(1)
    question = Question("multiple_choice", {"options": items(draw, ids)}, correct)
    return MultipleChoice(question, ids, key, expected)


@dataclass(frozen=True)
class MultipleSelect:
    question: Question
    options: list[str]
    correct: frozenset[str]
    all_or_nothing: bool

    @property
    def distractors(self) -> list[str]:
        return [o for o in self.options if o not in self.correct]

    def rule(self, ticked: Collection[str]) -> Fraction:
        """grading-rules.md: each correct option +1/k, each distractor -1/(n-k), clamped."""
        if self.all_or_nothing:
            return Fraction(int(set(ticked) == self.correct))
        right = sum(1 for o in ticked if o in self.correct)
        wrong = len(ticked) - right
        score = Fraction(right, len(self.correct))
        if wrong:
            score -= Fraction(wrong, len(self.distractors))
        return clamp(score)


@st.composite
def multiple_select_questions(
    draw: st.DrawFn, all_or_nothing: bool | None = None, distractors: bool = False
) -> MultipleSelect:
    # A multiple_select needs a distractor (validate_question refuses a question without one).
    ids = draw(id_lists(3 if distractors else 2, 8))
    max_right = len(ids) - 1
    right = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=max_right, unique=True))
    mode = draw(st.sampled_from([None, False, True])) if all_or_nothing is None else all_or_nothing
    data: dict[str, Any] = {"options": items(draw, ids)}
    if mode is not None:
        data["all_or_nothing"] = mode
    question = Question("multiple_select", data, {"options": right})
    return MultipleSelect(question, ids, frozenset(right), bool(mode))


@dataclass(frozen=True)
class Matching:
    question: Question
    stems: list[str]
    choices: list[str]
    pairs: dict[str, str]


@st.composite
def matching_questions(draw: st.DrawFn) -> Matching:
    stems = draw(id_lists(1, 8))
    choices = draw(id_lists(1, 8))
    pairs = {s: draw(st.sampled_from(choices)) for s in stems}
    data = {"stems": items(draw, stems), "choices": items(draw, choices)}
    return Matching(Question("matching", data, {"pairs": pairs}), stems, choices, pairs)


@dataclass(frozen=True)
class FillBlank:
    question: Question
    answers: list[str]  # distinct even case-folded; no wildcard
    credits: list[Fraction]
    case_sensitive: bool


@st.composite
def fill_blank_text_questions(draw: st.DrawFn) -> FillBlank:
    phrases = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
    answers = draw(st.lists(phrases, min_size=1, max_size=5, unique_by=str.lower))
    full = draw(st.integers(0, len(answers) - 1))
    ks = [100 if i == full else draw(st.integers(-50, 150)) for i in range(len(answers))]
    data: dict[str, Any] = {}
    case_sensitive = draw(st.sampled_from([None, False, True]))
    if case_sensitive is not None:
        data["case_sensitive"] = case_sensitive
    if draw(st.booleans()):
        data["normalize"] = "text"
    accepted: list[dict[str, Any]] = []
    for answer, k in zip(answers, ks, strict=True):
        entry: dict[str, Any] = {"answer": answer}
        if k != 100 or draw(st.booleans()):
            entry["credit"] = hundredths(k)
        accepted.append(entry)
    question = Question("fill_blank", data, {"accepted": accepted})
    credits = [clamp(Fraction(k, 100)) for k in ks]
    return FillBlank(question, answers, credits, bool(case_sensitive))


def fill_blank(normalize: str, accepted: str, **data: Any) -> Question:
    return Question(
        "fill_blank", {"normalize": normalize, **data}, {"accepted": [{"answer": accepted}]}
    )


# Cases: a question, an answer and its expected fraction, for every type.


@st.composite
def multiple_choice_cases(draw: st.DrawFn) -> Case:
    mc = draw(multiple_choice_questions())
    option = draw(st.sampled_from(mc.options))
    return Case(mc.question, {"option": option}, mc.expected[option])


@st.composite
def multiple_select_cases(draw: st.DrawFn) -> Case:
    ms = draw(multiple_select_questions())
    ticked = draw(st.lists(st.sampled_from(ms.options), unique=True))
    return Case(ms.question, {"options": ticked}, ms.rule(ticked))


@st.composite
def true_false_cases(draw: st.DrawFn) -> Case:
    key, value = draw(st.booleans()), draw(st.booleans())
    question = Question(
        "true_false", draw(st.sampled_from([{}, {"statement": "x"}])), {"value": key}
    )
    return Case(question, {"value": value}, Fraction(int(key == value)))


@st.composite
def fill_blank_text_cases(draw: st.DrawFn) -> Case:
    fb = draw(fill_blank_text_questions())
    if draw(st.booleans()):
        i = draw(st.integers(0, len(fb.answers) - 1))
        variant = case_variant(draw, fb.answers[i])
        matches = variant == fb.answers[i] or not fb.case_sensitive
        expected = fb.credits[i] if matches else Fraction(0)
        return Case(fb.question, {"text": padded(draw, variant)}, expected)
    taken = {a.lower() for a in fb.answers}
    other = draw(WORD.filter(lambda w: w.lower() not in taken))
    return Case(fb.question, {"text": padded(draw, other)}, Fraction(0))


def ipv6_spellings(address: ipaddress.IPv6Address) -> list[str]:
    exploded = address.exploded
    unpadded = ":".join(g.lstrip("0") or "0" for g in exploded.split(":"))
    compressed = address.compressed
    return [exploded, compressed, exploded.upper(), compressed.upper(), unpadded]


@st.composite
def ipv6_cases(draw: st.DrawFn) -> Case:
    address = ipaddress.IPv6Address(draw(st.integers(0, 2**128 - 1)))
    accepted = draw(st.sampled_from(ipv6_spellings(address)))
    if draw(st.booleans()):
        given = draw(st.sampled_from(ipv6_spellings(address)))
        expected = Fraction(1)
    else:
        other = ipaddress.IPv6Address(
            draw(st.integers(0, 2**128 - 1).filter(lambda n: n != int(address)))
        )
        given = draw(st.sampled_from(ipv6_spellings(other)))
        expected = Fraction(0)
    return Case(fill_blank("ipv6", accepted), {"text": padded(draw, given)}, expected)


@st.composite
def ipv4_cases(draw: st.DrawFn) -> Case:
    address = ipaddress.IPv4Address(draw(st.integers(0, 2**32 - 1)))
    other = ipaddress.IPv4Address(draw(st.integers(0, 2**32 - 1)))
    given = draw(st.sampled_from([address, other]))
    expected = Fraction(int(given == address))
    return Case(fill_blank("ipv4", str(address)), {"text": padded(draw, str(given))}, expected)


@st.composite
def cidr_cases(draw: st.DrawFn) -> Case:
    """A network answer: right only as the network address with the key's prefix; a host
    address of the network (host bits set) is wrong, however it is spelled."""
    bits = draw(st.sampled_from([32, 128]))
    prefix = draw(st.integers(0, bits))
    address = draw(st.integers(0, 2**bits - 1))
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    if bits == 32:
        network = ipaddress.IPv4Network((address, prefix), strict=False)
    else:
        network = ipaddress.IPv6Network((address, prefix), strict=False)
    offset = draw(st.one_of(st.just(0), st.integers(0, network.num_addresses - 1)))
    host = network.network_address + offset
    same = draw(st.booleans())
    given_prefix = prefix if same else draw(st.integers(0, bits).filter(lambda p: p != prefix))
    host_text = str(host)
    if bits == 128:
        host_text = draw(st.sampled_from(ipv6_spellings(ipaddress.IPv6Address(int(host)))))
    slash = draw(st.sampled_from(["/", " / ", "/ "]))
    given = f"{host_text}{slash}{given_prefix}"
    accepted = f"{network.network_address}/{prefix}"
    expected = Fraction(int(same and offset == 0))
    return Case(fill_blank("cidr", accepted), {"text": padded(draw, given)}, expected)


def port_spellings(ports: Collection[int]) -> list[str]:
    ordered = sorted(ports)
    runs: list[list[int]] = []
    for port in ordered:
        if runs and port == runs[-1][-1] + 1:
            runs[-1].append(port)
        else:
            runs.append([port])
    ranges = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    texts = [str(p) for p in ordered]
    backwards = texts[::-1]
    return [
        ",".join(texts),
        ", ".join(backwards),
        " and ".join(backwards),
        " AND ".join(texts),
        "/".join(texts),
        " ".join(backwards),
        ",".join(ranges),
        ", ".join(ranges[::-1]),
    ]


PORT_SETS = st.builds(
    lambda singles, start, length: singles | set(range(start, min(start + length, 65536))),
    st.sets(st.integers(0, 65535), max_size=4),
    st.integers(0, 65535),
    st.integers(0, 5),
).filter(bool)


PROTOCOL_WORDS = ["tcp ", "udp ", "TCP ", "port ", "ports ", "TCP port ", "UDP/"]


@st.composite
def ports_cases(draw: st.DrawFn) -> Case:
    """A set of ports, in any order and separators, with or without protocol words."""
    ports = draw(PORT_SETS)
    accepted = draw(st.sampled_from(port_spellings(ports)))
    given_set = draw(st.sampled_from([ports, draw(PORT_SETS)]))
    given = draw(st.sampled_from(port_spellings(given_set)))
    decoration = draw(st.sampled_from(["none", "before", "after"]))
    if decoration == "before":
        given = draw(st.sampled_from(PROTOCOL_WORDS)) + given
    elif decoration == "after":
        given += draw(st.sampled_from(["/tcp", "/udp", " TCP", "/UDP"]))
    expected = Fraction(int(given_set == ports))
    return Case(fill_blank("ports", accepted), {"text": padded(draw, given)}, expected)


def number_spellings(value: Decimal) -> list[str]:
    return [
        str(value),
        f"{value:,}",
        f"{value:f}",
        f"{value:,.4f}",
        f"{value:.3f}",
        f"{value:E}",
        format(value.normalize(), "f"),
    ]


@st.composite
def number_cases(draw: st.DrawFn) -> Case:
    value = Decimal(draw(st.integers(-(10**11), 10**11))).scaleb(-2)
    other = Decimal(draw(st.integers(-(10**11), 10**11))).scaleb(-2)
    given = draw(st.sampled_from([value, other]))
    accepted = draw(st.sampled_from(number_spellings(value)))
    text = draw(st.sampled_from(number_spellings(given)))
    return Case(
        fill_blank("number", accepted), {"text": padded(draw, text)}, Fraction(int(given == value))
    )


UNITS = [["bytes", "byte", "B"], ["GHz"], ["m", "meters", "metres"], ["layer"], ["option"]]


@st.composite
def number_with_unit_cases(draw: st.DrawFn) -> Case:
    """A number with one of the question's units before or after it (or none) is the number;
    another unit, or another number, is wrong."""
    units = draw(st.sampled_from(UNITS))
    value = Decimal(draw(st.integers(0, 10**6)))
    other = Decimal(draw(st.integers(0, 10**6)))
    given = draw(st.sampled_from([value, other]))
    number = draw(st.sampled_from([str(given), f"{given:,}"]))
    unit = draw(st.sampled_from([*units, "", "MHz", "ms"]))
    where = draw(st.sampled_from(["after", "after ", "before "]))
    if unit == "":
        text = number
    elif where == "before ":
        text = f"{unit} {number}"
    else:
        text = f"{number}{where[5:]}{unit}"
    right_unit = unit == "" or unit.casefold() in {u.casefold() for u in units}
    accepted = draw(st.sampled_from([str(value), f"{value} {units[0]}"]))
    question = Question(
        "fill_blank", {"normalize": "number", "units": units}, {"accepted": [{"answer": accepted}]}
    )
    expected = Fraction(int(given == value and right_unit))
    return Case(question, {"text": padded(draw, text)}, expected)


def mac_spellings(mac: int) -> list[str]:
    raw = f"{mac:012x}"
    pairs = [raw[i : i + 2] for i in range(0, 12, 2)]
    quads = [raw[i : i + 4] for i in range(0, 12, 4)]
    return [":".join(pairs), "-".join(pairs).upper(), ".".join(quads), raw.upper(), raw]


@st.composite
def mac_cases(draw: st.DrawFn) -> Case:
    mac = draw(st.integers(0, 2**48 - 1))
    other = draw(st.integers(0, 2**48 - 1))
    given = draw(st.sampled_from([mac, other]))
    accepted = draw(st.sampled_from(mac_spellings(mac)))
    text = draw(st.sampled_from(mac_spellings(given)))
    return Case(
        fill_blank("mac", accepted), {"text": padded(draw, text)}, Fraction(int(given == mac))
    )


TERMS = [
    ("IP address management", "IPAM"),
    ("time to live", "TTL"),
    ("content addressable memory table", "CAM table"),
    ("Dynamic Host Configuration Protocol", "DHCP"),
]


@st.composite
def term_cases(draw: st.DrawFn) -> Case:
    """A term: hyphens for spaces, a leading article, "expansion (abbreviation)" either way
    round; a wrong half in parentheses is wrong."""
    expansion, abbreviation = draw(st.sampled_from(TERMS))
    other_expansion, other_abbreviation = draw(st.sampled_from(TERMS))
    question = Question(
        "fill_blank",
        {"normalize": "term"},
        {"accepted": [{"answer": expansion}, {"answer": abbreviation}]},
    )
    first = draw(st.sampled_from([expansion, other_expansion]))
    second = draw(st.sampled_from([abbreviation, other_abbreviation]))
    form = draw(st.sampled_from(["one", "both", "swapped", "hyphens", "article"]))
    if form == "one":
        text, right = first, first == expansion
    elif form == "both":
        text, right = f"{first} ({second})", (first, second) == (expansion, abbreviation)
    elif form == "swapped":
        text, right = f"{second}({first})", (first, second) == (expansion, abbreviation)
    elif form == "hyphens":
        text, right = first.replace(" ", "-"), first == expansion
    else:
        text, right = "the " + second, second == abbreviation
    return Case(question, {"text": padded(draw, text)}, Fraction(int(right)))


FILL_BLANK_CASES = st.one_of(
    fill_blank_text_cases(),
    ipv4_cases(),
    ipv6_cases(),
    cidr_cases(),
    ports_cases(),
    number_cases(),
    number_with_unit_cases(),
    mac_cases(),
    term_cases(),
)


@st.composite
def matching_cases(draw: st.DrawFn) -> Case:
    m = draw(matching_questions())
    answered = draw(st.lists(st.sampled_from(m.stems), unique=True))
    given = {s: draw(st.sampled_from(m.choices)) for s in answered}
    right = sum(1 for s in m.stems if s in given and given[s] == m.pairs[s])
    return Case(m.question, {"pairs": given}, Fraction(right, len(m.stems)))


PART_CASES = st.one_of(
    multiple_choice_cases(),
    multiple_select_cases(),
    true_false_cases(),
    FILL_BLANK_CASES,
    matching_cases(),
)


@dataclass(frozen=True)
class SimulationCase(Case):
    part_scores: dict[str, Fraction]


@st.composite
def simulation_cases(
    draw: st.DrawFn, parts: st.SearchStrategy[Case] = PART_CASES
) -> SimulationCase:
    cases = draw(st.lists(parts, min_size=1, max_size=4))
    ids = draw(id_lists(len(cases), len(cases)))
    weights = [draw(st.one_of(st.none(), st.integers(0, 12))) for _ in cases]
    if all(w == 0 for w in weights):
        weights[0] = None
    definitions: list[dict[str, Any]] = []
    keys: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    scores: dict[str, Fraction] = {}
    numerator = Fraction(0)
    for pid, case, w in zip(ids, cases, weights, strict=True):
        part: dict[str, Any] = {"id": pid, "type": case.question.type, "prompt": draw(LABEL)}
        if case.question.data or case.question.type != "true_false" or draw(st.booleans()):
            part["data"] = case.question.data
        if w is not None:
            part["weight"] = quarters(w)
        definitions.append(part)
        keys[pid] = case.question.key
        how = draw(st.sampled_from(["answer", "answer", "absent", "null", "empty"]))
        if how == "answer":
            answers[pid] = case.answer
        elif how != "absent":
            answers[pid] = None if how == "null" else {}
        scores[pid] = case.expected if how == "answer" else Fraction(0)
        numerator += (Fraction(1) if w is None else Fraction(w, 4)) * scores[pid]
    total = sum((Fraction(1) if w is None else Fraction(w, 4) for w in weights), Fraction(0))
    question = Question("simulation", {"parts": definitions}, {"parts": keys})
    return SimulationCase(question, {"parts": answers}, numerator / total, scores)


CASES_BY_TYPE: dict[QuestionType, st.SearchStrategy[Case]] = {
    QuestionType.MULTIPLE_CHOICE: multiple_choice_cases(),
    QuestionType.MULTIPLE_SELECT: multiple_select_cases(),
    QuestionType.TRUE_FALSE: true_false_cases(),
    QuestionType.FILL_BLANK: FILL_BLANK_CASES,
    QuestionType.MATCHING: matching_cases(),
    QuestionType.SIMULATION: simulation_cases(),
}
ANY_CASE = st.one_of(*CASES_BY_TYPE.values())
ANY_QUESTION = ANY_CASE.map(lambda c: c.question)

QUESTION_POINTS = st.one_of(
    st.integers(0, 1000), st.decimals(0, 100, places=2, allow_nan=False, allow_infinity=False)
)


# --- every type: fraction, correct, points, skipped --------------------------------------------


@THOROUGH
@given(case=ANY_CASE, question_points=QUESTION_POINTS)
def test_grade_follows_the_rule_of_its_type(case: Case, question_points: int | Decimal) -> None:
    result = run(case.question, case.answer)
    assert result.fraction == case.expected
    assert 0 <= result.fraction <= 1
    assert not result.skipped
    assert result.correct == (result.fraction == 1)
    earned = result.points(question_points)
    assert earned.as_tuple().exponent == -2  # rounded to the cent
    assert 0 <= earned <= question_points
    assert abs(
        earned - Decimal(result.fraction.numerator) * question_points / result.fraction.denominator
    ) <= Decimal("0.005")


def terminating_fractions() -> st.SearchStrategy[Fraction]:
    """Fractions in [0, 1] whose decimal expansion ends (denominator 2^a 5^b)."""
    return st.builds(
        lambda a, b, n: Fraction(n % (2**a * 5**b + 1), 2**a * 5**b),
        st.integers(0, 8),
        st.integers(0, 8),
        st.integers(0, 10**9),
    )


@FAST
@given(fraction=terminating_fractions(), question_points=QUESTION_POINTS)
def test_points_is_fraction_times_points_rounded_half_up_to_cents(
    fraction: Fraction, question_points: int | Decimal
) -> None:
    assert Grade(fraction).points(question_points) == exact_points(fraction, question_points)


def test_points_rounds_an_exact_half_cent_up() -> None:
    # 5/24 is what a 3-part simulation (equal weights) earns with 5 of 8 matching stems right.
    assert Grade(Fraction(5, 24)).points(3) == Decimal("0.63")


@FAST
@given(question=ANY_QUESTION, skip=st.sampled_from([None, {}]), question_points=QUESTION_POINTS)
def test_none_or_empty_answer_is_skipped(
    question: Question, skip: dict[str, Any] | None, question_points: int | Decimal
) -> None:
    result = run(question, skip)
    assert result.skipped
    assert result.fraction == 0
    assert not result.correct
    assert result.points(question_points) == 0


# --- multiple_choice ---------------------------------------------------------------------------


@FAST
@given(mc=multiple_choice_questions())
def test_multiple_choice_key_scores_1_others_their_partial_credit_or_0(mc: MultipleChoice) -> None:
    for option in mc.options:
        result = run(mc.question, {"option": option})
        assert result.fraction == mc.expected[option]
        assert result.correct == (option == mc.key or mc.expected[option] == 1)
    assert run(mc.question, {"option": mc.key}).correct


@FAST
@given(data=st.data(), mc=multiple_choice_questions())
def test_multiple_choice_unknown_option_is_a_validation_error(
    data: st.DataObject, mc: MultipleChoice
) -> None:
    unknown = fresh_id(data.draw, mc.options)
    with pytest.raises(ValidationError) as caught:
        run(mc.question, {"option": unknown})
    assert caught.value.field == "user_answer.option"


# --- multiple_select ---------------------------------------------------------------------------


@FAST
@given(ms=multiple_select_questions(), data=st.data())
def test_multiple_select_exact_set_scores_1_in_any_order(
    ms: MultipleSelect, data: st.DataObject
) -> None:
    ticked = data.draw(st.permutations(sorted(ms.correct)))
    assert run(ms.question, {"options": ticked}).fraction == 1


@FAST
@given(ms=multiple_select_questions(distractors=True), data=st.data())
def test_multiple_select_everything_or_only_distractors_scores_0(
    ms: MultipleSelect, data: st.DataObject
) -> None:
    assert run(ms.question, {"options": data.draw(st.permutations(ms.options))}).fraction == 0
    some = data.draw(st.lists(st.sampled_from(ms.distractors), min_size=1, unique=True))
    assert run(ms.question, {"options": some}).fraction == 0


@FAST
@given(ms=multiple_select_questions(all_or_nothing=False), data=st.data())
def test_multiple_select_subset_of_correct_scores_its_share(
    ms: MultipleSelect, data: st.DataObject
) -> None:
    subset = data.draw(st.lists(st.sampled_from(sorted(ms.correct)), unique=True))
    result = run(ms.question, {"options": subset})
    assert result.fraction == Fraction(len(subset), len(ms.correct))
    assert result.correct == (len(subset) == len(ms.correct))


@FAST
@given(ms=multiple_select_questions(distractors=True), data=st.data())
def test_multiple_select_adding_a_distractor_never_raises_the_score(
    ms: MultipleSelect, data: st.DataObject
) -> None:
    ticked = data.draw(st.lists(st.sampled_from(ms.options), unique=True))
    spare = [d for d in ms.distractors if d not in ticked]
    if not spare:
        ticked = [o for o in ticked if o != ms.distractors[0]]
        spare = [ms.distractors[0]]
    extra = data.draw(st.sampled_from(spare))
    before = run(ms.question, {"options": ticked}).fraction
    after = run(ms.question, {"options": [*ticked, extra]}).fraction
    assert after <= before
    assert before == ms.rule(ticked)
    assert after == ms.rule([*ticked, extra])


@FAST
@given(ms=multiple_select_questions(all_or_nothing=True), data=st.data())
def test_multiple_select_all_or_nothing_scores_1_only_for_the_exact_set(
    ms: MultipleSelect, data: st.DataObject
) -> None:
    ticked = data.draw(st.lists(st.sampled_from(ms.options), unique=True))
    assert run(ms.question, {"options": ticked}).fraction == int(set(ticked) == ms.correct)


@FAST
@given(ms=multiple_select_questions(), data=st.data())
def test_multiple_select_duplicate_or_unknown_ids_are_validation_errors(
    ms: MultipleSelect, data: st.DataObject
) -> None:
    ticked = data.draw(st.lists(st.sampled_from(ms.options), min_size=1, unique=True))
    twice = data.draw(st.sampled_from(ticked))
    unknown = fresh_id(data.draw, ms.options)
    for bad in ([*ticked, twice], [*ticked, unknown], [unknown]):
        with pytest.raises(ValidationError) as caught:
            run(ms.question, {"options": data.draw(st.permutations(bad))})
        assert caught.value.field == "user_answer.options"


# --- true_false --------------------------------------------------------------------------------


@FAST
@given(key=st.booleans(), value=st.booleans())
def test_true_false_scores_1_or_0(key: bool, value: bool) -> None:
    result = grade("true_false", {}, {"value": key}, {"value": value})
    assert result.fraction == (1 if key == value else 0)


NOT_BOOLEAN = st.one_of(
    st.none(), st.integers(), st.floats(), st.text(), st.lists(st.booleans(), max_size=2)
)


@FAST
@given(key=st.booleans(), value=NOT_BOOLEAN)
@example(key=True, value=1)
@example(key=False, value=0)
@example(key=True, value="true")
def test_true_false_non_boolean_is_a_validation_error(key: bool, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        grade("true_false", {}, {"value": key}, {"value": value})
    assert caught.value.field == "user_answer.value"


# --- fill_blank --------------------------------------------------------------------------------


@THOROUGH
@given(case=fill_blank_text_cases())
def test_fill_blank_trims_folds_white_space_and_ignores_case_unless_told(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


@FAST
@given(fb=fill_blank_text_questions(), data=st.data())
def test_fill_blank_first_matching_accepted_answer_wins(fb: FillBlank, data: st.DataObject) -> None:
    # The same answer listed again later with other credit: the first listing decides.
    i = data.draw(st.integers(0, len(fb.answers) - 1))
    k = data.draw(st.integers(0, 100))
    accepted = [
        *fb.question.key["accepted"],
        {"answer": fb.answers[i].upper(), "credit": hundredths(k)},
    ]
    question = Question("fill_blank", fb.question.data, {"accepted": accepted})
    result = run(question, {"text": fb.answers[i]})
    assert result.fraction == fb.credits[i]


@FAST
@given(
    word=st.text(alphabet=string.ascii_letters, min_size=2, max_size=10),
    cut=st.integers(0, 10),
    k=st.integers(1, 99),
)
def test_fill_blank_order_matters_wildcard_before_exact(word: str, cut: int, k: int) -> None:
    wildcard = {"answer": word[: cut % len(word)] + "*", "credit": hundredths(k)}
    exact = {"answer": word, "credit": 1}
    given_answer = {"text": word}
    first = grade("fill_blank", {}, {"accepted": [wildcard, exact]}, given_answer)
    assert first.fraction == Fraction(k, 100)
    assert not first.correct
    assert grade("fill_blank", {}, {"accepted": [exact, wildcard]}, given_answer).fraction == 1


def test_fill_blank_documented_example() -> None:
    key = {"accepted": [{"answer": "443", "credit": 1}, {"answer": "https*", "credit": 0.5}]}
    assert grade("fill_blank", {}, key, {"text": " 443 "}).fraction == 1
    assert grade("fill_blank", {}, key, {"text": "HTTPS over TLS"}).fraction == Fraction(1, 2)
    assert grade("fill_blank", {}, key, {"text": "80"}).fraction == 0
    half_first = {"accepted": [{"answer": "http*", "credit": 0.5}, {"answer": "https"}]}
    assert grade("fill_blank", {}, half_first, {"text": "https"}).fraction == Fraction(1, 2)


@FAST
@given(
    prefix=st.text(alphabet="ab", max_size=3),
    suffix=st.text(alphabet="ab", max_size=3),
    exact=st.text(alphabet="ab", min_size=1, max_size=5),
    given_text=st.text(alphabet="abAB", min_size=1, max_size=7),
    k=st.integers(0, 99),
)
def test_fill_blank_star_is_a_wildcard(
    prefix: str, suffix: str, exact: str, given_text: str, k: int
) -> None:
    key = {
        "accepted": [{"answer": f"{prefix}*{suffix}", "credit": hundredths(k)}, {"answer": exact}]
    }
    text = given_text.lower()
    wildcard_matches = (
        len(text) >= len(prefix) + len(suffix) and text.startswith(prefix) and text.endswith(suffix)
    )
    expected = Fraction(k, 100) if wildcard_matches else Fraction(int(text == exact))
    assert grade("fill_blank", {}, key, {"text": given_text}).fraction == expected


Form = Literal["NFC", "NFD"]
COMPOSABLE = "aeiouncAEIOUNC"
COMBINING = "\u0301\u0300\u0302\u0308\u0303\u0327"


@FAST
@given(
    text=st.text(alphabet=COMPOSABLE + COMBINING, min_size=1, max_size=10).filter(
        lambda t: t.strip()
    )
)
@example(text="e\u0301")
def test_fill_blank_compares_nfc_forms(text: str) -> None:
    for data in ({}, {"case_sensitive": True}):
        forms: list[tuple[Form, Form]] = [("NFC", "NFD"), ("NFD", "NFC")]
        for accepted, typed in forms:
            key = {"accepted": [{"answer": unicodedata.normalize(accepted, text)}]}
            answer = {"text": unicodedata.normalize(typed, text)}
            assert grade("fill_blank", data, key, answer).fraction == 1


def test_fill_blank_nfc_example() -> None:
    key = {"accepted": [{"answer": "caf\u00e9"}]}
    assert grade("fill_blank", {}, key, {"text": "CAFE\u0301 "}).fraction == 1
    assert grade("fill_blank", {"case_sensitive": True}, key, {"text": "cafe\u0301"}).fraction == 1
    assert grade("fill_blank", {"case_sensitive": True}, key, {"text": "CAFE\u0301"}).fraction == 0


def test_fill_blank_case_insensitive_for_greek_with_dialytika_and_tonos() -> None:
    key = {"accepted": [{"answer": "\u0390"}]}
    assert grade("fill_blank", {}, key, {"text": "\u0390".upper()}).fraction == 1


@FAST
@given(case=ipv6_cases())
@example(
    case=Case(fill_blank("ipv6", "2001:0db8:0000::0001"), {"text": "2001:DB8::1"}, Fraction(1))
)
def test_fill_blank_ipv6_compressed_forms_are_equal(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


@FAST
@given(case=ipv4_cases())
def test_fill_blank_ipv4(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


@FAST
@given(case=cidr_cases())
@example(case=Case(fill_blank("cidr", "192.168.1.0/24"), {"text": "192.168.1.0 / 24"}, Fraction(1)))
@example(case=Case(fill_blank("cidr", "192.168.1.0/24"), {"text": "192.168.1.77/24"}, Fraction(0)))
@example(case=Case(fill_blank("cidr", "192.168.1.0/24"), {"text": "192.168.1.0/25"}, Fraction(0)))
def test_fill_blank_cidr_only_the_network_address_with_its_prefix(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


@FAST
@given(case=ports_cases())
@example(case=Case(fill_blank("ports", "20,21"), {"text": "21, 20"}, Fraction(1)))
@example(case=Case(fill_blank("ports", "20,21"), {"text": "20-21"}, Fraction(1)))
@example(case=Case(fill_blank("ports", "20-21"), {"text": "21 and 20"}, Fraction(1)))
@example(case=Case(fill_blank("ports", "20,21"), {"text": "20"}, Fraction(0)))
def test_fill_blank_ports_ignore_order_and_separators(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


@FAST
@given(case=number_cases())
@example(case=Case(fill_blank("number", "1500"), {"text": "1,500"}, Fraction(1)))
@example(case=Case(fill_blank("number", "1,500"), {"text": "1500.0"}, Fraction(1)))
@example(case=Case(fill_blank("number", "1500"), {"text": "150"}, Fraction(0)))
def test_fill_blank_number_spellings_are_equal(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


@FAST
@given(case=number_with_unit_cases())
@example(
    case=Case(
        Question(
            "fill_blank", {"normalize": "number", "units": ["GHz"]}, {"accepted": [{"answer": "6"}]}
        ),
        {"text": "6 GHz"},
        Fraction(1),
    )
)
def test_fill_blank_number_accepts_its_units_and_refuses_others(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


@FAST
@given(case=mac_cases())
def test_fill_blank_mac_spellings_are_equal(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


@FAST
@given(case=term_cases())
def test_fill_blank_term_variants(case: Case) -> None:
    assert run(case.question, case.answer).fraction == case.expected


def test_fill_blank_number_units_must_be_a_list_of_strings() -> None:
    for units in ("GHz", [1], {"GHz": 1}):
        question = Question(
            "fill_blank", {"normalize": "number", "units": units}, {"accepted": [{"answer": "6"}]}
        )
        with pytest.raises(QuestionFormatError, match="units"):
            run(question, {"text": "6"})


ACCEPTED_FOR = {
    "mac": "00:1a:2b:3c:4d:5e",
    "ipv4": "192.168.1.1",
    "ipv6": "2001:db8::1",
    "cidr": "10.0.0.0/8",
    "ports": "20,21",
    "number": "1500",
}
UNREADABLE = {
    "mac": ["00:1a:2b:3c:4d", "00:1a-2b:3c:4d:5e", "001a.2b3c.4d5e.6f", "00:1a:2b:3c:4d:5g", ""],
    "ipv4": ["999.1.1.1", "192.168.1", "192.168.01.1", "1.2.3.4/24", ""],
    "ipv6": ["2001:db8::1::2", "12345::", "2001:db8:::1", "g::1", "::1/128"],
    "cidr": ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8/8", "256.0.0.0/8", "::/129", "10.0.0.1/8"],
    "ports": ["70000", "21-20", "-5", "20--21", "and", "20;21", "http", "tcp", "port udp"],
    "number": ["1.2.3", "twelve", "1500x", "--1", "1e", "0x10"],
}


@pytest.mark.parametrize("normalize", sorted(UNREADABLE))
def test_fill_blank_unreadable_examples_score_0(normalize: str) -> None:
    for text in UNREADABLE[normalize]:
        result = run(fill_blank(normalize, ACCEPTED_FOR[normalize]), {"text": text})
        assert result.fraction == 0, text


# Characters an address, a network, a port list or a number is spelled with. No "e"/"E" for
# `number`: an exponent beyond the decimal context crashes (test_..._huge_exponent_... below),
# and this property has to stay deterministic until that is fixed.
NETWORKISH = "0123456789abcdefABCDEF:./-,% _+"


@THOROUGH
@given(
    normalize=st.sampled_from(sorted(ACCEPTED_FOR)),
    case_sensitive=st.booleans(),
    data=st.data(),
)
def test_fill_blank_normalizers_never_raise_on_any_text(
    normalize: str, case_sensitive: bool, data: st.DataObject
) -> None:
    alphabet = NETWORKISH.replace("e", "").replace("E", "") if normalize == "number" else NETWORKISH
    text = data.draw(
        st.one_of(
            st.text(alphabet=alphabet, max_size=40),
            st.text(max_size=20),
            st.lists(
                st.sampled_from(["1", "20", "-", ",", "and", " ", "::", "/", "."]), max_size=12
            ).map("".join),
        )
    )
    question = fill_blank(normalize, ACCEPTED_FOR[normalize], case_sensitive=case_sensitive)
    assert 0 <= run(question, {"text": text}).fraction <= 1
    # Letters g..z spell no address, network, port or number (no "nan"/"inf"/"and" either).
    gibberish = data.draw(st.text(alphabet="ghijklmopqrstuvwxyz", min_size=1, max_size=12))
    assert run(question, {"text": gibberish}).fraction == 0


def test_fill_blank_number_with_a_huge_exponent_scores_0() -> None:
    question = fill_blank("number", "1500")
    for text in ("1e1000000", "-1E+1000000", "1,5e9,999,999"):
        assert run(question, {"text": text}).fraction == 0


def test_fill_blank_text_longer_than_1000_characters_is_a_validation_error() -> None:
    question = fill_blank("text", "x")
    assert run(question, {"text": "x" * 1000}).fraction == 0
    with pytest.raises(ValidationError) as caught:
        run(question, {"text": "x" * 1001})
    assert caught.value.field == "user_answer.text"


# --- matching ----------------------------------------------------------------------------------


@THOROUGH
@given(case=matching_cases())
def test_matching_scores_stems_matched_right_over_stems(case: Case) -> None:
    result = run(case.question, case.answer)
    assert result.fraction == case.expected
    assert result.correct == (result.fraction == 1)


@FAST
@given(m=matching_questions(), data=st.data())
def test_matching_unknown_stem_or_choice_is_a_validation_error(
    m: Matching, data: st.DataObject
) -> None:
    stem = data.draw(st.sampled_from(m.stems))
    choice = data.draw(st.sampled_from(m.choices))
    unknown_stem = fresh_id(data.draw, m.stems)
    with pytest.raises(ValidationError) as caught:
        run(m.question, {"pairs": {stem: choice, unknown_stem: choice}})
    assert caught.value.field == "user_answer.pairs"
    unknown_choice = fresh_id(data.draw, m.choices)
    with pytest.raises(ValidationError) as caught:
        run(m.question, {"pairs": {stem: unknown_choice}})
    assert caught.value.field == f"user_answer.pairs.{stem}"


# --- simulation --------------------------------------------------------------------------------


@THOROUGH
@given(case=simulation_cases())
def test_simulation_is_the_weighted_mean_of_its_parts(case: SimulationCase) -> None:
    result = run(case.question, case.answer)
    assert result.fraction == case.expected
    assert result.parts == case.part_scores
    assert result.correct == (case.expected == 1)


@FAST
@given(case=simulation_cases(), data=st.data())
def test_simulation_unknown_part_is_a_validation_error(
    case: SimulationCase, data: st.DataObject
) -> None:
    unknown = fresh_id(data.draw, case.part_scores)
    answer = {"parts": {**case.answer["parts"], unknown: {"value": True}}}
    with pytest.raises(ValidationError) as caught:
        run(case.question, answer)
    assert caught.value.field == "user_answer.parts"


@FAST
@given(case=simulation_cases(parts=multiple_choice_cases()), data=st.data())
def test_simulation_names_the_part_of_a_wrong_answer(
    case: SimulationCase, data: st.DataObject
) -> None:
    part = data.draw(st.sampled_from(case.question.data["parts"]))
    options = [o["id"] for o in part["data"]["options"]]
    answer = {"parts": {part["id"]: {"option": fresh_id(data.draw, options)}}}
    with pytest.raises(ValidationError) as caught:
        run(case.question, answer)
    assert caught.value.field == f"user_answer.parts.{part['id']}.option"


def test_simulation_negative_weight_cannot_push_a_fraction_out_of_0_1() -> None:
    data = {
        "parts": [
            {"id": "a", "type": "true_false", "weight": 2},
            {"id": "b", "type": "true_false", "weight": -1},
        ]
    }
    key = {"parts": {"a": {"value": True}, "b": {"value": True}}}
    # Refused outright, by the validator and by the grader: no answer is graded against it.
    with pytest.raises(QuestionFormatError, match=r"parts\.b\.weight is negative"):
        validate_question("simulation", data, key)
    for answer in ({"a": {"value": True}}, {"b": {"value": True}}):
        with pytest.raises(QuestionFormatError, match="weight is negative"):
            grade("simulation", data, key, {"parts": answer})


# --- validate_question / answer_key ------------------------------------------------------------


@FAST
@pytest.mark.parametrize("question_type", list(QuestionType))
@given(data=st.data())
def test_every_question_type_the_schema_allows_is_graded(
    question_type: QuestionType, data: st.DataObject
) -> None:
    """question_bank's CHECK list (the generated enum) against the grader: none left out."""
    case = data.draw(CASES_BY_TYPE[question_type])
    assert case.question.type == question_type
    validate_question(question_type, case.question.data, case.question.key)
    assert run(case.question, case.answer).fraction == case.expected


@THOROUGH
@given(question=ANY_QUESTION)
def test_validate_question_accepts_valid_definitions_and_the_key_scores_1(
    question: Question,
) -> None:
    validate_question(question.type, question.data, question.key)
    result = run(question, answer_key(question.type, question.data, question.key))
    assert result.fraction == 1
    assert result.correct


def rejects(question: Question) -> None:
    with pytest.raises(QuestionFormatError):
        validate_question(question.type, question.data, question.key)


@FAST
@given(option=ID, type_=st.sampled_from(["multiple_choice", "multiple_select"]))
def test_rejects_fewer_than_two_options(option: str, type_: str) -> None:
    key: dict[str, Any] = (
        {"option": option} if type_ == "multiple_choice" else {"options": [option]}
    )
    rejects(Question(type_, {"options": [{"id": option, "text": "only"}]}, key))
    rejects(Question(type_, {"options": []}, key))


@FAST
@given(
    question=st.one_of(
        multiple_choice_cases(), multiple_select_cases(), matching_cases(), simulation_cases()
    ).map(lambda c: c.question),
    data=st.data(),
)
def test_rejects_repeated_ids(question: Question, data: st.DataObject) -> None:
    field = {"multiple_choice": "options", "multiple_select": "options", "simulation": "parts"}.get(
        question.type
    ) or data.draw(st.sampled_from(["stems", "choices"]))
    listed = question.data[field]
    copy = {**data.draw(st.sampled_from(listed)), "text": "again"}
    at = data.draw(st.integers(0, len(listed)))
    broken = {**question.data, field: [*listed[:at], copy, *listed[at:]]}
    rejects(Question(question.type, broken, question.key))


@FAST
@given(mc=multiple_choice_questions(), ms=multiple_select_questions(), data=st.data())
def test_rejects_a_key_option_that_is_not_an_option(
    mc: MultipleChoice, ms: MultipleSelect, data: st.DataObject
) -> None:
    rejects(
        Question(mc.question.type, mc.question.data, {"option": fresh_id(data.draw, mc.options)})
    )
    outside = [*sorted(ms.correct), fresh_id(data.draw, ms.options)]
    rejects(Question(ms.question.type, ms.question.data, {"options": outside}))


@FAST
@given(m=matching_questions(), data=st.data())
def test_rejects_a_matching_key_that_points_nowhere(m: Matching, data: st.DataObject) -> None:
    stem = data.draw(st.sampled_from(m.stems))
    nowhere = {**m.pairs, stem: fresh_id(data.draw, m.choices)}
    rejects(Question("matching", m.question.data, {"pairs": nowhere}))
    unknown_stem = {**m.pairs, fresh_id(data.draw, m.stems): m.choices[0]}
    rejects(Question("matching", m.question.data, {"pairs": unknown_stem}))


def test_rejects_a_matching_key_that_leaves_a_stem_out() -> None:
    data = {
        "stems": [{"id": "1", "text": "SSH"}, {"id": "2", "text": "HTTPS"}],
        "choices": [{"id": "a", "text": "22"}, {"id": "b", "text": "443"}],
    }
    key = {"pairs": {"1": "a"}}  # stem 2 has no answer in the key
    with pytest.raises(
        QuestionFormatError,
        match=r"^matching correct_answer\.pairs must pair every stem with a choice$",
    ):
        validate_question("matching", data, key)
    # Nor is an answer graded against it (a blank stem would otherwise count as matched).
    with pytest.raises(
        QuestionFormatError,
        match=r"^matching correct_answer\.pairs must pair every stem with a choice$",
    ):
        grade("matching", data, key, {"pairs": {"1": "a"}})


@FAST
@given(
    answers=st.lists(
        st.tuples(WORD, st.integers(-50, 150), st.booleans()), min_size=1, max_size=4
    ).filter(lambda xs: all(k < 100 or star for _, k, star in xs)),
    data=st.dictionaries(st.sampled_from(["case_sensitive"]), st.booleans()),
)
def test_rejects_fill_blank_without_a_full_credit_answer_free_of_wildcards(
    answers: list[tuple[str, int, bool]], data: dict[str, Any]
) -> None:
    accepted = [
        {"answer": f"{word}*" if star else word, "credit": hundredths(k)}
        for word, k, star in answers
    ]
    rejects(Question("fill_blank", data, {"accepted": accepted}))
    rejects(Question("fill_blank", data, {"accepted": []}))


@FAST
@given(inner=simulation_cases(), outer=simulation_cases(), pid=ID)
def test_rejects_a_simulation_part_that_is_a_simulation(
    inner: SimulationCase, outer: SimulationCase, pid: str
) -> None:
    parts = [p for p in outer.question.data["parts"] if p["id"] != pid]
    nested = {"id": pid, "type": "simulation", "data": inner.question.data}
    keys = {**outer.question.key["parts"], pid: inner.question.key}
    rejects(Question("simulation", {"parts": [*parts, nested]}, {"parts": keys}))


@FAST
@given(
    fb=fill_blank_text_questions(),
    normalizer=st.text(max_size=8).filter(lambda n: n not in NORMALIZERS),
)
def test_rejects_an_unknown_normalizer(fb: FillBlank, normalizer: str) -> None:
    rejects(Question("fill_blank", {**fb.question.data, "normalize": normalizer}, fb.question.key))


@FAST
@given(question=ANY_QUESTION, type_=st.text(max_size=16).filter(lambda t: t not in QUESTION_TYPES))
def test_rejects_an_unknown_type(question: Question, type_: str) -> None:
    rejects(Question(type_, question.data, question.key))
    with pytest.raises(QuestionFormatError):
        grade(type_, question.data, question.key, {"option": "a"})


def test_rejects_a_key_missing_its_field_with_question_format_error() -> None:
    rejects(Question("true_false", {}, {}))


# --- malformed answers never crash -------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["option", "options", "value", "text", "pairs", "parts", "partial"]


def near_misses(question: Question) -> st.SearchStrategy[Any]:
    """Answers of roughly the right shape with wrong pieces, so that grading gets deep."""
    data, t = question.data, question.type
    shaped: st.SearchStrategy[Any]
    anything = st.one_of(JSON, st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=3))
    if t in ("multiple_choice", "multiple_select"):
        ids = st.sampled_from([o["id"] for o in data["options"]]) | JSON
        shaped = st.fixed_dictionaries({"option": ids}) | st.fixed_dictionaries(
            {"options": st.lists(ids, max_size=5)}
        )
    elif t == "true_false":
        shaped = st.fixed_dictionaries({"value": JSON})
    elif t == "fill_blank":
        shaped = st.fixed_dictionaries({"text": st.text(max_size=30) | JSON})
    elif t == "matching":
        stems = st.sampled_from([s["id"] for s in data["stems"]]) | st.text(max_size=3)
        choices = st.sampled_from([c["id"] for c in data["choices"]]) | JSON
        shaped = st.fixed_dictionaries(
            {"pairs": st.dictionaries(stems, choices, max_size=4) | JSON}
        )
    else:
        parts = data["parts"]
        by_id = {
            p["id"]: Question(p["type"], p.get("data", {}), question.key["parts"][p["id"]])
            for p in parts
        }
        part_answers = st.sampled_from(sorted(by_id)).flatmap(
            lambda pid: st.tuples(st.just(pid), near_misses(by_id[pid]))
        )
        shaped = st.fixed_dictionaries(
            {"parts": st.lists(part_answers, max_size=4).map(dict) | JSON}
        )
    return st.one_of(anything, shaped)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(question=ANY_QUESTION, data=st.data())
def test_malformed_answers_never_crash(question: Question, data: st.DataObject) -> None:
    answer = data.draw(near_misses(question), label="user_answer")
    try:
        result = run(question, answer)
    except ValidationError as exc:
        assert exc.field.startswith("user_answer"), exc.field
        return
    assert 0 <= result.fraction <= 1
    assert result.correct == (result.fraction == 1 and not result.skipped)
    if result.skipped:
        assert result.fraction == 0


@FAST
@given(fraction=st.sampled_from([Fraction(0), Fraction(1)]), question_points=QUESTION_POINTS)
def test_no_marks_and_full_marks_earn_exactly_what_the_rule_says(
    fraction: Fraction, question_points: int | Decimal
) -> None:
    earned = Grade(fraction).points(question_points)
    assert earned == exact_points(fraction, question_points)
    assert earned.as_tuple().exponent == -2  # stored as numeric(10,2): always two places


@functools.cache
def _bank() -> list[dict[str, Any]]:
    from netplus_db.ops.seed import load_seed_data

    return load_seed_data().questions


def _bank_questions_of(qtype: QuestionType) -> list[tuple[str, dict[str, Any]]]:
    return [(q["key"], q) for q in _bank() if q["question_type"] == qtype]


@pytest.mark.parametrize("qtype", list(QuestionType))
def test_wrong_answers_never_earn_full_marks_and_the_first_earns_nothing_when_it_can(
    qtype: QuestionType,
) -> None:
    for qid, question in _bank_questions_of(qtype):
        data, key = question["question_data"], question["correct_answer"]
        wrong = wrong_answers(qtype, data, key)
        assert wrong, f"{qid}: no wrong answer was made"
        grades = [grade(qtype, data, key, answer) for answer in wrong]
        assert all(g.fraction < 1 and not g.skipped for g in grades), qid
        fractions = [g.fraction for g in grades]
        if qtype in (QuestionType.TRUE_FALSE, QuestionType.MATCHING):
            assert fractions[0] == 0, qid
        if qtype == QuestionType.MULTIPLE_CHOICE:
            # Every other option, those without partial credit first: the first earns nothing
            # unless every wrong option earns something.
            options = [o["id"] for o in data["options"]]
            partial = key.get("partial") or {}
            assert sorted(a["option"] for a in wrong) == sorted(
                o for o in options if o != key["option"]
            ), qid
            assert fractions == sorted(fractions), qid
            assert (fractions[0] == 0) == any(
                o not in partial for o in options if o != key["option"]
            )
        if qtype in (QuestionType.MULTIPLE_SELECT, QuestionType.FILL_BLANK):
            assert fractions[0] == 0, qid


def _partial(fractions: list[Fraction]) -> bool:
    return any(0 < f < 1 for f in fractions)


@pytest.mark.parametrize("qtype", list(QuestionType))
def test_wrong_answers_include_partial_credit_where_the_question_has_room_for_it(
    qtype: QuestionType,
) -> None:
    """Multiple select with several right options (one right option ticked), matching with
    more than two stems (one pair right), a simulation of several parts (the first solved):
    the synthetic learners also give answers between nothing and full marks."""
    for qid, question in _bank_questions_of(qtype):
        data, key = question["question_data"], question["correct_answer"]
        wrong = wrong_answers(qtype, data, key)
        fractions = [grade(qtype, data, key, a).fraction for a in wrong]
        if qtype == QuestionType.MULTIPLE_SELECT and len(key["options"]) > 1:
            assert {"options": key["options"][:1]} in wrong and _partial(fractions), qid
        elif qtype == QuestionType.MATCHING and len(data["stems"]) > 2:
            first = data["stems"][0]["id"]
            assert wrong[1]["pairs"][first] == key["pairs"][first], qid
            assert sum(wrong[1]["pairs"][s] == key["pairs"][s] for s in key["pairs"]) == 1, qid
            assert _partial(fractions), qid
        elif qtype == QuestionType.SIMULATION and len(data["parts"]) > 1:
            part = data["parts"][0]
            solved = answer_key(part["type"], part.get("data", {}), key["parts"][part["id"]])
            assert wrong[1]["parts"][part["id"]] == solved and _partial(fractions), qid
            assert fractions[0] == 0, qid
        elif qtype in (QuestionType.TRUE_FALSE, QuestionType.FILL_BLANK):
            assert len(wrong) == 1, qid


def test_wrong_answers_of_multiple_choice_put_the_partial_credit_options_last() -> None:
    data = {"options": [{"id": x, "text": x} for x in "abcd"]}
    key = {"option": "c", "partial": {"a": 0.5}}
    wrong = wrong_answers(QuestionType.MULTIPLE_CHOICE, data, key)
    assert wrong == [{"option": "b"}, {"option": "d"}, {"option": "a"}]
    fractions = [grade(QuestionType.MULTIPLE_CHOICE, data, key, a).fraction for a in wrong]
    assert fractions == [0, 0, Fraction(1, 2)]
    every = {"option": "c", "partial": {"a": 0.5, "b": 0.25, "d": 0.25}}
    # Every wrong option earns something: they stay in the question's order.
    assert wrong_answers(QuestionType.MULTIPLE_CHOICE, data, every) == [
        {"option": "a"},
        {"option": "b"},
        {"option": "d"},
    ]


def test_wrong_answers_of_small_questions_exactly() -> None:
    """The constructions wrong_answers documents, on questions small enough to write out:
    nothing right, then one right answer more where the question has room for it."""
    options = {"options": [{"id": x, "text": x} for x in "abcde"]}
    assert wrong_answers("multiple_select", options, {"options": ["a", "b", "c"]}) == [
        {"options": ["d"]},  # only a distractor
        {"options": ["a", "b", "d"]},  # all but the last right one, and a distractor
        {"options": ["a"]},  # one right one alone
    ]
    two_stems = {
        "stems": [{"id": "1", "text": "SSH"}, {"id": "2", "text": "HTTPS"}],
        "choices": [{"id": "a", "text": "22"}, {"id": "b", "text": "443"}],
    }
    # Two stems: the answer with one pair right is left out (it needs more than two).
    assert wrong_answers("matching", two_stems, {"pairs": {"1": "a", "2": "b"}}) == [
        {"pairs": {"1": "b", "2": "a"}}
    ]
    parts = {
        "parts": [
            {"id": "p1", "type": "true_false", "data": {}},
            {"id": "p2", "type": "fill_blank", "data": {}},
        ]
    }
    key = {
        "parts": {
            "p1": {"value": True},
            "p2": {"accepted": [{"answer": "443", "credit": 1}]},
        }
    }
    wrong = wrong_answers("simulation", parts, key)
    assert wrong == [
        {"parts": {"p1": {"value": False}, "p2": {"text": "zz certainly not the answer zz"}}},
        {"parts": {"p1": {"value": True}, "p2": {"text": "zz certainly not the answer zz"}}},
    ]
    assert [grade("simulation", parts, key, a).fraction for a in wrong] == [0, Fraction(1, 2)]


def test_wrong_answers_is_empty_when_no_answer_can_be_wrong() -> None:
    """A matching question whose stems all take its only choice: every answer is right."""
    data = {
        "stems": [{"id": "1", "text": "SSH"}, {"id": "2", "text": "SFTP"}],
        "choices": [{"id": "a", "text": "22"}],
    }
    key = {"pairs": {"1": "a", "2": "a"}}
    validate_question("matching", data, key)
    assert wrong_answers("matching", data, key) == []


TWO_OPTIONS = {"options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}
ONE_OPTION = {"options": [{"id": "a", "text": "22"}]}
LIST_OF_ITEMS = r"^question_data\.options must be a non-empty list of \{id, text\}$"
NOT_A_LIST = r"^correct_answer\.accepted must be a non-empty list$"
NO_ANSWER = r"^each correct_answer\.accepted item needs an answer string$"
NOT_A_NUMBER = r"^correct_answer\.accepted\.credit must be a number$"


@pytest.mark.parametrize(
    ("question_type", "data", "key", "message"),
    [
        ("essay", {}, {}, r"^unknown question type 'essay'$"),
        (
            "multiple_choice",
            TWO_OPTIONS,
            {"option": "z"},
            r"^correct_answer does not fit question_data: .*option",
        ),
        (
            "multiple_choice",
            {"options": [{"id": "a"}, {"id": "b"}]},
            {"option": 5},
            r"^correct_answer does not fit question_data: correct_answer\.option: must be",
        ),
        (
            "multiple_select",
            {"options": [{"id": "a"}, {"id": "b"}]},
            {"options": "a"},
            r"^correct_answer does not fit question_data: correct_answer\.options: must be",
        ),
        (
            "true_false",
            {},
            {"value": "yes"},
            r"^correct_answer does not fit question_data: correct_answer\.value: must be",
        ),
        (
            "fill_blank",
            {},
            {"accepted": [{"answer": "ssh*", "credit": 1}]},
            r"^fill_blank needs an accepted answer with credit 1 and no \*$",
        ),
        (
            "matching",
            {"stems": [{"id": "1", "text": "SSH"}], "choices": [{"id": "a", "text": "22"}]},
            {"pairs": "a"},
            r"^correct_answer does not fit question_data: correct_answer\.pairs: must map",
        ),
        (
            "simulation",
            {"parts": [{"id": "p1", "type": "true_false", "data": {}}]},
            {},
            r"^correct_answer does not fit question_data: correct_answer\.parts: must be",
        ),
        (
            "simulation",
            {"parts": [{"id": "p1", "type": "true_false", "data": {}, "weight": "heavy"}]},
            {"parts": {"p1": {"value": True}}},
            r"^question_data\.parts\.p1\.weight must be a number$",
        ),
        (
            "multiple_select",
            TWO_OPTIONS,
            {"options": []},
            r"^multiple_select correct options must be a non-empty subset$",
        ),
        (
            "multiple_select",
            TWO_OPTIONS,
            {"options": ["a", "b"]},
            r"^multiple_select needs at least one distractor$",
        ),
        (
            "simulation",
            {
                "parts": [
                    {"id": "p1", "type": "true_false", "data": {}, "weight": 0},
                    {"id": "p2", "type": "true_false", "data": {}, "weight": 0},
                ]
            },
            {"parts": {"p1": {"value": True}, "p2": {"value": False}}},
            r"^the correct answer scores 0, not 1$",  # no weight: nothing can be earned
        ),
        (
            "simulation",
            {"parts": [{"id": "p1", "type": "simulation", "data": {}}]},
            {"parts": {"p1": {}}},
            r"^question_data\.parts\.p1\.type must be a non-simulation question type$",
        ),
        (
            "multiple_choice",
            ONE_OPTION,
            {"option": "a"},
            r"^question_data\.options needs at least two options$",
        ),
        ("multiple_choice", {"options": "ab"}, {"option": "a"}, LIST_OF_ITEMS),
        ("multiple_choice", {"options": []}, {"option": "a"}, LIST_OF_ITEMS),
        ("multiple_choice", {"options": ["a", "b"]}, {"option": "a"}, LIST_OF_ITEMS),
        ("multiple_choice", {"options": [{"id": "a"}, {"id": 2}]}, {"option": "a"}, LIST_OF_ITEMS),
        (
            "multiple_choice",
            {"options": [{"id": "a", "text": "22"}, {"id": "a", "text": "23"}]},
            {"option": "a"},
            r"^question_data\.options repeats an id$",
        ),
        ("fill_blank", {}, {"accepted": []}, NOT_A_LIST),
        ("fill_blank", {}, {"accepted": "443"}, NOT_A_LIST),
        ("fill_blank", {}, {"accepted": ["443"]}, NO_ANSWER),
        ("fill_blank", {}, {"accepted": [{"credit": 1}]}, NO_ANSWER),
        ("fill_blank", {}, {"accepted": [{"answer": "443", "credit": "full"}]}, NOT_A_NUMBER),
        ("fill_blank", {}, {"accepted": [{"answer": "443", "credit": True}]}, NOT_A_NUMBER),
        (
            "fill_blank",
            {"normalize": "number", "units": "ms"},
            {"accepted": [{"answer": "5", "credit": 1}]},
            r"^question_data\.units must be a list of strings$",
        ),
    ],
)
def test_a_malformed_definition_is_named_where_it_is_wrong(
    question_type: str, data: dict[str, Any], key: dict[str, Any], message: str
) -> None:
    with pytest.raises(QuestionFormatError, match=message):
        validate_question(question_type, data, key)


@pytest.mark.parametrize(
    ("data", "accepted", "text", "fraction"),
    [
        # A unit longer than the answer is passed over; the next one is still tried.
        ({"normalize": "number", "units": ["milliseconds", "ms"]}, ["5"], "5ms", 1),
        # A network with host bits set is not a network: unreadable, no credit.
        ({"normalize": "cidr"}, ["192.168.1.0/24"], "192.168.1.5/24", 0),
        # Case-sensitive terms keep their letters: XML is not ML.
        ({"normalize": "term", "case_sensitive": True}, ["XML"], "ML", 0),
        ({"normalize": "term", "case_sensitive": True}, ["XML"], "XML", 1),
        # Each half of "abbreviation (expansion)" is a term of its own: its article goes too.
        ({"normalize": "term"}, ["Domain Name System", "DNS"], "DNS (the Domain Name System)", 1),
        # A number written with a unit keeps its thousands separator readable.
        ({"normalize": "number", "units": ["ms"]}, ["1000"], "1,000 ms", 1),
        ({"normalize": "number", "units": ["ms"]}, ["1000"], "ms 1,000", 1),
        # A half that folds to nothing is no answer, even where an accepted one folds to
        # nothing too (an answer of only hyphens).
        ({"normalize": "term"}, ["DNS", "-"], "DNS ( _ )", 0),
    ],
)
def test_fill_blank_edges_of_units_networks_and_terms(
    data: dict[str, Any], accepted: list[str], text: str, fraction: int
) -> None:
    key = {"accepted": [{"answer": a} for a in accepted]}
    assert grade("fill_blank", data, key, {"text": text}).fraction == fraction


def test_unknown_types_and_normalizers_are_named() -> None:
    with pytest.raises(QuestionFormatError, match=r"^unknown question type 'essay'$"):
        grade("essay", {}, {}, {"text": "an essay"})
    with pytest.raises(QuestionFormatError, match=r"^unknown normalizer 'soundex'$"):
        grade("fill_blank", {"normalize": "soundex"}, {"accepted": []}, {"text": "Smith"})


def test_answer_key_refuses_an_unknown_type_by_name() -> None:
    with pytest.raises(QuestionFormatError, match=r"^unknown question type 'essay'$"):
        answer_key("essay", {}, {})


@pytest.mark.parametrize(
    ("question_type", "data", "key", "answer", "message"),
    [
        (
            "matching",
            {"stems": [{"id": "1", "text": "SSH"}], "choices": [{"id": "a", "text": "22"}]},
            {"pairs": "a"},
            {"pairs": {"1": "a"}},
            r"^correct_answer\.pairs: must map stem ids",
        ),
        (
            "simulation",
            {"parts": [{"id": "p1", "type": "true_false", "data": {}}]},
            {},
            {"parts": {"p1": {"value": True}}},
            r"^correct_answer\.parts: must be a JSON object",
        ),
        (
            "multiple_choice",
            TWO_OPTIONS,
            {"option": 5},
            {"option": "a"},
            r"^correct_answer\.option: must be",
        ),
        (
            "multiple_select",
            TWO_OPTIONS,
            {"options": "a"},
            {"options": ["a"]},
            r"^correct_answer\.options: must be",
        ),
        (
            "true_false",
            {},
            {"value": "yes"},
            {"value": True},
            r"^correct_answer\.value: must be true or false$",
        ),
    ],
)
def test_grading_against_a_malformed_key_names_the_key_field(
    question_type: str, data: dict[str, Any], key: dict[str, Any], answer: Any, message: str
) -> None:
    """grade() checks the key itself too (it may be called without validate_question)."""
    with pytest.raises(ValidationError, match=message):
        grade(question_type, data, key, answer)


def test_a_matching_answer_naming_an_unknown_choice_is_refused_by_name() -> None:
    data = {
        "stems": [{"id": "1", "text": "SSH"}, {"id": "2", "text": "HTTPS"}],
        "choices": [{"id": "a", "text": "22"}, {"id": "b", "text": "443"}],
    }
    with pytest.raises(ValidationError, match=r"^user_answer\.pairs\.2: unknown choice 'zz'$"):
        grade("matching", data, {"pairs": {"1": "a", "2": "b"}}, {"pairs": {"1": "a", "2": "zz"}})


def test_a_partial_credit_that_is_no_number_is_named_when_it_is_reached() -> None:
    key = {"option": "a", "partial": {"b": "lots"}}
    with pytest.raises(QuestionFormatError, match=r"^correct_answer\.partial must be a number$"):
        grade("multiple_choice", TWO_OPTIONS, key, {"option": "b"})


def test_full_marks_on_decimal_points_round_half_up_like_the_database() -> None:
    """The whole-number fast path is for int points only: a Decimal's half cent rounds up, as
    numeric(10,2) does, not to even as Decimal.quantize would."""
    assert Grade(Fraction(1)).points(Decimal("1.005")) == Decimal("1.01")
    assert Grade(Fraction(1)).points(Decimal("2.5")) == Decimal("2.50")


def test_a_partial_credit_that_is_no_mapping_gives_no_credit() -> None:
    key = {"option": "a", "partial": ["b"]}
    assert grade("multiple_choice", TWO_OPTIONS, key, {"option": "b"}).fraction == 0


def test_a_term_given_with_its_abbreviation_needs_both_halves_right() -> None:
    """`expansion (abbreviation)` or the other way round: each half is matched on its own,
    the credit is the smaller of the two, and case matters when the question says so."""
    key = {
        "accepted": [
            {"answer": "Dynamic Host Configuration Protocol", "credit": 1},
            {"answer": "DHCP", "credit": 0.5},
        ]
    }

    def fraction(text: str, **data: Any) -> Fraction:
        return grade("fill_blank", {"normalize": "term", **data}, key, {"text": text}).fraction

    assert fraction("Dynamic Host Configuration Protocol (DHCP)") == Fraction(1, 2)
    assert fraction("dhcp (dynamic host configuration protocol)") == Fraction(1, 2)
    assert fraction("Dynamic Host Configuration Protocol (DNS)") == 0
    assert fraction("Dynamic Host Configuration Protocol (DHCP)", case_sensitive=True) == Fraction(
        1, 2
    )
    assert fraction("Dynamic Host Configuration Protocol (dhcp)", case_sensitive=True) == 0


def test_a_simulation_part_no_answer_can_get_wrong_is_skipped_in_wrong_answers() -> None:
    """A matching part whose only stem takes its only choice has no wrong answer: the
    simulation's wrong answers leave that part empty (skipped), and still earn nothing."""
    data = {
        "parts": [
            {
                "id": "m",
                "type": "matching",
                "data": {
                    "stems": [{"id": "1", "text": "SSH"}],
                    "choices": [{"id": "a", "text": "22"}],
                },
            },
            {"id": "t", "type": "true_false"},
        ]
    }
    key = {"parts": {"m": {"pairs": {"1": "a"}}, "t": {"value": True}}}
    validate_question("simulation", data, key)
    wrong = wrong_answers("simulation", data, key)
    assert wrong == [
        {"parts": {"m": {}, "t": {"value": False}}},
        {"parts": {"m": {"pairs": {"1": "a"}}, "t": {"value": False}}},
    ]
    assert [grade("simulation", data, key, a).fraction for a in wrong] == [0, Fraction(1, 2)]


def test_a_simulation_part_without_the_data_its_type_needs_is_a_format_error() -> None:
    """A multiple-choice part with no data is refused by name, not an AttributeError."""
    data = {"parts": [{"id": "p1", "type": "multiple_choice"}]}
    key = {"parts": {"p1": {"option": "a"}}}
    with pytest.raises(QuestionFormatError, match=r"^question_data\.options must be"):
        validate_question("simulation", data, key)


def test_a_simulation_key_missing_a_part_is_refused_by_name() -> None:
    """The key of each part is read as an (empty) object when it is missing: the field it
    lacks is named, both when the question is validated and when an answer is graded."""
    data = {"parts": [{"id": "p1", "type": "multiple_choice", "data": TWO_OPTIONS}]}
    with pytest.raises(QuestionFormatError, match=r"correct_answer\.option: must be a string"):
        validate_question("simulation", data, {"parts": {}})
    answer = {"parts": {"p1": {"option": "a"}}}
    with pytest.raises(ValidationError) as caught:
        grade("simulation", data, {"parts": {}}, answer)
    assert caught.value.field == "correct_answer.option"


def test_a_term_accepted_whole_keeps_its_credit_when_its_halves_earn_less() -> None:
    """The halves of "abbreviation (expansion)" are compared only when the whole matches
    nothing: an answer accepted as written keeps the credit it was given."""
    key = {
        "accepted": [
            {"answer": "DHCP (Dynamic Host Configuration Protocol)", "credit": 1},
            {"answer": "DHCP", "credit": 0.5},
            {"answer": "Dynamic Host Configuration Protocol", "credit": 0.5},
        ]
    }
    text = {"text": "dhcp (dynamic host configuration protocol)"}
    assert grade("fill_blank", {"normalize": "term"}, key, text).fraction == 1
    halves = {"text": "Dynamic Host Configuration Protocol (DHCP)"}
    assert grade("fill_blank", {"normalize": "term"}, key, halves).fraction == Fraction(1, 2)


def test_units_are_read_only_by_the_number_normalizer() -> None:
    """question_data.units belongs to numbers: a text question carrying a malformed one
    grades as if it were not there (as the database's grader does)."""
    key = {"accepted": [{"answer": "ms"}]}
    data = {"normalize": "text", "units": "ms"}
    assert grade("fill_blank", data, key, {"text": "MS"}).fraction == 1
