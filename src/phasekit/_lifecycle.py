"""The lifecycle of a campaign's phases: one table, and the pure functions that read it.

The model
---------
A campaign runs through the phases of :class:`~phasekit.Phase` in pipeline order. At any
moment it is in one phase, and that phase has a :class:`~phasekit.PhaseStatus`. Two kinds
of move exist:

* a status event (:class:`~phasekit.Event`) changes the status within the phase. The
  rules are the same in every phase and are declared once, in :data:`STATUS_RULES`
  below: each row names the statuses it applies from, the event, the status it leads to
  and what happens to the progress percentage (kept, or set to a fixed value).
  Every (status, event) pair not listed is invalid.
* a phase transition moves a *completed* phase on to any later phase (skipping is
  allowed: generated domains may go straight to HTTP validation). The new phase starts
  ``pending`` at 0 % and the transition carries a human reason.

Terminal states are those from which nothing at all can happen: every ``cancelled``
state, and the last phase once ``completed``. They are not declared: they follow from
the two rules above, which keeps the table the single source of truth.

Everything else in phasekit that speaks about the lifecycle (the ``transitions`` Machine,
the Mermaid diagram, the TypeScript tables, the docs) is generated from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from phasekit._checks import (
    MAX_PROGRESS,
    check_instance,
    check_progress,
    check_reason,
    coerce_member,
    shown,
)
from phasekit._model import (
    PHASE_ORDER,
    Event,
    Phase,
    PhaseState,
    PhaseStatus,
    PhaseTransition,
    make_state,
)
from phasekit.errors import InvalidProgress, InvalidTransition, InvalidValue

__all__ = [
    "PHASE_TRANSITION_FROM",
    "PHASE_TRANSITION_STATUS",
    "STATUS_RULES",
    "StatusRule",
    "apply_event",
    "available_events",
    "available_transitions",
    "initial_state",
    "is_terminal",
    "transition_to",
    "with_progress",
]

_P = Phase
_S = PhaseStatus
_E = Event


@attrs.frozen
class StatusRule:
    """One row of the lifecycle table.

    ``event`` moves a phase from any status in ``sources`` to ``destination``.
    ``progress`` is the progress percentage the new state carries, or ``None`` when the
    progress is carried over unchanged.
    """

    sources: tuple[PhaseStatus, ...]
    event: Event
    destination: PhaseStatus
    progress: float | None = None


#: THE lifecycle table. Every status event, the same in every phase.
STATUS_RULES: Final[tuple[StatusRule, ...]] = (
    StatusRule((_S.PENDING,), _E.START, _S.RUNNING),
    StatusRule((_S.RUNNING,), _E.PAUSE, _S.PAUSED),
    StatusRule((_S.PAUSED,), _E.RESUME, _S.RUNNING),
    StatusRule((_S.RUNNING,), _E.COMPLETE, _S.COMPLETED, progress=MAX_PROGRESS),
    StatusRule((_S.RUNNING, _S.PAUSED), _E.FAIL, _S.FAILED),
    StatusRule((_S.PENDING, _S.RUNNING, _S.PAUSED), _E.CANCEL, _S.CANCELLED),
    StatusRule((_S.FAILED,), _E.RETRY, _S.PENDING, progress=0.0),
)

#: A phase transition is allowed only from this status, to any later phase ...
PHASE_TRANSITION_FROM: Final = _S.COMPLETED
#: ... and the new phase starts in this status, at 0 % progress.
PHASE_TRANSITION_STATUS: Final = _S.PENDING

# Lookup tables derived once from the rows above; the functions below only read these.
_NEXT: Final[Mapping[tuple[PhaseStatus, Event], tuple[PhaseStatus, float | None]]] = {
    (source, rule.event): (rule.destination, rule.progress)
    for rule in STATUS_RULES
    for source in rule.sources
}
_EVENTS: Final[Mapping[PhaseStatus, frozenset[Event]]] = {
    status: frozenset(event for (source, event) in _NEXT if source is status) for status in _S
}
_LATER: Final[Mapping[Phase, tuple[Phase, ...]]] = {
    phase: tuple(later for later in _P if PHASE_ORDER[later] > PHASE_ORDER[phase]) for phase in _P
}
_NO_PHASES: Final[tuple[Phase, ...]] = ()


def _sorted_names(members: frozenset[Event] | tuple[Phase, ...]) -> str:
    return ", ".join(sorted(member.value for member in members)) or "none"


def initial_state(phase: Phase | str = Phase.DOMAIN_GENERATION) -> PhaseState:
    """Return the state of a new campaign that starts at ``phase``: pending, 0 % done.

    >>> initial_state()
    PhaseState(phase=Phase.DOMAIN_GENERATION, status=PhaseStatus.PENDING, progress=0.0)
    >>> str(initial_state("dns_validation"))
    'dns_validation/pending'
    """
    return make_state(coerce_member(Phase, phase, "phase"), _S.PENDING, 0.0)


def apply_event(state: PhaseState, event: Event | str) -> PhaseState:
    """Return the state that ``event`` leads to from ``state``.

    Raises :class:`~phasekit.InvalidTransition` when the lifecycle does not allow the
    event in the current status; the message lists the events that are allowed.

    >>> running = apply_event(initial_state(), "start")
    >>> str(running)
    'domain_generation/running'
    >>> apply_event(running, Event.COMPLETE).progress
    100.0
    >>> try:
    ...     apply_event(running, "retry")
    ... except InvalidTransition as error:
    ...     print(error)
    cannot apply 'retry' to domain_generation/running; allowed: cancel, complete, fail, pause
    """
    try:
        destination, progress = _NEXT[state.status, event]  # type: ignore[index]
    except (KeyError, TypeError, AttributeError):
        raise _event_error(state, event) from None
    return make_state(state.phase, destination, state.progress if progress is None else progress)


def _event_error(state: object, event: object) -> InvalidTransition:
    checked = check_instance(state, PhaseState, "state")
    allowed = _sorted_names(_EVENTS[checked.status])
    if isinstance(event, Event):
        shown_event = f"'{event.value}'"
    elif type(event) is str and event in Event._value2member_map_:
        shown_event = f"'{event}'"
    else:
        choices = ", ".join(member.value for member in _E)
        shown_event = f"{shown(event)} (not an event; events are {choices})"
    return InvalidTransition(
        f"cannot apply {shown_event} to {checked}; allowed: {allowed}",
        state=checked,
        event=event,
    )


def available_events(state: PhaseState) -> frozenset[Event]:
    """Return the events :func:`apply_event` accepts from ``state``.

    >>> sorted(available_events(initial_state()))
    [<Event.CANCEL: 'cancel'>, <Event.START: 'start'>]
    """
    return _EVENTS[check_instance(state, PhaseState, "state").status]


def available_transitions(state: PhaseState) -> tuple[Phase, ...]:
    """Return the phases ``state`` may move on to, in pipeline order.

    Only a completed phase may move on, to any later phase; otherwise the tuple is empty.

    >>> done = PhaseState("domain_generation", "completed", 100.0)
    >>> [phase.value for phase in available_transitions(done)]
    ['dns_validation', 'http_validation']
    """
    checked = check_instance(state, PhaseState, "state")
    if checked.status is PHASE_TRANSITION_FROM:
        return _LATER[checked.phase]
    return _NO_PHASES


def is_terminal(state: PhaseState) -> bool:
    """Return whether nothing at all can happen to ``state`` any more.

    >>> is_terminal(PhaseState("http_validation", "completed", 100.0))
    True
    >>> is_terminal(PhaseState("dns_validation", "failed"))
    False
    """
    return not available_events(state) and not available_transitions(state)


def transition_to(state: PhaseState, target: Phase | str, reason: str) -> PhaseTransition:
    """Move a completed phase on to the later phase ``target``, for ``reason``.

    The new state is ``(target, pending, 0.0)``. ``reason`` must be a non-empty string
    of at most 500 characters after stripping, and is stored stripped.

    >>> done = PhaseState("domain_generation", "completed", 100.0)
    >>> change = transition_to(done, "http_validation", "  domains ready ")
    >>> str(change.current), change.reason
    ('http_validation/pending', 'domains ready')
    """
    checked = check_instance(state, PhaseState, "state")
    allowed = available_transitions(checked)
    try:
        phase = coerce_member(Phase, target, "target")
    except InvalidValue:
        phase = None
    if phase is None or phase not in allowed:
        if phase is None:
            choices = ", ".join(member.value for member in _P)
            what = f"{shown(target)} (not a phase; phases are {choices})"
        else:
            what = phase.value
        if checked.status is PHASE_TRANSITION_FROM:
            why = f"allowed: {_sorted_names(allowed)}" if allowed else "allowed: none (last phase)"
        else:
            why = f"allowed: none (only a {PHASE_TRANSITION_FROM.value} phase can move on)"
        raise InvalidTransition(
            f"cannot transition {checked} to {what}; {why}", state=checked, target=target
        )
    cleaned = check_reason(reason)
    return PhaseTransition(checked, make_state(phase, PHASE_TRANSITION_STATUS, 0.0), cleaned)


def with_progress(state: PhaseState, progress: float) -> PhaseState:
    """Return ``state`` with a new progress percentage, reported while the phase runs.

    Progress may only be reported while ``running``, and never goes down: a value lower
    than the current one raises :class:`~phasekit.InvalidProgress`, as does a value that
    is not a finite percentage in 0..100.

    >>> running = apply_event(initial_state(), "start")
    >>> with_progress(running, 12.5).progress
    12.5
    """
    checked = check_instance(state, PhaseState, "state")
    value = check_progress(progress)
    if checked.status is not _S.RUNNING:
        raise InvalidProgress(
            f"progress can only change while running; {checked} is {checked.status.value}",
            value=progress,
        )
    if value < checked.progress:
        raise InvalidProgress(
            f"progress must not go down; {checked} is at {checked.progress}, got {value}",
            value=progress,
        )
    return make_state(checked.phase, checked.status, value)
