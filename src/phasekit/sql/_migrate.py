"""The migration script: expand / backfill / verify / contract, one function per step.

The script follows expand / backfill / verify / contract, so that nothing is lost and
every step can be checked before the next:

``preflight``
    distinct-value counts of the legacy columns, for
    :meth:`~phasekit.MappingReport.from_counts`: an operator sees unknown and lossy
    values before any data changes.
``expand``
    adds ``current_phase``, ``phase_status`` and ``progress`` with CHECK constraints,
    and copies ``id`` and the legacy columns into a backup table.
``backfill``
    one set-based ``UPDATE ... CASE ... WHERE current_phase IS NULL``; running it again
    changes nothing. Rows with a value the mapping cannot map are left NULL.
``verify``
    one query whose single value counts the rows whose phase columns are NULL or
    disagree with the mapping of their backed-up legacy values: 0 means safe.
``contract``
    refuses, with an error, while verify is not 0; else drops the legacy columns.

Each step is a function of the :class:`Migration` returning its
:class:`~phasekit.MigrationStep`; :data:`MIGRATION_STEPS` lists them in order, so a new
step is one function and one entry there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import attrs

from phasekit._checks import MAX_PROGRESS, check_instance, check_int, shown
from phasekit._model import Phase, PhaseStatus
from phasekit.errors import InvalidValue
from phasekit.legacy import DEFAULT_MAPPING, LegacyMapping
from phasekit.sql._expressions import mappable, phase_case, status_case, verify_query
from phasekit.sql._postgresql import Online, migration_steps
from phasekit.sql._script import (
    LEGACY_COLUMNS,
    PHASE_COLUMNS,
    Dialect,
    MigrationScript,
    MigrationStep,
    Target,
    in_list,
    real_type,
    script_target,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LOCK_TIMEOUT_MS",
    "DEFAULT_STATEMENT_TIMEOUT_MS",
    "MIGRATION_STEPS",
    "Migration",
    "migration_sql",
    "online_parameters",
]

#: Rows a PostgreSQL backfill batch maps in one transaction.
DEFAULT_BATCH_SIZE: Final = 10_000
#: How long a DDL statement waits for its lock before giving up (and a runner retries).
DEFAULT_LOCK_TIMEOUT_MS: Final = 200
#: How long a statement that holds a lock blocking writes may run.
DEFAULT_STATEMENT_TIMEOUT_MS: Final = 60_000

_COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")


@attrs.frozen
class Migration:
    """What a migration script is generated from: a target, a mapping, a backfill batch."""

    target: Target
    mapping: LegacyMapping
    batch_size: int | None


def migration_sql(
    dialect: Dialect,
    *,
    mapping: LegacyMapping = DEFAULT_MAPPING,
    table: str = "campaigns",
    batch_size: int | None = None,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    index_columns: tuple[str, ...] = (),
) -> MigrationScript:
    """Return the migration script from the legacy columns to the phase columns.

    ``dialect`` is ``"postgresql"`` or ``"sqlite"``; ``table`` one identifier or
    ``schema.identifier``, in lower case (the SQL quotes it), and must have an ``id``
    key.

    On PostgreSQL the script is online: both application versions keep writing while
    it runs (see the migration guide). The backfill maps ``batch_size`` rows
    (default 10,000) per transaction in ``id`` order, each batch with its checkpoint;
    every DDL runs under ``lock_timeout_ms`` and ``statement_timeout_ms``; the phase
    index is on ``(current_phase, phase_status, *index_columns)``, where
    ``index_columns`` names the columns the application orders or filters by, such as
    ``("created_at",)``.

    >>> script = migration_sql("sqlite")
    >>> [step.name for step in script.steps]
    ['preflight', 'expand', 'backfill', 'verify', 'contract']
    >>> [step.name for step in migration_sql("postgresql").steps][:4]
    ['preflight', 'expand', 'backfill', 'verify']
    """
    target = script_target(dialect, table)
    check_instance(mapping, LegacyMapping, "mapping")
    if batch_size is not None:
        if target.dialect != "postgresql":
            raise InvalidValue(
                f"batch_size is only for postgresql; got {shown(batch_size)} for {target.dialect}",
                field="batch_size",
                value=batch_size,
            )
        check_int(batch_size, "batch_size", minimum=1)
    if target.dialect == "postgresql":
        online = online_parameters(
            target,
            mapping,
            batch_size=DEFAULT_BATCH_SIZE if batch_size is None else batch_size,
            lock_timeout_ms=lock_timeout_ms,
            statement_timeout_ms=statement_timeout_ms,
            index_columns=index_columns,
        )
        return MigrationScript(target.dialect, target.table, migration_steps(online))
    migration = Migration(target, mapping, batch_size)
    steps = tuple(step(migration) for step in MIGRATION_STEPS)
    return MigrationScript(target.dialect, target.table, steps)


def online_parameters(
    target: Target,
    mapping: LegacyMapping,
    *,
    batch_size: int,
    lock_timeout_ms: object,
    statement_timeout_ms: object,
    index_columns: object,
) -> Online:
    """Return the :class:`Online` parameters, each checked."""
    lock = check_int(lock_timeout_ms, "lock_timeout_ms", minimum=1)
    statement = check_int(statement_timeout_ms, "statement_timeout_ms", minimum=1)
    if not isinstance(index_columns, tuple) or not all(
        isinstance(column, str) and _COLUMN.match(column) for column in index_columns
    ):
        raise InvalidValue(
            "index_columns must be a tuple of lower-case column names matching "
            f"[a-z_][a-z0-9_]*; got {shown(index_columns)}",
            field="index_columns",
            value=index_columns,
        )
    return Online(target, mapping, batch_size, lock, statement, index_columns)


def preflight(migration: Migration) -> MigrationStep:
    """Distinct legacy values and the NULL progress count, for the report."""
    t = migration.target.names.table
    return MigrationStep(
        "preflight",
        (
            f"SELECT campaign_type, COUNT(*) FROM {t} GROUP BY campaign_type "
            "ORDER BY campaign_type",
            f"SELECT status, COUNT(*) FROM {t} GROUP BY status ORDER BY status",
            f"SELECT COUNT(*) FROM {t} WHERE progress_percentage IS NULL",
        ),
        "distinct legacy values and NULL progress count, for MappingReport.from_counts",
    )


def expand(migration: Migration) -> MigrationStep:
    """Add the phase columns, with their CHECKs; back up id and the legacy columns."""
    dialect, names = migration.target.dialect, migration.target.names
    t = names.table
    columns = (
        f"current_phase TEXT CHECK (current_phase IN ({in_list(tuple(p.value for p in Phase))}))",
        f"phase_status TEXT CHECK (phase_status IN "
        f"({in_list(tuple(s.value for s in PhaseStatus))}))",
        f"progress {real_type(dialect)} CHECK (progress >= 0 AND progress <= {MAX_PROGRESS})",
    )
    if dialect == "postgresql":
        add: tuple[str, ...] = (
            f"ALTER TABLE {t} " + ", ".join(f"ADD COLUMN IF NOT EXISTS {c}" for c in columns),
        )
        # PostgreSQL qualifies the table of an index, SQLite the index itself.
        index = f"CREATE UNIQUE INDEX IF NOT EXISTS {names.backup_index} ON {names.backup} (id)"
    else:
        add = tuple(f"ALTER TABLE {t} ADD COLUMN {column}" for column in columns)
        index = (
            f"CREATE UNIQUE INDEX IF NOT EXISTS {names.prefix}{names.backup_index} "
            f"ON {names.bare_backup} (id)"
        )
    return MigrationStep(
        "expand",
        (
            *add,
            f"CREATE TABLE IF NOT EXISTS {names.backup} AS "
            f"SELECT id, campaign_type, status, progress_percentage FROM {t}",
            index,
        ),
        "add the phase columns; back up id and legacy columns",
    )


def backfill(migration: Migration) -> MigrationStep:
    """Map the legacy values to the phase columns, idempotently, in batches if asked."""
    t, mapping, batch_size = migration.target.names.table, migration.mapping, migration.batch_size
    assignments = (
        f"current_phase = {phase_case('campaign_type', mapping)}, "
        f"phase_status = {status_case('status', mapping)}, "
        "progress = COALESCE(progress_percentage, 0.0)"
    )
    # A row the mapping cannot map keeps NULL phase columns, so verify counts it.
    todo = "current_phase IS NULL"
    if mapping.fallback_phase is None or mapping.fallback_status is None:
        todo += f" AND {mappable(mapping)}"
    if batch_size is None:
        statement = f"UPDATE {t} SET {assignments} WHERE {todo}"
    else:
        statement = (
            "DO $phasekit$ DECLARE updated bigint; BEGIN LOOP "
            f"UPDATE {t} SET {assignments} WHERE id IN "
            f"(SELECT id FROM {t} WHERE {todo} ORDER BY id LIMIT {batch_size}); "
            "GET DIAGNOSTICS updated = ROW_COUNT; EXIT WHEN updated = 0; COMMIT; "
            "END LOOP; END $phasekit$"
        )
    return MigrationStep(
        "backfill",
        (statement,),
        "map legacy values to phase columns (idempotent)",
        in_transaction=batch_size is None,
    )


def verify(migration: Migration) -> MigrationStep:
    """Count the rows unmapped or disagreeing with the mapping; 0 is safe."""
    return MigrationStep(
        "verify",
        (verify_query(migration.target, migration.mapping),),
        "rows unmapped or disagreeing with the mapping; 0 is safe",
    )


def contract(migration: Migration) -> MigrationStep:
    """Drop the legacy columns, refused (with an error) while verify is not 0."""
    names = migration.target.names
    t = names.table
    verify = verify_query(migration.target, migration.mapping)
    statements: tuple[str, ...]
    if migration.target.dialect == "postgresql":
        statements = (
            "DO $phasekit$ DECLARE unmapped bigint; BEGIN "
            f"SELECT ({verify}) INTO unmapped; "
            "IF unmapped > 0 THEN RAISE EXCEPTION "
            f"'phasekit: contract refused: % row(s) of {names.bare_table} are unmapped or "
            "disagree with the mapping (run backfill, then verify)', unmapped; "
            "END IF; END $phasekit$",
            f"ALTER TABLE {t} "
            + ", ".join(f"ALTER COLUMN {column} SET NOT NULL" for column in PHASE_COLUMNS),
            f"ALTER TABLE {t} " + ", ".join(f"DROP COLUMN {column}" for column in LEGACY_COLUMNS),
        )
    else:
        # SQLite has no procedural blocks: a CHECK on a scratch row fails loudly instead.
        guard = f"temp.{names.guard}"
        statements = (
            f"CREATE TEMP TABLE IF NOT EXISTS {names.guard} (unmapped INTEGER NOT NULL "
            "CONSTRAINT phasekit_contract_refused_rows_unmapped_run_backfill_then_verify "
            "CHECK (unmapped = 0))",
            f"INSERT INTO {guard} (unmapped) {verify}",
            f"DROP TABLE {guard}",
            *(f"ALTER TABLE {t} DROP COLUMN {column}" for column in LEGACY_COLUMNS),
        )
    return MigrationStep(
        "contract", statements, "drop the legacy columns; refused while verify > 0"
    )


#: The steps of a migration script, in order: each a function of the :class:`Migration`.
MIGRATION_STEPS: Final[tuple[Callable[[Migration], MigrationStep], ...]] = (
    preflight,
    expand,
    backfill,
    verify,
    contract,
)
