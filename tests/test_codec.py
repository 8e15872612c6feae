"""The message records and every wire format: round trips, strictness and fuzzing."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from phasekit import (
    DecodeError,
    InvalidProgress,
    InvalidValue,
    PhasekitError,
    ProgressMessage,
    TransitionMessage,
    codec,
    map_legacy,
    to_legacy,
)
from phasekit.codec import (
    MAX_INTEGER,
    PHASE_CODES,
    PROGRESS_FIELDS,
    STATUS_CODES,
    TRANSITION_FIELDS,
    Message,
)
from tests import strategies as st

TYPICAL = codec.EXAMPLE_PROGRESS
CAMPAIGN = TYPICAL.campaign_id
DECODERS: list[Callable[..., object]] = [
    codec.decode,
    codec.decode_batch,
    codec.decode_verbose,
    codec.decode_legacy,
]


# --- records --------------------------------------------------------------------------


def test_enum_codes_are_pinned() -> None:
    # Codes are part of the wire format: this test changes only with a new format version.
    assert {p.value: c for p, c in PHASE_CODES.items()} == {
        "domain_generation": 0,
        "dns_validation": 1,
        "http_validation": 2,
    }
    assert {s.value: c for s, c in STATUS_CODES.items()} == {
        "pending": 0,
        "running": 1,
        "paused": 2,
        "completed": 3,
        "failed": 4,
        "cancelled": 5,
    }


def test_field_tables_name_every_record_field_in_order() -> None:
    assert [f.name for f in PROGRESS_FIELDS] == [a.name for a in attrs.fields(ProgressMessage)]
    assert [f.name for f in TRANSITION_FIELDS] == [a.name for a in attrs.fields(TransitionMessage)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"campaign_id": "not-a-uuid"}, "campaign_id"),
        ({"campaign_id": str(CAMPAIGN).upper()}, "campaign_id"),
        ({"campaign_id": 5}, "campaign_id"),
        ({"phase": "ftp"}, "phase"),
        ({"status": 1}, "status"),
        ({"processed": True}, "processed"),
        ({"processed": 1.0}, "processed"),
        ({"total": -1}, "total"),
        ({"total": MAX_INTEGER + 1}, "total"),
        ({"successful": "1"}, "successful"),
        ({"failed": None}, "failed"),
        ({"sequence": -5}, "sequence"),
        ({"timestamp_ms": codec.MAX_TIMESTAMP_MS + 1}, "timestamp_ms"),
        ({"processed": 11, "total": 10}, "processed"),
        ({"successful": 3, "failed": 3, "processed": 5}, "successful"),
    ],
)
def test_invalid_progress_fields_raise(change: dict[str, object], field: str) -> None:
    fields: dict[str, Any] = {
        "campaign_id": CAMPAIGN,
        "phase": "dns_validation",
        "status": "running",
        "progress": 5.0,
        "processed": 5,
        "total": 10,
    }
    with pytest.raises(InvalidValue) as caught:
        ProgressMessage(**{**fields, **change})
    assert caught.value.field == field


@pytest.mark.parametrize("progress", [math.nan, math.inf, -1.0, 100.5, True, "5"])
def test_invalid_progress_percentage_raises(progress: object) -> None:
    with pytest.raises(InvalidProgress):
        ProgressMessage(CAMPAIGN, "dns_validation", "running", progress, 0, 0)


def test_campaign_id_accepts_canonical_text() -> None:
    message = ProgressMessage(str(CAMPAIGN), "dns_validation", "running", 5, 0, 0)
    assert message.campaign_id == CAMPAIGN
    assert message.progress == 5.0
    assert message.state.progress == 5.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"previous_phase": "dns_validation", "phase": "dns_validation"}, "previous_phase"),
        ({"previous_phase": "http_validation", "phase": "dns_validation"}, "previous_phase"),
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"status": "done"}, "status"),
    ],
)
def test_invalid_transition_fields_raise(change: dict[str, object], field: str) -> None:
    fields: dict[str, Any] = {
        "campaign_id": CAMPAIGN,
        "previous_phase": "domain_generation",
        "phase": "dns_validation",
        "status": "pending",
        "reason": "ready",
    }
    with pytest.raises(InvalidValue) as caught:
        TransitionMessage(**{**fields, **change})
    assert caught.value.field == field


def test_records_have_readable_reprs() -> None:
    assert repr(codec.EXAMPLE_TRANSITION).startswith(
        "TransitionMessage(campaign_id=UUID('9b2e4c1a-7f3d-4e8a-b5c6-0d1e2f3a4b5c'), "
        "previous_phase=Phase.DOMAIN_GENERATION, phase=Phase.DNS_VALIDATION, "
        "status=PhaseStatus.PENDING, reason='2,000,000 domains generated'"
    )
    assert "status=PhaseStatus.RUNNING, progress=61.72" in repr(TYPICAL)


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


def test_transition_reason_is_stored_stripped() -> None:
    message = TransitionMessage(
        CAMPAIGN, "domain_generation", "http_validation", "pending", "  skip dns  "
    )
    assert message.reason == "skip dns"


# --- round trips ----------------------------------------------------------------------


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


@given(st.messages)
def test_verbose_round_trip(message: Message) -> None:
    frame = codec.encode_verbose(message)
    assert codec.decode_verbose(frame) == message
    envelope = orjson.loads(frame)
    assert envelope["timestamp"] == codec.format_timestamp(message.timestamp_ms)
    fields = PROGRESS_FIELDS if isinstance(message, ProgressMessage) else TRANSITION_FIELDS
    assert list(envelope["data"]) == [f.verbose for f in fields if f.verbose]


@given(st.progress_messages(), hs.uuids())
def test_legacy_round_trip(message: ProgressMessage, message_id: uuid.UUID) -> None:
    frame = codec.encode_legacy(message, message_id=message_id)
    decoded = codec.decode_legacy(frame)
    campaign_type, status, progress = to_legacy(message.state)
    expected_state = map_legacy(campaign_type, status, progress)
    assert decoded.state == expected_state
    assert (
        decoded.campaign_id,
        decoded.processed,
        decoded.total,
        decoded.sequence,
        decoded.timestamp_ms,
    ) == (
        message.campaign_id,
        message.processed,
        message.total,
        message.sequence,
        message.timestamp_ms,
    )
    assert (decoded.successful, decoded.failed) == (0, 0)
    assert orjson.loads(frame)["id"] == str(message_id)


@given(hs.integers(0, codec.MAX_TIMESTAMP_MS))
def test_timestamps_round_trip(timestamp_ms: int) -> None:
    text = codec.format_timestamp(timestamp_ms)
    assert len(text) == 24
    assert codec.parse_timestamp(text) == timestamp_ms
    assert codec.parse_timestamp(text, strict=False) == timestamp_ms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T12:00:00Z", 1_795_867_200_000),
        ("2026-11-28T12:00:00.5Z", 1_795_867_200_500),
        ("2026-11-28T12:00:00.123456789Z", 1_795_867_200_123),
        ("2026-11-28T14:00:00.123+02:00", 1_795_867_200_123),
        ("2026-11-28T07:30:00.000-04:30", 1_795_867_200_000),
        ("1970-01-01T00:00:00z", 0),
    ],
)
def test_legacy_timestamps_are_read_leniently(text: str, expected: int) -> None:
    assert codec.parse_timestamp(text, strict=False) == expected


@pytest.mark.parametrize(
    "text",
    [
        "\u0662\u0660\u0662\u0666-11-28T12:00:00.000Z",
        "2026-11-28T12:00:00.000Z\n",
        "2026-11-28T12:00:00Z",
        "2026-11-28 12:00:00.000Z",
        "2026-13-01T00:00:00.000Z",
        "2026-02-30T00:00:00.000Z",
        "1969-12-31T23:59:59.999Z",
        17,
        "",
    ],
)
def test_strict_timestamps_refuse_other_forms(text: object) -> None:
    with pytest.raises(DecodeError, match="timestamp"):
        codec.parse_timestamp(text)  # type: ignore[arg-type]


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


def changed(frame: bytes, change: dict[str, object]) -> bytes:
    """Return an envelope with keys replaced; ``data/key`` names a key inside ``data``."""
    envelope = orjson.loads(frame)
    for key, value in change.items():
        if key.startswith("data/"):
            envelope["data"][key[5:]] = value
        else:
            envelope[key] = value
    return orjson.dumps(envelope)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "campaign_progress"}, "type must be"),
        ({"timestamp": "2026-11-28T12:00:00Z"}, "timestamp must be"),
        ({"extra": 1}, "exactly the keys"),
        ({"data": []}, "data must be a JSON object"),
        ({"data": {"campaignId": str(CAMPAIGN)}}, "data.currentPhase: required key is missing"),
        ({"data/processedItems": 1.0}, "must be an integer"),
        ({"data/processedItems": True}, "must be an integer"),
        ({"data/progressPercent": "5"}, "must be a number"),
        ({"data/currentPhase": "ftp"}, "phase must be a Phase"),
        ({"data/campaignId": str(CAMPAIGN).upper()}, "campaign_id must be"),
        ({"data/processedItems": 3_000_000}, "must not exceed total"),
        ({"data/bogus": 1}, "Extra fields"),
        ({"data/__timestamp_ms": 1}, "unexpected key"),
    ],
)
def test_decode_verbose_refuses_bad_envelopes(change: dict[str, object], message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        codec.decode_verbose(changed(codec.encode_verbose(TYPICAL), change))


def test_verbose_accepts_an_integral_progress_from_javascript() -> None:
    envelope = orjson.loads(codec.encode_verbose(TYPICAL))
    envelope["data"]["progressPercent"] = 61
    decoded = codec.decode_verbose(orjson.dumps(envelope))
    assert isinstance(decoded, ProgressMessage)
    assert decoded.progress == 61.0


LEGACY = {
    "id": "0b6f7c0e-7d7b-4d36-b1e2-3d5c9e2f4a11",
    "timestamp": "2025-06-01T10:15:30.123456789Z",
    "type": "campaign_progress",
    "sequenceNumber": 42,
    "campaignId": str(CAMPAIGN),
    "data": {
        "progressPercentage": 37.5,
        "status": "pausing",
        "phase": "http_keyword_validation",
        "processedItems": 375,
        "totalItems": 1000,
    },
    "message": "halfway there",
}


def test_decode_legacy_reads_a_real_envelope() -> None:
    message = codec.decode_legacy(orjson.dumps(LEGACY))
    assert message == ProgressMessage(
        CAMPAIGN, "http_validation", "paused", 37.5, 375, 1000, 0, 0, 42, 1_748_772_930_123
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "campaign.progress"}, "type must be 'campaign_progress'"),
        ({"data/status": "deleted"}, r"data.status 'deleted' is not a legacy value"),
        ({"data/phase": "http_validation"}, r"data.phase 'http_validation' is not a legacy"),
        ({"data/phase": 3}, "data.phase must be a string"),
        ({"data/progressPercentage": 120.0}, "0..100"),
        ({"data/processedItems": 1001}, "must not exceed total"),
        ({"data/totalItems": -1}, "total must be an int"),
        ({"campaignId": 12}, "campaignId must be a string"),
        ({"campaignId": "nope"}, "campaign_id must be"),
        ({"timestamp": "yesterday"}, "RFC 3339"),
        ({"sequenceNumber": 1.5}, "sequence must be an int"),
        ({"surprise": True}, "unexpected \\['surprise'\\]"),
        ({"data/extra": 1}, "data must be an object with exactly"),
    ],
)
def test_decode_legacy_refuses_bad_envelopes(change: dict[str, object], message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        codec.decode_legacy(changed(orjson.dumps(LEGACY), change))


def test_decode_legacy_accepts_integral_progress_and_no_optional_keys() -> None:
    envelope = orjson.loads(orjson.dumps(LEGACY))
    del envelope["id"], envelope["message"]
    envelope["data"]["progressPercentage"] = 40
    assert codec.decode_legacy(orjson.dumps(envelope)).progress == 40.0


def test_encoders_refuse_non_messages() -> None:
    for encoder in (codec.encode, codec.encode_verbose, lambda m: codec.encode_batch([m])):
        with pytest.raises(InvalidValue, match="must be a ProgressMessage or TransitionMessage"):
            encoder({"progress": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        codec.encode_legacy("x", message_id=CAMPAIGN)  # type: ignore[arg-type]


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
