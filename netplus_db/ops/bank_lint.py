"""The question bank's linter (`netplus-db seed lint`): what a learner would trip over.

Checks, each a finding naming the question key (and part):
  * duplicate / near_duplicate: two items (questions, or simulation parts) whose stem and key
    read alike (difflib similarity of the texts, or the overlap of their content words);
  * longest_key: the keyed option of multiple-choice items is the longest too often
    (a test-wise learner picks the longest option): rate over the bank <= 30 %;
  * true_false_balance: the share of true/false items keyed True within 40-60 %;
  * echo: two or more of the answer's content words (and at least half of them) are given
    away by the stem or a hint while no distractor has them;
  * coverage: every objective of the blueprint has items, at least one advanced, of at least
    two question types;
  * domain_share: each domain's share of the bank within 3 points of its blueprint weight;
  * simulations: every domain has performance-based (simulation) items;
  * fill_blank_variants: every accepted answer of a fill-blank key earns its own credit, and
    the usual spellings of the full-credit key (a protocol word before a port, the unit after
    a number, upper case, a hyphen for a space...) earn full credit.
The figures (rates, shares, counts) come with the findings, for the README and CI.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from netplus_db.grading import grade
from netplus_db.ops.seed import SeedData

LONGEST_KEY_MAX = 0.30
TRUE_SHARE = (0.40, 0.60)
SHARE_TOLERANCE = 3.0  # percentage points
DUPLICATE_RATIO = 0.97
NEAR_RATIO = 0.80  # difflib ratio of stem + key
NEAR_WORDS = 0.45  # overlap of content words (Jaccard) of stem + key
NEAR_WORDS_SAME_KEY = (0.30, 0.75)  # Jaccard and containment, when the keys share a word
ECHO_SHARE = 0.5  # share of the key's content words found in the stem or hints

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "by",
        "with",
        "from",
        "at",
        "as",
        "is",
        "are",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "which",
        "what",
        "when",
        "where",
        "who",
        "whom",
        "how",
        "why",
        "does",
        "do",
        "did",
        "not",
        "no",
        "can",
        "could",
        "would",
        "should",
        "may",
        "might",
        "must",
        "will",
        "shall",
        "than",
        "then",
        "there",
        "their",
        "they",
        "them",
        "one",
        "two",
        "each",
        "every",
        "any",
        "all",
        "some",
        "most",
        "more",
        "such",
        "into",
        "over",
        "under",
        "between",
        "through",
        "only",
        "also",
        "same",
        "other",
        "both",
        "either",
        "neither",
        "use",
        "uses",
        "used",
        "using",
        "your",
        "you",
        "our",
        "we",
        "he",
        "she",
        "his",
        "her",
        "him",
        "network",
        "networks",
        "device",
        "devices",
    ]
)


@dataclass(frozen=True)
class Finding:
    """One problem of the bank, on one question (or on the bank as a whole: key None)."""

    check: str
    key: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """For the JSON document."""
        return {"check": self.check, "key": self.key, "message": self.message}


@dataclass
class LintReport:
    """The findings and the bank's figures."""

    findings: list[Finding] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """No finding."""
        return not self.findings

    def add(self, check: str, key: str | None, message: str) -> None:
        """Record a finding."""
        self.findings.append(Finding(check, key, message))


def lint_bank(data: SeedData) -> LintReport:
    """Lint the question bank of loaded seed data against its blueprint."""
    report = LintReport()
    questions = data.questions
    report.figures["questions"] = len(questions)
    report.figures["by_type"] = dict(sorted(Counter(q["question_type"] for q in questions).items()))
    _duplicates(questions, report)
    _longest_key(questions, report)
    _true_false_balance(questions, report)
    _echo(questions, report)
    _coverage(questions, data.blueprint, report)
    _domain_shares(questions, data.blueprint, report)
    _fill_blank_variants(questions, report)
    return report


# --- items: questions and simulation parts ---------------------------------------------------


@dataclass(frozen=True)
class _Item:
    label: str  # key, or key + " " + part id
    question: str  # the question's key
    type: str
    stem: str
    data: Mapping[str, Any]
    key: Mapping[str, Any]
    hints: tuple[str, ...]


def _items(questions: list[dict[str, Any]]) -> Iterator[_Item]:
    for q in questions:
        hints = tuple(h for h in q.get("hints") or [] if isinstance(h, str))
        if q["question_type"] == "simulation":
            keys = q["correct_answer"].get("parts", {})
            for part in q["question_data"].get("parts", []):
                yield _Item(
                    f"{q['key']} {part['id']}",
                    q["key"],
                    part["type"],
                    str(part.get("prompt", "")),
                    part.get("data", {}),
                    keys.get(part["id"], {}),
                    hints,
                )
        else:
            yield _Item(
                q["key"],
                q["key"],
                q["question_type"],
                q["question_text"],
                q["question_data"],
                q["correct_answer"],
                hints,
            )


def _key_text(item: _Item) -> str:
    """The text of the right answer: the keyed option(s), the first accepted answer, the pairs."""
    options = {o["id"]: o.get("text", "") for o in item.data.get("options", [])}
    if item.type == "multiple_choice":
        return str(options.get(item.key.get("option"), ""))
    if item.type == "multiple_select":
        return " ".join(str(options.get(o, "")) for o in item.key.get("options", []))
    if item.type == "true_false":
        return str(item.key.get("value"))
    if item.type == "fill_blank":
        accepted = item.key.get("accepted") or [{}]
        return str(accepted[0].get("answer", ""))
    if item.type == "matching":
        stems = {s["id"]: s.get("text", "") for s in item.data.get("stems", [])}
        choices = {c["id"]: c.get("text", "") for c in item.data.get("choices", [])}
        return " ".join(
            f"{stems.get(s, '')} {choices.get(c, '')}" for s, c in item.key.get("pairs", {}).items()
        )
    return ""


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9][a-z0-9.+-]*[a-z0-9]|[a-z0-9]", text.lower())]


def _roots(text: str) -> set[str]:
    """Content words cut to five letters, so that plural and verb forms meet."""
    return {w[:5] for w in _words(text) if w not in STOP_WORDS and len(w) >= 3}


def _word_roots(text: str) -> set[str]:
    """Roots of the words of letters only (an address or a number is no give-away word)."""
    return {w[:5] for w in _words(text) if w.isalpha() and w not in STOP_WORDS and len(w) >= 4}


def _flat(text: str) -> str:
    return " ".join(_words(text))


# --- the checks --------------------------------------------------------------------------------


def _duplicates(questions: list[dict[str, Any]], report: LintReport) -> None:
    items = list(_items(questions))
    scenario = {q["key"]: q["question_text"] for q in questions}
    # a simulation part is read with its scenario: a question may copy both
    stems = [(scenario[i.question] + " " + i.stem) if " " in i.label else i.stem for i in items]
    texts = [_flat(stem + " " + _key_text(i)) for stem, i in zip(stems, items, strict=True)]
    roots = [_roots(stem) | _roots(_key_text(i)) for stem, i in zip(stems, items, strict=True)]
    key_roots = [_roots(_key_text(i)) | {_flat(_key_text(i))} for i in items]
    duplicates = near = 0
    reported: set[tuple[str, str]] = set()
    for a, b in itertools.combinations(range(len(items)), 2):
        pair_keys = (items[a].question, items[b].question)
        if pair_keys[0] == pair_keys[1] or pair_keys in reported:
            continue
        shared = len(roots[a] & roots[b])
        smaller = min(len(roots[a]), len(roots[b]))
        jaccard = shared / len(roots[a] | roots[b]) if shared else 0.0
        containment = shared / smaller if smaller else 0.0
        ratio = 0.0
        if jaccard >= NEAR_WORDS_SAME_KEY[0]:  # texts that share few words are not alike
            matcher = difflib.SequenceMatcher(None, texts[a], texts[b], autojunk=False)
            if matcher.real_quick_ratio() >= NEAR_RATIO and matcher.quick_ratio() >= NEAR_RATIO:
                ratio = matcher.ratio()
        same_key = bool(key_roots[a] & key_roots[b])
        pair = f"{items[a].label} / {items[b].label}"
        if ratio >= DUPLICATE_RATIO:
            duplicates += 1
            reported.add(pair_keys)
            report.add("duplicate", items[b].question, f"{pair}: the same question and key")
        elif (
            ratio >= NEAR_RATIO
            or jaccard >= NEAR_WORDS
            or (
                same_key
                and jaccard >= NEAR_WORDS_SAME_KEY[0]
                and containment >= NEAR_WORDS_SAME_KEY[1]
            )
        ):
            near += 1
            reported.add(pair_keys)
            report.add(
                "near_duplicate",
                items[b].question,
                f"{pair}: near-duplicates (text similarity {ratio:.2f}, shared words "
                f"{jaccard:.2f}, {containment:.2f} of the shorter); vary one or remove it",
            )
    report.figures["duplicates"] = duplicates
    report.figures["near_duplicates"] = near


def _longest_key(questions: list[dict[str, Any]], report: LintReport) -> None:
    longest = []
    total = 0
    for q in questions:
        if q["question_type"] != "multiple_choice":
            continue
        total += 1
        options = q["question_data"]["options"]
        key = q["correct_answer"]["option"]
        lengths = sorted((len(o["text"]), o["id"]) for o in options)
        if lengths[-1][1] == key and (len(lengths) < 2 or lengths[-2][0] < lengths[-1][0]):
            longest.append(q["key"])
    rate = len(longest) / total if total else 0.0
    report.figures["longest_key"] = {
        "items": total,
        "longest": len(longest),
        "rate": round(rate, 3),
    }
    if rate > LONGEST_KEY_MAX:
        report.add(
            "longest_key",
            None,
            f"the keyed option is the longest in {len(longest)} of {total} multiple-choice "
            f"items ({rate:.0%}, at most {LONGEST_KEY_MAX:.0%}): {', '.join(longest)}",
        )


def _true_false_balance(questions: list[dict[str, Any]], report: LintReport) -> None:
    values = [q["correct_answer"]["value"] for q in questions if q["question_type"] == "true_false"]
    true = sum(1 for v in values if v)
    share = true / len(values) if values else 0.5
    report.figures["true_false"] = {
        "items": len(values),
        "true": true,
        "true_share": round(share, 3),
    }
    low, high = TRUE_SHARE
    if not low <= share <= high:
        report.add(
            "true_false_balance",
            None,
            f"{true} of {len(values)} true/false items are keyed True ({share:.0%}; "
            f"{low:.0%}-{high:.0%} expected)",
        )


def _echo(questions: list[dict[str, Any]], report: LintReport) -> None:
    """The answer's content words given away by the stem or a hint (and by no distractor)."""
    flagged = 0
    for item in _items(questions):
        if item.type not in ("multiple_choice", "fill_blank"):
            continue
        key_roots = _word_roots(_key_text(item))
        if item.type == "multiple_choice":
            others = set().union(
                *(
                    _word_roots(o.get("text", ""))
                    for o in item.data.get("options", [])
                    if o["id"] != item.key.get("option")
                )
            )
            key_roots -= others
        if not key_roots:
            continue
        given = _word_roots(item.stem + " " + " ".join(item.hints))
        echoed = key_roots & given
        if len(echoed) >= 2 and len(echoed) / len(key_roots) >= ECHO_SHARE:
            flagged += 1
            report.add(
                "echo",
                item.question,
                f"{item.label}: the answer's words ({', '.join(sorted(echoed))}...) appear in "
                "the stem or a hint and in no distractor",
            )
    report.figures["echo"] = flagged


def _coverage(
    questions: list[dict[str, Any]], blueprint: Mapping[str, Any], report: LintReport
) -> None:
    by_objective: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in questions:
        by_objective[q["subdomain"]].append(q)
    table = {}
    for domain in blueprint["domains"]:
        for objective in domain["objectives"]:
            code = objective["code"]
            items = by_objective.get(code, [])
            types = Counter(q["question_type"] for q in items)
            levels = Counter(q["difficulty_level"] for q in items)
            table[code] = {"items": len(items), "types": dict(types), "levels": dict(levels)}
            if not items:
                report.add("coverage", None, f"objective {code} has no question")
                continue
            if not levels.get("advanced"):
                report.add("coverage", None, f"objective {code} has no advanced item")
            if len(types) < 2:
                report.add("coverage", None, f"objective {code} has only {', '.join(types)} items")
    report.figures["coverage"] = table


def _domain_shares(
    questions: list[dict[str, Any]], blueprint: Mapping[str, Any], report: LintReport
) -> None:
    counts = Counter(q["domain"] for q in questions)
    simulations = Counter(q["domain"] for q in questions if q["question_type"] == "simulation")
    total = len(questions)
    shares = {}
    for domain in blueprint["domains"]:
        code, weight = domain["code"], float(domain["weight"])
        share = 100 * counts[code] / total if total else 0.0
        shares[code] = {
            "items": counts[code],
            "share": round(share, 1),
            "weight": weight,
            "simulations": simulations[code],
        }
        if abs(share - weight) > SHARE_TOLERANCE:
            report.add(
                "domain_share",
                None,
                f"domain {code} holds {share:.1f} % of the bank ({counts[code]} of {total}); "
                f"its blueprint weight is {weight:g} % "
                f"(within {SHARE_TOLERANCE:g} points expected)",
            )
        if simulations[code] < 2:
            report.add(
                "simulations",
                None,
                f"domain {code} has {simulations[code]} simulation item(s); at least 2 expected",
            )
    report.figures["domain_shares"] = shares


def _variants(kind: str, answer: str, data: Mapping[str, Any]) -> list[str]:
    """Spellings of a full-credit answer that a learner may type and must get credit for."""
    if kind == "ports":
        return [f"TCP {answer}", f"{answer}/udp", f"port {answer}", answer.replace(",", " and ")]
    if kind == "number":
        units = [u for u in data.get("units", []) if isinstance(u, str) and u.strip()]
        return [f"{answer} {u}" for u in units] + [f"{u} {answer}" for u in units]
    if kind in ("ipv4", "ipv6", "cidr", "mac"):
        return [answer.upper(), f" {answer} "]
    if kind == "term":
        return [answer.upper(), answer.replace(" ", "-"), f"the {answer}"]
    return [answer.upper(), f"  {answer}  "]


def _fill_blank_variants(questions: list[dict[str, Any]], report: LintReport) -> None:
    checked = 0
    for item in _items(questions):
        if item.type != "fill_blank":
            continue
        kind = str(item.data.get("normalize", "text"))
        accepted = item.key.get("accepted", [])
        for entry in accepted:
            answer = entry.get("answer", "")
            if "*" in answer:
                continue
            credit = Fraction(str(entry.get("credit", 1)))
            checked += 1
            got = grade("fill_blank", item.data, item.key, {"text": answer}).fraction
            if got != credit:
                report.add(
                    "fill_blank_variants",
                    item.question,
                    f"{item.label}: accepted answer {answer!r} earns {got}, not its credit "
                    f"{credit} (an earlier entry matches it first)",
                )
            if credit != 1:
                continue
            if kind in ("text", "term") and re.fullmatch(r"[0-9][0-9,\s/-]*", answer.strip()):
                report.add(
                    "fill_blank_variants",
                    item.question,
                    f"{item.label}: the key {answer!r} is a number or port list read as "
                    f"{kind}; declare normalize number (with units) or ports, so that spellings "
                    "such as '1,500' or 'TCP 514' are read",
                )
            for variant in _variants(kind, answer, item.data):
                checked += 1
                got = grade("fill_blank", item.data, item.key, {"text": variant}).fraction
                if got != 1:
                    report.add(
                        "fill_blank_variants",
                        item.question,
                        f"{item.label}: {variant!r}, a spelling of the key {answer!r}, earns {got}",
                    )
    report.figures["fill_blank_spellings_checked"] = checked
