"""The phase model: phases, statuses, events and the frozen records built from them.

A campaign is in exactly one :class:`Phase` at a time, and that phase has one
:class:`PhaseStatus`. :class:`Event` names what can happen to the status. The records
here only check that each field holds a valid value; which combinations can follow each
other is the business of :mod:`phasekit._lifecycle`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeVar

import attrs

from phasekit.errors import InvalidProgress, InvalidValue

__all__ = ["Event", "Phase", "PhaseState", "PhaseStatus", "PhaseTransition"]


class Phase(StrEnum):
    """A processing phase, declared in pipeline order."""

    DOMAIN_GENERATION = "domain_generation"
    DNS_VALIDATION = "dns_validation"
    HTTP_VALIDATION = "http_validation"


class PhaseStatus(StrEnum):
    """The status of the current phase."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Event(StrEnum):
    """Something that happens to a phase's status."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"
    RETRY = "retry"


_E = TypeVar("_E", Phase, PhaseStatus, Event)

#: Each phase's position in the pipeline: the order ``Phase`` declares them in.
PHASE_ORDER: Final[Mapping[Phase, int]] = MappingProxyType(
    {phase: position for position, phase in enumerate(Phase)}
)


def shown(value: object, limit: int = 60) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


#: Highest progress percentage; a completed phase carries exactly this.
MAX_PROGRESS: Final = 100.0
#: Longest transition reason, counted in characters after stripping.
MAX_REASON_LENGTH: Final = 500


def coerce_member(kind: type[_E], value: object, field: str) -> _E:
    """Return the member of ``kind`` that is ``value`` or whose value is ``value``.

    Members and their exact string values are accepted; anything else (another type, a
    different spelling) raises :class:`~phasekit.InvalidValue` naming the choices.
    """
    if isinstance(value, kind):
        return value
    if type(value) is str:
        try:
            return kind(value)
        except ValueError:
            pass
    choices = ", ".join(member.value for member in kind)
    raise InvalidValue(
        f"{field} must be a {kind.__name__} or one of its values ({choices}); got {shown(value)}",
        field=field,
        value=value,
    )


def check_progress(value: object, field: str = "progress") -> float:
    """Return ``value`` as a float if it is a finite percentage in 0..100.

    An ``int`` is accepted and converted; a ``bool``, NaN, infinity, anything out of
    range and any non-number raise :class:`~phasekit.InvalidProgress`.
    """
    if isinstance(value, float):
        if 0.0 <= value <= MAX_PROGRESS:
            return float(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= MAX_PROGRESS:
            return float(value)
    else:
        raise InvalidProgress(
            f"{field} must be an int or float percentage in 0..100; got {shown(value)} "
            "(not a number)",
            value=value,
        )
    if isinstance(value, float) and math.isnan(value):
        detail = "NaN is not a percentage"
    else:
        detail = "outside 0..100"
    raise InvalidProgress(
        f"{field} must be a finite percentage in 0..100; got {shown(value)} ({detail})", value=value
    )


def check_reason(value: object, field: str = "reason") -> str:
    """Return ``value`` stripped, if it is a non-empty string of at most 500 characters.

    Anything else raises :class:`~phasekit.InvalidValue`.
    """
    if not isinstance(value, str):
        raise InvalidValue(
            f"{field} must be a string; got {shown(value)}", field=field, value=value
        )
    stripped = value.strip()
    if not stripped:
        raise InvalidValue(
            f"{field} must not be empty or only whitespace; got {shown(value)}",
            field=field,
            value=value,
        )
    if len(stripped) > MAX_REASON_LENGTH:
        raise InvalidValue(
            f"{field} must be at most {MAX_REASON_LENGTH} characters after stripping; "
            f"got {len(stripped)}",
            field=field,
            value=value,
        )
    return stripped


def to_phase(value: Phase | str) -> Phase:
    """The converter of every record's ``phase`` field."""
    return coerce_member(Phase, value, "phase")


def to_status(value: PhaseStatus | str) -> PhaseStatus:
    """The converter of every record's ``status`` field."""
    return coerce_member(PhaseStatus, value, "status")


def _to_progress(value: float) -> float:
    return check_progress(value)


def member_repr(member: StrEnum) -> str:
    """Return ``Phase.DNS_VALIDATION`` for a member: what a record's repr shows."""
    return f"{type(member).__name__}.{member.name}"


@attrs.frozen(weakref_slot=False)
class PhaseState:
    """Where a campaign is: its phase, that phase's status and its progress percentage.

    ``phase`` and ``status`` accept a member or its exact string value and always store
    the member; ``progress`` is a finite percentage in 0..100, stored as a float. The
    record is immutable: the lifecycle functions return new states.

    >>> PhaseState("dns_validation", "running", 42)
    PhaseState(phase=Phase.DNS_VALIDATION, status=PhaseStatus.RUNNING, progress=42.0)
    """

    phase: Phase = attrs.field(converter=to_phase, repr=member_repr)
    status: PhaseStatus = attrs.field(converter=to_status, repr=member_repr)
    progress: float = attrs.field(default=0.0, converter=_to_progress)

    def __str__(self) -> str:
        return f"{self.phase.value}/{self.status.value}"


def _check_state(instance: object, attribute: attrs.Attribute[PhaseState], value: object) -> None:
    if not isinstance(value, PhaseState):
        raise InvalidValue(
            f"{attribute.name} must be a PhaseState; got {shown(value)}",
            field=attribute.name,
            value=value,
        )


@attrs.frozen(weakref_slot=False)
class PhaseTransition:
    """One change of phase: the state before, the state after and why.

    Built by :func:`phasekit.transition_to`, which checks that the change is allowed;
    ``reason`` is stored stripped.
    """

    previous: PhaseState = attrs.field(validator=_check_state)
    current: PhaseState = attrs.field(validator=_check_state)
    reason: str = attrs.field(converter=check_reason)


_R = TypeVar("_R")


def unchecked_constructor(cls: type[_R]) -> Callable[..., _R]:
    """Return a function building a ``cls`` record from values known to be valid.

    The hot paths (the lifecycle functions, the decoders) have just checked every value,
    so running the record's converters again would only cost time. The function takes
    the fields positionally, in declaration order. It fills a plain slotted twin of
    ``cls`` (same slots, an ordinary ``__init__``) and then gives the object its real
    class, which CPython allows because the two layouts are identical; attrs and
    dataclasses generate their ``__init__`` methods with ``exec`` the same way.
    """
    names = [field.name for field in attrs.fields(cls)]  # type: ignore[arg-type]
    slots = getattr(cls, "__slots__", None)
    assert tuple(names) == slots, f"{cls.__name__} must be slotted, without __weakref__"
    parameters = ", ".join(names)
    source = (
        f"def __init__(self, {parameters}):\n"
        + "".join(f"    self.{name} = {name}\n" for name in names)
        + f"def build({parameters}):\n"
        + f"    record = Twin({parameters})\n"
        + "    record.__class__ = cls\n"
        + "    return record\n"
    )
    namespace: dict[str, object] = {"cls": cls}
    exec(source, namespace)
    namespace["Twin"] = type(
        f"_Unchecked{cls.__name__}",
        (),
        {"__slots__": slots, "__init__": namespace["__init__"]},
    )
    return namespace["build"]  # type: ignore[return-value]


#: Build a PhaseState from a valid phase, status and progress, skipping the converters.
make_state: Callable[[Phase, PhaseStatus, float], PhaseState] = unchecked_constructor(PhaseState)
