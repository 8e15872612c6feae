"""A PostgreSQL session of a run: connecting, reading the migration's state, reading what
one run of a keyset walk's statement did."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phasekit.runner._run import DatabaseError, MissingDriver, _one_line
from phasekit.sql._script import TableNames

if TYPE_CHECKING:
    # Only for the annotations: psycopg is imported when a PostgreSQL DSN is given, so
    # that `import phasekit.runner` works without it.
    import psycopg


def _connect_postgres(
    dsn: str, application_name: str = "phasekit"
) -> psycopg.Connection[tuple[object, ...]]:
    """Connect in autocommit mode, named ``application_name`` in ``pg_stat_activity``
    unless the DSN or ``PGAPPNAME`` names it."""
    try:
        import psycopg
    except ImportError:
        raise MissingDriver("PostgreSQL needs psycopg: pip install 'phasekit[postgres]'") from None
    try:
        return psycopg.connect(dsn, autocommit=True, fallback_application_name=application_name)
    except psycopg.Error as error:
        raise DatabaseError(_one_line(error)) from None


def _postgres_state(
    connection: psycopg.Connection[tuple[object, ...]], names: TableNames
) -> tuple[object, ...] | None:
    """Return the step, the backfill's next id, last id and rows mapped; None before expand.

    While the backfill walks its lanes, the next id is the smallest of their checkpoints
    and the rows are the state table's (mapped before the lanes) plus the lanes'.
    """
    exists = connection.execute(
        "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
        (names.state, names.lanes),
    ).fetchone()
    if not exists or not exists[0]:
        return None
    state = connection.execute(
        f"SELECT step, backfill_next_id, backfill_end_id, backfill_rows FROM {names.state}"
    ).fetchone()
    if state is None or state[1] is None or not exists[1]:
        return state
    step, _, end_id, rows = state
    lanes = connection.execute(
        f"SELECT min(next_id), COALESCE(sum(rows_mapped), 0), COUNT(*) FROM {names.lanes}"
    ).fetchone()
    if lanes is None or not lanes[2]:
        return state  # not cut yet
    # Every lane done but the step not yet recorded: no next id.
    return (step, lanes[0], end_id, int(str(rows)) + int(str(lanes[1])))


def _batch_result(cursor: psycopg.Cursor[tuple[object, ...]]) -> int | None:
    """Return the rows one run of a walk's statement did, None when the walk has nothing
    left for this session.

    The backfill's statement returns a row for each batch, its rows mapped (0 when they
    were deleted), and no row when no lane is free; the copies' statements are updates of
    their checkpoint, which report 0 rows once the walk is done.
    """
    if cursor.description is not None:
        row = cursor.fetchone()
        return None if row is None else int(str(row[0]))
    return cursor.rowcount or None
