"""A simulated worker reporting a 2M-domain campaign's progress, and a client following it.

One campaign of ``--domains`` domains runs through all three phases. The worker reports
every 100 domains at 10,000 domains a second, on a simulated clock (nothing sleeps).
Each phase starts, runs and completes (the DNS phase pauses for half a minute on the
way), then the campaign moves on with a phase transition.

The server side offers every report to a ``ProgressThrottle`` and sends what it lets
through as compact frames, ticking it every 250 ms; a client decodes the frames into a
``ProgressView``. At the end the traffic is compared with the legacy dual broadcast,
which sent every report twice (``campaign_progress`` and ``campaign.progress``), and the
script checks that the client saw every status and phase change and the final state.

Run it with ``make demo`` or ``python examples/progress_worker.py``.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

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
PAUSE_MS = 30_000


def worker(domains: int) -> Iterator[tuple[int, ProgressMessage | TransitionMessage]]:
    """Yield ``(now_ms, message)`` for the whole campaign, on the simulated clock."""
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
                now += PAUSE_MS
                yield now, report(phase, PhaseStatus.RUNNING, processed)
            done = processed == domains
            yield (
                now,
                report(phase, PhaseStatus.COMPLETED if done else PhaseStatus.RUNNING, processed),
            )
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


@dataclass
class Traffic:
    """What went over the wire, on each side, and what the client saw."""

    reports: int = 0
    legacy_frames: int = 0
    legacy_bytes: int = 0
    compact_frames: int = 0
    compact_bytes: int = 0
    produced: list[tuple[Phase, PhaseStatus]] = field(default_factory=list)
    seen: list[tuple[Phase, PhaseStatus]] = field(default_factory=list)
    transitions_seen: list[TransitionMessage] = field(default_factory=list)
    last_offered: ProgressMessage | None = None
    view: ProgressView = field(default_factory=ProgressView)

    @property
    def reduction(self) -> float:
        return 1 - self.compact_bytes / self.legacy_bytes


def changes(states: list[tuple[Phase, PhaseStatus]]) -> list[tuple[Phase, PhaseStatus]]:
    """The states, without consecutive repeats: the changes a client must see."""
    return [state for i, state in enumerate(states) if i == 0 or state != states[i - 1]]


def simulate(domains: int, throttle: ProgressThrottle | None = None) -> Traffic:
    """Run the campaign through the throttle to a client; count both sides' bytes."""
    throttle = throttle or ProgressThrottle(min_interval_ms=TICK_MS, min_delta=1.0)
    traffic = Traffic()
    next_tick = START_MS + TICK_MS

    def send(message: ProgressMessage | TransitionMessage) -> None:
        frame = codec.encode(message)  # server side
        traffic.compact_frames += 1
        traffic.compact_bytes += len(frame)
        received = codec.decode(frame)  # client side
        if isinstance(received, TransitionMessage):
            traffic.transitions_seen.append(received)
        elif isinstance(received, ProgressMessage) and traffic.view.apply(received):
            traffic.seen.append((received.phase, received.status))

    for now, message in worker(domains):
        while next_tick <= now:
            for due in throttle.due(next_tick):
                send(due)
            next_tick += TICK_MS
        traffic.legacy_bytes += len(codec.encode_verbose(message))
        traffic.legacy_frames += 1
        if isinstance(message, TransitionMessage):
            send(message)
            continue
        traffic.reports += 1
        traffic.produced.append((message.phase, message.status))
        traffic.last_offered = message
        legacy = codec.encode_legacy(message, message_id=uuid.UUID(int=message.sequence))
        traffic.legacy_bytes += len(legacy)
        traffic.legacy_frames += 1
        sent = throttle.offer(message, now)
        if sent is not None:
            send(sent)
    for message in throttle.flush():
        send(message)
    return traffic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--domains",
        type=int,
        default=2_000_000,
        help=f"domains in the campaign: a positive multiple of {2 * REPORT_EVERY}, so that the "
        f"DNS phase's half-way pause falls on a report (one every {REPORT_EVERY} domains) "
        "(default: 2,000,000)",
    )
    args = parser.parse_args(argv)
    if args.domains < 2 * REPORT_EVERY or args.domains % (2 * REPORT_EVERY):
        parser.error(f"--domains must be a positive multiple of {2 * REPORT_EVERY}")

    traffic = simulate(args.domains)
    complete = changes(traffic.seen) == changes(traffic.produced)
    final = traffic.view.get(CAMPAIGN)
    print(
        f"Campaign {CAMPAIGN}: {args.domains:,} domains through {len(Phase)} phases\n"
        f"and {traffic.reports:,} progress reports from the worker"
    )
    print("What the client saw, change by change:")
    for phase, status in changes(traffic.seen):
        print(f"  {phase.value}/{status.value}")
    print(f"  and {len(traffic.transitions_seen):,} phase transitions:")
    for t in traffic.transitions_seen:
        print(f"    {t.previous_phase.value} -> {t.phase.value}")
    print(
        f"\nLegacy dual broadcast: {traffic.legacy_frames:,} frames, {traffic.legacy_bytes:,} bytes"
    )
    print(
        f"phasekit, throttled compact: {traffic.compact_frames:,} frames, "
        f"{traffic.compact_bytes:,} bytes"
    )
    print(
        f"Traffic cut by {traffic.reduction:.2%}\nevery status and phase change delivered: "
        f"{complete}; final state delivered: {final == traffic.last_offered}"
    )
    return 0 if complete and final == traffic.last_offered else 1


if __name__ == "__main__":
    raise SystemExit(main())
