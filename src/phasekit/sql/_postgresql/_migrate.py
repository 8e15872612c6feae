"""The online PostgreSQL migration's steps, from expand to contract."""

from __future__ import annotations

from phasekit.sql._expressions import (
    live_verify_query,
    phase_checks,
    preflight,
)
from phasekit.sql._postgresql._backfill import backfill
from phasekit.sql._postgresql._common import (
    BACKUP_COLUMNS,
    Online,
    add_not_null_checks,
    constraint_name,
    record_step,
    replica_identity,
    set_columns_not_null,
    state_table,
    sync_trigger,
    timeouts,
    validate_constraints,
)
from phasekit.sql._script import (
    LEGACY_COLUMNS,
    PHASE_COLUMNS,
    MigrationStep,
    Target,
    in_list,
    literal,
)


def expand(online: Online) -> MigrationStep:
    """Add the phase columns, their CHECKs NOT VALID, the sync trigger, the state and
    lanes tables."""
    t = online.target.names.table
    columns = (
        ("current_phase", "text"),
        ("phase_status", "text"),
        ("progress", "double precision"),
    )
    checks = phase_checks()
    constraints = ", ".join(
        f"ADD CONSTRAINT {constraint_name(column, 'check')} CHECK ({check}) NOT VALID"
        for column, check in checks.items()
    )
    return MigrationStep(
        "expand",
        (
            *timeouts(online),
            f"ALTER TABLE {t} "
            + ", ".join(f"ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in columns),
            f"ALTER TABLE {t} {constraints}",
            *state_table(online),
            *sync_trigger(online),
            record_step(online, "expand"),
        ),
        "metadata only: the phase columns, their CHECKs NOT VALID, the sync trigger that keeps "
        "both column sets in agreement, the state table with the backfill checkpoint, and "
        "the backfill's lanes table",
    )


def verify(online: Online) -> MigrationStep:
    """Count the rows unmapped or disagreeing with their live legacy values; 0 is safe."""
    return MigrationStep(
        "verify",
        (*timeouts(online, scanning=True), live_verify_query(online.target, online.mapping)),
        "rows unmapped or disagreeing with the mapping of their live legacy values; 0 is safe",
    )


def not_null_checks(online: Online) -> MigrationStep:
    """Add ``CHECK (col IS NOT NULL) NOT VALID`` on the phase columns: metadata only."""
    return MigrationStep(
        "not_null_checks",
        (
            *timeouts(online),
            add_not_null_checks(online, PHASE_COLUMNS),
            record_step(online, "not_null_checks"),
        ),
        "CHECK (col IS NOT NULL) NOT VALID on the phase columns: new writes are checked from "
        "now on, the rows already there by validate",
    )


def validate(online: Online) -> MigrationStep:
    """Validate the CHECKs: a scan that lets reads and writes through."""
    constraints = tuple(
        constraint_name(column, kind) for kind in ("check", "not_null") for column in PHASE_COLUMNS
    )
    return MigrationStep(
        "validate",
        (*timeouts(online, scanning=True), *validate_constraints(online, constraints)),
        "VALIDATE CONSTRAINT scans under a SHARE UPDATE EXCLUSIVE lock, which blocks no "
        "read or write",
    )


def set_not_null(online: Online) -> MigrationStep:
    """SET NOT NULL on the phase columns, which the validated CHECKs spare a scan."""
    return MigrationStep(
        "set_not_null",
        (
            *timeouts(online),
            set_columns_not_null(online, PHASE_COLUMNS),
            record_step(online, "set_not_null"),
        ),
        "SET NOT NULL finds the validated CHECK (col IS NOT NULL) and skips its scan: the "
        "exclusive lock lasts a moment. The CHECKs stay, equal in meaning",
    )


def vacuum(online: Online) -> MigrationStep:
    """Vacuum and analyze the table, once the backfill is done and validated.

    The backfill gave every row a new version: half the heap is dead, the visibility map
    is clear (an index-only scan would visit the heap for every row), and the planner has
    no statistics on the phase columns (it sorted every running campaign to find the 50
    newest). Autovacuum would get there, in its own time; after this step the phase
    queries are fast as soon as the index step is done. It runs before the index build, so
    that it has no new index to vacuum. ``VACUUM`` lets the application read and write;
    ``TRUNCATE false`` keeps it from taking an ACCESS EXCLUSIVE lock to hand empty pages
    at the end of the table back to the system. It waits for an autovacuum already on the
    table under the same ``lock_timeout`` as a DDL, and a runner cancels that autovacuum.
    """
    return MigrationStep(
        "vacuum",
        (
            *timeouts(online, scanning=True),
            f"VACUUM (ANALYZE, TRUNCATE false) {online.target.names.table}",
            record_step(online, "vacuum"),
        ),
        "make the old row versions' space reusable, set the visibility map for index-only "
        "scans and gather the phase columns' statistics, without blocking writes",
        in_transaction=False,
    )


def index(online: Online) -> MigrationStep:
    """Build the phase indexes concurrently, each after dropping a leftover of an
    interrupted build (a valid one too: the step then builds it again).

    The phase index is on ``(current_phase, phase_status, *index_columns)``. When
    ``index_columns`` makes it wider than the two phase columns:

    - it also carries ``id`` (``INCLUDE``), so that a page of ids, newest first, is an
      index-only scan: the rows' new versions, wider by the legacy columns that contract
      drops only from the catalog, are not read;
    - the counts by phase and status get an index of their own on just those two columns.
      Deduplicated (which an index with ``INCLUDE`` columns never is), it is a small
      fraction of the wide index or of the heap (which the backfill's new row versions
      doubled), so the planner reads it in an index-only scan.

    Neither holds ``progress``: an update of the progress alone may stay HOT.
    """
    names = online.target.names
    phases = "current_phase, phase_status"
    counts: tuple[str, ...] = (f"DROP INDEX CONCURRENTLY IF EXISTS {names.counts_index}",)
    if online.index_columns:
        include = "" if "id" in online.index_columns else " INCLUDE (id)"
        phase_definition = f"({', '.join((phases, *online.index_columns))}){include}"
        counts += (
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {names.bare_counts_index} "
            f"ON {names.table} ({phases})",
        )
    else:
        # Without index_columns the phase index is the counts index; the drop clears one
        # left by a run with index_columns, stopped before this step was done.
        phase_definition = f"({phases})"
    statements = (
        f"DROP INDEX CONCURRENTLY IF EXISTS {names.phase_index}",
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {names.bare_phase_index} "
        f"ON {names.table} {phase_definition}",
        *counts,
    )
    return MigrationStep(
        "index",
        (*timeouts(online, scanning=True), *statements, record_step(online, "index")),
        "the indexes of the phase queries, built without blocking writes",
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
            *timeouts(online, scanning=True),
            "DO $phasekit$ DECLARE unmapped bigint; BEGIN "
            f"SELECT ({verify_count}) INTO unmapped; "
            "IF unmapped > 0 THEN RAISE EXCEPTION "
            f"'phasekit: contract refused: % row(s) of {names.bare_table} are unmapped or "
            "disagree with the mapping (run backfill, then verify)', unmapped; "
            "END IF; END $phasekit$",
            *timeouts(online),
            f"CREATE TABLE IF NOT EXISTS {names.backup} AS SELECT {columns} FROM {t} WITH NO DATA",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {names.backup_index} ON {names.backup} (id)",
            replica_identity(names.backup, by_index=names.backup_index),
            _backup_function(online),
            f"CREATE OR REPLACE TRIGGER phasekit_keep_backup AFTER INSERT OR UPDATE ON {t} "
            f"FOR EACH ROW EXECUTE FUNCTION {names.backup_function}()",
            f"UPDATE {names.state} SET backup_next_id = (SELECT id FROM {t} ORDER BY id LIMIT 1), "
            f"backup_end_id = (SELECT id FROM {t} ORDER BY id DESC LIMIT 1) "
            "WHERE step <> 'contract_backup_start'",
            record_step(online, "contract_backup_start"),
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
        (*timeouts(online), statement),
        "copy the legacy and phase values of every row into the backup, a batch a run",
        in_transaction=False,
        repeat=True,
    )


def contract_drop_indexes(online: Online) -> MigrationStep:
    """Drop the legacy indexes concurrently: the statements are what the query returns."""
    return MigrationStep(
        "contract_drop_indexes",
        (
            *timeouts(online, scanning=True),
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
            *timeouts(online),
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
            record_step(online, "contract"),
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
        vacuum(online),
        index(online),
        contract_guard(online),
        contract_backup(online),
        contract_drop_indexes(online),
        contract(online),
    )
