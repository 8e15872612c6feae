"""The bulk path: ``map_legacy_rows``, streaming legacy rows through a mapping.

This is the hot loop of a two-million-row migration, so it is written for speed: one
nested dict lookup gives a row's targets and the call's counter of its pair, bumped in
place, and anything unusual (a pair met for the first time, a NULL or int progress, a
bad value) leaves the fast path for the careful code of :mod:`phasekit.legacy._convert`
and :mod:`phasekit.legacy._report`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from phasekit._checks import MAX_PROGRESS, check_instance, shown
from phasekit._model import Phase, PhaseStatus
from phasekit.errors import InvalidValue, MappingError
from phasekit.legacy._convert import legacy_progress
from phasekit.legacy._mapping import LegacyMapping
from phasekit.legacy._report import MappingReport, PairCount, Tally
from phasekit.legacy._vocabulary import DEFAULT_MAPPING

__all__ = ["map_legacy_rows"]


def map_legacy_rows(
    rows: Iterable[tuple[str, str, float | None]],
    *,
    mapping: LegacyMapping = DEFAULT_MAPPING,
    report: MappingReport | None = None,
) -> Iterator[tuple[Phase, PhaseStatus, float]]:
    """Map legacy ``(campaign_type, status, progress_percentage)`` rows, lazily.

    This is the bulk path for migration scripts: it streams any iterable (a database
    cursor, a generator) in constant memory and yields one ``(phase, status, progress)``
    tuple per row. When ``report`` is given it is updated as rows are consumed; a row
    that raises :class:`~phasekit.MappingError` (whose ``row`` is its 0-based position)
    is not counted.

    >>> report = MappingReport()
    >>> list(map_legacy_rows([("dns_validation", "queued", None)], report=report))
    [(<Phase.DNS_VALIDATION: 'dns_validation'>, <PhaseStatus.PENDING: 'pending'>, 0.0)]
    >>> report.lossy
    {('status', 'queued'): 1}
    """
    check_instance(mapping, LegacyMapping, "mapping")
    if report is None:
        report = MappingReport()
    elif not isinstance(report, MappingReport):
        raise InvalidValue(
            f"report must be a MappingReport or None; got {shown(report)}",
            field="report",
            value=report,
        )
    report.bind(mapping)
    return _map_rows(rows, report)


def _map_rows(
    rows: Iterable[object], report: MappingReport
) -> Iterator[tuple[Phase, PhaseStatus, float]]:
    # No row position is kept per row (enumerate costs this loop about 12% more
    # instructions): the loop counts into a tally of its own, whose total is the
    # current row's 0-based position, summed only when a row leaves the fast path.
    tally = report.open_tally()
    # This loop's index of the tally's counters, by campaign_type then status.
    counters: dict[object, dict[object, PairCount]] = {}
    float_type = float
    top = MAX_PROGRESS
    campaign_type: object
    status: object
    progress: object
    try:
        for row in rows:
            try:
                campaign_type, status, progress = row  # type: ignore[misc]
                counter = counters[campaign_type][status]
            except (KeyError, TypeError, ValueError):
                campaign_type, status, progress = _unpack(row, tally.rows)
                counter = tally.pair_count(campaign_type, status)
                counters.setdefault(campaign_type, {})[status] = counter
            if progress.__class__ is not float_type or not 0.0 <= progress <= top:
                if progress is None:
                    counter.null_progress += 1
                    progress = 0.0
                else:
                    progress = _progress(progress, tally)
            counter.rows += 1
            yield (counter.phase, counter.status, progress)
    finally:
        # Runs when the rows run out, a row fails, or the generator is closed or dropped.
        tally.close()


def _progress(value: object, tally: Tally) -> float:
    """Return ``legacy_progress(value, row)``, finding the row only if the value fails."""
    # An int progress comes here on every row: finding the row up front would sum the
    # tally's counters each time.
    try:
        return legacy_progress(value, None)
    except MappingError:
        pass
    return legacy_progress(value, tally.rows)  # fails again, now naming the row


def _unpack(row: object, index: int) -> tuple[object, object, object]:
    campaign_type: object
    status: object
    progress: object
    try:
        if isinstance(row, str | bytes | bytearray):
            raise TypeError
        campaign_type, status, progress = row  # type: ignore[misc]
    except (TypeError, ValueError):
        raise MappingError(
            f"row {index} must be a (campaign_type, status, progress_percentage) triple; "
            f"got {shown(row)}",
            column="row",
            value=row,
            row=index,
        ) from None
    return campaign_type, status, progress
