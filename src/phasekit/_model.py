"""The phase model: phases, statuses, events and the frozen records built from them.

A campaign is in exactly one :class:`Phase` at a time, and that phase has one
:class:`PhaseStatus`. :class:`Event` names what can happen to the status. The records
here only check that each field holds a valid value; which combinations can follow each
other is the business of :mod:`phasekit._lifecycle`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeVar

import attrs

from phasekit._checks import check_instance, check_progress, check_reason, coerce_member

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


#: Each phase's position in the pipeline: the order ``Phase`` declares them in.
PHASE_ORDER: Final[Mapping[Phase, int]] = MappingProxyType(
    {phase: position for position, phase in enumerate(Phase)}
)


def to_phase(value: Phase | str) -> Phase:
    """The converter of every record's ``phase`` field."""
    return coerce_member(Phase, value, "phase")


def to_status(value: PhaseStatus | str) -> PhaseStatus:
    """The converter of every record's ``status`` field."""
    return coerce_member(PhaseStatus, value, "status")


def _to_progress(value: float) -> float:
    return check_progress(value)


def to_reason(value: str) -> str:
    """The converter of every record's ``reason`` field: stripped, 1..500 characters."""
    return check_reason(value)


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
    check_instance(value, PhaseState, attribute.name)


@attrs.frozen(weakref_slot=False)
class PhaseTransition:
    """One change of phase: the state before, the state after and why.

    Built by :func:`phasekit.transition_to`, which checks that the change is allowed;
    ``reason`` is stored stripped.
    """

    previous: PhaseState = attrs.field(validator=_check_state)
    current: PhaseState = attrs.field(validator=_check_state)
    reason: str = attrs.field(converter=to_reason)


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
