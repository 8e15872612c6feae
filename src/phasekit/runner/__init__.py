"""Run the migration and the rollback on a live database: the only library code that does.

``phasekit migrate`` and ``phasekit rollback`` call :func:`migrate`, :func:`rollback`
and :func:`migration_status`. They run the steps :func:`~phasekit.migration_sql` and
:func:`~phasekit.rollback_sql` generate, in order, and:

* skip the steps a previous run finished (read from the state table the SQL keeps) and
  resume a keyset walk (the backfill, the contract's backup copy, the rollback's fill)
  at its checkpoint, so that after Ctrl-C or ``kill -9`` at any moment the same command
  completes the work;
* retry a step that hit ``lock_timeout`` (another transaction held the table) with
  exponential backoff and jitter, instead of queueing every reader and writer behind it;
* hold a session advisory lock per table, so that two runners never interleave.

PostgreSQL is reached through psycopg 3, an optional extra (``pip install
'phasekit[postgres]'``), imported only here and only when a PostgreSQL DSN is given.

SQLite (``sqlite:///path/to.db``) gets the same resuming, from its own state table, and
runs each step in a ``BEGIN IMMEDIATE`` transaction (it takes the write lock at once, so
that no step fails halfway for want of it), waiting up to 30 seconds for a writer's
transaction to end (a busy timeout) rather than failing at once. It has no lock timeout
to retry: SQLite locks the whole database for each write transaction, and a runner
waiting for that lock queues nobody behind it. Nor does it hold an advisory lock: two
runners at once are not kept apart (their keyset batches still never overlap, each taken
under the write lock, but the second's expand fails).

:func:`run_sqlite_step` runs one step of a SQLite script that way, for a program that
runs a script's steps itself.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Final

from phasekit.errors import InvalidValue
from phasekit.legacy import DEFAULT_MAPPING, LegacyMapping
from phasekit.runner._postgres_session import _connect_postgres, _postgres_state
from phasekit.runner._postgresql import _PostgresRun
from phasekit.runner._run import (
    DatabaseError,
    MigrationStatus,
    MissingDriver,
    Progress,
    Report,
    Retrying,
    StepDone,
    VerifyFailed,
    _ignore,
    _one_line,
    _RunSettings,
)
from phasekit.runner._sqlite import (
    _connect_sqlite,
    _sqlite_columns,
    _sqlite_path,
    _sqlite_state,
    _SqliteRun,
    run_sqlite_step,
)
from phasekit.sql import MigrationScript, migration_sql, rollback_sql
from phasekit.sql._migrate import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
)
from phasekit.sql._postgresql._backfill import BACKFILL_LANES
from phasekit.sql._script import script_target

__all__ = [
    "BACKFILL_LANES",
    "MIGRATE_STEPS",
    "DatabaseError",
    "MigrationStatus",
    "MissingDriver",
    "Progress",
    "Retrying",
    "StepDone",
    "VerifyFailed",
    "migrate",
    "migration_status",
    "rollback",
    "run_sqlite_step",
]

# The public records and errors are defined in _run; they keep this module's name, the
# one they are documented, printed in tracebacks and pickled under.
for _public in (
    DatabaseError,
    MigrationStatus,
    MissingDriver,
    Progress,
    Retrying,
    StepDone,
    VerifyFailed,
):
    _public.__module__ = __name__

#: The steps ``--to`` accepts, in order: validate, index and contract stand for several
#: steps on PostgreSQL (index for the vacuum and the index build after it); SQLite has no
#: validate or index, and stops after verify.
MIGRATE_STEPS: Final = (
    "preflight",
    "expand",
    "backfill",
    "verify",
    "validate",
    "index",
    "contract",
)


def migrate(
    dsn: str,
    *,
    table: str = "campaigns",
    mapping: LegacyMapping = DEFAULT_MAPPING,
    batch_size: int = DEFAULT_BATCH_SIZE,
    pause_ms: int = 0,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    index_columns: tuple[str, ...] = (),
    to: str = "index",
    report: Report = _ignore,
    batch_time_ms: int | None = None,
    walkers: int = 1,
) -> None:
    """Run the migration on the database at ``dsn`` up to the step ``to``, resuming.

    ``report`` is called with the :class:`~phasekit.MappingReport` of the preflight, each
    :class:`Progress` of a keyset walk and each :class:`StepDone`. Raises
    :class:`VerifyFailed` when verify is not 0 (nothing after it runs),
    :class:`DatabaseError` when the database refuses a statement and
    :class:`MissingDriver` without psycopg.

    With ``batch_time_ms`` (PostgreSQL), each keyset walk sizes its batches to take about
    that long, from 1,000 rows (never more than ``batch_size``): a batch holds its rows'
    locks until it commits, so an application write to one of them waits up to a batch's
    time. Without it every batch has ``batch_size`` rows.

    With ``walkers`` above 1 (PostgreSQL), that many sessions walk the backfill at once,
    each its own lane of ids, on as many more connections (each in a thread of its own),
    so that the backfill uses that many of the server's cores (and keeps them busy): up
    to :data:`BACKFILL_LANES`. The other steps run in one session. Progress is reported
    from the calling thread only.

    On SQLite ``to`` may name ``validate`` or ``index``, which SQLite does not have: the
    run then stops after verify. ``lock_timeout_ms`` and ``statement_timeout_ms`` do not
    apply there, and ``index_columns``, ``batch_time_ms`` and ``walkers`` above 1 are
    refused: SQLite builds no phase index, its batches are of ``batch_size`` rows, and it
    has one writer at a time.
    """
    path = _sqlite_path(dsn)
    if path is not None and index_columns:
        raise InvalidValue(
            "index_columns is only for PostgreSQL: the SQLite migration builds no phase index "
            f"(create it with your schema tool); got {index_columns!r}",
            field="index_columns",
            value=index_columns,
        )
    _check_batch_time(batch_time_ms, path)
    _check_walkers(walkers, path)

    def script_for(size: int) -> MigrationScript:
        return migration_sql(
            "postgresql" if path is None else "sqlite",
            mapping=mapping,
            table=table,
            batch_size=size,
            lock_timeout_ms=lock_timeout_ms,
            statement_timeout_ms=statement_timeout_ms,
            index_columns=index_columns,
        )

    settings = _RunSettings(
        script_for, mapping, batch_size, pause_ms, report, batch_time_ms, walkers
    )
    with _open_run(dsn, settings) as run:
        run.migrate(MIGRATE_STEPS[: MIGRATE_STEPS.index(to) + 1])


def _check_batch_time(batch_time_ms: int | None, sqlite_path: str | None) -> None:
    """Refuse a ``batch_time_ms`` below 1 ms, or any on SQLite."""
    if batch_time_ms is None:
        return
    if isinstance(batch_time_ms, bool) or not isinstance(batch_time_ms, int) or batch_time_ms < 1:
        raise InvalidValue(
            f"batch_time_ms must be an int >= 1 (milliseconds) or None; got {batch_time_ms!r}",
            field="batch_time_ms",
            value=batch_time_ms,
        )
    if sqlite_path is not None:
        raise InvalidValue(
            "batch_time_ms is only for PostgreSQL: SQLite batches are of the batch size "
            f"(a smaller one shortens them); got {batch_time_ms!r}",
            field="batch_time_ms",
            value=batch_time_ms,
        )


def _check_walkers(walkers: int, sqlite_path: str | None) -> None:
    """Refuse ``walkers`` outside 1 to the number of lanes, or above 1 on SQLite."""
    if (
        isinstance(walkers, bool)
        or not isinstance(walkers, int)
        or not (1 <= walkers <= BACKFILL_LANES)
    ):
        raise InvalidValue(
            f"walkers must be an int from 1 to {BACKFILL_LANES} (the backfill's lanes); "
            f"got {walkers!r}",
            field="walkers",
            value=walkers,
        )
    if sqlite_path is not None and walkers > 1:
        raise InvalidValue(
            f"walkers above 1 is only for PostgreSQL: SQLite has one writer at a time; got "
            f"{walkers!r}",
            field="walkers",
            value=walkers,
        )


def rollback(
    dsn: str,
    *,
    table: str = "campaigns",
    mapping: LegacyMapping = DEFAULT_MAPPING,
    batch_size: int = DEFAULT_BATCH_SIZE,
    pause_ms: int = 0,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    report: Report = _ignore,
    batch_time_ms: int | None = None,
) -> None:
    """Undo whatever the migration did on the database at ``dsn``, from any point.

    The options are :func:`migrate`'s.
    """
    path = _sqlite_path(dsn)
    _check_batch_time(batch_time_ms, path)

    def script_for(size: int) -> MigrationScript:
        return rollback_sql(
            "postgresql" if path is None else "sqlite",
            table=table,
            mapping=mapping,
            batch_size=size,
            lock_timeout_ms=lock_timeout_ms,
            statement_timeout_ms=statement_timeout_ms,
        )

    settings = _RunSettings(script_for, mapping, batch_size, pause_ms, report, batch_time_ms)
    with _open_run(dsn, settings) as run:
        run.rollback()


def migration_status(dsn: str, *, table: str = "campaigns") -> MigrationStatus:
    """Return where the migration of ``table`` is."""
    path = _sqlite_path(dsn)
    if path is not None:
        names = script_target("sqlite", table).names
        try:
            with contextlib.closing(_connect_sqlite(path)) as sqlite_connection:
                _sqlite_columns(sqlite_connection, table)
                state = _sqlite_state(sqlite_connection, names)
        except sqlite3.Error as error:
            raise DatabaseError(_one_line(error)) from None
    else:
        names = script_target("postgresql", table).names
        connection = _connect_postgres(dsn)
        with connection:
            state = _postgres_state(connection, names)
    if state is None:
        return MigrationStatus(table, "none", None, None, 0)
    recorded, next_id, end_id, rows = state
    return MigrationStatus(table, str(recorded), next_id, end_id, int(str(rows)))


def _open_run(dsn: str, settings: _RunSettings) -> _PostgresRun | _SqliteRun:
    """Return the run of ``settings``' script on the database at ``dsn``, to enter with
    ``with``."""
    path = _sqlite_path(dsn)
    if path is None:
        return _PostgresRun(dsn, settings)
    return _SqliteRun(path, settings)
