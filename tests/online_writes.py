"""What the online migration tests of both databases share: crash points, and the checks
of every row against the last write either application version made to it.

The writers of tests/test_online_migration.py (PostgreSQL) and
tests/test_migrate_sqlite.py (SQLite) log each write, in its transaction, in a control
table; ``written`` below is each row's last logged write, as ``(version, campaign_type,
status, progress_percentage, current_phase, phase_status, progress)``, the legacy values
for the old version's writes and the phase values for the new one's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from phasekit import map_legacy, runner

Legacy = tuple[str | None, str | None, float | None]
Phases = tuple[str, str, float]
Row = tuple[Any, ...]

#: The columns of a control table's last write per row, ``id`` first.
WRITE_COLUMNS = (
    "id, version, campaign_type, status, progress_percentage, current_phase, phase_status, progress"
)


def log_statement(version: str, placeholder: str) -> str:
    """Return the ``INSERT`` logging a write of ``version`` in the control table, its five
    parameters (``id``, ``version`` and the three values written) marked ``placeholder``."""
    columns = (
        "id, version, campaign_type, status, progress_percentage"
        if version == "old"
        else "id, version, current_phase, phase_status, progress"
    )
    marks = ", ".join([placeholder] * 5)
    return f"INSERT INTO campaigns_writes ({columns}) VALUES ({marks})"


class Interrupted(Exception):
    """Raised from a report to stop the runner mid-step, as a crash would."""


def reporter(actions: dict[str, Callable[[], None]]) -> Callable[[object], None]:
    """Return a report callback running ``actions[name]`` when the step ``name`` is done
    (or, for ``progress:NAME:K``, at the K-th progress report of that walk)."""
    seen: dict[str, int] = {}

    def report(event: object) -> None:
        if isinstance(event, runner.StepDone):
            action = actions.get(event.step)
        elif isinstance(event, runner.Progress):
            seen[event.step] = seen.get(event.step, 0) + 1
            action = actions.get(f"progress:{event.step}:{seen[event.step]}")
        else:
            return
        if action is not None:
            action()

    return report


def interrupt() -> None:
    raise Interrupted


def phase_of(legacy: Legacy) -> Phases:
    state = map_legacy(*legacy)  # type: ignore[arg-type]
    return (state.phase.value, state.status.value, state.progress)


def assert_phases(
    rows: Sequence[Row], written: Mapping[int, Row], initial: Mapping[int, Legacy]
) -> None:
    """Every row ``(id, current_phase, phase_status, progress)`` holds what its last write
    (or its legacy row) says."""
    assert {row[0] for row in rows} == set(initial) | set(written)
    for identifier, *phases in rows:
        last = written.get(identifier)
        if last is None:
            expected = phase_of(initial[identifier])
        elif last[0] == "old":
            expected = phase_of((last[1], last[2], last[3]))
        else:
            expected = (last[4], last[5], last[6])
        assert tuple(phases) == expected, identifier


def assert_legacy(
    rows: Sequence[Row], written: Mapping[int, Row], initial: Mapping[int, Legacy]
) -> None:
    """Every row ``(id, campaign_type, status, progress_percentage)`` holds its last legacy
    write exactly, or maps to its last phase write; a row nobody wrote holds its original
    values exactly."""
    assert {row[0] for row in rows} == set(initial) | set(written)
    for identifier, *legacy in rows:
        last = written.get(identifier)
        if last is None:
            assert tuple(legacy) == initial[identifier], identifier
        elif last[0] == "old":
            assert tuple(legacy) == (last[1], last[2], last[3]), identifier
        else:
            assert phase_of((legacy[0], legacy[1], legacy[2])) == (last[4], last[5], last[6])


def run_cli(*arguments: str) -> subprocess.Popen[str]:
    """Start ``python -m phasekit ARGUMENTS`` on this checkout's sources."""
    return subprocess.Popen(
        [sys.executable, "-m", "phasekit", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")},
    )


def kill(process: subprocess.Popen[str]) -> bool:
    """Kill ``process`` with SIGKILL if it still runs, and reap it; return whether it ran."""
    running = process.poll() is None
    if running:
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    return running


def run_to_the_end(*arguments: str) -> None:
    """Run ``python -m phasekit ARGUMENTS`` and check that it succeeds."""
    process = run_cli(*arguments)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
