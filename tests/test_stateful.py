"""Random sequences of events, transitions and progress reports keep every invariant."""

from __future__ import annotations

from hypothesis import strategies as hs
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from phasekit import (
    Event,
    InvalidProgress,
    InvalidTransition,
    Phase,
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


class CampaignLife(RuleBasedStateMachine):
    """One campaign's life driven at random, with a shadow copy of what must hold."""

    def __init__(self) -> None:
        super().__init__()
        self.state = initial_state()
        self.previous: PhaseState | None = None

    @rule(phase=st.phases)
    def restart_at(self, phase: Phase) -> None:
        self.previous, self.state = None, initial_state(phase)

    @rule(event=st.events)
    def event(self, event: Event) -> None:
        before = self.state
        try:
            self.state = apply_event(before, event)
        except InvalidTransition:
            assert event not in available_events(before)
            assert self.state is before
            return
        self.previous = before
        if event is Event.COMPLETE:
            assert self.state.progress == 100.0
        elif event is Event.RETRY:
            assert self.state.progress == 0.0
        else:
            assert self.state.progress == before.progress

    @rule(phase=st.phases, reason=st.reasons)
    def transition(self, phase: Phase, reason: str) -> None:
        target = phase
        before = self.state
        try:
            change = transition_to(before, target, reason)
        except InvalidTransition:
            assert target not in available_transitions(before)
            return
        assert before.status is PhaseStatus.COMPLETED
        assert list(Phase).index(target) > list(Phase).index(before.phase)
        self.previous, self.state = before, change.current

    @precondition(lambda self: self.state.status is PhaseStatus.RUNNING)
    @rule(step=hs.floats(min_value=-5.0, max_value=30.0))
    def report_progress(self, step: float) -> None:
        before = self.state
        target = min(100.0, before.progress + step)
        try:
            self.state = with_progress(before, target)
        except InvalidProgress:
            assert target < before.progress
            return
        assert self.state.progress == target >= before.progress

    @invariant()
    def state_is_valid(self) -> None:
        state = self.state
        assert PhaseState(state.phase, state.status, state.progress) == state
        if state.status is PhaseStatus.COMPLETED and self.previous is not None:
            assert state.progress == 100.0
        if state.status is PhaseStatus.PENDING:
            assert state.progress == 0.0

    @invariant()
    def terminal_states_have_no_moves(self) -> None:
        if is_terminal(self.state):
            assert available_events(self.state) == frozenset()
            assert available_transitions(self.state) == ()
        else:
            assert available_events(self.state) or available_transitions(self.state)


TestCampaignLife = CampaignLife.TestCase
