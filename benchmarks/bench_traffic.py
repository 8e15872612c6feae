"""Benchmark: progress traffic of one 2M-domain campaign, legacy dual broadcast vs phasekit.

One campaign of ``--domains`` domains (2,000,000) runs through all three phases; workers
report every 100 domains at 10,000 domains a second, on a simulated clock (the
simulation is ``examples/progress_worker.py``, shared so that the demo and the
benchmark measure the same thing).

- Legacy: every report goes out twice, as ``campaign_progress`` and ``campaign.progress``
  (the plan's "100% duplication"), and every transition as ``campaign.phase.transition``.
- phasekit: reports go through a ``ProgressThrottle`` (250 ms, 1 %) as compact frames,
  ticked every 250 ms and flushed at the end; transitions as compact frames.

The script checks that the client saw every status and phase change and ends on the
final state, then prints the bytes of each side.

Run with ``make bench`` or ``python benchmarks/bench_traffic.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _harness import machine_line, print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from progress_worker import CAMPAIGN, changes, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=2_000_000)
    args = parser.parse_args()

    traffic = simulate(args.domains)
    assert changes(traffic.seen) == changes(traffic.produced), "a change was not delivered"
    assert traffic.view.get(CAMPAIGN) == traffic.last_offered, "final state not delivered"
    print(f"## Traffic benchmark ({machine_line()})")
    print_table(
        f"One campaign of {args.domains:,} domains through three phases "
        f"({traffic.reports:,} progress reports)",
        ["side", "frames", "bytes", "bytes / report"],
        [
            (
                "legacy dual broadcast",
                f"{traffic.legacy_frames:,}",
                f"{traffic.legacy_bytes:,}",
                f"{traffic.legacy_bytes / traffic.reports:,.1f}",
            ),
            (
                "phasekit throttled compact",
                f"{traffic.compact_frames:,}",
                f"{traffic.compact_bytes:,}",
                f"{traffic.compact_bytes / traffic.reports:,.2f}",
            ),
        ],
    )
    print(
        f"\nEvery status and phase change delivered ({len(changes(traffic.produced))} states), "
        f"final state delivered. Target: >= 99% fewer bytes: {traffic.reduction:.3%} "
        f"({'met' if traffic.reduction >= 0.99 else 'NOT met'})."
    )


if __name__ == "__main__":
    main()
