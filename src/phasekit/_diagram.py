"""The lifecycle drawn: as Mermaid text read off the Machine, and as two SVG pictures.

:func:`lifecycle_mermaid` writes every phase, status, event and phase transition of
:mod:`phasekit._machine`'s Machine as a Mermaid ``stateDiagram-v2`` (``phasekit
diagram``). :func:`status_machine_svg` draws the status events of
:data:`~phasekit.STATUS_RULES`, the same in every phase, and :func:`phase_chain_svg` the
phase transitions; the docs inline both. Only where each box sits is chosen here by hand;
every box, arrow and label is read from the lifecycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from phasekit._lifecycle import (
    PHASE_TRANSITION_FROM,
    PHASE_TRANSITION_STATUS,
    STATUS_RULES,
    available_transitions,
    initial_state,
    is_terminal,
)
from phasekit._machine import lifecycle_machine, state_name, transition_trigger
from phasekit._model import PHASE_ORDER, Event, Phase, PhaseState, PhaseStatus
from phasekit._svg import Box, Point, document, edge, node, node_width, start_marker

__all__ = ["lifecycle_mermaid", "phase_chain_svg", "status_machine_svg"]

_S = PhaseStatus

#: Where each status's box sits: the way forward along the top, the detours below.
STATUS_POSITIONS: Final[Mapping[PhaseStatus, Point]] = {
    _S.PENDING: (100, 80),
    _S.RUNNING: (350, 80),
    _S.COMPLETED: (600, 80),
    _S.FAILED: (100, 250),
    _S.PAUSED: (350, 250),
    _S.CANCELLED: (600, 250),
}
#: The bends of the arrows that would otherwise cross another, by (source, destination).
STATUS_ROUTES: Final[Mapping[tuple[PhaseStatus, PhaseStatus], tuple[Point, ...]]] = {
    (_S.PENDING, _S.CANCELLED): ((24, 80), (24, 310), (600, 310)),
}
_STATUS_SIZE: Final = (700, 335)
_PHASE_STEP: Final = 100


def _node(name: str) -> str:
    return name.replace("/", "__")


def lifecycle_mermaid() -> str:
    """Return the lifecycle as a Mermaid ``stateDiagram-v2``, read off the Machine.

    Each phase is a box holding its six statuses; arrows inside a box are status events,
    arrows between boxes are phase transitions, ``[*]`` marks where a campaign may start
    and where it ends.
    """
    machine = lifecycle_machine()
    lines = ["stateDiagram-v2", "    direction LR"]
    for phase in Phase:
        lines.append(f"    state {phase.value} {{")
        for status in PhaseStatus:
            name = state_name(phase, status)
            lines.append(f"        {_node(name)}: {status.value}")
        lines.append("    }")
    for phase in Phase:
        lines.append(f"    [*] --> {_node(str(initial_state(phase)))}")
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                lines.append(f"    {_node(source)} --> {_node(str(transition.dest))}: {trigger}")
    for phase in Phase:
        for status in PhaseStatus:
            if is_terminal(PhaseState(phase, status)):
                lines.append(f"    {_node(state_name(phase, status))} --> [*]")
    return "\n".join(lines) + "\n"


def _status_moves() -> tuple[tuple[PhaseStatus, Event, PhaseStatus], ...]:
    return tuple(
        (source, rule.event, rule.destination) for rule in STATUS_RULES for source in rule.sources
    )


def status_machine_svg() -> str:
    """Return the status events, the same in every phase, as an SVG picture.

    One box per :class:`~phasekit.PhaseStatus` (a ``<g class="status">``, id
    ``status-<status>``), one labelled arrow per source of each row of
    :data:`~phasekit.STATUS_RULES` (a ``<g class="event">`` with ``data-source``,
    ``data-event`` and ``data-target``), a dot marking where a phase starts, and a double
    border on the statuses that are terminal in every phase. No script, no font to load.

    >>> svg = status_machine_svg()
    >>> svg.startswith("<svg"), 'data-event="retry"' in svg, "<script" in svg
    (True, True, False)
    """
    width = max(120.0, *(node_width(status.value) for status in _S))
    boxes = {status: Box(*STATUS_POSITIONS[status], width, 36) for status in _S}
    moves = _status_moves()
    pairs = {(source, destination) for source, _, destination in moves}
    marker = "status-machine-arrow"
    parts = [
        edge(
            boxes[source],
            boxes[destination],
            event.value,
            marker=marker,
            attributes={
                "class": "event",
                "data-source": source.value,
                "data-event": event.value,
                "data-target": destination.value,
            },
            title=f"{source.value} → {destination.value}: {event.value}",
            via=STATUS_ROUTES.get((source, destination), ()),
            offset=7.0 if (destination, source) in pairs else 0.0,
            label_side=1 if (destination, source) in pairs else 0,
        )
        for source, event, destination in moves
    ]
    start = initial_state().status
    parts.append(
        start_marker(
            boxes[start],
            marker=marker,
            attributes={"class": "start", "data-target": start.value},
            title=f"every phase starts {start.value}",
        )
    )
    for status in _S:
        terminal = all(is_terminal(PhaseState(phase, status)) for phase in Phase)
        parts.append(
            node(
                boxes[status],
                status.value,
                attributes={"class": "status", "id": f"status-{status.value}"},
                title=f"{status.value}{' (terminal in every phase)' if terminal else ''}",
                double=terminal,
            )
        )
    return document(
        *_STATUS_SIZE,
        parts,
        name="status-machine",
        title="The status events of a phase",
        description="The same in every phase: each arrow is an event, from a status to "
        "the status it leads to. A double border marks a status that is terminal in every "
        "phase.",
    )


def _phase_targets() -> tuple[tuple[Phase, Phase, str], ...]:
    return tuple(
        (phase, target, transition_trigger(target))
        for phase in Phase
        for target in available_transitions(PhaseState(phase, PHASE_TRANSITION_FROM))
    )


def phase_chain_svg() -> str:
    """Return the phases in pipeline order and the transitions between them, as SVG.

    One box per :class:`~phasekit.Phase` (a ``<g class="phase">``, id ``phase-<phase>``),
    top to bottom, and one arrow per phase transition (a ``<g class="transition">`` with
    ``data-source`` and ``data-target`` naming Machine states and ``data-trigger`` the
    Machine trigger), labelled with :data:`~phasekit.PHASE_TRANSITION_FROM` and
    :data:`~phasekit.PHASE_TRANSITION_STATUS`; an arrow that skips phases runs on the
    right.

    >>> 'data-trigger="transition_to_http_validation"' in phase_chain_svg()
    True
    """
    width = max(node_width(phase.value) for phase in Phase)
    boxes = {
        phase: Box(20 + width / 2, 42 + PHASE_ORDER[phase] * _PHASE_STEP, width, 40)
        for phase in Phase
    }
    label = f"{PHASE_TRANSITION_FROM.value} → {PHASE_TRANSITION_STATUS.value}"
    lane = 20 + width + 130
    parts = []
    for phase, target, trigger in _phase_targets():
        skipped = PHASE_ORDER[target] - PHASE_ORDER[phase] - 1
        source, destination = boxes[phase], boxes[target]
        x = lane + 30 * (skipped - 1)
        via = ((x, source.y), (x, destination.y)) if skipped else ()
        source_state = state_name(phase, PHASE_TRANSITION_FROM)
        target_state = state_name(target, PHASE_TRANSITION_STATUS)
        parts.append(
            edge(
                source,
                destination,
                label,
                marker="phase-chain-arrow",
                attributes={
                    "class": "transition",
                    "data-source": source_state,
                    "data-target": target_state,
                    "data-trigger": trigger,
                },
                title=f"{source_state} → {target_state}: {trigger}",
                via=via,
                label_side=0 if skipped else -1,
            )
        )
    parts += [
        node(
            boxes[phase],
            phase.value,
            attributes={"class": "phase", "id": f"phase-{phase.value}"},
            title=phase.value,
            double=False,
        )
        for phase in Phase
    ]
    return document(
        lane + 30 * (len(Phase) - 2) + 80,
        (len(Phase) - 1) * _PHASE_STEP + 84,
        parts,
        name="phase-chain",
        title="The phase transitions",
        description=f"Once {PHASE_TRANSITION_FROM.value}, a phase may move on to any later "
        f"phase, which starts {PHASE_TRANSITION_STATUS.value} at 0 %.",
    )
