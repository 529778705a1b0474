"""Running pg_dump, pg_restore and psql (found by client_tools): feeding them, reading their lines,
and the compression choices pg_dump takes.

Passwords travel in the environment (`Target.libpq_env`), never on a command line, and every
message a program writes is passed through `Target.redact` before it is shown.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, cast

from netplus_db.config import Target
from netplus_db.ops.archives import BackupError
from netplus_db.ops.client_tools import Tool
from netplus_db.types import Progress

PROGRESS_EVERY = 10.0  # seconds between "still running" lines when nothing else is shown
_INFO_LINE = re.compile(r"^(pg_dump|pg_restore): (?!error|warning|detail|hint)")
_TABLE_LINE = re.compile(
    r'^(?:pg_dump: dumping contents of|pg_restore: processing data for) table "(?P<table>[^"]+)"'
)
COMPRESSION = re.compile(
    r"^(?:(?P<method>none|gzip|lz4|zstd)(?::(?P<level>\d{1,2}))?|(?P<bare>\d))$"
)


def table_in_line(line: str) -> str | None:
    """`schema.table` when a `--verbose` line says a table's data starts being copied."""
    found = _TABLE_LINE.match(line)
    return found["table"] if found else None


def run_tool(
    args: list[str],
    target: Target,
    label: str,
    report: Progress,
    *,
    capture: bool = False,
    on_line: Callable[[str], None] | None = None,
    stdin_chunks: Iterable[bytes] | None = None,
    on_stdout: Callable[[bytes], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a client program with the target's libpq environment.

    Each stderr line goes to `on_line` as it comes (else a "still running" line is reported
    every 10 s); `stdin_chunks`, when given, are written to its standard input, and its standard
    output goes to `on_stdout` chunk by chunk when that is given. The program is
    killed if this process is interrupted. stderr comes back redacted, without `--verbose`
    chatter; stdout only when `capture`.
    """
    started = time.perf_counter()
    kept: collections.deque[str] = collections.deque(maxlen=60)
    out: list[bytes] = []
    sink_errors: list[BaseException] = []
    with subprocess.Popen(
        args,
        env=target.libpq_env(),
        stdin=subprocess.DEVNULL if stdin_chunks is None else subprocess.PIPE,
        stdout=subprocess.PIPE if capture or on_stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        readers = [threading.Thread(target=_read_lines, args=(proc, kept, on_line), daemon=True)]
        stdout = cast(IO[bytes], proc.stdout)
        if capture:
            readers.append(threading.Thread(target=lambda: out.append(stdout.read()), daemon=True))
        elif on_stdout is not None:
            pump = (stdout, on_stdout, sink_errors, proc)
            readers.append(threading.Thread(target=_pump, args=pump, daemon=True))
        for reader in readers:
            reader.start()
        try:
            if stdin_chunks is not None:
                _feed(cast(IO[bytes], proc.stdin), stdin_chunks)
            while True:
                try:
                    proc.wait(timeout=PROGRESS_EVERY)
                    break
                except subprocess.TimeoutExpired:
                    if on_line is None:
                        report(f"{label}: still running ({time.perf_counter() - started:.0f}s)")
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        for reader in readers:
            reader.join()
    if sink_errors:
        raise sink_errors[0]
    text = "\n".join(kept)
    stdout_text = out[0].decode("utf-8", "replace") if out else None
    return subprocess.CompletedProcess(args, proc.returncode, stdout_text, target.redact(text))


def _read_lines(
    proc: subprocess.Popen[bytes],
    kept: collections.deque[str],
    on_line: Callable[[str], None] | None,
) -> None:
    stderr = cast(IO[bytes], proc.stderr)
    for raw in stderr:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if on_line is not None:
            on_line(line)
            if _INFO_LINE.match(line):
                continue
        kept.append(line)


def _pump(
    stdout: IO[bytes],
    sink: Callable[[bytes], None],
    errors: list[BaseException],
    proc: subprocess.Popen[bytes],
) -> None:
    """Hand the program's output to `sink`; if the sink fails, stop the program."""
    try:
        while chunk := stdout.read(1 << 20):
            sink(chunk)
    except BaseException as exc:
        errors.append(exc)
        proc.kill()


def _feed(stdin: IO[bytes], chunks: Iterable[bytes]) -> None:
    """Write every chunk to the program; stop quietly when it stops reading (it says why)."""
    try:
        for chunk in chunks:
            stdin.write(chunk)
        stdin.close()
    except BrokenPipeError:
        pass


def failure(result: subprocess.CompletedProcess[str]) -> str:
    """`pg_restore failed (exit 1): <its message>`."""
    tool = Path(str(result.args[0])).name
    detail = (result.stderr or "").strip() or "no message"
    return f"{tool} failed (exit {result.returncode}): {detail}"


# --- compression ------------------------------------------------------------------------------


def compression_args(spec: str | None, tool: Tool) -> list[str]:
    """pg_dump's `--compress` for a choice like `gzip:6`, `zstd`, `lz4:3`, `none` or `6`.

    pg_dump before 16 knows gzip levels only; a build without zstd or lz4 is found out before
    any database is touched. BackupError saying which choice fails and why.
    """
    if spec is None:
        return []
    found = COMPRESSION.match(spec.strip().lower())
    if found is None:
        raise BackupError(
            f"--compress {spec!r}: use METHOD[:LEVEL] with METHOD none, gzip, lz4 or zstd "
            "(e.g. gzip:6, zstd:3), or a gzip level 0-9"
        )
    method, level, bare = found["method"], found["level"], found["bare"]
    if method == "gzip" and level is not None and not 1 <= int(level) <= 9:
        raise BackupError(f"--compress {spec!r}: gzip levels are 1 to 9")
    if tool.major < 16:
        if method in ("lz4", "zstd"):
            raise BackupError(
                f"--compress {spec}: pg_dump {tool.major} ({tool.path}) compresses with gzip "
                "only; lz4 and zstd need pg_dump 16 or newer. Use gzip:LEVEL or none"
            )
        number = bare or ("0" if method == "none" else level or "6")
        return [f"--compress={number}"]
    option = f"--compress={spec.strip().lower()}"
    _probe_compression(tool, option, spec)
    return [option]


def _probe_compression(tool: Tool, option: str, spec: str) -> None:
    """Ask pg_dump to parse the choice (it checks before connecting, and we let it fail to
    connect to nowhere), so an unsupported method is refused before anything starts."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PGHOST": "/nonexistent-netplus-probe",
        "PGCONNECT_TIMEOUT": "2",
    }
    result = subprocess.run(
        [str(tool.path), option, "--format=custom", "--file=/dev/null", "--dbname=postgres"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    message = result.stderr.strip().splitlines()
    if message and "compression" in message[0]:
        detail = message[0].split("error:", 1)[-1].strip()
        raise BackupError(
            f"--compress {spec}: pg_dump at {tool.path} refuses it ({detail}); "
            "use gzip:LEVEL or none"
        )
