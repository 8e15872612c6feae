"""The online PostgreSQL migration: two application versions writing one live table.

While the migration runs, the old application writes the legacy columns and, once the
backfill is done, the new one writes the phase columns; until ``contract`` both column
sets stay in agreement on every row, kept so by one ``BEFORE INSERT OR UPDATE`` trigger:

* a write that leaves the phase columns alone (the old version) sets them from the
  mapping of the row's legacy values; a value the mapping cannot map leaves them NULL,
  for verify to count, never guessed;
* a write to the phase columns (the new version) sets the legacy columns from
  ``to_legacy``, keeping a legacy value that already maps to what was written (a
  ``queued`` row still pending stays ``queued``, a NULL progress of 0 stays NULL).

The steps, each safe to run again after a crash at any moment:

``preflight``
    distinct-value counts of the legacy columns, for the report.
``expand``
    metadata only, in one transaction: the phase columns without inline CHECK, their
    CHECKs ``NOT VALID``, the sync trigger, the state table holding the step and the
    backfill checkpoint, and the backfill's lanes table, emptied for a new migration.
``backfill``
    statements to run once, which cut the ids that existed at expand into lanes, then
    one statement to repeat until it returns no row: a keyset batch (``id >= next``,
    never rescanning done rows) of the first lane no other session holds, and that lane's
    checkpoint, in one transaction; several sessions repeating it walk several lanes at
    once. The trigger maps every later write, so it ends under any load.
``verify``
    counts rows whose phase columns are NULL or disagree with the mapping of the row's
    live legacy values: 0 means safe, and the trigger keeps it 0 under live writes.
``validate``
    ``VALIDATE CONSTRAINT`` (no ACCESS EXCLUSIVE scan), and NOT NULL through a validated
    ``CHECK (col IS NOT NULL)``, so that ``SET NOT NULL`` skips its scan.
``vacuum``
    ``VACUUM (ANALYZE, TRUNCATE false)``, which lets the application read and write: the
    backfill left half the heap dead, the visibility map clear and the phase columns
    without statistics.
``index``
    the phase indexes, with ``CREATE INDEX CONCURRENTLY`` after dropping a leftover:
    ``(current_phase, phase_status, *index_columns)``, and, when ``index_columns`` widens
    it, ``INCLUDE (id)`` on it and a second index on the two phase columns alone for the
    counts.
``contract``
    refused while verify is not 0; keeps a backup of the legacy and phase columns as they
    are at that moment (a trigger keeps it current while batches copy it); drops the
    legacy indexes ``CONCURRENTLY``, then the triggers and the legacy columns.

Every DDL statement runs under ``lock_timeout`` (short: a DDL queued behind a long
transaction blocks every reader and writer behind it) and ``statement_timeout``; a
runner retries a lock timeout with backoff.

The rollback (:func:`rollback_steps`) runs from any point. Before contract the legacy
columns are live and current, and it drops what expand added. After contract it adds the
legacy columns back, lets the trigger keep them in step with the new version's writes,
and fills each row from the backup where its phase state is unchanged since contract and
from ``to_legacy`` of its current state where the new version changed it.
"""

from __future__ import annotations

from phasekit.sql._postgresql._common import BACKUP_COLUMNS, Online
from phasekit.sql._postgresql._migrate import legacy_index_query, migration_steps
from phasekit.sql._postgresql._rollback import rollback_steps

__all__ = [
    "BACKUP_COLUMNS",
    "Online",
    "legacy_index_query",
    "migration_steps",
    "rollback_steps",
]
