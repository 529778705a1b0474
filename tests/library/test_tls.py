"""TLS to the server: `sslmode=verify-full` in every form the configuration accepts.

A PostgreSQL with `ssl=on` is started for this module from Debian's binaries (the embedded
server is built without TLS), with a certificate authority and a server certificate made for
the test, issued for `localhost` only. Connecting by that name verifies; connecting by
127.0.0.1 is refused because the certificate does not name it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import trustme

from netplus_db import ConnectError, Database, resolve_target
from netplus_db.connection import connect
from tests.support.server import REPO

pytestmark = pytest.mark.slow  # starts its own PostgreSQL server

DEBIAN_BIN = Path("/usr/lib/postgresql/15/bin")
RUN_AS = "postgres"  # PostgreSQL refuses to run as root


@dataclass(frozen=True)
class TlsServer:
    """A server that speaks TLS on 127.0.0.1 with a certificate for `localhost`."""

    port: int
    ca_file: Path

    def dsn(self, host: str = "localhost", sslmode: str = "verify-full") -> str:
        """A keyword connection string to its `postgres` database."""
        return (
            f"host={host} port={self.port} user=postgres dbname=postgres"
            f" sslmode={sslmode} sslrootcert={self.ca_file}"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(*args: str) -> None:
    prefix = ["runuser", "-u", RUN_AS, "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    """The module's TLS server, stopped and removed afterwards."""
    if not (DEBIAN_BIN / "postgres").exists():
        pytest.skip(f"no PostgreSQL server binaries with TLS in {DEBIAN_BIN}")
    home = Path(tempfile.mkdtemp(prefix="netplus-tls-"))
    data = home / "data"
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    ca_file = home / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    if os.geteuid() == 0:
        shutil.chown(home, RUN_AS)
    home.chmod(0o755)
    try:
        _as_postgres(str(DEBIAN_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        cert.cert_chain_pems[0].write_to_path(str(data / "server.crt"))
        cert.private_key_pem.write_to_path(str(data / "server.key"))
        (data / "server.key").chmod(0o600)
        if os.geteuid() == 0:
            for name in ("server.crt", "server.key"):
                shutil.chown(data / name, RUN_AS)
        port = _free_port()
        options = (
            f"-c ssl=on -c port={port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={home} -c fsync=off"
        )
        log = home / "server.log"
        _as_postgres(
            str(DEBIAN_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(log),
            "-w",
            "start",
        )
        yield TlsServer(port, ca_file)
    finally:
        if (data / "postmaster.pid").exists():
            _as_postgres(str(DEBIAN_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


def _uses_tls(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    return bool(row and row[0])


def test_verify_full_connects_in_keyword_and_url_form(tls_server: TlsServer) -> None:
    with connect(resolve_target(tls_server.dsn())) as conn:
        assert _uses_tls(conn)
    url = (
        f"postgresql://postgres@localhost:{tls_server.port}/postgres"
        f"?sslmode=verify-full&sslrootcert={tls_server.ca_file}"
    )
    with Database(url, app_role=None) as db, db.transaction() as q:
        assert _uses_tls(q.conn)


def test_the_spec_variables_take_tls_settings_from_libpqs_environment(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", str(tls_server.ca_file))
    variables = {"DB_HOST": "localhost", "DB_PORT": str(tls_server.port), "DB_NAME": "postgres"}
    target = resolve_target(None, {**variables, "DB_USER": "postgres"})
    assert "sslmode=verify-full" in target.describe()
    with connect(target) as conn:
        assert _uses_tls(conn)


def test_a_host_name_the_certificate_does_not_name_is_refused_clearly(
    tls_server: TlsServer,
) -> None:
    with pytest.raises(ConnectError) as refused:
        connect(resolve_target(tls_server.dsn(host="127.0.0.1")))
    message = str(refused.value)
    assert "host 127.0.0.1" in message and "sslmode=verify-full" in message
    assert 'does not match host name "127.0.0.1"' in message


def test_a_certificate_from_an_unknown_authority_is_refused(
    tls_server: TlsServer, tmp_path: Path
) -> None:
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    dsn = tls_server.dsn().replace(str(tls_server.ca_file), str(stranger))
    with pytest.raises(ConnectError, match="certificate verify failed"):
        connect(resolve_target(dsn))


def test_the_cli_target_line_shows_the_tls_mode(tls_server: TlsServer) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "netplus_db", "--dsn", tls_server.dsn(), "doctor"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    target_line = ran.stdout.splitlines()[0]
    assert target_line.startswith("target:") and "host localhost" in target_line
    assert "sslmode=verify-full" in target_line
    assert "reachable:  yes" in ran.stdout, ran.stdout
