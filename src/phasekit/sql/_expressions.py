"""A :class:`~phasekit.LegacyMapping` as SQL expressions: the CASEs and the conditions.

The backfill, the verify query and the contract guard (and any later step that maps in
SQL, such as a sync trigger) read the mapping through these functions, so the SQL maps
exactly as :func:`~phasekit.map_legacy` does.
"""

from __future__ import annotations

from collections.abc import Mapping

from phasekit._model import Phase, PhaseStatus
from phasekit.legacy import LegacyColumn, LegacyMapping
from phasekit.sql._script import Target, distinct, in_list, literal

__all__ = ["case", "mappable", "phase_case", "status_case", "verify_query"]


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


def mappable(mapping: LegacyMapping) -> str:
    """Return a condition true for rows whose legacy values the mapping can map.

    A column with a fallback maps everything (a NULL too, as the plan's SQL does); a
    column without one only the values its table lists.
    """
    columns: tuple[LegacyColumn, ...] = ("campaign_type", "status")
    conditions = [
        f"{column} IN ({in_list(tuple(mapping.table(column)))})"
        for column in columns
        if mapping.fallback(column) is None
    ]
    return " AND ".join(conditions)


def verify_query(target: Target, mapping: LegacyMapping) -> str:
    """Return the query counting rows unmapped or disagreeing with the mapping: 0 is safe."""
    names = target.names
    differs = distinct(target.dialect)
    return (
        f"SELECT COUNT(*) FROM {names.table} AS c LEFT JOIN {names.backup} AS b ON b.id = c.id "
        "WHERE b.id IS NULL OR c.current_phase IS NULL OR c.phase_status IS NULL "
        "OR c.progress IS NULL "
        f"OR c.current_phase {differs} ({phase_case('b.campaign_type', mapping)}) "
        f"OR c.phase_status {differs} ({status_case('b.status', mapping)}) "
        f"OR c.progress {differs} COALESCE(b.progress_percentage, 0.0)"
    )
