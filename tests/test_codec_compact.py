"""The compact and batch formats: round trips, strictness, limits, integral progress."""

from __future__ import annotations

import uuid

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from phasekit import DecodeError, InvalidValue, ProgressMessage, ShardReport, codec
from phasekit.codec import Frame
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


@given(st.frames)
def test_compact_round_trip_is_exact_and_deterministic(message: Frame) -> None:
    frame = codec.encode(message)
    assert codec.decode(frame) == message
    assert codec.decode(frame.decode()) == message
    assert codec.decode(bytearray(frame)) == message
    assert codec.decode(memoryview(frame)) == message
    assert codec.encode(message) == frame
    assert orjson.loads(frame)[0] in ("p1", "t1", "s1")


@given(hs.lists(st.frames, max_size=8))
def test_batch_round_trip(messages: list[Frame]) -> None:
    frame = codec.encode_batch(messages)
    assert codec.decode_batch(frame) == messages


def test_compact_is_a_small_fraction_of_the_legacy_dual_broadcast() -> None:
    compact = len(codec.encode(TYPICAL))
    legacy = len(codec.encode_verbose(TYPICAL)) + len(
        codec.encode_legacy(TYPICAL, message_id=uuid.UUID(int=2**128 - 1))
    )
    assert compact / legacy <= 0.20


def test_a_shard_report_frame_is_smaller_than_a_progress_frame() -> None:
    report = codec.EXAMPLE_SHARD_REPORT
    frame = codec.encode(report)
    assert frame == (b'["s1","9b2e4c1a-7f3d-4e8a-b5c6-0d1e2f3a4b5c",1,7,10000,6250,6075,175]')
    assert len(frame) < len(codec.encode(TYPICAL))


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


SHARD = orjson.loads(codec.encode(codec.EXAMPLE_SHARD_REPORT))


def shard_frame_with(position: int, value: object) -> bytes:
    items = list(SHARD)
    items[position] = value
    return orjson.dumps(items)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b'["s1"]', "shard report frame must have 8 items"),
        (orjson.dumps([*SHARD, 0]), "must have 8 items"),
        (shard_frame_with(1, str(CAMPAIGN).upper()), r"position 1 \(campaign_id\)"),
        (shard_frame_with(2, 3), r"position 2 \(phase\) must be a phase code"),
        (shard_frame_with(3, -1), r"position 3 \(shard\) must be an int in 0..2147483647"),
        (shard_frame_with(3, codec.MAX_SHARD + 1), r"position 3 \(shard\)"),
        (shard_frame_with(3, True), r"position 3 \(shard\)"),
        (shard_frame_with(4, 2**53), r"position 4 \(shard_total\)"),
        (shard_frame_with(4, 6_249), r"processed \(6250\) must not exceed shard_total"),
        (shard_frame_with(5, 6.0), r"position 5 \(processed\) must be an int"),
        (shard_frame_with(6, 6_076), "must not exceed processed"),
        (shard_frame_with(7, -1), r"position 7 \(failed\)"),
    ],
)
def test_decode_refuses_bad_shard_report_frames(frame: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        codec.decode(frame)
    with pytest.raises(DecodeError, match=message):
        codec.decode_batch(orjson.dumps(["b1", orjson.loads(frame)]))


def test_shard_reports_and_messages_share_a_batch() -> None:
    batch: list[Frame] = [TYPICAL, codec.EXAMPLE_SHARD_REPORT, codec.EXAMPLE_TRANSITION]
    decoded = codec.decode_batch(codec.encode_batch(batch))
    assert decoded == batch
    assert isinstance(decoded[1], ShardReport)


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
    for encoder in (codec.encode, lambda m: codec.encode_batch([m])):
        with pytest.raises(
            InvalidValue, match="must be a ProgressMessage, TransitionMessage or ShardReport"
        ):
            encoder({"progress": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="must be a ProgressMessage or TransitionMessage"):
        codec.encode_verbose({"progress": 1})  # type: ignore[arg-type]
    # Shard reports travel between workers in compact frames only: no verbose envelope.
    with pytest.raises(InvalidValue, match="must be a ProgressMessage or TransitionMessage"):
        codec.encode_verbose(codec.EXAMPLE_SHARD_REPORT)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        codec.encode_legacy("x", message_id=CAMPAIGN)  # type: ignore[arg-type]
