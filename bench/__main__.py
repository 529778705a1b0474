"""`python -m bench`: the benchmark commands (see `python -m bench --help`)."""

from bench.cli import bench

bench(prog_name="python -m bench")
