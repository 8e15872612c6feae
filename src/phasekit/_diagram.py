"""The lifecycle as a Mermaid ``stateDiagram-v2``, read off the ``transitions`` Machine.

Every phase, status, event and phase transition of :mod:`phasekit._machine`'s Machine,
drawn as text for Mermaid (``phasekit diagram``, the docs).
"""

from __future__ import annotations

from phasekit._lifecycle import initial_state, is_terminal
from phasekit._machine import lifecycle_machine, state_name
from phasekit._model import Phase, PhaseState, PhaseStatus

__all__ = ["lifecycle_mermaid"]


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
