"""Optional components some tests need (PgBouncer, a streaming replica): skipped when absent,
unless NETPLUS_TEST_REQUIRE names them (`.ci/run` sets `pgbouncer,replica`): then a missing
component fails the test, so CI never passes by skipping."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def required(component: str) -> bool:
    """Whether NETPLUS_TEST_REQUIRE (comma-separated) names `component`."""
    names = os.environ.get("NETPLUS_TEST_REQUIRE", "")
    return component in {n.strip() for n in names.split(",")}


def missing(component: str, reason: str) -> NoReturn:
    """Fail (required) or skip (not required) a test whose component cannot run here."""
    message = f"{component} unavailable: {reason}"
    if required(component):
        pytest.fail(f"{message} (NETPLUS_TEST_REQUIRE names {component})", pytrace=False)
    pytest.skip(message)
