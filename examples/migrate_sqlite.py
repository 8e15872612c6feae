"""The 2M-row migration demo: legacy campaigns to phases on an embedded SQLite database.

It creates a SQLite database of ``--rows`` legacy campaigns (2,000,000 by default) with a
realistic mix of types, statuses and progress, then runs phasekit's generated script step
by step: preflight (the report, unknown and lossy values first), expand, backfill (keyset
batches, each with its checkpoint), verify and contract, timing each one. Finally it rolls
everything back and proves that every legacy row came back exactly.

It runs the printed script's steps one at a time, to show them, each with
``phasekit.runner.run_sqlite_step``; ``phasekit migrate --dsn sqlite:///FILE`` runs the
same steps the same way, resumably, while an application writes.

Run it with ``make demo`` or ``python examples/migrate_sqlite.py --rows 100000``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import phasekit
from phasekit import LegacyMapping, MappingReport, MigrationScript, MigrationStep
from phasekit.runner import run_sqlite_step

TYPES = {"domain_generation": 50, "dns_validation": 30, "http_keyword_validation": 20}
STATUSES = {
    "pending": 10,
    "queued": 8,
    "running": 15,
    "pausing": 1,
    "paused": 6,
    "completed": 35,
    "failed": 7,
    "archived": 12,
    "cancelled": 6,
}
MAPPINGS = {"default": phasekit.DEFAULT_MAPPING, "plan": phasekit.PLAN_MAPPING}
#: Rows a backfill (and a rollback's fill) batch maps in one transaction.
BATCH_SIZE = 50_000


def bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(total, 1)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:>10,}/{total:,}"


def legacy_rows(count: int, seed: int, unknown: int) -> Iterator[tuple[object, ...]]:
    rng = random.Random(seed)
    types = rng.choices(list(TYPES), weights=list(TYPES.values()), k=count)
    statuses = rng.choices(list(STATUSES), weights=list(STATUSES.values()), k=count)
    for index in range(count):
        status = statuses[index]
        if status in ("pending", "queued"):
            progress = None if rng.random() < 0.7 else 0.0
        elif status in ("completed", "archived"):
            progress = 100.0
        else:
            progress = round(rng.uniform(0.0, 100.0), 2)
        if index < unknown:
            status = "deleted"
        yield (index + 1, f"campaign-{index + 1}", types[index], status, progress)


def create(connection: sqlite3.Connection, count: int, seed: int, unknown: int) -> None:
    connection.execute(
        "CREATE TABLE campaigns (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "campaign_type TEXT NOT NULL, status TEXT NOT NULL, progress_percentage REAL "
        "CHECK (progress_percentage BETWEEN 0 AND 100))"
    )
    rows = legacy_rows(count, seed, unknown)
    chunk = 100_000
    connection.execute("BEGIN")
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        connection.executemany(
            "INSERT INTO campaigns VALUES (?, ?, ?, ?, ?)", (next(rows) for _ in range(size))
        )
        show(f"  loading {bar(start + size, count)}", final=start + size == count)
    connection.execute("COMMIT")


def show(text: str, *, final: bool = False) -> None:
    """Redraw one status line on a terminal; elsewhere print only the final state."""
    if sys.stdout.isatty():
        print(f"\r{text}", end="\n" if final else "", flush=True)
    elif final:
        print(text)


def run_step(connection: sqlite3.Connection, step: MigrationStep) -> list[list[tuple[Any, ...]]]:
    """Run one step as its printed script says; return what its queries return.

    A guarded step runs only if its guard is not 0. ``run_sqlite_step`` runs the rest as
    ``phasekit migrate`` does: each run a transaction; a step marked ``repeat`` (a keyset
    batch and its checkpoint) until its last query returns 0, with a count of its batches
    on the status line; a step that generates statements, each one its last query returns.
    """
    if step.guard is not None and not connection.execute(step.guard).fetchone()[0]:
        return []
    started = time.perf_counter()
    batches = 0

    def count_batch(_rows: int) -> None:
        nonlocal batches
        batches += 1
        if batches % 10 == 0:
            show(f"  {step.name:<20} {batches:,} batches... {time.perf_counter() - started:5.1f} s")

    results = run_sqlite_step(connection, step, on_batch=count_batch)
    show(f"  {step.name:<20} done in {time.perf_counter() - started:5.2f} s", final=True)
    return results


def legacy_digest(connection: sqlite3.Connection) -> str:
    digest = hashlib.sha256()
    query = "SELECT id, name, campaign_type, status, progress_percentage FROM campaigns ORDER BY id"
    for row in connection.execute(query):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def run_script(
    connection: sqlite3.Connection, script: MigrationScript
) -> dict[str, list[list[tuple[Any, ...]]]]:
    return {step.name: run_step(connection, step) for step in script.steps}


def migrate(connection: sqlite3.Connection, mapping: LegacyMapping) -> bool:
    script = phasekit.migration_sql("sqlite", mapping=mapping, batch_size=BATCH_SIZE)
    preflight = run_step(connection, script.step("preflight"))
    report = MappingReport.from_counts(
        preflight[0], preflight[1], null_progress=preflight[2][0][0], mapping=mapping
    )
    print("\nPreflight report:")
    print("\n".join(f"  {line}" for line in report.summary().splitlines()))
    print()
    for name in ("expand", "backfill"):
        run_step(connection, script.step(name))
    (unmapped,) = run_step(connection, script.step("verify"))[0][0]
    print(f"  verify: {unmapped:,} rows unmapped or disagreeing with the mapping")
    try:
        for name in ("contract_drop_indexes", "contract"):
            run_step(connection, script.step(name))
    except sqlite3.IntegrityError as error:
        print(f"  contract refused, as it must be while verify is not 0:\n    {error}")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=2_000_000,
        help="legacy campaigns to create (default: 2,000,000)",
    )
    parser.add_argument(
        "--mapping",
        choices=sorted(MAPPINGS),
        default="default",
        help="default: every legacy value mapped explicitly, an unknown one refused; plan: the "
        "migration plan's SQL, where anything unknown becomes domain_generation/pending "
        "(default: default)",
    )
    parser.add_argument(
        "--unknown",
        type=int,
        default=0,
        help="rows given an unknown status, to see contract refuse (default: 0)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="seed of the random legacy rows: the same seed gives the same rows (default: 2026)",
    )
    parser.add_argument(
        "--database",
        type=Path,
        metavar="FILE",
        help="create the database in FILE and keep it, rolled back, at the end (default: a "
        "temporary file, deleted at the end); an existing FILE is refused unless --overwrite",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="with --database: delete FILE first if it exists",
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or args.unknown < 0:
        parser.error("--rows must be at least 1 and --unknown at least 0")
    if args.overwrite and args.database is None:
        parser.error("--overwrite only goes with --database FILE")
    if args.database is not None and args.database.exists():
        if not args.database.is_file():
            parser.error(f"--database {args.database} exists and is not a file")
        if not args.overwrite:
            parser.error(
                f"--database {args.database} exists: pass --overwrite to delete it and start over"
            )

    with tempfile.TemporaryDirectory() as scratch:
        path = args.database or Path(scratch) / "campaigns.sqlite3"
        for stale in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
            stale.unlink(missing_ok=True)  # only a temporary file, or FILE with --overwrite
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -262144")
        started = time.perf_counter()
        print(f"Creating {args.rows:,} legacy campaigns in {path}")
        create(connection, args.rows, args.seed, args.unknown)
        before = legacy_digest(connection)

        print(f"\nMigrating with the {args.mapping} mapping:")
        contracted = migrate(connection, MAPPINGS[args.mapping])
        sample = connection.execute(
            "SELECT id, current_phase, phase_status, progress FROM campaigns ORDER BY id LIMIT 3"
        ).fetchall()
        print("  first rows now (id, current_phase, phase_status, progress):")
        print("\n".join(f"    {row}" for row in sample))

        print("\nRolling back:")
        rollback = phasekit.rollback_sql("sqlite", contracted=contracted, batch_size=BATCH_SIZE)
        run_script(connection, rollback)
        after = legacy_digest(connection)
        columns = [row[1] for row in connection.execute("PRAGMA table_info(campaigns)")]
        connection.close()
        exact = before == after and "current_phase" not in columns
        print(
            f"  legacy rows after rollback {'identical' if exact else 'DIFFERENT'} "
            f"(sha256 {after[:16]}...)\n  phase columns removed: {'current_phase' not in columns}"
        )
        print(
            f"\nTotal {time.perf_counter() - started:.1f} s "
            f"({'contracted' if contracted else 'contract refused'}, rolled back exactly: {exact})"
        )
        return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
