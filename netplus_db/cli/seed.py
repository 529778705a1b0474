"""`netplus-db seed`: load the reviewed seed files (and optionally synthetic scale data).

The counts and the scale table are the command's output (stdout, or stderr under `--json`);
the target, the scale load's progress and everything else go to stderr.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from netplus_db.cli import output
from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.cli.output import Document, document, finish, json_option, say
from netplus_db.ops.bank_lint import lint_bank
from netplus_db.ops.scale import ScaleReport, check_can_load, load_scale
from netplus_db.ops.seed import SeedReport, load_seed_data, seed_database

# --- seed -------------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT, invoke_without_command=True)
@click.option(
    "--allow-demo-accounts",
    is_flag=True,
    help="Create the demo accounts (password123, an admin among them) even though the target "
    "is not a local or embedded database.",
)
@click.option(
    "--seed-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Where the seed files are (default: the project's seed/).",
)
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    metavar="N",
    help="After the seed, add N thousand synthetic learners with their history (COPY, one "
    "transaction). Refused, before anything is written, when scale data is already loaded.",
)
@click.option(
    "--random-seed",
    type=int,
    default=42,
    show_default=True,
    metavar="S",
    help="Random seed of the --scale data (same seed, same catalog: same rows).",
)
@json_option
@pass_cli_context
def seed(
    env: CliContext,
    allow_demo_accounts: bool,
    seed_dir: Path | None,
    scale: int | None,
    random_seed: int,
    as_json: bool,
) -> None:
    """Load the Network+ catalog, question bank, assessments, achievements and demo accounts.

    \b
    Where the data comes from: the reviewed JSON files in seed/ (see seed/README.md):
      blueprint.json            the N10-009 domains and objectives
      components/<domain>.json  learning components        (matched by slug)
      questions/<domain>.json   the question bank          (matched by key)
      assessments.json          quizzes and exams, as rules that pick questions (slug)
      achievements.json         the achievements catalog   (matched by code)
      users.json                the five demo accounts of DATABASE.md (matched by email)

    Every file is validated first; a problem names the file and the item, and then nothing is
    written. Everything is written in one transaction, idempotently: a re-run updates changed
    rows in place and otherwise changes nothing. The demo accounts (password password123, an
    admin among them) are refused on a database that is not local or embedded unless
    --allow-demo-accounts is given. Prints the counts per table and the time taken.

    \b
    --scale N then adds N thousand synthetic learners (emails @scale.test) with progress,
    sessions, attempts and answers, goals, achievements and activity: deterministic for a
    --random-seed, in one transaction (a failure leaves nothing). It needs a superuser or a
    BYPASSRLS role, and loads once per database: a second --scale is refused before the seed
    runs; start over with `netplus-db migrate reset`. Progress with rate and ETA goes to
    stderr when it runs more than a few seconds (a live line on a terminal, a line per 10 %
    otherwise).

    \b
    Examples:
      netplus-db seed                            the embedded database, demo accounts included
      netplus-db seed --seed-dir ./my-seed       other seed files (same layout)
      netplus-db --dsn postgresql://app@db.internal/netplus seed --allow-demo-accounts
      netplus-db seed --scale 10                 + 10,000 learners (100: the spec's scale)
      netplus-db seed --scale 10 --random-seed 7 other synthetic learners, same size
      netplus-db seed --json                     one JSON document on stdout (counts per table)
      netplus-db seed --scale 1 --json 2>/dev/null | jq .summary
      netplus-db seed lint --json                lint the question bank; no database needed
    """
    if click.get_current_context().invoked_subcommand is not None:
        return
    started = time.perf_counter()
    doc = document()
    target = env.target()

    def progress(message: str) -> None:
        click.echo(message, err=True)

    if scale is not None:
        check_can_load(target)  # a second --scale fails here, before the seed runs again
    seeded = seed_database(
        target, allow_demo_accounts=allow_demo_accounts, report=say, seed_dir=seed_dir
    )
    loaded = None
    if scale is not None:
        loaded = load_scale(
            target, thousands=scale, random_seed=random_seed, report=say, progress=sys.stderr
        )
        say(f"seed and scale data in {time.perf_counter() - started:.2f} s")
    _fill(doc, seeded, loaded, time.perf_counter() - started)
    finish(doc, "ok")


def _fill(doc: Document, seeded: SeedReport, loaded: ScaleReport | None, seconds: float) -> None:
    """The JSON document: one item per table written, totals in the summary."""
    doc.items = [
        {
            "part": "seed",
            "table": table,
            "inserted": counts.inserted,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
        }
        for table, counts in seeded.counts.items()
    ]
    scale: dict[str, Any] | None = None
    if loaded is not None:
        doc.items += [
            {"part": "scale", "table": t.table, "rows": t.rows, "seconds": round(t.seconds, 3)}
            for t in loaded.tables
        ]
        scale = {
            "users": loaded.users,
            "random_seed": loaded.random_seed,
            "anchor": loaded.anchor.isoformat(),
            "rows": loaded.total_rows,
            "seconds": round(loaded.seconds, 3),
            "rows_per_second": round(loaded.rows_per_second),
        }
    doc.summary = {
        "inserted": seeded.inserted,
        "updated": seeded.updated,
        "unchanged": sum(c.unchanged for c in seeded.counts.values()),
        "changed": seeded.changed,
        "seed_seconds": round(seeded.seconds, 3),
        "scale": scale,
        "seconds": round(seconds, 3),
    }


@seed.command("lint", context_settings=CONTEXT)
@click.option(
    "--seed-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Where the seed files are (default: the project's seed/).",
)
@output.json_option
def lint(seed_dir: Path | None, as_json: bool) -> None:
    """Lint the question bank as a learner would meet it; exit 1 on any finding.

    Checks duplicates and near-duplicates (stems and keys), how often the keyed option is the
    longest (at most 30 %), the true/false key balance (40-60 % True), answers given away by the
    stem or a hint, coverage of every objective (an advanced item, two question types), each
    domain's share of the bank against its blueprint weight (within 3 points), simulations per
    domain, and every fill-blank key against its own accepted spellings. Reads the files only:
    no database is needed. --json prints the figures in "summary" and one item per finding.

    \b
    Examples:
      netplus-db seed lint
      netplus-db seed lint --json | jq '.summary.domain_shares'
      netplus-db seed lint --seed-dir ./my-bank
    """
    doc = output.document()
    report = lint_bank(load_seed_data(seed_dir))
    doc.summary = {"findings": len(report.findings), **report.figures}
    doc.items = [f.as_dict() for f in report.findings]
    for finding in report.findings:
        where = f"{finding.key}: " if finding.key else ""
        output.say(f"{finding.check}: {where}{finding.message}")
    figures = report.figures
    output.say(
        f"{figures['questions']} questions; keyed option longest in "
        f"{figures['longest_key']['rate']:.0%} of multiple-choice items; "
        f"{figures['true_false']['true_share']:.0%} of true/false keyed True; "
        f"{figures['duplicates']} duplicates, {figures['near_duplicates']} near-duplicates; "
        + ", ".join(
            f"{code} {share['share']:g} % (weight {share['weight']:g})"
            for code, share in figures["domain_shares"].items()
        )
    )
    if report.clean:
        output.say("ok: the question bank is clean")
        output.finish(doc, "ok")
    else:
        output.say(f"{len(report.findings)} finding(s)")
        output.finish(doc, "findings")
