"""The `netplus-db` command (installed with the `cli` extra): one module per command group."""

from netplus_db.cli.main import cli, main

__all__ = ["cli", "main"]
