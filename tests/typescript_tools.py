"""The TypeScript compiler and Node, as the TypeScript tests drive them.

``compile_ts`` runs the pinned ``tsc --strict``, and ``compile_module`` compiles the
generated module with it; ``node_results`` runs shared vectors through a compiled module
(``tests/ts/run_vectors.mjs``); ``python_result`` decodes the same vectors with the Python
codec, shaped as the TypeScript decoder returns them, and ``same`` compares the two
outcomes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from phasekit import Phase, PhaseStatus, ProgressMessage, ShardReport, codec, schema
from phasekit.codec import PROGRESS_FIELDS, SHARD_REPORT_FIELDS, TRANSITION_FIELDS, Frame

ROOT = Path(__file__).resolve().parent.parent
TSC = ROOT / "ts" / "node_modules" / ".bin" / "tsc"
RUNNER = ROOT / "tests" / "ts" / "run_vectors.mjs"


def tools() -> tuple[Path, str]:
    node = shutil.which("node")
    if TSC.exists() and node:
        return TSC, node
    pytest.fail(
        "the TypeScript checks need node and ts/node_modules/.bin/tsc: `make test` installs "
        "the compiler with npm (Debian: apt-get install nodejs npm)"
    )


def compile_ts(source: Path, *options: str) -> None:
    tsc, _ = tools()
    done = subprocess.run(
        [str(tsc), "--strict", "--target", "es2020", *options, str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def compile_module(work: Path) -> list[Path]:
    """Compile ``schema.typescript()`` in ``work`` to CommonJS and to an ES module; return
    both compiled modules."""
    source = work / "phasekit.ts"
    source.write_text(schema.typescript(), encoding="utf-8")
    compile_ts(source, "--noEmit")
    compile_ts(source, "--module", "commonjs", "--outDir", str(work / "cjs"))
    compile_ts(source, "--module", "es2020", "--outDir", str(work / "esm"))
    (work / "cjs" / "package.json").write_text('{"type": "commonjs"}')
    (work / "esm" / "package.json").write_text('{"type": "module"}')
    return [work / "cjs" / "phasekit.js", work / "esm" / "phasekit.js"]


def camel(name: str) -> str:
    """``shard_total`` as TypeScript spells it, ``shardTotal``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def as_typescript(message: Frame) -> dict[str, object]:
    kind, fields = (
        ("progress", PROGRESS_FIELDS)
        if isinstance(message, ProgressMessage)
        else ("shardReport", SHARD_REPORT_FIELDS)
        if isinstance(message, ShardReport)
        else ("transition", TRANSITION_FIELDS)
    )
    shaped: dict[str, object] = {"kind": kind}
    for field in fields:
        value = getattr(message, field.name)
        name = field.verbose or camel(field.name)
        shaped[name] = (
            value.value
            if isinstance(value, Phase | PhaseStatus)
            else (str(value) if field.kind == "uuid" else value)
        )
    return shaped


def python_result(decode: Any) -> dict[str, Any]:
    try:
        result = decode()
    except codec.DecodeError:
        return {"error": True}
    if isinstance(result, list):
        return {"value": [as_typescript(message) for message in result]}
    return {"value": as_typescript(result)}


def node_results(module: Path, vectors: dict[str, Any], work: Path) -> dict[str, Any]:
    _, node = tools()
    vectors_path, results_path = work / "vectors.json", work / "results.json"
    vectors_path.write_text(json.dumps(vectors), encoding="utf-8")
    done = subprocess.run(
        [node, str(RUNNER), str(module), str(vectors_path), str(results_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, Any] = json.loads(results_path.read_text(encoding="utf-8"))
    return results


def same(python: dict[str, Any], node: dict[str, Any]) -> bool:
    if "crash" in node:
        return False
    if "error" in python or "error" in node:
        return ("error" in python) == ("error" in node)
    return bool(python["value"] == node["value"])
