"""Benchmark: the plan's phase queries beside the legacy ones they replace, in instructions.

Issue 11 asks that the plan's phase queries run at least as fast on the new index as the
legacy queries did on the legacy index before the migration. Their wall-clock times on a
shared machine differ tenfold from one run to the next with the same plan (see
``docs/performance.md``); the instructions a query executes do not. On two tables of
``--rows`` rows (default 200,000), built alike by ``bench_online_migration.py``'s
``build_table``:

- **legacy**: the table as the old application leaves it, with its legacy index
  ``(campaign_type, status, created_at)``, after ``VACUUM ANALYZE``;
- **phases**: the same table as ``phasekit.runner.migrate(...,
  index_columns=("created_at",), to="contract")`` leaves it (the backfill's new row
  versions included; its ``vacuum`` step has run ``VACUUM (ANALYZE)``),

it runs each query in a single-user PostgreSQL (``postgres --single``) under valgrind's
cachegrind, once to warm the buffers and then ``--repeat`` more times, and reports the
instructions of one warm run: planned each run, as a simple query is, and prepared once
(``PREPARE``/``EXECUTE``), as psycopg runs a query from its fifth run on. Plans are
serial (``max_parallel_workers_per_gather = 0``): a single-user backend has no parallel
workers, and the instructions of a serial plan are the whole work a query costs the
machine, whatever its parallelism. The plans, as the planner chooses them, are printed
beside the counts. Requires valgrind and the PostgreSQL server binaries
(``.ci/start-postgres.sh`` installs these when missing).

Run with ``make bench`` or ``python benchmarks/bench_query_instructions.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
from _harness import machine_line, print_table
from bench_backfill_instructions import (
    instruction_count,
    server_binaries,
    server_on,
    single_user,
    valgrind_workspace,
)
from bench_online_migration import LEGACY_QUERIES, PHASE_QUERIES, build_table, log

from phasekit import runner

SERIAL = "SET max_parallel_workers_per_gather = 0"


@dataclass(frozen=True)
class Run:
    """``runs`` runs of ``query`` on the table in ``directory``, planned each time or
    prepared once (as psycopg prepares a query from its fifth run on)."""

    directory: str
    query: str
    prepared: bool
    runs: int


def explained(dsn: str, query: str) -> list[str]:
    """Return the serial plan the server chooses for ``query``."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(SERIAL)
        return [row[0] for row in connection.execute(f"EXPLAIN (COSTS OFF) {query}")]


def prepare(root: Path, rows: int) -> dict[str, list[str]]:
    """Build the legacy and the migrated table, each in its own data directory; return
    each query's plan."""
    plans: dict[str, list[str]] = {}
    with server_on(root / "legacy") as dsn:
        with psycopg.connect(dsn, autocommit=True) as connection:
            build_table(connection, rows)
        plans.update({query: explained(dsn, query) for _, query in LEGACY_QUERIES})
    with server_on(root / "phases") as dsn:
        with psycopg.connect(dsn, autocommit=True) as connection:
            build_table(connection, rows)
        # As the migration leaves it: its vacuum step has run VACUUM (ANALYZE).
        runner.migrate(dsn, index_columns=("created_at",), to="contract")
        plans.update({query: explained(dsn, query) for _, query in PHASE_QUERIES})
    return plans


def instructions(root: Path, number: int, run: Run) -> int:
    """Return the instructions of ``run`` on a copy of its data directory."""
    work = root / f"run-{number}"
    subprocess.run(["cp", "-a", str(root / run.directory), str(work)], check=True)
    if run.prepared:
        statements = (f"PREPARE measured AS {run.query}", *("EXECUTE measured",) * run.runs)
    else:
        statements = (run.query,) * run.runs
    try:
        output = single_user(work, (SERIAL, *statements), valgrind=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return instruction_count(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    pairs: list[tuple[str, str, str]] = []
    for (legacy_name, legacy), (phase_name, phase) in zip(
        LEGACY_QUERIES, PHASE_QUERIES, strict=True
    ):
        name = legacy_name if legacy_name == phase_name else f"{legacy_name} / {phase_name}"
        pairs.append((name, legacy, phase))
    with valgrind_workspace("bench_query_instructions") as root:
        log(f"building two tables of {args.rows:,} rows, migrating one")
        plans = prepare(root, args.rows)
        work = [
            Run(directory, query, prepared, runs)
            for _, legacy, phase in pairs
            for prepared in (False, True)
            for directory, query in (("legacy", legacy), ("phases", phase))
            for runs in (1, 1 + args.repeat)
        ]
        log(f"running {len(work)} single-user PostgreSQL under valgrind (minutes)")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            counts = list(pool.map(instructions, [root] * len(work), range(len(work)), work))
    # The first run warms the buffers (and prepares): the others are the warm runs.
    warm = {
        (run.query, run.prepared): (counts[index + 1] - counts[index]) / args.repeat
        for index, run in enumerate(work)
        if index % 2 == 0
    }
    print(
        f"\n## Query instructions ({machine_line()}, {args.rows:,} rows, PostgreSQL "
        f"{server_binaries().parent.name}, serial plans, valgrind cachegrind)"
    )
    print_table(
        "Instructions per warm run (fewer is faster; the same on any machine)",
        ["query", "legacy, before the migration", "phases, after it", "phases vs legacy"],
        [
            [
                f"{name}, {'prepared once' if prepared else 'planned each run'}",
                f"{warm[old, prepared]:,.0f}",
                f"{warm[new, prepared]:,.0f}",
                f"{warm[new, prepared] / warm[old, prepared]:.2f}x",
            ]
            for name, old, new in pairs
            for prepared in (False, True)
        ],
    )
    for name, legacy, phase in pairs:
        for side, query in (("legacy", legacy), ("phases", phase)):
            print(f"\n{name}, {side}:\n\n    {query}\n")
            print("\n".join(f"    {line}" for line in plans[query]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
