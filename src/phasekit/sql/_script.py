"""Script records and the SQL text they are made of: dialects, identifiers, quoting.

A :class:`MigrationScript` is an ordered sequence of :class:`MigrationStep`, each a
function's output in :mod:`phasekit.sql._migrate` or :mod:`phasekit.sql._rollback`. The
only values written into SQL text are identifiers (checked here and quoted) and a
mapping's own vocabulary (quoted here as string literals).
"""

from __future__ import annotations

import re
import textwrap
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
    that must work whether or not ``contract`` ran needs it; plain SQL text cannot
    check it, see :meth:`MigrationScript.to_sql`.) When ``in_transaction`` is false the
    step commits as it goes (the batched backfill) and must be run in autocommit mode,
    outside a transaction block, statement by statement.

    When ``repeat`` is true the step is a batch of a keyset walk that checkpoints itself,
    to run again and again, each run its own transaction, until the walk is done. How
    depends on ``in_transaction``:

    * false (PostgreSQL): the last statement is the batch and its checkpoint in one
      statement; run the statements before it once, then the last one until it reports
      0 rows (an ``UPDATE``) or returns none (a query: the backfill returns a row for each
      batch);
    * true (SQLite, which has no data-modifying ``WITH``): the whole step is one run,
      the batch and its checkpoint as separate statements in one transaction; run it
      until its last statement, a query, returns 0 (it counts the walks not done).

    When ``generates_statements`` is true the step's last statement is a query whose rows
    are the statements to run next, one by one (what psql's ``\\gexec`` does).
    """

    name: str
    statements: tuple[str, ...]
    description: str = ""
    guard: str | None = None
    in_transaction: bool = True
    repeat: bool = False
    generates_statements: bool = False


#: How to run a printed script so that it stops at its first error, per dialect.
_HOW_TO_RUN: Final[dict[Dialect, str]] = {
    "postgresql": "Run it so that it stops at its first error: psql -v ON_ERROR_STOP=1 -f FILE. "
    "Without it, psql goes on with the next step after one fails.",
    "sqlite": "Run it so that it stops at its first error: sqlite3 -bail DATABASE < FILE, or "
    "Python's sqlite3 executescript. Without -bail, sqlite3 goes on after an error, even "
    "within a step: a refused contract would still drop the legacy columns (the backup keeps "
    "their values), and a rollback that could not restore them would still drop the backup.",
}

_GUARDED = (
    "NOT RUNNABLE AS PRINTED in every situation: a step marked 'guard' must run only when its "
    "guard query returns non-zero, which plain SQL cannot check (SQLite has no ADD COLUMN IF "
    "NOT EXISTS). Run it with a program that honours the guards, or print the rollback for "
    "your situation: rollback_sql(..., contracted=True or False), or phasekit sql rollback "
    "--contracted or --no-contracted."
)


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
        """Return the whole script as text to run as printed, each step under its name.

        A header says how to run it: so that it stops at its first error, since contract
        refuses by failing. Each step runs between ``BEGIN`` and ``COMMIT``, so a failed
        step changes nothing (even where the client goes on after an error, PostgreSQL
        ignores the rest of a failed transaction), except a step marked for autocommit
        mode. A script with a guarded step cannot run as printed in every situation, as
        plain SQL cannot skip a step on a query's answer: the header then says so.
        """
        steps = f"{len(self.steps)} step{'' if len(self.steps) == 1 else 's'}"
        everywhere = all(step.in_transaction for step in self.steps)
        header = [
            f"phasekit {self.dialect} script for table {self.table}: {steps}, each between "
            "BEGIN and COMMIT" + ("." if everywhere else " unless marked autocommit."),
            _HOW_TO_RUN[self.dialect],
        ]
        if any(step.guard for step in self.steps):
            header.append(_GUARDED)
        parts = [f"-- {line}" for paragraph in header for line in _wrap(paragraph)]
        parts.append("")
        for step in self.steps:
            parts.append(f"-- step: {step.name}")
            if step.description:
                parts.extend(f"-- {line}" for line in _wrap(step.description))
            if step.guard:
                parts.append("-- guard: run this step only when this returns non-zero:")
                parts.append(f"-- {step.guard}")
            statements = [f"{statement};" for statement in step.statements]
            if step.repeat:
                parts.extend(_repeat_rule(step))
            elif step.generates_statements:
                parts.extend(_generates_rule(self.dialect))
            if step.in_transaction:
                statements = ["BEGIN;", *statements, "COMMIT;"]
            else:
                parts.append("-- autocommit: run it outside a transaction block")
            parts.extend(statements)
            parts.append("")
        return "\n".join(parts)


def _generates_rule(dialect: Dialect) -> list[str]:
    """Return the comment lines telling a reader how to run a generating step's output."""
    if dialect == "postgresql":
        return [
            "-- generates: run each statement the last query returns (psql: end it with "
            "\\gexec instead of ;)"
        ]
    return [
        f"-- {line}"
        for line in _wrap(
            "generates: run each statement the last query returns, before COMMIT (sqlite3 has "
            "no \\gexec: run the query, then paste its rows)"
        )
    ]


def _repeat_rule(step: MigrationStep) -> list[str]:
    """Return the comment lines telling a reader how to repeat ``step`` (see MigrationStep)."""
    if not step.in_transaction:
        return [
            "-- repeat: run the last statement again and again, each run in its own "
            "transaction (autocommit), until it reports 0 rows (an UPDATE) or returns none "
            "(a query)"
        ]
    rule = (
        "repeat: run this whole step, BEGIN to COMMIT, again and again, each run its own "
        "transaction, until its last query returns 0. A script run whole runs it once, one "
        "batch: on a table of more rows, the steps after it refuse until it is done. From a "
        'shell: until [ "$(sqlite3 -bail DATABASE < STEP.sql)" = 0 ]; do :; done'
    )
    return [f"-- {line}" for line in _wrap(rule)]


def _wrap(paragraph: str) -> list[str]:
    """Return ``paragraph`` as lines of comment text, an option never cut at a hyphen."""
    return textwrap.wrap(paragraph, 90, break_on_hyphens=False, break_long_words=False)


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
        self.refusal = _quote("phasekit_refusal")
        self.state_name = _suffixed(name, "_phasekit_state")
        self.bare_state = _quote(self.state_name)
        self.state = prefix + self.bare_state
        self.lanes = prefix + _quote(_suffixed(name, "_phasekit_lanes"))
        self.sync_function = prefix + _quote(_suffixed(name, "_phasekit_sync"))
        self.backup_function = prefix + _quote(_suffixed(name, "_phasekit_keep_backup"))
        # CREATE INDEX names an index without its schema (it goes in the table's).
        self.bare_phase_index = _quote(_suffixed(name, "_phasekit_phase_idx"))
        self.phase_index = prefix + self.bare_phase_index
        self.bare_counts_index = _quote(_suffixed(name, "_phasekit_counts_idx"))
        self.counts_index = prefix + self.bare_counts_index
        self.unqualified_table = _quote(name)

    def qualified(self, suffix: str) -> str:
        """Return the quoted, schema-qualified name of the table's object ``<table><suffix>``."""
        return self.prefix + _quote(_suffixed(self.bare_table, suffix))


def _suffixed(name: str, suffix: str) -> str:
    """Return ``name`` cut so that ``name + suffix`` is a PostgreSQL identifier (63 bytes)."""
    return name[: _MAX_IDENTIFIER - len(suffix)] + suffix


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
