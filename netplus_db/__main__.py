"""`python -m netplus_db` runs the `netplus-db` command."""

from netplus_db.cli import main

main()
