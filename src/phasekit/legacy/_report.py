"""``MappingReport``: counts of what a migration did, or would do, to the legacy values.

The report owns its counters: a :class:`PairCount` per ``(campaign_type, status)``
pair. Each bulk call (:func:`~phasekit.map_legacy_rows`) counts into a :class:`Tally`
of its own, counters the report reads while the call runs and adds into its own when
the call ends; :meth:`MappingReport.from_counts` fills the report from the preflight's
``GROUP BY`` counts. Every view (rows, per-value counts, lossy and unknown values, the
summary) is derived from those counters when it is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from phasekit._checks import check_instance, check_int, shown
from phasekit._model import Phase, PhaseStatus
from phasekit.errors import InvalidValue
from phasekit.legacy._mapping import LegacyColumn, LegacyMapping, map_value
from phasekit.legacy._vocabulary import DEFAULT_MAPPING

__all__ = ["MappingReport", "PairCount", "Tally"]

_COLUMNS: tuple[LegacyColumn, LegacyColumn] = ("campaign_type", "status")


class PairCount:
    """The counter of one ``(campaign_type, status)`` pair, handed out by a report.

    ``phase`` and ``status`` are what the pair maps to; whoever maps a row of the pair
    adds 1 to ``rows``, and 1 to ``null_progress`` when its progress was NULL.
    """

    __slots__ = ("null_progress", "phase", "rows", "status")

    def __init__(self, phase: Phase, status: PhaseStatus) -> None:
        self.phase = phase
        self.status = status
        self.rows = 0
        self.null_progress = 0


class Tally:
    """The counters of one bulk call, which its report reads as its own while the call runs.

    Counting into counters of its own, a call knows how many rows it has counted (the
    sum of its counters), so the 0-based row position that a
    :class:`~phasekit.MappingError` names is found when a row fails, and the hot loop
    keeps no position per row, which costs it more than a tenth of its speed. (The
    report's counters cannot tell a call's position: calls sharing a report may
    interleave.) Get one from :meth:`MappingReport.open_tally` and :meth:`close` it when
    the call ends, which moves its counts into the report's own counters.
    """

    __slots__ = ("_pairs", "_report")

    def __init__(self, report: MappingReport) -> None:
        self._report = report
        self._pairs: dict[tuple[str, str], PairCount] = {}

    @property
    def rows(self) -> int:
        """The number of rows counted so far: the position of the call's next row."""
        return sum(pair.rows for pair in self._pairs.values())

    def pair_count(self, campaign_type: object, status: object) -> PairCount:
        """Return this tally's counter of ``campaign_type`` and ``status``.

        Like :meth:`MappingReport.pair_count`, with the row numbered by :attr:`rows`.
        """
        return self._report._pair_count(self._pairs, campaign_type, status, self.rows)

    def close(self) -> None:
        """Add the counts into the report's own counters and leave the report; idempotent."""
        report = self._report
        if self not in report._tallies:  # identity: a Tally has no __eq__
            return
        report._tallies.remove(self)
        for key, pair in self._pairs.items():
            total = report._pairs.get(key)
            if total is None:
                total = report._pairs[key] = PairCount(pair.phase, pair.status)
            total.rows += pair.rows
            total.null_progress += pair.null_progress


class MappingReport:
    """What a migration did, or would do, to the legacy values: counts to show an operator.

    Pass one to :func:`map_legacy_rows` and it is updated as rows are consumed, or build
    one from the preflight counts with :meth:`from_counts` before any data changes.

    ``rows`` is the number of rows counted, ``null_progress`` how many had a NULL
    progress (mapped to 0.0), ``lossy`` maps each ``(column, legacy value)`` that the
    phase columns alone cannot give back to its count (the SQL rollback restores those
    from the backup table), and ``unknown`` each value the mapping
    cannot map at all (no fallback) to its count.
    """

    __slots__ = ("_mapping", "_null_progress", "_pairs", "_tallies", "_unknown", "_values")

    def __init__(self) -> None:
        self._mapping: LegacyMapping | None = None
        # The counter of each (campaign_type, status) pair counted here, and the
        # tallies of the bulk calls still running, read as if they were counted here.
        self._pairs: dict[tuple[str, str], PairCount] = {}
        self._tallies: list[Tally] = []
        # Mappable values counted by from_counts, per column; and unmappable ones.
        self._values: dict[LegacyColumn, dict[str, int]] = {column: {} for column in _COLUMNS}
        self._unknown: dict[tuple[LegacyColumn, str], int] = {}
        self._null_progress = 0

    @classmethod
    def from_counts(
        cls,
        type_counts: Mapping[str, int] | Iterable[tuple[str, int]],
        status_counts: Mapping[str, int] | Iterable[tuple[str, int]],
        *,
        null_progress: int = 0,
        mapping: LegacyMapping = DEFAULT_MAPPING,
    ) -> MappingReport:
        """Build a report from distinct-value counts, as the preflight ``GROUP BY`` returns.

        ``type_counts`` and ``status_counts`` are mappings of value to count or the
        ``(value, count)`` rows themselves. Unknown values are listed in ``unknown``,
        not raised.

        >>> report = MappingReport.from_counts({"dns_validation": 3}, [("queued", 2), ("x", 1)])
        >>> report.lossy, report.unknown
        ({('status', 'queued'): 2}, {('status', 'x'): 1})
        """
        check_instance(mapping, LegacyMapping, "mapping")
        report = cls()
        report.bind(mapping)
        for column, counts in zip(_COLUMNS, (type_counts, status_counts), strict=True):
            pairs = counts.items() if isinstance(counts, Mapping) else counts
            for value, count in pairs:
                report._add(column, value, check_int(count, "count", unit=f" (for {shown(value)})"))
        report._null_progress = check_int(null_progress, "null_progress")
        return report

    def bind(self, mapping: LegacyMapping) -> None:
        """Count rows of ``mapping`` from now on; a report counts rows of one mapping only.

        Binding again to the same mapping does nothing; to another raises
        :class:`~phasekit.InvalidValue`.
        """
        if self._mapping is None:
            self._mapping = mapping
        elif self._mapping is not mapping:
            raise InvalidValue(
                "a MappingReport counts rows of one mapping; it was already used with another",
                field="report",
                value=self,
            )

    def _add(self, column: LegacyColumn, value: object, count: int) -> None:
        """Count ``count`` more rows whose ``column`` holds ``value``, mappable or not."""
        if type(value) is str and self.mapping.target(column, value) is not None:
            values = self._values[column]
            values[value] = values.get(value, 0) + count
        else:
            key = (column, value if type(value) is str else shown(value))
            self._unknown[key] = self._unknown.get(key, 0) + count

    def pair_count(self, campaign_type: object, status: object, row: int) -> PairCount:
        """Return the counter of rows holding ``campaign_type`` and ``status``.

        The counter is created on first use; a value the mapping cannot map raises
        :class:`~phasekit.MappingError` naming ``row``, and is not counted.
        """
        return self._pair_count(self._pairs, campaign_type, status, row)

    def _pair_count(
        self,
        pairs: dict[tuple[str, str], PairCount],
        campaign_type: object,
        status: object,
        row: int,
    ) -> PairCount:
        mapping = self.mapping
        phase = map_value("campaign_type", campaign_type, mapping, row)
        phase_status = map_value("status", status, mapping, row)
        key = (str(campaign_type), str(status))  # both strings: map_value accepted them
        found = pairs.get(key)
        if found is None:
            found = pairs[key] = PairCount(phase, phase_status)
        return found

    def open_tally(self) -> Tally:
        """Return a new :class:`Tally`, counted in this report until it is closed."""
        tally = Tally(self)
        self._tallies.append(tally)
        return tally

    def _counters(self) -> Iterator[tuple[tuple[str, str], PairCount]]:
        """Every counter, by pair: this report's own and those of its open tallies."""
        yield from self._pairs.items()
        for tally in self._tallies:
            yield from tally._pairs.items()

    @property
    def mapping(self) -> LegacyMapping:
        """The mapping the counts were made under (DEFAULT_MAPPING while nothing is counted)."""
        return DEFAULT_MAPPING if self._mapping is None else self._mapping

    def _mapped_counts(self, column: LegacyColumn) -> dict[str, int]:
        """Count of each mappable value of ``column``: known values first, in table order."""
        counts = dict.fromkeys(self.mapping.table(column), 0)
        for value, count in self._values[column].items():
            counts[value] = counts.get(value, 0) + count
        position = _COLUMNS.index(column)
        for key, pair in self._counters():
            counts[key[position]] = counts.get(key[position], 0) + pair.rows
        return {value: count for value, count in counts.items() if count}

    @property
    def rows(self) -> int:
        """The number of rows counted."""
        unknown = sum(n for (column, _), n in self._unknown.items() if column == "campaign_type")
        return sum(self._mapped_counts("campaign_type").values()) + unknown

    @property
    def null_progress(self) -> int:
        """How many counted rows had a NULL progress (mapped to 0.0)."""
        return self._null_progress + sum(pair.null_progress for _, pair in self._counters())

    def _counts(self, column: LegacyColumn) -> dict[str, int]:
        counts = self._mapped_counts(column)
        for (unknown_column, value), count in self._unknown.items():
            if unknown_column == column:
                counts[value] = counts.get(value, 0) + count
        return counts

    @property
    def type_counts(self) -> dict[str, int]:
        """Count of each legacy ``campaign_type`` value."""
        return self._counts("campaign_type")

    @property
    def status_counts(self) -> dict[str, int]:
        """Count of each legacy ``status`` value."""
        return self._counts("status")

    @property
    def lossy(self) -> dict[tuple[LegacyColumn, str], int]:
        """Count of each ``(column, value)`` not recoverable from the phase columns alone."""
        is_lossy = self.mapping.is_lossy
        return {
            (column, value): count
            for column in _COLUMNS
            for value, count in self._mapped_counts(column).items()
            if is_lossy(column, value)
        }

    @property
    def unknown(self) -> dict[tuple[LegacyColumn, str], int]:
        """Count of each ``(column, value)`` the mapping cannot map (it has no fallback)."""
        return dict(self._unknown)

    def summary(self) -> str:
        """Return the report as readable text: unknown and lossy values first.

        A lossy value is one the phase columns alone cannot give back (``to_legacy``
        reads them back as another value); the SQL rollback still restores it, from the
        backup table. Counts have thousands separators; then every value, one a line.

        >>> counts = {"archived": 2, "failed": 3_000}
        >>> print(MappingReport.from_counts({"dns_validation": 3_002}, counts).summary())
        3,002 rows; 0 with NULL progress (mapped to 0.0)
        unknown values (migration would fail on these rows): none
        lossy values (not recoverable from the phase columns alone; the backup keeps them): 2 rows
          status 'archived': 2 rows -> completed (reads back as 'completed')
        campaign_type:
          dns_validation  3,002 -> dns_validation
        status:
          archived            2 -> completed
          failed          3,000 -> failed
        """
        mapping = self.mapping
        lines = [f"{_rows(self.rows)}; {self.null_progress:,} with NULL progress (mapped to 0.0)"]
        unknown, lossy = self.unknown, self.lossy
        heading = "unknown values (migration would fail on these rows)"
        lines.append(f"{heading}: {_rows(sum(unknown.values())) if unknown else 'none'}")
        lines += [f"  {column} {value!r}: {_rows(n)}" for (column, value), n in unknown.items()]
        heading = (
            "lossy values (not recoverable from the phase columns alone; the backup keeps them)"
        )
        lines.append(f"{heading}: {_rows(sum(lossy.values())) if lossy else 'none'}")
        for (column, value), count in lossy.items():
            target = mapping.target(column, value)
            assert target is not None
            back = mapping.rollback_value(column, target)
            lines.append(
                f"  {column} {value!r}: {_rows(count)} -> {target} (reads back as {back!r})"
            )
        columns: tuple[tuple[LegacyColumn, dict[str, int]], ...] = (
            ("campaign_type", self.type_counts),
            ("status", self.status_counts),
        )
        width = max((len(value) for _, counts in columns for value in counts), default=0)
        digits = max((len(f"{n:,}") for _, counts in columns for n in counts.values()), default=0)
        for column, counts in columns:
            lines.append(f"{column}:{'' if counts else ' -'}")
            lines += [
                f"  {value:<{width}}  {count:>{digits},} -> {_target_text(mapping, column, value)}"
                for value, count in sorted(counts.items())
            ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"MappingReport(rows={self.rows}, null_progress={self.null_progress}, "
            f"lossy={self.lossy!r}, unknown={self.unknown!r})"
        )


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _target_text(mapping: LegacyMapping, column: LegacyColumn, value: str) -> str:
    target = mapping.target(column, value)
    return "?" if target is None else target.value
