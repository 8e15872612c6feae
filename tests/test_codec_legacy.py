"""The legacy ``campaign_progress`` envelope."""

from __future__ import annotations

import uuid

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from phasekit import DecodeError, ProgressMessage, codec, map_legacy, to_legacy
from tests import strategies as st
from tests.frames import CAMPAIGN, changed


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


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": 5}, r"legacy frame data must be an object with exactly \['phase', "),
        ({"data": {}}, "legacy data.progressPercentage is missing"),
        ({"type": None, "campaignId": None}, "legacy type must be .*; legacy campaignId must"),
    ],
)
def test_decode_legacy_names_every_bad_key(change: dict[str, object], message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        codec.decode_legacy(changed(orjson.dumps(LEGACY), change))


def test_decode_legacy_names_a_missing_key() -> None:
    envelope = orjson.loads(orjson.dumps(LEGACY))
    del envelope["campaignId"]
    with pytest.raises(DecodeError, match="legacy campaignId is missing"):
        codec.decode_legacy(orjson.dumps(envelope))
