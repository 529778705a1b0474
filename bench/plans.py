"""Plan checks of every hot-path statement, nested ones included (function bodies).

Each query class's library call runs once on pools whose connections load `auto_explain`
with `log_min_duration = 0`, nested statements on, JSON format and `log_level = notice`, so
that the plan of every statement the call executes (the functions' own statements too:
`get_user_dashboard_summary`, `find_login_candidate`, `update_learning_streak`...) reaches the
client as a notice. No timing is taken from it (`log_analyze` stays off: plain EXPLAIN plans).

At scale the check is: no sequential scan on a large table (`large_rows` planner rows or
more). With `force_index=True` (`enable_seqscan = off`, the small-scale test) it is that the
planner can use the intended index of each class (`EXPECTED`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from random import Random
from typing import Any

import psycopg
from psycopg import sql

from bench.query_classes import CLASSES, Context, QueryClass
from bench.sql import bench_sql
from netplus_db.config import Target
from netplus_db.connection import connect
from netplus_db.database import Database

# The index(es) each class is meant to use; an inner tuple lists alternatives.
EXPECTED: dict[str, tuple[tuple[str, ...], ...]] = {
    "login": (("idx_users_lower_email",),),
    "dashboard": (
        ("user_progress_user_id_component_id_key", "idx_user_progress_user_id_status"),
        ("learning_streaks_user_id_key",),
        ("user_achievements_user_id_achievement_id_key",),
        (
            "idx_assessment_attempts_user_id_status",
            "assessment_attempts_user_id_assessment_id_attempt_number_key",
        ),
        ("idx_study_goals_user_id_status",),
    ),
    "component_list": (("idx_learning_components_domain_subdomain",),),
    "progress_update": (
        ("user_progress_user_id_component_id_key",),
        ("idx_study_goals_user_id_status",),
    ),
    "assessment_prepare": (
        (
            "assessment_attempts_user_id_assessment_id_attempt_number_key",
            "idx_assessment_attempts_assessment_id_user_id",
        ),
        ("assessment_attempts_pkey",),
        ("question_bank_pkey",),
    ),
    "assessment_submit": (
        ("assessment_attempts_pkey",),
        ("assessment_answers_attempt_id_question_id_key",),
        ("question_bank_pkey",),
        ("user_progress_user_id_component_id_key",),
    ),
    "analytics": (
        ("idx_mv_daily_user_activity_activity_date",),
        ("idx_mv_weekly_domain_progress_week_start_domain",),
        ("idx_assessment_attempts_assessment_id_user_id",),
    ),
    "learning_session": (
        ("learning_sessions_pkey", "idx_learning_sessions_user_id_session_start"),
    ),
    "readiness": (("objective_mastery_user_id_objective_id_key",),),
    "dashboard_readiness": (
        ("objective_mastery_user_id_objective_id_key",),
        ("idx_review_cards_user_due", "review_cards_user_id_question_id_key"),
    ),
    "review_queue": (("idx_review_cards_user_due",),),
    # the draw: the learner's earlier attempts and the cards due in its review schedule
    "exam_build": (
        ("idx_assessment_attempts_assessment_id_user_id", "idx_assessment_attempts_user_id_status"),
        ("idx_review_cards_user_due",),
    ),
}

LARGE_ROWS = 10_000


@dataclass(frozen=True)
class Node:
    """One scan of a plan: node type, relation and index (when any)."""

    node_type: str
    relation: str | None
    index: str | None


@dataclass(frozen=True)
class StatementPlan:
    """The plan of one executed statement."""

    query_text: str
    nodes: list[Node]

    @property
    def first_line(self) -> str:
        """The statement's first non-blank line, for the report."""
        for line in self.query_text.splitlines():
            if line.strip():
                return " ".join(line.split())[:100]
        return ""


@dataclass
class PlanCheck:
    """The plans one class's call produced and what the check found."""

    label: str
    statements: list[StatementPlan] = field(default_factory=list)
    large: dict[str, int] = field(default_factory=dict)  # large tables: planner rows
    expected: tuple[tuple[str, ...], ...] = ()
    forced: bool = False  # enable_seqscan = off: the expected indexes must all be used
    index_parents: dict[str, str] = field(default_factory=dict)  # partition index -> table's

    @property
    def indexes(self) -> set[str]:
        """Every index any statement of the call used (a partition's index under the name of
        its partitioned table's index)."""
        return {
            self.index_parents.get(n.index, n.index)
            for s in self.statements
            for n in s.nodes
            if n.index
        }

    @property
    def seq_scans(self) -> list[str]:
        """Sequential scans on large tables: `table (rows): statement`."""
        out: list[str] = []
        for s in self.statements:
            for n in s.nodes:
                if n.node_type == "Seq Scan" and n.relation in self.large:
                    out.append(f"{n.relation} ({self.large[n.relation]:,} rows): {s.first_line}")
        return out

    @property
    def missing(self) -> list[str]:
        """Expected indexes (any of the alternatives) that no statement used."""
        used = self.indexes
        return [" or ".join(alts) for alts in self.expected if not used.intersection(alts)]

    @property
    def ok(self) -> bool:
        """No sequential scan on a large table; when forced, every expected index used (at
        scale the planner may rightly prefer another plan for a small table)."""
        return not self.seq_scans and not (self.forced and self.missing)


class _Collector:
    """Receives auto_explain's notices and keeps the plans."""

    def __init__(self) -> None:
        self.plans: list[StatementPlan] = []

    def __call__(self, diag: psycopg.errors.Diagnostic) -> None:
        text = diag.message_primary or ""
        if "plan:" not in text:
            return
        try:
            data = json.loads(text.split("plan:", 1)[1])
        except ValueError:
            return
        self.plans.append(
            StatementPlan(str(data.get("Query Text", "")), list(_nodes(data["Plan"])))
        )

    def take(self) -> list[StatementPlan]:
        """The plans collected since the last take."""
        taken, self.plans = self.plans, []
        return taken


def _nodes(plan: Mapping[str, Any]) -> Iterator[Node]:
    yield Node(str(plan["Node Type"]), plan.get("Relation Name"), plan.get("Index Name"))
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _configure(collector: _Collector, settings: Mapping[str, str]) -> Callable[[Any], None]:
    def configure(conn: psycopg.Connection[Any]) -> None:
        conn.add_notice_handler(collector)
        conn.execute("LOAD 'auto_explain'")
        base = {
            "auto_explain.log_min_duration": "0",
            "auto_explain.log_nested_statements": "on",
            "auto_explain.log_format": "json",
            "auto_explain.log_level": "notice",
            "client_min_messages": "notice",
            **settings,
        }
        for name, value in base.items():
            conn.execute(
                sql.SQL("SET {} = {}").format(sql.Identifier(*name.split(".")), sql.Literal(value))
            )
        conn.commit()

    return configure


def auto_explain_available(target: Target) -> bool:
    """Whether the server can load auto_explain (some builds, e.g. pgserver's, lack it)."""
    with connect(target, autocommit=True) as conn:
        try:
            conn.execute("LOAD 'auto_explain'")
        except psycopg.errors.UndefinedFile:
            return False
    return True


def check_plans(
    ctx: Context,
    *,
    classes: tuple[QueryClass, ...] = CLASSES,
    force_index: bool = False,
    large_rows: int = LARGE_ROWS,
) -> list[PlanCheck]:
    """Run each class's library call once with every plan captured, and check the plans.

    Writes what the calls write (a progress update, a submitted attempt...), like the
    benchmark itself. `force_index` sets `enable_seqscan = off`.
    """
    collector = _Collector()
    settings = {"enable_seqscan": "off"} if force_index else {}
    target = ctx.target
    with connect(target, autocommit=True) as conn:
        rows = bench_sql().relation_rows(conn)
        parents = {str(i): str(p) for i, p in bench_sql().partition_index_parents(conn)}
    large = {str(name): int(n) for name, n in rows if int(n) >= large_rows}
    db = Database(target, min_size=1, max_size=1, configure=_configure(collector, settings))
    admin = Database(
        target,
        min_size=1,
        max_size=1,
        app_role="admin",
        configure=_configure(collector, settings),
    )
    checks: list[PlanCheck] = []
    try:
        plan_ctx = replace(ctx, db=db, admin_db=admin, rng=Random(7))
        rng = Random(11)
        for qc in classes:
            item = qc.draw(ctx.samples, rng, 1)[0]
            runner = qc.api(plan_ctx)
            collector.take()
            prepared = runner.prepare(item)
            if qc.heavy:
                made = _check("assessment_prepare", collector, large, force_index, parents)
                if made.statements:  # a preparation that ran statements (the submit's answers)
                    checks.append(made)
            runner.call(prepared)
            checks.append(_check(qc.key, collector, large, force_index, parents))
        user_id = rng.choice(ctx.samples.learners)
        component_id = rng.choice(ctx.samples.components)
        collector.take()
        _session(db, user_id, component_id)
        checks.append(_check("learning_session", collector, large, force_index, parents))
    finally:
        db.close()
        admin.close()
    return checks


def _check(
    label: str,
    collector: _Collector,
    large: dict[str, int],
    forced: bool,
    parents: dict[str, str],
) -> PlanCheck:
    return PlanCheck(label, collector.take(), large, EXPECTED.get(label, ()), forced, parents)


def _session(db: Database, user_id: uuid.UUID, component_id: uuid.UUID) -> uuid.UUID:
    """A learning session opened and closed through the library (the mixed workload does)."""
    with db.as_user(user_id) as q:
        started = q.progress.start_session(
            user_id=user_id, component_id=component_id, device_type="desktop", session_data={}
        )
    assert started is not None
    with db.as_user(user_id) as q:
        q.progress.end_session(
            session_id=started.id,
            interaction_count=3,
            completion_achieved=False,
            session_data={"bench": True},
        )
    return started.id


def summary_lines(checks: list[PlanCheck]) -> list[str]:
    """One line per check: verdict, indexes used, and problems."""
    lines: list[str] = []
    for c in checks:
        verdict = "ok" if c.ok else "PROBLEM"
        used = ", ".join(sorted(c.indexes)) or "none"
        line = f"{c.label:<20} {verdict:<8} {len(c.statements):>3} statements; indexes: {used}"
        for problem in c.seq_scans:
            line += f"\n    seq scan on a large table: {problem}"
        for m in c.missing:
            what = "intended index not used" if c.forced else "(planner chose another plan)"
            line += f"\n    {what}: {m}"
        lines.append(line)
    return lines
