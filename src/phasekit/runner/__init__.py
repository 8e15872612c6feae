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
"""

from __future__ import annotations

import abc
import contextlib
import random
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

import attrs

from phasekit.errors import InvalidValue, PhasekitError
from phasekit.legacy import DEFAULT_MAPPING, LegacyMapping, MappingReport
from phasekit.sql import MigrationScript, MigrationStep, migration_sql, rollback_sql
from phasekit.sql._migrate import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
)
from phasekit.sql._script import TableNames, script_target

if TYPE_CHECKING:
    import psycopg

__all__ = [
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
]

#: The steps ``--to`` accepts, in order: contract stands for the contract's steps (four on
#: PostgreSQL, two on SQLite); SQLite has no validate or index, and stops after verify.
MIGRATE_STEPS: Final = (
    "preflight",
    "expand",
    "backfill",
    "verify",
    "validate",
    "index",
    "contract",
)
_LOCK_NOT_AVAILABLE: Final = "55P03"
_RETRIES: Final = 30
_LOCK_WAIT_SECONDS: Final = 30.0


class MissingDriver(PhasekitError):
    """psycopg is not installed: PostgreSQL needs ``pip install 'phasekit[postgres]'``."""


class DatabaseError(PhasekitError):
    """The database refused a statement (the message is the database's, in one line)."""


class VerifyFailed(PhasekitError):
    """Verify counted rows whose phase columns are unmapped or disagree with the mapping."""

    def __init__(self, count: int, table: str) -> None:
        self.count = count
        super().__init__(
            f"verify: {count:,} row(s) of {table} are unmapped or disagree with the mapping; "
            "fix or map them (phasekit mapping, --mapping plan), then run phasekit migrate "
            "again"
        )


@attrs.frozen
class Progress:
    """How far a keyset walk is: rows done of rows to do, and the time so far."""

    step: str
    done: int
    total: int
    seconds: float


@attrs.frozen
class Retrying:
    """A step hit ``lock_timeout``: another transaction held the table; it runs again."""

    step: str
    attempt: int
    wait_seconds: float
    cancelled_autovacuum: int = 0


@attrs.frozen
class StepDone:
    """One step the runner finished (or found finished), with its time."""

    step: str
    seconds: float
    skipped: bool = False
    detail: str = ""


@attrs.frozen
class MigrationStatus:
    """Where a table's migration is: the last step recorded and the backfill checkpoint."""

    table: str
    step: str
    backfill_next_id: object
    backfill_end_id: object
    backfill_rows: int

    def summary(self) -> str:
        """Return the status as the lines ``phasekit migrate status`` prints."""
        if self.step == "none":
            return f"{self.table}: not migrated\n"
        lines = [f"{self.table}: last step done: {self.step}"]
        if self.backfill_next_id is None:
            lines.append(f"backfill: complete, {self.backfill_rows:,} rows mapped")
        else:
            lines.append(
                f"backfill: {self.backfill_rows:,} rows mapped; next id {self.backfill_next_id}, "
                f"last id {self.backfill_end_id}"
            )
        return "\n".join(lines) + "\n"


Report = Callable[[object], None]


def _ignore(_: object) -> None:
    return None


def _connect_postgres(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    try:
        import psycopg
    except ImportError:
        raise MissingDriver("PostgreSQL needs psycopg: pip install 'phasekit[postgres]'") from None
    try:
        return psycopg.connect(dsn, autocommit=True)
    except psycopg.Error as error:
        raise DatabaseError(_one_line(error)) from None


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _sqlite_path(dsn: str) -> str | None:
    return dsn[len("sqlite:///") :] if dsn.startswith("sqlite:///") else None


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
) -> None:
    """Run the migration on the database at ``dsn`` up to the step ``to``, resuming.

    ``report`` is called with the :class:`~phasekit.MappingReport` of the preflight, each
    :class:`Progress` of a keyset walk and each :class:`StepDone`. Raises
    :class:`VerifyFailed` when verify is not 0 (nothing after it runs),
    :class:`DatabaseError` when the database refuses a statement and
    :class:`MissingDriver` without psycopg.

    On SQLite ``to`` may name ``validate`` or ``index``, which SQLite does not have: the
    run then stops after verify. ``lock_timeout_ms`` and ``statement_timeout_ms`` do not
    apply there, and ``index_columns`` is refused: SQLite builds no phase index.
    """
    path = _sqlite_path(dsn)
    if path is not None and index_columns:
        raise InvalidValue(
            "index_columns is only for PostgreSQL: the SQLite migration builds no phase index "
            f"(create it with your schema tool); got {index_columns!r}",
            field="index_columns",
            value=index_columns,
        )
    script = migration_sql(
        "postgresql" if path is None else "sqlite",
        mapping=mapping,
        table=table,
        batch_size=batch_size,
        lock_timeout_ms=lock_timeout_ms,
        statement_timeout_ms=statement_timeout_ms,
        index_columns=index_columns,
    )
    with _open_run(dsn, _RunSettings(script, mapping, batch_size, pause_ms, report)) as run:
        run.migrate(MIGRATE_STEPS[: MIGRATE_STEPS.index(to) + 1])


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
) -> None:
    """Undo whatever the migration did on the database at ``dsn``, from any point."""
    script = rollback_sql(
        "postgresql" if _sqlite_path(dsn) is None else "sqlite",
        table=table,
        mapping=mapping,
        batch_size=batch_size,
        lock_timeout_ms=lock_timeout_ms,
        statement_timeout_ms=statement_timeout_ms,
    )
    with _open_run(dsn, _RunSettings(script, mapping, batch_size, pause_ms, report)) as run:
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
            state = _postgres_state(connection, names.state)
    if state is None:
        return MigrationStatus(table, "none", None, None, 0)
    recorded, next_id, end_id, rows = state
    return MigrationStatus(table, str(recorded), next_id, end_id, int(str(rows)))


def _postgres_state(
    connection: psycopg.Connection[tuple[object, ...]], state: str
) -> tuple[object, ...] | None:
    exists = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (state,)).fetchone()
    if not exists or not exists[0]:
        return None
    return connection.execute(
        f"SELECT step, backfill_next_id, backfill_end_id, backfill_rows FROM {state}"
    ).fetchone()


Rows = list[tuple[object, ...]]


@attrs.frozen
class _RunSettings:
    """What a run is given: the script, its mapping and batch size, the pause, the report."""

    script: MigrationScript
    mapping: LegacyMapping
    batch_size: int
    pause_ms: int
    report: Report


class _Run(abc.ABC):
    """One run of a script on a database: the order of the steps, what to skip, verify.

    What differs per database (how a statement runs, how a step's transaction and a
    keyset walk run, where the state is read) is the subclasses'.
    """

    def __init__(self, settings: _RunSettings) -> None:
        self.script = settings.script
        self.mapping = settings.mapping
        self.batch_size = settings.batch_size
        self.names: TableNames = script_target(self.script.dialect, self.script.table).names
        self.pause = settings.pause_ms / 1000
        self.report = settings.report

    @abc.abstractmethod
    def _query(self, sql: str, parameters: Sequence[object] = ()) -> Rows:
        """Run one statement outside a step; return its rows."""

    @abc.abstractmethod
    def _recorded(self) -> str | None:
        """Return the last step the state table records, None without one."""

    @abc.abstractmethod
    def _contracted(self) -> bool:
        """Return whether contract ran: the legacy columns are gone."""

    @abc.abstractmethod
    def _run_step(self, step: MigrationStep) -> list[Rows]:
        """Run ``step``; return what its queries returned."""

    def _migrate(self, wanted: Sequence[str]) -> None:
        order = [step.name for step in self.script.steps]
        recorded = self._recorded()
        if recorded is not None and recorded not in order:
            raise DatabaseError(
                f"a rollback of {self.script.table} is under way (its last step done: "
                f"{recorded}): run phasekit rollback to finish it before migrating again"
            )
        for step in self.script.steps:
            if _family(step.name) not in wanted:
                break
            recorded = self._recorded()
            rank = -1 if recorded is None else order.index(recorded)
            if step.name == "preflight":
                if rank >= order.index("backfill"):
                    continue
                self._preflight(step)
                continue
            if rank >= order.index(step.name) or self._contracted():
                self.report(StepDone(step.name, 0.0, skipped=True))
                continue
            started = time.monotonic()
            if step.name == "verify":
                count = int(str(self._run_step(step)[-1][0][0]))
                if count:
                    raise VerifyFailed(count, self.script.table)
                self.report(StepDone(step.name, time.monotonic() - started, detail="0 rows"))
                continue
            self._run_step(step)
            self.report(StepDone(step.name, time.monotonic() - started))

    def _preflight(self, step: MigrationStep) -> None:
        started = time.monotonic()
        results = [self._query(statement) for statement in step.statements]
        self.report(_preflight_report(results, self.mapping))
        self.report(StepDone(step.name, time.monotonic() - started))

    def _batch_rows(self, walk: str, rowcount: int) -> int:
        # The backfill reports rows updated; the copies report their checkpoint's update.
        return rowcount if walk == "backfill" else self.batch_size

    def _remaining(self, walk: str) -> int:
        prefix = {"backfill": "backfill", "contract_backup": "backup", "restore": "restore"}[walk]
        state, table = self.names.state, self.names.table
        rows = self._query(
            f"SELECT COUNT(*) FROM {table} WHERE id >= (SELECT {prefix}_next_id FROM {state}) "
            f"AND id <= (SELECT {prefix}_end_id FROM {state})"
        )
        return int(str(rows[0][0]))

    def _report_batch(self, walk: str, progress: tuple[int, int, float], rows: int) -> int:
        """Report one more batch of ``walk``; return the rows done so far."""
        done, total, started = progress
        done = min(total, done + self._batch_rows(walk, rows))
        self.report(Progress(walk, done, total, time.monotonic() - started))
        if self.pause:
            time.sleep(self.pause)
        return done


def _open_run(dsn: str, settings: _RunSettings) -> _PostgresRun | _SqliteRun:
    """Return the run of ``settings.script`` on the database at ``dsn``, to enter with
    ``with``."""
    path = _sqlite_path(dsn)
    if path is None:
        return _PostgresRun(dsn, settings)
    return _SqliteRun(path, settings)


class _PostgresRun(_Run):
    """One run of a script on a PostgreSQL connection in autocommit mode."""

    def __init__(self, dsn: str, settings: _RunSettings) -> None:
        super().__init__(settings)
        self.connection = _connect_postgres(dsn)

    def __enter__(self) -> _PostgresRun:
        import psycopg

        # A runner killed mid-statement leaves its server session running that statement
        # (and holding the lock) until the server notices: wait a while for it.
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        try:
            while not self._query(
                "SELECT pg_try_advisory_lock(hashtext('phasekit ' || %s))", (self.script.table,)
            )[0][0]:
                if time.monotonic() > deadline:
                    self.connection.close()
                    raise DatabaseError(
                        f"another phasekit migrate or rollback is running on {self.script.table}"
                    )
                time.sleep(0.2)
        except psycopg.Error as error:
            self.connection.close()
            raise DatabaseError(_one_line(error)) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()

    def _query(self, sql: str, parameters: Sequence[object] = ()) -> Rows:
        cursor = self.connection.execute(sql, parameters or None)
        return cursor.fetchall() if cursor.description else []

    def _recorded(self) -> str | None:
        state = _postgres_state(self.connection, self.names.state)
        return None if state is None else str(state[0])

    def _contracted(self) -> bool:
        rows = self._query(
            "SELECT COUNT(*) FROM pg_attribute WHERE attrelid = CAST(%s AS regclass) "
            "AND attname = 'campaign_type' AND NOT attisdropped",
            (self.names.table,),
        )
        return rows[0][0] == 0

    def migrate(self, wanted: Sequence[str]) -> None:
        import psycopg

        try:
            self._migrate(wanted)
        except psycopg.Error as error:
            raise DatabaseError(_one_line(error)) from None

    def rollback(self) -> None:
        import psycopg

        try:
            if self._recorded() is None and not self._query(
                "SELECT 1 FROM pg_attribute WHERE attrelid = CAST(%s AS regclass) "
                "AND attname = 'current_phase' AND NOT attisdropped",
                (self.names.table,),
            ):
                self.report(StepDone("rollback", 0.0, skipped=True, detail="nothing to undo"))
                return
            order = [step.name for step in self.script.steps]
            for step in self.script.steps:
                recorded = self._recorded()
                if recorded in order and order.index(recorded) >= order.index(step.name):
                    self.report(StepDone(step.name, 0.0, skipped=True))
                    continue
                started = time.monotonic()
                self._run_step(step)
                self.report(StepDone(step.name, time.monotonic() - started))
        except psycopg.Error as error:
            raise DatabaseError(_one_line(error)) from None

    def _run_step(self, step: MigrationStep) -> list[Rows]:
        """Run ``step``, retrying it on a lock timeout; return what its queries returned."""
        import psycopg

        for attempt in range(_RETRIES):
            try:
                if step.repeat:
                    self._repeat(step)
                    return []
                if step.in_transaction:
                    with self.connection.transaction():
                        return self._statements(step)
                return self._statements(step)
            except psycopg.errors.LockNotAvailable:
                if attempt == _RETRIES - 1:
                    raise
                # Full jitter: waiting runners do not retry in step with one another.
                wait = random.uniform(0, min(5.0, 0.05 * 2**attempt))
                cancelled = self._cancel_autovacuum()
                self.report(Retrying(step.name, attempt + 1, wait, cancelled))
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _cancel_autovacuum(self) -> int:
        """Cancel autovacuum on the table, as PostgreSQL itself would; return how many.

        Right after a big backfill autovacuum is the likely holder of the lock a DDL
        waits for, and PostgreSQL cancels it only after ``deadlock_timeout`` (1 s), which a
        short ``lock_timeout`` never reaches. Cancelling an autovacuum (not one that
        prevents wraparound) is what PostgreSQL does for any waiting DDL; it runs again
        later. It needs the right to signal it (a superuser in PostgreSQL 15); without it
        the runner goes on retrying.
        """
        import psycopg

        try:
            rows = self._query(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                "WHERE backend_type = 'autovacuum worker' "
                "AND query NOT LIKE '%%to prevent wraparound%%' "
                "AND pid = ANY (SELECT pid FROM pg_locks "
                "WHERE relation = CAST(%s AS regclass))",
                (self.names.table,),
            )
        except psycopg.Error:
            return 0
        return sum(1 for (done,) in rows if done)

    def _statements(self, step: MigrationStep) -> list[Rows]:
        results = []
        for statement in step.statements:
            rows = self._query(statement)
            results.append(rows)
        if step.generates_statements:
            for (generated,) in results[-1]:
                self._query(str(generated))
        return results

    def _repeat(self, step: MigrationStep) -> None:
        *settings, statement = step.statements
        for setting in settings:
            self._query(setting)
        walk = step.name
        progress = (0, self._remaining(walk), time.monotonic())
        while True:
            cursor = self.connection.execute(statement)
            if cursor.rowcount == 0:
                break
            done = self._report_batch(walk, progress, cursor.rowcount)
            progress = (done, *progress[1:])


#: The steps that ``--to`` names by another step's name.
_FAMILIES: Final = {
    "not_null_checks": "validate",
    "set_not_null": "validate",
    "contract_backup_start": "contract",
    "contract_backup": "contract",
    "contract_drop_indexes": "contract",
}


def _family(step: str) -> str:
    """Return the ``--to`` name of ``step``: validate and contract stand for several."""
    return _FAMILIES.get(step, step)


def _preflight_report(results: Sequence[Rows], mapping: LegacyMapping) -> MappingReport:
    """Return the report of the preflight's three queries' rows."""
    types, statuses, nulls = results
    return MappingReport.from_counts(
        [(str(value), int(str(count))) for value, count in types],
        [(str(value), int(str(count))) for value, count in statuses],
        null_progress=int(str(nulls[0][0])),
        mapping=mapping,
    )


def _connect_sqlite(path: str) -> sqlite3.Connection:
    """Open the SQLite database at ``path``, which must exist: a typo creates no file.

    The connection is in autocommit mode (each step begins its own transaction) and
    waits up to 30 seconds for another connection's write lock (its busy timeout).
    """
    try:
        return sqlite3.connect(
            f"file:{urllib.parse.quote(path)}?mode=rw",
            uri=True,
            isolation_level=None,
            timeout=_LOCK_WAIT_SECONDS,
        )
    except sqlite3.Error as error:
        raise DatabaseError(f"cannot open the SQLite database {path}: {error}") from None


def _sqlite_columns(connection: sqlite3.Connection, table: str) -> list[str]:
    """Return the columns of ``table``; raise :class:`DatabaseError` if there is no such table."""
    columns = [str(row[1]) for row in connection.execute(f"PRAGMA table_info({table})")]
    if not columns:
        raise DatabaseError(f"no table {table} in this SQLite database")
    return columns


def _sqlite_state(connection: sqlite3.Connection, names: TableNames) -> tuple[object, ...] | None:
    """Return the state table's step, backfill checkpoint and rows, None without one."""
    exists = connection.execute(
        f"SELECT COUNT(*) FROM {names.prefix}sqlite_master WHERE type = 'table' AND name = ?",
        (names.state_name,),
    ).fetchone()
    if not exists[0]:
        return None
    row: tuple[object, ...] | None = connection.execute(
        f"SELECT step, backfill_next_id, backfill_end_id, backfill_rows FROM {names.state}"
    ).fetchone()
    return row


class _SqliteRun(_Run):
    """One run of a SQLite script: each step in a ``BEGIN IMMEDIATE`` transaction.

    A step marked ``repeat`` runs again and again, each run its own transaction (a keyset
    batch and its checkpoint), until its last query returns 0; a step that generates
    statements runs them in its transaction.
    """

    def __init__(self, path: str, settings: _RunSettings) -> None:
        super().__init__(settings)
        self.connection = _connect_sqlite(path)

    def __enter__(self) -> _SqliteRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()

    def _query(self, sql: str, parameters: Sequence[object] = ()) -> Rows:
        return self.connection.execute(sql, parameters).fetchall()

    def _recorded(self) -> str | None:
        state = _sqlite_state(self.connection, self.names)
        return None if state is None else str(state[0])

    def _contracted(self) -> bool:
        return "campaign_type" not in _sqlite_columns(self.connection, self.script.table)

    def migrate(self, wanted: Sequence[str]) -> None:
        try:
            _sqlite_columns(self.connection, self.script.table)
            self._migrate(wanted)
        except sqlite3.Error as error:
            raise DatabaseError(_one_line(error)) from None

    def rollback(self) -> None:
        """Run the rollback's steps, each only where its guard says it has work to do.

        The script is the one for a table whose contract may or may not have run: the
        guards read which (the legacy columns gone, the backup there), also when a
        previous rollback stopped halfway.
        """
        try:
            if "current_phase" not in _sqlite_columns(self.connection, self.script.table):
                self.report(StepDone("rollback", 0.0, skipped=True, detail="nothing to undo"))
                return
            for step in self.script.steps:
                if step.guard is not None and not self._query(step.guard)[0][0]:
                    self.report(StepDone(step.name, 0.0, skipped=True, detail="nothing to do"))
                    continue
                started = time.monotonic()
                self._run_step(step)
                self.report(StepDone(step.name, time.monotonic() - started))
        except sqlite3.Error as error:
            raise DatabaseError(_one_line(error)) from None

    def _run_step(self, step: MigrationStep) -> list[Rows]:
        if step.repeat:
            self._repeat(step)
            return []
        return self._transaction(step)[0]

    def _transaction(self, step: MigrationStep) -> tuple[list[Rows], int]:
        """Run ``step`` in one transaction; return its queries' rows and the rows its first
        statement changed (a keyset batch's)."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            results: list[Rows] = []
            changed = 0
            for statement in step.statements:
                cursor = self.connection.execute(statement)
                changed = changed if results else cursor.rowcount
                results.append(cursor.fetchall())
            if step.generates_statements:
                for (generated,) in results[-1]:
                    self.connection.execute(str(generated))
        except BaseException:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")
        return results, changed

    def _repeat(self, step: MigrationStep) -> None:
        walk = step.name
        progress = (0, self._remaining(walk), time.monotonic())
        while True:
            results, changed = self._transaction(step)
            walking = int(str(results[-1][0][0]))
            if not walking and not changed:
                break
            done = self._report_batch(walk, progress, changed)
            progress = (done, *progress[1:])
            if not walking:
                break
