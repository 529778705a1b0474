"""Where the database is: one precedence, shared by the CLI, the library and the tests.

`--dsn` option > `DATABASE_URL` > the spec's `DB_HOST`/`DB_PORT`/`DB_NAME`/`DB_USER`/`DB_PASSWORD`
> the embedded PostgreSQL under `NETPLUS_HOME` (default `./.netplus`). A `.env` file in the working
directory is read first without overriding variables that are already set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from netplus_db.errors import ConfigError

DEFAULT_DBNAME = "network_plus_learning"
DB_VARIABLES = ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD")

SOURCE_OPTION = "--dsn"
SOURCE_URL = "DATABASE_URL"
SOURCE_VARIABLES = "DB_* variables"
SOURCE_EMBEDDED = "embedded"


@dataclass(frozen=True)
class Target:
    """A database to act on. `conninfo` holds the password: never print it, print `describe()`."""

    params: Mapping[str, str]
    source: str
    embedded_home: Path | None = None
    _secret: str = field(default="", repr=False)

    @property
    def conninfo(self) -> str:
        """The libpq connection string, password included: for connecting, never for output."""
        return make_conninfo("", **dict(self.params))

    @property
    def dbname(self) -> str:
        """The database name (libpq falls back to the user name, as psql does)."""
        return self.params.get("dbname") or self.user

    @property
    def user(self) -> str:
        """The role name connections use."""
        return self.params.get("user") or os.environ.get("PGUSER") or _os_user()

    @property
    def host(self) -> str:
        """Host name, address or Unix socket directory."""
        return self.params.get("host") or os.environ.get("PGHOST") or "local socket"

    @property
    def port(self) -> str:
        """TCP port, or the socket file's number."""
        return self.params.get("port") or os.environ.get("PGPORT") or "5432"

    @property
    def is_local(self) -> bool:
        """True for the embedded server, a Unix socket, or a loopback address."""
        if self.embedded_home is not None:
            return True
        host = self.host
        return host.startswith("/") or host in {"local socket", "localhost", "127.0.0.1", "::1"}

    @property
    def sslmode(self) -> str | None:
        """The TLS mode libpq will use over TCP (`prefer` is libpq's default); None on a Unix
        socket, where there is no TLS."""
        if self.host.startswith("/") or self.host == "local socket":
            return None
        return self.params.get("sslmode") or os.environ.get("PGSSLMODE") or "prefer"

    def describe(self) -> str:
        """One line naming host, port, database, user and TLS mode, the password redacted."""
        password = " password=***" if self.params.get("password") else ""
        where = f"socket {self.host}" if self.host.startswith("/") else f"host {self.host}"
        tls = f" sslmode={self.sslmode}" if self.sslmode else ""
        return (
            f"{where} port {self.port} database {self.dbname} user {self.user}{password}{tls}"
            f" (from {self.source})"
        )

    def with_dbname(self, dbname: str) -> Target:
        """The same server and credentials, another database."""
        return replace(self, params={**self.params, "dbname": dbname})

    def redact(self, text: str) -> str:
        """Remove this target's password from any text (error messages, tool output)."""
        return redact(text, self.params.get("password"))

    def libpq_env(self) -> dict[str, str]:
        """Environment for pg_dump, psql...: PG* variables, the password in PGPASSWORD."""
        mapping = {
            "host": "PGHOST",
            "port": "PGPORT",
            "dbname": "PGDATABASE",
            "user": "PGUSER",
            "password": "PGPASSWORD",
            "sslmode": "PGSSLMODE",
            "sslrootcert": "PGSSLROOTCERT",
            "sslcert": "PGSSLCERT",
            "sslkey": "PGSSLKEY",
            "sslcrl": "PGSSLCRL",
            "options": "PGOPTIONS",
            "application_name": "PGAPPNAME",
            "connect_timeout": "PGCONNECT_TIMEOUT",
        }
        # The environment's PG* variables could point the tool elsewhere; its TLS settings
        # (PGSSLMODE, PGSSLROOTCERT...) are kept, as libpq in this process honours them too.
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("PG") or k.startswith("PGSSL")
        }
        for key, value in self.params.items():
            if key in mapping and value:
                env[mapping[key]] = value
        return env


def redact(text: str, password: str | None) -> str:
    """Replace a password, and any `password=...` or `user:secret@` fragment, with ***."""
    if password:
        text = text.replace(password, "***")
    text = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", text, flags=re.IGNORECASE)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def load_env_file(path: Path | None = None) -> None:
    """Read `.env` from the working directory (or `path`) without overriding set variables.

    The reader is python-dotenv, which comes with the `cli` extra; a backend installed without
    it configures the library by its environment alone, and a `.env` file is then not read.
    """
    try:
        from dotenv import load_dotenv
    except ImportError:
        return
    load_dotenv(path or Path.cwd() / ".env", override=False)


def resolve_target(dsn: str | None = None, env: Mapping[str, str] | None = None) -> Target:
    """Work out the target by the documented precedence; the embedded one is not started here."""
    env = os.environ if env is None else env
    if dsn:
        return Target(_parse(dsn, SOURCE_OPTION), SOURCE_OPTION)
    url = env.get("DATABASE_URL")
    if url:
        return Target(_parse(url, SOURCE_URL), SOURCE_URL)
    if any(env.get(name) for name in DB_VARIABLES):
        params = {
            "host": env.get("DB_HOST") or "localhost",
            "port": env.get("DB_PORT") or "5432",
            "dbname": env.get("DB_NAME") or DEFAULT_DBNAME,
        }
        if env.get("DB_USER"):
            params["user"] = env["DB_USER"]
        if env.get("DB_PASSWORD"):
            params["password"] = env["DB_PASSWORD"]
        if not params["port"].isdigit():
            raise ConfigError(f"DB_PORT must be a port number, got {params['port']!r}")
        return Target(params, SOURCE_VARIABLES)
    params = {"dbname": env.get("DB_NAME") or DEFAULT_DBNAME, "user": "postgres"}
    return Target(params, SOURCE_EMBEDDED, embedded_home=embedded_home(env))


def embedded_home(env: Mapping[str, str] | None = None) -> Path:
    """`NETPLUS_HOME`, or `./.netplus`: where the embedded server keeps its data."""
    env = os.environ if env is None else env
    return Path(env.get("NETPLUS_HOME") or Path.cwd() / ".netplus").resolve()


def _parse(dsn: str, source: str) -> dict[str, str]:
    try:
        parsed = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        # libpq quotes the offending fragment, which may be part of the password itself.
        detail = redact(str(exc), None)
        for fragment in _password_fragments(dsn):
            detail = detail.replace(fragment, "***")
        raise ConfigError(f"{source} is not a valid connection string: {detail}") from None
    return {k: str(v) for k, v in parsed.items() if v is not None}


def _password_fragments(dsn: str) -> list[str]:
    """Every word that may belong to a password written in a malformed connection string."""
    candidates = re.findall(r"password\s*=\s*('[^']*'?|.*)", dsn, flags=re.IGNORECASE)
    candidates += re.findall(r"://[^:/@\s]*:([^@]*)@", dsn)
    words = {w.strip("'\"") for c in candidates for w in c.split()}
    return sorted((w for w in words if w), key=len, reverse=True)


def _os_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except (KeyError, OSError):
        return "postgres"
