"""Migration and rollback SQL for PostgreSQL and SQLite, generated from a LegacyMapping.

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

The only values written into the SQL text are identifiers (checked and quoted) and the
mapping's own vocabulary (quoted as string literals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal

import attrs

from phasekit._checks import MAX_PROGRESS, shown
from phasekit._legacy import DEFAULT_MAPPING, LegacyColumn, LegacyMapping
from phasekit._model import Phase, PhaseStatus
from phasekit.errors import InvalidValue

__all__ = ["Dialect", "MigrationScript", "MigrationStep", "migration_sql", "rollback_sql"]

Dialect = Literal["postgresql", "sqlite"]
DIALECTS: Final[tuple[Dialect, ...]] = ("postgresql", "sqlite")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_IDENTIFIER = 63
_BACKUP_SUFFIX = "_phasekit_backup"

LEGACY_COLUMNS: Final = ("campaign_type", "status", "progress_percentage")
PHASE_COLUMNS: Final = ("current_phase", "phase_status", "progress")


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
    return tuple(parts)


def _quote(name: str) -> str:
    return f'"{name}"'


def literal(value: str) -> str:
    """Return ``value`` as a SQL string literal (quotes doubled; no NUL allowed)."""
    return "'" + value.replace("'", "''") + "'"


class _Names:
    """The quoted names one script uses."""

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


def _case(
    column: str,
    table: Mapping[str, Phase] | Mapping[str, PhaseStatus],
    fallback: Phase | PhaseStatus | None,
) -> str:
    whens = " ".join(
        f"WHEN {literal(value)} THEN {literal(target.value)}" for value, target in table.items()
    )
    otherwise = "NULL" if fallback is None else literal(fallback.value)
    return f"CASE {column} {whens} ELSE {otherwise} END"


def _mappable(mapping: LegacyMapping) -> str:
    """Return a condition true for rows whose legacy values the mapping can map.

    A column with a fallback maps everything (a NULL too, as the plan's SQL does); a
    column without one only the values its table lists.
    """
    columns: tuple[LegacyColumn, ...] = ("campaign_type", "status")
    conditions = [
        f"{column} IN ({', '.join(literal(value) for value in mapping.table(column))})"
        for column in columns
        if mapping.fallback(column) is None
    ]
    return " AND ".join(conditions)


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(literal(value) for value in values)


def _distinct(dialect: Dialect) -> str:
    return "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"


def _verify_query(dialect: Dialect, names: _Names, mapping: LegacyMapping) -> str:
    differs = _distinct(dialect)
    phase_case = _case("b.campaign_type", mapping.types, mapping.fallback_phase)
    status_case = _case("b.status", mapping.statuses, mapping.fallback_status)
    return (
        f"SELECT COUNT(*) FROM {names.table} AS c LEFT JOIN {names.backup} AS b ON b.id = c.id "
        "WHERE b.id IS NULL OR c.current_phase IS NULL OR c.phase_status IS NULL "
        "OR c.progress IS NULL "
        f"OR c.current_phase {differs} ({phase_case}) "
        f"OR c.phase_status {differs} ({status_case}) "
        f"OR c.progress {differs} COALESCE(b.progress_percentage, 0.0)"
    )


def migration_sql(
    dialect: Dialect,
    *,
    mapping: LegacyMapping = DEFAULT_MAPPING,
    table: str = "campaigns",
    batch_size: int | None = None,
) -> MigrationScript:
    """Return the migration script from the legacy columns to the phase columns.

    ``dialect`` is ``"postgresql"`` or ``"sqlite"``; ``table`` one identifier or
    ``schema.identifier`` and must have an ``id`` key. On PostgreSQL ``batch_size``
    makes the backfill update that many rows per transaction, keyed by ``id`` (run it
    outside a transaction block, in autocommit mode), so locks stay short.

    >>> script = migration_sql("sqlite")
    >>> [step.name for step in script.steps]
    ['preflight', 'expand', 'backfill', 'verify', 'contract']
    """
    dialect = _check_dialect(dialect)
    names = _Names(_check_table(table))
    if not isinstance(mapping, LegacyMapping):
        raise InvalidValue(
            f"mapping must be a LegacyMapping; got {shown(mapping)}", field="mapping", value=mapping
        )
    if batch_size is not None and (
        dialect != "postgresql" or type(batch_size) is not int or batch_size < 1
    ):
        raise InvalidValue(
            f"batch_size must be None or an int >= 1, and only for postgresql; "
            f"got {shown(batch_size)} for {dialect}",
            field="batch_size",
            value=batch_size,
        )
    verify = _verify_query(dialect, names, mapping)
    steps = (
        MigrationStep(
            "preflight",
            _preflight(names),
            "distinct legacy values and NULL progress count, for MappingReport.from_counts",
        ),
        MigrationStep(
            "expand",
            _expand(dialect, names),
            "add the phase columns; back up id and legacy columns",
        ),
        MigrationStep(
            "backfill",
            _backfill(names, mapping, batch_size),
            "map legacy values to phase columns (idempotent)",
            in_transaction=batch_size is None,
        ),
        MigrationStep(
            "verify", (verify,), "rows unmapped or disagreeing with the mapping; 0 is safe"
        ),
        MigrationStep(
            "contract",
            _contract(dialect, names, verify),
            "drop the legacy columns; refused while verify > 0",
        ),
    )
    return MigrationScript(dialect, str(table), steps)


def _preflight(names: _Names) -> tuple[str, ...]:
    t = names.table
    return (
        f"SELECT campaign_type, COUNT(*) FROM {t} GROUP BY campaign_type ORDER BY campaign_type",
        f"SELECT status, COUNT(*) FROM {t} GROUP BY status ORDER BY status",
        f"SELECT COUNT(*) FROM {t} WHERE progress_percentage IS NULL",
    )


def _expand(dialect: Dialect, names: _Names) -> tuple[str, ...]:
    t = names.table
    real = "DOUBLE PRECISION" if dialect == "postgresql" else "REAL"
    columns = (
        f"current_phase TEXT CHECK (current_phase IN ({_in_list(tuple(p.value for p in Phase))}))",
        f"phase_status TEXT CHECK (phase_status IN "
        f"({_in_list(tuple(s.value for s in PhaseStatus))}))",
        f"progress {real} CHECK (progress >= 0 AND progress <= {MAX_PROGRESS})",
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
    return (
        *add,
        f"CREATE TABLE IF NOT EXISTS {names.backup} AS "
        f"SELECT id, campaign_type, status, progress_percentage FROM {t}",
        index,
    )


def _backfill(names: _Names, mapping: LegacyMapping, batch_size: int | None) -> tuple[str, ...]:
    t = names.table
    assignments = (
        f"current_phase = {_case('campaign_type', mapping.types, mapping.fallback_phase)}, "
        f"phase_status = {_case('status', mapping.statuses, mapping.fallback_status)}, "
        "progress = COALESCE(progress_percentage, 0.0)"
    )
    # A row the mapping cannot map keeps NULL phase columns, so verify counts it.
    todo = "current_phase IS NULL"
    if mapping.fallback_phase is None or mapping.fallback_status is None:
        todo += f" AND {_mappable(mapping)}"
    if batch_size is None:
        return (f"UPDATE {t} SET {assignments} WHERE {todo}",)
    return (
        "DO $phasekit$ DECLARE updated bigint; BEGIN LOOP "
        f"UPDATE {t} SET {assignments} WHERE id IN "
        f"(SELECT id FROM {t} WHERE {todo} ORDER BY id LIMIT {batch_size}); "
        "GET DIAGNOSTICS updated = ROW_COUNT; EXIT WHEN updated = 0; COMMIT; "
        "END LOOP; END $phasekit$",
    )


def _contract(dialect: Dialect, names: _Names, verify: str) -> tuple[str, ...]:
    t = names.table
    if dialect == "postgresql":
        return (
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
    # SQLite has no procedural blocks: a CHECK on a scratch row fails loudly instead.
    guard = f"temp.{names.guard}"
    return (
        f"CREATE TEMP TABLE IF NOT EXISTS {names.guard} (unmapped INTEGER NOT NULL "
        "CONSTRAINT phasekit_contract_refused_rows_unmapped_run_backfill_then_verify "
        "CHECK (unmapped = 0))",
        f"INSERT INTO {guard} (unmapped) {verify}",
        f"DROP TABLE {guard}",
        *(f"ALTER TABLE {t} DROP COLUMN {column}" for column in LEGACY_COLUMNS),
    )


def rollback_sql(
    dialect: Dialect,
    *,
    mapping: LegacyMapping = DEFAULT_MAPPING,
    table: str = "campaigns",
) -> MigrationScript:
    """Return the script that undoes :func:`migration_sql`, whether or not contract ran.

    The legacy columns are restored exactly from the backup table (a NULL progress stays
    NULL); then the phase columns and the backup are removed. Columns that ``contract``
    dropped come back without their old constraints and indexes: recreate those with
    your schema tool. ``mapping`` is accepted for symmetry; the backup makes the
    rollback exact whatever mapping was used.

    >>> [step.name for step in rollback_sql("postgresql").steps]
    ['restore', 'drop_phase_columns', 'drop_backup']
    """
    dialect = _check_dialect(dialect)
    names = _Names(_check_table(table))
    if not isinstance(mapping, LegacyMapping):
        raise InvalidValue(
            f"mapping must be a LegacyMapping; got {shown(mapping)}", field="mapping", value=mapping
        )
    t = names.table
    types = {
        "campaign_type": "TEXT",
        "status": "TEXT",
        "progress_percentage": "DOUBLE PRECISION" if dialect == "postgresql" else "REAL",
    }
    differs = _distinct(dialect)
    changed = " OR ".join(f"c.{column} {differs} b.{column}" for column in LEGACY_COLUMNS)
    restore_values = (
        f"UPDATE {t} AS c SET "
        + ", ".join(f"{column} = b.{column}" for column in LEGACY_COLUMNS)
        + f" FROM {names.backup} AS b WHERE b.id = c.id AND ({changed})"
    )
    if dialect == "postgresql":
        restore = MigrationStep(
            "restore",
            (
                f"ALTER TABLE {t} "
                + ", ".join(f"ADD COLUMN IF NOT EXISTS {c} {types[c]}" for c in LEGACY_COLUMNS),
                restore_values,
            ),
            "bring the legacy columns back and copy their values from the backup",
        )
        steps: tuple[MigrationStep, ...] = (
            restore,
            MigrationStep(
                "drop_phase_columns",
                (
                    f"ALTER TABLE {t} "
                    + ", ".join(f"DROP COLUMN IF EXISTS {c}" for c in PHASE_COLUMNS),
                ),
                "remove the phase columns",
            ),
            MigrationStep(
                "drop_backup", (f"DROP TABLE IF EXISTS {names.backup}",), "remove the backup table"
            ),
        )
        return MigrationScript(dialect, str(table), steps)

    where = literal(names.bare_table)
    if names.schema is not None:
        where += f", {literal(names.schema)}"

    def has_column(column: str) -> str:
        return f"SELECT COUNT(*) FROM pragma_table_info({where}) WHERE name = {literal(column)}"

    steps = (
        MigrationStep(
            "restore_columns",
            tuple(f"ALTER TABLE {t} ADD COLUMN {c} {types[c]}" for c in LEGACY_COLUMNS),
            "bring back the legacy columns that contract dropped",
            guard=f"SELECT ({has_column('campaign_type')}) = 0",
        ),
        MigrationStep("restore", (restore_values,), "copy the legacy values back from the backup"),
        MigrationStep(
            "drop_phase_columns",
            tuple(f"ALTER TABLE {t} DROP COLUMN {c}" for c in PHASE_COLUMNS),
            "remove the phase columns",
            guard=has_column("current_phase"),
        ),
        MigrationStep(
            "drop_backup", (f"DROP TABLE IF EXISTS {names.backup}",), "remove the backup table"
        ),
    )
    return MigrationScript(dialect, str(table), steps)
