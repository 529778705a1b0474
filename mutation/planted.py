"""The five bugs of issue 19 that once went uncaught, planted again one at a time, each in a
fresh copy of the checkout: each must fail at least one test.

    python -m mutation.planted            # all five (a few minutes)
    python -m mutation.planted --list

The copy holds the checkout's tracked files as they are in the work tree; pytest runs there
with the copy first on PYTHONPATH, so the planted package is the one imported. Exit status 1
when a planted bug passes its tests (or a replacement no longer matches the source).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Planted:
    """A bug: in `path`, `old` (found exactly once) becomes `new`; `tests` must then fail."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


BUGS = (
    Planted(
        "bookmarks policy WITH CHECK (true)",
        "migrations/0009_roles_and_rls.sql",
        "CREATE POLICY bookmarks_own_rows ON bookmarks\n    TO app_user\n"
        "    USING (user_id = app_current_user_id())\n"
        "    WITH CHECK (user_id = app_current_user_id());",
        "CREATE POLICY bookmarks_own_rows ON bookmarks\n    TO app_user\n"
        "    USING (user_id = app_current_user_id())\n    WITH CHECK (true);",
        ("tests/schema/test_rls_and_roles.py",),
    ),
    Planted(
        "app.user_id set for the session, not the transaction",
        "netplus_db/sql/session.sql",
        "set_config('app.user_id', :user_id, true)",
        "set_config('app.user_id', :user_id, false)",
        ("tests/library/test_session.py",),
    ),
    Planted(
        "restore's row-count validation switched off",
        "netplus_db/ops/archive_loading.py",
        "_ledger_problems(conn, prepared) + _count_problems(found, prepared.manifest)",
        "_ledger_problems(conn, prepared)",
        (
            "tests/ops/test_backup_restore.py::"
            "test_an_archive_whose_manifest_disagrees_is_refused_and_the_target_untouched",
        ),
    ),
    Planted(
        "points dropped from the seed upsert's change check",
        "netplus_db/sql/seed.sql",
        "q.question_data, q.correct_answer, q.explanation, q.hints, q.points,",
        "q.question_data, q.correct_answer, q.explanation, q.hints, excluded.points,",
        ("tests/ops/test_seed_change_detection.py",),
    ),
    Planted(
        "benchmark CPU overhead computed from elapsed samples",
        "bench/stats.py",
        "cpu=_estimate(a - b for a, b in zip(cpu_a, cpu_b, strict=True)),",
        "cpu=_estimate(a - b for a, b in zip(wall_a, wall_b, strict=True)),",
        ("tests/bench/test_stats.py",),
    ),
)


def tracked_files() -> list[str]:
    """The checkout's tracked files (their work-tree content is copied)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [name for name in listed.decode().split("\0") if name and (REPO / name).is_file()]


def plant(bug: Planted, copy: Path) -> None:
    """Copy the checkout to `copy` and plant the bug there."""
    for name in tracked_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, copy / name)
    source = (copy / bug.path).read_text("utf-8")
    if source.count(bug.old) != 1:
        raise SystemExit(f"{bug.path}: the text to replace for {bug.name!r} is not there once")
    (copy / bug.path).write_text(source.replace(bug.old, bug.new), "utf-8")


def run(bug: Planted) -> tuple[bool, str, float]:
    """Plant the bug in a copy and run its tests: (caught, the first failure, seconds)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="netplus-planted-") as tmp:
        copy = Path(tmp)
        plant(bug, copy)
        env = {**os.environ, "PYTHONPATH": str(copy)}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *bug.tests],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    failed = [line[7:] for line in done.stdout.splitlines() if line.startswith("FAILED ")]
    caught = done.returncode == 1 and bool(failed)
    detail = failed[0] if failed else (done.stdout + done.stderr)[-1500:]
    return caught, detail, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Plant each bug, run its tests, print whether a test failed; 1 if one was not caught."""
    parser = argparse.ArgumentParser(prog="python -m mutation.planted", description=__doc__)
    parser.add_argument("--list", action="store_true", help="list the planted bugs and exit")
    args = parser.parse_args(argv)
    if args.list:
        for bug in BUGS:
            print(f"{bug.name}: {bug.path}")
        return 0
    missed = 0
    for bug in BUGS:
        caught, detail, seconds = run(bug)
        missed += not caught
        verdict = "caught" if caught else "NOT CAUGHT"
        print(f"{verdict:10} {seconds:5.1f}s  {bug.name}\n           {detail}", flush=True)
    print(f"{len(BUGS) - missed} of {len(BUGS)} planted bugs caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
