"""`netplus-db seed`: load the reviewed seed files (and optionally synthetic scale data)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from netplus_db.cli.context import CONTEXT, CliContext, pass_cli_context
from netplus_db.ops.seed import load_scale_data, seed_database

# --- seed -------------------------------------------------------------------------------------


@click.command(context_settings=CONTEXT)
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
    """
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
