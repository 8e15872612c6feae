"""Every example runs and shows what it promises."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_lifecycle_tour_walks_every_initial_phase(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "lifecycle_tour.py"), run_name="__main__")
    out = capsys.readouterr().out
    for phase in ("domain_generation", "dns_validation", "http_validation"):
        assert f"Campaign starting at {phase}:" in out
        assert f"A second campaign at {phase}, cancelled while paused:" in out
        assert f"{phase}/cancelled" in out
    for step in ("start", "pause", "resume", "progress 25%", "fail", "retry", "complete"):
        assert f"  {step}" in out
    assert "reason: 'domain_generation finished'" in out
    assert "http_validation/completed" in out
    assert out.count("[terminal]") == 6
    assert "refused as expected: cannot apply 'start' to http_validation/completed" in out
