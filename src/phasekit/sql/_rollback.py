"""The rollback script: the legacy columns back, the phase columns gone.

It undoes :func:`~phasekit.migration_sql` whether or not ``contract`` ran. PostgreSQL's
steps are in :mod:`phasekit.sql._postgresql`; SQLite's are here. Each step is
a function of the :class:`Rollback`, returning its :class:`~phasekit.MigrationStep` or
``None`` when the step has nothing to do in that situation; :data:`ROLLBACK_STEPS`
lists them per dialect, in order.

SQLite cannot add a column only if it is missing, so its script depends on whether
contract ran. When the caller does not say, the SQLite steps that depend on it carry a
``guard`` query for a program to check; when the caller says, the script has no guard
and runs as printed in that situation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import attrs

from phasekit._checks import check_instance, check_int, shown
from phasekit.errors import InvalidValue
from phasekit.legacy import DEFAULT_MAPPING, LegacyMapping
from phasekit.sql._migrate import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    online_parameters,
)
from phasekit.sql._postgresql import rollback_steps
from phasekit.sql._script import (
    LEGACY_COLUMNS,
    PHASE_COLUMNS,
    Dialect,
    MigrationScript,
    MigrationStep,
    Target,
    literal,
    real_type,
    script_target,
)

__all__ = ["ROLLBACK_STEPS", "Rollback", "rollback_sql"]


@attrs.frozen
class Rollback:
    """What a rollback script is generated from: a target, and whether contract ran.

    ``contracted`` is ``None`` when unknown: the SQLite steps that depend on it are then
    guarded.
    """

    target: Target
    contracted: bool | None


def rollback_sql(
    dialect: Dialect,
    *,
    table: str = "campaigns",
    contracted: bool | None = None,
    mapping: LegacyMapping = DEFAULT_MAPPING,
    batch_size: int | None = None,
    lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
) -> MigrationScript:
    """Return the script that undoes :func:`migration_sql`, from any point.

    On PostgreSQL the script is the same from every point of the online migration,
    contract included, and loses no write of either application version: before
    contract the legacy columns are live, and the phase columns go; after contract the
    legacy columns come back (NOT NULL again, without their old indexes: recreate those
    with your schema tool), kept in step with the new version's writes by the trigger,
    each row filled from the backup where its phase state is unchanged since contract
    and from ``to_legacy`` under ``mapping`` where the new version changed it.
    ``batch_size``, ``lock_timeout_ms`` and ``statement_timeout_ms`` are as for
    :func:`migration_sql`.

    On SQLite the legacy columns are kept where they are still there (they are live,
    with the old application's writes since expand) and restored exactly from the backup
    table where contract dropped them (a NULL progress stays NULL); then the phase columns
    and the backup are removed.
    ``contracted`` says whether ``contract`` ran (the legacy columns are gone). SQLite
    cannot add a column only if it is missing, so with ``None`` its script has guarded
    steps for a program to check (each step's ``guard``), and its text does not
    run as printed in every situation; with ``True`` or ``False`` it has no guard and
    runs as printed in that situation. PostgreSQL's script is the same for every value.

    >>> [step.name for step in rollback_sql("postgresql").steps][:3]
    ['restore_start', 'restore', 'restore_validate']
    >>> [step.name for step in rollback_sql("sqlite", contracted=False).steps]
    ['restore', 'drop_phase_columns', 'drop_backup']
    """
    target = script_target(dialect, table)
    check_instance(mapping, LegacyMapping, "mapping")
    if contracted is not None and type(contracted) is not bool:
        raise InvalidValue(
            f"contracted must be True, False or None; got {shown(contracted)}",
            field="contracted",
            value=contracted,
        )
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
            index_columns=(),
        )
        return MigrationScript(target.dialect, target.table, rollback_steps(online))
    rollback = Rollback(target, contracted)
    steps = tuple(
        found for step in ROLLBACK_STEPS[target.dialect] if (found := step(rollback)) is not None
    )
    return MigrationScript(target.dialect, target.table, steps)


def _legacy_type(dialect: Dialect, column: str) -> str:
    return real_type(dialect) if column == "progress_percentage" else "TEXT"


def _restore_values(target: Target) -> str:
    # Only rows whose legacy columns contract emptied: where they are still there they are
    # live, and may hold what the old application wrote since the backup was taken.
    t, backup = target.names.table, target.names.backup
    return (
        f"UPDATE {t} AS c SET "
        + ", ".join(f"{column} = b.{column}" for column in LEGACY_COLUMNS)
        + f" FROM {backup} AS b WHERE b.id = c.id AND c.campaign_type IS NULL"
    )


def _has_column(target: Target, column: str) -> str:
    """Return a SQLite query counting the columns of the table called ``column``."""
    where = literal(target.names.bare_table)
    if target.names.schema is not None:
        where += f", {literal(target.names.schema)}"
    return f"SELECT COUNT(*) FROM pragma_table_info({where}) WHERE name = {literal(column)}"


def restore_columns_sqlite(rollback: Rollback) -> MigrationStep | None:
    """Bring back the legacy columns that ``contract`` dropped: none if it did not run."""
    target = rollback.target
    if rollback.contracted is False:
        return None
    statements = tuple(
        f"ALTER TABLE {target.names.table} ADD COLUMN {c} {_legacy_type(target.dialect, c)}"
        for c in LEGACY_COLUMNS
    )
    if rollback.contracted is None:
        return MigrationStep(
            "restore_columns",
            statements,
            "bring back the legacy columns that contract dropped",
            guard=f"SELECT ({_has_column(target, 'campaign_type')}) = 0",
        )
    return MigrationStep(
        "restore_columns",
        statements,
        "bring back the legacy columns that contract dropped. This script is for a table "
        "whose contract ran: if campaign_type is still there, this fails at once with "
        "'duplicate column name' and changes nothing; use the rollback for a table not "
        "contracted (contracted=False; phasekit sql rollback --no-contracted)",
    )


def restore_sqlite(rollback: Rollback) -> MigrationStep:
    """Copy the legacy values back from the backup."""
    description = (
        "copy the legacy values back from the backup into rows whose legacy columns contract "
        "emptied (a row whose legacy values are there keeps them: they are live)"
    )
    if rollback.contracted is False:
        description += (
            ". This script is for a table whose contract did not run (or was refused): if "
            "campaign_type is gone, this fails at once with 'no such column' and changes "
            "nothing; use the rollback for a contracted table (contracted=True; phasekit sql "
            "rollback --contracted)"
        )
    return MigrationStep("restore", (_restore_values(rollback.target),), description)


def drop_phase_columns(rollback: Rollback) -> MigrationStep:
    """Remove the phase columns (on SQLite, guarded when unsure: only while they exist)."""
    target = rollback.target
    t = target.names.table
    return MigrationStep(
        "drop_phase_columns",
        tuple(f"ALTER TABLE {t} DROP COLUMN {c}" for c in PHASE_COLUMNS),
        "remove the phase columns",
        guard=_has_column(target, "current_phase") if rollback.contracted is None else None,
    )


def drop_backup(rollback: Rollback) -> MigrationStep:
    """Remove the backup table."""
    return MigrationStep(
        "drop_backup",
        (f"DROP TABLE IF EXISTS {rollback.target.names.backup}",),
        "remove the backup table",
    )


#: The steps of a rollback script per dialect, in order: each a function of the
#: :class:`Rollback`, returning ``None`` when it has nothing to do in that situation.
ROLLBACK_STEPS: Final[Mapping[Dialect, tuple[Callable[[Rollback], MigrationStep | None], ...]]] = {
    "sqlite": (restore_columns_sqlite, restore_sqlite, drop_phase_columns, drop_backup),
}
