"""The run on PostgreSQL: the advisory lock, retries on lock_timeout, the backfill's walkers."""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from phasekit.runner._postgres_session import (
    _batch_result,
    _connect_postgres,
    _postgres_state,
)
from phasekit.runner._run import (
    _LOCK_WAIT_SECONDS,
    DatabaseError,
    Retrying,
    Rows,
    StepDone,
    _one_line,
    _Run,
    _RunSettings,
    next_batch_size,
)
from phasekit.sql import MigrationStep

if TYPE_CHECKING:
    # Only for the annotations: psycopg is imported when a PostgreSQL DSN is given, so
    # that `import phasekit.runner` works without it.
    import psycopg

_RETRIES: Final = 30
#: A timed walk's first batch, before any batch has been timed.
FIRST_TIMED_BATCH: Final = 1_000
#: How long the backfill waits for lanes other sessions hold while none of them moves.
HELD_LANES_SECONDS: Final = 120.0


class _PostgresRun(_Run):
    """One run of a script on a PostgreSQL connection in autocommit mode."""

    def __init__(self, dsn: str, settings: _RunSettings) -> None:
        super().__init__(settings)
        self.dsn = dsn
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
        state = _postgres_state(self.connection, self.names)
        return None if state is None else str(state[0])

    def _remaining(self, walk: str) -> int:
        if walk != "backfill":
            return super()._remaining(walk)
        rows = self._query(
            f"SELECT COUNT(*) FROM {self.names.lanes} AS l JOIN {self.names.table} AS c "
            "ON c.id >= l.next_id AND c.id <= l.end_id"
        )
        return int(str(rows[0][0]))

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
                # A relation's oid is only unique within its database.
                "WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND relation = CAST(%s AS regclass))",
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
        """Run a keyset walk to its end: the backfill in ``walkers`` sessions at once."""
        *settings, statement = step.statements
        for setting in settings:
            self._query(setting)
        walk = step.name
        progress = (0, self._remaining(walk), time.monotonic())

        def report_batch(rows: int, size: int) -> None:
            nonlocal progress
            done = self._report_batch(walk, progress, rows, size)
            progress = (done, *progress[1:])

        if walk == "backfill" and self.walkers > 1:
            self._walk_in_parallel(walk, settings, statement, report_batch)
        # Alone, or after the walkers: whatever is left, and the step's record.
        self._walk(self.connection, walk, statement, report_batch, threading.Event())
        if walk == "backfill":
            self._wait_for_held_lanes(statement, report_batch)

    def _wait_for_held_lanes(
        self, statement: str, report_batch: Callable[[int, int], None]
    ) -> None:
        """Walk on until the backfill is recorded, while other sessions hold lanes.

        No free lane left but the step unrecorded: other sessions hold the last lanes. A
        runner killed with ``kill -9`` leaves its walkers' sessions running their batch in
        flight until the server notices; someone may walk lanes by hand in psql. Wait for
        them, taking whatever lane they let go, as long as the backfill moves on: up to
        :data:`HELD_LANES_SECONDS` without any lane moving, or twice the session's
        ``statement_timeout`` if longer: longer than a batch may run.
        """
        timeout = self._query(
            "SELECT extract(epoch FROM CAST(current_setting('statement_timeout') AS interval))"
        )[0][0]
        patience = max(HELD_LANES_SECONDS, 2 * float(str(timeout)))
        moved, last = time.monotonic(), None
        while self._recorded() == "expand":
            lanes = self._query(
                f"SELECT COALESCE(sum(rows_mapped), 0), COUNT(next_id), min(next_id) "
                f"FROM {self.names.lanes}"
            )[0]
            if lanes != last:
                moved, last = time.monotonic(), lanes
            elif time.monotonic() - moved > patience:
                raise DatabaseError(
                    f"backfill: other sessions have held the last lanes of "
                    f"{self.script.table} for {patience:.0f} s, and no lane moved "
                    "(another runner, or psql); run phasekit migrate again once they end"
                )
            time.sleep(0.1)
            self._walk(self.connection, "backfill", statement, report_batch, threading.Event())

    def _walk_in_parallel(
        self,
        walk: str,
        settings: Sequence[str],
        statement: str,
        report_batch: Callable[[int, int], None],
    ) -> None:
        """Walk the lanes in ``walkers`` sessions, each in a thread of its own.

        Only this thread reports; a walker's error stops the others after their batch in
        flight (committed with its checkpoint, like the ones before), then is raised here.
        A Ctrl-C cancels the batches in flight (each rolls back with its checkpoint), so
        that the runner stops at once, and is raised here too. Each walker's session is
        named ``phasekit backfill walker N`` in ``pg_stat_activity``.
        """
        events: queue.SimpleQueue[tuple[int, int] | BaseException | None] = queue.SimpleQueue()
        stop = threading.Event()
        connections: list[psycopg.Connection[tuple[object, ...]]] = []

        def walker() -> None:
            try:
                with _connect_postgres(self.dsn, threading.current_thread().name) as connection:
                    connections.append(connection)
                    for setting in settings:
                        connection.execute(setting)
                    self._walk(
                        connection,
                        walk,
                        statement,
                        lambda rows, size: events.put((rows, size)),
                        stop,
                    )
            except BaseException as error:  # raised again in the main thread
                events.put(error)
            finally:
                events.put(None)

        threads = [
            threading.Thread(target=walker, name=f"phasekit {walk} walker {number}", daemon=True)
            for number in range(1, self.walkers + 1)
        ]
        failure: BaseException | None = None
        running = 0
        try:
            for thread in threads:
                thread.start()
                running += 1
            while running:
                event = events.get()
                if event is None:
                    running -= 1
                elif isinstance(event, BaseException):
                    failure = failure or event
                    stop.set()
                else:
                    report_batch(*event)
        except KeyboardInterrupt:
            stop.set()
            for connection in connections:
                # cancel_safe is psycopg 3.2's; cancel, deprecated since, is 3.1's.
                cancel = getattr(connection, "cancel_safe", connection.cancel)
                with contextlib.suppress(Exception):
                    cancel()
            raise
        finally:
            stop.set()
            for thread in threads:
                if thread.ident is not None:
                    thread.join()
        if failure is not None:
            raise failure

    def _walk(
        self,
        connection: psycopg.Connection[tuple[object, ...]],
        walk: str,
        statement: str,
        on_batch: Callable[[int, int], object],
        stop: threading.Event,
    ) -> None:
        """Run ``statement`` on ``connection`` until the walk has nothing left for this
        session or ``stop`` is set."""
        size = self.batch_size
        if self.batch_time is not None:
            # The first batch is small: how long a batch takes is not known yet.
            size = min(size, FIRST_TIMED_BATCH)
            statement = self._walk_statement(walk, size)
        while not stop.is_set():
            started = time.monotonic()
            rows = _batch_result(connection.execute(statement))
            seconds = time.monotonic() - started
            if rows is None:
                break
            on_batch(rows, size)
            if self.pause:
                stop.wait(self.pause)
            if self.batch_time is not None:
                resized = next_batch_size(
                    size, seconds, target=self.batch_time, largest=self.batch_size
                )
                if resized != size:
                    size, statement = resized, self._walk_statement(walk, resized)

    def _walk_statement(self, walk: str, size: int) -> str:
        """Return the repeated statement of the walk ``walk`` for batches of ``size`` rows."""
        step = next(step for step in self.script_for(size).steps if step.name == walk)
        return step.statements[-1]
