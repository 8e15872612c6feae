"""The rollback script: the legacy columns back from the backup, the phase columns gone.

It undoes :func:`~phasekit.migration_sql` whether or not ``contract`` ran. Each step is
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

from phasekit._checks import shown
from phasekit.errors import InvalidValue
from phasekit.sql._script import (
    LEGACY_COLUMNS,
    PHASE_COLUMNS,
    Dialect,
    MigrationScript,
    MigrationStep,
    Target,
    distinct,
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
    dialect: Dialect, *, table: str = "campaigns", contracted: bool | None = None
) -> MigrationScript:
    """Return the script that undoes :func:`migration_sql`, whether or not contract ran.

    The legacy columns are restored exactly from the backup table (a NULL progress stays
    NULL), whatever mapping the migration used; then the phase columns and the backup
    are removed. Columns that ``contract`` dropped come back without their old
    constraints and indexes: recreate those with your schema tool.

    ``contracted`` says whether ``contract`` ran (the legacy columns are gone). SQLite
    cannot add a column only if it is missing, so with ``None`` its script has guarded
    steps for a program to check (each step's ``guard``), and its text does not
    run as printed in every situation; with ``True`` or ``False`` it has no guard and
    runs as printed in that situation. PostgreSQL's script is the same for every value.

    >>> [step.name for step in rollback_sql("postgresql").steps]
    ['restore', 'drop_phase_columns', 'drop_backup']
    >>> [step.name for step in rollback_sql("sqlite", contracted=False).steps]
    ['restore', 'drop_phase_columns', 'drop_backup']
    """
    target = script_target(dialect, table)
    if contracted is not None and type(contracted) is not bool:
        raise InvalidValue(
            f"contracted must be True, False or None; got {shown(contracted)}",
            field="contracted",
            value=contracted,
        )
    rollback = Rollback(target, contracted)
    steps = tuple(
        found for step in ROLLBACK_STEPS[target.dialect] if (found := step(rollback)) is not None
    )
    return MigrationScript(target.dialect, target.table, steps)


def _legacy_type(dialect: Dialect, column: str) -> str:
    return real_type(dialect) if column == "progress_percentage" else "TEXT"


def _restore_values(target: Target) -> str:
    t, backup = target.names.table, target.names.backup
    differs = distinct(target.dialect)
    changed = " OR ".join(f"c.{column} {differs} b.{column}" for column in LEGACY_COLUMNS)
    return (
        f"UPDATE {t} AS c SET "
        + ", ".join(f"{column} = b.{column}" for column in LEGACY_COLUMNS)
        + f" FROM {backup} AS b WHERE b.id = c.id AND ({changed})"
    )


def _has_column(target: Target, column: str) -> str:
    """Return a SQLite query counting the columns of the table called ``column``."""
    where = literal(target.names.bare_table)
    if target.names.schema is not None:
        where += f", {literal(target.names.schema)}"
    return f"SELECT COUNT(*) FROM pragma_table_info({where}) WHERE name = {literal(column)}"


def restore_postgresql(rollback: Rollback) -> MigrationStep:
    """Bring the legacy columns back if missing, and copy their values from the backup."""
    target = rollback.target
    columns = ", ".join(
        f"ADD COLUMN IF NOT EXISTS {c} {_legacy_type(target.dialect, c)}" for c in LEGACY_COLUMNS
    )
    return MigrationStep(
        "restore",
        (f"ALTER TABLE {target.names.table} {columns}", _restore_values(target)),
        "bring the legacy columns back and copy their values from the backup",
    )


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
    description = "copy the legacy values back from the backup"
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
    if target.dialect == "postgresql":
        return MigrationStep(
            "drop_phase_columns",
            (f"ALTER TABLE {t} " + ", ".join(f"DROP COLUMN IF EXISTS {c}" for c in PHASE_COLUMNS),),
            "remove the phase columns",
        )
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
    "postgresql": (restore_postgresql, drop_phase_columns, drop_backup),
    "sqlite": (restore_columns_sqlite, restore_sqlite, drop_phase_columns, drop_backup),
}
