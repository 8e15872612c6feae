"""The JSON Schema document, checked by jsonschema against what the Python decoders do."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given

from phasekit import Event, Phase, PhaseState, PhaseStatus, ProgressMessage, codec, schema
from phasekit.codec import Frame, Message
from phasekit.errors import PhasekitError
from tests import strategies as st


def as_json(document: dict[str, schema.JSONValue]) -> Any:
    """The document as JSON gives it back: this also proves it serializes."""
    return orjson.loads(orjson.dumps(document))


@functools.cache
def validator(definition: str) -> jsonschema.Draft202012Validator:
    """A validator of one definition, built once: Hypothesis calls this for every example."""
    document = as_json(schema.json_schema())
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(
        {**document, "$ref": f"#/$defs/{definition}"},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


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


# The compact-frame definition of each frame tag.
COMPACT_DEFINITIONS = {
    codec.PROGRESS_TAG: "CompactProgressFrame",
    codec.TRANSITION_TAG: "CompactTransitionFrame",
    codec.SHARD_REPORT_TAG: "CompactShardReportFrame",
}


@given(st.frames, st.frames)
def test_every_compact_frame_validates(message: Frame, other: Frame) -> None:
    frame = orjson.loads(codec.encode(message))
    validator("CompactFrame").validate(frame)
    validator(COMPACT_DEFINITIONS[frame[0]]).validate(frame)
    for name in set(COMPACT_DEFINITIONS.values()) - {COMPACT_DEFINITIONS[frame[0]]}:
        assert not validator(name).is_valid(frame)
    validator("BatchFrame").validate(orjson.loads(codec.encode_batch([message, other])))


@given(st.shard_reports())
def test_every_shard_report_frame_validates(report: codec.ShardReport) -> None:
    frame = orjson.loads(codec.encode(report))
    validator("CompactShardReportFrame").validate(frame)
    validator("CompactFrame").validate(frame)
    validator("BatchFrame").validate(orjson.loads(codec.encode_batch([report, report])))


def test_the_shard_report_frame_is_the_field_table() -> None:
    definition = as_json(schema.json_schema())["$defs"]["CompactShardReportFrame"]
    items = definition["prefixItems"]
    assert items[0] == {"const": codec.SHARD_REPORT_TAG}
    assert len(items) == definition["minItems"] == definition["maxItems"]
    assert [item["description"] for item in items[1:]] == [
        field.doc for field in codec.SHARD_REPORT_FIELDS
    ]
    assert items[3]["maximum"] == codec.MAX_SHARD
    compact = as_json(schema.json_schema())["$defs"]["CompactFrame"]["oneOf"]
    assert {"$ref": "#/$defs/CompactShardReportFrame"} in compact


@given(st.phase_states)
def test_states_and_transitions_validate(state: PhaseState) -> None:
    record = {"phase": state.phase.value, "status": state.status.value, "progress": state.progress}
    validator("PhaseState").validate(record)
    validator("PhaseTransition").validate({"previous": record, "current": record, "reason": "r"})


def as_phase_state(instance: object) -> object:
    assert isinstance(instance, dict)
    return PhaseState(**instance)


SHARD_REPORT_ITEMS: list[Any] = orjson.loads(codec.encode(codec.EXAMPLE_SHARD_REPORT))


def shard_report_items(**changes: object) -> list[Any]:
    """The example shard report's frame items, with fields replaced by name."""
    items = list(SHARD_REPORT_ITEMS)
    for position, field in enumerate(codec.SHARD_REPORT_FIELDS, start=1):
        if field.name in changes:
            items[position] = changes[field.name]
    return items


# Each definition with the Python function that decodes the same value.
DECODERS: dict[str, Any] = {
    "Phase": lambda instance: PhaseState(instance, "pending"),
    "CompactProgressFrame": lambda instance: codec.decode(orjson.dumps(instance)),
    "CompactTransitionFrame": lambda instance: codec.decode(orjson.dumps(instance)),
    "CompactShardReportFrame": lambda instance: codec.decode(orjson.dumps(instance)),
    "CompactFrame": lambda instance: codec.decode(orjson.dumps(instance)),
    "BatchFrame": lambda instance: codec.decode_batch(orjson.dumps(instance)),
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
        ("CompactShardReportFrame", ["s1"]),
        ("CompactShardReportFrame", [*SHARD_REPORT_ITEMS, 0]),
        ("CompactShardReportFrame", SHARD_REPORT_ITEMS[:-1]),
        ("CompactShardReportFrame", shard_report_items(shard=codec.MAX_SHARD + 1)),
        ("CompactShardReportFrame", shard_report_items(shard=-1)),
        ("CompactShardReportFrame", shard_report_items(shard=True)),
        ("CompactShardReportFrame", shard_report_items(processed=2.5)),
        ("CompactShardReportFrame", shard_report_items(failed=False)),
        ("CompactShardReportFrame", shard_report_items(successful=None)),
        ("CompactShardReportFrame", shard_report_items(shard_total=codec.MAX_INTEGER + 1)),
        ("CompactShardReportFrame", shard_report_items(phase=3)),
        ("CompactShardReportFrame", shard_report_items(phase="dns_validation")),
        ("CompactShardReportFrame", shard_report_items(campaign_id="not a uuid")),
        ("CompactFrame", shard_report_items(shard=codec.MAX_SHARD + 1)),
        ("CompactFrame", ["s2", *SHARD_REPORT_ITEMS[1:]]),
        ("BatchFrame", ["b1", SHARD_REPORT_ITEMS, shard_report_items(processed=1.5)]),
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
        ("CompactShardReportFrame", SHARD_REPORT_ITEMS),
        ("CompactShardReportFrame", shard_report_items(shard=codec.MAX_SHARD)),
        ("CompactShardReportFrame", shard_report_items(shard=0, shard_total=6_250)),
        ("CompactFrame", SHARD_REPORT_ITEMS),
        (
            "BatchFrame",
            orjson.loads(
                codec.encode_batch(
                    [codec.EXAMPLE_PROGRESS, codec.EXAMPLE_SHARD_REPORT, codec.EXAMPLE_TRANSITION]
                )
            ),
        ),
    ],
)
def test_schema_accepts_what_the_decoder_accepts(definition: str, instance: object) -> None:
    DECODERS[definition](instance)
    validator(definition).validate(instance)


def test_enum_descriptions_are_the_enums_docstrings() -> None:
    definitions = as_json(schema.json_schema())["$defs"]
    for kind in (Phase, PhaseStatus, Event):
        assert definitions[kind.__name__]["description"] == kind.__doc__


def test_compact_progress_may_be_integral() -> None:
    # A JavaScript producer writes 100 for 100.0: the decoder and the schema accept it.
    items = orjson.loads(codec.encode(codec.EXAMPLE_PROGRESS))
    for progress in (0, 61, 100):
        items[4] = progress
        decoded = codec.decode(orjson.dumps(items))
        assert isinstance(decoded, ProgressMessage)
        assert decoded.progress == progress
        validator("CompactProgressFrame").validate(items)
    items[4] = 101
    assert not validator("CompactProgressFrame").is_valid(items)


@pytest.mark.parametrize(
    "changes",
    [
        {"shard_total": 6_249},
        {"successful": 6_076},
        {"successful": 0, "failed": 6_251},
    ],
)
def test_shard_report_cross_field_rules_are_the_decoders(changes: dict[str, object]) -> None:
    # JSON Schema cannot compare two items of an array: the frame's description states
    # successful + failed <= processed <= shard_total, and only the decoder enforces it.
    items = shard_report_items(**changes)
    with pytest.raises(codec.DecodeError, match="must not exceed"):
        codec.decode(orjson.dumps(items))
    assert validator("CompactShardReportFrame").is_valid(items)
    assert (
        "successful + failed <= processed <= shard_total"
        in (as_json(schema.json_schema())["$defs"]["CompactShardReportFrame"]["description"])
    )
