"""Helpers for the local server processes the tests and benchmarks start (PgBouncer, standbys):
a free loopback port, the user they run as, and a command run as that user."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

from netplus_db.errors import NetplusError


class LocalProcessError(NetplusError):
    """A local helper process (PgBouncer, a standby's pg_ctl...) could not be run."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_as_user(preferred: str = "postgres") -> str | None:
    """PostgreSQL and PgBouncer refuse to run as root: then they run as `preferred`; None when
    this process is not root (they run as this process's user)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(preferred)
    except KeyError:
        raise LocalProcessError(
            f"running as root, server processes must run as user {preferred}, and there is no"
            " such user"
        ) from None
    return preferred


def server_user(host: str) -> str | None:
    """The user a helper process reaching a server at `host` runs as: for a Unix socket
    directory, its owner (only the server's own user may enter a private one), else
    `run_as_user()`; None when this process is not root."""
    if os.geteuid() != 0:
        return None
    if host.startswith("/") and Path(host).exists():
        owner = Path(host).owner()
        if owner != "root":
            return owner
    return run_as_user()


def as_user(user: str | None, args: list[str]) -> list[str]:
    """`args` prefixed to run as `user` (runuser), or unchanged when `user` is None."""
    return ["runuser", "-u", user, "--", *args] if user else args


def run(user: str | None, args: list[str], *, timeout: float = 120) -> str:
    """Run a command as `user`; its stdout, or LocalProcessError with its stderr."""
    done = subprocess.run(
        as_user(user, args), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise LocalProcessError(f"{Path(args[0]).name} failed: {detail}")
    return done.stdout


def give_to(user: str | None, path: Path) -> None:
    """Make `path` (a directory tree) belong to `user`, so a process run as that user can
    write there."""
    if user is None:
        return
    for root, dirs, files in os.walk(path):
        shutil.chown(root, user)
        for name in dirs + files:
            shutil.chown(os.path.join(root, name), user)
