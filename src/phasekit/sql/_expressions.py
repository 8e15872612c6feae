"""A :class:`~phasekit.LegacyMapping` as SQL expressions: the CASEs, the conditions, verify.

Every step that maps in SQL (a backfill batch, a sync trigger, the verify query, the
contract's refusal, a rollback's fill) reads the mapping through these functions, in both
dialects, so the SQL maps exactly as :func:`~phasekit.map_legacy` does and gives back
exactly what :func:`~phasekit.to_legacy` gives.
"""

from __future__ import annotations

from collections.abc import Mapping

from phasekit._checks import MAX_PROGRESS
from phasekit._model import Phase, PhaseStatus
from phasekit.legacy import LegacyColumn, LegacyMapping
from phasekit.sql._script import (
    PHASE_COLUMNS,
    MigrationStep,
    Target,
    distinct,
    in_list,
    literal,
)

__all__ = [
    "case",
    "disagrees",
    "legacy_status_case",
    "legacy_type_case",
    "live_verify_query",
    "mappable",
    "mapped",
    "phase_case",
    "phase_checks",
    "preflight",
    "status_case",
]


def case(
    column: str,
    table: Mapping[str, Phase] | Mapping[str, PhaseStatus],
    fallback: Phase | PhaseStatus | None,
) -> str:
    """Return a ``CASE`` mapping each value of ``column`` by ``table``, else ``fallback``."""
    whens = " ".join(
        f"WHEN {literal(value)} THEN {literal(target.value)}" for value, target in table.items()
    )
    otherwise = "NULL" if fallback is None else literal(fallback.value)
    return f"CASE {column} {whens} ELSE {otherwise} END"


def phase_case(column: str, mapping: LegacyMapping) -> str:
    """Return the ``CASE`` giving the phase of the legacy ``campaign_type`` in ``column``."""
    return case(column, mapping.types, mapping.fallback_phase)


def status_case(column: str, mapping: LegacyMapping) -> str:
    """Return the ``CASE`` giving the phase status of the legacy ``status`` in ``column``."""
    return case(column, mapping.statuses, mapping.fallback_status)


def _legacy_case(column: str, table: dict[str, str | None]) -> str:
    whens = " ".join(
        f"WHEN {literal(value)} THEN {literal(legacy)}"
        for value, legacy in table.items()
        if legacy is not None
    )
    return f"CASE {column} {whens} ELSE NULL END"


def legacy_type_case(column: str, mapping: LegacyMapping) -> str:
    """Return the ``CASE`` giving ``to_legacy``'s ``campaign_type`` of the phase in ``column``."""
    return _legacy_case(
        column, {p.value: mapping.rollback_value("campaign_type", p) for p in Phase}
    )


def legacy_status_case(column: str, mapping: LegacyMapping) -> str:
    """Return the ``CASE`` giving ``to_legacy``'s ``status`` of the phase status in ``column``."""
    return _legacy_case(column, {s.value: mapping.rollback_value("status", s) for s in PhaseStatus})


def mappable(row: str, mapping: LegacyMapping, *, in_trigger: bool = False) -> str:
    """Return a condition true when the mapping maps both legacy values of ``row``.

    A column with a fallback maps everything (a NULL too, as the plan's SQL does); a
    column without one only the values its table lists. ``in_trigger`` gives the form
    for a SQLite trigger: the column's ``CASE`` is not NULL, which means the same
    without a fallback. An ``IN`` list there would cost a hundred times more, as SQLite
    builds an index of the list once per statement, and a trigger's program is a
    statement run anew for each row.
    """
    columns: tuple[LegacyColumn, ...] = ("campaign_type", "status")
    cases = {"campaign_type": phase_case, "status": status_case}
    conditions = [
        f"({cases[column](f'{row}.{column}', mapping)}) IS NOT NULL"
        if in_trigger
        else f"{row}.{column} IN ({in_list(tuple(mapping.table(column)))})"
        for column in columns
        if mapping.fallback(column) is None
    ]
    return " AND ".join(conditions) or "TRUE"


def mapped(row: str, mapping: LegacyMapping, *, in_trigger: bool = False) -> tuple[str, str, str]:
    """Return the phase, status and progress of ``row``'s legacy values, all NULL when
    either value is one the mapping cannot map (verify counts the row; nothing guessed).

    ``in_trigger`` is as for :func:`mappable`.
    """
    known = mappable(row, mapping, in_trigger=in_trigger)
    values = _mapped_values(row, mapping)
    if known == "TRUE":
        return values
    phase, status, progress = (f"CASE WHEN {known} THEN {value} END" for value in values)
    return phase, status, progress


def _mapped_values(row: str, mapping: LegacyMapping) -> tuple[str, str, str]:
    """Return the phase, status and progress of ``row``'s legacy values, for a row whose
    values the mapping maps (the guard is the caller's)."""
    return (
        phase_case(f"{row}.campaign_type", mapping),
        status_case(f"{row}.status", mapping),
        f"COALESCE({row}.progress_percentage, 0.0)",
    )


def disagrees(row: str, mapping: LegacyMapping, differs: str = "IS DISTINCT FROM") -> str:
    """Return a condition true when a phase column of ``row`` differs (``differs``, the
    dialect's NULL-safe inequality) from the mapping of its legacy values (:func:`mapped`).

    The mapping's guard, both legacy values mappable, is tested once rather than once per
    column: it is most of the cost, and a sync trigger's ``WHEN`` tests every row written,
    the backfill's included. Unmappable values map to NULL, so then any phase value set
    differs.
    """
    known = mappable(row, mapping)
    differ = " OR ".join(
        f"{row}.{column} {differs} ({value})"
        for column, value in zip(PHASE_COLUMNS, _mapped_values(row, mapping), strict=True)
    )
    if known == "TRUE":
        return f"({differ})"
    unmapped = " OR ".join(f"{row}.{column} IS NOT NULL" for column in PHASE_COLUMNS)
    return f"(CASE WHEN {known} THEN {differ} ELSE {unmapped} END)"


def phase_checks() -> dict[str, str]:
    """Return the CHECK condition of each phase column: a known value, a percentage."""
    return {
        "current_phase": f"current_phase IN ({in_list(tuple(p.value for p in Phase))})",
        "phase_status": f"phase_status IN ({in_list(tuple(s.value for s in PhaseStatus))})",
        "progress": f"progress >= 0 AND progress <= {MAX_PROGRESS}",
    }


def live_verify_query(target: Target, mapping: LegacyMapping) -> str:
    """Return the query counting rows unmapped or disagreeing with their live legacy values."""
    t = target.names.table
    return (
        f"SELECT COUNT(*) FROM {t} AS c WHERE c.current_phase IS NULL "
        "OR c.phase_status IS NULL OR c.progress IS NULL "
        f"OR {disagrees('c', mapping, distinct(target.dialect))}"
    )


def preflight(target: Target) -> MigrationStep:
    """Return the preflight step: distinct legacy values and the NULL progress count."""
    t = target.names.table
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
