"""The performance benchmark suite (`netplus-db bench suite`, `make bench`).

At a chosen scale (N thousand synthetic learners on the seeded catalog) it runs each query class
of the spec's "Query Performance Targets" three ways and reports latency percentiles beside the
spec's targets:

- through `netplus_db` (the public API, as a backend calls it: `Database`, `as_user`, the flows);
- through raw psycopg running the same SQL on the same kind of connection (the library's cost);
- through pgbench `-M prepared` running the same SQL (the server's own floor, no Python).

Modules, one concern each: `stats` (percentiles), `database` (build or reuse the scale-N
database and its samples), `classes` (the query classes and their three runners), `pgbench`
(scripts from the library's SQL, the run, the log), `mixed` (the 4-process workload and the
invariants checked afterwards), `plans` (EXPLAIN checks of every hot-path statement), `extras`
(migrate, seed, refresh, backup/restore lines), `report` (docs/benchmarks.md) and `suite` (the
whole run). Speed is reported, never asserted in tests.
"""
