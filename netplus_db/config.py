"""Where the database is: one precedence, shared by the CLI, the library and the tests.

`--dsn` option > `DATABASE_URL` > the spec's `DB_HOST`/`DB_PORT`/`DB_NAME`/`DB_USER`/`DB_PASSWORD`
> the embedded PostgreSQL under `NETPLUS_HOME` (default `./.netplus`). A `.env` file in the working
directory is read first without overriding variables that are already set.
"""

from __future__ import annotations

import difflib
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
# Seconds a tool waits for a server to accept a connection, unless the target, the
# `--connect-timeout` option or PGCONNECT_TIMEOUT says otherwise.
DEFAULT_CONNECT_TIMEOUT = 10

SOURCE_OPTION = "--dsn"
SOURCE_DSN_VARIABLE = "NETPLUS_DSN"
SOURCE_URL = "DATABASE_URL"
SOURCE_VARIABLES = "DB_* variables"
SOURCE_EMBEDDED = "embedded"
IN_ENV_FILE = " in .env"

# Every variable netplus-db reads to find its database: a near miss is worth a warning.
KNOWN_VARIABLES = (
    "NETPLUS_DSN",
    "DATABASE_URL",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "NETPLUS_HOME",
    "NETPLUS_PGBOUNCER",
    "NETPLUS_REPLICA_DSNS",
    "NETPLUS_CACHE",
    "NETPLUS_CACHE_LISTEN_DSN",
)

# Variables `load_env_file` took from `.env` (not from the shell): name -> (file, value).
_env_file_names: dict[str, tuple[Path, str]] = {}


@dataclass(frozen=True)
class Target:
    """A database to act on. `conninfo` holds the password: never print it, print `describe()`."""

    params: Mapping[str, str]
    source: str
    embedded_home: Path | None = None
    _secret: str = field(default="", repr=False)
    # Things worth saying about how the target was found (a misspelt variable...).
    warnings: tuple[str, ...] = ()

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
        if self.embedded_home is not None and not self.params.get("host"):
            # Not started yet: its port is picked when it starts (5432 is often taken).
            where = f"embedded server in {self.embedded_home} (port chosen when it starts)"
        elif self.host == "local socket" or self.host.startswith("/"):
            where = f"socket {self.host}" if self.host.startswith("/") else "the local socket"
            where += f" port {self.port}"
        else:
            where = f"host {self.host} port {self.port}"
        tls = f" sslmode={self.sslmode}" if self.sslmode else ""
        return (
            f"{where} database {self.dbname} user {self.user}{password}{tls} (from {self.source})"
        )

    def with_dbname(self, dbname: str) -> Target:
        """The same server and credentials, another database."""
        return replace(self, params={**self.params, "dbname": dbname})

    def with_params(self, **params: str) -> Target:
        """The same target with some connection parameters set (e.g. connect_timeout)."""
        return replace(self, params={**self.params, **params})

    def as_json(self) -> dict[str, str | None]:
        """Host, port, database, user, TLS mode and source; never the password."""
        return {
            "host": self.host,
            "port": self.port,
            "database": self.dbname,
            "user": self.user,
            "sslmode": self.sslmode,
            "source": self.source,
        }

    @property
    def connect_timeout(self) -> int:
        """Seconds to wait for the server: the target's own setting, else PGCONNECT_TIMEOUT,
        else DEFAULT_CONNECT_TIMEOUT."""
        for value in (self.params.get("connect_timeout"), os.environ.get("PGCONNECT_TIMEOUT")):
            if value and value.strip().lstrip("-").isdigit() and int(value) > 0:
                return int(value)
        return DEFAULT_CONNECT_TIMEOUT

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
        # (PGSSLMODE, PGSSLROOTCERT...) and PGCONNECT_TIMEOUT are kept, as libpq in this
        # process honours them too.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PG") or k.startswith("PGSSL") or k == "PGCONNECT_TIMEOUT"
        }
        for key, value in self.params.items():
            if key in mapping and value:
                env[mapping[key]] = value
        env["PGCONNECT_TIMEOUT"] = str(self.connect_timeout)  # no tool waits for ever
        return env


def redact(text: str, password: str | None) -> str:
    """Replace a password, and any `password=...` or `user:secret@` fragment, with ***."""
    if password:
        text = text.replace(password, "***")
    text = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", text, flags=re.IGNORECASE)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def load_env_file(path: Path | None = None) -> dict[str, str]:
    """Read `.env` from the working directory (or `path`) without overriding set variables;
    returns the variables it set, which `resolve_target` then ranks below the shell's.

    The reader is python-dotenv, which comes with the `cli` extra; a backend installed without
    it configures the library by its environment alone, and a `.env` file is then not read.
    """
    try:
        from dotenv import dotenv_values
    except ImportError:
        return {}
    file = (path or Path.cwd() / ".env").resolve()
    if not file.is_file():
        return {}
    added: dict[str, str] = {}
    for name, value in dotenv_values(file).items():
        if value is None or (name in os.environ and name not in env_file_variables()):
            continue  # the shell's variable wins
        os.environ[name] = value
        _env_file_names[name] = (file, value)
        added[name] = value
    return added


def env_file_variables() -> dict[str, str]:
    """The variables of this process's environment that `load_env_file` set from `.env`
    (and nobody changed since)."""
    return {
        name: value
        for name, (_file, value) in _env_file_names.items()
        if os.environ.get(name) == value
    }


def resolve_target(
    dsn: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    env_file: Mapping[str, str] | None = None,
) -> Target:
    """Work out the target by the documented precedence; the embedded one is not started here.

    `env` is the whole environment (default: this process's); `env_file` the variables of it
    that came from `.env` (default: those `load_env_file` set), ranked below the shell's.
    """
    if env is None:
        env = os.environ
        if env_file is None:
            env_file = env_file_variables()
    env_file = env_file or {}
    shell = {k: v for k, v in env.items() if k not in env_file}
    warnings = tuple(_near_misses(env))
    if dsn:
        return Target(_parse(dsn, SOURCE_OPTION), SOURCE_OPTION, warnings=warnings)
    for layer, suffix in ((shell, ""), (env_file, IN_ENV_FILE)):
        for name, source in (("NETPLUS_DSN", SOURCE_DSN_VARIABLE), ("DATABASE_URL", SOURCE_URL)):
            if layer.get(name):
                label = source + suffix
                params = _parse(layer[name], label)
                if suffix and shell.get("DB_NAME"):  # an exported DB_NAME beats .env
                    params["dbname"] = shell["DB_NAME"]
                    label += ", DB_NAME from the environment"
                return Target(params, label, warnings=warnings)
        if any(layer.get(name) for name in DB_VARIABLES):
            return _from_variables(shell, env_file, warnings)
    dbname = shell.get("DB_NAME") or env_file.get("DB_NAME") or DEFAULT_DBNAME
    params = {"dbname": dbname, "user": "postgres"}
    return Target(params, SOURCE_EMBEDDED, embedded_home=embedded_home(env), warnings=warnings)


def _from_variables(
    shell: Mapping[str, str], env_file: Mapping[str, str], warnings: tuple[str, ...]
) -> Target:
    """The DB_* level: each variable from the shell, else from `.env`, else its default."""
    from_file: list[str] = []

    def get(name: str) -> str | None:
        if shell.get(name):
            return shell[name]
        if env_file.get(name):
            from_file.append(name)
            return env_file[name]
        return None

    params = {
        "host": get("DB_HOST") or "localhost",
        "port": get("DB_PORT") or "5432",
        "dbname": get("DB_NAME") or DEFAULT_DBNAME,
    }
    user, password = get("DB_USER"), get("DB_PASSWORD")
    if user:
        params["user"] = user
    if password:
        params["password"] = password
    if not params["port"].isdigit():
        raise ConfigError(f"DB_PORT must be a port number, got {params['port']!r}")
    given = [n for n in (*DB_VARIABLES, "DB_NAME") if shell.get(n) or env_file.get(n)]
    if from_file and len(from_file) == len(given):
        source = SOURCE_VARIABLES + IN_ENV_FILE
    elif from_file:
        source = f"{SOURCE_VARIABLES}; {', '.join(from_file)}{IN_ENV_FILE}"
    else:
        source = SOURCE_VARIABLES
    return Target(params, source, warnings=warnings)


def _near_misses(env: Mapping[str, str]) -> list[str]:
    """Warnings for set variables that look like misspellings of the ones netplus-db reads."""
    found = []
    for name in sorted(env):
        if name in KNOWN_VARIABLES or name.startswith("PG"):
            continue
        close = difflib.get_close_matches(name.upper(), KNOWN_VARIABLES, n=1, cutoff=0.75)
        if close:
            found.append(
                f"variable {name} is set but netplus-db does not read it; did you mean {close[0]}?"
            )
    return found


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def flag_from_env(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    """A yes/no variable (`1/true/yes/on`, `0/false/no/off`); `default` when unset; ConfigError
    naming the variable and value otherwise."""
    env = os.environ if env is None else env
    if name not in env:
        return default
    value = env[name].strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be 1/true/yes/on or 0/false/no/off, got {env[name]!r}")


def pgbouncer_from_env(env: Mapping[str, str] | None = None) -> bool:
    """`NETPLUS_PGBOUNCER`: the target is a PgBouncer in transaction pooling older than 1.21 (or
    without `max_prepared_statements`), so no statement may be prepared on the server."""
    return flag_from_env("NETPLUS_PGBOUNCER", False, env)


def replica_dsns_from_env(env: Mapping[str, str] | None = None) -> list[str]:
    """`NETPLUS_REPLICA_DSNS`: read replicas' connection strings, separated by `;` or newlines
    (a key=value DSN has spaces, a URI has commas in multi-host form); each one checked."""
    env = os.environ if env is None else env
    text = env.get("NETPLUS_REPLICA_DSNS", "")
    dsns = [part.strip() for part in re.split(r"[;\n]", text) if part.strip()]
    for number, dsn in enumerate(dsns, start=1):
        _parse(dsn, f"NETPLUS_REPLICA_DSNS entry {number}")
    return dsns


def cache_from_env(env: Mapping[str, str] | None = None) -> bool:
    """`NETPLUS_CACHE`: whether Database keeps the spec's in-process cache (default on)."""
    return flag_from_env("NETPLUS_CACHE", True, env)


def cache_listen_dsn_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """`NETPLUS_CACHE_LISTEN_DSN`: where the cache's listener connects instead of the target
    (the server itself, or a session-pooling port, when the target is a PgBouncer in
    transaction pooling); checked like any connection string."""
    env = os.environ if env is None else env
    dsn = env.get("NETPLUS_CACHE_LISTEN_DSN", "").strip()
    if not dsn:
        return None
    _parse(dsn, "NETPLUS_CACHE_LISTEN_DSN")
    return dsn


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
