"""Mutation testing of the database's guarantees (outside the wheel, like bench/).

- `python -m mutation.sql` (`make mutation-sql`): policy, grant and search_path mutants, each in
  a scratch database cloned from a migrated template, against the schema/security tests;
- `python -m mutation.planted` (`make mutation-planted`): the bugs of issue 19, planted one at a
  time in a copy of the checkout, each failing a test;
- `make mutation`: mutmut on the Python modules that carry guarantees (docs/mutation.md).
"""
