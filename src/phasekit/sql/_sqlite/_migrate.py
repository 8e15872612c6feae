"""The online SQLite migration's steps, from expand to contract, and what the rollback
shares with them."""

from __future__ import annotations

from typing import Final

import attrs

from phasekit.legacy import LegacyMapping
from phasekit.sql import _expressions as expressions
from phasekit.sql._script import (
    LEGACY_COLUMNS,
    PHASE_COLUMNS,
    MigrationStep,
    Target,
    in_list,
    literal,
)

#: The sync triggers, by the application version whose write each answers.
TRIGGERS: Final = ("old_insert", "old_update", "new_insert", "new_update")

#: The columns of the backup table that contract fills, in this order.
_BACKUP_COLUMNS: Final = ("id", *LEGACY_COLUMNS, *PHASE_COLUMNS)

_CONTRACT_REFUSED: Final = "phasekit_contract_refused_rows_unmapped_run_backfill_then_verify"
ROLLBACK_REFUSED: Final = "phasekit_rollback_refused_restore_not_done_run_it_until_it_returns_0"


@attrs.frozen
class SqliteMigration:
    """What the SQLite steps are generated from: a target, a mapping, a batch size."""

    target: Target
    mapping: LegacyMapping
    batch_size: int


def _values(row: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{row}.{column}" for column in columns)


def _disagree(left: tuple[str, ...], right: tuple[str, ...]) -> str:
    """Return a condition true when any of ``left`` differs from its ``right`` (NULL-safe)."""
    return "(" + " OR ".join(f"{a} IS NOT ({b})" for a, b in zip(left, right, strict=True)) + ")"


def _synced_legacy(
    legacy: str, phases: str, mapping: LegacyMapping, *, update: bool = False
) -> tuple[str, str, str]:
    """Return the legacy values of ``legacy``'s row made to agree with ``phases``'s row.

    A legacy value that maps to the phase value is kept (a ``queued`` row still pending
    stays ``queued``, a NULL progress of 0 stays NULL); any other becomes ``to_legacy``'s.
    A NULL type or status is never kept: it is no legacy value, only a column restored
    after contract and not yet filled. For an ``update``, a row without a type is such a
    row, and its progress is the phase progress, as the restore walk would set it (an
    insert's NULL progress of 0 stays NULL, as before contract).
    """
    kept_type = (
        f"{legacy}.campaign_type IS NOT NULL AND "
        f"({expressions.phase_case(f'{legacy}.campaign_type', mapping)}) IS {phases}.current_phase"
    )
    kept_status = (
        f"{legacy}.status IS NOT NULL AND "
        f"({expressions.status_case(f'{legacy}.status', mapping)}) IS {phases}.phase_status"
    )
    restored = f"{legacy}.campaign_type IS NOT NULL AND " if update else ""
    return (
        f"CASE WHEN {kept_type} THEN {legacy}.campaign_type "
        f"ELSE {expressions.legacy_type_case(f'{phases}.current_phase', mapping)} END",
        f"CASE WHEN {kept_status} THEN {legacy}.status "
        f"ELSE {expressions.legacy_status_case(f'{phases}.phase_status', mapping)} END",
        f"CASE WHEN {restored}COALESCE({legacy}.progress_percentage, 0.0) IS {phases}.progress "
        f"THEN {legacy}.progress_percentage ELSE {phases}.progress END",
    )


def _set(columns: tuple[str, ...], values: tuple[str, ...]) -> str:
    return ", ".join(f"{column} = {value}" for column, value in zip(columns, values, strict=True))


def _trigger(migration: SqliteMigration, kind: str) -> str:
    """Return the ``CREATE TRIGGER`` of one sync trigger (see the module's docstring)."""
    names, mapping = migration.target.names, migration.mapping
    t = names.unqualified_table  # a trigger's statements name tables of its own schema
    new_legacy, new_phases = _values("NEW", LEGACY_COLUMNS), _values("NEW", PHASE_COLUMNS)
    phases_mapped = _disagree(new_phases, expressions.mapped("NEW", mapping, in_trigger=True))
    synced = _synced_legacy("NEW", "NEW", mapping, update=kind.endswith("update"))
    legacy_synced = _disagree(new_legacy, synced)
    if kind == "old_insert":
        event = "INSERT"
        when = " AND ".join(f"{value} IS NULL" for value in new_phases) + f" AND {phases_mapped}"
    elif kind == "old_update":
        event = f"UPDATE OF {', '.join(LEGACY_COLUMNS)}"
        # Not an echo of new_update's own update, which sets exactly these legacy values.
        echo = _synced_legacy("OLD", "NEW", mapping)
        phases_changed = _disagree(new_phases, _values("OLD", PHASE_COLUMNS))
        when = f"NOT {phases_changed} AND {_disagree(new_legacy, echo)} AND {phases_mapped}"
    elif kind == "new_insert":
        event = "INSERT"
        given = " OR ".join(f"{value} IS NOT NULL" for value in new_phases)
        when = f"({given}) AND {legacy_synced}"
    else:
        event = f"UPDATE OF {', '.join(PHASE_COLUMNS)}"
        # Not an echo of old_update's own update (or a backfill batch): the phase columns
        # it sets are exactly the mapping of the legacy ones.
        phases_changed = _disagree(new_phases, _values("OLD", PHASE_COLUMNS))
        when = f"{phases_changed} AND {phases_mapped} AND {legacy_synced}"
    if kind.startswith("old"):
        assignments = _set(PHASE_COLUMNS, expressions.mapped("NEW", mapping, in_trigger=True))
    else:
        assignments = _set(LEGACY_COLUMNS, synced)
    return (
        f"CREATE TRIGGER IF NOT EXISTS {names.qualified(f'_phasekit_{kind}')} AFTER {event} "
        f"ON {t} FOR EACH ROW WHEN {when} BEGIN UPDATE {t} SET {assignments} "
        "WHERE id = NEW.id; END"
    )


def create_triggers(migration: SqliteMigration) -> tuple[str, ...]:
    return tuple(_trigger(migration, kind) for kind in TRIGGERS)


def drop_triggers(target: Target) -> tuple[str, ...]:
    return tuple(
        f"DROP TRIGGER IF EXISTS {target.names.qualified(f'_phasekit_{kind}')}" for kind in TRIGGERS
    )


def state_table(target: Target) -> tuple[str, ...]:
    """Create the state table if missing, with its one row: the step and the checkpoints.

    The checkpoint columns have no type: they hold ``id`` values, whatever their type.
    """
    state = target.names.state
    return (
        f"CREATE TABLE IF NOT EXISTS {state} (step TEXT NOT NULL, backfill_next_id, "
        "backfill_end_id, backfill_rows INTEGER NOT NULL, restore_next_id, restore_end_id)",
        f"INSERT INTO {state} (step, backfill_next_id, backfill_end_id, backfill_rows) "
        f"SELECT 'expand', {first_id(target)}, {last_id(target)}, 0 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {state})",
    )


def first_id(target: Target) -> str:
    return f"(SELECT id FROM {target.names.table} ORDER BY id LIMIT 1)"


def last_id(target: Target) -> str:
    return f"(SELECT id FROM {target.names.table} ORDER BY id DESC LIMIT 1)"


def _record(target: Target, step: str) -> str:
    return f"UPDATE {target.names.state} SET step = {literal(step)}"


def refuse_unless_zero(target: Target, constraint: str, count: str) -> tuple[str, ...]:
    """Return statements that fail, naming ``constraint``, unless ``count`` returns 0.

    SQLite has no procedural block to raise an error from: a ``CHECK`` on a scratch row of
    a temporary table (this connection's own) fails instead, and the step's transaction
    with it.
    """
    refusal = target.names.refusal
    return (
        f"CREATE TEMP TABLE IF NOT EXISTS {refusal} (counted INTEGER NOT NULL "
        f"CONSTRAINT {constraint} CHECK (counted = 0))",
        f"INSERT INTO temp.{refusal} (counted) {count}",
        f"DROP TABLE temp.{refusal}",
    )


def _refuse_unless_verified(migration: SqliteMigration) -> tuple[str, ...]:
    verify_count = expressions.live_verify_query(migration.target, migration.mapping)
    return refuse_unless_zero(migration.target, _CONTRACT_REFUSED, verify_count)


def keyset_walk(
    migration: SqliteMigration, walk: str, during: str, done: str
) -> tuple[str, str, str]:
    """Return a keyset walk's batch of ids, its checkpoint update and its 'not done' query.

    The walk ``walk`` (``backfill`` or ``restore``) runs while the state table's step is
    ``during``, from ``<walk>_next_id`` to ``<walk>_end_id``; its last batch records
    ``done`` as the step. Only the checkpoint moves the walk on, so the batch and the
    checkpoint, in one transaction, commit together or not at all.
    """
    t, state = migration.target.names.table, migration.target.names.state
    size = migration.batch_size
    walking = (
        f"id >= (SELECT {walk}_next_id FROM {state} WHERE step = {literal(during)}) "
        f"AND id <= (SELECT {walk}_end_id FROM {state})"
    )
    batch = f"SELECT id FROM {t} WHERE {walking} ORDER BY id LIMIT {size}"
    following = f"(SELECT id FROM {t} WHERE {walking} ORDER BY id LIMIT 1 OFFSET {size})"
    counted = f", backfill_rows = backfill_rows + (SELECT COUNT(*) FROM ({batch}))"
    checkpoint = (
        f"UPDATE {state} SET {walk}_next_id = {following}"
        + (counted if walk == "backfill" else "")
        + f", step = CASE WHEN {following} IS NULL THEN {literal(done)} ELSE step END "
        f"WHERE step = {literal(during)}"
    )
    not_done = f"SELECT COUNT(*) FROM {state} WHERE step = {literal(during)}"
    return batch, checkpoint, not_done


def expand(migration: SqliteMigration) -> MigrationStep:
    """Add the phase columns with their CHECKs, the state table and the sync triggers."""
    t = migration.target.names.table
    kinds = {"current_phase": "TEXT", "phase_status": "TEXT", "progress": "REAL"}
    return MigrationStep(
        "expand",
        (
            *(
                f"ALTER TABLE {t} ADD COLUMN {column} {kinds[column]} CHECK ({check})"
                for column, check in expressions.phase_checks().items()
            ),
            *state_table(migration.target),
            *create_triggers(migration),
        ),
        "the phase columns with their CHECKs, the state table with the backfill checkpoint "
        "(the first and last id now), and the sync triggers that keep both column sets in "
        "agreement on every row",
    )


def backfill(migration: SqliteMigration) -> MigrationStep:
    """Map one keyset batch and move its checkpoint, in one transaction; run until 0."""
    t = migration.target.names.table
    batch, checkpoint, not_done = keyset_walk(migration, "backfill", "expand", "backfill")
    assignments = _set(PHASE_COLUMNS, expressions.mapped("c", migration.mapping))
    return MigrationStep(
        "backfill",
        (f"UPDATE {t} AS c SET {assignments} WHERE c.id IN ({batch})", checkpoint, not_done),
        f"map the rows that existed at expand, {migration.batch_size:,} a batch in id order; "
        "each batch moves its checkpoint in the same transaction, so after a crash the walk "
        "resumes after the last batch committed, and no row is mapped or counted twice. The "
        "last query is 1 until the walk is done",
        repeat=True,
    )


def verify(migration: SqliteMigration) -> MigrationStep:
    """Count the rows unmapped or disagreeing with their live legacy values; 0 is safe."""
    return MigrationStep(
        "verify",
        (expressions.live_verify_query(migration.target, migration.mapping),),
        "rows unmapped or disagreeing with the mapping of their live legacy values; 0 is safe",
    )


def index_query(target: Target, columns: tuple[str, ...]) -> str:
    """Return the query of the ``DROP INDEX`` statements of the indexes on ``columns``.

    Only indexes made by ``CREATE INDEX``: one that backs a PRIMARY KEY or UNIQUE
    constraint cannot be dropped (nor its column: contract then fails, changing nothing).
    An expression or partial index is not seen here: SQLite refuses to drop a column it
    names, and the step fails, changing nothing.
    """
    names = target.names
    arguments = literal(names.bare_table)
    schema = "" if names.schema is None else f", {literal(names.schema)}"
    return (
        f"SELECT 'DROP INDEX IF EXISTS {names.prefix}\"' || replace(listed.name, '\"', '\"\"') "
        f"|| '\"' FROM pragma_index_list({arguments}{schema}) AS listed "
        "WHERE listed.origin = 'c' AND EXISTS (SELECT 1 FROM "
        f"pragma_index_info(listed.name{schema}) AS keyed WHERE keyed.name IN "
        f"({in_list(columns)})) ORDER BY listed.name"
    )


def contract_drop_indexes(migration: SqliteMigration) -> MigrationStep:
    """Refuse while verify is not 0; drop the indexes on a legacy column (generated)."""
    return MigrationStep(
        "contract_drop_indexes",
        (
            *_refuse_unless_verified(migration),
            index_query(migration.target, LEGACY_COLUMNS),
        ),
        "refused while verify is not 0; the indexes on a legacy column, which SQLite cannot "
        "drop a column from: run each statement the last query returns",
        generates_statements=True,
    )


def contract(migration: SqliteMigration) -> MigrationStep:
    """Refuse while verify is not 0; back up, drop the triggers and the legacy columns."""
    target = migration.target
    names = target.names
    t = names.table
    return MigrationStep(
        "contract",
        (
            *_refuse_unless_verified(migration),
            f"CREATE TABLE {names.backup} AS SELECT {', '.join(_BACKUP_COLUMNS)} FROM {t}",
            f"CREATE UNIQUE INDEX {names.prefix}{names.backup_index} ON {names.bare_backup} (id)",
            *drop_triggers(target),
            *(f"ALTER TABLE {t} DROP COLUMN {column}" for column in LEGACY_COLUMNS),
            _record(target, "contract"),
        ),
        "refused while verify is not 0; a backup of id, the legacy and the phase columns as "
        "they are now, for a rollback; drops the triggers and the legacy columns (SQLite "
        "rewrites the table to drop a column: writers wait meanwhile)",
    )


def migration_steps(migration: SqliteMigration) -> tuple[MigrationStep, ...]:
    """Return the SQLite migration's steps, in order."""
    return (
        expressions.preflight(migration.target),
        expand(migration),
        backfill(migration),
        verify(migration),
        contract_drop_indexes(migration),
        contract(migration),
    )
