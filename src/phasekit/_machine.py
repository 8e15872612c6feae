"""The lifecycle as a ``transitions`` Machine: its states, triggers and edges.

Generated from the table in :mod:`phasekit._lifecycle`. The Machine is for teams that
want pytransitions' callbacks and introspection; phasekit's own functions never go
through it, because a table lookup is much faster than a Machine trigger. The Mermaid
diagram is read off this Machine in :mod:`phasekit._diagram`.
"""

from __future__ import annotations

import functools
from typing import Final

from transitions import Machine

from phasekit._lifecycle import (
    PHASE_TRANSITION_FROM,
    PHASE_TRANSITION_STATUS,
    STATUS_RULES,
    available_transitions,
)
from phasekit._model import Phase, PhaseState, PhaseStatus

__all__ = [
    "lifecycle_edges",
    "lifecycle_machine",
    "state_name",
    "transition_trigger",
]

#: Prefix of the Machine triggers that move a completed phase on to a later one.
TRANSITION_TRIGGER_PREFIX: Final = "transition_to_"


def state_name(phase: Phase, status: PhaseStatus) -> str:
    """Return the Machine's name for a (phase, status) pair, e.g. ``'dns_validation/paused'``.

    It is also ``str()`` of a :class:`~phasekit.PhaseState` in that phase and status.
    """
    return f"{phase.value}/{status.value}"


def transition_trigger(target: Phase) -> str:
    """Return the Machine trigger that moves a completed phase on to ``target``.

    >>> transition_trigger(Phase.HTTP_VALIDATION)
    'transition_to_http_validation'
    """
    return f"{TRANSITION_TRIGGER_PREFIX}{target.value}"


@functools.cache
def lifecycle_edges() -> tuple[tuple[str, str, str], ...]:
    """Return every move of the lifecycle as ``(trigger, source, destination)``.

    States are named by :func:`state_name`; a status event's trigger is the event's
    value, a phase transition's is :func:`transition_trigger` of its target. This is the
    lifecycle table spread over every phase, for any state-machine library to load.

    >>> ("cancel", "dns_validation/paused", "dns_validation/cancelled") in lifecycle_edges()
    True
    """
    status_moves = [
        (rule.event.value, state_name(phase, source), state_name(phase, rule.destination))
        for phase in Phase
        for rule in STATUS_RULES
        for source in rule.sources
    ]
    phase_moves = [
        (
            transition_trigger(target),
            state_name(phase, PHASE_TRANSITION_FROM),
            state_name(target, PHASE_TRANSITION_STATUS),
        )
        for phase in Phase
        for target in available_transitions(PhaseState(phase, PHASE_TRANSITION_FROM))
    ]
    return (*status_moves, *phase_moves)


@functools.cache
def lifecycle_machine() -> Machine:
    """Return the process-wide ``transitions.Machine`` of the lifecycle.

    It has one state per (phase, status) pair, named by :func:`state_name`, and the
    moves of :func:`lifecycle_edges`: one trigger per :class:`~phasekit.Event` and one
    per target phase. It is built once, with no model and with ``auto_transitions``
    off; attach your own model with ``machine.add_model(model, initial=...)`` if you
    want pytransitions callbacks.

    >>> machine = lifecycle_machine()
    >>> [t.dest for t in machine.get_transitions("start", "dns_validation/pending")]
    ['dns_validation/running']
    """
    return Machine(
        model=None,
        states=[state_name(phase, status) for phase in Phase for status in PhaseStatus],
        transitions=[
            {"trigger": trigger, "source": source, "dest": destination}
            for trigger, source, destination in lifecycle_edges()
        ],
        initial=None,
        auto_transitions=False,
    )
