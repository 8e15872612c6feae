"""The rollback script: the legacy columns back from the backup, the phase columns gone.

It undoes :func:`~phasekit.migration_sql` whether or not ``contract`` ran. Each step is
a function of the :class:`~phasekit.sql._script.Target`; :data:`ROLLBACK_STEPS` lists
them per dialect, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

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

__all__ = ["ROLLBACK_STEPS", "rollback_sql"]


def rollback_sql(dialect: Dialect, *, table: str = "campaigns") -> MigrationScript:
    """Return the script that undoes :func:`migration_sql`, whether or not contract ran.

    The legacy columns are restored exactly from the backup table (a NULL progress stays
    NULL), whatever mapping the migration used; then the phase columns and the backup
    are removed. Columns that ``contract`` dropped come back without their old
    constraints and indexes: recreate those with your schema tool.

    >>> [step.name for step in rollback_sql("postgresql").steps]
    ['restore', 'drop_phase_columns', 'drop_backup']
    """
    target = script_target(dialect, table)
    steps = tuple(step(target) for step in ROLLBACK_STEPS[target.dialect])
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


def restore_postgresql(target: Target) -> MigrationStep:
    """Bring the legacy columns back if missing, and copy their values from the backup."""
    columns = ", ".join(
        f"ADD COLUMN IF NOT EXISTS {c} {_legacy_type(target.dialect, c)}" for c in LEGACY_COLUMNS
    )
    return MigrationStep(
        "restore",
        (f"ALTER TABLE {target.names.table} {columns}", _restore_values(target)),
        "bring the legacy columns back and copy their values from the backup",
    )


def restore_columns_sqlite(target: Target) -> MigrationStep:
    """Bring back the legacy columns, only when ``contract`` dropped them."""
    return MigrationStep(
        "restore_columns",
        tuple(
            f"ALTER TABLE {target.names.table} ADD COLUMN {c} {_legacy_type(target.dialect, c)}"
            for c in LEGACY_COLUMNS
        ),
        "bring back the legacy columns that contract dropped",
        guard=f"SELECT ({_has_column(target, 'campaign_type')}) = 0",
    )


def restore_sqlite(target: Target) -> MigrationStep:
    """Copy the legacy values back from the backup."""
    return MigrationStep(
        "restore", (_restore_values(target),), "copy the legacy values back from the backup"
    )


def drop_phase_columns(target: Target) -> MigrationStep:
    """Remove the phase columns (on SQLite, only while they exist)."""
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
        guard=_has_column(target, "current_phase"),
    )


def drop_backup(target: Target) -> MigrationStep:
    """Remove the backup table."""
    return MigrationStep(
        "drop_backup",
        (f"DROP TABLE IF EXISTS {target.names.backup}",),
        "remove the backup table",
    )


#: The steps of a rollback script per dialect, in order: each a function of the target.
ROLLBACK_STEPS: Final[Mapping[Dialect, tuple[Callable[[Target], MigrationStep], ...]]] = {
    "postgresql": (restore_postgresql, drop_phase_columns, drop_backup),
    "sqlite": (restore_columns_sqlite, restore_sqlite, drop_phase_columns, drop_backup),
}
