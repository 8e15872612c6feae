"""Script records and the SQL text they are made of: dialects, identifiers, quoting.

A :class:`MigrationScript` is an ordered sequence of :class:`MigrationStep`, each a
function's output in :mod:`phasekit.sql._migrate` or :mod:`phasekit.sql._rollback`. The
only values written into SQL text are identifiers (checked here and quoted) and a
mapping's own vocabulary (quoted here as string literals).
"""

from __future__ import annotations

import re
from typing import Final, Literal

import attrs

from phasekit._checks import shown
from phasekit.errors import InvalidValue

__all__ = [
    "DIALECTS",
    "LEGACY_COLUMNS",
    "PHASE_COLUMNS",
    "Dialect",
    "MigrationScript",
    "MigrationStep",
    "TableNames",
    "Target",
    "distinct",
    "in_list",
    "literal",
    "real_type",
    "script_target",
]

Dialect = Literal["postgresql", "sqlite"]
DIALECTS: Final[tuple[Dialect, ...]] = ("postgresql", "sqlite")

#: The legacy columns a migration drops and a rollback restores, in this order.
LEGACY_COLUMNS: Final = ("campaign_type", "status", "progress_percentage")
#: The phase columns a migration adds and a rollback drops, in this order.
PHASE_COLUMNS: Final = ("current_phase", "phase_status", "progress")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_IDENTIFIER = 63
_BACKUP_SUFFIX = "_phasekit_backup"


@attrs.frozen
class MigrationStep:
    """One named step of a script: SQL statements to run in order, in one transaction.

    When ``guard`` is set, it is a query returning a single integer: run the statements
    only if it is not 0. (SQLite has no ``IF NOT EXISTS`` for columns, so a rollback
    that must work whether or not ``contract`` ran needs it.) When ``in_transaction``
    is false the step commits as it goes (the batched backfill) and must be run in
    autocommit mode, outside a transaction block.
    """

    name: str
    statements: tuple[str, ...]
    description: str = ""
    guard: str | None = None
    in_transaction: bool = True


@attrs.frozen
class MigrationScript:
    """An ordered sequence of :class:`MigrationStep` for one dialect and table."""

    dialect: Dialect
    table: str
    steps: tuple[MigrationStep, ...]

    def step(self, name: str) -> MigrationStep:
        """Return the step called ``name``."""
        for step in self.steps:
            if step.name == name:
                return step
        names = ", ".join(step.name for step in self.steps)
        raise InvalidValue(f"no step {name!r}; steps are {names}", field="name", value=name)

    def to_sql(self) -> str:
        """Return the whole script as text, each step under a comment naming it."""
        parts = []
        for step in self.steps:
            parts.append(f"-- step: {step.name}")
            if step.description:
                parts.append(f"-- {step.description}")
            if step.guard:
                parts.append(f"-- run only when this returns non-zero: {step.guard}")
            if not step.in_transaction:
                parts.append("-- run in autocommit mode, outside a transaction block")
            parts.extend(f"{statement};" for statement in step.statements)
            parts.append("")
        return "\n".join(parts)


def _quote(name: str) -> str:
    return f'"{name}"'


def literal(value: str) -> str:
    """Return ``value`` as a SQL string literal (quotes doubled; no NUL allowed)."""
    return "'" + value.replace("'", "''") + "'"


def in_list(values: tuple[str, ...]) -> str:
    """Return ``values`` as the string literals of a SQL ``IN (...)`` list."""
    return ", ".join(literal(value) for value in values)


def distinct(dialect: Dialect) -> str:
    """Return the dialect's NULL-safe inequality operator."""
    return "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"


def real_type(dialect: Dialect) -> str:
    """Return the dialect's column type of a progress percentage."""
    return "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"


class TableNames:
    """The quoted names one script uses: the table, its backup and the backup's index."""

    def __init__(self, parts: tuple[str, ...]) -> None:
        *schema, name = parts
        backup = name[: _MAX_IDENTIFIER - len(_BACKUP_SUFFIX)] + _BACKUP_SUFFIX
        prefix = "".join(f"{_quote(part)}." for part in schema)
        self.table = prefix + _quote(name)
        self.bare_table = name
        self.schema = schema[0] if schema else None
        self.backup = prefix + _quote(backup)
        self.bare_backup = _quote(backup)
        self.backup_index = _quote(backup[: _MAX_IDENTIFIER - 3] + "_id")
        self.prefix = prefix
        self.guard = _quote("phasekit_contract_guard")


@attrs.frozen
class Target:
    """What a script is generated for: a dialect and the names of one table."""

    dialect: Dialect
    names: TableNames
    table: str


def script_target(dialect: object, table: object) -> Target:
    """Return the :class:`Target` of a script, checking ``dialect`` and ``table``."""
    return Target(_check_dialect(dialect), TableNames(_check_table(table)), str(table))


def _check_dialect(dialect: object) -> Dialect:
    if dialect == "postgresql" or dialect == "sqlite":
        return dialect
    raise InvalidValue(
        f"dialect must be one of {', '.join(DIALECTS)}; got {shown(dialect)}",
        field="dialect",
        value=dialect,
    )


def _check_table(table: object) -> tuple[str, ...]:
    parts = table.split(".") if isinstance(table, str) else []
    if not 1 <= len(parts) <= 2 or not all(
        _IDENTIFIER.match(part) and len(part) <= _MAX_IDENTIFIER for part in parts
    ):
        raise InvalidValue(
            "table must be an identifier or schema.identifier, each part matching "
            f"[A-Za-z_][A-Za-z0-9_]* and at most {_MAX_IDENTIFIER} characters; "
            f"got {shown(table)}",
            field="table",
            value=table,
        )
    assert isinstance(table, str)  # the parts were checked
    if table != table.lower():
        # Quoted, "Campaigns" is not the table `CREATE TABLE Campaigns` made: PostgreSQL
        # folds unquoted names to lower case. Refusing is clearer than guessing.
        raise InvalidValue(
            "table must be lower case: the SQL quotes the name, and a table created "
            f"unquoted is lower case in PostgreSQL; got {shown(table)}: write "
            f"{shown(table.lower())}",
            field="table",
            value=table,
        )
    return tuple(parts)
