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
    CHECKs ``NOT VALID``, the sync trigger, and the state table holding the step and the
    backfill checkpoint.
``backfill``
    one statement to repeat until it reports 0 rows: a keyset batch (``id >= next``,
    never rescanning done rows) and its checkpoint, in one transaction. It covers the rows
    that existed at expand; the trigger maps every later write, so it ends under any load.
``verify``
    counts rows whose phase columns are NULL or disagree with the mapping of the row's
    live legacy values: 0 means safe, and the trigger keeps it 0 under live writes.
``validate``
    ``VALIDATE CONSTRAINT`` (no ACCESS EXCLUSIVE scan), and NOT NULL through a validated
    ``CHECK (col IS NOT NULL)``, so that ``SET NOT NULL`` skips its scan.
``index``
    the phase index, with ``CREATE INDEX CONCURRENTLY`` after dropping an invalid leftover.
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

from typing import Final

import attrs

from phasekit.legacy import LegacyMapping
from phasekit.sql._expressions import (
    legacy_status_case,
    legacy_type_case,
    live_verify_query,
    mapped,
    phase_case,
    phase_checks,
    preflight,
    status_case,
)
from phasekit.sql._script import (
    LEGACY_COLUMNS,
    PHASE_COLUMNS,
    MigrationStep,
    Target,
    in_list,
    literal,
)

__all__ = [
    "BACKUP_COLUMNS",
    "Online",
    "legacy_index_query",
    "migration_steps",
    "rollback_steps",
]

#: The columns of the backup table that contract fills, in this order.
BACKUP_COLUMNS: Final = ("id", *LEGACY_COLUMNS, *PHASE_COLUMNS)

_DONE = "backfill_next_id IS NULL"


@attrs.frozen
class Online:
    """What the online PostgreSQL steps are generated from."""

    target: Target
    mapping: LegacyMapping
    batch_size: int
    lock_timeout_ms: int
    statement_timeout_ms: int
    index_columns: tuple[str, ...]


def _timeouts(online: Online, *, scanning: bool = False) -> tuple[str, ...]:
    """Return the ``SET`` statements a step starts with.

    A step that scans the table under a lock that lets writes through (``VALIDATE``,
    ``CREATE INDEX CONCURRENTLY``, a verify count) gets no statement timeout: it may take
    minutes on a big table and blocks nobody while it runs.

    JIT is off: the generated statements are short keyset batches and counts whose
    ``CASE`` expressions PostgreSQL would spend longer compiling than running, and the
    planner, which cannot see a checkpoint's value, may estimate a batch large enough to
    cross ``jit_above_cost``.
    """
    statement = 0 if scanning else online.statement_timeout_ms
    return (
        f"SET lock_timeout = '{online.lock_timeout_ms}ms'",
        f"SET statement_timeout = '{statement}ms'",
        "SET jit = off",
    )


def _constraint(column: str, kind: str) -> str:
    return f'"phasekit_{column}_{kind}"'


def _state_table(online: Online) -> tuple[str, ...]:
    """Create the state table if missing, typed like ``id``, with its one row."""
    names = online.target.names
    t, state = names.table, names.state
    checkpoints = ", ".join(
        f"id AS {walk}_{end}_id"
        for walk in ("backfill", "backup", "restore")
        for end in ("next", "end")
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {state} AS SELECT CAST('expand' AS text) AS step, "
        f"{checkpoints}, CAST(0 AS bigint) AS backfill_rows FROM {t} WITH NO DATA",
        f"INSERT INTO {state} (step, backfill_next_id, backfill_end_id, backfill_rows) "
        f"SELECT 'expand', (SELECT id FROM {t} ORDER BY id LIMIT 1), "
        f"(SELECT id FROM {t} ORDER BY id DESC LIMIT 1), 0 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {state})",
    )


def _sync_function(online: Online) -> str:
    """Return the trigger function keeping the two column sets in agreement."""
    mapping = online.mapping
    phase_written = " OR ".join(
        f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in PHASE_COLUMNS
    )
    phase_given = " OR ".join(f"NEW.{column} IS NOT NULL" for column in PHASE_COLUMNS)
    phase, status, progress = mapped("NEW", mapping)
    return (
        f"CREATE OR REPLACE FUNCTION {online.target.names.sync_function}() RETURNS trigger "
        "LANGUAGE plpgsql AS $phasekit$ BEGIN "
        f"IF (TG_OP = 'INSERT' AND NOT ({phase_given})) "
        f"OR (TG_OP = 'UPDATE' AND NOT ({phase_written})) THEN "
        # The old version wrote: the phase columns follow the mapping.
        f"NEW.current_phase := {phase}; NEW.phase_status := {status}; "
        f"NEW.progress := {progress}; "
        "ELSE "
        # The new version wrote: the legacy columns follow, keeping a value that maps.
        f"IF ({phase_case('NEW.campaign_type', mapping)}) IS DISTINCT FROM NEW.current_phase "
        f"THEN NEW.campaign_type := {legacy_type_case('NEW.current_phase', mapping)}; END IF; "
        f"IF ({status_case('NEW.status', mapping)}) IS DISTINCT FROM NEW.phase_status "
        f"THEN NEW.status := {legacy_status_case('NEW.phase_status', mapping)}; END IF; "
        "IF COALESCE(NEW.progress_percentage, 0.0) IS DISTINCT FROM NEW.progress "
        "THEN NEW.progress_percentage := NEW.progress; END IF; "
        "END IF; RETURN NEW; END $phasekit$"
    )


def _sync_trigger(online: Online) -> tuple[str, ...]:
    """Return the trigger function and the trigger, which fires only on a disagreeing row.

    Its ``WHEN`` leaves out every row whose phase columns already equal the mapping of its
    legacy columns, where the function would change nothing: the backfill's own writes,
    and each version's writes that the other side already agrees with. PostgreSQL checks
    a ``WHEN`` without calling PL/pgSQL, and the call was most of the trigger's cost.
    """
    names = online.target.names
    phase, status, progress = mapped("NEW", online.mapping)
    disagrees = (
        f"NEW.current_phase IS DISTINCT FROM ({phase}) "
        f"OR NEW.phase_status IS DISTINCT FROM ({status}) "
        f"OR NEW.progress IS DISTINCT FROM ({progress})"
    )
    return (
        _sync_function(online),
        f"CREATE OR REPLACE TRIGGER phasekit_sync BEFORE INSERT OR UPDATE ON {names.table} "
        f"FOR EACH ROW WHEN ({disagrees}) EXECUTE FUNCTION {names.sync_function}()",
    )


def _record(online: Online, step: str) -> str:
    return f"UPDATE {online.target.names.state} SET step = {literal(step)}"


def expand(online: Online) -> MigrationStep:
    """Add the phase columns, their CHECKs NOT VALID, the sync trigger and the state table."""
    t = online.target.names.table
    columns = (
        ("current_phase", "text"),
        ("phase_status", "text"),
        ("progress", "double precision"),
    )
    checks = phase_checks()
    constraints = ", ".join(
        f"ADD CONSTRAINT {_constraint(column, 'check')} CHECK ({check}) NOT VALID"
        for column, check in checks.items()
    )
    return MigrationStep(
        "expand",
        (
            *_timeouts(online),
            f"ALTER TABLE {t} "
            + ", ".join(f"ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in columns),
            f"ALTER TABLE {t} {constraints}",
            *_state_table(online),
            *_sync_trigger(online),
            _record(online, "expand"),
        ),
        "metadata only: the phase columns, their CHECKs NOT VALID, the sync trigger that keeps "
        "both column sets in agreement, and the state table with the backfill checkpoint",
    )


def backfill(online: Online) -> MigrationStep:
    """One keyset batch and its checkpoint in one statement, repeated until it reports 0.

    The batch is the next ``batch_size + 1`` ids from the checkpoint, by the primary key
    (an index scan that stops there), and only then cut at the walk's last id: with both
    bounds in the scan, the planner, which cannot see their values, may read every row
    left in the range for each batch.
    """
    names, mapping, size = online.target.names, online.mapping, online.batch_size
    t, state = names.table, names.state
    phase, status, progress = mapped("c", mapping)
    statement = (
        "WITH batch AS (SELECT id, row_number() OVER (ORDER BY id) AS position FROM "
        f"(SELECT id FROM {t} WHERE id >= (SELECT backfill_next_id FROM {state}) "
        f"ORDER BY id LIMIT {size + 1}) AS next_rows "
        f"WHERE id <= (SELECT backfill_end_id FROM {state})), "
        f"checkpoint AS (UPDATE {state} SET "
        f"backfill_next_id = (SELECT id FROM batch WHERE position = {size + 1}), "
        f"backfill_rows = backfill_rows + (SELECT COUNT(*) FROM batch WHERE position <= {size}), "
        f"step = CASE WHEN (SELECT COUNT(*) FROM batch) <= {size} THEN 'backfill' ELSE step END "
        "WHERE EXISTS (SELECT 1 FROM batch)) "
        f"UPDATE {t} AS c SET current_phase = {phase}, phase_status = {status}, "
        f"progress = {progress} "
        f"FROM batch WHERE c.id = batch.id AND batch.position <= {size}"
    )
    return MigrationStep(
        "backfill",
        (*_timeouts(online), statement),
        f"map the rows that existed at expand, {size:,} a batch in id order; each batch "
        "writes its checkpoint in its own transaction, so a crash redoes at most one batch",
        in_transaction=False,
        repeat=True,
    )


def verify(online: Online) -> MigrationStep:
    """Count the rows unmapped or disagreeing with their live legacy values; 0 is safe."""
    return MigrationStep(
        "verify",
        (*_timeouts(online, scanning=True), live_verify_query(online.target, online.mapping)),
        "rows unmapped or disagreeing with the mapping of their live legacy values; 0 is safe",
    )


def _not_null_checks(online: Online, columns: tuple[str, ...]) -> str:
    return f"ALTER TABLE {online.target.names.table} " + ", ".join(
        f"ADD CONSTRAINT {_constraint(column, 'not_null')} CHECK ({column} IS NOT NULL) NOT VALID"
        for column in columns
    )


def not_null_checks(online: Online) -> MigrationStep:
    """Add ``CHECK (col IS NOT NULL) NOT VALID`` on the phase columns: metadata only."""
    return MigrationStep(
        "not_null_checks",
        (
            *_timeouts(online),
            _not_null_checks(online, PHASE_COLUMNS),
            _record(online, "not_null_checks"),
        ),
        "CHECK (col IS NOT NULL) NOT VALID on the phase columns: new writes are checked from "
        "now on, the rows already there by validate",
    )


def _validate(online: Online, constraints: tuple[str, ...]) -> tuple[str, ...]:
    t = online.target.names.table
    return tuple(f"ALTER TABLE {t} VALIDATE CONSTRAINT {name}" for name in constraints)


def validate(online: Online) -> MigrationStep:
    """Validate the CHECKs: a scan that lets reads and writes through."""
    constraints = tuple(
        _constraint(column, kind) for kind in ("check", "not_null") for column in PHASE_COLUMNS
    )
    return MigrationStep(
        "validate",
        (*_timeouts(online, scanning=True), *_validate(online, constraints)),
        "VALIDATE CONSTRAINT scans under a SHARE UPDATE EXCLUSIVE lock, which blocks no "
        "read or write",
    )


def _set_not_null(online: Online, columns: tuple[str, ...]) -> str:
    return f"ALTER TABLE {online.target.names.table} " + ", ".join(
        f"ALTER COLUMN {column} SET NOT NULL" for column in columns
    )


def set_not_null(online: Online) -> MigrationStep:
    """SET NOT NULL on the phase columns, which the validated CHECKs spare a scan."""
    return MigrationStep(
        "set_not_null",
        (*_timeouts(online), _set_not_null(online, PHASE_COLUMNS), _record(online, "set_not_null")),
        "SET NOT NULL finds the validated CHECK (col IS NOT NULL) and skips its scan: the "
        "exclusive lock lasts a moment. The CHECKs stay, equal in meaning",
    )


def index(online: Online) -> MigrationStep:
    """Build the phase index concurrently, after dropping a leftover of an interrupted build."""
    names = online.target.names
    columns = ", ".join(("current_phase", "phase_status", *online.index_columns))
    return MigrationStep(
        "index",
        (
            *_timeouts(online, scanning=True),
            f"DROP INDEX CONCURRENTLY IF EXISTS {names.phase_index}",
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {names.phase_index} "
            f"ON {names.table} ({columns})",
            _record(online, "index"),
        ),
        "the index of the phase queries, built without blocking writes",
        in_transaction=False,
    )


def legacy_index_query(target: Target) -> str:
    """Return the query listing the legacy indexes to retire: those on a legacy column.

    Indexes that back a constraint (a primary key, a UNIQUE constraint) are left to
    ``DROP COLUMN``, which drops them with the constraint.
    """
    return (
        "SELECT format('%I.%I', n.nspname, i.relname) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_namespace n ON n.oid = i.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey) "
        f"WHERE x.indrelid = CAST({literal(target.names.table)} AS regclass) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) "
        f"AND a.attname IN ({in_list(LEGACY_COLUMNS)}) GROUP BY 1 ORDER BY 1"
    )


def _backup_function(online: Online) -> str:
    names = online.target.names
    columns = ", ".join(BACKUP_COLUMNS)
    values = ", ".join(f"NEW.{column}" for column in BACKUP_COLUMNS)
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in BACKUP_COLUMNS[1:])
    return (
        f"CREATE OR REPLACE FUNCTION {names.backup_function}() RETURNS trigger "
        "LANGUAGE plpgsql AS $phasekit$ BEGIN "
        f"INSERT INTO {names.backup} ({columns}) VALUES ({values}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}; RETURN NULL; END $phasekit$"
    )


def contract_guard(online: Online) -> MigrationStep:
    """Refuse while verify is not 0; start the backup, kept current by a trigger."""
    names = online.target.names
    t = names.table
    verify_count = live_verify_query(online.target, online.mapping)
    columns = ", ".join(BACKUP_COLUMNS)
    return MigrationStep(
        "contract_backup_start",
        (
            *_timeouts(online, scanning=True),
            "DO $phasekit$ DECLARE unmapped bigint; BEGIN "
            f"SELECT ({verify_count}) INTO unmapped; "
            "IF unmapped > 0 THEN RAISE EXCEPTION "
            f"'phasekit: contract refused: % row(s) of {names.bare_table} are unmapped or "
            "disagree with the mapping (run backfill, then verify)', unmapped; "
            "END IF; END $phasekit$",
            *_timeouts(online),
            f"CREATE TABLE IF NOT EXISTS {names.backup} AS SELECT {columns} FROM {t} WITH NO DATA",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {names.backup_index} ON {names.backup} (id)",
            _backup_function(online),
            f"CREATE OR REPLACE TRIGGER phasekit_keep_backup AFTER INSERT OR UPDATE ON {t} "
            f"FOR EACH ROW EXECUTE FUNCTION {names.backup_function}()",
            f"UPDATE {names.state} SET backup_next_id = (SELECT id FROM {t} ORDER BY id LIMIT 1), "
            f"backup_end_id = (SELECT id FROM {t} ORDER BY id DESC LIMIT 1) "
            "WHERE step <> 'contract_backup_start'",
            _record(online, "contract_backup_start"),
        ),
        "refused while verify is not 0; the backup table, and a trigger that keeps each "
        "written row's copy current while the batches copy the others",
    )


def contract_backup(online: Online) -> MigrationStep:
    """Copy the rows into the backup, a keyset batch a run, until it reports 0."""
    names, size = online.target.names, online.batch_size
    t, state = names.table, names.state
    columns = ", ".join(BACKUP_COLUMNS)
    # A row a writer changed since the trigger went in is already there, newer: keep it.
    statement = (
        "WITH batch AS (SELECT id, row_number() OVER (ORDER BY id) AS position FROM "
        f"(SELECT id FROM {t} WHERE id >= (SELECT backup_next_id FROM {state}) "
        f"ORDER BY id LIMIT {size + 1}) AS next_rows "
        f"WHERE id <= (SELECT backup_end_id FROM {state})), "
        f"copied AS (INSERT INTO {names.backup} ({columns}) "
        f"SELECT {', '.join(f'c.{column}' for column in BACKUP_COLUMNS)} FROM {t} AS c "
        f"JOIN batch ON batch.id = c.id AND batch.position <= {size} "
        "ON CONFLICT (id) DO NOTHING) "
        f"UPDATE {state} SET backup_next_id = (SELECT id FROM batch WHERE position = {size + 1}) "
        "WHERE EXISTS (SELECT 1 FROM batch)"
    )
    return MigrationStep(
        "contract_backup",
        (*_timeouts(online), statement),
        "copy the legacy and phase values of every row into the backup, a batch a run",
        in_transaction=False,
        repeat=True,
    )


def contract_drop_indexes(online: Online) -> MigrationStep:
    """Drop the legacy indexes concurrently: the statements are what the query returns."""
    return MigrationStep(
        "contract_drop_indexes",
        (
            *_timeouts(online, scanning=True),
            "SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %s', name) FROM ("
            + legacy_index_query(online.target)
            + ") AS legacy (name)",
        ),
        "drop the indexes on the legacy columns without blocking writes: run each statement "
        "the query returns (in psql, end it with \\gexec)",
        in_transaction=False,
        generates_statements=True,
    )


def contract(online: Online) -> MigrationStep:
    """Drop the triggers and the legacy columns: metadata only, under the short lock."""
    names = online.target.names
    t = names.table
    return MigrationStep(
        "contract",
        (
            *_timeouts(online),
            # Cheap, under the lock: the backup must be complete, which contract_backup_start
            # only began once verify was 0 (a client going on after its refusal stops here).
            "DO $phasekit$ BEGIN IF NOT EXISTS (SELECT 1 FROM "
            f"{names.state} WHERE step = 'contract_backup_start' AND backup_next_id IS NULL) "
            "THEN RAISE EXCEPTION 'phasekit: contract refused: the backup of "
            f"{names.bare_table} is not complete (run contract_backup_start, then "
            "contract_backup until it reports 0)'; END IF; END $phasekit$",
            f"DROP TRIGGER IF EXISTS phasekit_keep_backup ON {t}",
            f"DROP TRIGGER IF EXISTS phasekit_sync ON {t}",
            f"ALTER TABLE {t} " + ", ".join(f"DROP COLUMN {c}" for c in LEGACY_COLUMNS),
            _record(online, "contract"),
        ),
        "drop the triggers and the legacy columns; the backup keeps their last values. The "
        "trigger functions stay, unused, for a rollback; phasekit rollback drops them",
    )


def migration_steps(online: Online) -> tuple[MigrationStep, ...]:
    """Return the online migration's steps, in order."""
    return (
        preflight(online.target),
        expand(online),
        backfill(online),
        verify(online),
        not_null_checks(online),
        validate(online),
        set_not_null(online),
        index(online),
        contract_guard(online),
        contract_backup(online),
        contract_drop_indexes(online),
        contract(online),
    )


# -- rollback ---------------------------------------------------------------------------


def restore_start(online: Online) -> MigrationStep:
    """Bring the legacy columns back if missing, with the trigger keeping them current."""
    names = online.target.names
    t = names.table
    every = (
        *((column, "text") for column in LEGACY_COLUMNS[:2]),
        (LEGACY_COLUMNS[2], "double precision"),
        *((column, "text") for column in PHASE_COLUMNS[:2]),
        (PHASE_COLUMNS[2], "double precision"),
    )
    columns = ", ".join(BACKUP_COLUMNS)
    return MigrationStep(
        "restore_start",
        (
            *_timeouts(online),
            # Every column, so that the later statements are valid from any point (adding
            # a missing phase column only to drop it is metadata only).
            f"ALTER TABLE {t} "
            + ", ".join(f"ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in every),
            *_state_table(online),
            f"CREATE TABLE IF NOT EXISTS {names.backup} AS SELECT {columns} FROM {t} WITH NO DATA",
            *_sync_trigger(online),
            # Every write fills the legacy columns from here on (the trigger), so the
            # checks hold for new writes at once; validate checks the rows the fill did.
            _not_null_checks(online, LEGACY_COLUMNS[:2]),
            f"UPDATE {names.state} SET restore_next_id = (SELECT id FROM {t} ORDER BY id LIMIT 1), "
            f"restore_end_id = (SELECT id FROM {t} ORDER BY id DESC LIMIT 1) "
            "WHERE step <> 'restore_start'",
            _record(online, "restore_start"),
        ),
        "bring back the legacy columns if contract dropped them, and the trigger that keeps "
        "them in step with the new version's writes",
    )


def restore(online: Online) -> MigrationStep:
    """Fill the legacy columns a keyset batch a run, from the backup or from to_legacy."""
    names, mapping, size = online.target.names, online.mapping, online.batch_size
    t, state, backup = names.table, names.state, names.backup
    unchanged = " AND ".join(
        f"b.{column} IS NOT DISTINCT FROM c.{column}" for column in PHASE_COLUMNS
    )
    statement = (
        "WITH batch AS (SELECT id, row_number() OVER (ORDER BY id) AS position FROM "
        f"(SELECT id FROM {t} WHERE id >= (SELECT restore_next_id FROM {state}) "
        f"ORDER BY id LIMIT {size + 1}) AS next_rows "
        f"WHERE id <= (SELECT restore_end_id FROM {state})), "
        f"filled AS (UPDATE {t} AS c SET "
        f"campaign_type = CASE WHEN {unchanged} THEN b.campaign_type "
        f"ELSE {legacy_type_case('c.current_phase', mapping)} END, "
        f"status = CASE WHEN {unchanged} THEN b.status "
        f"ELSE {legacy_status_case('c.phase_status', mapping)} END, "
        f"progress_percentage = CASE WHEN {unchanged} THEN b.progress_percentage "
        "ELSE c.progress END "
        f"FROM batch LEFT JOIN {backup} AS b ON b.id = batch.id "
        f"WHERE c.id = batch.id AND batch.position <= {size} AND c.campaign_type IS NULL) "
        f"UPDATE {state} SET restore_next_id = (SELECT id FROM batch WHERE position = {size + 1}) "
        "WHERE EXISTS (SELECT 1 FROM batch)"
    )
    return MigrationStep(
        "restore",
        (*_timeouts(online), statement),
        "fill the legacy columns of rows that lack them: from the backup where the phase "
        "state is unchanged since contract, else from to_legacy of the current state",
        in_transaction=False,
        repeat=True,
    )


def restore_validate(online: Online) -> MigrationStep:
    """Validate the legacy NOT NULL CHECKs that restore_start added."""
    constraints = tuple(_constraint(column, "not_null") for column in LEGACY_COLUMNS[:2])
    return MigrationStep(
        "restore_validate",
        (*_timeouts(online, scanning=True), *_validate(online, constraints)),
        "validate the CHECKs that campaign_type and status are not NULL, blocking no write",
    )


def restore_not_null(online: Online) -> MigrationStep:
    """NOT NULL back on the legacy type and status, without a scan."""
    return MigrationStep(
        "restore_not_null",
        (
            *_timeouts(online),
            _set_not_null(online, LEGACY_COLUMNS[:2]),
            _record(online, "restore_not_null"),
        ),
        "campaign_type and status NOT NULL again, as the old version expects",
    )


def drop_phase_index(online: Online) -> MigrationStep:
    """Drop the phase index without blocking writes."""
    return MigrationStep(
        "drop_phase_index",
        (
            *_timeouts(online, scanning=True),
            f"DROP INDEX CONCURRENTLY IF EXISTS {online.target.names.phase_index}",
        ),
        "drop the phase index without blocking writes",
        in_transaction=False,
    )


def drop_phase_columns(online: Online) -> MigrationStep:
    """Drop the triggers, the phase columns, the backup and the state table."""
    names = online.target.names
    t = names.table
    return MigrationStep(
        "drop_phase_columns",
        (
            *_timeouts(online),
            f"DROP TRIGGER IF EXISTS phasekit_keep_backup ON {t}",
            f"DROP TRIGGER IF EXISTS phasekit_sync ON {t}",
            f"ALTER TABLE {t} " + ", ".join(f"DROP COLUMN IF EXISTS {c}" for c in PHASE_COLUMNS),
            f"ALTER TABLE {t} "
            + ", ".join(
                f"DROP CONSTRAINT IF EXISTS {_constraint(c, 'not_null')}"
                for c in LEGACY_COLUMNS[:2]
            ),
            f"DROP FUNCTION IF EXISTS {names.sync_function}()",
            f"DROP FUNCTION IF EXISTS {names.backup_function}()",
            f"DROP TABLE IF EXISTS {names.backup}",
            f"DROP TABLE IF EXISTS {names.state}",
        ),
        "drop the triggers, the phase columns (their CHECKs go with them), the backup and "
        "the state table",
    )


def rollback_steps(online: Online) -> tuple[MigrationStep, ...]:
    """Return the rollback's steps, in order: the same from any point of the migration."""
    return (
        restore_start(online),
        restore(online),
        restore_validate(online),
        restore_not_null(online),
        drop_phase_index(online),
        drop_phase_columns(online),
    )
