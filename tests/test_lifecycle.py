"""The lifecycle functions, checked against the rules as the issue states them."""

from __future__ import annotations

import contextlib
import itertools
from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from phasekit import (
    Event,
    InvalidProgress,
    InvalidTransition,
    InvalidValue,
    Phase,
    PhasekitError,
    PhaseState,
    PhaseStatus,
    apply_event,
    available_events,
    available_transitions,
    initial_state,
    is_terminal,
    transition_to,
    with_progress,
)
from tests import strategies as st

S = PhaseStatus
E = Event

# The rules written out independently of phasekit's table, as the specification gives them.
EXPECTED = {
    (S.PENDING, E.START): S.RUNNING,
    (S.RUNNING, E.PAUSE): S.PAUSED,
    (S.PAUSED, E.RESUME): S.RUNNING,
    (S.RUNNING, E.COMPLETE): S.COMPLETED,
    (S.RUNNING, E.FAIL): S.FAILED,
    (S.PAUSED, E.FAIL): S.FAILED,
    (S.PENDING, E.CANCEL): S.CANCELLED,
    (S.RUNNING, E.CANCEL): S.CANCELLED,
    (S.PAUSED, E.CANCEL): S.CANCELLED,
    (S.FAILED, E.RETRY): S.PENDING,
}

ALL_PAIRS = list(itertools.product(Phase, PhaseStatus))


@given(st.phase_states, st.events)
def test_event_is_available_iff_apply_event_succeeds(state: PhaseState, event: Event) -> None:
    try:
        after = apply_event(state, event)
    except InvalidTransition as error:
        assert event not in available_events(state)
        assert error.state == state
        assert error.event is event
    else:
        assert event in available_events(state)
        assert after.phase is state.phase


@pytest.mark.parametrize(("phase", "status", "event"), list(itertools.product(Phase, S, E)))
def test_apply_event_follows_the_specified_table(phase: Phase, status: S, event: E) -> None:
    state = PhaseState(phase, status, 37.5)
    expected = EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(InvalidTransition):
            apply_event(state, event)
        return
    after = apply_event(state, event.value)
    assert (after.phase, after.status) == (phase, expected)
    if event is E.COMPLETE:
        assert after.progress == 100.0
    elif event is E.RETRY:
        assert after.progress == 0.0
    else:
        assert after.progress == 37.5


def test_invalid_event_message_names_event_state_and_allowed() -> None:
    with pytest.raises(InvalidTransition) as caught:
        apply_event(PhaseState("dns_validation", "pending"), "pause")
    assert (
        str(caught.value)
        == "cannot apply 'pause' to dns_validation/pending; allowed: cancel, start"
    )
    with pytest.raises(InvalidTransition, match="allowed: none"):
        apply_event(PhaseState("dns_validation", "cancelled"), "start")


@given(st.phase_states, st.not_enum_values)
def test_unknown_event_raises_phasekit_error_only(state: PhaseState, event: object) -> None:
    with pytest.raises(InvalidTransition) as caught:
        apply_event(state, event)  # type: ignore[arg-type]
    assert "not an event" in str(caught.value)
    assert caught.value.event is event


@given(st.not_enum_values.filter(lambda value: not isinstance(value, PhaseState)), st.events)
def test_non_state_raises_invalid_value(state: object, event: Event) -> None:
    for call in (
        lambda: apply_event(state, event),  # type: ignore[arg-type]
        lambda: available_events(state),  # type: ignore[arg-type]
        lambda: available_transitions(state),  # type: ignore[arg-type]
        lambda: is_terminal(state),  # type: ignore[arg-type]
        lambda: transition_to(state, "dns_validation", "r"),  # type: ignore[arg-type]
        lambda: with_progress(state, 1.0),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidValue, match="state must be a PhaseState"):
            call()


@given(st.phase_states, st.phases, st.reasons)
def test_available_transitions_agree_with_transition_to(
    state: PhaseState, target: Phase, reason: str
) -> None:
    allowed = available_transitions(state)
    try:
        change = transition_to(state, target, reason)
    except InvalidTransition as error:
        assert target not in allowed
        assert error.target is target
        assert error.state == state
    else:
        assert target in allowed
        assert change.previous == state
        assert change.current == PhaseState(target, "pending", 0.0)
        assert change.reason == reason.strip()


@pytest.mark.parametrize(("phase", "status"), ALL_PAIRS)
def test_transitions_only_from_completed_to_later_phases(phase: Phase, status: S) -> None:
    later = tuple(p for p in Phase if list(Phase).index(p) > list(Phase).index(phase))
    expected = later if status is S.COMPLETED else ()
    assert available_transitions(PhaseState(phase, status)) == expected


def test_transition_may_skip_a_phase() -> None:
    done = PhaseState("domain_generation", "completed", 100.0)
    change = transition_to(done, Phase.HTTP_VALIDATION, "HTTP campaigns take generated domains")
    assert change.current.phase is Phase.HTTP_VALIDATION


def test_transition_error_messages() -> None:
    running = PhaseState("dns_validation", "running", 5.0)
    with pytest.raises(InvalidTransition, match="only a completed phase can move on"):
        transition_to(running, "http_validation", "go")
    done = PhaseState("dns_validation", "completed", 100.0)
    with pytest.raises(InvalidTransition, match=r"to domain_generation; allowed: http_validation"):
        transition_to(done, "domain_generation", "back")
    with pytest.raises(InvalidTransition, match="last phase"):
        transition_to(PhaseState("http_validation", "completed", 100.0), "http_validation", "x")
    with pytest.raises(InvalidTransition, match="not a phase"):
        transition_to(done, "ftp_validation", "x")


@pytest.mark.parametrize("reason", ["", "   \n\t", "x" * 501, None, 5, b"why"])
def test_transition_reason_rules(reason: object) -> None:
    done = PhaseState("domain_generation", "completed", 100.0)
    with pytest.raises(InvalidValue) as caught:
        transition_to(done, "dns_validation", reason)  # type: ignore[arg-type]
    assert caught.value.field == "reason"


def test_reason_limit_counts_after_stripping() -> None:
    done = PhaseState("domain_generation", "completed", 100.0)
    change = transition_to(done, "dns_validation", "  " + "y" * 500 + "\n")
    assert change.reason == "y" * 500


@given(st.phase_states, st.progresses)
def test_with_progress_only_while_running_and_never_down(
    state: PhaseState, progress: float
) -> None:
    if state.status is not S.RUNNING:
        with pytest.raises(InvalidProgress, match="only change while running"):
            with_progress(state, progress)
    elif progress < state.progress:
        with pytest.raises(InvalidProgress, match="must not go down"):
            with_progress(state, progress)
    else:
        after = with_progress(state, progress)
        assert after == PhaseState(state.phase, state.status, progress)


@given(st.phase_states.filter(lambda s: s.status is S.RUNNING), st.bad_progresses)
def test_with_progress_rejects_bad_values(state: PhaseState, progress: object) -> None:
    with pytest.raises(InvalidProgress):
        with_progress(state, progress)  # type: ignore[arg-type]


def test_terminal_states_are_exactly_the_specified_ones() -> None:
    terminal = {(p, s) for p, s in ALL_PAIRS if is_terminal(PhaseState(p, s))}
    expected = {(p, S.CANCELLED) for p in Phase} | {(Phase.HTTP_VALIDATION, S.COMPLETED)}
    assert terminal == expected


@given(st.phase_states)
def test_no_dead_end_except_terminal_states(state: PhaseState) -> None:
    has_move = bool(available_events(state) or available_transitions(state))
    assert has_move is not is_terminal(state)


def _reachable() -> set[tuple[Phase, S]]:
    seen: set[tuple[Phase, S]] = set()
    queue = deque(initial_state(phase) for phase in Phase)
    while queue:
        state = queue.popleft()
        key = (state.phase, state.status)
        if key in seen:
            continue
        seen.add(key)
        queue.extend(apply_event(state, event) for event in available_events(state))
        queue.extend(
            transition_to(state, target, "next").current for target in available_transitions(state)
        )
    return seen


def test_every_state_is_reachable_from_some_initial_state() -> None:
    assert _reachable() == set(ALL_PAIRS)


def test_initial_state_of_each_phase() -> None:
    for phase in Phase:
        assert initial_state(phase) == PhaseState(phase, S.PENDING, 0.0)
        assert initial_state(phase.value) == initial_state(phase)
    assert initial_state() == PhaseState(Phase.DOMAIN_GENERATION, S.PENDING, 0.0)
    with pytest.raises(InvalidValue):
        initial_state("completed")


@given(st.phase_states, st.events, st.phases, hs.floats(0, 100))
def test_inputs_are_never_mutated(
    state: PhaseState, event: Event, target: Phase, progress: float
) -> None:
    snapshot = (state.phase, state.status, state.progress)
    for call in (
        lambda: apply_event(state, event),
        lambda: transition_to(state, target, "r"),
        lambda: with_progress(state, progress),
        lambda: available_events(state),
        lambda: available_transitions(state),
        lambda: is_terminal(state),
    ):
        with contextlib.suppress(PhasekitError):
            call()
        assert (state.phase, state.status, state.progress) == snapshot
