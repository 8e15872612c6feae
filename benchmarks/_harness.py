"""Small timing helpers shared by the benchmark scripts (not part of phasekit)."""

from __future__ import annotations

import gc
import platform
import time
from collections.abc import Callable, Sequence


def best_seconds(run: Callable[[], object], repeat: int = 3) -> float:
    """Return the best wall time of ``repeat`` calls of ``run``, garbage collector on."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def machine_line() -> str:
    return f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a Markdown table, so that it can be pasted into notes and docs as it is."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
