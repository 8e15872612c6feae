"""Benchmark: the CPU work of one backfill batch per row, in instructions, beside its peers.

Wall-clock rows/s on a shared machine says as much about the neighbours as about the
backfill (see ``docs/performance.md``). Instructions executed do not: this benchmark runs
each backfill, batch by batch, in a single-user PostgreSQL (``postgres --single``, no
server, no other backend) under valgrind's cachegrind, and reports the instructions it
executed per row mapped. The same statements give the same count on any x86-64 machine
with the same PostgreSQL build, however busy.

On a legacy table of ``--rows`` rows (default 20,000: valgrind runs PostgreSQL about 50
times slower), built as ``bench_online_migration.py`` builds it (primary key, legacy index
``(campaign_type, status, created_at)``) and taken through phasekit's expand step, it
compares, batch by batch (``--batch-size``, default 10,000):

- **phasekit**: the backfill ``migration_sql("postgresql")`` generates, with the sync
  trigger that expand installs (its ``WHEN`` skips the rows the batch maps): its batch
  statement as many times as one session runs it, the last run recording the step (its
  lanes are cut beforehand, a statement a migration runs once whatever its size);
- **per-row trigger (pgroll's shape)**: a no-op ``UPDATE ... SET id = id`` of each batch
  (``WHERE id IN (SELECT id ... ORDER BY id LIMIT n)``), the trigger, without a ``WHEN``,
  computing the phase columns of every row in PL/pgSQL, as pgroll's backfill does with
  its ``up`` triggers (here phasekit's own trigger function stands in for pgroll's);
- **phasekit without the trigger's WHEN**: phasekit's statement, its trigger function
  called on every row (phasekit before the ``WHEN``);
- **phasekit's statement, no trigger**: what the keyset batch, its checkpoint and the
  mapping's ``CASE`` cost on their own;
- **PostgreSQL's floor**: ``UPDATE ... SET`` of constant phase values by id range, with no
  trigger: the least any backfill of these columns costs, the row's new version and its
  index entries.

Each is run on a fresh copy of the same data directory; a run of the check query alone
is subtracted, and every run must leave no row unmapped. Requires valgrind and the
PostgreSQL server binaries (``.ci/start-postgres.sh`` installs these when missing).

Run with ``make bench`` or ``python benchmarks/bench_backfill_instructions.py``.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from _harness import machine_line, print_table
from bench_online_migration import CI, TABLE, build_table, log

from phasekit import migration_sql, runner

CHECK = f"SELECT count(*) AS unmapped FROM {TABLE} WHERE current_phase IS NULL"


@dataclass(frozen=True)
class Variant:
    name: str
    directory: str
    statements: tuple[str, ...]


def as_postgres(command: Sequence[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run ``command`` as the 'postgres' user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else list(command)


def server_binaries() -> Path:
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (directory / "postgres").exists():
            return directory
    raise SystemExit("bench_backfill_instructions: no PostgreSQL server binaries found")


@contextmanager
def server_on(directory: Path) -> Iterator[str]:
    """Start a PostgreSQL server on a new data ``directory``, yield its DSN, stop it after
    (with a checkpoint, so that a single-user run on a copy starts from a clean state)."""
    environment = {**os.environ, "PHASEKIT_PG_DATA": str(directory)}
    started = (
        subprocess.run(
            [str(CI / "start-postgres.sh")],
            check=True,
            capture_output=True,
            text=True,
            env=environment,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    try:
        yield started.split()[1].split("=", 1)[1]
    finally:
        subprocess.run(
            as_postgres([str(server_binaries() / "pg_ctl"), "-D", str(directory), "-w", "stop"]),
            check=True,
            capture_output=True,
        )


def prepare(root: Path, rows: int, batch: int) -> int:
    """Build the legacy table, run expand, cut the backfill's lanes, and make one data
    directory per trigger; return how many runs of the batch statement the walk takes
    (a batch a lane's ``batch`` rows or fewer, and the run that records the step)."""
    template = root / "phasekit"
    with server_on(template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as connection:
            build_table(connection, rows)
        runner.migrate(dsn, to="expand")
        step = migration_sql("postgresql", batch_size=batch).step("backfill")
        with psycopg.connect(dsn, autocommit=True) as connection:
            for statement in step.statements[:-1]:
                connection.execute(statement)
            counted = connection.execute(
                f"SELECT COALESCE(sum(ceil((SELECT COUNT(*) FROM {TABLE} "
                f"WHERE id BETWEEN next_id AND end_id) / {batch}.0)), 0) "
                f"FROM {TABLE}_phasekit_lanes"
            ).fetchone()
            connection.execute(f"VACUUM ANALYZE {TABLE}")
            connection.execute("CHECKPOINT")
    function = f"{TABLE}_phasekit_sync"
    changes = {
        "no_trigger": [f"DROP TRIGGER phasekit_sync ON {TABLE}"],
        "trigger_per_row": [
            f"DROP TRIGGER phasekit_sync ON {TABLE}",
            f"CREATE TRIGGER phasekit_sync BEFORE INSERT OR UPDATE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        ],
    }
    for directory, statements in changes.items():
        subprocess.run(["cp", "-a", str(template), str(root / directory)], check=True)
        single_user(root / directory, statements)
    return int(counted[0]) + 1 if counted else 1


@contextmanager
def valgrind_workspace(benchmark: str) -> Iterator[Path]:
    """Yield a temporary directory the PostgreSQL user may write, once valgrind is found."""
    if shutil.which("valgrind") is None:
        raise SystemExit(f"{benchmark}: valgrind is missing (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix=f"phasekit-{benchmark}-") as temporary:
        root = Path(temporary)
        if os.getuid() == 0:
            shutil.chown(root, "postgres")
        yield root


def single_user(directory: Path, statements: Sequence[str], *, valgrind: bool = False) -> str:
    """Run ``statements`` in a single-user PostgreSQL on ``directory``; return its output
    (with valgrind's summary when ``valgrind``)."""
    command = [
        str(server_binaries() / "postgres"), "--single", "-j", "-D", str(directory),
        "-c", "jit=off", "-c", "autovacuum=off", "-c", "fsync=off", "postgres",
    ]  # fmt: skip
    if valgrind:
        command = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                   "--cachegrind-out-file=/dev/null", *command]  # fmt: skip
    script = "".join(f"{statement};\n\n" for statement in statements)
    done = subprocess.run(
        as_postgres(command), input=script, capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or "ERROR:" in output:
        raise SystemExit(f"bench_backfill_instructions: the single-user run failed:\n{output}")
    return output


def instructions(root: Path, number: int, variant: Variant) -> tuple[int, int]:
    """Return the instructions of ``variant``'s statements and the check after them, and
    the rows the check found unmapped (run ``number`` works in its own copy)."""
    work = root / f"run-{number}"
    subprocess.run(["cp", "-a", str(root / variant.directory), str(work)], check=True)
    try:
        output = single_user(work, (*variant.statements, CHECK), valgrind=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    unmapped = re.search(r'unmapped = "(\d+)"', output)
    if unmapped is None:
        raise SystemExit(f"bench_backfill_instructions: no check in the output:\n{output}")
    return instruction_count(output), int(unmapped.group(1))


def instruction_count(output: str) -> int:
    """Return the instructions cachegrind's summary in ``output`` counted."""
    counted = re.search(r"I\s+refs:\s+([\d,]+)", output)
    if counted is None:
        raise SystemExit(f"bench_backfill_instructions: no count in the output:\n{output}")
    return int(counted.group(1).replace(",", ""))


def variants(rows: int, batch: int, runs: int) -> list[Variant]:
    step = migration_sql("postgresql", batch_size=batch).step("backfill")
    batches = math.ceil(rows / batch)
    # The lanes are cut beforehand (a statement once a migration, whatever its rows); the
    # walk is ``runs`` runs of the batch statement, as one session runs them.
    phasekit = (step.statements[-1],) * runs
    per_row = tuple(
        f"UPDATE {TABLE} SET id = id WHERE id IN "
        f"(SELECT id FROM {TABLE} WHERE id > {first} ORDER BY id LIMIT {batch})"
        for first in range(0, (batches + 1) * batch, batch)
    )
    floor = tuple(
        f"UPDATE {TABLE} SET current_phase = 'dns_validation', phase_status = 'completed', "
        f"progress = 0 WHERE id BETWEEN {first} AND {first + batch - 1}"
        for first in range(1, rows + 1, batch)
    )
    return [
        Variant("phasekit", "phasekit", phasekit),
        Variant("per-row trigger (pgroll's shape)", "trigger_per_row", per_row),
        Variant("phasekit without the trigger's WHEN", "trigger_per_row", phasekit),
        Variant("phasekit's statement, no trigger", "no_trigger", phasekit),
        Variant("PostgreSQL's floor (constant values, no trigger)", "no_trigger", floor),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()
    with valgrind_workspace("bench_backfill_instructions") as root:
        log(f"building {args.rows:,} rows, running expand and cutting the lanes")
        walk = prepare(root, args.rows, args.batch_size)
        runs = [
            Variant("check alone", "phasekit", ()),
            *variants(args.rows, args.batch_size, walk),
        ]
        log(f"running {len(runs)} single-user PostgreSQL under valgrind (minutes)")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            results = list(pool.map(instructions, [root] * len(runs), range(len(runs)), runs))
    baseline = results[0][0]
    per_row = {
        variant.name: (count - baseline) / args.rows
        for variant, (count, _) in zip(runs[1:], results[1:], strict=True)
    }
    unmapped = {variant.name: left for variant, (_, left) in zip(runs, results, strict=True)}
    if any(unmapped[variant.name] for variant in runs[1:]):
        raise SystemExit(f"bench_backfill_instructions: rows left unmapped: {unmapped}")
    ours = per_row["phasekit"]
    print(
        f"\n## Backfill instructions per row ({machine_line()}, {args.rows:,} rows, "
        f"batches of {args.batch_size:,}, PostgreSQL {server_binaries().parent.name}, "
        "valgrind cachegrind)"
    )
    print_table(
        "Instructions per row mapped (fewer is faster; the same on any machine)",
        ["backfill", "instructions per row", "vs phasekit"],
        [[name, f"{count:,.0f}", f"{count / ours:.2f}x"] for name, count in per_row.items()],
    )
    print(
        f"\nEvery run left 0 rows unmapped. The check query alone: {baseline:,} instructions "
        "(subtracted)."
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
