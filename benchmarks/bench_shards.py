"""Benchmark: many workers' shard reports merged by ``CampaignProgress``, against its peers.

1. Merge throughput: the same stream of shard reports (every report delivered once or
   twice, shuffled, with retried shards that restart from 0) through
   ``CampaignProgress.apply`` and through the two merges people write by hand: "last
   report per shard" (a dict of the latest counts: wrong when reports arrive out of order
   or a retry restarts) and "sum every report" (adding each report's new domains, as a
   per-task progress tool does: counts a retried shard twice). Also decode + apply, the
   aggregator's whole job per frame. Target: ``apply`` at least 1M reports/s.
2. Bytes per report: the ``s1`` frame against a ``p1`` progress frame, the verbose
   envelope and the legacy ``campaign_progress`` envelope carrying the same counts.
3. Traffic of the 2M-domain campaign of ``examples/celery_campaign.py`` on a simulated
   clock, with the example's own settings (200 shards of 10,000 domains on 2 workers at
   50,000 domains a second each, a look at the clock every 1,000 domains, a report after
   the first chunk, then at most every 250 ms, and a final one). Broker writes: at most
   one report per shard per 250 ms, against one write per batch of 100 domains (20,000)
   the old way; client frames: at most one per 250 ms per campaign.

Run with ``make bench`` or ``python benchmarks/bench_shards.py``.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import uuid
from collections import deque
from pathlib import Path

from _harness import best_seconds, machine_line, print_table

from phasekit import (
    CampaignProgress,
    Phase,
    PhaseStatus,
    ProgressMessage,
    ProgressThrottle,
    ShardReport,
    codec,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from celery_campaign import (
    CHUNK,
    CLIENT_INTERVAL_MS,
    DOMAINS_PER_SECOND,
    LEGACY_BATCH,
    REPORT_EVERY_S,
)

CAMPAIGN = uuid.UUID("9b2e4c1a-7f3d-4e8a-b5c6-0d1e2f3a4b5c")
PHASE = Phase.DNS_VALIDATION
REPORT_EVERY_MS = round(REPORT_EVERY_S * 1000)


def report_stream(shards: int, shard_size: int, seed: int = 7) -> list[ShardReport]:
    """Every shard's reports at each tenth of its domains, a tenth of the shards retried
    from 0, every report delivered once or twice, all shuffled."""
    rng = random.Random(seed)
    reports = []
    for shard in range(shards):
        runs = 2 if rng.random() < 0.1 else 1
        for _ in range(runs):
            for step in range(11):
                processed = shard_size * step // 10
                failed = processed // 20
                reports.append(
                    ShardReport(
                        CAMPAIGN, PHASE, shard, shard_size, processed, processed - failed, failed
                    )
                )
    delivered = [report for report in reports for _ in range(rng.choice((1, 1, 1, 2)))]
    rng.shuffle(delivered)
    return delivered


def merge_with_phasekit(reports: list[ShardReport], shards: int, total: int) -> int:
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=shards, total=total)
    deque(map(progress.apply, reports), maxlen=0)
    return progress.processed


def merge_last_per_shard(reports: list[ShardReport]) -> int:
    latest: dict[int, int] = {}
    for report in reports:
        latest[report.shard] = report.processed
    return sum(latest.values())


def merge_sum_every_report(reports: list[ShardReport]) -> int:
    latest: dict[int, int] = {}
    total = 0
    for report in reports:
        previous = latest.get(report.shard, 0)
        gained = report.processed - previous
        total += gained if gained > 0 else report.processed
        latest[report.shard] = report.processed
    return total


def decode_and_apply(frames: list[bytes], shards: int, total: int) -> int:
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=shards, total=total)
    apply, decode = progress.apply, codec.decode
    for frame in frames:
        apply(decode(frame))  # type: ignore[arg-type]
    return progress.processed


def throughput(repeat: int) -> None:
    shards, shard_size = 2_000, 1_000
    total = shards * shard_size
    reports = report_stream(shards, shard_size)
    frames = [codec.encode(report) for report in reports]
    exact = merge_with_phasekit(reports, shards, total)
    assert exact == total, exact
    assert decode_and_apply(frames, shards, total) == total
    rows = []
    for name, run, result in (
        (
            "phasekit CampaignProgress.apply",
            lambda: merge_with_phasekit(reports, shards, total),
            exact,
        ),
        ("phasekit decode + apply", lambda: decode_and_apply(frames, shards, total), exact),
        ("last report per shard (dict)", lambda: merge_last_per_shard(reports), None),
        ("sum every report", lambda: merge_sum_every_report(reports), None),
    ):
        counted = run() if result is None else result
        seconds = best_seconds(run, repeat)
        rows.append(
            (
                name,
                f"{len(reports) / seconds:,.0f}",
                f"{counted:,} of {total:,}",
                "yes" if counted == total else "no",
            )
        )
    print_table(
        f"Merge throughput: {len(reports):,} reports of {shards:,} shards "
        "(duplicates, shuffled, retries from 0), best of "
        f"{repeat}",
        ["merge", "reports/s", "domains counted", "exact"],
        rows,
    )


def sizes() -> None:
    report = codec.EXAMPLE_SHARD_REPORT
    # The same counts as a campaign-level progress message, as the old way sends them.
    as_progress = ProgressMessage(
        report.campaign_id,
        report.phase,
        PhaseStatus.RUNNING,
        report.processed * 100 / report.shard_total,
        report.processed,
        report.shard_total,
        report.successful,
        report.failed,
        12_345,
        1_764_331_200_123,
    )
    legacy = codec.encode_legacy(as_progress, message_id=uuid.UUID(int=2**128 - 1))
    s1 = len(codec.encode(report))
    rows = [
        ("phasekit s1 shard report", s1, "1.00"),
        ("phasekit p1 progress frame", len(codec.encode(as_progress)), ""),
        ("verbose campaign.progress envelope", len(codec.encode_verbose(as_progress)), ""),
        ("legacy campaign_progress envelope", len(legacy), ""),
        (
            "legacy dual broadcast (both envelopes)",
            len(legacy) + len(codec.encode_verbose(as_progress)),
            "",
        ),
    ]
    rows = [(name, size, f"{size / s1:.2f}") for name, size, _ in rows]
    print_table(
        "Bytes per report (a typical shard report: shard 7, 6,250 of 10,000 done)",
        ["frame", "bytes", "ratio to s1"],
        rows,
    )


def simulated_campaign(domains: int, shard_size: int, workers: int, rate: int) -> None:
    """The Celery example's campaign on a simulated clock: writes and frames, exactly."""
    shards = domains // shard_size
    chunk_ms = CHUNK * 1000 // rate
    # Each worker takes the next shard when it is free; events are (time, shard, processed).
    free_at = [0] * workers
    events: list[tuple[int, int, int]] = []
    report_times: dict[int, list[int]] = {}
    for shard in range(shards):
        worker = min(range(workers), key=free_at.__getitem__)
        now = free_at[worker]
        times = report_times[shard] = []
        for processed in range(CHUNK, shard_size + 1, CHUNK):
            now += chunk_ms
            # Report after the first chunk, then at most every 250 ms, and at the end.
            if not times or now - times[-1] >= REPORT_EVERY_MS or processed == shard_size:
                events.append((now, shard, processed))
                times.append(now)
        free_at[worker] = now
    # Every gap between a shard's reports is at least the interval, but the one before
    # its final report, which is sent as soon as the shard is done.
    per_shard_gaps_ok = all(
        later - earlier >= REPORT_EVERY_MS
        for times in report_times.values()
        for earlier, later in itertools.pairwise(times[:-1])
    )
    events.sort()
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=shards, total=domains)
    throttle = ProgressThrottle(min_interval_ms=CLIENT_INTERVAL_MS, min_delta=1.0)
    frames: list[tuple[int, ProgressMessage]] = []
    sequence = 0
    next_tick = CLIENT_INTERVAL_MS
    for now, shard, processed in events:
        while next_tick <= now:
            frames += [(next_tick, message) for message in throttle.due(next_tick)]
            next_tick += CLIENT_INTERVAL_MS
        failed = processed // 20
        report = ShardReport(
            CAMPAIGN, PHASE, shard, shard_size, processed, processed - failed, failed
        )
        if progress.apply(report):
            sequence += 1
            status = PhaseStatus.COMPLETED if progress.complete else PhaseStatus.RUNNING
            sent = throttle.offer(
                progress.message(status, sequence=sequence, timestamp_ms=now), now
            )
            if sent is not None:
                frames.append((now, sent))
    frames += [(next_tick, message) for message in throttle.flush()]
    assert progress.processed == domains
    assert progress.complete
    assert frames[-1][1].processed == domains
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(frames)]
    # The last frame is the completion, which a throttle always sends at once.
    assert all(gap >= CLIENT_INTERVAL_MS for gap in gaps[:-1]), min(gaps)
    legacy_writes = domains // LEGACY_BATCH
    print_table(
        f"A {domains:,}-domain campaign: {shards} shards of {shard_size:,} on {workers} "
        f"workers at {rate:,} domains/s each (simulated clock, "
        f"{events[-1][0] / 1000:,.0f} s)",
        ["", f"old way (a write per {LEGACY_BATCH} domains)", "phasekit", "ratio"],
        [
            (
                "broker writes",
                f"{legacy_writes:,}",
                f"{len(events):,}",
                f"{legacy_writes / len(events):,.1f}x fewer",
            ),
            (
                "client frames",
                f"{legacy_writes:,}",
                f"{len(frames):,}",
                f"{legacy_writes / len(frames):,.0f}x fewer",
            ),
        ],
    )
    print(
        f"\nAt most one report per shard per {REPORT_EVERY_MS} ms "
        f"({'yes' if per_shard_gaps_ok else 'NO'}, the last report of a shard excepted); "
        f"at most one client frame per {CLIENT_INTERVAL_MS} ms (yes, the completion excepted: "
        f"smallest gap {min(gaps[:-1])} ms)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--domains", type=int, default=2_000_000)
    args = parser.parse_args()
    print(f"## Shard-report benchmark ({machine_line()})")
    throughput(args.repeat)
    sizes()
    simulated_campaign(args.domains, shard_size=10_000, workers=2, rate=DOMAINS_PER_SECOND)


if __name__ == "__main__":
    main()
