"""The rollback script, :func:`rollback_sql`: its parameters checked, then its dialect's steps.

It undoes :func:`~phasekit.migration_sql` from any point, contract included, without
losing a write of either application version. The steps are in
:mod:`phasekit.sql._postgresql` and :mod:`phasekit.sql._sqlite`.

SQLite cannot add a column only if it is missing, so its script depends on whether
contract ran. When the caller does not say, the SQLite steps that depend on it carry a
``guard`` query for a program to check; when the caller says, the script has no guard
and runs as printed in that situation.
"""

from __future__ import annotations

from phasekit._checks import shown
from phasekit.errors import InvalidValue
from phasekit.legacy import DEFAULT_MAPPING, LegacyMapping
from phasekit.sql import _sqlite
from phasekit.sql._migrate import (
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    script_parameters,
)
from phasekit.sql._postgresql import rollback_steps
from phasekit.sql._script import Dialect, MigrationScript
from phasekit.sql._sqlite import SqliteMigration

__all__ = ["rollback_sql"]


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

    The script loses no write of either application version. Before contract the legacy
    columns are live and current, and the phase columns go. After contract the legacy
    columns come back (without their old indexes: recreate those with your schema tool),
    kept in step with the new version's writes by the triggers, each row filled from the
    backup where its phase state is unchanged since contract and from ``to_legacy`` under
    ``mapping`` where the new version changed it, ``batch_size`` rows a batch. On
    PostgreSQL ``campaign_type`` and ``status`` are NOT NULL again; SQLite cannot add a
    NOT NULL column without a default, so there they come back nullable.
    ``lock_timeout_ms`` and ``statement_timeout_ms`` are as for :func:`migration_sql`.

    ``contracted`` says whether ``contract`` ran (the legacy columns are gone). SQLite
    cannot add a column only if it is missing, so with ``None`` its script has guarded
    steps for a program to check (each step's ``guard``), and its text does not
    run as printed in every situation; with ``True`` or ``False`` it has no guard and
    runs as printed in that situation. PostgreSQL's script is the same for every value.

    >>> [step.name for step in rollback_sql("postgresql").steps][:3]
    ['restore_start', 'restore', 'restore_validate']
    >>> [step.name for step in rollback_sql("sqlite", contracted=False).steps]
    ['drop_phase_indexes', 'drop_phase_columns']
    >>> [step.name for step in rollback_sql("sqlite", contracted=True).steps][:2]
    ['restore_columns', 'restore']
    """
    if contracted is not None and type(contracted) is not bool:
        raise InvalidValue(
            f"contracted must be True, False or None; got {shown(contracted)}",
            field="contracted",
            value=contracted,
        )
    timeouts = (lock_timeout_ms, statement_timeout_ms)
    parameters = script_parameters(dialect, table, mapping, batch_size, timeouts, ())
    if isinstance(parameters, SqliteMigration):
        steps = _sqlite.rollback_steps(parameters, contracted)
    else:
        steps = rollback_steps(parameters)
    target = parameters.target
    return MigrationScript(target.dialect, target.table, steps)
