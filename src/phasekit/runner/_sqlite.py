"""The run on SQLite: the connection, the state and columns read, each step BEGIN IMMEDIATE."""

from __future__ import annotations

import sqlite3
import time
import urllib.parse
from collections.abc import Sequence

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
