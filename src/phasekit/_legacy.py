"""Legacy vocabulary and its mapping to the phase model.

Before phases, a campaign row had three columns: ``campaign_type``, ``status`` and a
nullable ``progress_percentage``. A :class:`LegacyMapping` says, as data, which
:class:`~phasekit.Phase` each legacy type becomes and which
:class:`~phasekit.PhaseStatus` each legacy status becomes, and what to do with a value
it does not know. Two are provided:

* :data:`PLAN_MAPPING` reproduces the migration plan's SQL exactly, including its silent
  loss: ``paused``, ``cancelled`` and ``archived`` campaigns become ``pending``.
* :data:`DEFAULT_MAPPING` maps every known value explicitly and refuses unknown ones.

The same tables drive :func:`map_legacy`, the bulk :func:`map_legacy_rows`, the
rollback :func:`to_legacy`, the :class:`MappingReport` and the generated SQL.

A value is *lossy* when a rollback cannot restore it exactly, that is when
``to_legacy(map_legacy(value))`` gives a different legacy value back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

import attrs

from phasekit._checks import check_progress, coerce_member, shown
from phasekit._model import Phase, PhaseState, PhaseStatus, make_state
from phasekit.errors import InvalidProgress, InvalidValue, MappingError

__all__ = [
    "DEFAULT_MAPPING",
    "LEGACY_CAMPAIGN_TYPES",
    "LEGACY_STATUSES",
    "PLAN_MAPPING",
    "LegacyColumn",
    "LegacyMapping",
    "MappingReport",
    "map_legacy",
    "map_legacy_rows",
    "to_legacy",
]

#: The legacy ``campaigns.campaign_type`` values, as the legacy CHECK constraint lists them.
LEGACY_CAMPAIGN_TYPES: Final = ("domain_generation", "dns_validation", "http_keyword_validation")
#: The legacy ``campaigns.status`` values, in the legacy CHECK constraint's order.
LEGACY_STATUSES: Final = (
    "pending",
    "queued",
    "running",
    "pausing",
    "paused",
    "completed",
    "failed",
    "archived",
    "cancelled",
)

#: The name of a legacy column that a mapping reads.
LegacyColumn = Literal["campaign_type", "status"]

_M = TypeVar("_M", Phase, PhaseStatus)


def _freeze_table(kind: type[_M], table: object, column: str) -> Mapping[str, _M]:
    if not isinstance(table, Mapping):
        raise InvalidValue(
            f"the {column} table must be a mapping of legacy values; got {shown(table)}",
            field=column,
            value=table,
        )
    frozen: dict[str, _M] = {}
    for key, target in table.items():
        if type(key) is not str or not key or "\x00" in key:
            raise InvalidValue(
                f"legacy {column} values must be non-empty strings without NUL; got {shown(key)}",
                field=column,
                value=key,
            )
        frozen[key] = coerce_member(kind, target, f"{column} target")
    return MappingProxyType(frozen)


def _types_table(table: Mapping[str, Phase | str]) -> Mapping[str, Phase]:
    return _freeze_table(Phase, table, "campaign_type")


def _statuses_table(table: Mapping[str, PhaseStatus | str]) -> Mapping[str, PhaseStatus]:
    return _freeze_table(PhaseStatus, table, "status")


def _fallback_phase(value: Phase | str | None) -> Phase | None:
    return None if value is None else coerce_member(Phase, value, "fallback_phase")


def _fallback_status(value: PhaseStatus | str | None) -> PhaseStatus | None:
    return None if value is None else coerce_member(PhaseStatus, value, "fallback_status")


@attrs.frozen(eq=False)
class LegacyMapping:
    """How legacy ``campaign_type`` and ``status`` values become a phase and a status.

    ``types`` and ``statuses`` map each legacy value to its target; they are copied
    into read-only mappings. ``fallback_phase`` and ``fallback_status`` are used for a
    value not in the tables; ``None`` makes such a value a
    :class:`~phasekit.MappingError`. A NULL progress always becomes 0.0.

    >>> DEFAULT_MAPPING.statuses["pausing"]
    <PhaseStatus.PAUSED: 'paused'>
    >>> PLAN_MAPPING.fallback_phase
    <Phase.DOMAIN_GENERATION: 'domain_generation'>
    """

    types: Mapping[str, Phase] = attrs.field(converter=_types_table)
    statuses: Mapping[str, PhaseStatus] = attrs.field(converter=_statuses_table)
    fallback_phase: Phase | None = attrs.field(default=None, converter=_fallback_phase)
    fallback_status: PhaseStatus | None = attrs.field(default=None, converter=_fallback_status)
    # Rollback value of every phase and status, computed once (see to_legacy).
    _back_types: Mapping[Phase, str | None] = attrs.field(init=False, repr=False)
    _back_statuses: Mapping[PhaseStatus, str | None] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_back_types", _rollback_values(Phase, self.types))
        object.__setattr__(self, "_back_statuses", _rollback_values(PhaseStatus, self.statuses))

    def table(self, column: LegacyColumn) -> Mapping[str, Phase] | Mapping[str, PhaseStatus]:
        """Return the table of ``column``: ``types`` or ``statuses``."""
        return self.types if column == "campaign_type" else self.statuses

    def fallback(self, column: LegacyColumn) -> Phase | PhaseStatus | None:
        """Return the fallback of ``column``, or ``None`` when unknown values are errors."""
        return self.fallback_phase if column == "campaign_type" else self.fallback_status

    def rollback_value(self, column: LegacyColumn, target: Phase | PhaseStatus) -> str | None:
        """Return the legacy value a rollback writes for ``target``, or None if there is none.

        That is the legacy value of the same name when it maps to ``target``, else the
        first legacy value that maps to it, else the value of the same name when the
        table knows it at all.
        """
        if column == "campaign_type":
            return self._back_types[target]  # type: ignore[index]
        return self._back_statuses[target]  # type: ignore[index]

    def target(self, column: LegacyColumn, value: str) -> Phase | PhaseStatus | None:
        """Return what ``value`` of ``column`` maps to (its fallback if unknown), or None."""
        found = self.table(column).get(value)
        return self.fallback(column) if found is None else found

    def is_lossy(self, column: LegacyColumn, value: str) -> bool:
        """Return whether a rollback would not give ``value`` back (False if unmappable)."""
        target = self.target(column, value)
        return target is not None and self.rollback_value(column, target) != value


def _rollback_values(kind: type[_M], table: Mapping[str, _M]) -> Mapping[_M, str | None]:
    back: dict[_M, str | None] = {}
    for member in kind:
        sources = [value for value, target in table.items() if target is member]
        if member.value in sources:
            back[member] = member.value
        elif sources:
            back[member] = sources[0]
        else:
            back[member] = member.value if member.value in table else None
    return MappingProxyType(back)


_P = Phase
_S = PhaseStatus

#: The migration plan's SQL, exactly. Unknown types become domain_generation, and every
#: status but running, completed and failed becomes pending.
PLAN_MAPPING: Final = LegacyMapping(
    types={
        "domain_generation": _P.DOMAIN_GENERATION,
        "dns_validation": _P.DNS_VALIDATION,
        "http_keyword_validation": _P.HTTP_VALIDATION,
    },
    statuses={
        value: {"running": _S.RUNNING, "completed": _S.COMPLETED, "failed": _S.FAILED}.get(
            value, _S.PENDING
        )
        for value in LEGACY_STATUSES
    },
    fallback_phase=_P.DOMAIN_GENERATION,
    fallback_status=_S.PENDING,
)

#: Every known legacy value mapped explicitly to its nearest meaning; unknown values are
#: errors. Lossy (not restored exactly by a rollback) are queued, pausing and archived.
DEFAULT_MAPPING: Final = LegacyMapping(
    types=PLAN_MAPPING.types,
    statuses={
        "pending": _S.PENDING,
        "queued": _S.PENDING,
        "running": _S.RUNNING,
        "pausing": _S.PAUSED,
        "paused": _S.PAUSED,
        "completed": _S.COMPLETED,
        "failed": _S.FAILED,
        "archived": _S.COMPLETED,
        "cancelled": _S.CANCELLED,
    },
)


def _unknown(
    column: LegacyColumn, value: object, mapping: LegacyMapping, row: int | None
) -> MappingError:
    where = "" if row is None else f" in row {row}"
    if type(value) is not str:
        return MappingError(
            f"{column}{where} must be a string; got {shown(value)}",
            column=column,
            value=value,
            row=row,
        )
    known = ", ".join(mapping.table(column))
    return MappingError(
        f"unknown {column} {shown(value)}{where}; expected one of: {known} "
        "(the mapping has no fallback)",
        column=column,
        value=value,
        row=row,
    )


def _lookup(
    column: LegacyColumn, value: object, mapping: LegacyMapping, row: int | None
) -> Phase | PhaseStatus:
    target = mapping.target(column, value) if type(value) is str else None
    if target is None:
        raise _unknown(column, value, mapping, row)
    return target


def _progress(value: object, row: int | None) -> float:
    """Return a legacy progress as a float: NULL is 0.0, anything else a percentage."""
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

    >>> map_legacy("http_keyword_validation", "pausing", None)
    PhaseState(phase=Phase.HTTP_VALIDATION, status=PhaseStatus.PAUSED, progress=0.0)
    >>> map_legacy("http_keyword_validation", "pausing", 40.0, mapping=PLAN_MAPPING).status
    <PhaseStatus.PENDING: 'pending'>
    """
    _check_mapping(mapping)
    phase = _lookup("campaign_type", campaign_type, mapping, None)
    status_member = _lookup("status", status, mapping, None)
    progress = _progress(progress_percentage, None)
    return make_state(phase, status_member, progress)  # type: ignore[arg-type]


def _check_mapping(mapping: object) -> None:
    if not isinstance(mapping, LegacyMapping):
        raise InvalidValue(
            f"mapping must be a LegacyMapping; got {shown(mapping)}", field="mapping", value=mapping
        )


class MappingReport:
    """What a migration did, or would do, to the legacy values: counts to show an operator.

    Pass one to :func:`map_legacy_rows` and it is updated as rows are consumed, or build
    one from the preflight counts with :meth:`from_counts` before any data changes.

    ``rows`` is the number of rows counted, ``null_progress`` how many had a NULL
    progress (mapped to 0.0), ``lossy`` maps each ``(column, legacy value)`` that a
    rollback cannot restore exactly to its count, and ``unknown`` each value the mapping
    cannot map at all (no fallback) to its count.
    """

    __slots__ = ("_mapping", "_null_progress", "_pairs", "_statuses", "_types", "_unknown")

    def __init__(self) -> None:
        self._mapping: LegacyMapping | None = None
        # Per legacy value, its [target, count]; from_counts counts here.
        self._types: dict[object, list[Any]] = {}
        self._statuses: dict[object, list[Any]] = {}
        # Per (campaign_type, status) pair, its [phase, status, count]: the bulk path
        # finds a row's targets and its counter in one nested lookup (see _map_rows).
        self._pairs: dict[object, dict[object, list[Any]]] = {}
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
        _check_mapping(mapping)
        report = cls()
        report._bind(mapping)
        columns: tuple[tuple[LegacyColumn, object], ...] = (
            ("campaign_type", type_counts),
            ("status", status_counts),
        )
        for column, counts in columns:
            pairs = counts.items() if isinstance(counts, Mapping) else counts
            for value, count in pairs:  # type: ignore[attr-defined]
                if type(count) is not int or count < 0:
                    raise InvalidValue(
                        f"counts must be ints >= 0; got {shown(count)} for {shown(value)}",
                        field="count",
                        value=count,
                    )
                entry = report._entry(column, value)
                if entry is None:
                    key = (column, value if type(value) is str else shown(value))
                    report._unknown[key] = report._unknown.get(key, 0) + count
                else:
                    entry[1] += count
        if type(null_progress) is not int or null_progress < 0:
            raise InvalidValue(
                f"null_progress must be an int >= 0; got {shown(null_progress)}",
                field="null_progress",
                value=null_progress,
            )
        report._null_progress = null_progress
        return report

    def _bind(self, mapping: LegacyMapping) -> None:
        if self._mapping is None:
            self._mapping = mapping
            self._types = {value: [target, 0] for value, target in mapping.types.items()}
            self._statuses = {value: [target, 0] for value, target in mapping.statuses.items()}
            self._pairs = {
                campaign_type: {
                    status: [phase, phase_status, 0]
                    for status, phase_status in mapping.statuses.items()
                }
                for campaign_type, phase in mapping.types.items()
            }
        elif self._mapping is not mapping:
            raise InvalidValue(
                "a MappingReport counts rows of one mapping; it was already used with another",
                field="report",
                value=self,
            )

    def _entry(self, column: LegacyColumn, value: object) -> list[Any] | None:
        """Return the [target, count] entry of a value, creating it for a fallback value."""
        entries = self._types if column == "campaign_type" else self._statuses
        try:
            return entries[value]
        except (KeyError, TypeError):
            pass
        if type(value) is not str:
            return None
        target = self.mapping.target(column, value)
        if target is None:
            return None
        entry = entries[value] = [target, 0]
        return entry

    def _pair(self, campaign_type: object, status: object, row: int) -> list[Any]:
        """Return the [phase, status, count] entry of a pair; raise if it cannot be mapped."""
        type_entry = self._entry("campaign_type", campaign_type)
        if type_entry is None:
            raise _unknown("campaign_type", campaign_type, self.mapping, row)
        status_entry = self._entry("status", status)
        if status_entry is None:
            raise _unknown("status", status, self.mapping, row)
        by_status = self._pairs.setdefault(campaign_type, {})
        return by_status.setdefault(status, [type_entry[0], status_entry[0], 0])

    @property
    def mapping(self) -> LegacyMapping:
        """The mapping the counts were made under (DEFAULT_MAPPING while nothing is counted)."""
        return DEFAULT_MAPPING if self._mapping is None else self._mapping

    def _mapped_counts(self, column: LegacyColumn) -> dict[object, int]:
        """Count of each mappable value of ``column``, from both kinds of counter."""
        entries = self._types if column == "campaign_type" else self._statuses
        counts = {value: entry[1] for value, entry in entries.items()}
        for campaign_type, by_status in self._pairs.items():
            for status, entry in by_status.items():
                value = campaign_type if column == "campaign_type" else status
                counts[value] = counts.get(value, 0) + entry[2]
        return {value: count for value, count in counts.items() if count}

    def _counted(self) -> int:
        return sum(self._mapped_counts("campaign_type").values())

    @property
    def rows(self) -> int:
        """The number of rows counted."""
        unknown = sum(n for (column, _), n in self._unknown.items() if column == "campaign_type")
        return self._counted() + unknown

    @property
    def null_progress(self) -> int:
        """How many counted rows had a NULL progress (mapped to 0.0)."""
        return self._null_progress

    def _counts(self, column: LegacyColumn) -> dict[str, int]:
        counts = {str(value): count for value, count in self._mapped_counts(column).items()}
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
        """Count of each ``(column, value)`` that a rollback cannot restore exactly."""
        mapping = self.mapping
        found: dict[tuple[LegacyColumn, str], int] = {}
        columns: tuple[tuple[LegacyColumn, dict[object, list[Any]]], ...] = (
            ("campaign_type", self._types),
            ("status", self._statuses),
        )
        for column, entries in columns:
            for value, count in self._mapped_counts(column).items():
                if mapping.rollback_value(column, entries[value][0]) != value:
                    found[column, str(value)] = count
        return found

    @property
    def unknown(self) -> dict[tuple[LegacyColumn, str], int]:
        """Count of each ``(column, value)`` the mapping cannot map (it has no fallback)."""
        return dict(self._unknown)

    def summary(self) -> str:
        """Return the report as readable text: unknown and lossy values first.

        >>> counts = {"archived": 2, "failed": 3}
        >>> print(MappingReport.from_counts({"dns_validation": 5}, counts).summary())
        5 rows; 0 with NULL progress (mapped to 0.0)
        unknown values (migration would fail on these rows): none
        lossy values (a rollback cannot restore them exactly): 2 rows
          status 'archived': 2 rows -> completed (rolls back as 'completed')
        campaign_type: dns_validation 5 -> dns_validation
        status: archived 2 -> completed, failed 3 -> failed
        """
        mapping = self.mapping
        lines = [f"{_rows(self.rows)}; {self.null_progress} with NULL progress (mapped to 0.0)"]
        unknown, lossy = self.unknown, self.lossy
        heading = "unknown values (migration would fail on these rows)"
        lines.append(f"{heading}: {_rows(sum(unknown.values())) if unknown else 'none'}")
        lines += [f"  {column} {value!r}: {_rows(n)}" for (column, value), n in unknown.items()]
        heading = "lossy values (a rollback cannot restore them exactly)"
        lines.append(f"{heading}: {_rows(sum(lossy.values())) if lossy else 'none'}")
        for (column, value), count in lossy.items():
            target = mapping.target(column, value)
            assert target is not None
            back = mapping.rollback_value(column, target)
            lines.append(
                f"  {column} {value!r}: {_rows(count)} -> {target} (rolls back as {back!r})"
            )
        for column, counts in (("campaign_type", self.type_counts), ("status", self.status_counts)):
            shown_counts = ", ".join(
                f"{value} {count} -> {_target_text(mapping, column, value)}"
                for value, count in sorted(counts.items())
            )
            lines.append(f"{column}: {shown_counts or '-'}")
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
    _check_mapping(mapping)
    if report is None:
        report = MappingReport()
    elif not isinstance(report, MappingReport):
        raise InvalidValue(
            f"report must be a MappingReport or None; got {shown(report)}",
            field="report",
            value=report,
        )
    report._bind(mapping)
    return _map_rows(rows, mapping, report)


def _map_rows(
    rows: Iterable[object], mapping: LegacyMapping, report: MappingReport
) -> Iterator[tuple[Phase, PhaseStatus, float]]:
    # The hot loop of a 2M-row migration: one nested dict lookup gives a row's phase,
    # status and the report's counter for its (campaign_type, status) pair, bumped in
    # place. Anything unusual (a pair seen for the first time, NULL or int progress, a
    # bad value) leaves the fast path for the careful code above.
    pairs = report._pairs
    float_type = float
    start = report._counted()
    campaign_type: object
    status: object
    progress: object
    for row in rows:
        try:
            campaign_type, status, progress = row  # type: ignore[misc]
            entry = pairs[campaign_type][status]
        except (KeyError, TypeError, ValueError):
            index = report._counted() - start
            campaign_type, status, progress = _unpack(row, index)
            entry = report._pair(campaign_type, status, index)
        if progress.__class__ is not float_type or not 0.0 <= progress <= 100.0:
            if progress is None:
                report._null_progress += 1
                progress = 0.0
            else:
                progress = _progress(progress, report._counted() - start)
        entry[2] += 1
        yield (entry[0], entry[1], progress)


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


def to_legacy(
    state: PhaseState, *, mapping: LegacyMapping = DEFAULT_MAPPING
) -> tuple[str, str, float]:
    """Return the legacy ``(campaign_type, status, progress_percentage)`` of ``state``.

    For rollback. Every value maps back to the legacy value of the same name where one
    exists, else to the first legacy value that maps to it, so that
    ``to_legacy(map_legacy(t, s, p)) == (t, s, p or 0.0)`` whenever neither ``t`` nor
    ``s`` is lossy.

    >>> to_legacy(PhaseState("http_validation", "paused", 12.0))
    ('http_keyword_validation', 'paused', 12.0)
    """
    _check_mapping(mapping)
    if not isinstance(state, PhaseState):
        raise InvalidValue(
            f"state must be a PhaseState; got {shown(state)}", field="state", value=state
        )
    campaign_type = mapping.rollback_value("campaign_type", state.phase)
    status = mapping.rollback_value("status", state.status)
    for column, value, member in (
        ("campaign_type", campaign_type, state.phase),
        ("status", status, state.status),
    ):
        if value is None:
            raise MappingError(
                f"the mapping has no legacy {column} for {member.value!r}",
                column=column,
                value=member,
            )
    return campaign_type, status, state.progress  # type: ignore[return-value]
