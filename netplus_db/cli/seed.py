"""`netplus-db seed`: load the reviewed seed files (and optionally synthetic scale data)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from netplus_db.cli import output
from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.ops.bank_lint import lint_bank
from netplus_db.ops.seed import load_scale_data, load_seed_data, seed_database

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
    help="After the seed, load synthetic scale data of size N thousand (netplus_db.ops.scale).",
)
@click.option(
    "--random-seed",
    type=int,
    default=42,
    show_default=True,
    metavar="S",
    help="Random seed of the --scale data (same seed, same data).",
)
@pass_cli_context
def seed(
    env: CliContext,
    allow_demo_accounts: bool,
    seed_dir: Path | None,
    scale: int | None,
    random_seed: int,
) -> None:
    """Load the Network+ catalog, question bank, assessments, achievements and demo accounts.

    Everything comes from the files in seed/ (see seed/README.md) and is written in one
    transaction, idempotently: content is matched by slug, key or code and updated in place, so
    a re-run changes nothing. Every file is validated first; a problem names the file and the
    item, and then nothing is written. The five demo accounts of DATABASE.md (password
    password123) are refused on a database that is not local or embedded unless
    --allow-demo-accounts is given. Prints counts per table and the time taken.

    \b
    Examples:
      netplus-db seed
      netplus-db --dsn postgresql://app@db.internal/netplus seed --allow-demo-accounts
      netplus-db seed --scale 10 --random-seed 7
      netplus-db seed lint --json      (lint the question bank; no database needed)
    """
    if click.get_current_context().invoked_subcommand is not None:
        return
    started = time.perf_counter()
    target = env.target()

    def report(message: str) -> None:
        click.echo(message, err=True)

    seed_database(target, allow_demo_accounts=allow_demo_accounts, report=report, seed_dir=seed_dir)
    if scale is None:
        return
    if not load_scale_data(target, thousands=scale, random_seed=random_seed, report=report):
        sys.exit(1)
    report(f"seed and scale data in {time.perf_counter() - started:.2f} s")


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
