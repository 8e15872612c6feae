"""The TypeScript module, compiled by the real tsc and run by Node against vectors that the
Python codec decodes: Node must decode the same values and refuse the same frames."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import get_args

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from phasekit import (
    Event,
    Phase,
    PhaseState,
    PhaseStatus,
    available_events,
    available_transitions,
    codec,
    is_terminal,
    schema,
)
from phasekit.codec import FieldKind, Frame
from phasekit.schema._typescript import _TS_TYPES, RUNTIME_FILE, TABLES_IMPORT, tables_module
from tests import strategies as st
from tests.typescript_tools import (
    ROOT,
    compile_ts,
    node_results,
    python_result,
    same,
)

RUNTIME = resources.files("phasekit.schema").joinpath(RUNTIME_FILE).read_text(encoding="utf-8")


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
    """Valid compact frames (messages and shard reports) and every kind of near miss, as
    text."""
    message = draw(st.frames)
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
    hs.lists(hs.lists(st.frames, max_size=3), min_size=5, max_size=5),
)
def test_node_decodes_exactly_like_python(
    compiled: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
    frames: list[str],
    batches: list[list[Frame]],
) -> None:
    batch_frames = [codec.encode_batch(batch).decode() for batch in batches]
    batch_frames += ['["b1"]', '["b1",["p1"]]', '["b1",["s1"]]', "[]", '["b1",' + frames[0] + "]"]
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
    '"s1"',
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
    only the Python decoder says: every field of every frame kind replaced by every edge
    value, every truncation, JSON whitespace, and characters in the reason."""
    decodable, refused, edges = [], [], []
    for message in (codec.EXAMPLE_PROGRESS, codec.EXAMPLE_TRANSITION, codec.EXAMPLE_SHARD_REPORT):
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


def test_the_static_runtime_type_checks_alone(tmp_path: Path) -> None:
    # runtime.ts is real TypeScript: beside the generated tables, tsc --strict accepts it.
    (tmp_path / RUNTIME_FILE).write_text(RUNTIME, encoding="utf-8")
    tables = tmp_path / (TABLES_IMPORT.removeprefix("./") + ".ts")
    tables.write_text(tables_module(), encoding="utf-8")
    compile_ts(tmp_path / RUNTIME_FILE, "--noEmit")
    compile_ts(tmp_path / RUNTIME_FILE, "--noEmit", "--module", "es2020")


def test_the_module_is_the_tables_then_the_runtime_without_its_import() -> None:
    module = schema.typescript()
    assert module.startswith(tables_module())
    assert f'}} from "{TABLES_IMPORT}";' in RUNTIME
    assert f'from "{TABLES_IMPORT}"' not in module
    assert "import " not in module
    after_import = RUNTIME[RUNTIME.index(f'from "{TABLES_IMPORT}";') :].split("\n", 1)[1]
    assert module.endswith(after_import.lstrip("\n"))


@pytest.mark.parametrize(
    "restated",
    [
        *(
            str(limit)
            for limit in (
                100,
                codec.MAX_INTEGER,
                codec.MAX_SHARD,
                codec.MAX_TIMESTAMP_MS,
                codec.DEFAULT_MAX_BYTES,
                codec.DEFAULT_MAX_BATCH,
            )
        ),
        *(
            f'"{tag}"'
            for tag in (
                codec.PROGRESS_TAG,
                codec.TRANSITION_TAG,
                codec.SHARD_REPORT_TAG,
                codec.BATCH_TAG,
            )
        ),
        *(f'"{member.value}"' for kind in (Phase, PhaseStatus, Event) for member in kind),
    ],
)
def test_the_runtime_restates_no_table(restated: str) -> None:
    # Limits, tags and enum values come from the generated tables, never from runtime.ts.
    assert not re.search(rf"(?<![\w.]){re.escape(restated)}(?![\w.])", RUNTIME)


def progress_frame(**counts: object) -> str:
    items = orjson.loads(codec.encode(codec.EXAMPLE_PROGRESS))
    positions = {field.name: n for n, field in enumerate(codec.PROGRESS_FIELDS, start=1)}
    for name, value in counts.items():
        items[positions[name]] = value
    return orjson.dumps(items).decode()


def shard_frame(*extra: object, **changes: object) -> str:
    """The example shard-report frame with fields replaced by name, and items appended."""
    items = orjson.loads(codec.encode(codec.EXAMPLE_SHARD_REPORT))
    positions = {field.name: n for n, field in enumerate(codec.SHARD_REPORT_FIELDS, start=1)}
    for name, value in changes.items():
        items[positions[name]] = value
    return orjson.dumps([*items, *extra]).decode()


def transition_frame(previous: Phase, new: Phase) -> str:
    items = orjson.loads(codec.encode(codec.EXAMPLE_TRANSITION))
    items[2:4] = [codec.PHASE_CODES[previous], codec.PHASE_CODES[new]]
    return orjson.dumps(items).decode()


# One table of cases for the rules that span fields or that JSON.parse alone would lose:
# the Python decoder and the TypeScript decoder must both give each the outcome it names.
SHARED_RULE_CASES: list[tuple[str, str, bool]] = [
    ("processed == total", progress_frame(processed=10, total=10, successful=6, failed=4), True),
    ("processed > total", progress_frame(processed=11, total=10, successful=0, failed=0), False),
    ("all zero", progress_frame(processed=0, total=0, successful=0, failed=0), True),
    ("ok + failed == processed", progress_frame(processed=10, successful=7, failed=3), True),
    ("ok + failed > processed", progress_frame(processed=10, successful=7, failed=4), False),
    ("ok > processed", progress_frame(processed=10, successful=11, failed=0), False),
    ("failed > processed", progress_frame(processed=10, successful=0, failed=11), False),
    *(
        (f"{previous.value} -> {new.value}", transition_frame(previous, new), before < after)
        for before, previous in enumerate(Phase)
        for after, new in enumerate(Phase)
    ),
    ("integral progress 0", progress_frame(progress=0), True),
    ("integral progress 100", progress_frame(progress=100), True),
    ("progress 100.0", progress_frame(progress=100.0), True),
    ("progress 101", progress_frame(progress=101), False),
    ("progress true", progress_frame(progress=True), False),
    ("count written 12.0", progress_frame(sequence=12.0), False),
    ("code written 1.0", progress_frame(phase=1.0), False),
    ("timestamp written 1.0", progress_frame(timestamp_ms=1.0), False),
    ("count 2**53 - 1", progress_frame(sequence=codec.MAX_INTEGER), True),
    ("count 2**53", progress_frame(sequence=codec.MAX_INTEGER + 1), False),
]

# The same for shard reports (EXAMPLE_SHARD_REPORT: shard 7, 10000 items, 6250 processed,
# 6075 successful, 175 failed).
SHARD_RULE_CASES: list[tuple[str, str, bool]] = [
    ("shard report", shard_frame(), True),
    ("processed == shard_total", shard_frame(shard_total=6_250), True),
    ("processed > shard_total", shard_frame(shard_total=6_249), False),
    ("all zero", shard_frame(shard_total=0, processed=0, successful=0, failed=0), True),
    ("ok + failed > processed", shard_frame(successful=6_076), False),
    ("failed > processed", shard_frame(successful=0, failed=6_251), False),
    ("shard 0", shard_frame(shard=0), True),
    ("shard 2**31 - 1", shard_frame(shard=codec.MAX_SHARD), True),
    ("shard 2**31", shard_frame(shard=codec.MAX_SHARD + 1), False),
    ("shard -1", shard_frame(shard=-1), False),
    ("shard true", shard_frame(shard=True), False),
    ("shard written 7.0", shard_frame(shard=7.0), False),
    ("count written 6250.0", shard_frame(processed=6_250.0), False),
    ("count 2.5", shard_frame(failed=2.5), False),
    ("count false", shard_frame(failed=False), False),
    ("count null", shard_frame(successful=None), False),
    ("count as text", shard_frame(processed="6250"), False),
    ("shard_total 2**53 - 1", shard_frame(shard_total=codec.MAX_INTEGER), True),
    ("shard_total 2**53", shard_frame(shard_total=codec.MAX_INTEGER + 1), False),
    ("phase code 3", shard_frame(phase=3), False),
    ("phase code written 1.0", shard_frame(phase=1.0), False),
    (
        "upper-case campaign id",
        shard_frame(campaign_id="9B2E4C1A-7F3D-4E8A-B5C6-0D1E2F3A4B5C"),
        False,
    ),
    ("one item too many", shard_frame(0), False),
    ("tag alone", '["s1"]', False),
    ("one item short", orjson.dumps(orjson.loads(shard_frame())[:-1]).decode(), False),
    ("a progress frame tagged s1", progress_frame().replace('"p1"', '"s1"', 1), False),
    ("a shard report tagged p1", shard_frame().replace('"s1"', '"p1"', 1), False),
]


def test_shared_rule_cases_are_decoded_alike(compiled: list[Path], tmp_path: Path) -> None:
    cases = SHARED_RULE_CASES + SHARD_RULE_CASES
    frames = [frame for _, frame, _ in cases]
    # Each case also travels inside a batch, alone and after a valid shard report.
    batches = [f'["b1",{frame}]' for frame in frames]
    batches += [f'["b1",{shard_frame()},{frame}]' for frame in frames]
    for what, frame, accepted in cases:
        assert ("value" in python_result(lambda f=frame: codec.decode(f))) == accepted, what
    for module in compiled:
        vectors = {"frames": frames, "batches": batches, "states": []}
        results = node_results(module, vectors, tmp_path)
        for (what, frame, accepted), outcome in zip(cases, results["frames"], strict=True):
            assert ("value" in outcome) == accepted, (what, outcome)
            assert same(python_result(lambda f=frame: codec.decode(f)), outcome), what
        for batch, outcome in zip(batches, results["batches"], strict=True):
            assert same(python_result(lambda b=batch: codec.decode_batch(b)), outcome), batch


def test_node_names_the_problem_of_a_shard_report_like_python(
    compiled: list[Path], tmp_path: Path
) -> None:
    # Node's message is Python's, less the details after a ";" or a " (tag and" that only
    # Python gives: the same frame kind, position, field and rule.
    refused = [(what, frame) for what, frame, accepted in SHARD_RULE_CASES if not accepted]
    python = {}
    for what, frame in refused:
        with pytest.raises(codec.DecodeError) as error:
            codec.decode(frame)
        python[what] = str(error.value)
    for module in compiled:
        vectors = {"frames": [frame for _, frame in refused], "batches": [], "states": []}
        results = node_results(module, vectors, tmp_path)
        for (what, _), outcome in zip(refused, results["frames"], strict=True):
            theirs = outcome["error"].split(";")[0]
            mine = python[what].split(" (tag and")[0]
            assert len(theirs) > len("shard report frame"), (what, outcome)
            assert mine.startswith(theirs), (what, outcome)


def test_node_decodes_a_shard_report_to_camel_case_keys(
    compiled: list[Path], tmp_path: Path
) -> None:
    report = codec.EXAMPLE_SHARD_REPORT
    frame = codec.encode(report).decode()
    vectors = {"frames": [frame], "batches": [codec.encode_batch([report]).decode()], "states": []}
    expected = {
        "kind": "shardReport",
        "campaignId": str(report.campaign_id),
        "phase": report.phase.value,
        "shard": report.shard,
        "shardTotal": report.shard_total,
        "processed": report.processed,
        "successful": report.successful,
        "failed": report.failed,
    }
    for module in compiled:
        results = node_results(module, vectors, tmp_path)
        assert results["frames"] == [{"value": expected}]
        assert results["batches"] == [{"value": [expected]}]


def test_every_field_kind_has_a_typescript_type() -> None:
    # The generated FieldKind (and so runtime.ts's READERS) lists every kind of the tables.
    assert list(_TS_TYPES) == list(get_args(FieldKind))
