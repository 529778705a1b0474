"""The embedded server's memory, sized once to the machine when its data directory is made."""

from __future__ import annotations

import pytest

from netplus_db.ops.embedded import memory_settings

GIB = 1024**3


@pytest.mark.parametrize(
    ("total", "shared", "cache"),
    [
        (512 * 1024**2, "128MB", "512MB"),  # small machine: never below PostgreSQL's default
        (1 * GIB, "128MB", "512MB"),
        (8 * GIB, "1024MB", "4096MB"),
        (24 * GIB, "2048MB", "12288MB"),  # capped: it shares the machine
        (256 * GIB, "2048MB", "131072MB"),
    ],
)
def test_shared_buffers_is_an_eighth_of_memory_within_bounds(
    total: int, shared: str, cache: str
) -> None:
    assert memory_settings(total) == {"shared_buffers": shared, "effective_cache_size": cache}


def test_this_machine_gets_sizes_within_the_bounds() -> None:
    """(That PostgreSQL starts with them is checked by test_cli's embedded-server test.)"""
    settings = memory_settings()
    if not settings:
        pytest.skip("no sysconf here: the embedded server keeps PostgreSQL's defaults")
    assert settings["shared_buffers"].endswith("MB")
    assert 128 <= int(settings["shared_buffers"].removesuffix("MB")) <= 2048
