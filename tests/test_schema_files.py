"""The generators' output: byte-identical on every run, and the checked-in copies current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from phasekit.cli import schema_text as render

GENERATED = Path(__file__).resolve().parent.parent / "generated"

GENERATED_FILES = {
    "phasekit.schema.json": "jsonschema",
    "openapi.json": "openapi",
    "phasekit.ts": "typescript",
}


@pytest.mark.parametrize("kind", ["jsonschema", "openapi", "typescript"])
def test_output_is_byte_identical_across_runs(kind: str) -> None:
    outputs = {
        subprocess.run(
            [sys.executable, "-m", "phasekit", "schema", "--format", kind],
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert outputs == {render(kind).encode()}


@pytest.mark.parametrize(("name", "kind"), sorted(GENERATED_FILES.items()))
def test_checked_in_generated_files_are_current(name: str, kind: str) -> None:
    path = GENERATED / name
    assert path.read_text(encoding="utf-8") == render(kind), f"{path} is stale: run `make generate`"
