"""Every decoder at once: input types, lone surrogates, and fuzzing."""

from __future__ import annotations

from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from phasekit import DecodeError, PhasekitError, ProgressMessage, TransitionMessage, codec
from phasekit.codec import Message
from tests import strategies as st
from tests.frames import CAMPAIGN, DECODERS


@pytest.mark.parametrize("data", [None, 5, 1.5, ["p1"], {"a": 1}])
def test_every_decoder_refuses_non_text_input(data: object) -> None:
    for decoder in DECODERS:
        with pytest.raises(DecodeError, match="must be bytes, bytearray, memoryview or str"):
            decoder(data)


def test_lone_surrogates_are_a_decode_error() -> None:
    for decoder in DECODERS:
        with pytest.raises(DecodeError):
            decoder('["p1","\ud800' + "x" * 20000 + '"]')
        with pytest.raises(DecodeError):
            decoder('["p1","\ud800"]')


# --- fuzzing: any input gives a record or a DecodeError, nothing else ---------------------


def only_records_or_decode_errors(data: bytes | str) -> None:
    for decoder in DECODERS:
        try:
            result = decoder(data)
        except DecodeError:
            continue
        for record in result if isinstance(result, list) else [result]:
            assert isinstance(record, ProgressMessage | TransitionMessage)
            # What was accepted is a valid record: building it again succeeds.
            assert type(record)(**attrs.asdict(record, recurse=False)) == record


def frames(message: Message) -> list[bytes]:
    return [
        codec.encode(message),
        codec.encode_batch([message, message]),
        codec.encode_verbose(message),
        *(
            [codec.encode_legacy(message, message_id=CAMPAIGN)]
            if isinstance(message, ProgressMessage)
            else []
        ),
    ]


@settings(max_examples=300)
@given(hs.binary(max_size=200))
def test_fuzz_random_bytes(data: bytes) -> None:
    only_records_or_decode_errors(data)


@settings(max_examples=300)
@given(st.texts(max_size=200))
def test_fuzz_random_text(data: str) -> None:
    only_records_or_decode_errors(data)


@settings(max_examples=300)
@given(st.messages, hs.data())
def test_fuzz_truncated_and_bit_flipped_frames(message: Message, data: hs.DataObject) -> None:
    for frame in frames(message):
        cut = data.draw(hs.integers(0, len(frame)))
        only_records_or_decode_errors(frame[:cut])
        position = data.draw(hs.integers(0, len(frame) - 1))
        bit = data.draw(hs.integers(0, 7))
        flipped = bytearray(frame)
        flipped[position] ^= 1 << bit
        only_records_or_decode_errors(bytes(flipped))


def swap_one(value: Any, data: hs.DataObject) -> Any:
    """Replace one value somewhere inside a decoded JSON document."""
    if isinstance(value, list) and value and data.draw(hs.booleans()):
        index = data.draw(hs.integers(0, len(value) - 1))
        return [*value[:index], swap_one(value[index], data), *value[index + 1 :]]
    if isinstance(value, dict) and value and data.draw(hs.booleans()):
        key = data.draw(hs.sampled_from(sorted(value)))
        return {**value, key: swap_one(value[key], data)}
    return data.draw(st.json_values)


@settings(max_examples=300)
@given(st.messages, hs.data())
def test_fuzz_type_swapped_frames(message: Message, data: hs.DataObject) -> None:
    for frame in frames(message):
        swapped = swap_one(orjson.loads(frame), data)
        only_records_or_decode_errors(orjson.dumps(swapped))


def test_decoders_raise_only_phasekit_errors_on_valid_json_of_other_shapes() -> None:
    documents: list[object] = [
        None,
        True,
        0,
        "",
        [],
        {},
        [None],
        {"type": None},
        {"data": {}},
        ["b1", []],
        ["t1", None, None, None, None, None, None, None],
    ]
    for document in documents:
        for decoder in DECODERS:
            with pytest.raises(PhasekitError):
                decoder(orjson.dumps(document))
