"""Benchmark: progress traffic of one 2M-domain campaign, legacy dual broadcast vs phasekit.

One campaign of ``--domains`` domains (2,000,000) runs through all three phases; workers
report every 100 domains at 10,000 domains a second, on a simulated clock. Each phase
starts, runs (the second one pauses for half a minute and resumes) and completes; then
the campaign moves on with a phase transition.

- Legacy: every report goes out twice, as ``campaign_progress`` and ``campaign.progress``
  (the plan's "100% duplication"), and every transition as ``campaign.phase.transition``.
- phasekit: reports go through a ``ProgressThrottle`` (250 ms, 1 %) as compact frames,
  ticked every 250 ms and flushed at the end; transitions as compact frames.

The script checks that the client's ``ProgressView`` saw every status and phase change
and ends on the final state, then prints the bytes of each side.

Run with ``make bench`` or ``python benchmarks/bench_traffic.py``.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator

from _harness import machine_line, print_table

from phasekit import (
    Phase,
    PhaseStatus,
    ProgressMessage,
    ProgressThrottle,
    ProgressView,
    TransitionMessage,
    codec,
)

CAMPAIGN = uuid.UUID("3e7d2a90-5b1c-4f6e-8d2a-7c9b0e1f2a3b")
START_MS = 1_764_331_200_000
REPORT_EVERY = 100
DOMAINS_PER_SECOND = 10_000
TICK_MS = 250


def campaign_events(domains: int) -> Iterator[tuple[int, ProgressMessage | TransitionMessage]]:
    """Yield (time, message) for the whole campaign, on the simulated clock."""
    now = START_MS
    sequence = 0
    step_ms = REPORT_EVERY * 1000 // DOMAINS_PER_SECOND

    def report(phase: Phase, status: PhaseStatus, processed: int) -> ProgressMessage:
        nonlocal sequence
        sequence += 1
        failed = processed // 50
        return ProgressMessage(
            CAMPAIGN,
            phase,
            status,
            100.0 * processed / domains,
            processed,
            domains,
            processed - failed,
            failed,
            sequence,
            now,
        )

    phases = list(Phase)
    for index, phase in enumerate(phases):
        yield now, report(phase, PhaseStatus.PENDING, 0)
        yield now, report(phase, PhaseStatus.RUNNING, 0)
        processed = 0
        while processed < domains:
            processed = min(domains, processed + REPORT_EVERY)
            now += step_ms
            if phase is Phase.DNS_VALIDATION and processed == domains // 2:
                yield now, report(phase, PhaseStatus.PAUSED, processed)
                now += 30_000
                yield now, report(phase, PhaseStatus.RUNNING, processed)
            status = PhaseStatus.COMPLETED if processed == domains else PhaseStatus.RUNNING
            yield now, report(phase, status, processed)
        if index + 1 < len(phases):
            sequence += 1
            yield (
                now,
                TransitionMessage(
                    CAMPAIGN,
                    phase,
                    phases[index + 1],
                    PhaseStatus.PENDING,
                    f"{phase.value} finished",
                    sequence,
                    now,
                ),
            )


def changes(states: list[tuple[Phase, PhaseStatus]]) -> list[tuple[Phase, PhaseStatus]]:
    return [state for i, state in enumerate(states) if i == 0 or state != states[i - 1]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=2_000_000)
    args = parser.parse_args()

    legacy_bytes = legacy_frames = 0
    compact_bytes = compact_frames = 0
    throttle = ProgressThrottle(min_interval_ms=250, min_delta=1.0)
    view = ProgressView()
    produced: list[tuple[Phase, PhaseStatus]] = []
    seen: list[tuple[Phase, PhaseStatus]] = []
    last_offered: ProgressMessage | None = None
    next_tick = START_MS + TICK_MS

    def deliver(frame: bytes) -> None:
        nonlocal compact_bytes, compact_frames
        compact_bytes += len(frame)
        compact_frames += 1
        message = codec.decode(frame)
        if isinstance(message, ProgressMessage) and view.apply(message):
            seen.append((message.phase, message.status))

    for now, message in campaign_events(args.domains):
        while next_tick <= now:
            for due in throttle.due(next_tick):
                deliver(codec.encode(due))
            next_tick += TICK_MS
        if isinstance(message, TransitionMessage):
            legacy_bytes += len(codec.encode_verbose(message))
            legacy_frames += 1
            deliver(codec.encode(message))
            continue
        produced.append((message.phase, message.status))
        last_offered = message
        legacy_bytes += len(codec.encode_verbose(message))
        legacy_bytes += len(
            codec.encode_legacy(message, message_id=uuid.UUID(int=message.sequence))
        )
        legacy_frames += 2
        sent = throttle.offer(message, now)
        if sent is not None:
            deliver(codec.encode(sent))
    for message in throttle.flush():
        deliver(codec.encode(message))

    assert changes(seen) == changes(produced), "a status or phase change was not delivered"
    assert view.get(CAMPAIGN) == last_offered, "the client does not end on the final state"
    reduction = 1 - compact_bytes / legacy_bytes
    print(f"## Traffic benchmark ({machine_line()})")
    print_table(
        f"One campaign of {args.domains:,} domains through three phases "
        f"({len(produced):,} progress reports)",
        ["side", "frames", "bytes", "bytes / report"],
        [
            (
                "legacy dual broadcast",
                f"{legacy_frames:,}",
                f"{legacy_bytes:,}",
                f"{legacy_bytes / len(produced):,.1f}",
            ),
            (
                "phasekit throttled compact",
                f"{compact_frames:,}",
                f"{compact_bytes:,}",
                f"{compact_bytes / len(produced):,.2f}",
            ),
        ],
    )
    print(
        f"\nEvery status and phase change delivered ({len(changes(produced))} states), final "
        f"state delivered. Target: >= 99% fewer bytes: {reduction:.3%} "
        f"({'met' if reduction >= 0.99 else 'NOT met'})."
    )


if __name__ == "__main__":
    main()
