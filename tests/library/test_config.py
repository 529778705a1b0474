"""Target resolution: the documented precedence, .env handling, and passwords kept out of text."""

from __future__ import annotations

from pathlib import Path

import pytest

from netplus_db.config import (
    DEFAULT_CONNECT_TIMEOUT,
    SOURCE_EMBEDDED,
    SOURCE_OPTION,
    SOURCE_URL,
    SOURCE_VARIABLES,
    load_env_file,
    redact,
    resolve_target,
)
from netplus_db.connection import require_supported_server
from netplus_db.errors import ConfigError, UnsupportedServer

SPEC_VARS = {
    "DB_HOST": "db.internal",
    "DB_PORT": "6543",
    "DB_NAME": "netplus",
    "DB_USER": "deploy",
    "DB_PASSWORD": "pa ss'word",
}


def test_dsn_option_beats_everything() -> None:
    env = {"DATABASE_URL": "postgresql://u@url-host/urldb", **SPEC_VARS}
    target = resolve_target("host=opt-host dbname=optdb user=me", env)
    assert (target.source, target.host, target.dbname) == (SOURCE_OPTION, "opt-host", "optdb")


def test_database_url_beats_the_spec_variables() -> None:
    env = {"DATABASE_URL": "postgresql://u:secret@url-host:5999/urldb", **SPEC_VARS}
    target = resolve_target(None, env)
    assert (target.source, target.host, target.port, target.dbname) == (
        SOURCE_URL,
        "url-host",
        "5999",
        "urldb",
    )


def test_spec_variables_with_their_defaults() -> None:
    target = resolve_target(None, SPEC_VARS)
    assert target.source == SOURCE_VARIABLES
    assert dict(target.params) == {
        "host": "db.internal",
        "port": "6543",
        "dbname": "netplus",
        "user": "deploy",
        "password": "pa ss'word",
    }
    only_host = resolve_target(None, {"DB_HOST": "h"})
    assert (only_host.port, only_host.dbname) == ("5432", "network_plus_learning")


def test_nothing_configured_means_the_embedded_server(tmp_path: Path) -> None:
    target = resolve_target(None, {"NETPLUS_HOME": str(tmp_path)})
    assert target.source == SOURCE_EMBEDDED
    assert target.embedded_home == tmp_path.resolve()
    assert target.dbname == "network_plus_learning" and target.is_local
    # Before it starts, its port is not known: the target line does not guess 5432.
    assert target.describe() == (
        f"embedded server in {tmp_path.resolve()} (port chosen when it starts)"
        " database network_plus_learning user postgres (from embedded)"
    )


def test_a_bad_port_is_named() -> None:
    with pytest.raises(ConfigError, match="DB_PORT must be a port number, got 'abc'"):
        resolve_target(None, {"DB_HOST": "h", "DB_PORT": "abc"})


@pytest.mark.parametrize(
    "dsn",
    [
        "host=h password=hunter2 dbname",
        "host=h password='hunter 2' port",
        "postgresql://u:hunter2@h:5432/db?sslmode",
    ],
)
def test_a_malformed_dsn_error_never_shows_the_password(dsn: str) -> None:
    try:
        resolve_target(dsn, {})
    except ConfigError as exc:
        assert "hunter" not in str(exc)
        assert "not a valid connection string" in str(exc)
    else:  # libpq accepted it: describing it must still hide the password
        assert "hunter" not in resolve_target(dsn, {}).describe()


def test_describe_names_the_target_and_hides_the_password() -> None:
    text = resolve_target(None, SPEC_VARS).describe()
    assert text == (
        "host db.internal port 6543 database netplus user deploy password=*** sslmode=prefer"
        " (from DB_* variables)"
    )


def test_describe_shows_the_tls_mode_of_a_tcp_target_and_none_on_a_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PGSSLMODE", raising=False)
    url = "postgresql://app@db.internal/netplus?sslmode=verify-full&sslrootcert=/etc/ca.pem"
    assert "sslmode=verify-full" in resolve_target(url, {}).describe()
    monkeypatch.setenv("PGSSLMODE", "require")
    assert "sslmode=require" in resolve_target(None, SPEC_VARS).describe()
    on_socket = resolve_target("host=/run/postgresql dbname=netplus", {})
    assert on_socket.sslmode is None and "sslmode" not in on_socket.describe()


def test_tools_get_the_targets_tls_settings_and_the_environments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGSSLROOTCERT", "/etc/ssl/ca.pem")
    monkeypatch.setenv("PGDATABASE", "elsewhere")
    env = resolve_target("host=db dbname=netplus sslmode=verify-full", {}).libpq_env()
    assert env["PGSSLMODE"] == "verify-full" and env["PGSSLROOTCERT"] == "/etc/ssl/ca.pem"
    assert env["PGDATABASE"] == "netplus"


def test_redact_removes_passwords_in_every_spelling() -> None:
    assert redact("postgresql://u:hunter2@h/db", None) == "postgresql://u:***@h/db"
    assert redact("password=hunter2 host=h", None) == "password=*** host=h"
    assert redact("failed for hunter2", "hunter2") == "failed for ***"


def test_dotenv_fills_unset_variables_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("DB_HOST=from-dotenv\nDB_NAME=dotenv_db\n")
    monkeypatch.setenv("DB_HOST", "placeholder")  # so that the undo removes what .env sets
    monkeypatch.delenv("DB_HOST")
    monkeypatch.setenv("DB_NAME", "already_set")
    monkeypatch.chdir(tmp_path)
    load_env_file()
    target = resolve_target(None)
    assert (target.host, target.dbname) == ("from-dotenv", "already_set")


URL = "postgresql://u:pw@url-host:5999/urldb"


@pytest.mark.parametrize(
    ("shell", "env_file", "source", "host", "dbname"),
    [
        # an exported DB_NAME beats a DATABASE_URL that only .env sets
        (
            {"DB_NAME": "mine"},
            {"DATABASE_URL": URL},
            "DATABASE_URL in .env, DB_NAME from",
            "url-host",
            "mine",
        ),
        # the shell's DB_* level beats .env's higher DATABASE_URL
        (
            {"DB_HOST": "shell-host"},
            {"DATABASE_URL": URL},
            "DB_* variables",
            "shell-host",
            "network_plus_learning",
        ),
        # the shell's DATABASE_URL beats .env's NETPLUS_DSN
        (
            {"DATABASE_URL": URL},
            {"NETPLUS_DSN": "host=file-host dbname=f"},
            "DATABASE_URL",
            "url-host",
            "urldb",
        ),
        # .env alone, named as such
        ({}, {"DATABASE_URL": URL}, "DATABASE_URL in .env", "url-host", "urldb"),
        ({}, {"NETPLUS_DSN": "host=h dbname=d"}, "NETPLUS_DSN in .env", "h", "d"),
        ({}, {"DB_HOST": "fh", "DB_NAME": "fd"}, "DB_* variables in .env", "fh", "fd"),
        # a password kept in .env fills the shell's DB_* level
        (
            {"DB_HOST": "sh"},
            {"DB_PASSWORD": "pw", "DB_HOST": "fh"},
            "DB_* variables; DB_PASSWORD in .env",
            "sh",
            "network_plus_learning",
        ),
        ({"NETPLUS_DSN": "host=n dbname=nd"}, {}, "NETPLUS_DSN", "n", "nd"),
    ],
)
def test_the_shell_beats_dotenv_at_every_level(
    shell: dict[str, str], env_file: dict[str, str], source: str, host: str, dbname: str
) -> None:
    loaded = {k: v for k, v in env_file.items() if k not in shell}  # as load_env_file does
    target = resolve_target(None, {**env_file, **shell}, env_file=loaded)
    assert target.source.startswith(source), target.source
    assert (target.host, target.dbname) == (host, dbname)


def test_dotenv_variables_are_remembered_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(f"DATABASE_URL={URL}\n")
    monkeypatch.setenv("DATABASE_URL", "placeholder")
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DB_NAME", "exported")
    monkeypatch.chdir(tmp_path)
    assert load_env_file() == {"DATABASE_URL": URL}
    target = resolve_target(None)
    assert target.source == "DATABASE_URL in .env, DB_NAME from the environment"
    assert "(from DATABASE_URL in .env, DB_NAME from the environment)" in target.describe()
    assert target.dbname == "exported"


def test_a_near_miss_variable_is_a_warning() -> None:
    target = resolve_target(None, {"DATABASE_URI": URL, "DB_PASS": "x", "HOME": "/root"})
    assert target.source == SOURCE_EMBEDDED
    assert any("DATABASE_URI" in w and "DATABASE_URL" in w for w in target.warnings)
    assert any("DB_PASS " in w and "DB_PASSWORD" in w for w in target.warnings)
    assert not any("HOME" in w.split()[1] for w in target.warnings)


def test_the_connect_timeout_comes_from_the_target_then_pgconnect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    assert resolve_target("host=h", {}).connect_timeout == DEFAULT_CONNECT_TIMEOUT
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "4")
    assert resolve_target("host=h", {}).connect_timeout == 4
    assert resolve_target("host=h connect_timeout=7", {}).connect_timeout == 7
    assert (
        resolve_target("host=h", {})
        .with_params(connect_timeout="3")
        .libpq_env()["PGCONNECT_TIMEOUT"]
        == "3"
    )


def test_as_json_never_holds_the_password() -> None:
    data = resolve_target(None, SPEC_VARS).as_json()
    assert data == {
        "host": "db.internal",
        "port": "6543",
        "database": "netplus",
        "user": "deploy",
        "sslmode": data["sslmode"],
        "source": "DB_* variables",
    }
    assert "pa ss" not in str(data)


def test_a_server_older_than_15_is_refused_naming_its_version() -> None:
    with pytest.raises(UnsupportedServer, match=r"PostgreSQL 14\.12 is too old.* 15 or newer"):
        require_supported_server(140012, "14.12")
    with pytest.raises(UnsupportedServer, match=r"9\.6\.24"):
        require_supported_server(90624, "9.6.24")
    require_supported_server(150000, "15.0")
    require_supported_server(180001, "18.1")
