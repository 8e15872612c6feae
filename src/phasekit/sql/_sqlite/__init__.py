"""The online SQLite migration: the PostgreSQL model, where SQLite can express it.

The model is PostgreSQL's (:mod:`phasekit.sql._postgresql`): while the migration runs, the
old application writes the legacy columns and, once the backfill is done, the new one
writes the phase columns; until ``contract`` both column sets agree on every row, kept so
by triggers; the backfill walks the primary key in keyset batches, each with its
checkpoint in a state table; a rollback works from any point without losing a write.

SQLite cannot change ``NEW`` in a trigger, so the sync is four ``AFTER`` triggers that
``UPDATE`` the row by ``id``, named for the application version whose write they answer:

``old_insert``, ``old_update`` (``UPDATE OF`` the legacy columns)
    a write that leaves the phase columns alone sets them from the mapping of the row's
    legacy values; a value the mapping cannot map leaves them NULL, for verify to count.
``new_insert``, ``new_update`` (``UPDATE OF`` the phase columns)
    a write to the phase columns sets the legacy columns from ``to_legacy``, keeping a
    legacy value that already maps to what was written. An ``UPDATE`` that writes both
    column sets and changes the phase columns is the new version's, as on PostgreSQL.

Each trigger's ``WHEN`` lets it write only when something disagrees, and never answers
the other trigger's own update (its echo): the phase columns equal to the mapping of the
legacy ones, or the legacy columns equal to what ``to_legacy`` gives from the values
before. So they converge, whether ``PRAGMA recursive_triggers`` is on or off. The legacy
columns stay NOT NULL, which SQLite checks before an ``AFTER`` trigger runs: the new
version's inserts must give legacy values (any; the trigger replaces those that disagree).

The steps, each in one ``BEGIN IMMEDIATE`` transaction:

``preflight``
    distinct-value counts of the legacy columns, for the report.
``expand``
    the phase columns with their CHECKs, the state table (the step, and the backfill's
    first and last id at expand), the sync triggers.
``backfill``
    a keyset batch (``id >= next``, never rescanning done rows) and its checkpoint, then a
    query that is 1 while the walk goes on: the step is run until it returns 0. It covers
    the rows there at expand; the triggers map the rest.
``verify``
    counts rows whose phase columns are NULL or disagree with the mapping of the row's
    live legacy values: 0 means safe, and the triggers keep it 0 under live writes.
``contract_drop_indexes``
    refused while verify is not 0; the ``DROP INDEX`` of each index on a legacy column
    (SQLite cannot drop an indexed column), generated from ``pragma_index_list``.
``contract``
    refused while verify is not 0; a backup of ``id``, the legacy and the phase columns as
    they are at that moment; drops the triggers and the legacy columns.

A refusal is a ``CHECK`` failing on a scratch row of a temporary table: SQLite has no
procedural block to raise an error from.

The rollback (:func:`rollback_steps`) runs from any point. Before contract the legacy
columns are live and current, and it drops what expand added. After contract it adds the
legacy columns back (nullable: SQLite cannot add a NOT NULL column without a default),
reinstalls the triggers so that the new version's writes fill them, and fills each row, a
keyset batch at a time, from the backup where its phase state is unchanged since contract
and from ``to_legacy`` of its current state otherwise. SQLite cannot add a column only if
it is missing, so the script depends on whether contract ran (``contracted``).
"""

from __future__ import annotations

from phasekit.sql._sqlite._migrate import TRIGGERS, SqliteMigration, migration_steps
from phasekit.sql._sqlite._rollback import rollback_steps

__all__ = ["TRIGGERS", "SqliteMigration", "migration_steps", "rollback_steps"]
