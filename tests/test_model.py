"""The records and enums of the phase model."""

from __future__ import annotations

import math
import pickle

import attrs
import pytest
from hypothesis import given

from phasekit import (
    Event,
    InvalidProgress,
    InvalidValue,
    Phase,
    PhasekitError,
    PhaseState,
    PhaseStatus,
    PhaseTransition,
)
from tests import strategies as st


def test_enum_values_are_the_lower_case_names() -> None:
    for kind in (Phase, PhaseStatus, Event):
        for member in kind:
            assert member.value == member.name.lower()


def test_phases_are_declared_in_pipeline_order() -> None:
    assert list(Phase) == [Phase.DOMAIN_GENERATION, Phase.DNS_VALIDATION, Phase.HTTP_VALIDATION]


def test_statuses_and_events_are_the_documented_ones() -> None:
    assert [s.value for s in PhaseStatus] == [
        "pending",
        "running",
        "paused",
        "completed",
        "failed",
        "cancelled",
    ]
    assert [e.value for e in Event] == [
        "start",
        "pause",
        "resume",
        "complete",
        "fail",
        "cancel",
        "retry",
    ]


@given(st.phases, st.statuses, st.progresses)
def test_state_accepts_members_and_values_and_stores_members(
    phase: Phase, status: PhaseStatus, progress: float
) -> None:
    from_members = PhaseState(phase, status, progress)
    from_values = PhaseState(phase.value, status.value, progress)
    assert from_members == from_values
    assert type(from_values.phase) is Phase
    assert type(from_values.status) is PhaseStatus
    assert type(from_values.progress) is float
    assert from_values.progress == progress


def test_progress_defaults_to_zero_and_int_becomes_float() -> None:
    assert PhaseState("dns_validation", "pending").progress == 0.0
    state = PhaseState("dns_validation", "running", 42)
    assert state.progress == 42.0
    assert type(state.progress) is float


def test_no_cross_field_rule() -> None:
    state = PhaseState("dns_validation", "completed", 42.0)
    assert (state.phase, state.status, state.progress) == (
        Phase.DNS_VALIDATION,
        PhaseStatus.COMPLETED,
        42.0,
    )


@given(st.not_enum_values)
def test_bad_phase_or_status_raises_naming_the_value(value: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        PhaseState(value, "pending")  # type: ignore[arg-type]
    assert caught.value.field == "phase"
    assert caught.value.value is value
    assert "domain_generation" in str(caught.value)
    with pytest.raises(InvalidValue) as caught:
        PhaseState("dns_validation", value)  # type: ignore[arg-type]
    assert caught.value.field == "status"
    assert "cancelled" in str(caught.value)


def test_member_of_another_enum_is_rejected() -> None:
    with pytest.raises(InvalidValue):
        PhaseState(PhaseStatus.PENDING, PhaseStatus.PENDING)
    with pytest.raises(InvalidValue):
        PhaseState(Phase.DNS_VALIDATION, Event.START)


@given(st.bad_progresses)
def test_bad_progress_raises_invalid_progress(value: object) -> None:
    with pytest.raises(InvalidProgress) as caught:
        PhaseState("dns_validation", "running", value)  # type: ignore[arg-type]
    assert caught.value.value is value
    assert isinstance(caught.value, ValueError)
    assert "0..100" in str(caught.value)


def test_progress_messages_say_why() -> None:
    with pytest.raises(InvalidProgress, match="NaN"):
        PhaseState("dns_validation", "running", math.nan)
    with pytest.raises(InvalidProgress, match=r"outside 0\.\.100"):
        PhaseState("dns_validation", "running", 100.5)


def test_error_messages_cut_huge_values() -> None:
    with pytest.raises(InvalidValue) as caught:
        PhaseState("x" * 10_000, "pending")
    assert len(str(caught.value)) < 300


@given(st.phase_states)
def test_state_is_frozen_hashable_and_picklable(state: PhaseState) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        state.progress = 1.0  # type: ignore[misc]
    assert hash(state) == hash(PhaseState(state.phase, state.status, state.progress))
    assert pickle.loads(pickle.dumps(state)) == state
    assert not hasattr(state, "__dict__")


def test_state_repr_and_str() -> None:
    state = PhaseState("http_validation", "paused", 7.5)
    assert repr(state) == (
        "PhaseState(phase=Phase.HTTP_VALIDATION, status=PhaseStatus.PAUSED, progress=7.5)"
    )
    assert str(state) == "http_validation/paused"


def test_transition_record_validates_its_fields() -> None:
    before = PhaseState("domain_generation", "completed", 100.0)
    after = PhaseState("dns_validation", "pending")
    record = PhaseTransition(before, after, "  next  ")
    assert record.reason == "next"
    with pytest.raises(InvalidValue, match="previous must be a PhaseState"):
        PhaseTransition("domain_generation", after, "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="current must be a PhaseState"):
        PhaseTransition(before, None, "x")  # type: ignore[arg-type]
    for bad_reason in ("", "   ", "x" * 501, None, b"bytes"):
        with pytest.raises(PhasekitError):
            PhaseTransition(before, after, bad_reason)  # type: ignore[arg-type]
    assert PhaseTransition(before, after, " " + "x" * 500 + " ").reason == "x" * 500
