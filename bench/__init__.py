"""The performance benchmark suite (`python -m bench suite`, `make bench`).

At a chosen scale (N thousand synthetic learners on the seeded catalog) it runs each query class
of the spec's "Query Performance Targets" three ways and reports latency percentiles beside the
spec's targets:

- through `netplus_db` (the public API, as a backend calls it: `Database`, `as_user`, the flows);
- through raw psycopg running the same SQL on the same connection (the library's cost); a flow
  runs there on one plain cursor (`raw_driver.drive_raw`), the very flow the library runs;
- through pgbench `-M prepared` running the same SQL (the server's own floor, no Python).

Modules, one concern each: `stats` (percentiles, paired differences and their intervals),
`scale_database` (build or reuse the scale-N database and its samples), `query_classes` (the
query classes and their three runners), `raw_driver` (the raw baseline: named queries and flows
on one psycopg cursor), `overhead` (the library's overhead per call, part by part; also
`python -m bench queries`), `pgbench` (scripts from the library's SQL, the run, the log),
`mixed` (the 4-process workload and the invariants checked afterwards), `plans` (EXPLAIN checks
of every hot-path statement), `operations` (migrate, seed, view refresh, backup and restore
beside psql / pg_dump / pg_restore), `report` (docs/benchmarks.md), `suite` (the whole run),
`partitions` and `partitions_report` (`python -m bench partitions`: retention by DELETE beside
retention by partition, and the conversion migration, on clones of the scale database),
`writer` (an application writer that records how long each insert waited) and `cli` (the
commands). Speed is reported, never asserted in tests.
"""
