"""The migration script, :func:`migration_sql`: its parameters checked, then its dialect's steps.

Both dialects follow expand / backfill / verify / contract, online: the old application
keeps writing the legacy columns and the new one the phase columns while it runs, sync
triggers keep the two sets in agreement on every row, the backfill walks the primary key
in keyset batches that checkpoint themselves, and contract keeps a backup for a rollback
from any point. The steps are in :mod:`phasekit.sql._postgresql` and
:mod:`phasekit.sql._sqlite`; this module checks the parameters and picks them.
"""

from __future__ import annotations

import re
from typing import Final

from phasekit._checks import check_instance, check_int, shown
from phasekit.errors import InvalidValue
from phasekit.legacy import DEFAULT_MAPPING, LegacyMapping
from phasekit.sql import _sqlite
from phasekit.sql._postgresql import Online, migration_steps
from phasekit.sql._script import Dialect, MigrationScript, Target, script_target
from phasekit.sql._sqlite import SqliteMigration

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LOCK_TIMEOUT_MS",
    "DEFAULT_STATEMENT_TIMEOUT_MS",
    "batch_size_or_default",
    "migration_sql",
    "online_parameters",
    "script_parameters",
]

#: Rows a backfill batch maps in one transaction.
DEFAULT_BATCH_SIZE: Final = 10_000
#: How long a DDL statement waits for its lock before giving up (and a runner retries).
DEFAULT_LOCK_TIMEOUT_MS: Final = 200
#: How long a statement that holds a lock blocking writes may run.
DEFAULT_STATEMENT_TIMEOUT_MS: Final = 60_000

_COLUMN = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")


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

    The script is online: both application versions keep writing while it runs (see
    the migration guide, which lists what SQLite cannot do as PostgreSQL does). The
    backfill maps ``batch_size`` rows (default 10,000) per transaction in ``id`` order,
    each batch with its checkpoint. On PostgreSQL every DDL runs under
    ``lock_timeout_ms`` and ``statement_timeout_ms``, and the phase index is on
    ``(current_phase, phase_status, *index_columns)``, where ``index_columns`` names the
    columns the application orders or filters by, such as ``("created_at",)`` (the index
    then includes ``id``, and the counts get an index on the two phase columns); SQLite
    has neither (it locks the whole database per write transaction, and builds no index).

    >>> script = migration_sql("sqlite")
    >>> [step.name for step in script.steps]
    ['preflight', 'expand', 'backfill', 'verify', 'contract_drop_indexes', 'contract']
    >>> [step.name for step in migration_sql("postgresql").steps][:4]
    ['preflight', 'expand', 'backfill', 'verify']
    """
    timeouts = (lock_timeout_ms, statement_timeout_ms)
    parameters = script_parameters(dialect, table, mapping, batch_size, timeouts, index_columns)
    if isinstance(parameters, SqliteMigration):
        steps = _sqlite.migration_steps(parameters)
    else:
        steps = migration_steps(parameters)
    target = parameters.target
    return MigrationScript(target.dialect, target.table, steps)


def script_parameters(
    dialect: object,
    table: object,
    mapping: object,
    batch_size: object,
    timeouts: tuple[object, object],
    index_columns: object,
    /,
) -> Online | SqliteMigration:
    """Return what a script of ``dialect`` is generated from, each parameter checked.

    ``timeouts`` is ``(lock_timeout_ms, statement_timeout_ms)``. SQLite has no lock or
    statement timeout and builds no index: it takes the target, the mapping and the batch
    size alone.
    """
    target = script_target(dialect, table)
    checked = check_instance(mapping, LegacyMapping, "mapping")
    size = batch_size_or_default(batch_size)
    if target.dialect == "sqlite":
        return SqliteMigration(target, checked, size)
    lock_timeout_ms, statement_timeout_ms = timeouts
    return online_parameters(
        target,
        checked,
        batch_size=size,
        lock_timeout_ms=lock_timeout_ms,
        statement_timeout_ms=statement_timeout_ms,
        index_columns=index_columns,
    )


def batch_size_or_default(batch_size: object) -> int:
    """Return ``batch_size`` checked (an int >= 1), or the default for ``None``."""
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    return check_int(batch_size, "batch_size", minimum=1)


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
