"""The transitions Machine and the Mermaid diagram agree with the pure functions."""

from __future__ import annotations

import contextlib
import itertools

from hypothesis import given

from phasekit import (
    Event,
    InvalidTransition,
    Phase,
    PhaseState,
    PhaseStatus,
    apply_event,
    available_transitions,
    is_terminal,
    lifecycle_machine,
    lifecycle_mermaid,
    state_name,
    transition_to,
    transition_trigger,
)
from tests import strategies as st


def _machine_destination(source: str, trigger: str) -> str | None:
    found = lifecycle_machine().get_transitions(trigger=trigger, source=source)
    assert len(found) <= 1
    return str(found[0].dest) if found else None


@given(st.phase_states, st.events)
def test_machine_and_apply_event_agree(state: PhaseState, event: Event) -> None:
    destination = _machine_destination(str(state), event.value)
    try:
        after = apply_event(state, event)
    except InvalidTransition:
        assert destination is None
    else:
        assert destination == str(after)


@given(st.phase_states, st.phases)
def test_machine_and_transition_to_agree(state: PhaseState, target: Phase) -> None:
    destination = _machine_destination(str(state), transition_trigger(target))
    try:
        change = transition_to(state, target, "because")
    except InvalidTransition:
        assert destination is None
    else:
        assert destination == str(change.current)


def test_machine_is_built_once_with_no_model_and_no_auto_transitions() -> None:
    machine = lifecycle_machine()
    assert lifecycle_machine() is machine
    assert machine.models == []
    assert not machine.auto_transitions
    assert set(machine.states) == {state_name(p, s) for p in Phase for s in PhaseStatus}
    expected = {e.value for e in Event} | {transition_trigger(p) for p in list(Phase)[1:]}
    assert set(machine.events) == expected


def test_a_user_model_can_drive_the_machine() -> None:
    class Campaign:
        state: str

    campaign = Campaign()
    machine = lifecycle_machine()
    machine.add_model(campaign, initial=state_name(Phase.DNS_VALIDATION, PhaseStatus.PENDING))
    try:
        machine.events["start"].trigger(campaign)
        assert campaign.state == "dns_validation/running"
    finally:
        machine.remove_model(campaign)
    assert machine.models == []


def _edges_from_functions() -> set[tuple[str, str, str]]:
    edges = set()
    for phase, status in itertools.product(Phase, PhaseStatus):
        state = PhaseState(phase, status)
        for event in Event:
            with contextlib.suppress(InvalidTransition):
                edges.add((str(state), str(apply_event(state, event)), event.value))
        for target in available_transitions(state):
            edges.add(
                (
                    str(state),
                    str(transition_to(state, target, "r").current),
                    transition_trigger(target),
                )
            )
    return edges


def test_mermaid_shows_every_state_event_and_transition() -> None:
    text = lifecycle_mermaid()
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "stateDiagram-v2"
    arrows = set()
    for line in lines:
        if "-->" in line and ": " in line:
            left, right = line.split(" --> ")
            destination, label = right.split(": ")
            arrows.add((left.replace("__", "/"), destination.replace("__", "/"), label))
    assert arrows == _edges_from_functions()
    for phase in Phase:
        assert f"state {phase.value} {{" in lines
        assert f"[*] --> {phase.value}__pending" in lines
        for status in PhaseStatus:
            node = f"{phase.value}__{status.value}"
            assert f"{node}: {status.value}" in lines
            assert (f"{node} --> [*]" in lines) is is_terminal(PhaseState(phase, status))
    assert text == lifecycle_mermaid()
