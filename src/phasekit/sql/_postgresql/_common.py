"""What the online PostgreSQL steps share: their settings, the timeouts, the sync trigger,
the state table and the constraint statements."""

from __future__ import annotations

from typing import Final

import attrs

from phasekit.legacy import LegacyMapping
from phasekit.sql._expressions import (
    disagrees,
    legacy_status_case,
    legacy_type_case,
    mapped,
    phase_case,
    status_case,
)
from phasekit.sql._script import (
    LEGACY_COLUMNS,
    PHASE_COLUMNS,
    Target,
    literal,
)

#: The columns of the backup table that contract fills, in this order.
BACKUP_COLUMNS: Final = ("id", *LEGACY_COLUMNS, *PHASE_COLUMNS)


@attrs.frozen
class Online:
    """What the online PostgreSQL steps are generated from."""

    target: Target
    mapping: LegacyMapping
    batch_size: int
    lock_timeout_ms: int
    statement_timeout_ms: int
    index_columns: tuple[str, ...]


def timeouts(online: Online, *, scanning: bool = False) -> tuple[str, ...]:
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


#: True of a row without legacy values: before contract only a new-version insert that
#: gives none (the trigger fills them), after contract a row the rollback has not yet
#: restored. A mapping with a fallback maps NULL too, so agreement alone cannot tell.
LEGACY_MISSING: Final = "NEW.campaign_type IS NULL OR NEW.status IS NULL"


def constraint_name(column: str, kind: str) -> str:
    return f'"phasekit_{column}_{kind}"'


def lanes_table(online: Online) -> tuple[str, ...]:
    """Create the backfill's lanes table if missing, typed like ``id``."""
    names = online.target.names
    return (
        f"CREATE TABLE IF NOT EXISTS {names.lanes} AS SELECT "
        "CAST(0 AS integer) AS lane, id AS next_id, id AS end_id, "
        f"CAST(0 AS bigint) AS rows_mapped FROM {names.table} WITH NO DATA",
        replica_identity(names.lanes),
    )


def replica_identity(table: str, *, by_index: str | None = None) -> str:
    """Return the statement giving one of phasekit's tables a replica identity.

    Under a publication ``FOR ALL TABLES`` (logical replication, change data capture),
    PostgreSQL refuses an ``UPDATE`` of a table with no replica identity, and phasekit's
    tables have no primary key (``CREATE TABLE AS`` types them like ``id`` but makes no
    key). The state and lanes tables, a few rows, are identified by the whole row; the
    backup, as large as the table, ``by_index``, its unique index on ``id`` (made NOT
    NULL for it), so that a subscriber finds an updated row by its index, not a scan.
    Only while the table has PostgreSQL's default (a DBA's choice stays): ``ALTER TABLE``
    waits for an ACCESS EXCLUSIVE lock, which the sessions using the table (the
    backfill's walkers, the application's backup trigger) would hold off.
    """
    identity = "FULL" if by_index is None else f"USING INDEX {by_index}"
    not_null = "" if by_index is None else "ALTER COLUMN id SET NOT NULL, "
    return (
        "DO $phasekit$ BEGIN IF (SELECT relreplident FROM pg_class "
        f"WHERE oid = CAST({literal(table)} AS regclass)) = 'd' THEN "
        f"ALTER TABLE {table} {not_null}REPLICA IDENTITY {identity}; END IF; END $phasekit$"
    )


def state_table(online: Online) -> tuple[str, ...]:
    """Create the state table if missing, typed like ``id``, with its one row, and the
    backfill's lanes table.

    The lanes belong to the state row: a new one (a new migration) empties the lanes
    table, so that lanes a migration of a table of the same name left, all done, never
    pass for this one's.
    """
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
        replica_identity(state),
        *lanes_table(online),
        f"WITH fresh AS (INSERT INTO {state} "
        "(step, backfill_next_id, backfill_end_id, backfill_rows) "
        f"SELECT 'expand', (SELECT id FROM {t} ORDER BY id LIMIT 1), "
        f"(SELECT id FROM {t} ORDER BY id DESC LIMIT 1), 0 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {state}) RETURNING step) "
        f"DELETE FROM {names.lanes} WHERE EXISTS (SELECT 1 FROM fresh)",
    )


def _sync_function(online: Online) -> str:
    """Return the trigger function keeping the two column sets in agreement."""
    mapping = online.mapping
    phase_written = " OR ".join(
        f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in PHASE_COLUMNS
    )
    phase_given = " OR ".join(f"NEW.{column} IS NOT NULL" for column in PHASE_COLUMNS)
    phase, status, progress = mapped("NEW", mapping)
    unchanged = " AND ".join(
        f"b.{column} IS NOT DISTINCT FROM NEW.{column}" for column in PHASE_COLUMNS
    )
    return (
        f"CREATE OR REPLACE FUNCTION {online.target.names.sync_function}() RETURNS trigger "
        "LANGUAGE plpgsql AS $phasekit$ BEGIN "
        # Legacy columns missing on an updated row: a rollback after contract has not
        # restored it yet, and the new version writes it. Restore it as the rollback
        # would: from the backup while its phase state is unchanged since contract.
        f"IF TG_OP = 'UPDATE' AND ({LEGACY_MISSING}) THEN "
        "SELECT b.campaign_type, b.status, b.progress_percentage "
        "INTO NEW.campaign_type, NEW.status, NEW.progress_percentage "
        f"FROM {online.target.names.backup} AS b WHERE b.id = NEW.id AND {unchanged}; "
        # Else from to_legacy of its phase state, progress included, as the rollback would.
        "IF NOT FOUND THEN NEW.progress_percentage := NEW.progress; END IF; "
        "END IF; "
        f"IF NOT ({LEGACY_MISSING}) AND ((TG_OP = 'INSERT' AND NOT ({phase_given})) "
        f"OR (TG_OP = 'UPDATE' AND NOT ({phase_written}))) THEN "
        # The old version wrote: the phase columns follow the mapping.
        f"NEW.current_phase := {phase}; NEW.phase_status := {status}; "
        f"NEW.progress := {progress}; "
        "ELSE "
        # The new version wrote: the legacy columns follow, keeping a value that maps.
        f"IF NEW.campaign_type IS NULL OR ({phase_case('NEW.campaign_type', mapping)}) "
        "IS DISTINCT FROM NEW.current_phase "
        f"THEN NEW.campaign_type := {legacy_type_case('NEW.current_phase', mapping)}; END IF; "
        f"IF NEW.status IS NULL OR ({status_case('NEW.status', mapping)}) "
        "IS DISTINCT FROM NEW.phase_status "
        f"THEN NEW.status := {legacy_status_case('NEW.phase_status', mapping)}; END IF; "
        "IF COALESCE(NEW.progress_percentage, 0.0) IS DISTINCT FROM NEW.progress "
        "THEN NEW.progress_percentage := NEW.progress; END IF; "
        "END IF; RETURN NEW; END $phasekit$"
    )


def sync_trigger(online: Online) -> tuple[str, ...]:
    """Return the trigger function and the trigger, which fires only on a disagreeing row.

    Its ``WHEN`` leaves out every row whose phase columns already equal the mapping of its
    legacy columns, which are there: the backfill's own writes, and each version's writes
    that the other side already agrees with. PostgreSQL checks a ``WHEN`` without calling
    PL/pgSQL, and the call was most of the trigger's cost.
    """
    names = online.target.names
    fires = f"{LEGACY_MISSING} OR {disagrees('NEW', online.mapping)}"
    return (
        _sync_function(online),
        f"CREATE OR REPLACE TRIGGER phasekit_sync BEFORE INSERT OR UPDATE ON {names.table} "
        f"FOR EACH ROW WHEN ({fires}) EXECUTE FUNCTION {names.sync_function}()",
    )


def record_step(online: Online, step: str) -> str:
    return f"UPDATE {online.target.names.state} SET step = {literal(step)}"


def add_not_null_checks(online: Online, columns: tuple[str, ...]) -> str:
    return f"ALTER TABLE {online.target.names.table} " + ", ".join(
        f"ADD CONSTRAINT {constraint_name(column, 'not_null')} "
        f"CHECK ({column} IS NOT NULL) NOT VALID"
        for column in columns
    )


def validate_constraints(online: Online, constraints: tuple[str, ...]) -> tuple[str, ...]:
    t = online.target.names.table
    return tuple(f"ALTER TABLE {t} VALIDATE CONSTRAINT {name}" for name in constraints)


def set_columns_not_null(online: Online, columns: tuple[str, ...]) -> str:
    return f"ALTER TABLE {online.target.names.table} " + ", ".join(
        f"ALTER COLUMN {column} SET NOT NULL" for column in columns
    )
