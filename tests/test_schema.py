"""Generated artifacts, verified by the real tools: jsonschema, openapi-spec-validator,
the TypeScript compiler and Node."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from openapi_spec_validator import validate as validate_openapi

from phasekit import (
    Event,
    Phase,
    PhaseState,
    PhaseStatus,
    ProgressMessage,
    available_events,
    available_transitions,
    codec,
    is_terminal,
    schema,
)
from phasekit.cli import schema_text as render
from phasekit.codec import PROGRESS_FIELDS, TRANSITION_FIELDS, Message
from phasekit.errors import PhasekitError
from tests import strategies as st

ROOT = Path(__file__).resolve().parent.parent
TSC = ROOT / "ts" / "node_modules" / ".bin" / "tsc"
RUNNER = ROOT / "tests" / "ts" / "run_vectors.mjs"
GENERATED = ROOT / "generated"


def as_json(document: dict[str, schema.JSONValue]) -> Any:
    """The document as JSON gives it back: this also proves it serializes."""
    return orjson.loads(orjson.dumps(document))


def validator(definition: str) -> jsonschema.Draft202012Validator:
    document = as_json(schema.json_schema())
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(
        {**document, "$ref": f"#/$defs/{definition}"},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


# --- JSON Schema ----------------------------------------------------------------------


def test_enums_are_listed_in_declaration_order() -> None:
    definitions = as_json(schema.json_schema())["$defs"]
    for kind in (Phase, PhaseStatus, Event):
        assert definitions[kind.__name__]["enum"] == [member.value for member in kind]
    assert (
        as_json(schema.json_schema())["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    )


@given(st.messages)
def test_every_verbose_message_validates(message: Message) -> None:
    name = "ProgressEnvelope" if isinstance(message, ProgressMessage) else "TransitionEnvelope"
    validator(name).validate(orjson.loads(codec.encode_verbose(message)))


@given(st.messages)
def test_every_compact_frame_validates(message: Message) -> None:
    frame = orjson.loads(codec.encode(message))
    validator("CompactFrame").validate(frame)
    validator("BatchFrame").validate(orjson.loads(codec.encode_batch([message, message])))


@given(st.phase_states)
def test_states_and_transitions_validate(state: PhaseState) -> None:
    record = {"phase": state.phase.value, "status": state.status.value, "progress": state.progress}
    validator("PhaseState").validate(record)
    validator("PhaseTransition").validate({"previous": record, "current": record, "reason": "r"})


def as_phase_state(instance: object) -> object:
    assert isinstance(instance, dict)
    return PhaseState(**instance)


# Each definition with the Python function that decodes the same value.
DECODERS: dict[str, Any] = {
    "Phase": lambda instance: PhaseState(instance, "pending"),
    "CompactProgressFrame": lambda instance: codec.decode(orjson.dumps(instance)),
    "CompactTransitionFrame": lambda instance: codec.decode(orjson.dumps(instance)),
    "ProgressEnvelope": lambda instance: codec.decode_verbose(orjson.dumps(instance)),
    "PhaseState": as_phase_state,
}


@pytest.mark.parametrize(
    ("definition", "instance"),
    [
        ("Phase", "ftp_validation"),
        ("CompactProgressFrame", ["p1"]),
        ("CompactProgressFrame", [*orjson.loads(codec.encode(codec.EXAMPLE_PROGRESS)), 1]),
        (
            "CompactTransitionFrame",
            ["t1", str(codec.EXAMPLE_PROGRESS.campaign_id), 0, 1, 0, " padded ", 0, 0],
        ),
        ("ProgressEnvelope", {"type": "campaign.progress", "timestamp": "yesterday", "data": {}}),
        ("PhaseState", {"phase": "dns_validation", "status": "running", "progress": 101}),
    ],
)
def test_schema_rejects_what_the_decoder_rejects(definition: str, instance: object) -> None:
    with pytest.raises(PhasekitError):
        DECODERS[definition](instance)
    assert not validator(definition).is_valid(instance)


@pytest.mark.parametrize(
    ("definition", "instance"),
    [
        ("Phase", "dns_validation"),
        ("CompactProgressFrame", orjson.loads(codec.encode(codec.EXAMPLE_PROGRESS))),
        ("CompactTransitionFrame", orjson.loads(codec.encode(codec.EXAMPLE_TRANSITION))),
        ("ProgressEnvelope", orjson.loads(codec.encode_verbose(codec.EXAMPLE_PROGRESS))),
        ("PhaseState", {"phase": "dns_validation", "status": "running", "progress": 100}),
    ],
)
def test_schema_accepts_what_the_decoder_accepts(definition: str, instance: object) -> None:
    DECODERS[definition](instance)
    validator(definition).validate(instance)


# --- OpenAPI --------------------------------------------------------------------------


def test_openapi_document_is_valid_and_carries_every_enum() -> None:
    document = as_json(schema.openapi_document())
    validate_openapi(document)
    components = document["components"]["schemas"]
    for kind in (Phase, PhaseStatus, Event):
        assert components[kind.__name__]["enum"] == [member.value for member in kind]
    transition = document["paths"]["/campaigns/{id}/transition"]["put"]
    assert set(transition["responses"]) == {"200", "404", "409", "422"}
    body = transition["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert components[body.rsplit("/", 1)[1]]["required"] == ["targetPhase", "transitionReason"]
    create = document["paths"]["/campaigns"]["post"]["requestBody"]["content"]["application/json"]
    assert set(components["CreateCampaignRequest"]["properties"]) == {
        "name",
        "initialPhase",
        "configuration",
    }
    jsonschema.Draft202012Validator(
        {**document, "$ref": "#/components/schemas/CreateCampaignRequest"}
    ).validate(create["example"])
    phases = components["CampaignPhases"]["properties"]
    assert {"currentPhase", "phaseStatus", "availableTransitions"} <= set(phases)


# --- determinism and checked-in files -------------------------------------------------


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


# --- TypeScript, compiled by tsc and run by Node ---------------------------------------


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


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    work = tmp_path_factory.mktemp("typescript")
    source = work / "phasekit.ts"
    source.write_text(schema.typescript(), encoding="utf-8")
    compile_ts(source, "--noEmit")
    compile_ts(source, "--module", "commonjs", "--outDir", str(work / "cjs"))
    compile_ts(source, "--module", "es2020", "--outDir", str(work / "esm"))
    (work / "cjs" / "package.json").write_text('{"type": "commonjs"}')
    (work / "esm" / "package.json").write_text('{"type": "module"}')
    return [work / "cjs" / "phasekit.js", work / "esm" / "phasekit.js"]


def as_typescript(message: Message) -> dict[str, object]:
    fields = PROGRESS_FIELDS if isinstance(message, ProgressMessage) else TRANSITION_FIELDS
    shaped: dict[str, object] = {
        "kind": "progress" if isinstance(message, ProgressMessage) else "transition"
    }
    for field in fields:
        value = getattr(message, field.name)
        name = field.verbose or "timestampMs"
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


NUMBER_EDGES = [
    "0",
    "-0",
    "1.0",
    "-1",
    "1e2",
    "1E2",
    "100.0",
    "100.00000000000001",
    "2.5e-324",
    "9007199254740991",
    "9007199254740992",
    "18446744073709551616",
    "1e400",
    "true",
    "null",
    '"1"',
    "[]",
    "{}",
    "01",
    "1.",
    ".5",
    "+1",
    "0.0e0",
]


@hs.composite
def frame_texts(draw: hs.DrawFn) -> str:
    """Valid compact frames and every kind of near miss, as text."""
    message = draw(st.messages)
    frame = codec.encode(message).decode()
    how = draw(hs.integers(0, 6))
    if how == 0:
        return frame
    if how == 1:
        return frame[: draw(hs.integers(0, len(frame)))]
    if how == 2:
        position = draw(hs.integers(0, len(frame) - 1))
        replacement = draw(hs.sampled_from([*list('0123456789.,-"[]{} eEtfnul\\ab'), "é"]))
        return frame[:position] + replacement + frame[position + 1 :]
    items = orjson.loads(frame)
    if how == 3:
        position = draw(hs.integers(0, len(items) - 1))
        items[position] = draw(st.json_values)
        return orjson.dumps(items).decode()
    if how == 4:
        position = draw(hs.integers(1, len(items) - 1))
        parts = [orjson.dumps(item).decode() for item in items]
        parts[position] = draw(hs.sampled_from(NUMBER_EDGES))
        return "[" + ",".join(parts) + "]"
    if how == 5:
        return draw(hs.sampled_from([" ", "\n", "\t"])) + frame + draw(hs.sampled_from(["", " "]))
    reason = draw(
        hs.sampled_from(
            [
                " x",
                "x ",
                "\u3000x",
                "x\u0085",
                "\ufeffx",
                "x\u200b",
                "\U0001f600" * 501,
                "\U0001f600" * 500,
                "a\nb",
                "",
                "\x1fx",
            ]
        )
    )
    return orjson.dumps(["t1", str(message.campaign_id), 0, 2, 1, reason, 1, 1]).decode()


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[
        HealthCheck.large_base_example,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    hs.lists(frame_texts(), min_size=150, max_size=150),
    hs.lists(hs.lists(st.messages, max_size=3), min_size=5, max_size=5),
)
def test_node_decodes_exactly_like_python(
    compiled: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
    frames: list[str],
    batches: list[list[Message]],
) -> None:
    batch_frames = [codec.encode_batch(batch).decode() for batch in batches]
    batch_frames += ['["b1"]', '["b1",["p1"]]', "[]", '["b1",' + frames[0] + "]"]
    states = [{"phase": p.value, "status": s.value} for p in Phase for s in PhaseStatus]
    vectors = {"frames": frames, "batches": batch_frames, "states": states}
    python_frames = [python_result(lambda f=f: codec.decode(f)) for f in frames]
    python_batches = [python_result(lambda f=f: codec.decode_batch(f)) for f in batch_frames]
    for module in compiled:
        results = node_results(module, vectors, tmp_path_factory.mktemp("vectors"))
        for frame, mine, theirs in zip(frames, python_frames, results["frames"], strict=True):
            assert same(mine, theirs), (frame, mine, theirs)
        for frame, mine, theirs in zip(
            batch_frames, python_batches, results["batches"], strict=True
        ):
            assert same(mine, theirs), (frame, mine, theirs)
        for state, lifecycle in zip(states, results["lifecycle"], strict=True):
            record = PhaseState(state["phase"], state["status"])
            assert lifecycle == {
                "events": [e.value for e in Event if e in available_events(record)],
                "transitions": [p.value for p in available_transitions(record)],
                "terminal": is_terminal(record),
            }


STRING_EDGES = [
    '"p1"',
    '"t1"',
    '"b1"',
    '""',
    '" x"',
    '"x "',
    '"x"',
    '"\\u0000"',
    '"\\ud800"',
    '"\\udc00x"',
    '"\\ud83d\\ude00"',
    '"\\ud83dx"',
    '"\\/"',
    '"\\q"',
    '"\\u00e9"',
    '"\\u3000x"',
    '"x\\u0085"',
    '"\\ufeffx"',
]


def systematic_frames() -> tuple[list[str], list[str], list[str]]:
    """Frames that must decode, frames that must be refused, and edge cases whose outcome
    only the Python decoder says: every field of both frame kinds replaced by every edge
    value, every truncation, JSON whitespace, and characters in the reason."""
    decodable, refused, edges = [], [], []
    for message in (codec.EXAMPLE_PROGRESS, codec.EXAMPLE_TRANSITION):
        full = codec.encode(message).decode()
        items = [orjson.dumps(item).decode() for item in orjson.loads(full)]
        for position in range(len(items)):
            for token in [*NUMBER_EDGES, *STRING_EDGES]:
                changed = [*items[:position], token, *items[position + 1 :]]
                edges.append("[" + ",".join(changed) + "]")
        # JSON allows white space between tokens and around the value.
        decodable += [
            full,
            "[" + " , ".join(items) + "]",
            "[\n" + ",\n".join(items) + "\n]",
            full + "\n",
            full.replace("[", "[\r", 1),
        ]
        # A cut frame is never a whole JSON array; a stray comma is never JSON.
        refused += [full[:cut] for cut in range(len(full))]
        refused += [full[:-1] + ",]", full.replace(",", ",,", 1)]
        edges.append("\ufeff" + full)
    reason = codec.encode(codec.EXAMPLE_TRANSITION).decode()
    edges += [
        reason.replace("generated", f"gener{char}ated")
        for char in ["\x00", "\x1f", "\x7f", "\t", "\n", "\u2028", "\\", '\\"']
    ]
    refused += ["[" * 1100 + "]" * 1100, "[" * 10, "", " ", "null", "{}", '{"p1": 1}']
    return decodable, refused, edges


def test_node_decodes_systematic_vectors_like_python(compiled: list[Path], tmp_path: Path) -> None:
    decodable, refused, edges = systematic_frames()
    frames = decodable + refused + edges
    expected = [python_result(lambda f=f: codec.decode(f)) for f in frames]
    outcomes = ["value" in result for result in expected]
    assert outcomes[: len(decodable)] == [True] * len(decodable)
    assert outcomes[len(decodable) : len(decodable) + len(refused)] == [False] * len(refused)
    for module in compiled:
        vectors = {"frames": frames, "batches": [], "states": []}
        results = node_results(module, vectors, tmp_path)
        for frame, mine, theirs in zip(frames, expected, results["frames"], strict=True):
            assert same(mine, theirs), (frame, mine, theirs)


def test_typescript_samples_in_the_docs_compile(tmp_path: Path) -> None:
    samples = re.findall(
        r"```typescript\n(.*?)```", (ROOT / "docs" / "types.md").read_text(), re.DOTALL
    )
    assert samples
    (tmp_path / "phasekit.ts").write_text(schema.typescript(), encoding="utf-8")
    for number, sample in enumerate(samples):
        source = tmp_path / f"sample{number}.ts"
        source.write_text(sample, encoding="utf-8")
        compile_ts(source, "--noEmit", "--module", "es2020")


def test_typescript_applies_the_same_size_limit(compiled: list[Path], tmp_path: Path) -> None:
    frame = codec.encode(codec.EXAMPLE_TRANSITION).decode()
    padded = frame + " " * (codec.DEFAULT_MAX_BYTES - len(frame))
    too_big = padded + " "
    vectors = {"frames": [padded, too_big], "batches": [], "states": []}
    assert codec.decode(padded) == codec.EXAMPLE_TRANSITION
    with pytest.raises(codec.DecodeError, match="exceeds the limit"):
        codec.decode(too_big)
    for module in compiled:
        results = node_results(module, vectors, tmp_path)
        assert results["frames"][0]["value"]["triggerReason"] == "2,000,000 domains generated"
        assert "exceeds the limit" in results["frames"][1]["error"]
