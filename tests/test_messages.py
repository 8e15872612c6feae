"""The message records and their tables: codes, field order, validation, reprs."""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest

from phasekit import (
    InvalidProgress,
    InvalidValue,
    ProgressMessage,
    ShardReport,
    TransitionMessage,
    codec,
)
from phasekit.codec import (
    MAX_INTEGER,
    MAX_SHARD,
    PHASE_CODES,
    PROGRESS_FIELDS,
    SHARD_REPORT_FIELDS,
    STATUS_CODES,
    TRANSITION_FIELDS,
)
from tests.frames import CAMPAIGN, TYPICAL


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
    assert [f.name for f in SHARD_REPORT_FIELDS] == [a.name for a in attrs.fields(ShardReport)]


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
        ProgressMessage(CAMPAIGN, "dns_validation", "running", progress, 0, 0)  # type: ignore[arg-type]


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


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"campaign_id": "not-a-uuid"}, "campaign_id"),
        ({"campaign_id": None}, "campaign_id"),
        ({"phase": "ftp"}, "phase"),
        ({"phase": 1}, "phase"),
        ({"shard": -1}, "shard"),
        ({"shard": MAX_SHARD + 1}, "shard"),
        ({"shard": True}, "shard"),
        ({"shard": 1.0}, "shard"),
        ({"shard_total": MAX_INTEGER + 1}, "shard_total"),
        ({"shard_total": "10"}, "shard_total"),
        ({"processed": -1}, "processed"),
        ({"processed": 11}, "processed"),
        ({"successful": False}, "successful"),
        ({"failed": 2**53}, "failed"),
        ({"successful": 3, "failed": 3}, "successful"),
    ],
)
def test_invalid_shard_report_fields_raise(change: dict[str, object], field: str) -> None:
    fields: dict[str, Any] = {
        "campaign_id": CAMPAIGN,
        "phase": "dns_validation",
        "shard": 0,
        "shard_total": 10,
        "processed": 5,
    }
    with pytest.raises(InvalidValue) as caught:
        ShardReport(**{**fields, **change})
    assert caught.value.field == field


def test_shard_report_takes_the_edges_and_canonical_text() -> None:
    report = ShardReport(str(CAMPAIGN), "http_validation", MAX_SHARD, MAX_INTEGER, MAX_INTEGER)
    assert (report.campaign_id, report.shard, report.successful, report.failed) == (
        CAMPAIGN,
        MAX_SHARD,
        0,
        0,
    )
    assert repr(report).startswith(
        f"ShardReport(campaign_id=UUID('{CAMPAIGN}'), phase=Phase.HTTP_VALIDATION, "
    )


def test_records_have_readable_reprs() -> None:
    assert repr(codec.EXAMPLE_TRANSITION).startswith(
        "TransitionMessage(campaign_id=UUID('9b2e4c1a-7f3d-4e8a-b5c6-0d1e2f3a4b5c'), "
        "previous_phase=Phase.DOMAIN_GENERATION, phase=Phase.DNS_VALIDATION, "
        "status=PhaseStatus.PENDING, reason='2,000,000 domains generated'"
    )
    assert "status=PhaseStatus.RUNNING, progress=61.72" in repr(TYPICAL)


def test_transition_reason_is_stored_stripped() -> None:
    message = TransitionMessage(
        CAMPAIGN, "domain_generation", "http_validation", "pending", "  skip dns  "
    )
    assert message.reason == "skip dns"
