"""The run on SQLite: the connection, the state and columns read, each step BEGIN IMMEDIATE."""

from __future__ import annotations

import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from phasekit.runner._run import (
    _LOCK_WAIT_SECONDS,
    DatabaseError,
    Rows,
    StepDone,
    _one_line,
    _Run,
    _RunSettings,
)
from phasekit.sql import MigrationStep
from phasekit.sql._script import TableNames


def _sqlite_path(dsn: str) -> str | None:
    return dsn[len("sqlite:///") :] if dsn.startswith("sqlite:///") else None


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
    statements runs them in its transaction: :func:`run_sqlite_step` runs each step.
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
        if not step.repeat:
            return run_sqlite_step(self.connection, step)
        walk = step.name
        progress = (0, self._remaining(walk), time.monotonic())

        def report_batch(changed: int) -> None:
            nonlocal progress
            done = self._report_batch(walk, progress, changed)
            progress = (done, *progress[1:])
            if self.pause:
                time.sleep(self.pause)

        return run_sqlite_step(self.connection, step, on_batch=report_batch)


def run_sqlite_step(
    connection: sqlite3.Connection,
    step: MigrationStep,
    *,
    on_batch: Callable[[int], object] | None = None,
) -> list[list[tuple[Any, ...]]]:
    """Run one step of a SQLite :class:`~phasekit.MigrationScript` as its script says.

    The step's statements run in one ``BEGIN IMMEDIATE`` transaction: it takes the write
    lock at once, so that no step fails halfway for want of it, and a failing statement
    rolls the whole step back. A step with ``generates_statements`` runs the statements
    its last query returns, in the same transaction. A ``repeat`` step (a keyset batch
    and its checkpoint) runs again, each run its own transaction, until its last query
    returns 0; after each run that changed rows or left more to do, ``on_batch`` is
    called with the rows its first statement changed (to report progress, or to pause
    between batches, outside any transaction).

    ``connection`` must be in autocommit mode (``isolation_level=None``): the step begins
    and ends its own transactions. A step's ``guard`` is the caller's to check first,
    which lets it say why a step did not run.

    This is the loop :func:`migrate` and :func:`rollback` run each SQLite step with, so
    that a program running a script's steps itself, one at a time, runs them the same way.
    Returns the rows of each statement that returns rows, in order (of a repeat step,
    those of its last run); raises :class:`sqlite3.Error` as the database does.
    """
    while True:
        results, changed = _transaction(connection, step)
        if not step.repeat:
            return results
        more = int(str(results[-1][0][0])) != 0
        if (more or changed) and on_batch is not None:
            on_batch(changed)
        if not more:
            return results


def _transaction(
    connection: sqlite3.Connection, step: MigrationStep
) -> tuple[list[list[tuple[Any, ...]]], int]:
    """Run ``step`` once, in one transaction; return its queries' rows and the rows its
    first statement changed (a keyset batch's)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        results = []
        changed = 0
        for index, statement in enumerate(step.statements):
            cursor = connection.execute(statement)
            if index == 0:
                changed = cursor.rowcount
            if cursor.description:
                results.append(cursor.fetchall())
        if step.generates_statements:
            for (generated,) in results[-1]:
                connection.execute(str(generated))
    except BaseException:
        # An error SQLite answers by rolling back itself (a RAISE(ROLLBACK), a full disk)
        # leaves no transaction to roll back, and a second error would hide the first.
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return results, changed
