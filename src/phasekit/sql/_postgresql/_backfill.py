"""The PostgreSQL backfill: keyset batches in lanes, which several sessions walk at once.

The ids that existed at expand (from the state table's ``backfill_next_id`` to its
``backfill_end_id``) are cut into at most :data:`BACKFILL_LANES` disjoint id ranges, the
lanes, each with its own checkpoint in the lanes table. A batch takes the first lane no
other session holds (``FOR UPDATE SKIP LOCKED``), maps the next ``batch_size`` rows of it
and moves that lane's checkpoint, in one statement and so in one transaction. One session
walks the lanes one after another; several sessions walk several lanes at once, each on
its own server process, which is how a backfill uses more than one core. A crash at any
moment loses at most the batch in flight of each session: its lane's checkpoint did not
move either.

The lanes are cut where a sample of the ids puts the quantiles: ``TABLESAMPLE SYSTEM`` of
about :data:`SAMPLE_PAGES_PER_LANE` pages a lane (the table's size in pages is known
without a scan, analyzed or not), and any type of ``id`` that sorts; a lane is at least
about a batch long, so a small table gets fewer lanes. A lane a sample made longer than
the others takes longer, which more lanes than sessions evens out: a session that
finishes its lane takes the next free one.
"""

from __future__ import annotations

from typing import Final

from phasekit.sql._expressions import mapped
from phasekit.sql._postgresql._common import Online, lanes_table, timeouts
from phasekit.sql._script import MigrationStep, literal

#: How many id ranges the backfill is cut into, at most (fewer on a table of few pages):
#: the most sessions that can walk it at once.
BACKFILL_LANES: Final = 16

#: About how many pages of the table the lanes' bounds are sampled from, a lane.
SAMPLE_PAGES_PER_LANE: Final = 64


def cut_lanes(online: Online) -> str:
    """Return the statement cutting the walk into lanes in the lanes table.

    It does nothing when the lanes are there: the first session to run it cuts them, and
    a session resuming a backfill keeps them and their checkpoints. The first lane starts
    at the first id from the state table's checkpoint on, so a backfill that an earlier
    phasekit began in one walk goes on from where it stopped; every other lane at a
    sampled id. A lane ends at the last id before the next lane's first (the last lane at
    the walk's end): the ids between are the lane's, sampled or not, so the lanes cover
    the walk with no gap and no overlap, and each holds at least its first id. When no
    id is left from the checkpoint on (every row deleted since expand), it inserts one
    lane already done, so that the walk's record does not wait for a cut.

    The sampled ids are cut every so many: an equal share of the sample for each of
    :data:`BACKFILL_LANES` lanes, or the sampled share of ``batch_size`` rows if that is
    more. A lane is then about a batch long at least, so that a small table's batches
    stay full, where a lane shorter than a batch would cut every batch short.
    """
    names = online.target.names
    t, state, lanes = names.table, names.state, names.lanes
    pages = (
        f"pg_relation_size(CAST({literal(t)} AS regclass)) / "
        "CAST(current_setting('block_size') AS bigint)"
    )
    percent = (
        f"(SELECT LEAST(100, 100.0 * {SAMPLE_PAGES_PER_LANE * BACKFILL_LANES} / "
        f"GREATEST({pages}, 1)))"
    )
    first = (
        f"(SELECT id FROM {t} WHERE id >= s.backfill_next_id AND id <= s.backfill_end_id "
        "ORDER BY id LIMIT 1)"
    )
    every = (
        f"CAST(GREATEST(ceil(sampled / {BACKFILL_LANES}.0), "
        f"ceil({online.batch_size} * {percent} / 100.0)) AS bigint)"
    )
    cuts = (
        "ARRAY(SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS position, "
        f"count(*) OVER () AS sampled FROM {t} TABLESAMPLE SYSTEM ({percent}) REPEATABLE (0) "
        "WHERE id >= s.backfill_next_id AND id <= s.backfill_end_id) AS sample "
        f"WHERE position > 1 AND (position - 1) % {every} = 0)"
    )
    starts = (
        f"SELECT DISTINCT unnest({first} || {cuts}) AS first_id, "
        f"s.backfill_end_id AS end_id FROM {state} AS s "
        f"WHERE s.backfill_next_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {lanes})"
    )
    return (
        f"INSERT INTO {lanes} (lane, next_id, end_id, rows_mapped) "
        "SELECT lane, first_id, CASE WHEN following IS NULL THEN end_id "
        f"ELSE (SELECT max(id) FROM {t} WHERE id < following) END, 0 "
        "FROM (SELECT row_number() OVER starts_in_order - 1 AS lane, first_id, "
        "lead(first_id) OVER starts_in_order AS following, end_id "
        f"FROM ({starts}) AS starts WINDOW starts_in_order AS (ORDER BY first_id)) AS bounds"
    )


def backfill(online: Online) -> MigrationStep:
    """One keyset batch of a free lane and its checkpoint in one statement, repeated
    until it returns no row.

    The batch is the ids from the lane's checkpoint to the ``batch_size``-th one after it
    in the lane, found by the primary key (an index scan that stops there, or at the
    lane's last id): an id range, which the update reads in one index range scan. Both of
    its bounds are the batch's own, so whatever plan the planner picks, blind to their
    values, reads no row past the batch. The next id after the batch in the lane is the
    lane's checkpoint, and the rows the update returned are added to the lane's count.

    A run that takes a lane returns one row, the rows it mapped (0 when the lane's rows
    were deleted since the cut). A run that finds no free lane returns no row; when it
    finds every lane done, it also records the step and the rows mapped in the state
    table. Until then some lane is held by a session still walking it, whose next run
    will find them all done, as a run sees every batch committed before it starts; a
    session that finds no free lane but the step unrecorded waits for those sessions
    (the runner does), so a backfill never ends without its record.
    """
    names, mapping, size = online.target.names, online.mapping, online.batch_size
    t, state, lanes = names.table, names.state, names.lanes
    phase, status, progress = mapped("c", mapping)
    more = "b.next_id <= b.end_id"
    statement = (
        "WITH lane AS (SELECT l.lane, l.next_id AS first_id, l.end_id, edge.last_id, "
        f"edge.next_id FROM (SELECT lane, next_id, end_id FROM {lanes} "
        "WHERE next_id IS NOT NULL ORDER BY lane LIMIT 1 FOR UPDATE SKIP LOCKED) AS l "
        "CROSS JOIN LATERAL "
        "(SELECT min(id) AS last_id, CASE WHEN COUNT(*) = 2 THEN max(id) END AS next_id "
        f"FROM (SELECT id FROM {t} WHERE id >= l.next_id AND id <= l.end_id ORDER BY id "
        f"OFFSET {size - 1} LIMIT 2) AS edge_rows) AS edge), "
        f"batch AS (UPDATE {t} AS c SET current_phase = {phase}, phase_status = {status}, "
        f"progress = {progress} "
        "FROM lane AS b WHERE c.id >= b.first_id AND c.id <= LEAST(b.end_id, b.last_id) "
        "RETURNING 1), "
        "mapped AS (SELECT COUNT(*) AS rows_mapped FROM batch), "
        f"checkpoint AS (UPDATE {lanes} AS l SET "
        f"next_id = CASE WHEN {more} THEN b.next_id END, "
        "rows_mapped = l.rows_mapped + m.rows_mapped "
        "FROM lane AS b CROSS JOIN mapped AS m WHERE l.lane = b.lane), "
        f"done AS (UPDATE {state} SET step = 'backfill', backfill_next_id = NULL, "
        f"backfill_rows = backfill_rows + (SELECT COALESCE(sum(rows_mapped), 0) FROM {lanes}) "
        "WHERE step = 'expand' AND NOT EXISTS (SELECT 1 FROM lane) "
        # Not before the cut, unless the table was empty at expand (no cut to wait for).
        f"AND (backfill_next_id IS NULL OR EXISTS (SELECT 1 FROM {lanes})) "
        f"AND NOT EXISTS (SELECT 1 FROM {lanes} WHERE next_id IS NOT NULL)) "
        "SELECT m.rows_mapped FROM lane CROSS JOIN mapped AS m"
    )
    return MigrationStep(
        "backfill",
        (*timeouts(online), *lanes_table(online), cut_lanes(online), statement),
        f"map the rows that existed at expand, {size:,} a batch in id order, in at most "
        f"{BACKFILL_LANES} lanes that several sessions can walk at once; each batch writes "
        "its lane's checkpoint in its own transaction, so a crash redoes at most one batch "
        "a session. Several sessions: each runs the SETs, the first also the lanes "
        "statements, then all the repeated one, which returns a row for each batch and none "
        "when no lane is free",
        in_transaction=False,
        repeat=True,
    )
