"""grade_answer() of migration 0012 against the reference grader, netplus_db/grading.py.

Hypothesis builds question definitions and learner answers of every type (the strategies of
tests/library/test_grading.py, plus malformed answers, random Unicode text, exotic number,
address and port spellings, and malformed definitions). Each example is graded in one
statement by grade_answer() and by grading.grade(...).points(...), which must agree: the same
(skipped, correct, fraction, points), or the same error: SQLSTATE 22023 naming the field of
Python's ValidationError, or NP001 where Python refuses the definition. Python grades the
JSON as the database stores it (read back by the same statement), as the library does.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import string
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from netplus_db.errors import QuestionFormatError, ValidationError
from netplus_db.grading import NORMALIZERS, _normalize, answer_key, grade
from netplus_db.ops.seed import load_seed_data
from tests.library.test_grading import (
    ANY_CASE,
    JSON,
    Case,
    Question,
    near_misses,
    simulation_cases,
)
from tests.support.factories import Conn

pytestmark = pytest.mark.slow  # hypothesis batches of every question type against the SQL grader

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TRY_GRADE = """
CREATE FUNCTION pg_temp.try_grade(
    p_type text, p_data jsonb, p_key jsonb, p_answer jsonb, p_points integer,
    OUT skipped boolean, OUT is_correct boolean, OUT fraction_num bigint,
    OUT fraction_den bigint, OUT points_earned numeric,
    OUT error_state text, OUT error_field text, OUT error_message text)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT g.skipped, g.is_correct, g.fraction_num, g.fraction_den, g.points_earned
      INTO skipped, is_correct, fraction_num, fraction_den, points_earned
      FROM public.grade_answer(p_type, p_data, p_key, p_answer, p_points) AS g;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_field = COLUMN_NAME,
                            error_message = MESSAGE_TEXT;
END;
$$
"""

# One statement grades a batch; each item comes back as the database stores it.
GRADE_BATCH = """
SELECT c.item, r.skipped, r.is_correct, r.fraction_num, r.fraction_den, r.points_earned,
       r.error_state, r.error_field, r.error_message
  FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS c(item, n)
 CROSS JOIN LATERAL pg_temp.try_grade(c.item ->> 'type', c.item -> 'data', c.item -> 'key',
                                      c.item -> 'answer', (c.item ->> 'points')::integer) AS r
 ORDER BY c.n
"""


@dataclass(frozen=True)
class Outcome:
    """What grading gave: a grade, or an error (SQLSTATE, and the field of a 22023)."""

    skipped: bool | None = None
    correct: bool | None = None
    fraction: Fraction | None = None
    points: Decimal | None = None
    error: str | None = None
    field: str | None = None
    message: str | None = None


@pytest.fixture(scope="module")
def grader(shared: Conn) -> Conn:
    """The module's database with pg_temp.try_grade(), which turns an error into a row."""
    shared.execute(TRY_GRADE)
    shared.commit()
    return shared


def sanitize(value: Any) -> Any:
    """The JSON a jsonb column can hold: no NUL in strings, no NaN or infinite floats."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return 0.5
    if isinstance(value, list):
        return [sanitize(v) for v in value]
    if isinstance(value, dict):
        return {sanitize(k): sanitize(v) for k, v in value.items()}
    return value


def reference(item: dict[str, Any], malformed_definitions: bool) -> Outcome:
    """The Python grader's outcome for a stored item."""
    try:
        result = grade(item["type"], item["data"], item["key"], item["answer"])
    except ValidationError as exc:
        return Outcome(error="22023", field=exc.field, message=str(exc))
    except QuestionFormatError:
        return Outcome(error="NP001")
    except (AttributeError, TypeError, ZeroDivisionError):
        # A definition not even of the right JSON shape: Python fails on it, SQL refuses it.
        if not malformed_definitions:
            raise
        return Outcome(error="NP001")
    return Outcome(
        skipped=result.skipped,
        correct=result.correct,
        fraction=result.fraction,
        points=result.points(item["points"]),
    )


def in_database(row: tuple[Any, ...]) -> Outcome:
    _, skipped, correct, num, den, points, state, field, message = row
    if state is not None:
        if state == "22023":
            return Outcome(error=state, field=field, message=message)
        assert state == "NP001", f"unexpected SQLSTATE {state}: {message}"
        return Outcome(error=state)
    return Outcome(
        skipped=skipped, correct=correct, fraction=Fraction(num, den), points=Decimal(points)
    )


def item(question: Question, answer: Any, points: int) -> dict[str, Any]:
    stored: dict[str, Any] = sanitize(
        {
            "type": question.type,
            "data": question.data,
            "key": question.key,
            "answer": answer,
            "points": points,
        }
    )
    return stored


def assert_same(
    conn: Conn, items: list[dict[str, Any]], malformed_definitions: bool = False
) -> list[Outcome]:
    """Grade every item in SQL (one statement) and in Python; they must agree."""
    rows = conn.execute(GRADE_BATCH, [Jsonb(items)]).fetchall()
    assert len(rows) == len(items)
    outcomes = []
    for row in rows:
        stored = row[0]
        expected = reference(stored, malformed_definitions)
        got = in_database(row)
        if expected.fraction is not None and got.fraction is not None:
            assert got.fraction.denominator == row[4]  # in lowest terms, den > 0
        if got.message is not None and not got.message.isprintable():
            # Python's repr() escapes every unprintable character; SQL only control ones.
            got = replace(got, message=expected.message)
        assert got == expected, f"\n  item: {stored}\n   SQL: {got}\nPython: {expected}"
        outcomes.append(got)
    return outcomes


POINTS = st.one_of(st.integers(0, 10), st.integers(-1000, 1_000_000))


def answer_fault(draw: st.DrawFn, question: Question) -> Any:
    """An answer with one of the faults each rule refuses (or a boundary it must accept)."""
    data, unknown = question.data, "zz-unknown"
    if question.type in ("multiple_choice", "multiple_select"):
        ids = [o["id"] for o in data["options"]]
        return draw(
            st.sampled_from(
                [
                    {"option": unknown},
                    {"option": 1},
                    {"options": [*ids, ids[0]]},
                    {"options": [ids[-1], unknown]},
                    {"options": [unknown, ids[0], ids[0]]},
                    {"options": []},
                    {"options": ids},
                ]
            )
        )
    if question.type == "true_false":
        return {"value": draw(st.sampled_from(["true", 1, None, [True]]))}
    if question.type == "fill_blank":
        return {"text": draw(st.sampled_from(["x" * 1001, "*" * 1000, " \u3000\u2028", "", 5]))}
    if question.type == "matching":
        stem = draw(st.sampled_from([s["id"] for s in data["stems"]]))
        choice = draw(st.sampled_from([c["id"] for c in data["choices"]]))
        return {
            "pairs": draw(
                st.sampled_from(
                    [
                        {stem: choice, unknown: choice},
                        {stem: unknown},
                        {unknown: unknown},
                        {stem: [choice]},
                        [stem, choice],
                    ]
                )
            )
        }
    part = draw(st.sampled_from(data["parts"]))
    inner = Question(part["type"], part.get("data", {}), question.key["parts"][part["id"]])
    return {
        "parts": draw(
            st.sampled_from(
                [
                    {unknown: {}, "a" + unknown: {"value": True}},
                    {part["id"]: draw(st.sampled_from([[], "x", 1, True]))},
                    {part["id"]: answer_fault(draw, inner)},
                ]
            )
        )
    }


def answers_for(draw: st.DrawFn, question: Question, given: list[Any]) -> list[Any]:
    """The given answers, the key, a skip, answer faults and some near misses."""
    answers = list(given)
    with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
        answers.extend(answer_fault(draw, question) for _ in range(2))
    with contextlib.suppress(QuestionFormatError, ValidationError, AttributeError, TypeError):
        answers.append(answer_key(question.type, question.data, question.key))
    answers.append(draw(st.sampled_from([None, {}])))
    answers.extend(draw(st.lists(near_misses(question), min_size=1, max_size=5)))
    return answers


def batch(draw: st.DrawFn, question: Question, answers: list[Any]) -> list[dict[str, Any]]:
    return [item(question, answer, draw(POINTS)) for answer in answers]


# --- every type, valid and malformed answers ---------------------------------------------------


@st.composite
def any_batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    case: Case = draw(ANY_CASE)
    return batch(draw, case.question, answers_for(draw, case.question, [case.answer]))


@PROPERTY
@given(items=any_batches())
def test_every_type_grades_as_the_reference(grader: Conn, items: list[dict[str, Any]]) -> None:
    assert_same(grader, items)


@st.composite
def simulation_batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    case = draw(simulation_cases())
    return batch(draw, case.question, answers_for(draw, case.question, [case.answer]))


@settings(PROPERTY, max_examples=150)
@given(items=simulation_batches())
def test_simulations_and_their_parts_grade_as_the_reference(
    grader: Conn, items: list[dict[str, Any]]
) -> None:
    assert_same(grader, items)


# --- fill_blank: any text, every normaliser ----------------------------------------------------

# Characters where Unicode is tricky: full case folding that changes length (ß, ﬁ, ΐ),
# final sigma, dotted/dotless i, titlecase digraphs, combining marks, white space
# outside ASCII, digits outside ASCII, characters outside the BMP, and the wildcard.
TRICKY = (
    "\u00df\u1e9e\u0130\u0131\u017f\ufb01\ufb00\ufb03\u01c5\u01c4\u01c6\u03a3\u03c3\u03c2"
    "\u0390\u03b0\u01f0\u0149\u00b5\u212a\u212b\u00c5\u1f88\u1fb3\u03a9\u0386\u0388"
    "\u0301\u0300\u0308\u0345\u0327\u0303"
    "\u00a0\u2003\u3000\u2028\u0085\u001c\t\n\u200b"
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"
    "\u0966\u0967\u0968\u0969\uff14\uff15"
    "\U00010400\U00010428\U0001d7ce\U0001d7d7\u13a0\uab70"
    "*%_\\.,:/-"
)
UNICODE_CHAR = st.characters(exclude_categories=("Cs", "Cn"), exclude_characters="\x00")
FILL_TEXT = st.text(
    st.one_of(st.sampled_from(TRICKY), st.sampled_from(string.ascii_letters + " "), UNICODE_CHAR),
    max_size=16,
)


def variants(draw: st.DrawFn, text: str) -> str:
    """A spelling of text that a normaliser may fold back: case, NFD, padding."""
    how = draw(st.sampled_from(["same", "upper", "lower", "swap", "casefold", "nfd", "nfkc"]))
    changed = {
        "same": text,
        "upper": text.upper(),
        "lower": text.lower(),
        "swap": text.swapcase(),
        "casefold": text.casefold(),
        "nfd": unicodedata.normalize("NFD", text),
        "nfkc": unicodedata.normalize("NFKC", text),
    }[how]
    pad = st.text(alphabet=" \t\u00a0\u2003\u3000\n", max_size=2)
    return draw(pad) + changed + draw(pad)


def fill_blank_batch(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> list[dict[str, Any]]:
    accepted = draw(st.lists(texts, min_size=1, max_size=4))
    entries: list[dict[str, Any]] = []
    for answer in accepted:
        entry: dict[str, Any] = {"answer": answer}
        if draw(st.booleans()):
            entry["credit"] = draw(
                st.sampled_from([1, 0.5, 0.25, 0.335, 2, -1, 0, "1/3", " 0.75 ", "1e-1"])
            )
        entries.append(entry)
    data: dict[str, Any] = {}
    normalizer = draw(st.sampled_from([None, *NORMALIZERS]))
    if normalizer is not None:
        data["normalize"] = normalizer
    case_sensitive = draw(st.sampled_from([None, True, False, 0, 1, "", "yes"]))
    if case_sensitive is not None:
        data["case_sensitive"] = case_sensitive
    question = Question("fill_blank", data, {"accepted": entries})
    given = [{"text": variants(draw, draw(st.sampled_from(accepted)))} for _ in range(3)]
    given += [{"text": draw(texts)} for _ in range(3)]
    return batch(draw, question, given)


@st.composite
def fill_blank_any_text(draw: st.DrawFn) -> list[dict[str, Any]]:
    return fill_blank_batch(draw, FILL_TEXT)


@PROPERTY
@given(items=fill_blank_any_text())
def test_fill_blank_any_unicode_text_grades_as_the_reference(
    grader: Conn, items: list[dict[str, Any]]
) -> None:
    assert_same(grader, items)


# ASCII, Arabic-Indic, Devanagari, fullwidth and mathematical bold digits
DIGIT_SETS = [
    "".join(chr(start + i) for i in range(10)) for start in (0x30, 0x660, 0x966, 0xFF10, 0x1D7CE)
]


def digits(draw: st.DrawFn, min_size: int, max_size: int) -> str:
    raw = draw(st.text(alphabet="0123456789", min_size=min_size, max_size=max_size))
    if raw and draw(st.integers(0, 4)) == 0:
        table = draw(st.sampled_from(DIGIT_SETS))
        raw = "".join(table[int(c)] for c in raw)
    if len(raw) > 1 and draw(st.integers(0, 5)) == 0:
        at = draw(st.integers(1, len(raw) - 1))
        raw = raw[:at] + draw(st.sampled_from(["_", ",", "__", " "])) + raw[at:]
    return raw


EXPONENTS = st.one_of(
    st.integers(-30, 30),
    st.sampled_from([999999, 1000000, -999999, -1000000, -1000026, -1000027, -1000028]),
    st.integers(-1000060, -999990),
    st.integers(999970, 1000010),
    st.sampled_from(
        [
            999999999999999999,
            1000000000000000000,
            -1999999999999999997,
            -1999999999999999998,
            99999999999999999999,
            -99999999999999999999,
        ]
    ),
)


EDGE_NUMBERS = [
    "1e999999",
    "1e1000000",
    "9.99e999999",
    "10e999999",
    "0.1e1000001",
    "9" * 28,
    "9" * 29,
    "9" * 30 + "e999970",
    "9." + "9" * 28 + "e999999",
    "1e-999999",
    "1e-1000026",
    "1e-1000027",
    "6e-1000027",
    "123456789e-1000030",
    "0e-1000030",
]


@st.composite
def number_texts(draw: st.DrawFn) -> str:
    """Decimal() spellings, valid or nearly so: signs, separators, exponents, NaN payloads."""
    sign = draw(st.sampled_from(["", "", "-", "+", "--", " -"]))
    kind = draw(
        st.sampled_from(["finite"] * 8 + ["tie", "tie", "edge", "inf", "nan", "snan", "junk"])
    )
    if kind == "edge":  # the limits of Python's default context: overflow, subnormal, carry
        body = draw(st.sampled_from(EDGE_NUMBERS))
    elif kind == "tie":
        # exactly half way when rounded to 28 digits (or to the smallest subnormal)
        kept = draw(st.text(alphabet="0123456789", min_size=28, max_size=28))
        body = kept[:1] + "." + kept[1:] + "5" + "0" * draw(st.integers(0, 3))
        body += draw(st.sampled_from(["", "e5", "E-3", "e999999", "e-999990"]))
        body = draw(st.sampled_from([body, "5e-1000027", "15e-1000027", "25E-1000027"]))
    elif kind == "inf":
        body = draw(st.sampled_from(["inf", "Inf", "INFINITY", "infinity", "infinit", "infs"]))
    elif kind in ("nan", "snan"):
        body = draw(st.sampled_from(["nan", "NaN", "NAN"]))
        payload = draw(st.text(alphabet="0123456789", min_size=draw(st.integers(0, 33))))
        body = ("s" if kind == "snan" else "") + body + payload
    elif kind == "junk":
        body = draw(st.text(alphabet="0123456789.eE+-_, nain", max_size=12))
    else:
        whole = digits(draw, 0, 35)
        body = whole
        if draw(st.booleans()) or not whole:
            body += "." + digits(draw, 0 if whole else 1, 35)
        if draw(st.booleans()):
            exponent = draw(EXPONENTS)
            body += draw(st.sampled_from(["e", "E"])) + (
                "+" + str(exponent) if exponent >= 0 and draw(st.booleans()) else str(exponent)
            )
    return sign + body


@st.composite
def number_batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    texts = st.one_of(
        number_texts(),
        number_texts().map(canonical_number),
        st.sampled_from(["1.5E+3", "-0", "0", "NaN", "Infinity", "1*", "*E+3", "-*", "1.5e*"]),
    )
    items = fill_blank_batch(draw, texts)
    for entry in items:
        entry["data"]["normalize"] = "number"
    return items


def canonical_number(text: str) -> str:
    """Python's own canonical spelling of a number text (or the text when it has none)."""
    try:
        return str(Decimal(text.replace(",", "")).normalize())
    except ArithmeticError:
        return text


@PROPERTY
@given(items=number_batches())
def test_fill_blank_numbers_grade_as_the_reference(
    grader: Conn, items: list[dict[str, Any]]
) -> None:
    assert_same(grader, items)


UNIT_LISTS = st.one_of(
    st.sampled_from(
        [["bytes", "byte", "B"], ["GHz"], ["m", "meters"], ["Layer"], ["option"], ["e"], [""]]
    ),
    st.lists(st.sampled_from(["s", "ms", "\u00df", "SS", "1", "nan", "Mbps", " x "]), max_size=3),
)


@st.composite
def number_unit_batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Numbers with a unit before or after them, the question's units or others."""
    units = draw(UNIT_LISTS)
    words = st.sampled_from([*[u for u in units if u], "GHz", "ms", "STRASSE", "layer", "s", ""])

    @st.composite
    def with_unit(draw2: st.DrawFn) -> str:
        number = draw2(st.one_of(number_texts(), st.integers(0, 5000).map(str)))
        word = draw2(words)
        where = draw2(st.sampled_from(["{n} {w}", "{n}{w}", "{w} {n}", "{w}{n}", "{n}"]))
        return where.format(n=number, w=word)

    items = fill_blank_batch(draw, with_unit())
    bad = draw(st.sampled_from([None, None, None, "GHz", [1], [None], {"a": 1}]))
    for entry in items:
        entry["data"]["normalize"] = "number"
        entry["data"]["units"] = units if bad is None else bad
    return items


@PROPERTY
@given(items=number_unit_batches())
def test_fill_blank_numbers_with_units_grade_as_the_reference(
    grader: Conn, items: list[dict[str, Any]]
) -> None:
    assert_same(grader, items)


@st.composite
def ipv4_texts(draw: st.DrawFn) -> str:
    octets = [
        draw(
            st.one_of(st.integers(0, 255).map(str), st.sampled_from(["00", "01", "256", "", "1a"]))
        )
        for _ in range(draw(st.sampled_from([4, 4, 4, 3, 5])))
    ]
    return ".".join(octets)


@st.composite
def ipv6_texts(draw: st.DrawFn) -> str:
    hextets = draw(
        st.lists(
            st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xDB8]) | st.integers(0, 0xFFFF),
            min_size=8,
            max_size=8,
        )
    )  # runs of zeros, sometimes of equal length
    address = ipaddress.IPv6Address(int("".join(f"{h:04x}" for h in hextets), 16))
    exploded = address.exploded.split(":")
    style = draw(st.sampled_from(["compressed", "exploded", "unpadded", "v4", "mangled"]))
    if style == "compressed":
        text = address.compressed
    elif style == "exploded":
        text = address.exploded
    elif style == "unpadded":
        text = ":".join(g.lstrip("0") or "0" for g in exploded)
    elif style == "v4":
        text = ":".join(exploded[:6]) + ":" + str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    else:
        pieces = address.compressed.split(":")
        at = draw(st.integers(0, len(pieces) - 1))
        pieces[at] = draw(st.sampled_from(["", "0", "00000", "g", "ffff", "1.2.3.4", "::"]))
        text = ":".join(pieces)
    if draw(st.booleans()):
        text = text.upper()
    if draw(st.integers(0, 4)) == 0:
        text += draw(st.sampled_from(["%eth0", "%", "%1%2", "%Eth 0"]))
    return text


@st.composite
def cidr_texts(draw: st.DrawFn) -> str:
    host = draw(st.one_of(ipv4_texts(), ipv6_texts()))
    mask = draw(
        st.one_of(
            st.integers(0, 130).map(str),
            st.sampled_from(["", "024", "255.255.255.0", "0.0.0.255", "255.0.255.0", "0.0.0.0"]),
            st.sampled_from(["255.255.255.255", "128.0.0.0", "x", "1/2", "٢٤"]),
            ipv4_texts(),
        )
    )
    slash = draw(st.sampled_from(["/", " / ", "/ ", "", "//"]))
    if draw(st.integers(0, 2)) == 0:  # a true network (host bits zero), spelled any way
        bits = draw(st.sampled_from([32, 128]))
        prefix = draw(st.integers(0, bits))
        network = ipaddress.ip_network(
            (
                draw(st.integers(0, 2**bits - 1))
                if bits == 128
                else draw(st.integers(0, 2**32 - 1)),
                prefix,
            ),
            strict=False,
        )
        address = str(network.network_address)
        if bits == 128 and draw(st.booleans()):
            address = network.network_address.exploded.upper()
        return f"{address}{draw(st.sampled_from(['/', ' / ']))}{prefix}"
    return host + (slash + mask if slash else "")


@st.composite
def ports_texts(draw: st.DrawFn) -> str:
    pieces = []
    for _ in range(draw(st.integers(0, 4))):
        low = draw(st.one_of(st.integers(0, 70000), st.sampled_from([0, 65535, 65536])))
        text = str(low)
        if draw(st.booleans()):
            text += "-" + str(low + draw(st.integers(-2, 5)))
        if draw(st.integers(0, 6)) == 0:
            text = draw(st.sampled_from(["+", "-", "0", "_"])) + text
        if draw(st.integers(0, 6)) == 0:
            text = "".join(DIGIT_SETS[1][int(c)] if c.isdigit() else c for c in text)
        pieces.append(text)
    separators = st.sampled_from(
        [",", ", ", " and ", " AND ", "/", " ", "and", "-and-", ",,", "&", "/tcp ", " udp/"]
    )
    joined = pieces[0] if pieces else draw(st.sampled_from(["", "and", "-", "tcp", "port"]))
    for piece in pieces[1:]:
        joined += draw(separators) + piece
    words = ["", "", "TCP ", "tcp port ", "udp/", "port ", "ports ", "Port", "tcpx ", "\u00e9tcp "]
    ends = ["", "", "/tcp", " UDP", "/udp", "tcp", " port", "_tcp", "/tcp\u0663"]
    return draw(st.sampled_from(words)) + joined + draw(st.sampled_from(ends))


@st.composite
def mac_texts(draw: st.DrawFn) -> str:
    raw = f"{draw(st.integers(0, 2**48 - 1)):012x}"
    if draw(st.booleans()):
        raw = raw.upper()
    style = draw(st.sampled_from(["colon", "hyphen", "dotted", "bare", "mixed", "mangled"]))
    pairs = [raw[i : i + 2] for i in range(0, 12, 2)]
    if style == "colon":
        return ":".join(pairs)
    if style == "hyphen":
        return "-".join(pairs)
    if style == "dotted":
        return ".".join(raw[i : i + 4] for i in range(0, 12, 4))
    if style == "bare":
        return raw
    if style == "mixed":
        return ":".join(pairs[:3]) + "-" + "-".join(pairs[3:])
    at = draw(st.integers(0, 11))
    return (
        raw[:at] + draw(st.sampled_from(["g", "", "00", ":", "\u0663", "\uff21"])) + raw[at + 1 :]
    )


TERM_WORDS = st.sampled_from(
    ["the", "a", "an", "IP", "address", "management", "IPAM", "TTL", "CAM", "table", "x"]
)


@st.composite
def term_texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(TERM_WORDS, min_size=1, max_size=4))
    joins = st.sampled_from([" ", "-", "_", " - ", "\u2013", "--", "  "])
    text = words[0]
    for word in words[1:]:
        text += draw(joins) + word
    form = draw(st.sampled_from(["plain", "paren", "paren", "broken"]))
    if form == "paren":
        inner = " ".join(draw(st.lists(TERM_WORDS, min_size=1, max_size=3)))
        text += (
            draw(st.sampled_from([" (", "(", " ( "])) + inner + draw(st.sampled_from([")", " )"]))
        )
    elif form == "broken":
        text += draw(st.sampled_from(["(", ")", "()", " (x)(y)", " ( )", "(( x ))"]))
    return text


NETWORKISH = st.text(alphabet="0123456789abcdefABCDEF:./-,% _+and\u0663", max_size=24)


@st.composite
def address_batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    normalizer = draw(st.sampled_from(["ipv4", "ipv6", "cidr", "ports", "mac", "term"]))
    texts = {
        "mac": st.one_of(mac_texts(), NETWORKISH),
        "term": st.one_of(term_texts(), term_texts(), FILL_TEXT),
        "ipv4": st.one_of(ipv4_texts(), NETWORKISH),
        "ipv6": st.one_of(ipv6_texts(), NETWORKISH),
        "cidr": st.one_of(cidr_texts(), NETWORKISH),
        "ports": st.one_of(ports_texts(), NETWORKISH),
    }[normalizer]
    wildcards = st.sampled_from(
        [
            "*",
            "192.168.*",
            "*::*",
            "*/24",
            "2*",
            "*,443",
            "fe80*",
            "ip-*",
            "the *",
            "*(ipam)",
            "00:1a*",
        ]
    )
    items = fill_blank_batch(draw, st.one_of(texts, texts, wildcards))
    for entry in items:
        entry["data"]["normalize"] = normalizer
    return items


@PROPERTY
@given(items=address_batches())
def test_fill_blank_addresses_networks_and_ports_grade_as_the_reference(
    grader: Conn, items: list[dict[str, Any]]
) -> None:
    assert_same(grader, items)


# --- the normalisers' canonical forms, directly ---------------------------------------------

# The canonical form of each text, as the wildcard matching sees it (ports as the full list).
NORMALIZE_BATCH = """
SELECT CASE WHEN c.normalizer = 'ports' THEN grading_ports_list(g.canonical) ELSE g.canonical END
  FROM unnest(%s::text[], %s::text[], %s::boolean[]) WITH ORDINALITY
       AS c(text, normalizer, case_sensitive, n)
 CROSS JOIN LATERAL grading_normalize(c.text, c.normalizer, c.case_sensitive) AS g(canonical)
 ORDER BY c.n
"""

TEXTS_FOR = {
    "mac": st.one_of(mac_texts(), NETWORKISH),
    "term": st.one_of(term_texts(), FILL_TEXT),
    "text": FILL_TEXT,
    "number": st.one_of(number_texts(), FILL_TEXT),
    "ipv4": st.one_of(ipv4_texts(), NETWORKISH),
    "ipv6": st.one_of(ipv6_texts(), NETWORKISH),
    "cidr": st.one_of(cidr_texts(), NETWORKISH),
    "ports": st.one_of(ports_texts(), NETWORKISH),
}


@st.composite
def normalizer_cases(draw: st.DrawFn) -> list[tuple[str, str, bool]]:
    cases = []
    for _ in range(12):
        normalizer = draw(st.sampled_from(NORMALIZERS))
        text = draw(TEXTS_FOR[normalizer])
        if draw(st.booleans()):
            text = variants(draw, text)
        cases.append((text.replace("\x00", ""), normalizer, draw(st.booleans())))
    return cases


@settings(PROPERTY, max_examples=300)
@given(cases=normalizer_cases())
def test_normalisers_give_pythons_canonical_forms(
    grader: Conn, cases: list[tuple[str, str, bool]]
) -> None:
    texts, normalizers, case_sensitive = (list(column) for column in zip(*cases, strict=True))
    rows = grader.execute(NORMALIZE_BATCH, [texts, normalizers, case_sensitive]).fetchall()
    for (text, normalizer, sensitive), (got,) in zip(cases, rows, strict=True):
        assert got == _normalize(text, normalizer, sensitive), (text, normalizer, sensitive)


def test_number_edges_give_pythons_canonical_forms(grader: Conn) -> None:
    texts = [
        sign + text
        for text in [*EDGE_NUMBERS, "nan" + "1" * 29, "nan" + "0" * 40 + "12", "sNaN1", "-0.00"]
        for sign in ("", "-", "+")
    ]
    cases = [(text, "number", sensitive) for text in texts for sensitive in (False, True)]
    texts_, normalizers, sensitive_ = (list(column) for column in zip(*cases, strict=True))
    rows = grader.execute(NORMALIZE_BATCH, [texts_, normalizers, sensitive_]).fetchall()
    assert [got for (got,) in rows] == [_normalize(*case) for case in cases]


# --- malformed definitions ---------------------------------------------------------------------

ODD_NUMBERS = st.sampled_from(
    [
        "1/3",
        " 0.5 ",
        "1e-1",
        "+.5",
        "1_0/3_0",
        "\u0660.\u0665",
        "abc",
        "1/0",
        "1.",
        ".",
        "1.d",
        "5E+2",
        True,
        None,
        [1],
        {"a": 1},
        -0.25,
        1.75,
        0.1,
        10**20,
    ]
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


def replaced(value: Any, path: tuple[Any, ...], new: Callable[[Any], Any]) -> Any:
    if not path:
        return new(value)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    copy = list(value)
    copy[head] = replaced(value[head], rest, new)
    return copy


MISSING = object()


def without_missing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_missing(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [without_missing(v) for v in value if v is not MISSING]
    return value


def targeted_break(draw: st.DrawFn, question: Question) -> dict[str, Any]:
    """One of the definition faults each rule checks for, on a copy of the definition."""
    broken = copy.deepcopy({"data": question.data, "key": question.key})
    data, key = broken["data"], broken["key"]
    odd = draw(ODD_NUMBERS)
    if question.type in ("multiple_choice", "multiple_select"):
        ids = [o["id"] for o in data["options"]]
        fault = draw(st.sampled_from(["all", "none", "outside", "one", "twice", "partial"]))
        if fault == "all":
            key["options"] = ids
        elif fault == "none":
            key["options" if question.type == "multiple_select" else "option"] = []
        elif fault == "outside":
            key["options"] = [*ids[:1], "zz-not-an-option"]
            key["option"] = "zz-not-an-option"
        elif fault == "one":
            data["options"] = data["options"][:1]
        elif fault == "twice":
            data["options"] = [*data["options"], data["options"][0]]
        else:
            key["partial"] = {draw(st.sampled_from(ids)): odd}
    elif question.type == "fill_blank":
        fault = draw(st.sampled_from(["credit", "empty", "normalize", "answer"]))
        entry = draw(st.sampled_from(key["accepted"]))
        if fault == "credit":
            entry["credit"] = odd
        elif fault == "empty":
            key["accepted"] = draw(st.sampled_from([[], None, "x", {}]))
        elif fault == "normalize":
            data["normalize"] = draw(st.sampled_from(["upper", None, 1, ["text"], "Text"]))
        else:
            entry["answer"] = draw(st.sampled_from([None, 1, ["x"]]))
    elif question.type == "matching":
        stem = draw(st.sampled_from(sorted(key["pairs"])))
        if draw(st.booleans()):
            del key["pairs"][stem]
        else:
            key["pairs"][stem] = "zz-not-a-choice"
    elif question.type == "simulation":
        part = draw(st.sampled_from(data["parts"]))
        fault = draw(st.sampled_from(["weight", "type", "key", "data"]))
        if fault == "weight":
            part["weight"] = draw(st.sampled_from([-1, -0.25, "-1/2", odd]))
        elif fault == "type":
            part["type"] = draw(st.sampled_from(["simulation", "essay", None]))
        elif fault == "key":
            key["parts"][part["id"]] = draw(st.sampled_from([None, [], "x", {}]))
        else:
            part["data"] = draw(st.sampled_from([None, [], "x"]))
    else:
        key["value"] = odd
    return broken


@st.composite
def broken_definitions(draw: st.DrawFn) -> list[dict[str, Any]]:
    case: Case = draw(ANY_CASE)
    question = case.question
    if draw(st.booleans()):
        broken = targeted_break(draw, question)
        qtype = question.type
    else:  # anything, anywhere
        definition = {"data": question.data, "key": question.key}
        where = draw(st.sampled_from(list(paths(definition))[1:]))
        junk = st.one_of(ODD_NUMBERS, JSON, st.just(MISSING), st.sampled_from(["simulation", "x"]))
        replacement = draw(junk)
        broken = without_missing(replaced(definition, where, lambda _: replacement))
        qtype = draw(st.sampled_from([question.type] * 8 + ["simulation", "essay"]))
    data: Any = broken.get("data")  # None where the fault removed it
    key: Any = broken.get("key")
    mutated = Question(qtype, data, key)
    answers = answers_for(draw, question, [case.answer])
    return batch(draw, mutated, answers)


@PROPERTY
@given(items=broken_definitions())
def test_malformed_definitions_are_refused_or_graded_as_the_reference(
    grader: Conn, items: list[dict[str, Any]]
) -> None:
    assert_same(grader, items, malformed_definitions=True)


# --- the real seed bank ------------------------------------------------------------------------


def wrong_answer(qtype: str, data: dict[str, Any], key: dict[str, Any]) -> Any:
    """An answer that is not the key: another option, the other value, a rotated match."""
    right = answer_key(qtype, data, key)
    if qtype == "multiple_choice":
        return {"option": next(o["id"] for o in data["options"] if o["id"] != right["option"])}
    if qtype == "multiple_select":
        return {"options": [o["id"] for o in data["options"] if o["id"] not in right["options"]]}
    if qtype == "true_false":
        return {"value": not right["value"]}
    if qtype == "fill_blank":
        return {"text": "?"}
    if qtype == "matching":
        stems = list(right["pairs"])
        rotated = stems[1:] + stems[:1]
        return {"pairs": {s: right["pairs"][r] for s, r in zip(stems, rotated, strict=True)}}
    parts = {p["id"]: p for p in data["parts"]}
    return {
        "parts": {
            pid: wrong_answer(parts[pid]["type"], parts[pid].get("data", {}), key["parts"][pid])
            for pid in list(parts)[:-1]
        }
    }


def partly_right(qtype: str, data: dict[str, Any], key: dict[str, Any]) -> Any:
    """The key less one piece: a stem, an option or a simulation part (the key otherwise)."""
    right = answer_key(qtype, data, key)
    if qtype == "multiple_select":
        return {"options": right["options"][:-1] or right["options"]}
    if qtype == "matching":
        return {"pairs": dict(list(right["pairs"].items())[1:])}
    if qtype == "simulation":
        return {"parts": dict(list(right["parts"].items())[1:])}
    return right


def test_every_seed_question_scores_full_marks_with_its_key_and_as_python_otherwise(
    grader: Conn,
) -> None:
    questions = load_seed_data().questions
    items = []
    for q in questions:
        question = Question(q["question_type"], q["question_data"], q["correct_answer"])
        key = answer_key(question.type, question.data, question.key)
        items.append(item(question, key, q["points"]))
        items.append(item(question, wrong_answer(question.type, question.data, question.key), 1))
        items.append(item(question, partly_right(question.type, question.data, question.key), 3))
    outcomes = assert_same(grader, items)
    keyed = outcomes[0::3]
    assert len(keyed) == len(questions) == 251
    for q, outcome in zip(questions, keyed, strict=True):
        assert outcome == Outcome(
            skipped=False, correct=True, fraction=Fraction(1), points=Decimal(q["points"])
        ), q["key"]
    assert all(o.error is None and o.fraction == 0 for o in outcomes[1::3])
    partial = [o for o in outcomes[2::3] if o.fraction is not None and 0 < o.fraction < 1]
    assert len(partial) > 40


# --- hand-written rules ------------------------------------------------------------------------

MC = {"options": [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]}
SIM_DATA = {
    "parts": [
        {"id": "p1", "type": "true_false", "weight": 3},
        {"id": "p2", "type": "fill_blank", "weight": 1, "data": {"normalize": "ports"}},
        {"id": "p3", "type": "multiple_choice", "weight": 0.5, "data": MC},
    ]
}
SIM_KEY = {
    "parts": {
        "p1": {"value": True},
        "p2": {"accepted": [{"answer": "20-21"}]},
        "p3": {"option": "b", "partial": {"c": 0.5}},
    }
}


def fb(normalize: str, *accepted: str | tuple[str, Any], **data: Any) -> Question:
    entries = [
        {"answer": a} if isinstance(a, str) else {"answer": a[0], "credit": a[1]} for a in accepted
    ]
    return Question("fill_blank", {"normalize": normalize, **data}, {"accepted": entries})


# (question, answer, points, expected fraction or error field, expected points)
RULES: list[tuple[Question, Any, int, Fraction | str, str | None]] = [
    # half cents round up, exactly: 5/24 x 3 = 0.625
    (
        Question(
            "matching",
            {
                "stems": [{"id": str(i)} for i in range(8)],
                "choices": [{"id": "x"}, {"id": "y"}],
            },
            {"pairs": {str(i): "x" for i in range(8)}},
        ),
        {"pairs": {str(i): "x" for i in range(5)}},
        1,
        Fraction(5, 8),
        "0.63",
    ),
    (
        Question("multiple_choice", MC, {"option": "a", "partial": {"b": 0.125}}),
        {"option": "b"},
        2,
        Fraction(1, 8),
        "0.25",
    ),
    (
        Question("multiple_choice", MC, {"option": "a", "partial": {"b": "1/3"}}),
        {"option": "b"},
        1,
        Fraction(1, 3),
        "0.33",
    ),
    (
        Question("multiple_choice", MC, {"option": "a", "partial": {"b": 0.005}}),
        {"option": "b"},
        1,
        Fraction(1, 200),
        "0.01",
    ),
    (
        Question("multiple_choice", MC, {"option": "a", "partial": {"b": 1.5, "c": -1}}),
        {"option": "c"},
        1,
        Fraction(0),
        "0.00",
    ),
    (
        Question("multiple_choice", MC, {"option": "a", "partial": {"b": 1.5}}),
        {"option": "b"},
        4,
        Fraction(1),
        "4.00",
    ),
    # multiple_select: +1/k per right option, -1/(n-k) per distractor, floor 0
    (
        Question("multiple_select", MC, {"options": ["a", "b"]}),
        {"options": ["a", "c"]},
        1,
        Fraction(0),
        "0.00",
    ),
    (
        Question("multiple_select", MC, {"options": ["a", "b", "c"]}),
        {"options": ["a", "b"]},
        3,
        Fraction(2, 3),
        "2.00",
    ),
    (
        Question("multiple_select", MC, {"options": ["a", "b", "c"]}),
        {"options": ["a", "b", "c", "d"]},
        1,
        Fraction(0),
        "0.00",
    ),
    (
        Question("multiple_select", MC, {"options": ["a", "b"]}),
        {"options": ["a", "b", "c"]},
        1,
        Fraction(1, 2),
        "0.50",
    ),
    (
        Question("multiple_select", {**MC, "all_or_nothing": True}, {"options": ["a", "b"]}),
        {"options": ["a"]},
        1,
        Fraction(0),
        "0.00",
    ),
    (
        Question("multiple_select", MC, {"options": ["a"]}),
        {"options": ["a", "a"]},
        1,
        "user_answer.options",
        None,
    ),
    # fill_blank: wildcards anchored at both ends
    (fb("text", "ab*"), {"text": "xabc"}, 1, Fraction(0), "0.00"),
    (fb("text", "ab*"), {"text": "AB"}, 1, Fraction(1), "1.00"),
    (fb("text", "*b"), {"text": "abc"}, 1, Fraction(0), "0.00"),
    (fb("text", "a*c", case_sensitive=True), {"text": "A-c"}, 1, Fraction(0), "0.00"),
    (fb("text", "a%_c"), {"text": "a%_c"}, 1, Fraction(1), "1.00"),
    (fb("text", "a%_c*"), {"text": "abxc"}, 1, Fraction(0), "0.00"),
    (fb("text", "Straße"), {"text": "STRASSE"}, 1, Fraction(1), "1.00"),
    (fb("text", "x"), {"text": " \u3000\t "}, 1, "skipped", "0.00"),
    (fb("text", "x*"), {"text": "x" * 1000}, 1, Fraction(1), "1.00"),
    (fb("text", "x"), {"text": "x" * 1001}, 1, "user_answer.text", None),
    # first match wins, with its credit
    (fb("text", ("http*", 0.5), "https"), {"text": "https"}, 2, Fraction(1, 2), "1.00"),
    # canonical forms
    (fb("ipv6", "2001:db8::1"), {"text": "2001:0DB8:0:0:0:0:0:0001"}, 1, Fraction(1), "1.00"),
    (fb("ipv6", "::ffff:c000:280"), {"text": "::FFFF:192.0.2.128"}, 1, Fraction(1), "1.00"),
    (fb("ipv6", "1:0:0:2::3"), {"text": "1::2:0:0:3"}, 1, Fraction(0), "0.00"),
    (fb("ipv6", "fe80::1%eth0"), {"text": "FE80::1%ETH0"}, 1, Fraction(1), "1.00"),
    # cidr is a network: host bits set are wrong, however the mask is written
    (fb("cidr", "192.168.1.0/24"), {"text": "192.168.1.0 / 24"}, 1, Fraction(1), "1.00"),
    (fb("cidr", "192.168.1.0/24"), {"text": "192.168.1.77 / 24"}, 1, Fraction(0), "0.00"),
    (fb("cidr", "192.168.1.0/24"), {"text": "192.168.1.0/255.255.255.0"}, 1, Fraction(1), "1.00"),
    (fb("cidr", "192.168.1.0/24"), {"text": "192.168.1.7/255.255.255.0"}, 1, Fraction(0), "0.00"),
    (fb("cidr", "192.168.0.0/16"), {"text": "192.168.0.0/0.0.255.255"}, 1, Fraction(1), "1.00"),
    (fb("cidr", "2001:db8::/32"), {"text": "2001:DB8:0:0::/32"}, 1, Fraction(1), "1.00"),
    (fb("cidr", "2001:db8::/32"), {"text": "2001:DB8:0:0:1::/32"}, 1, Fraction(0), "0.00"),
    (fb("cidr", "0.0.0.0/0"), {"text": "8.8.8.8/0"}, 1, Fraction(0), "0.00"),
    (fb("cidr", "10.1.0.0/22"), {"text": "10.1.2.77/22"}, 1, Fraction(0), "0.00"),
    (fb("cidr", "172.16.32.0/20"), {"text": "172.16.47.255/20"}, 1, Fraction(0), "0.00"),
    (fb("cidr", "192.168.50.128/26"), {"text": "192.168.50.130/26"}, 1, Fraction(0), "0.00"),
    (fb("cidr", "10.1.0.0/22"), {"text": "10.1.0.0"}, 1, Fraction(0), "0.00"),
    # ports with protocol words
    (fb("ports", "3389"), {"text": "TCP 3389"}, 1, Fraction(1), "1.00"),
    (fb("ports", "3389"), {"text": "3389/tcp"}, 1, Fraction(1), "1.00"),
    (fb("ports", "3389"), {"text": "port 3389"}, 1, Fraction(1), "1.00"),
    (fb("ports", "1812"), {"text": "UDP 1812"}, 1, Fraction(1), "1.00"),
    (fb("ports", "20,21"), {"text": "TCP ports 20 and 21"}, 1, Fraction(1), "1.00"),
    (fb("ports", "3389"), {"text": "tcp"}, 1, Fraction(0), "0.00"),
    (fb("ports", "3389"), {"text": "tcp3389"}, 1, Fraction(0), "0.00"),
    # numbers with the question's units
    (fb("number", "4", units=["bytes", "byte", "B"]), {"text": "4 bytes"}, 1, Fraction(1), "1.00"),
    (fb("number", "6", units=["GHz"]), {"text": "6GHz"}, 1, Fraction(1), "1.00"),
    (fb("number", "6", units=["GHz"]), {"text": "6 MHz"}, 1, Fraction(0), "0.00"),
    (fb("number", "2", units=["layer"]), {"text": "Layer 2"}, 1, Fraction(1), "1.00"),
    (fb("number", "3", units=["option"]), {"text": "option 3"}, 1, Fraction(1), "1.00"),
    (fb("number", "100", units=["m", "meters"]), {"text": "100 meters"}, 1, Fraction(1), "1.00"),
    (fb("number", "100"), {"text": "100 m"}, 1, Fraction(0), "0.00"),
    # MAC addresses
    (fb("mac", "00:1a:2b:3c:4d:5e"), {"text": "001A.2B3C.4D5E"}, 1, Fraction(1), "1.00"),
    (fb("mac", "00-1A-2B-3C-4D-5E"), {"text": "001a2b3c4d5e"}, 1, Fraction(1), "1.00"),
    (fb("mac", "00:1a:2b:3c:4d:5e"), {"text": "00:1a:2b:3c:4d:5f"}, 1, Fraction(0), "0.00"),
    # terms: hyphens, articles, expansion (abbreviation)
    (
        fb("term", "IPAM", "IP address management"),
        {"text": "IP Address Management (IPAM)"},
        1,
        Fraction(1),
        "1.00",
    ),
    (fb("term", "IPAM", "IP address management"), {"text": "IPAM (DHCP)"}, 1, Fraction(0), "0.00"),
    (fb("term", "MAC address table"), {"text": "the MAC address-table"}, 1, Fraction(1), "1.00"),
    (
        fb("term", ("PCI", 0.5), "PCI DSS", "payment card industry data security standard"),
        {"text": "PCI (Payment Card Industry Data Security Standard)"},
        2,
        Fraction(1, 2),
        "1.00",
    ),
    (fb("term", "zero-trust*"), {"text": "Zero Trust architecture"}, 1, Fraction(1), "1.00"),
    (fb("cidr", "10.0.0.0/8"), {"text": "10.0.0.0/33"}, 1, Fraction(0), "0.00"),
    (fb("ipv4", "10.0.0.1"), {"text": "010.0.0.1"}, 1, Fraction(0), "0.00"),
    (fb("ports", "20,21,443"), {"text": "443 and 21/20"}, 1, Fraction(1), "1.00"),
    (fb("ports", "20-22"), {"text": "22, 21, 20"}, 1, Fraction(1), "1.00"),
    (fb("ports", "20-22"), {"text": "20-21"}, 1, Fraction(0), "0.00"),
    (fb("ports", "22"), {"text": "65536"}, 1, Fraction(0), "0.00"),
    (fb("ports", ("2*", 0.5)), {"text": "20-21"}, 1, Fraction(1, 2), "0.50"),
    (fb("number", "1500"), {"text": "1,500.00"}, 1, Fraction(1), "1.00"),
    (fb("number", "1500"), {"text": "1.5e3"}, 1, Fraction(1), "1.00"),
    (fb("number", "1.5E+3"), {"text": "\u0661\u0665\u0660\u0660"}, 1, Fraction(1), "1.00"),
    (fb("number", "0"), {"text": "-0"}, 1, Fraction(0), "0.00"),
    (fb("number", "1"), {"text": "1e1000000"}, 1, Fraction(0), "0.00"),
    # simulation: weighted mean, a missing or {} part scores 0, unknown parts refused
    (
        Question("simulation", SIM_DATA, SIM_KEY),
        {"parts": {"p1": {"value": True}, "p2": {"text": "21, 20"}, "p3": {"option": "c"}}},
        9,
        Fraction(17, 18),
        "8.50",
    ),
    (
        Question("simulation", SIM_DATA, SIM_KEY),
        {"parts": {"p1": {"value": True}, "p2": {}}},
        9,
        Fraction(2, 3),
        "6.00",
    ),
    (
        Question("simulation", SIM_DATA, SIM_KEY),
        {"parts": {"p3": {"option": "c"}, "p2": None}},
        9,
        Fraction(1, 18),
        "0.50",
    ),
    (
        Question("simulation", SIM_DATA, SIM_KEY),
        {"parts": {"p1": {"value": True}, "p9": {"value": True}}},
        1,
        "user_answer.parts",
        None,
    ),
    (
        Question("simulation", SIM_DATA, SIM_KEY),
        {"parts": {"p2": {"text": ["20"]}}},
        1,
        "user_answer.parts.p2.text",
        None,
    ),
    (
        Question("simulation", SIM_DATA, SIM_KEY),
        {"parts": {"p3": {"option": "z"}}},
        1,
        "user_answer.parts.p3.option",
        None,
    ),
    (
        Question("true_false", {}, {"value": False}),
        {"value": "false"},
        1,
        "user_answer.value",
        None,
    ),
    (Question("true_false", {}, {"value": False}), ["x"], 1, "user_answer", None),
]


@pytest.mark.parametrize(("question", "answer", "points", "expected", "earned"), RULES)
def test_rule(
    grader: Conn,
    question: Question,
    answer: Any,
    points: int,
    expected: Fraction | str,
    earned: str | None,
) -> None:
    (outcome,) = assert_same(grader, [item(question, answer, points)])
    if expected == "skipped":
        assert outcome.skipped
    elif isinstance(expected, str):
        assert outcome.error == "22023"
        assert outcome.field == expected
        assert outcome.message is not None and outcome.message.startswith(expected + ": ")
        return
    else:
        assert outcome.fraction == expected
        assert outcome.correct == (expected == 1)
    assert outcome.points == Decimal(earned or "0")


def test_long_option_lists_grade_as_the_reference(grader: Conn) -> None:
    ids = [f"o{i}" for i in range(60)]
    options = {"options": [{"id": i} for i in ids], "all_or_nothing": False}
    question = Question("multiple_select", options, {"options": ids[:45]})
    answers: list[Any] = [
        {"options": ids[:40]},
        {"options": ids[10:50]},
        {"options": ids},
        {"options": [*ids[:40], "o3"]},
        {"options": [*ids[:40], "zz", "o1", "yy"]},
        {"options": [*ids[:40], 7]},
        {"options": ids[:5] * 2000},
        {"options": [f"x{i}" for i in range(5000)]},
    ]
    outcomes = assert_same(grader, [item(question, a, 5) for a in answers])
    assert outcomes[0].fraction == Fraction(40, 45)
    assert [o.field for o in outcomes[3:]] == ["user_answer.options"] * 5


def test_sql_null_answer_is_skipped_and_a_bad_definition_is_np001(grader: Conn) -> None:
    row = grader.execute(
        "SELECT (g).* FROM (SELECT grade_answer('true_false', '{}', '{\"value\": true}', NULL, 3)"
        " AS g) AS s"
    ).fetchone()
    assert row == (True, False, 0, 1, Decimal("0.00"))
    for qtype, data in [("essay", {}), ("fill_blank", {"normalize": "upper"})]:
        with pytest.raises(psycopg.Error) as caught, grader.transaction():
            grader.execute(
                'SELECT grade_answer(%s, %s, \'{"accepted": [{"answer": "x"}]}\','
                ' \'{"text": "x"}\', 1)',
                [qtype, Jsonb(data)],
            )
        assert caught.value.sqlstate == "NP001"


# --- the Unicode tables the grader carries -----------------------------------------------------


def test_casefold_white_space_and_digit_tables_are_pythons(grader: Conn) -> None:
    folding = [chr(c) for c in range(0x110000) if chr(c).casefold() != chr(c)]
    sample = [*folding, "\u01c5a", "\u03a3\u0391\u03a3", "\u0130stanbul", "\ufb03x", "\u01f0\u0301"]
    got = grader.execute(
        "SELECT array_agg(grading_casefold(t) ORDER BY n)"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n)",
        [sample],
    ).fetchone()
    assert got is not None and got[0] == [t.casefold() for t in sample]
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    blanks = grader.execute(
        "SELECT array_agg(grading_normalize('a' || s || 'b', 'text', true) ORDER BY n)"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS u(s, n)",
        [[s for s in spaces if s != "\x00"] + ["\u200b"]],
    ).fetchone()
    assert blanks is not None and blanks[0] == ["a b"] * len(spaces) + ["a\u200bb"]
    decimal_digits = "".join(chr(c) for c in range(0x80, 0x110000) if chr(c).isdecimal())
    ascii_digits = grader.execute("SELECT grading_ascii_digits(%s)", [decimal_digits]).fetchone()
    assert ascii_digits is not None
    assert ascii_digits[0] == "".join(str(unicodedata.decimal(c)) for c in decimal_digits)


# --- catalog: pinned, immutable, for the owner only --------------------------------------------


def test_the_grader_functions_pin_search_path_and_are_not_executable_by_public(
    grader: Conn,
) -> None:
    rows = grader.execute(
        """
        SELECT p.proname, p.provolatile, p.proparallel, p.prosecdef, p.proconfig,
               has_function_privilege('public', p.oid, 'EXECUTE')
               OR has_function_privilege('app_user', p.oid, 'EXECUTE')
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND (p.proname LIKE 'grading\\_%' OR p.proname = 'grade_answer')
        """
    ).fetchall()
    assert len(rows) > 20
    assert "grade_answer" in {r[0] for r in rows}
    for name, volatility, parallel, definer, config, public in rows:
        assert (volatility, parallel, definer) == ("i", "s", False), name
        assert config == ["search_path=pg_catalog, public"], name
        assert not public, name


# --- the bank's own questions as a learner answered them (issue: right answers scored 0,
# wrong ones accepted, partial credit for the classic mistake) -------------------------------

# (question key, simulation part or None, answer typed, expected fraction)
LEARNER_ANSWERS: list[tuple[str, str | None, str, Fraction]] = [
    ("3.4-sim-dns-records", "p1", "AAAA record", Fraction(1)),
    ("3.5-clientless-vpn", None, "clientless SSL VPN", Fraction(1)),
    ("4.2-mac-flooding-table", None, "MAC address-table", Fraction(1)),
    ("4.2-mac-flooding-table", None, "CAM tables", Fraction(1)),
    ("4.2-mac-flooding-table", None, "MAC address", Fraction(0)),
    ("1.2-ttl-field", None, "TTL field", Fraction(1)),
    ("3.1-ipam", None, "IP Address Management (IPAM)", Fraction(1)),
    ("1.4-rdp-port", None, "TCP 3389", Fraction(1)),
    ("1.4-rdp-port", None, "3389/tcp", Fraction(1)),
    ("1.4-rdp-port", None, "port 3389", Fraction(1)),
    ("1.4-ftp-ports", None, "TCP 20 and 21", Fraction(1)),
    ("1.4-sip-ports", None, "5060/udp, 5061/tcp", Fraction(1)),
    ("3.4-dot-port", None, "TCP 853", Fraction(1)),
    ("4.1-radius-port", None, "UDP 1812", Fraction(1)),
    ("3.2-sim-branch-monitoring", "p3", "UDP 514", Fraction(1)),
    ("2.2-dot1q-tag-size", None, "4 bytes", Fraction(1)),
    ("2.3-wifi6e-band", None, "6 GHz", Fraction(1)),
    ("2.3-wifi6e-band", None, "6 MHz", Fraction(0)),
    ("1.5-copper-distance", None, "100 m", Fraction(1)),
    ("1.1-switch-layer-number", None, "Layer 2", Fraction(1)),
    ("3.4-dhcp-option-router", None, "option 3", Fraction(1)),
    ("5.3-default-route-cidr", None, "8.8.8.8/0", Fraction(0)),
    ("5.3-default-route-cidr", None, "0.0.0.0/0", Fraction(1)),
    ("1.7-summarize", None, "10.1.2.77/22", Fraction(0)),
    ("1.7-summarize", None, "10.1.0.0/255.255.252.0", Fraction(1)),
    ("1.7-subnet-count", "p3", "172.16.47.255/20", Fraction(0)),
    ("1.7-vlsm-design", "p2", "192.168.50.130/26", Fraction(0)),
    ("1.7-vlsm-design", "p2", "192.168.50.128/26", Fraction(1)),
    ("1.7-usable-hosts-28", None, "16", Fraction(0)),
    ("1.7-usable-hosts-28", None, "14 hosts", Fraction(1)),
    ("5.5-ipv6-loopback", None, "0:0:0:0:0:0:0:1", Fraction(1)),
    ("5.3-sim-ipv6-slaac", "p2", "2001:DB8:40:1:0:0:0:0/64", Fraction(1)),
    ("5.3-sim-ipv6-slaac", "p2", "2001:db8:40:1::1/64", Fraction(0)),
]


def test_the_banks_questions_grade_what_learners_type(grader: Conn) -> None:
    bank = {q["key"]: q for q in load_seed_data().questions}
    items = []
    for key, part, typed, _ in LEARNER_ANSWERS:
        q = bank[key]
        if part is None:
            question = Question(q["question_type"], q["question_data"], q["correct_answer"])
        else:
            spec = next(p for p in q["question_data"]["parts"] if p["id"] == part)
            question = Question(
                spec["type"], spec.get("data", {}), q["correct_answer"]["parts"][part]
            )
        items.append(item(question, {"text": typed}, 1))
    outcomes = assert_same(grader, items)  # SQL and Python agree...
    got = [o.fraction for o in outcomes]
    assert got == [expected for *_, expected in LEARNER_ANSWERS]  # ...and are right
