"""The PostgreSQL rollback's steps: the same from any point, contract included."""

from __future__ import annotations

from phasekit.sql._expressions import legacy_status_case, legacy_type_case
from phasekit.sql._postgresql._common import (
    BACKUP_COLUMNS,
    Online,
    add_not_null_checks,
    constraint_name,
    record_step,
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
)


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
            *timeouts(online),
            # Every column, so that the later statements are valid from any point (adding
            # a missing phase column only to drop it is metadata only).
            f"ALTER TABLE {t} "
            + ", ".join(f"ADD COLUMN IF NOT EXISTS {name} {kind}" for name, kind in every),
            *state_table(online),
            f"CREATE TABLE IF NOT EXISTS {names.backup} AS SELECT {columns} FROM {t} WITH NO DATA",
            *sync_trigger(online),
            # Every write fills the legacy columns from here on (the trigger), so the
            # checks hold for new writes at once; validate checks the rows the fill did.
            add_not_null_checks(online, LEGACY_COLUMNS[:2]),
            f"UPDATE {names.state} SET restore_next_id = (SELECT id FROM {t} ORDER BY id LIMIT 1), "
            f"restore_end_id = (SELECT id FROM {t} ORDER BY id DESC LIMIT 1) "
            "WHERE step <> 'restore_start'",
            record_step(online, "restore_start"),
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
        (*timeouts(online), statement),
        "fill the legacy columns of rows that lack them: from the backup where the phase "
        "state is unchanged since contract, else from to_legacy of the current state",
        in_transaction=False,
        repeat=True,
    )


def restore_validate(online: Online) -> MigrationStep:
    """Validate the legacy NOT NULL CHECKs that restore_start added."""
    constraints = tuple(constraint_name(column, "not_null") for column in LEGACY_COLUMNS[:2])
    return MigrationStep(
        "restore_validate",
        (*timeouts(online, scanning=True), *validate_constraints(online, constraints)),
        "validate the CHECKs that campaign_type and status are not NULL, blocking no write",
    )


def restore_not_null(online: Online) -> MigrationStep:
    """NOT NULL back on the legacy type and status, without a scan."""
    return MigrationStep(
        "restore_not_null",
        (
            *timeouts(online),
            set_columns_not_null(online, LEGACY_COLUMNS[:2]),
            record_step(online, "restore_not_null"),
        ),
        "campaign_type and status NOT NULL again, as the old version expects",
    )


def drop_phase_indexes(online: Online) -> MigrationStep:
    """Drop the phase indexes without blocking writes."""
    names = online.target.names
    return MigrationStep(
        "drop_phase_indexes",
        (
            *timeouts(online, scanning=True),
            f"DROP INDEX CONCURRENTLY IF EXISTS {names.phase_index}",
            f"DROP INDEX CONCURRENTLY IF EXISTS {names.counts_index}",
        ),
        "drop the phase indexes without blocking writes",
        in_transaction=False,
    )


def drop_phase_columns(online: Online) -> MigrationStep:
    """Drop the triggers, the phase columns, the backup, the lanes and the state table."""
    names = online.target.names
    t = names.table
    return MigrationStep(
        "drop_phase_columns",
        (
            *timeouts(online),
            f"DROP TRIGGER IF EXISTS phasekit_keep_backup ON {t}",
            f"DROP TRIGGER IF EXISTS phasekit_sync ON {t}",
            f"ALTER TABLE {t} " + ", ".join(f"DROP COLUMN IF EXISTS {c}" for c in PHASE_COLUMNS),
            f"ALTER TABLE {t} "
            + ", ".join(
                f"DROP CONSTRAINT IF EXISTS {constraint_name(c, 'not_null')}"
                for c in LEGACY_COLUMNS[:2]
            ),
            f"DROP FUNCTION IF EXISTS {names.sync_function}()",
            f"DROP FUNCTION IF EXISTS {names.backup_function}()",
            f"DROP TABLE IF EXISTS {names.backup}",
            f"DROP TABLE IF EXISTS {names.lanes}",
            f"DROP TABLE IF EXISTS {names.state}",
        ),
        "drop the triggers, the phase columns (their CHECKs go with them), the backup, "
        "the backfill's lanes and the state table",
    )


def rollback_steps(online: Online) -> tuple[MigrationStep, ...]:
    """Return the rollback's steps, in order: the same from any point of the migration."""
    return (
        restore_start(online),
        restore(online),
        restore_validate(online),
        restore_not_null(online),
        drop_phase_indexes(online),
        drop_phase_columns(online),
    )
