"""Target resolution: the documented precedence, .env handling, and passwords kept out of text."""

from __future__ import annotations

from pathlib import Path

import pytest

from netplus_db.config import (
    SOURCE_EMBEDDED,
    SOURCE_OPTION,
    SOURCE_URL,
    SOURCE_VARIABLES,
    load_env_file,
    redact,
    resolve_target,
)
from netplus_db.errors import ConfigError

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
