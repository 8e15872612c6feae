"""The JSON Schema document, checked by jsonschema against what the Python decoders do."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import orjson
import pytest
from hypothesis import given

from phasekit import Event, Phase, PhaseState, PhaseStatus, ProgressMessage, codec, schema
from phasekit.codec import Message
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
