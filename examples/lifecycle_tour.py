"""A tour of the phase lifecycle: one campaign per initial phase, through its whole life.

Each campaign starts, pauses, resumes, reports progress, fails and is retried,
completes and moves on to the next phase with a reason, until the last phase completes;
a second campaign at the same phase is cancelled. Every state is printed with the events
and phase transitions that are available from it.

Run it with ``make demo`` or ``python examples/lifecycle_tour.py``.
"""

from __future__ import annotations

import phasekit
from phasekit import Event, Phase, PhaseState

NOTE = 29  # the widest note, "transition to http_validation"
STATE = 27  # the widest state, "domain_generation/completed"
HEADING = f"  {'step':<{NOTE}} {'state':<{STATE}} progress  events available"


def describe(state: PhaseState, note: str) -> str:
    """One line per state (two when phase transitions are available), under 100 columns."""
    events = ", ".join(sorted(event.value for event in phasekit.available_events(state)))
    targets = ", ".join(phase.value for phase in phasekit.available_transitions(state))
    terminal = "  [terminal]" if phasekit.is_terminal(state) else ""
    line = f"  {note:<{NOTE}} {state!s:<{STATE}} {state.progress:7.1f}%  {events or '-'}{terminal}"
    return line + (f"\n    phase transitions available: {targets}" if targets else "")


# One phase's life: (what happens, the event to apply or the progress to report).
PHASE_SCRIPT: list[tuple[str, Event | float]] = [
    ("start", Event.START),
    ("progress 25%", 25.0),
    ("pause", Event.PAUSE),
    ("resume", Event.RESUME),
    ("progress 60%", 60.0),
    ("fail (worker crashed)", Event.FAIL),
    ("retry", Event.RETRY),
    ("start again", Event.START),
    ("progress 90%", 90.0),
    ("complete", Event.COMPLETE),
]


def run_phase(state: PhaseState, show: list[str]) -> PhaseState:
    """Run one phase to completion, with a pause, a failure and a retry on the way."""
    for note, step in PHASE_SCRIPT:
        if isinstance(step, Event):
            state = phasekit.apply_event(state, step)
        else:
            state = phasekit.with_progress(state, step)
        show.append(describe(state, note))
    return state


def tour(initial_phase: Phase) -> list[str]:
    show = [f"Campaign starting at {initial_phase.value}:", HEADING]
    state = phasekit.initial_state(initial_phase)
    show.append(describe(state, "created"))
    while True:
        state = run_phase(state, show)
        targets = phasekit.available_transitions(state)
        if not targets:
            break
        change = phasekit.transition_to(state, targets[0], f"{state.phase.value} finished")
        state = change.current
        show.append(describe(state, f"transition to {state.phase.value}"))
        show.append(f"    reason: {change.reason!r}")
    try:
        phasekit.apply_event(state, Event.START)
    except phasekit.InvalidTransition as error:
        show.append(f"  refused as expected: {error}")
    return show + cancelled_tour(initial_phase)


def cancelled_tour(initial_phase: Phase) -> list[str]:
    show = [f"A second campaign at {initial_phase.value}, cancelled while paused:", HEADING]
    state = phasekit.apply_event(phasekit.initial_state(initial_phase), "start")
    show.append(describe(state, "start"))
    state = phasekit.apply_event(state, "pause")
    show.append(describe(state, "pause"))
    state = phasekit.apply_event(state, "cancel")
    show.append(describe(state, "cancel"))
    return show


def main() -> None:
    print("\n\n".join("\n".join(tour(phase)) for phase in Phase))


if __name__ == "__main__":
    main()
