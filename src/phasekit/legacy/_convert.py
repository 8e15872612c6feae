"""One legacy row to a phase state, and a phase state back to a legacy row.

:func:`map_legacy` maps the ``(campaign_type, status, progress_percentage)`` of one
legacy row through a :class:`~phasekit.LegacyMapping`; :func:`to_legacy` gives the
legacy values a rollback writes for a state. The bulk path
(:func:`~phasekit.map_legacy_rows`) shares :func:`legacy_progress` with them.
"""

from __future__ import annotations

from phasekit._checks import check_instance, check_progress
from phasekit._model import PhaseState, make_state
from phasekit.errors import InvalidProgress, MappingError
from phasekit.legacy._mapping import LegacyColumn, LegacyMapping, map_value
from phasekit.legacy._vocabulary import DEFAULT_MAPPING

__all__ = ["legacy_progress", "map_legacy", "to_legacy"]


def legacy_progress(value: object, row: int | None) -> float:
    """Return a legacy progress as a float: NULL is 0.0, anything else a percentage.

    A bad value raises :class:`~phasekit.MappingError` naming ``row`` (0-based, or None
    for a single row).
    """
    if value is None:
        return 0.0
    try:
        return check_progress(value, "progress_percentage")
    except InvalidProgress as error:
        where = "" if row is None else f", in row {row}"
        raise MappingError(
            f"{error}; NULL is also accepted{where}",
            column="progress_percentage",
            value=value,
            row=row,
        ) from None


def map_legacy(
    campaign_type: str,
    status: str,
    progress_percentage: float | None,
    *,
    mapping: LegacyMapping = DEFAULT_MAPPING,
) -> PhaseState:
    """Map one legacy row's values to a :class:`~phasekit.PhaseState`.

    A ``campaign_type`` or ``status`` that is not a string (a NULL) is always a
    :class:`~phasekit.MappingError`, even under a mapping with fallbacks: the legacy
    columns are NOT NULL. (The generated SQL of a mapping with fallbacks maps a NULL to
    the fallback, as the plan's SQL does.)

    >>> from phasekit import PLAN_MAPPING
    >>> map_legacy("http_keyword_validation", "pausing", None)
    PhaseState(phase=Phase.HTTP_VALIDATION, status=PhaseStatus.PAUSED, progress=0.0)
    >>> map_legacy("http_keyword_validation", "pausing", 40.0, mapping=PLAN_MAPPING).status
    <PhaseStatus.PENDING: 'pending'>
    """
    check_instance(mapping, LegacyMapping, "mapping")
    phase = map_value("campaign_type", campaign_type, mapping, None)
    status_member = map_value("status", status, mapping, None)
    progress = legacy_progress(progress_percentage, None)
    return make_state(phase, status_member, progress)


def to_legacy(
    state: PhaseState, *, mapping: LegacyMapping = DEFAULT_MAPPING
) -> tuple[str, str, float]:
    """Return the legacy ``(campaign_type, status, progress_percentage)`` of ``state``.

    For a rollback from the phase columns alone (the SQL rollback restores the legacy
    columns from the backup table instead). Every value maps back to the legacy value of
    the same name where one exists, else to the first legacy value that maps to it, so
    that ``to_legacy(map_legacy(t, s, p)) == (t, s, p or 0.0)`` whenever neither ``t``
    nor ``s`` is lossy.

    >>> to_legacy(PhaseState("http_validation", "paused", 12.0))
    ('http_keyword_validation', 'paused', 12.0)
    """
    check_instance(mapping, LegacyMapping, "mapping")
    check_instance(state, PhaseState, "state")
    campaign_type = mapping.rollback_value("campaign_type", state.phase)
    status = mapping.rollback_value("status", state.status)
    if campaign_type is None or status is None:
        column: LegacyColumn = "campaign_type" if campaign_type is None else "status"
        member = state.phase if campaign_type is None else state.status
        raise MappingError(
            f"the mapping has no legacy {column} for {member.value!r}", column=column, value=member
        )
    return campaign_type, status, state.progress
