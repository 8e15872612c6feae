"""``LegacyMapping``: which phase and status each legacy value becomes, as data.

A :class:`LegacyMapping` says which :class:`~phasekit.Phase` each legacy
``campaign_type`` becomes and which :class:`~phasekit.PhaseStatus` each legacy
``status`` becomes, and what to do with a value it does not know. It also knows which
legacy value :func:`~phasekit.to_legacy` gives back for each target, and so which values
are *lossy*: those the phase columns alone cannot give back, as
``to_legacy(map_legacy(value))`` returns another value. (The SQL rollback restores
them all exactly, from the backup table.) The mapping functions, the report
and the generated SQL all read these tables; the presets are in
:mod:`phasekit.legacy._vocabulary`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, TypeVar, overload

import attrs

from phasekit._checks import coerce_member, shown
from phasekit._model import Phase, PhaseStatus
from phasekit.errors import InvalidValue, MappingError

__all__ = ["LegacyColumn", "LegacyMapping", "map_value", "unmappable"]

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

    >>> mapping = LegacyMapping(
    ...     {"dns": "dns_validation"}, {"pausing": "paused"}, fallback_status="pending"
    ... )
    >>> mapping.statuses["pausing"]
    <PhaseStatus.PAUSED: 'paused'>
    >>> mapping.target("status", "frozen"), mapping.target("campaign_type", "ftp")
    (<PhaseStatus.PENDING: 'pending'>, None)
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
        """Return the legacy value ``to_legacy`` gives for ``target``, or None if there is none.

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
        """Return whether the phase columns alone cannot give ``value`` back (False if
        unmappable): ``to_legacy`` returns another value for its target."""
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


def unmappable(
    column: LegacyColumn, value: object, mapping: LegacyMapping, row: int | None
) -> MappingError:
    """Return the error for a ``value`` of ``column`` that ``mapping`` cannot map.

    ``row`` is the 0-based row of a bulk mapping, or None for a single row.
    """
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


@overload
def map_value(
    column: Literal["campaign_type"], value: object, mapping: LegacyMapping, row: int | None
) -> Phase: ...
@overload
def map_value(
    column: Literal["status"], value: object, mapping: LegacyMapping, row: int | None
) -> PhaseStatus: ...
def map_value(
    column: LegacyColumn, value: object, mapping: LegacyMapping, row: int | None
) -> Phase | PhaseStatus:
    """Return what ``value`` of ``column`` maps to, or raise :func:`unmappable`'s error."""
    target = mapping.target(column, value) if type(value) is str else None
    if target is None:
        raise unmappable(column, value, mapping, row)
    return target
