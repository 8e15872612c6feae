"""Benchmark: the online PostgreSQL migration of a live legacy table, under an old-version writer.

Issue 11, section 5. On a table of ``--rows`` legacy rows (default 10,000,000):

1. Build the legacy table ``campaigns`` (``INSERT ... SELECT FROM generate_series`` in
   chunks of 1M), its legacy index ``(campaign_type, status, created_at)``, then
   ``VACUUM ANALYZE``, and time the plan's two legacy queries on it: a page of 50 running
   campaigns of one type newest first, and the counts by type and status (median of
   ``--query-runs`` runs, with ``EXPLAIN (ANALYZE, BUFFERS)``).
2. Start the old application version: one thread writing at ``--writes-per-second``
   (updates of a random row's status and progress, about 20% inserts), timing each write
   and counting errors, from a few seconds before the migration until
   ``contract_drop_indexes`` is done (just before contract drops the legacy columns); and
   a sampler polling ``pg_locks`` every ~10 ms for the table's ACCESS EXCLUSIVE lock
   (granted: held; not granted: waited for).
3. Run ``phasekit.runner.migrate(..., index_columns=("created_at",), to="contract",
   walkers=2)`` (``--walkers``: the backfill in that many sessions at once) and
   report per step: time, rows/s, the writes of that step with their latency p50/p99/max
   and errors, lock-timeout retries, and the longest ACCESS EXCLUSIVE hold and wait.
4. After contract: writes lost (every committed write's last value, mapped with
   ``phasekit.map_legacy``, must be in the phase columns), and the equivalent phase queries
   on the new index, side by side with the legacy ones, as left by the migration and after
   ``VACUUM ANALYZE``.

``--compare-rows 1000000`` runs the same benchmark on a smaller table first, to compare the
backfill's rows/s at both sizes (linear, not quadratic). Each target of the issue is marked
met or not met from the measurements, nothing tuned. ``--markdown PATH`` writes the report
as Markdown (for ``docs/performance.md``).

The server: ``--dsn``, else ``PHASEKIT_BENCH_POSTGRES_DSN``, else
``PHASEKIT_TEST_POSTGRES_DSN``, else a throwaway server started with
``.ci/start-postgres.sh`` and stopped at the end. The benchmark works in its own database
(``--database``, default ``phasekit_bench``, created if missing), where it drops and
recreates the table ``campaigns``.

Run with ``make bench`` (``BENCH_MIGRATION_ROWS=1000000 make bench`` for a smaller table)
or ``python benchmarks/bench_online_migration.py --rows 1000000``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from _harness import machine_line
from psycopg import sql
from psycopg.conninfo import make_conninfo

from phasekit import DEFAULT_MAPPING, MappingReport, map_legacy, runner
from phasekit.legacy import LEGACY_CAMPAIGN_TYPES, LEGACY_STATUSES

Connection = psycopg.Connection[tuple[Any, ...]]
Legacy = tuple[str, str, float | None]

TABLE = "campaigns"
CHUNK = 1_000_000
HERE = Path(__file__).resolve().parent
CI = HERE.parent / ".ci"
TYPES = tuple(t for t in LEGACY_CAMPAIGN_TYPES if DEFAULT_MAPPING.target("campaign_type", t))
STATUSES = tuple(s for s in LEGACY_STATUSES if DEFAULT_MAPPING.target("status", s))
# The legacy statuses' shares in the generated table (cumulative thresholds of random()).
STATUS_SHARES = (
    ("completed", 0.50),
    ("archived", 0.60),
    ("failed", 0.68),
    ("cancelled", 0.73),
    ("running", 0.83),
    ("paused", 0.87),
    ("pausing", 0.88),
    ("pending", 0.95),
    ("queued", 1.00),
)
WARM_UP_SECONDS = 3.0
LOCK_POLL_SECONDS = 0.010

LEGACY_QUERIES = (
    (
        "page: 50 running dns_validation, newest first",
        f"SELECT id FROM {TABLE} WHERE campaign_type = 'dns_validation' "
        "AND status = 'running' ORDER BY created_at DESC LIMIT 50",
    ),
    (
        "counts by type and status",
        f"SELECT campaign_type, status, count(*) FROM {TABLE} GROUP BY 1, 2",
    ),
)
PHASE_QUERIES = (
    (
        "page: 50 running dns_validation, newest first",
        f"SELECT id FROM {TABLE} WHERE current_phase = 'dns_validation' "
        "AND phase_status = 'running' ORDER BY created_at DESC LIMIT 50",
    ),
    (
        "counts by phase and status",
        f"SELECT current_phase, phase_status, count(*) FROM {TABLE} GROUP BY 1, 2",
    ),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values`` (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def query_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.3f}"


def yardstick(connection: Connection) -> float:
    """Return the server's time for a fixed CPU-bound query (best of 3): a measure of how
    loaded the machine is, to read the other figures by (about 0.1 s on an idle core)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        connection.execute("SELECT count(*) FROM generate_series(1, 1000000)").fetchall()
        best = min(best, time.perf_counter() - start)
    return best


# -- the server and the table ------------------------------------------------------------


@contextmanager
def server(dsn: str | None) -> Iterator[str]:
    """Yield ``dsn``, or the DSN of a throwaway server started and stopped around it."""
    if dsn:
        yield dsn
        return
    log("no DSN given: starting a throwaway PostgreSQL server (.ci/start-postgres.sh)")
    started = subprocess.run(
        [str(CI / "start-postgres.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    settings = dict(
        word.split("=", 1) for word in started.splitlines()[-1].split()[1:] if "=" in word
    )
    try:
        yield settings["PHASEKIT_TEST_POSTGRES_DSN"]
    finally:
        subprocess.run([str(CI / "stop-postgres.sh"), settings["PHASEKIT_PG_DATA"]], check=False)


def bench_database(dsn: str, name: str) -> str:
    """Create the database ``name`` if missing; return the DSN of it."""
    if not name:
        return dsn
    with psycopg.connect(dsn, autocommit=True) as connection:
        if not connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(dsn, dbname=name)


def server_settings(connection: Connection) -> str:
    rows = connection.execute(
        "SELECT name, setting, unit FROM pg_settings WHERE name IN ('server_version', "
        "'shared_buffers', 'fsync', 'synchronous_commit', 'max_wal_size', 'work_mem', "
        "'maintenance_work_mem', 'deadlock_timeout', 'autovacuum') ORDER BY name"
    ).fetchall()
    return ", ".join(f"{name}={setting}{unit or ''}" for name, setting, unit in rows)


def build_table(connection: Connection, rows: int) -> float:
    """Drop what a previous run left, create the legacy table of ``rows`` rows; return s."""
    started = time.perf_counter()
    for leftover in (TABLE, f"{TABLE}_phasekit_state", f"{TABLE}_phasekit_backup"):
        connection.execute(f"DROP TABLE IF EXISTS {leftover} CASCADE")
    for function in (f"{TABLE}_phasekit_sync", f"{TABLE}_phasekit_keep_backup"):
        connection.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")
    connection.execute(
        f"CREATE TABLE {TABLE} (id bigserial, name text, campaign_type text NOT NULL, "
        "status text NOT NULL, progress_percentage double precision, "
        "created_at timestamptz NOT NULL)"
    )
    types = ", ".join(f"'{value}'" for value in TYPES)
    status = " ".join(f"WHEN r < {share} THEN '{value}'" for value, share in STATUS_SHARES)
    connection.execute("SELECT setseed(0.42)")
    for first in range(1, rows + 1, CHUNK):
        last = min(rows, first + CHUNK - 1)
        connection.execute(
            f"INSERT INTO {TABLE} (id, name, campaign_type, status, progress_percentage, "
            "created_at) "
            f"SELECT i, 'campaign ' || i, (ARRAY[{types}])[1 + i % {len(TYPES)}], "
            f"CASE {status} ELSE 'completed' END, "
            "CASE WHEN i % 5 = 0 THEN NULL ELSE floor(random() * 101) END, "
            "timestamptz '2020-01-01' + i * interval '10 seconds' "
            "+ random() * interval '1 hour' "
            f"FROM (SELECT i, random() AS r FROM generate_series({first}, {last}) AS i) AS g"
        )
        log(f"  table: {last:,} of {rows:,} rows ({time.perf_counter() - started:,.0f} s)")
    connection.execute(f"SELECT setval('{TABLE}_id_seq', {rows})")
    connection.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id)")
    connection.execute(
        f"CREATE INDEX {TABLE}_legacy_idx ON {TABLE} (campaign_type, status, created_at)"
    )
    log("  table: primary key and legacy index built; VACUUM ANALYZE")
    connection.execute(f"VACUUM ANALYZE {TABLE}")
    with suppress(psycopg.Error):
        connection.execute("CHECKPOINT")
    return time.perf_counter() - started


@dataclass
class QueryTiming:
    name: str
    query: str
    median: float  # seconds, client side: what the application waits for
    server_median: float  # seconds, the server's execution time (EXPLAIN ANALYZE, TIMING OFF)
    plan: str


def time_queries(
    connection: Connection, queries: Sequence[tuple[str, str]], runs: int
) -> list[QueryTiming]:
    """Return each query's median time of ``runs`` (after 3 warm-up runs) and its plan.

    Each query is timed twice over: on the client, round trip and planning included (what
    the application waits for), and by the server's own execution time, which leaves out
    the client and the network: for a query of a few hundredths of a millisecond the
    round trip, not the index, is most of the client-side time.
    """
    timings = []
    for name, query in queries:
        for _ in range(3):
            connection.execute(query).fetchall()
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            connection.execute(query).fetchall()
            seconds.append(time.perf_counter() - start)
        executions = [server_seconds(connection, query) for _ in range(runs)]
        plan = "\n".join(
            str(row[0])
            for row in connection.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query}").fetchall()
        )
        timings.append(
            QueryTiming(
                name, query, statistics.median(seconds), statistics.median(executions), plan
            )
        )
    return timings


def server_seconds(connection: Connection, query: str) -> float:
    """Return the server's execution time of ``query``, from ``EXPLAIN ANALYZE``."""
    rows = connection.execute(f"EXPLAIN (ANALYZE, TIMING OFF) {query}").fetchall()
    last = str(rows[-1][0])
    if not last.startswith("Execution Time: "):
        raise RuntimeError(f"no execution time in the plan's last line: {last!r}")
    return float(last.removeprefix("Execution Time: ").removesuffix(" ms")) / 1000


# -- the old application version and the lock sampler ------------------------------------


@dataclass
class Write:
    started: float
    seconds: float
    ok: bool


class OldWriter(threading.Thread):
    """The old application version: updates a random row's status and progress, or inserts
    a row (about one write in five), at a fixed rate, each write its own transaction."""

    def __init__(self, dsn: str, rate: float, rows: int, part: int, parts: int) -> None:
        super().__init__(daemon=True)
        self.dsn, self.rate, self.rows = dsn, rate, rows
        # Each writer updates its own rows (id % parts == part), so that the last value
        # it committed to a row is the row's last write.
        self.part, self.parts = part, parts
        self.pick = random.Random(rows * parts + part)
        self.halt = threading.Event()
        self.ready = threading.Event()
        self.writes: list[Write] = []
        self.errors: list[str] = []
        self.last: dict[int, Legacy] = {}
        self.inserts = 0

    def run(self) -> None:
        interval = 1 / self.rate
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute("SET statement_timeout = '60s'")
            self.ready.set()
            due = time.monotonic() + self.pick.random() / self.rate
            while not self.halt.is_set():
                now = time.monotonic()
                if now < due:
                    self.halt.wait(due - now)
                    continue
                # Open loop: a slow write delays the next ones, which then catch up.
                due += interval
                self._write(connection)

    def _write(self, connection: Connection) -> None:
        pick = self.pick
        progress = None if pick.random() < 0.2 else float(pick.randrange(101))
        insert = pick.random() < 0.2
        started = time.monotonic()
        try:
            if insert:
                returned = connection.execute(
                    f"INSERT INTO {TABLE} (name, campaign_type, status, progress_percentage, "
                    "created_at) VALUES ('old', %s, %s, %s, now()) "
                    "RETURNING id, campaign_type, status, progress_percentage",
                    (pick.choice(TYPES), pick.choice(STATUSES), progress),
                ).fetchone()
            else:
                returned = connection.execute(
                    f"UPDATE {TABLE} SET status = %s, progress_percentage = %s WHERE id = %s "
                    "RETURNING id, campaign_type, status, progress_percentage",
                    (
                        pick.choice(STATUSES),
                        progress,
                        pick.randrange(self.part + 1, self.rows + 1, self.parts),
                    ),
                ).fetchone()
        except psycopg.Error as error:
            self.writes.append(Write(started, time.monotonic() - started, False))
            self.errors.append(" ".join(str(error).split()))
            return
        self.writes.append(Write(started, time.monotonic() - started, True))
        if returned is not None:
            self.inserts += insert
            self.last[int(returned[0])] = (str(returned[1]), str(returned[2]), returned[3])

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=120)


@dataclass
class LockEpisode:
    """A connection seen holding (or waiting for) the table's ACCESS EXCLUSIVE lock."""

    held: bool
    pid: int
    who: str
    first: float  # the first sample that saw it
    last: float  # the last sample that saw it
    before: float  # the sample before the first one
    after: float = 0.0  # the first sample that no longer saw it
    samples: int = 1

    @property
    def upper(self) -> float:
        """At most this long: from the sample before it to the sample after it."""
        return self.after - self.before


class LockSampler(threading.Thread):
    """Polls ``pg_locks`` for the table's ACCESS EXCLUSIVE lock, held or waited for."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.halt = threading.Event()
        self.episodes: list[LockEpisode] = []
        self.polls: list[float] = []

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            row = connection.execute(
                "SELECT CAST(CAST(%s AS regclass) AS oid), "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                (TABLE,),
            ).fetchone()
            assert row is not None
            relation, database = row
            query = (
                "SELECT l.pid, l.granted, coalesce(a.backend_type, '') || ': ' "
                "|| left(coalesce(a.query, ''), 160) FROM pg_locks AS l "
                "LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid "
                "WHERE l.locktype = 'relation' AND l.database = %s AND l.relation = %s "
                "AND l.mode = 'AccessExclusiveLock'"
            )
            open_: dict[tuple[int, bool], LockEpisode] = {}
            previous = time.monotonic()
            while not self.halt.is_set():
                rows = connection.execute(query, (database, relation)).fetchall()
                now = time.monotonic()
                self.polls.append(now)
                seen = set()
                for pid, granted, who in rows:
                    key = (int(pid), bool(granted))
                    seen.add(key)
                    episode = open_.get(key)
                    if episode is None:
                        open_[key] = LockEpisode(
                            bool(granted), int(pid), str(who), now, now, previous
                        )
                    else:
                        episode.last, episode.samples = now, episode.samples + 1
                for key in [key for key in open_ if key not in seen]:
                    episode = open_.pop(key)
                    episode.after = now
                    self.episodes.append(episode)
                previous = now
                self.halt.wait(LOCK_POLL_SECONDS)
            for episode in open_.values():
                episode.after = time.monotonic()
                self.episodes.append(episode)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)

    def poll_interval(self) -> float:
        gaps = [b - a for a, b in zip(self.polls, self.polls[1:], strict=False)]
        return statistics.median(gaps) if gaps else 0.0


# -- one run -----------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    start: float
    end: float
    seconds: float
    rows: int = 0
    retries: int = 0


@dataclass
class Run:
    rows: int
    build_seconds: float = 0.0
    load_before: str = ""
    load_after: str = ""
    yardstick_before: float = 0.0
    yardstick_after: float = 0.0
    steps: list[Step] = field(default_factory=list)
    legacy: list[QueryTiming] = field(default_factory=list)
    phase_as_left: list[QueryTiming] = field(default_factory=list)
    phase_analyzed: list[QueryTiming] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inserts: int = 0
    writer_start: float = 0.0
    writer_end: float = 0.0
    migration_start: float = 0.0
    checked: int = 0
    lost: list[str] = field(default_factory=list)
    episodes: list[LockEpisode] = field(default_factory=list)
    poll_interval: float = 0.0
    rate: float = 0.0

    def step(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)

    def rows_per_second(self, name: str) -> float:
        step = self.step(name)
        return step.rows / step.seconds if step and step.seconds else 0.0

    def writes_between(self, start: float, end: float) -> list[Write]:
        return [write for write in self.writes if start <= write.started < end]

    def whole(self) -> list[Write]:
        """The writes made while the migration ran (until the writer stopped)."""
        return self.writes_between(self.migration_start, self.writer_end)

    def max_lock(self, held: bool, start: float, end: float) -> float:
        return max(
            (
                episode.upper
                for episode in self.episodes
                if episode.held == held and start <= episode.first < end
            ),
            default=0.0,
        )


def run_once(dsn: str, args: argparse.Namespace, rows: int) -> Run:
    run = Run(rows)
    log(f"== {rows:,} rows (load average {load()})")
    with psycopg.connect(dsn, autocommit=True) as connection:
        run.build_seconds = build_table(connection, rows)
        log(f"  legacy queries, median of {args.query_runs}")
        run.legacy = time_queries(connection, LEGACY_QUERIES, args.query_runs)
        run.yardstick_before = yardstick(connection)
    run.load_before = load()
    rate = args.writes_per_second / args.writers
    writers = [OldWriter(dsn, rate, rows, part, args.writers) for part in range(args.writers)]
    sampler = LockSampler(dsn)
    sampler.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.ready.wait(60)
    run.writer_start = time.monotonic()
    time.sleep(WARM_UP_SECONDS)
    run.migration_start = boundary = time.monotonic()
    progress: dict[str, runner.Progress] = {}
    # A retried walk starts its count again from its checkpoint: add up the attempts.
    carried: dict[str, int] = {}
    retries: dict[str, int] = {}
    shown = [0.0]

    def report(event: object) -> None:
        nonlocal boundary
        now = time.monotonic()
        if isinstance(event, MappingReport):
            return
        if isinstance(event, runner.Progress):
            before = progress.get(event.step)
            if before is not None and event.done < before.done:
                carried[event.step] = carried.get(event.step, 0) + before.done
            progress[event.step] = event
            if now - shown[0] > 2:
                shown[0] = now
                rate = event.done / event.seconds if event.seconds else 0.0
                log(f"  {event.step}: {event.done:,} of {event.total:,} ({rate:,.0f} rows/s)")
        elif isinstance(event, runner.Retrying):
            retries[event.step] = retries.get(event.step, 0) + 1
            log(f"  {event.step}: lock timeout, retry {event.attempt}")
        elif isinstance(event, runner.StepDone):
            done = progress.get(event.step)
            run.steps.append(
                Step(
                    event.step,
                    boundary,
                    now,
                    event.seconds,
                    carried.get(event.step, 0) + (done.done if done else 0),
                    retries.get(event.step, 0),
                )
            )
            boundary = now
            log(f"  {event.step}: done in {event.seconds:,.2f} s")
            if event.step == "contract_drop_indexes":
                # The old version stops here: contract drops its columns.
                stop(writers)
                run.writer_end = time.monotonic()

    try:
        runner.migrate(
            dsn,
            table=TABLE,
            batch_size=args.batch_size,
            batch_time_ms=args.batch_time_ms,
            pause_ms=args.pause_ms,
            lock_timeout_ms=args.lock_timeout_ms,
            index_columns=("created_at",),
            to="contract",
            report=report,
            walkers=args.walkers,
        )
    finally:
        if any(writer.is_alive() for writer in writers):
            stop(writers)
            run.writer_end = time.monotonic()
        sampler.stop()
    run.load_after = load()
    with psycopg.connect(dsn, autocommit=True) as connection:
        run.yardstick_after = yardstick(connection)
    run.writes = sorted(
        (write for writer in writers for write in writer.writes), key=lambda w: w.started
    )
    run.errors = [error for writer in writers for error in writer.errors]
    run.inserts = sum(writer.inserts for writer in writers)
    last = {key: value for writer in writers for key, value in writer.last.items()}
    run.episodes, run.poll_interval = sampler.episodes, sampler.poll_interval()
    span = run.writer_end - run.writer_start
    run.rate = len(run.writes_between(run.writer_start, run.writer_end)) / span if span else 0.0
    with psycopg.connect(dsn, autocommit=True) as connection:
        run.checked, run.lost = writes_lost(connection, last)
        log("  phase queries, as left by the migration")
        run.phase_as_left = time_queries(connection, PHASE_QUERIES, args.query_runs)
        connection.execute(f"VACUUM ANALYZE {TABLE}")
        log("  phase queries, after VACUUM ANALYZE")
        run.phase_analyzed = time_queries(connection, PHASE_QUERIES, args.query_runs)
    return run


def stop(writers: Sequence[OldWriter]) -> None:
    for writer in writers:
        writer.halt.set()
    for writer in writers:
        writer.stop()


def writes_lost(connection: Connection, last: dict[int, Legacy]) -> tuple[int, list[str]]:
    """Return how many rows the writer wrote, and those whose phase columns do not hold
    the mapping of the last value it committed."""
    found = {
        int(row[0]): (row[1], row[2], row[3])
        for row in connection.execute(
            f"SELECT id, current_phase, phase_status, progress FROM {TABLE} WHERE id = ANY(%s)",
            (list(last),),
        ).fetchall()
    }
    lost = []
    for identifier, legacy in sorted(last.items()):
        state = map_legacy(*legacy)
        expected = (state.phase.value, state.status.value, state.progress)
        if found.get(identifier) != expected:
            lost.append(
                f"id {identifier}: wrote {legacy}, expected {expected}, found "
                f"{found.get(identifier)}"
            )
    return len(last), lost


# -- the report --------------------------------------------------------------------------


class Report:
    """Markdown sections, printed as they come and kept for ``--markdown``."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self, text: str) -> None:
        print(text)
        self.parts.append(text)

    def table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        lines = [
            f"\n### {title}\n",
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
        ]
        self.text("\n".join(lines))

    def markdown(self) -> str:
        return "\n".join(self.parts) + "\n"


def lock_cell(seconds: float) -> str:
    return f"<= {ms(seconds)}" if seconds else "-"


def step_rows(run: Run) -> list[list[object]]:
    rows: list[list[object]] = []
    spans: list[tuple[str, float, float, Step | None]] = [
        ("(writer alone, before)", run.writer_start, run.migration_start, None)
    ]
    spans += [(step.name, step.start, step.end, step) for step in run.steps]
    for name, start, end, step in spans:
        writes = run.writes_between(start, end)
        latencies = [write.seconds for write in writes]
        rows.append(
            [
                name,
                f"{(step.seconds if step else end - start):,.2f}",
                f"{step.rows / step.seconds:,.0f}" if step and step.rows and step.seconds else "",
                len(writes),
                ms(percentile(latencies, 0.5)) if writes else "",
                ms(percentile(latencies, 0.99)) if writes else "",
                ms(max(latencies)) if writes else "",
                sum(not write.ok for write in writes),
                step.retries if step else "",
                lock_cell(run.max_lock(True, start, end)),
                lock_cell(run.max_lock(False, start, end)),
            ]
        )
    whole = run.whole()
    latencies = [write.seconds for write in whole]
    total = sum(step.seconds for step in run.steps)
    rows.append(
        [
            "**whole migration**",
            f"{total:,.2f}",
            "",
            len(whole),
            ms(percentile(latencies, 0.5)),
            ms(percentile(latencies, 0.99)),
            ms(max(latencies, default=0.0)),
            sum(not write.ok for write in whole),
            sum(step.retries for step in run.steps),
            lock_cell(run.max_lock(True, run.migration_start, float("inf"))),
            lock_cell(run.max_lock(False, run.migration_start, float("inf"))),
        ]
    )
    return rows


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def report_run(out: Report, run: Run, args: argparse.Namespace) -> None:
    out.text(
        f"\n## {run.rows:,} rows\n\n"
        f"Legacy table built in {run.build_seconds:,.0f} s. Load average (1, 5, 15 min) "
        f"before the migration: {run.load_before}; after: {run.load_after}. CPU yardstick "
        f"(`SELECT count(*) FROM generate_series(1, 1000000)`, best of 3; about 100 ms on "
        f"an idle core): {ms(run.yardstick_before)} ms before, {ms(run.yardstick_after)} ms "
        "after. Old-version "
        f"writer: {args.writers} connections, target {args.writes_per_second:g} writes/s, "
        f"achieved {run.rate:,.0f} "
        f"writes/s ({len(run.writes):,} attempted, {sum(w.ok for w in run.writes):,} "
        f"committed, {run.inserts:,} of them inserts). Batch size {args.batch_size:,}"
        + ("" if args.batch_time_ms is None else f" at most, timed to {args.batch_time_ms} ms")
        + ", "
        f"lock_timeout {args.lock_timeout_ms} ms, pause {args.pause_ms} ms, backfill "
        f"walkers {args.walkers}. pg_locks "
        f"sampled every {ms(run.poll_interval)} ms (median): a lock time is the span from "
        "the sample before it was seen to the sample after, an upper bound; `-` is never "
        "seen (shorter than a sample)."
    )
    out.table(
        f"Per step, {run.rows:,} rows",
        [
            "step",
            "time s",
            "rows/s",
            "writes",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
            "lock retries",
            "ACCESS EXCLUSIVE held ms",
            "ACCESS EXCLUSIVE waited ms",
        ],
        step_rows(run),
    )
    query_rows = []
    for legacy, left, analyzed in zip(
        run.legacy, run.phase_as_left, run.phase_analyzed, strict=True
    ):
        for side, before, as_left, after in (
            ("client", legacy.median, left.median, analyzed.median),
            ("server", legacy.server_median, left.server_median, analyzed.server_median),
        ):
            query_rows.append(
                [
                    legacy.name,
                    side,
                    query_ms(before),
                    query_ms(as_left),
                    f"{as_left / before:.2f}",
                    query_ms(after),
                    f"{after / before:.2f}",
                ]
            )
    out.table(
        f"Plan queries, {run.rows:,} rows (median of {args.query_runs} runs; client: round "
        "trip included; server: EXPLAIN ANALYZE's execution time)",
        [
            "query",
            "timed on",
            "legacy index, before ms",
            "phase index, as left ms",
            "ratio",
            "phase index, after VACUUM ANALYZE ms",
            "ratio",
        ],
        query_rows,
    )
    out.text(f"\nWrites lost: {len(run.lost):,} of {run.checked:,} rows written.")
    for line in run.lost[:10]:
        out.text(f"- {line}")
    if run.errors:
        out.text(f"\nWriter errors ({len(run.errors):,}), the first ones:")
        for line in run.errors[:5]:
            out.text(f"- `{line}`")
    episodes = sorted(run.episodes, key=lambda episode: -episode.upper)[:8]
    if episodes:
        out.table(
            f"Longest ACCESS EXCLUSIVE episodes, {run.rows:,} rows",
            ["held or waited", "<= ms", "samples", "step", "who"],
            [
                [
                    "held" if episode.held else "waited",
                    ms(episode.upper),
                    episode.samples,
                    next(
                        (s.name for s in run.steps if s.start <= episode.first < s.end),
                        "",
                    ),
                    f"`{episode.who.replace('|', '/')[:100]}`",
                ]
                for episode in episodes
            ],
        )


def report_targets(out: Report, run: Run, small: Run | None) -> None:
    backfill = run.rows_per_second("backfill")
    whole = run.whole()
    max_latency = max((write.seconds for write in whole), default=0.0)
    errors = sum(not write.ok for write in whole)
    rows: list[list[object]] = [
        [
            "backfill >= 100,000 rows/s (triggers on)",
            f"{backfill:,.0f} rows/s",
            verdict(backfill >= 100_000),
        ]
    ]
    if small is not None:
        other = small.rows_per_second("backfill")
        ratio = backfill / other if other else 0.0
        rows.append(
            [
                f"rows/s at {run.rows:,} within 20% of rows/s at {small.rows:,}",
                f"{backfill:,.0f} vs {other:,.0f} ({ratio:.2f}x)",
                verdict(ratio >= 0.8),
            ]
        )
    rows += [
        [
            "old-version writer at >= 200 writes/s",
            f"{run.rate:,.0f} writes/s",
            verdict(run.rate >= 200),
        ],
        ["writer errors 0", f"{errors:,}", verdict(errors == 0)],
        ["writes lost 0", f"{len(run.lost):,} of {run.checked:,}", verdict(not run.lost)],
        [
            "writer latency max <= 250 ms (whole migration)",
            f"{ms(max_latency)} ms",
            verdict(max_latency <= 0.250),
        ],
    ]
    for state, timings in (
        ("as left by the migration", run.phase_as_left),
        ("after VACUUM ANALYZE", run.phase_analyzed),
    ):
        for legacy, phase in zip(run.legacy, timings, strict=True):
            for side, phase_seconds, legacy_seconds in (
                ("client", phase.median, legacy.median),
                ("server", phase.server_median, legacy.server_median),
            ):
                ratio = phase_seconds / legacy_seconds
                rows.append(
                    [
                        f"{phase.name}, {state}, {side} side: phase <= legacy (plan: 40% faster)",
                        f"{query_ms(phase_seconds)} vs {query_ms(legacy_seconds)} ms "
                        f"({ratio:.2f}x)",
                        verdict(ratio <= 1.0) + ("; 40% faster: " + verdict(ratio <= 0.6)),
                    ]
                )
    out.table(f"Targets of issue 11, {run.rows:,} rows", ["target", "measured", ""], rows)


def report_plans(out: Report, run: Run) -> None:
    out.text(f"\n### Query plans, {run.rows:,} rows\n")
    for title, timings in (
        ("legacy index, before the migration", run.legacy),
        ("phase index, as left by the migration", run.phase_as_left),
        ("phase index, after VACUUM ANALYZE", run.phase_analyzed),
    ):
        for timing in timings:
            out.text(
                f"{timing.name}, {title}:\n\n```sql\n{timing.query}\n```\n\n"
                f"```\n{timing.plan}\n```\n"
            )


def source_version() -> str:
    """Return the commit of the phasekit checkout this runs from, and whether it has
    uncommitted changes, so that a report says which code it measured."""
    root = Path(__file__).resolve().parents[1]

    def git(*arguments: str) -> str:
        command = ["git", "-C", str(root), *arguments]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "(not a git checkout)"
    return commit + (" with uncommitted changes" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--compare-rows",
        type=int,
        default=0,
        help="also run on a table of this many rows first, to compare the backfill's rows/s",
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("PHASEKIT_BENCH_POSTGRES_DSN")
        or os.environ.get("PHASEKIT_TEST_POSTGRES_DSN"),
    )
    parser.add_argument("--database", default="phasekit_bench", help="'' to use the DSN's")
    parser.add_argument("--writes-per-second", type=float, default=250)
    parser.add_argument(
        "--writers", type=int, default=4, help="old-version connections sharing the rate"
    )
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument(
        "--batch-time-ms",
        type=int,
        default=None,
        help="size each batch to take about this long (the runner's batch_time_ms)",
    )
    parser.add_argument("--pause-ms", type=int, default=0)
    parser.add_argument(
        "--walkers",
        type=int,
        default=2,
        help="sessions walking the backfill's lanes at once (the runner's walkers; default: "
        "2, one a core of this machine)",
    )
    parser.add_argument("--lock-timeout-ms", type=int, default=200)
    parser.add_argument("--query-runs", type=int, default=20)
    parser.add_argument("--markdown", type=Path, help="write the report as Markdown here")
    args = parser.parse_args()
    out = Report()
    with server(args.dsn) as found:
        dsn = bench_database(found, args.database)
        with psycopg.connect(dsn, autocommit=True) as connection:
            settings = server_settings(connection)
        out.text(
            f"## Online migration benchmark ({machine_line()}, {os.cpu_count()} CPUs, "
            f"phasekit {source_version()}, "
            f"{datetime.date.today().isoformat()})\n\nPostgreSQL: {settings}."
        )
        small = run_once(dsn, args, args.compare_rows) if args.compare_rows else None
        run = run_once(dsn, args, args.rows)
    for each in (small, run):
        if each is not None:
            report_run(out, each, args)
    report_targets(out, run, small)
    for each in (small, run):
        if each is not None:
            report_plans(out, each)
    if args.markdown:
        args.markdown.write_text(out.markdown())
        log(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
