"""Online-safety lint of migration files: squawk (PyPI `squawk-cli`) plus one rule of ours.

Each file's up section is given to squawk as our runner runs it: in one transaction
(`--assume-in-transaction`) unless its marker says `transaction:false`, and with the
`lock_timeout` the runner always sets (the marker's, else --lock-timeout) written where the
marker stands, so line numbers are the file's. What the findings enforce, for every
migration after 0011 (the schema's baseline):

- the spec's "Modifying Existing Tables": never drop columns (ban-drop-column), add columns
  nullable first (adding-required-field, adding-not-nullable-field), add constraints after
  validation (constraint-missing-not-valid, adding-foreign-key-constraint), and no rewrites
  or renames under load (changing-column-type, renaming-column...);
- indexes on existing tables built and dropped CONCURRENTLY, in a `transaction:false` file
  (require-concurrent-index-creation, require-concurrent-index-deletion), idempotently there
  (prefer-robust-stmts);
- ours, `lock-many-tables`: a transactional section that locks more than
  MAX_LOCKED_TABLES existing tables (as 0009 did with 44 ALTER TABLE ... ROW LEVEL SECURITY)
  holds all those locks until it commits; split it.

Style rules that do not fit this schema (varchar and int columns the spec's ERD asks for) and
require-statement-timeout (a backfill's statement_timeout is the author's call: the marker
option `statement_timeout:` sets it) are off.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netplus_db.errors import NetplusError
from netplus_db.migrate.files import MARKER, Migration

# Migrations up to this version predate the lint; `migrate lint` checks the ones after it.
LINT_AFTER_VERSION = 11
PG_VERSION = "14"  # the oldest server the schema supports: rules judge by its behaviour
MAX_LOCKED_TABLES = 10
EXCLUDED_RULES = (
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-text-field",
    "require-statement-timeout",
)
# Which of the spec's rules ("Modifying Existing Tables") a squawk rule enforces.
SPEC_RULES = {
    "ban-drop-column": "spec: never drop columns (use soft deprecation)",
    "adding-required-field": "spec: add new columns as nullable initially, then backfill",
    "adding-not-nullable-field": "spec: add constraints after validation",
    "constraint-missing-not-valid": "spec: add constraints after validation (NOT VALID, "
    "then VALIDATE CONSTRAINT)",
    "adding-foreign-key-constraint": "spec: add constraints after validation",
}
_LOCKING = re.compile(
    r"^\s*(?:ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?"
    r"|CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+ON\s+(?:ONLY\s+)?"
    r"|CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+.*?\s+ON\s+"
    r"|CREATE\s+POLICY\s+\S+\s+ON\s+)"
    r"(?P<table>[\w.\"]+)",
    re.IGNORECASE | re.DOTALL,
)
_CREATED = re.compile(
    r"^\s*CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<table>[\w.\"]+)",
    re.IGNORECASE,
)


class LintUnavailable(NetplusError):
    """squawk (PyPI `squawk-cli`) is not installed or could not run."""


@dataclass(frozen=True)
class Finding:
    """One problem in one migration file."""

    path: Path
    line: int
    rule: str
    message: str
    help: str

    def describe(self) -> str:
        """`file:line: rule: message (help)`, as editors and CI logs show it."""
        extra = f" ({self.help})" if self.help else ""
        return f"{self.path}:{self.line}: {self.rule}: {self.message}{extra}"

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "file": str(self.path),
            "line": self.line,
            "rule": self.rule,
            "message": self.message,
            "help": self.help,
        }


def squawk_path() -> Path:
    """The squawk program: beside this Python (a virtualenv's bin/), else on PATH."""
    for directory in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = directory / "squawk"
        if candidate.is_file():
            return candidate
    found = shutil.which("squawk")
    if found:
        return Path(found)
    raise LintUnavailable(
        "squawk is not installed: pip install 'netplus-db[cli]' (it brings squawk-cli)"
    )


def lint(migrations: list[Migration], *, default_lock_timeout: str = "10s") -> list[Finding]:
    """Lint the up section of each migration; the findings, by file and line."""
    squawk = squawk_path()
    findings: list[Finding] = []
    for m in migrations:
        findings += _squawk(squawk, m, default_lock_timeout)
        findings += _many_locks(m)
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.rule))


def as_run(m: Migration, default_lock_timeout: str) -> str:
    """The file as squawk should see it: only the up section, its marker line replaced by the
    SET statements the runner issues, every other line blank (so line numbers hold)."""
    lines = m.source.splitlines()
    out: list[str] = []
    section = "before"
    for line in lines:
        found = MARKER.match(line.strip())
        if found:
            section = found["kind"]
            if section == "up":
                timeout = m.up.lock_timeout or default_lock_timeout
                sets = f"SET lock_timeout = '{timeout}';"
                if m.up.statement_timeout:
                    sets += f" SET statement_timeout = '{m.up.statement_timeout}';"
                out.append(sets)
                continue
        out.append(line if section == "up" else "")
    return "\n".join(out) + "\n"


def _squawk(squawk: Path, m: Migration, default_lock_timeout: str) -> list[Finding]:
    args = [str(squawk), "--reporter", "json", "--pg-version", PG_VERSION]
    args += ["--stdin-filepath", str(m.path)]
    args += [f"--exclude={','.join(EXCLUDED_RULES)}"]
    if m.up.transaction:
        args.append("--assume-in-transaction")
    try:
        result = subprocess.run(
            args,
            input=as_run(m, default_lock_timeout),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LintUnavailable(f"squawk could not run on {m.path}: {exc}") from None
    try:
        reported = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        raise LintUnavailable(
            f"squawk failed on {m.path} (exit {result.returncode}): {result.stderr.strip()}"
        ) from None
    findings = []
    for item in reported:
        rule = str(item.get("rule_name", "squawk"))
        note = SPEC_RULES.get(rule)
        help_text = str(item.get("help") or "")
        if note:
            help_text = f"{help_text} [{note}]".strip()
        findings.append(
            Finding(m.path, int(item.get("line", 0)) + 1, rule, str(item["message"]), help_text)
        )
    return findings


def _many_locks(m: Migration) -> list[Finding]:
    """Our rule: one transaction locking many tables that already exist."""
    if not m.up.transaction:
        return []
    created: set[str] = set()
    locked: dict[str, int] = {}
    for statement in m.up.statements:
        text = _code(statement.sql)
        made = _CREATED.match(text)
        if made:
            created.add(_bare(made["table"]))
            continue
        hit = _LOCKING.match(text)
        if hit and _bare(hit["table"]) not in created:
            locked.setdefault(_bare(hit["table"]), statement.line)
    if len(locked) <= MAX_LOCKED_TABLES:
        return []
    first = min(locked.values())
    return [
        Finding(
            m.path,
            first,
            "lock-many-tables",
            f"one transaction locks {len(locked)} existing tables (more than "
            f"{MAX_LOCKED_TABLES}) and holds every lock until it commits",
            "split it into several migrations, a few tables each",
        )
    ]


def _code(sql: str) -> str:
    """The statement without its leading comment lines."""
    lines = sql.splitlines()
    while lines and (not lines[0].strip() or lines[0].strip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)


def _bare(name: str) -> str:
    name = name.strip('"').lower()
    return name.removeprefix("public.")
