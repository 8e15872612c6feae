"""The runner cancels a real autovacuum worker that holds the table its DDL waits for.

On a real PostgreSQL server, an autovacuum worker is made to crawl through the table
(cost limit 1, cost delay 100 ms), so that it holds its SHARE UPDATE EXCLUSIVE lock for
tens of seconds. Expand's ``ALTER TABLE ... ADD COLUMN`` wants ACCESS EXCLUSIVE: with the
runner's 200 ms ``lock_timeout`` it times out before PostgreSQL's own cancellation of
autovacuum (after ``deadlock_timeout``, 1 s) would ever happen. The test proves that the
runner's retry cancels that worker (``Retrying.cancelled_autovacuum``), that the worker
lets go of the table, and that expand then completes.

The runner's sessions get a ``deadlock_timeout`` of a minute: on a loaded machine a
200 ms lock timeout has been seen to fire only after more than a second, when the
server's own deadlock check may already have cancelled the worker; with it out of the
way, the runner is the only one that can cancel it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from phasekit import runner
from tests import test_online_migration as online
from tests.test_online_migration import BATCH, create_table

# The server's fixtures, by their names here.
dsn = online.dsn
connection = online.connection

TABLE = "vacuumed_campaigns"
#: How long the server may take to start an autovacuum worker on the table.
WORKER_DEADLINE_SECONDS = 60.0

Connection = psycopg.Connection[tuple[Any, ...]]


@contextlib.contextmanager
def fast_autovacuum(connection: Connection) -> Iterator[None]:
    """Have the autovacuum launcher visit each database every second, until the end."""
    connection.execute("ALTER SYSTEM SET autovacuum_naptime = '1s'")
    connection.execute("SELECT pg_reload_conf()")
    try:
        yield
    finally:
        connection.execute("ALTER SYSTEM RESET autovacuum_naptime")
        connection.execute("SELECT pg_reload_conf()")


def autovacuum_holders(connection: Connection) -> list[int]:
    """Return the pids of the autovacuum workers holding a lock on the table."""
    rows = connection.execute(
        "SELECT DISTINCT a.pid FROM pg_stat_activity AS a JOIN pg_locks AS l ON l.pid = a.pid "
        "WHERE a.backend_type = 'autovacuum worker' AND l.granted "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.relation = CAST(%s AS regclass)",
        (TABLE,),
    ).fetchall()
    return [int(pid) for (pid,) in rows]


def holds_the_table(connection: Connection, pid: int) -> bool:
    row = connection.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND relation = CAST(%s AS regclass))",
        (pid, TABLE),
    ).fetchone()
    return row is not None and bool(row[0])


def crawling_autovacuum(connection: Connection) -> int:
    """Start an autovacuum worker crawling through the table; return its pid once it holds
    the table's lock."""
    # Any worker that takes the table from now on reads these: it sleeps 100 ms per unit
    # of cost, one unit a page at the least, which makes tens of seconds of the table.
    connection.execute(
        f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_threshold = 0, "
        "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 100, "
        "autovacuum_vacuum_cost_limit = 1)"
    )
    # Dead tuples, which autovacuum with a threshold of 0 comes for.
    connection.execute(f"UPDATE {TABLE} SET name = name || ' '")
    deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
    while not (holders := autovacuum_holders(connection)):
        assert time.monotonic() < deadline, (
            f"no autovacuum worker took {TABLE} within {WORKER_DEADLINE_SECONDS:.0f} s "
            "(autovacuum off on this server? pg_stat_activity shows the workers)"
        )
        time.sleep(0.1)
    [pid] = holders
    return pid


def test_a_ddl_blocked_by_autovacuum_cancels_it_and_completes(
    dsn: str, connection: Connection
) -> None:
    create_table(connection, TABLE)
    retries: list[runner.Retrying] = []

    def report(event: object) -> None:
        if isinstance(event, runner.Retrying):
            retries.append(event)

    # Only the runner's sessions: the waiting session runs the deadlock check.
    runner_dsn = make_conninfo(dsn, options="-c deadlock_timeout=60s")
    with fast_autovacuum(connection):
        worker = crawling_autovacuum(connection)
        runner.migrate(runner_dsn, table=TABLE, batch_size=BATCH, to="expand", report=report)
        assert runner.migration_status(dsn, table=TABLE).step == "expand"
        # The first lock timeout was the worker's doing, and the runner cancelled it.
        assert retries, "expand never waited for its lock: the worker had already gone"
        assert [retry.step for retry in retries] == ["expand"] * len(retries)
        assert retries[0].cancelled_autovacuum == 1, retries
        # Cancelled, it let go of the table (the worker itself may go on with other tables,
        # under the same pid); expand's ACCESS EXCLUSIVE could not have been granted else.
        assert not holds_the_table(connection, worker)
        runner.rollback(runner_dsn, table=TABLE)
    connection.execute(f"DROP TABLE {TABLE}, {TABLE}_writes")
