"""Benchmark: phasekit's lifecycle against pytransitions and python-statemachine.

All three run the same rules: 18 states (3 phases x 6 statuses) and the same status
events. The event loop is the retry cycle start, pause, resume, fail, retry, which
returns to where it began, so any number of events can be applied.

Measured in one run, side by side:
- the time per event: phasekit ``apply_event`` against a pytransitions trigger (one
  Machine per model, and one shared Machine with ``add_model``) and a python-statemachine
  event;
- creation time and memory per campaign (tracemalloc), over 100,000 phasekit campaigns
  and ``--peer-campaigns`` peer campaigns (pytransitions needs tens of KB per model).

Run with ``make bench`` or ``python benchmarks/bench_lifecycle.py``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import tracemalloc
from collections.abc import Callable

from _harness import best_seconds, machine_line, print_table
from statemachine import State, StateMachine
from transitions import Machine

import phasekit
from phasekit import Event, Phase, PhaseState, PhaseStatus

CYCLE = (Event.START, Event.PAUSE, Event.RESUME, Event.FAIL, Event.RETRY)
STATES = [phasekit.state_name(p, s) for p in Phase for s in PhaseStatus]


def _transitions_table() -> list[dict[str, str]]:
    return [
        {"trigger": trigger, "source": source, "dest": destination}
        for trigger, source, destination in phasekit.lifecycle_edges()
    ]


class _Campaign:
    state: str


def pytransitions_per_model() -> _Campaign:
    campaign = _Campaign()
    Machine(
        model=campaign,
        states=STATES,
        transitions=_transitions_table(),
        initial=STATES[0],
        auto_transitions=False,
    )
    return campaign


def _shared_machine() -> Machine:
    return Machine(
        model=None,
        states=STATES,
        transitions=_transitions_table(),
        initial=None,
        auto_transitions=False,
    )


def _statechart_class() -> type[StateMachine]:
    namespace: dict[str, object] = {}
    nodes = {}
    for phase in Phase:
        for status in PhaseStatus:
            name = phasekit.state_name(phase, status)
            nodes[name] = namespace[f"{phase.value}__{status.value}"] = State(
                name=name,
                initial=(phase, status) == (Phase.DOMAIN_GENERATION, PhaseStatus.PENDING),
                final=phasekit.is_terminal(PhaseState(phase, status)),
            )
    by_trigger: dict[str, object] = {}
    for trigger, source, destination in phasekit.lifecycle_edges():
        edge = nodes[source].to(nodes[destination])
        previous = by_trigger.get(trigger)
        by_trigger[trigger] = edge if previous is None else previous | edge  # type: ignore[operator]
    namespace.update(by_trigger)
    return type("CampaignLifecycle", (StateMachine,), namespace)


def time_events(n: int) -> list[tuple[str, float]]:
    events = list(itertools.islice(itertools.cycle(CYCLE), n))

    def phasekit_run() -> None:
        state = phasekit.initial_state()
        apply = phasekit.apply_event
        for event in events:
            state = apply(state, event)

    campaign = pytransitions_per_model()
    per_model = [getattr(campaign, event.value) for event in events]

    shared = _shared_machine()
    shared_campaign = _Campaign()
    shared.add_model(shared_campaign, initial=STATES[0])
    shared_calls = [getattr(shared_campaign, event.value) for event in events]

    chart = _statechart_class()()
    chart_calls = [getattr(chart, event.value) for event in events]

    def call_all(calls: list[Callable[[], object]]) -> Callable[[], None]:
        def run() -> None:
            for call in calls:
                call()

        return run

    results = [
        ("phasekit apply_event", best_seconds(phasekit_run)),
        ("pytransitions, Machine per model", best_seconds(call_all(per_model))),
        ("pytransitions, shared Machine + add_model", best_seconds(call_all(shared_calls))),
        ("python-statemachine", best_seconds(call_all(chart_calls))),
    ]
    assert shared_campaign.state == campaign.state == phasekit.state_name(
        Phase.DOMAIN_GENERATION, PhaseStatus.PENDING
    ) or n % len(CYCLE)
    return [(name, seconds / n) for name, seconds in results]


def measure_creation(make: Callable[[int], object], count: int) -> tuple[float, float]:
    """Return (seconds per campaign, bytes per campaign) for ``count`` campaigns."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [make(i) for i in range(count)]
    size = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    seconds = best_seconds(lambda: [make(i) for i in range(count)], repeat=3)
    return seconds / count, size / count


def main() -> None:
    logging.getLogger("transitions").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--campaigns", type=int, default=100_000)
    parser.add_argument("--peer-campaigns", type=int, default=3_000)
    args = parser.parse_args()

    print(f"## Lifecycle benchmark ({machine_line()})")
    timings = time_events(args.events)
    base = timings[0][1]
    print_table(
        f"Time per event ({args.events:,} events, best of 3)",
        ["implementation", "ns / event", "x slower than phasekit"],
        [(name, f"{per * 1e9:,.0f}", f"{per / base:.1f}x") for name, per in timings],
    )

    phases = list(Phase)
    shared = _shared_machine()
    chart_class = _statechart_class()

    def make_phasekit(i: int) -> object:
        # Each campaign owns its progress float, as it would in a real worker.
        return PhaseState(phases[i % 3], PhaseStatus.RUNNING, (i % 10_000) / 100.0)

    def make_shared(i: int) -> object:
        campaign = _Campaign()
        shared.add_model(campaign, initial=STATES[0])
        return campaign

    creation = [
        ("phasekit PhaseState", *measure_creation(make_phasekit, args.campaigns), args.campaigns),
        (
            "pytransitions, Machine per model",
            *measure_creation(lambda i: pytransitions_per_model(), args.peer_campaigns),
            args.peer_campaigns,
        ),
        (
            "pytransitions, shared Machine + add_model",
            *measure_creation(make_shared, args.peer_campaigns),
            args.peer_campaigns,
        ),
        (
            "python-statemachine",
            *measure_creation(lambda i: chart_class(), args.peer_campaigns),
            args.peer_campaigns,
        ),
    ]
    base_time, base_bytes = creation[0][1], creation[0][2]
    print_table(
        "Creation time and memory per campaign (tracemalloc)",
        ["implementation", "campaigns", "us / campaign", "bytes / campaign", "x phasekit bytes"],
        [
            (
                name,
                f"{count:,}",
                f"{seconds * 1e6:,.2f}",
                f"{size:,.0f}",
                f"{size / base_bytes:,.0f}x",
            )
            for name, seconds, size, count in creation
        ],
    )
    speedup = timings[1][1] / base
    print(
        f"\nTargets: apply_event >= 10x faster than a pytransitions trigger: {speedup:.1f}x "
        f"({'met' if speedup >= 10 else 'NOT met'}); <= 96 bytes per PhaseState: "
        f"{base_bytes:.0f} ({'met' if base_bytes <= 96 else 'NOT met'}); "
        f"creation {base_time * 1e6:.2f} us."
    )


if __name__ == "__main__":
    main()
