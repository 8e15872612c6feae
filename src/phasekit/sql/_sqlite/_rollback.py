"""The SQLite rollback's steps: from any point, contract included."""

from __future__ import annotations

from phasekit.sql import _expressions as expressions
from phasekit.sql._script import (
    PHASE_COLUMNS,
    MigrationStep,
    Target,
    literal,
)
from phasekit.sql._sqlite._migrate import (
    ROLLBACK_REFUSED,
    SqliteMigration,
    create_triggers,
    drop_triggers,
    first_id,
    index_query,
    keyset_walk,
    last_id,
    refuse_unless_zero,
    state_table,
)


def _has_column(target: Target, column: str) -> str:
    """Return a query counting the table's columns called ``column`` (0 or 1)."""
    where = literal(target.names.bare_table)
    if target.names.schema is not None:
        where += f", {literal(target.names.schema)}"
    return f"SELECT COUNT(*) FROM pragma_table_info({where}) WHERE name = {literal(column)}"


def _restoring(target: Target) -> str:
    """Return a query that is 1 while the rollback's restore walk is under way, else 0."""
    return f"SELECT COUNT(*) FROM {target.names.state} WHERE step = 'restore_columns'"


def _legacy_still_there(target: Target) -> str:
    """Return a statement that fails at once with 'no such column' after contract."""
    return f"SELECT campaign_type FROM {target.names.table} LIMIT 0"


_NOT_CONTRACTED = (
    ". This script is for a table whose contract did not run (or was refused): if "
    "campaign_type is gone, this fails at once with 'no such column' and changes nothing; "
    "use the rollback for a contracted table (contracted=True; phasekit sql rollback "
    "--contracted)"
)


def restore_columns(migration: SqliteMigration, contracted: bool | None) -> MigrationStep:
    """Add the legacy columns back, with the triggers that fill them on the new version's
    writes, and start the restore walk."""
    target = migration.target
    t, state = target.names.table, target.names.state
    kinds = {"campaign_type": "TEXT", "status": "TEXT", "progress_percentage": "REAL"}
    missing = _has_column(target, "campaign_type")
    description = (
        "bring back the legacy columns that contract dropped (nullable: SQLite cannot add a "
        "NOT NULL column without a default), and the triggers that fill them on the new "
        "version's writes from now on"
    )
    if contracted is True:
        description += (
            ". This script is for a table whose contract ran: if campaign_type is still "
            "there, this fails at once with 'duplicate column name' and changes nothing; use "
            "the rollback for a table not contracted (contracted=False; phasekit sql rollback "
            "--no-contracted)"
        )
    return MigrationStep(
        "restore_columns",
        (
            *(f"ALTER TABLE {t} ADD COLUMN {column} {kinds[column]}" for column in kinds),
            *create_triggers(migration),
            *state_table(target),
            f"UPDATE {state} SET step = 'restore_columns', "
            f"restore_next_id = {first_id(target)}, restore_end_id = {last_id(target)}",
        ),
        description,
        guard=None if contracted is not None else f"SELECT ({missing}) = 0",
    )


def restore(migration: SqliteMigration, contracted: bool | None) -> MigrationStep:
    """Fill the legacy columns a keyset batch a run, from the backup or from to_legacy."""
    names, mapping = migration.target.names, migration.mapping
    t, backup = names.table, names.backup
    batch, checkpoint, not_done = keyset_walk(migration, "restore", "restore_columns", "restore")
    unchanged = "b.id IS NOT NULL AND " + " AND ".join(
        f"b.{column} IS c.{column}" for column in PHASE_COLUMNS
    )
    fill = (
        f"UPDATE {t} AS c SET "
        f"campaign_type = CASE WHEN {unchanged} THEN b.campaign_type "
        f"ELSE {expressions.legacy_type_case('c.current_phase', mapping)} END, "
        f"status = CASE WHEN {unchanged} THEN b.status "
        f"ELSE {expressions.legacy_status_case('c.phase_status', mapping)} END, "
        f"progress_percentage = CASE WHEN {unchanged} THEN b.progress_percentage "
        "ELSE c.progress END "
        f"FROM ({batch}) AS batch LEFT JOIN {backup} AS b ON b.id = batch.id "
        "WHERE c.id = batch.id AND c.campaign_type IS NULL"
    )
    return MigrationStep(
        "restore",
        (fill, checkpoint, not_done),
        "fill the legacy columns of the rows that lack them, "
        f"{migration.batch_size:,} a batch in id order: from the backup where the row's phase "
        "state is unchanged since contract, else from to_legacy of its current state (a row "
        "inserted since contract has no backup). The last query is 1 until the walk is done",
        guard=_restoring(migration.target) if contracted is None else None,
        repeat=True,
    )


def drop_phase_indexes(migration: SqliteMigration, contracted: bool | None) -> MigrationStep:
    """Drop the indexes on a phase column (generated): SQLite cannot drop their columns."""
    target = migration.target
    description = (
        "drop the indexes on a phase column, such as the new version's, which SQLite cannot "
        "drop a column from: run each statement the last query returns"
    )
    return MigrationStep(
        "drop_phase_indexes",
        (
            *((_legacy_still_there(target),) if contracted is False else ()),
            index_query(target, PHASE_COLUMNS),
        ),
        description + (_NOT_CONTRACTED if contracted is False else ""),
        generates_statements=True,
    )


def drop_phase_columns(migration: SqliteMigration, contracted: bool | None) -> MigrationStep:
    """Drop the triggers, the phase columns, the backup and the state table."""
    target = migration.target
    names = target.names
    t = names.table
    return MigrationStep(
        "drop_phase_columns",
        (
            *((_legacy_still_there(target),) if contracted is False else ()),
            *refuse_unless_zero(target, ROLLBACK_REFUSED, _restoring(target)),
            *drop_triggers(target),
            *(f"ALTER TABLE {t} DROP COLUMN {column}" for column in PHASE_COLUMNS),
            f"DROP TABLE IF EXISTS {names.backup}",
            f"DROP TABLE IF EXISTS {names.state}",
        ),
        "refused while the restore walk is not done; drops the triggers, the phase columns, "
        "the backup and the state table",
        guard=_has_column(target, "current_phase") if contracted is None else None,
    )


def rollback_steps(
    migration: SqliteMigration, contracted: bool | None
) -> tuple[MigrationStep, ...]:
    """Return the rollback's steps, in order, for a table contracted or not (or unknown:
    then the steps that depend on it carry a guard)."""
    before_contract = (drop_phase_indexes, drop_phase_columns)
    if contracted is False:
        return tuple(step(migration, contracted) for step in before_contract)
    return tuple(
        step(migration, contracted) for step in (restore_columns, restore, *before_contract)
    )
