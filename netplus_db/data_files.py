"""Where the project's data folders are: `migrations/`, `queries/` and `seed/` of a checkout,
else the copies shipped inside the installed wheel (`netplus_db/_data/`)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The checkout's folder `name` beside the package, else the wheel's copy."""
    checkout = PACKAGE.parent / name
    return checkout if checkout.is_dir() else PACKAGE / "_data" / name
