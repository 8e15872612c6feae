"""The verbose envelopes and RFC 3339 timestamps."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from phasekit import DecodeError, ProgressMessage, codec
from phasekit.codec import PROGRESS_FIELDS, TRANSITION_FIELDS, Message
from tests import strategies as st
from tests.frames import CAMPAIGN, TYPICAL, changed


@given(st.messages)
def test_verbose_round_trip(message: Message) -> None:
    frame = codec.encode_verbose(message)
    assert codec.decode_verbose(frame) == message
    envelope = orjson.loads(frame)
    assert envelope["timestamp"] == codec.format_timestamp(message.timestamp_ms)
    fields = PROGRESS_FIELDS if isinstance(message, ProgressMessage) else TRANSITION_FIELDS
    assert list(envelope["data"]) == [f.verbose for f in fields if f.verbose]


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
