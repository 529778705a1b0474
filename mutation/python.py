"""mutmut on the modules that carry guarantees, each in a scratch copy of the checkout with
only that module mutated and only its own tests run: a score per module and the survivors.

    python -m mutation.python                          # every module below
    python -m mutation.python --module grading --module session
    python -m mutation.python --report docs/mutation-python.md
    python -m mutation.python --module flows --keep /tmp/m  # then in /tmp/m/flows: mutmut show X
    python -m mutation.python --module flows --keep /tmp/m --resume  # go on after a stop

mutmut 3 copies the package to `mutants/` inside the scratch copy and runs pytest there, with
the tests that reach each mutated function, in a process forked per mutant. Every mutant's
tests share one PostgreSQL (NETPLUS_TEST_DSN's, else an embedded one started for the run) and
one template migrated once by the unmutated code: a mutant pays for its tests, not for a
server and a migration of its own (which took most of a mutant's time), and a mutant of the
migrator is judged by the migrator's tests, not by a broken fixture. Exit status 1 when a
module scores under --target (default 90 %).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mutation.sql import server
from netplus_db.connection import create_database, drop_database
from netplus_db.migrate import Migrator

REPO = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
# Besides the package and tests/: what the package reads at run time from a checkout.
# `mutation` for its pytest plugin, which runs each mutant's likely killers first.
ALSO_COPY = ("queries", "migrations", "seed", "schema", "bench", "bin", "mutation")
# mutmut makes no mutant of a line ending in this (each explained above it).
PRAGMA = "# pragma: no mutate"


@dataclass(frozen=True)
class Module:
    """What to mutate (mutmut `only_mutate` globs) and the tests that guard it."""

    globs: tuple[str, ...]
    tests: tuple[str, ...]


MODULES = {
    "grading": Module(
        ("netplus_db/grading.py",),
        (
            "tests/library/test_grading.py",
            "tests/schema/test_grading_in_database.py",
            "tests/ops/test_seed_data.py",
        ),
    ),
    "session": Module(
        ("netplus_db/session.py",),
        (
            "tests/library/test_session.py",
            "tests/library/test_session_failures.py",
            "tests/ops/test_timeouts.py",
        ),
    ),
    "poolcheck": Module(("netplus_db/poolcheck.py",), ("tests/library/test_poolcheck.py",)),
    "flows": Module(
        ("netplus_db/flows/*",),
        (
            "tests/library/test_flows.py",
            "tests/library/test_flow_drivers.py",
            "tests/library/test_reads.py",
            "tests/library/test_drawn_exams.py",
            "tests/library/test_learning.py",
            "tests/library/test_validation.py",
            "tests/library/test_json.py",
            "tests/library/test_queries.py",
            "tests/library/test_cache.py",
            "tests/library/test_login_pool.py",
        ),
    ),
    "migrator": Module(
        ("netplus_db/migrate/migrator.py",),
        (
            "tests/migrate/test_migrator.py",
            "tests/migrate/test_migrator_details.py",
            "tests/migrate/test_baseline.py",
            "tests/ops/test_cli_json.py",
            "tests/ops/test_cli_safety.py",
        ),
    ),
    "archive_loading": Module(
        ("netplus_db/ops/archive_loading.py",),
        (
            "tests/ops/test_backup_restore.py",
            "tests/ops/test_backup_formats.py",
            "tests/ops/test_archive_loading_edges.py",
            "tests/ops/test_restore_crash.py",
        ),
    ),
}


@dataclass(frozen=True)
class Score:
    """A module's mutants by outcome (mutmut's words, spaces as underscores: killed, survived,
    timeout, caught_by_type_check, no_tests...), and the names of those that survived."""

    module: str
    counts: dict[str, int]
    survivors: list[str]
    seconds: float
    marked: int = 0  # source lines marked equivalent: mutmut makes no mutant of them

    @property
    def total(self) -> int:
        """Every mutant of the module."""
        return sum(self.counts.values())

    @property
    def killed_share(self) -> float:
        """Killed over all judged: by a failing test, a timeout (as mutmut counts it) or mypy,
        which `make lint` runs on every change, so a mutant it rejects could not land."""
        done = sum(self.counts.get(k, 0) for k in ("killed", "timeout", "caught_by_type_check"))
        judged = done + self.counts.get("survived", 0) + self.counts.get("suspicious", 0)
        return done / judged if judged else 0.0

    @property
    def tests_share(self) -> float:
        """Killed by the tests alone, over the mutants that mypy lets through."""
        done = self.counts.get("killed", 0) + self.counts.get("timeout", 0)
        tested = done + self.counts.get("survived", 0) + self.counts.get("suspicious", 0)
        return done / tested if tested else 0.0


def outcomes(listing: str) -> tuple[dict[str, int], list[str]]:
    """Counts by outcome and the survivors' names, from `mutmut results --all true`
    (lines of `name: outcome`)."""
    counts: dict[str, int] = {}
    survivors = []
    for line in listing.splitlines():
        name, sep, outcome = line.strip().rpartition(": ")
        if not sep:
            continue
        key = outcome.replace(" ", "_")
        counts[key] = counts.get(key, 0) + 1
        if key == "survived":
            survivors.append(name)
    return counts, survivors


def scratch_copy(directory: Path, module: Module) -> None:
    """The checkout's tracked files in `directory`, with a setup.cfg for this module."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    for name in listed.stdout.decode().split("\0"):
        if name and (REPO / name).is_file():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, directory / name)
    (directory / "setup.cfg").write_text(setup_cfg(module), "utf-8")


def sources(module: Module) -> list[str]:
    """The module's Python files, relative to the checkout."""
    return sorted(
        str(path.relative_to(REPO))
        for glob in module.globs
        for path in REPO.glob(glob)
        if path.suffix == ".py"
    )


def marked_equivalent(module: Module) -> int:
    """Lines of the module that carry mutmut's `# pragma: no mutate`: each is explained as
    equivalent in a comment above it, and makes no mutant, so the report counts them."""
    return sum(
        line.rstrip().endswith(PRAGMA)
        for source in sources(module)
        for line in (REPO / source).read_text("utf-8").splitlines()
    )


def setup_cfg(module: Module) -> str:
    """mutmut's configuration for one module."""
    lines = [
        "[mutmut]",
        "source_paths = netplus_db",
        "only_mutate =",
        *(f"    {glob}" for glob in module.globs),
        "pytest_add_cli_args_test_selection =",
        *(f"    {test}" for test in module.tests),
        "pytest_add_cli_args =",
        "    -x",  # a mutant is killed by its first failing test: the rest need not run
        "    -p",
        "    no:cacheprovider",
        "    -p",
        "    mutation.pytest_plugin",
        # mutmut's deadline is (timed seconds + constant) x multiplier x 2 of wall time: its
        # default x15 gave a mutant that hangs in pg_restore twenty minutes. x3 still leaves
        # room for fixtures (untimed) and a busy machine; a timeout counts as killed.
        "timeout_multiplier = 3",
        "timeout_constant = 10",
        # mypy --strict runs on every change (`make lint`): a mutant it rejects could not land,
        # and is judged in one mypy run instead of a test run each. Its `# type: ignore`s on
        # mutmut's trampolines are unused, which is not the mutant's fault.
        "type_check_command =",
        f"    {sys.executable}",
        "    -m",
        "    mypy",
        "    --output",
        "    json",
        "    --no-warn-unused-ignores",
        *(f"    {source}" for source in sources(module)),
        "also_copy =",
        *(f"    {path}" for path in ALSO_COPY),
    ]
    return "\n".join(lines) + "\n"


def mutate(
    name: str,
    module: Module,
    jobs: int,
    env: dict[str, str],
    keep: Path | None = None,
    resume: bool = False,
) -> Score:
    """Run mutmut on one module in a scratch copy; its score, with its lines marked equivalent."""
    score = _mutate(name, module, jobs, env, keep, resume)
    return dataclasses.replace(score, marked=marked_equivalent(module))


def _mutate(
    name: str,
    module: Module,
    jobs: int,
    env: dict[str, str],
    keep: Path | None,
    resume: bool,
) -> Score:
    """mutmut on one module in a scratch copy, kept or not.

    With `keep`, the copy is made in `keep/<name>` and left there, so that `mutmut show NAME`
    and `mutmut results` can be run in it afterwards; with `resume` too, a copy already there
    (a run that was stopped) goes on where it stopped: results it has stand.
    """
    if keep is not None:
        work = keep / name
        if work.exists() and not resume:
            raise SystemExit(
                f"--keep: {work} already exists; remove it, name another directory or --resume it"
            )
        if resume and not (work / "setup.cfg").is_file():
            raise SystemExit(f"--resume: {work} holds no copy made by --keep")
        if resume:  # this checkout's configuration and plugin; mutmut keeps what they leave valid
            (work / "setup.cfg").write_text(setup_cfg(module), "utf-8")
            for copy in (work / "mutation", work / "mutants" / "mutation"):
                shutil.copytree(REPO / "mutation", copy, dirs_exist_ok=True)
        else:
            work.mkdir(parents=True)
            scratch_copy(work, module)
        return _run(name, jobs, env, work)
    with tempfile.TemporaryDirectory(prefix=f"netplus-mutmut-{name}-") as tmp:
        scratch_copy(Path(tmp), module)
        return _run(name, jobs, env, Path(tmp))


def _run(name: str, jobs: int, env: dict[str, str], work: Path) -> Score:
    """mutmut run in `work`, a scratch copy; its score."""
    started = time.perf_counter()
    log = work / "mutmut-run.log"
    with log.open("ab") as out:
        ran = subprocess.run(
            [str(MUTMUT), "run", "--max-children", str(jobs)],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if ran.returncode != 0:
        failed = f"{name}: mutmut run failed (exit {ran.returncode}); its output ends ({log}):"
        raise SystemExit(f"{failed}\n{as_shown(log.read_bytes())}")
    listed = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts, survivors = outcomes(listed)
    return Score(name, counts, survivors, time.perf_counter() - started)


def as_shown(output: bytes, lines: int = 30) -> str:
    """The last `lines` lines of a program's output as a terminal left them: mutmut redraws
    its progress line with carriage returns, thousands of times on one line of its log."""
    text = output.decode("utf-8", "replace")
    shown = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.rstrip("\n").split("\n")]
    return "\n".join(shown[-lines:])


def report(scores: list[Score]) -> str:
    """The scores as Markdown: one row per module, then the survivors by name."""
    out = [
        "# Python mutation scores",
        "",
        "Generated by `make mutation` (`python -m mutation.python`); docs/mutation.md says what",
        "each survivor means and which are equivalent. *killed %* counts mutants killed by a",
        "test, a timeout or mypy (which `make lint` runs on every change); *by tests %* counts",
        "only the tests, over the mutants mypy lets through. *marked* counts the source lines",
        "marked `# pragma: no mutate`, each explained as equivalent in a comment above it: mutmut",
        "makes no mutant of them.",
        "",
        "| module | mutants | killed | timeout | mypy | survived | no tests"
        " | killed % | by tests % | marked | minutes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        c = s.counts
        out.append(
            f"| {s.module} | {s.total} | {c.get('killed', 0)} | {c.get('timeout', 0)}"
            f" | {c.get('caught_by_type_check', 0)} | {c.get('survived', 0)}"
            f" | {c.get('no_tests', 0)} | {100 * s.killed_share:.1f}"
            f" | {100 * s.tests_share:.1f} | {s.marked} | {s.seconds / 60:.1f} |"
        )
    minutes = sum(s.seconds for s in scores) / 60
    out += ["", f"{sum(s.total for s in scores)} mutants in {minutes:.1f} minutes."]
    for s in scores:
        if s.survivors:
            out += ["", f"## {s.module}: survivors", ""]
            out += [f"- `{name}`" for name in s.survivors]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Mutate each chosen module, print (and write) the report; 1 under the target."""
    parser = argparse.ArgumentParser(prog="python -m mutation.python", description=__doc__)
    parser.add_argument("--module", choices=sorted(MODULES), action="append")
    parser.add_argument("--jobs", type=int, default=2, help="mutmut --max-children (default 2)")
    parser.add_argument("--target", type=float, default=90.0, help="killed %% required")
    parser.add_argument("--report", type=Path, help="write the Markdown report here")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="leave each copy in DIR/<module>")
    parser.add_argument(
        "--resume", action="store_true", help="with --keep: go on with copies a stopped run left"
    )
    args = parser.parse_args(argv)
    if args.resume and args.keep is None:
        parser.error("--resume goes on with the copies in --keep DIR: name it")
    scores = []
    with server() as admin:
        template = admin.with_dbname(f"mutpy_{os.getpid()}_template")
        create_database(template)
        try:
            Migrator(template).up()
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            env |= {
                "NETPLUS_TEST_BACKEND": "dsn",
                "NETPLUS_TEST_DSN": admin.conninfo,
                "NETPLUS_TEST_TEMPLATE": template.dbname,
            }
            for name in args.module or list(MODULES):
                score = mutate(name, MODULES[name], args.jobs, env, args.keep, args.resume)
                print(
                    f"{name}: {100 * score.killed_share:.1f} % killed"
                    f" ({100 * score.tests_share:.1f} % by tests) {score.counts}",
                    flush=True,
                )
                scores.append(score)
        finally:
            drop_database(template)
    text = report(scores)
    print(text)
    if args.report:
        args.report.write_text(text, "utf-8")
    return 0 if all(100 * s.killed_share >= args.target for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
