"""The compact and batch formats: round trips, strictness, limits, integral progress."""

from __future__ import annotations

import uuid

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from phasekit import DecodeError, InvalidValue, ProgressMessage, codec
from phasekit.codec import Message
from tests import strategies as st
from tests.frames import CAMPAIGN, TYPICAL


def test_many_campaigns_overflow_the_id_caches_safely() -> None:
    # Over twice as many campaigns as the id caches hold, read from the code so that the
    # caches overflow whatever the limit: they are cleared and refilled (twice), and every
    # frame still round-trips.
    messages = [
        ProgressMessage(uuid.UUID(int=n), "dns_validation", "running", 1.0, 1, 2)
        for n in range(1, 2 * codec.ID_CACHE_LIMIT + 2)
    ]
    for message in messages:
        assert codec.decode(codec.encode(message)) == message


@given(st.messages)
def test_compact_round_trip_is_exact_and_deterministic(message: Message) -> None:
    frame = codec.encode(message)
    assert codec.decode(frame) == message
    assert codec.decode(frame.decode()) == message
    assert codec.decode(bytearray(frame)) == message
    assert codec.decode(memoryview(frame)) == message
    assert codec.encode(message) == frame
    assert orjson.loads(frame)[0] in ("p1", "t1")


@given(hs.lists(st.messages, max_size=8))
def test_batch_round_trip(messages: list[Message]) -> None:
    frame = codec.encode_batch(messages)
    assert codec.decode_batch(frame) == messages


def test_compact_is_a_small_fraction_of_the_legacy_dual_broadcast() -> None:
    compact = len(codec.encode(TYPICAL))
    legacy = len(codec.encode_verbose(TYPICAL)) + len(
        codec.encode_legacy(TYPICAL, message_id=uuid.UUID(int=2**128 - 1))
    )
    assert compact / legacy <= 0.20


# --- strict decoding ------------------------------------------------------------------

GOOD = orjson.loads(codec.encode(TYPICAL))


def frame_with(position: int, value: object) -> bytes:
    items = list(GOOD)
    items[position] = value
    return orjson.dumps(items)


def test_integral_progress_decodes_as_a_float() -> None:
    # A JavaScript producer writes 100 for 100.0: accepted, and the record holds a float.
    for progress in (0, 61, 100):
        decoded = codec.decode(frame_with(4, progress))
        assert isinstance(decoded, ProgressMessage)
        assert decoded.progress == progress
        assert type(decoded.progress) is float


def test_integral_progress_is_re_encoded_as_a_float() -> None:
    # The relaxation is on the reading side only: encode always writes a float.
    decoded = codec.decode(frame_with(4, 61))
    assert codec.encode(decoded) == frame_with(4, 61.0)
    assert b",61.0," in codec.encode(decoded)


def test_integral_progress_in_a_batch_decodes_as_a_float() -> None:
    batch = orjson.dumps(["b1", orjson.loads(frame_with(4, 100)), GOOD])
    first, second = codec.decode_batch(batch)
    assert isinstance(first, ProgressMessage)
    assert (first.progress, type(first.progress)) == (100.0, float)
    assert second == TYPICAL


@pytest.mark.parametrize("progress", [True, False, "61", None, -1, 101, 2**53])
def test_progress_that_is_not_a_number_in_range_is_refused(progress: object) -> None:
    # Integral is fine (61 for 61.0), but a bool is not a number, nor is text.
    with pytest.raises(DecodeError, match=r"position 4 \(progress\) must be a number in 0..100"):
        codec.decode(frame_with(4, progress))
    with pytest.raises(DecodeError, match=r"position 4 \(progress\)"):
        codec.decode_batch(orjson.dumps(["b1", orjson.loads(frame_with(4, progress))]))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "not valid JSON"),
        (b"[1,", "not valid JSON"),
        (b'"p1"', "non-empty JSON array"),
        (b"[]", "non-empty JSON array"),
        (b'["p2"]', "unknown tag 'p2'"),
        (b'["p1"]', "must have 11 items"),
        (orjson.dumps([*GOOD, 0]), "must have 11 items"),
        (frame_with(1, str(CAMPAIGN).upper()), r"position 1 \(campaign_id\)"),
        (frame_with(1, "{" + str(CAMPAIGN) + "}"), "canonical lower-case UUID"),
        (frame_with(1, str(CAMPAIGN) + "\n"), "canonical lower-case UUID"),
        (frame_with(2, 3), r"position 2 \(phase\) must be a phase code"),
        (frame_with(2, True), r"position 2 \(phase\)"),
        (frame_with(3, 6), r"position 3 \(status\)"),
        (frame_with(4, True), r"position 4 \(progress\) must be a number"),
        (frame_with(4, 101), r"position 4 \(progress\) must be a number in 0..100"),
        (frame_with(4, 100.5), r"position 4 \(progress\)"),
        (frame_with(5, 5.0), r"position 5 \(processed\) must be an int"),
        (frame_with(5, False), r"position 5 \(processed\)"),
        (frame_with(6, -1), r"position 6 \(total\)"),
        (frame_with(6, 2**53), r"position 6 \(total\)"),
        (frame_with(6, 2**64 - 1), r"position 6 \(total\)"),
        (frame_with(5, 2_000_001), "must not exceed total"),
        (frame_with(7, 1_300_000), "must not exceed processed"),
        (frame_with(10, codec.MAX_TIMESTAMP_MS + 1), r"position 10 \(timestamp_ms\)"),
        (b'["p1","' + str(CAMPAIGN).encode() + b'",1,1,NaN,0,0,0,0,0,0]', "not valid JSON"),
        (b'["p1","' + str(CAMPAIGN).encode() + b'",1,1,1e999,0,0,0,0,0,0]', "not valid JSON"),
        (b'["t1","' + str(CAMPAIGN).encode() + b'",1,1,0,"x",0,0]', "must come before"),
        (b'["t1","' + str(CAMPAIGN).encode() + b'",0,1,0,"",0,0]', "must not be empty"),
        (b'["t1","' + str(CAMPAIGN).encode() + b'",0,1,0," x",0,0]', "stripped"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_decode_refuses_what_encode_cannot_produce(frame: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        codec.decode(frame)


def test_size_and_count_limits() -> None:
    frame = codec.encode(TYPICAL)
    with pytest.raises(DecodeError, match="exceeds the limit of 50 bytes"):
        codec.decode(frame, max_bytes=50)
    assert codec.decode(frame, max_bytes=len(frame)) == TYPICAL
    with pytest.raises(DecodeError, match="exceeds the limit"):
        codec.decode(" " * (64 * 1024 + 1))
    with pytest.raises(DecodeError, match="exceeds the limit of 100 bytes"):
        codec.decode("é" * 51, max_bytes=100)  # 102 bytes of UTF-8 in 51 characters
    batch = codec.encode_batch([TYPICAL] * 3)
    with pytest.raises(DecodeError, match="batch of 3 messages exceeds the limit of 2"):
        codec.decode_batch(batch, max_messages=2)
    assert codec.decode_batch(batch, max_messages=3) == [TYPICAL] * 3
    for bad in (0, -1, 1.5, None):
        with pytest.raises(InvalidValue):
            codec.decode(frame, max_bytes=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidValue):
            codec.decode_batch(batch, max_messages=bad if bad != 0 else -1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b'{"b1": 1}', "starting with 'b1'"),
        (b'["p1"]', "starting with 'b1'"),
        (b'["b1", ["p1"]]', "must have 11 items"),
        (b'["b1", 5]', "batch item 1 must be a non-empty JSON array"),
        (b'["b1", ["b1"]]', "batch item 1 has unknown tag 'b1'"),
    ],
)
def test_decode_batch_refuses_bad_frames(frame: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        codec.decode_batch(frame)


def test_encoders_refuse_non_messages() -> None:
    for encoder in (codec.encode, codec.encode_verbose, lambda m: codec.encode_batch([m])):
        with pytest.raises(InvalidValue, match="must be a ProgressMessage or TransitionMessage"):
            encoder({"progress": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        codec.encode_legacy("x", message_id=CAMPAIGN)  # type: ignore[arg-type]
