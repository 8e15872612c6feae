"""The throttle's guarantees and the view's order independence, over random streams."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from phasekit import (
    InvalidValue,
    Phase,
    PhaseState,
    PhaseStatus,
    ProgressMessage,
    ProgressThrottle,
    ProgressView,
    is_terminal,
)
from tests import strategies as st

CAMPAIGNS = [uuid.UUID(int=n) for n in range(1, 4)]


@dataclass
class Step:
    """One thing that happens: a message offered at a time, or a timer tick."""

    now_ms: int
    message: ProgressMessage | None


@hs.composite
def streams(draw: hs.DrawFn) -> list[Step]:
    """Random progress streams of a few campaigns, with status and phase changes."""
    steps = []
    now = draw(hs.integers(0, 10_000))
    state = dict.fromkeys(CAMPAIGNS, (Phase.DOMAIN_GENERATION, PhaseStatus.RUNNING, 0.0))
    sequence = dict.fromkeys(CAMPAIGNS, 0)
    for _ in range(draw(hs.integers(1, 60))):
        now += draw(hs.sampled_from([0, 1, 50, 100, 249, 250, 251, 400, 1000]))
        if draw(hs.integers(0, 4)) == 0:
            steps.append(Step(now, None))
            continue
        campaign = draw(hs.sampled_from(CAMPAIGNS))
        phase, status, progress = state[campaign]
        if draw(hs.integers(0, 6)) == 0:
            phase, status = draw(st.phases), draw(st.statuses)
        progress = min(100.0, progress + draw(hs.sampled_from([0.0, 0.1, 0.5, 1.0, 1.5, 7.0])))
        state[campaign] = (phase, status, progress)
        sequence[campaign] += 1
        steps.append(
            Step(
                now,
                ProgressMessage(
                    campaign, phase, status, progress, 0, 0, sequence=sequence[campaign]
                ),
            )
        )
    return steps


@dataclass
class Sent:
    message: ProgressMessage
    at_ms: int


@dataclass
class Observer:
    """Everything the throttle returned, checked as it happens."""

    throttle: ProgressThrottle
    last_sent: dict[uuid.UUID, Sent] = field(default_factory=dict)
    returned: list[ProgressMessage] = field(default_factory=list)

    def record(self, message: ProgressMessage, at_ms: int) -> None:
        self.returned.append(message)
        self.last_sent[message.campaign_id] = Sent(message, at_ms)

    def ordinary_rule_holds(self, message: ProgressMessage, now_ms: int) -> bool:
        last = self.last_sent[message.campaign_id]
        return (
            now_ms - last.at_ms >= self.throttle.min_interval_ms
            and abs(message.progress - last.message.progress) >= self.throttle.min_delta
        )


def terminal(message: ProgressMessage) -> bool:
    return is_terminal(PhaseState(message.phase, message.status))


@given(streams(), hs.sampled_from([0, 100, 250]), hs.sampled_from([0.0, 1.0, 5.0]))
def test_throttle_guarantees(steps: list[Step], interval: int, delta: float) -> None:
    throttle = ProgressThrottle(min_interval_ms=interval, min_delta=delta)
    observer = Observer(throttle)
    last_offered: dict[uuid.UUID, ProgressMessage] = {}
    for step in steps:
        if step.message is None:
            for message in throttle.due(step.now_ms):
                assert observer.ordinary_rule_holds(message, step.now_ms)
                observer.record(message, step.now_ms)
            continue
        message = step.message
        last_offered[message.campaign_id] = message
        previous = observer.last_sent.get(message.campaign_id)
        must_send = (
            previous is None
            or terminal(previous.message)  # forgotten once terminal: first message again
            or (message.phase, message.status) != (previous.message.phase, previous.message.status)
            or terminal(message)
        )
        result = throttle.offer(message, step.now_ms)
        if must_send:
            assert result is message
        else:
            assert (result is message) is observer.ordinary_rule_holds(message, step.now_ms)
            assert result is None or result is message
        if result is not None:
            observer.record(result, step.now_ms)
        assert throttle.held <= len(CAMPAIGNS)
        live = {c for c, sent in observer.last_sent.items() if not terminal(sent.message)}
        assert throttle.tracked == len(live)

    for message in throttle.flush():
        observer.record(message, steps[-1].now_ms)
    assert throttle.held == 0
    assert throttle.flush() == []
    # No message is returned twice ...
    assert len({id(m) for m in observer.returned}) == len(observer.returned)
    # ... and every campaign's client saw its last offered message last.
    for campaign, message in last_offered.items():
        assert observer.last_sent[campaign].message is message


def test_a_held_message_is_replaced_and_sent_when_due() -> None:
    throttle = ProgressThrottle(min_interval_ms=250, min_delta=1.0)

    def report(progress: float, sequence: int) -> ProgressMessage:
        return ProgressMessage(
            CAMPAIGNS[0], "dns_validation", "running", progress, 0, 0, sequence=sequence
        )

    first = report(10.0, 1)
    assert throttle.offer(first, 1000) is first
    assert throttle.offer(report(15.0, 2), 1100) is None  # big change, too soon
    newest = report(16.0, 3)
    assert throttle.offer(newest, 1200) is None  # replaces the held one
    assert throttle.due(1249) == []
    assert throttle.due(1250) == [newest]
    assert throttle.due(5000) == []
    small = report(16.5, 4)
    assert throttle.offer(small, 9000) is None  # enough time, too small a change
    assert throttle.due(20_000) == []
    assert throttle.flush() == [small]


def test_terminal_messages_are_sent_and_the_campaign_forgotten() -> None:
    throttle = ProgressThrottle()
    running = ProgressMessage(CAMPAIGNS[0], "http_validation", "running", 99.5, 0, 0)
    done = ProgressMessage(CAMPAIGNS[0], "http_validation", "completed", 100.0, 0, 0)
    assert throttle.offer(running, 0) is running
    assert throttle.tracked == 1
    assert throttle.offer(done, 1) is done
    assert throttle.tracked == 0
    cancelled = ProgressMessage(CAMPAIGNS[1], "dns_validation", "cancelled", 3.0, 0, 0)
    assert throttle.offer(cancelled, 2) is cancelled
    assert throttle.tracked == 0


def test_forget_returns_the_held_message_and_drops_the_campaign() -> None:
    throttle = ProgressThrottle()
    failed = ProgressMessage(CAMPAIGNS[0], "dns_validation", "failed", 10.0, 0, 0)
    late = ProgressMessage(CAMPAIGNS[0], "dns_validation", "failed", 10.5, 0, 0, sequence=2)
    assert throttle.offer(failed, 0) is failed
    assert throttle.offer(late, 10) is None
    assert throttle.forget(str(CAMPAIGNS[0])) is late
    assert (throttle.tracked, throttle.held) == (0, 0)
    assert throttle.forget(CAMPAIGNS[0]) is None
    assert throttle.offer(late, 20) is late  # a first message again


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"min_interval_ms": -1}, "min_interval_ms"),
        ({"min_interval_ms": 1.5}, "min_interval_ms"),
        ({"min_delta": float("nan")}, "min_delta"),
        ({"min_delta": -0.5}, "min_delta"),
        ({"min_delta": "1"}, "min_delta"),
    ],
)
def test_throttle_settings_are_checked(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        ProgressThrottle(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == name


def test_throttle_checks_its_arguments() -> None:
    throttle = ProgressThrottle()
    message = ProgressMessage(CAMPAIGNS[0], "dns_validation", "running", 1.0, 0, 0)
    for bad_now in (-1, 1.5, None, True):
        with pytest.raises(InvalidValue, match="now_ms"):
            throttle.offer(message, bad_now)  # type: ignore[arg-type]
        with pytest.raises(InvalidValue, match="now_ms"):
            throttle.due(bad_now)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="ProgressMessage"):
        throttle.offer("progress", 0)  # type: ignore[arg-type]


@given(hs.lists(st.progress_messages(hs.sampled_from(CAMPAIGNS)), max_size=30), hs.randoms())
def test_view_is_order_independent_and_never_goes_backwards(
    messages: list[ProgressMessage], random: hs.SearchStrategy[object]
) -> None:
    # One message per (campaign, sequence), plus exact duplicates, as delivery may repeat.
    unique = list({(m.campaign_id, m.sequence): m for m in messages}.values())
    delivered = unique + unique[: len(unique) // 2]
    shuffled = list(delivered)
    random.shuffle(shuffled)  # type: ignore[attr-defined]

    views = []
    for order in (delivered, shuffled, list(reversed(delivered))):
        view = ProgressView()
        for message in order:
            kept = view.get(message.campaign_id)
            changed = view.apply(message)
            now = view.get(message.campaign_id)
            assert now is not None
            assert changed is (kept is None or message.sequence > kept.sequence)
            assert kept is None or now.sequence >= kept.sequence
        views.append({campaign: view.get(campaign) for campaign in view})
    assert views[0] == views[1] == views[2]
    for campaign, kept in views[0].items():
        assert kept is not None
        assert kept.sequence == max(m.sequence for m in unique if m.campaign_id == campaign)


def test_view_lookups() -> None:
    view = ProgressView()
    assert view.get(CAMPAIGNS[0]) is None
    assert len(view) == 0
    message = ProgressMessage(CAMPAIGNS[0], "dns_validation", "running", 1.0, 0, 0)
    assert view.apply(message)
    assert not view.apply(message)
    assert view.get(str(CAMPAIGNS[0])) is message
    assert list(view) == [CAMPAIGNS[0]]
    with pytest.raises(InvalidValue):
        view.get("not-a-uuid")
    with pytest.raises(InvalidValue):
        view.apply(None)  # type: ignore[arg-type]
