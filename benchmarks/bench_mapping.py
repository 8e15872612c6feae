"""Benchmark: legacy mapping in bulk, and the generated backfill SQL.

Measured in one run, side by side:
- ``map_legacy_rows`` with a ``MappingReport`` over ``--rows`` legacy rows (2,000,000 by
  default; garbage collector on, one core) against a per-row pydantic v2 model doing the
  same mapping, validation and counting;
- the generated backfill ``UPDATE`` (plan and default mappings), as one keyset batch of
  the whole table, against the migration plan's literal SQL, on identical SQLite tables
  of the same rows (expanded: the sync triggers are there for both).

Run with ``make bench`` or ``python benchmarks/bench_mapping.py``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import tempfile
import time
from collections import Counter, deque
from pathlib import Path
from typing import Literal

from _harness import best_seconds, machine_line, print_table
from pydantic import BaseModel, ConfigDict, Field

import phasekit
from phasekit import DEFAULT_MAPPING, PLAN_MAPPING, LegacyMapping, MappingReport

# The plan's literal SQL, as the tests keep it.
PLAN_LITERAL_SQL = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "plan_section_2_2.sql"
).read_text()

Row = tuple[str, str, float | None]


def make_rows(count: int, seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    types = rng.choices(phasekit.LEGACY_CAMPAIGN_TYPES, weights=[5, 3, 2], k=count)
    statuses = rng.choices(
        phasekit.LEGACY_STATUSES, weights=[10, 8, 15, 1, 6, 35, 7, 12, 6], k=count
    )
    rows: list[Row] = []
    for campaign_type, status in zip(types, statuses, strict=True):
        progress = None if status in ("pending", "queued") else round(rng.uniform(0, 100), 2)
        rows.append((campaign_type, status, progress))
    return rows


class PydanticLegacyRow(BaseModel):
    """The same validation as phasekit's bulk path, as a per-row pydantic model."""

    model_config = ConfigDict(frozen=True)
    campaign_type: Literal[phasekit.LEGACY_CAMPAIGN_TYPES]  # type: ignore[valid-type]
    status: Literal[phasekit.LEGACY_STATUSES]  # type: ignore[valid-type]
    progress_percentage: float | None = Field(ge=0.0, le=100.0, allow_inf_nan=False)


def pydantic_map(rows: list[Row], mapping: LegacyMapping) -> Counter[str]:
    types, statuses = mapping.types, mapping.statuses
    type_counts: Counter[str] = Counter()
    status_counts: Counter[str] = Counter()
    null_progress = 0
    out = deque(maxlen=0)
    for campaign_type, status, progress in rows:
        row = PydanticLegacyRow(
            campaign_type=campaign_type,
            status=status,
            progress_percentage=progress,  # type: ignore[arg-type]
        )
        if row.progress_percentage is None:
            null_progress += 1
        type_counts[row.campaign_type] += 1
        status_counts[row.status] += 1
        out.append((types[row.campaign_type], statuses[row.status], row.progress_percentage or 0.0))
    return status_counts


def phasekit_map(rows: list[Row], mapping: LegacyMapping) -> MappingReport:
    report = MappingReport()
    deque(phasekit.map_legacy_rows(rows, mapping=mapping, report=report), maxlen=0)
    return report


def build_database(path: Path, rows: list[Row]) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(
        "CREATE TABLE campaigns (id INTEGER PRIMARY KEY, campaign_type TEXT NOT NULL, "
        "status TEXT NOT NULL, progress_percentage REAL)"
    )
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO campaigns VALUES (?, ?, ?, ?)",
        ((index, *row) for index, row in enumerate(rows, start=1)),
    )
    connection.execute("COMMIT")
    for statement in phasekit.migration_sql("sqlite").step("expand").statements:
        connection.execute(statement)
    connection.close()


def time_backfill(template: Path, scratch: Path, sql: str, repeat: int) -> float:
    best = float("inf")
    for attempt in range(repeat):
        copy = scratch / f"copy-{attempt}.sqlite3"
        shutil.copyfile(template, copy)
        connection = sqlite3.connect(copy, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -262144")
        connection.execute("SELECT COUNT(*) FROM campaigns").fetchone()  # warm the cache
        started = time.perf_counter()
        connection.execute("BEGIN")
        connection.execute(sql)
        connection.execute("COMMIT")
        best = min(best, time.perf_counter() - started)
        connection.close()
        copy.unlink()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--pydantic-rows", type=int, help="rows for pydantic (default: --rows)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"## Mapping benchmark ({machine_line()})")

    rows = make_rows(args.rows)
    seconds = best_seconds(lambda: phasekit_map(rows, DEFAULT_MAPPING), args.repeat)
    rate = args.rows / seconds
    args.pydantic_rows = args.pydantic_rows or args.rows
    few = rows[: args.pydantic_rows]
    pydantic_seconds = best_seconds(lambda: pydantic_map(few, DEFAULT_MAPPING), args.repeat)
    pydantic_rate = args.pydantic_rows / pydantic_seconds
    print_table(
        f"Bulk mapping with validation and report (GC on, best of {args.repeat})",
        ["implementation", "rows", "rows / s", "x phasekit time"],
        [
            ("phasekit map_legacy_rows + MappingReport", f"{args.rows:,}", f"{rate:,.0f}", "1.0x"),
            (
                "pydantic v2 model per row + Counter",
                f"{args.pydantic_rows:,}",
                f"{pydantic_rate:,.0f}",
                f"{rate / pydantic_rate:.1f}x",
            ),
        ],
    )

    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        template = scratch / "template.sqlite3"
        build_database(template, rows)
        plan_literal = time_backfill(template, scratch, PLAN_LITERAL_SQL, args.repeat)
        results = [("plan's literal SQL", plan_literal)]
        for label, mapping in (
            ("generated, PLAN_MAPPING", PLAN_MAPPING),
            ("generated, DEFAULT_MAPPING", DEFAULT_MAPPING),
        ):
            # One keyset batch of the whole table: the backfill's UPDATE, without the
            # checkpoint statements around it.
            script = phasekit.migration_sql("sqlite", mapping=mapping, batch_size=args.rows)
            sql = script.step("backfill").statements[0]
            results.append((label, time_backfill(template, scratch, sql, args.repeat)))
    print_table(
        f"Backfill UPDATE on identical {args.rows:,}-row SQLite tables (best of {args.repeat})",
        ["backfill", "seconds", "x plan's SQL"],
        [(label, f"{value:.2f}", f"{value / plan_literal:.2f}x") for label, value in results],
    )
    worst = max(value for _, value in results[1:]) / plan_literal
    print(
        f"\nTargets: >= 2,000,000 rows/s: {rate:,.0f} ({'met' if rate >= 2e6 else 'NOT met'}); "
        f">= 8x pydantic: {rate / pydantic_rate:.1f}x "
        f"({'met' if rate / pydantic_rate >= 8 else 'NOT met'}); "
        f"backfill within 1.2x of the plan's SQL: {worst:.2f}x "
        f"({'met' if worst <= 1.2 else 'NOT met'})."
    )


if __name__ == "__main__":
    main()
