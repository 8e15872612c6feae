"""The message records and the tables every wire format reads.

:class:`ProgressMessage`, :class:`TransitionMessage` and :class:`ShardReport` validate
their fields on construction. :data:`PROGRESS_FIELDS`, :data:`TRANSITION_FIELDS` and
:data:`SHARD_REPORT_FIELDS` list every field in compact wire order, with its kind and its
name in the verbose envelope; the enum codes and the frame tags are declared here once
(the envelopes' names in :mod:`phasekit._envelopes`). The codec
(:mod:`phasekit.codec`), the JSON Schema, the TypeScript decoder and the docs all read
these tables; the public ones are re-exported by :mod:`phasekit.codec`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

import attrs

from phasekit._checks import (
    MAX_INTEGER,
    MAX_PROGRESS,
    MAX_REASON_LENGTH,
    MAX_TIMESTAMP_MS,
    check_int,
    check_progress,
    coerce_member,
    shown,
)
from phasekit._ids import check_uuid
from phasekit._model import (
    PHASE_ORDER,
    Phase,
    PhaseState,
    PhaseStatus,
    member_repr,
    to_phase,
    to_reason,
    to_status,
)
from phasekit.errors import InvalidValue

__all__ = [
    "BATCH_TAG",
    "EXAMPLE_PROGRESS",
    "EXAMPLE_SHARD_REPORT",
    "EXAMPLE_TRANSITION",
    "INTEGER_MAXIMUM",
    "MAX_SHARD",
    "PHASE_BY_CODE",
    "PHASE_CODES",
    "PROGRESS_FIELDS",
    "PROGRESS_TAG",
    "SHARD_REPORT_FIELDS",
    "SHARD_REPORT_TAG",
    "STATUS_BY_CODE",
    "STATUS_CODES",
    "TRANSITION_FIELDS",
    "TRANSITION_TAG",
    "FieldKind",
    "Frame",
    "Message",
    "ProgressMessage",
    "ShardReport",
    "TransitionMessage",
    "WireField",
    "check_frame",
    "check_message",
    "to_timestamp",
]

#: Leading tag of a compact progress frame, kind "p" and format version 1.
PROGRESS_TAG: Final = "p1"
#: Leading tag of a compact transition frame.
TRANSITION_TAG: Final = "t1"
#: Leading tag of a compact shard-report frame.
SHARD_REPORT_TAG: Final = "s1"
#: Leading tag of a batch frame.
BATCH_TAG: Final = "b1"

#: Wire code of each phase. Codes are never reordered or reused; new members get new ones.
PHASE_CODES: Final[Mapping[Phase, int]] = MappingProxyType(
    {Phase.DOMAIN_GENERATION: 0, Phase.DNS_VALIDATION: 1, Phase.HTTP_VALIDATION: 2}
)
#: Wire code of each status, under the same rule.
STATUS_CODES: Final[Mapping[PhaseStatus, int]] = MappingProxyType(
    {
        PhaseStatus.PENDING: 0,
        PhaseStatus.RUNNING: 1,
        PhaseStatus.PAUSED: 2,
        PhaseStatus.COMPLETED: 3,
        PhaseStatus.FAILED: 4,
        PhaseStatus.CANCELLED: 5,
    }
)
#: The phase of each wire code.
PHASE_BY_CODE: Final[Mapping[int, Phase]] = MappingProxyType(
    {code: phase for phase, code in PHASE_CODES.items()}
)
#: The status of each wire code.
STATUS_BY_CODE: Final[Mapping[int, PhaseStatus]] = MappingProxyType(
    {code: status for status, code in STATUS_CODES.items()}
)

FieldKind = Literal["uuid", "phase", "status", "percent", "count", "shard", "timestamp", "reason"]

#: Highest shard number: shards are numbered 0..2**31-1, a signed 32-bit int everywhere.
MAX_SHARD: Final = 2**31 - 1

#: The largest value of each integer field kind (the smallest is 0): the one place the
#: decoders and the JSON Schema read an int field's range from.
INTEGER_MAXIMUM: Final[Mapping[FieldKind, int]] = MappingProxyType(
    {"count": MAX_INTEGER, "shard": MAX_SHARD, "timestamp": MAX_TIMESTAMP_MS}
)


@attrs.frozen
class WireField:
    """One field of a message: its attribute, kind, verbose name and meaning.

    ``verbose`` is the key inside the verbose envelope's ``data``; ``None`` for the
    timestamp, which the envelope carries at its top level as RFC 3339 text, and for the
    fields of a shard report, which travels between workers in compact frames only.
    """

    name: str
    kind: FieldKind
    verbose: str | None
    doc: str


#: Fields of a progress message, in compact wire order (after the tag).
PROGRESS_FIELDS: Final[tuple[WireField, ...]] = (
    WireField("campaign_id", "uuid", "campaignId", "campaign UUID, canonical lower-case text"),
    WireField("phase", "phase", "currentPhase", "current phase (code in compact frames)"),
    WireField("status", "status", "phaseStatus", "status of that phase (code in compact frames)"),
    WireField("progress", "percent", "progressPercent", f"percent done, 0..{MAX_PROGRESS:g}"),
    WireField("processed", "count", "processedItems", "items processed so far"),
    WireField("total", "count", "totalItems", "items in the phase; processed <= total"),
    WireField("successful", "count", "successfulItems", "processed items that succeeded"),
    WireField("failed", "count", "failedItems", "processed items that failed"),
    WireField("sequence", "count", "sequence", "per-campaign message number"),
    WireField("timestamp_ms", "timestamp", None, "milliseconds since the Unix epoch"),
)
#: Fields of a transition message, in compact wire order (after the tag).
TRANSITION_FIELDS: Final[tuple[WireField, ...]] = (
    WireField("campaign_id", "uuid", "campaignId", "campaign UUID, canonical lower-case text"),
    WireField("previous_phase", "phase", "previousPhase", "phase that completed"),
    WireField("phase", "phase", "newPhase", "phase moved to; later than previous_phase"),
    WireField("status", "status", "newStatus", "status of the new phase"),
    WireField(
        "reason", "reason", "triggerReason", f"why, 1..{MAX_REASON_LENGTH} characters, stripped"
    ),
    WireField("sequence", "count", "sequence", "per-campaign message number"),
    WireField("timestamp_ms", "timestamp", None, "milliseconds since the Unix epoch"),
)
#: Fields of a shard report, in compact wire order (after the tag).
SHARD_REPORT_FIELDS: Final[tuple[WireField, ...]] = (
    WireField("campaign_id", "uuid", None, "campaign UUID, canonical lower-case text"),
    WireField("phase", "phase", None, "phase the shard is processed in (code in compact frames)"),
    WireField("shard", "shard", None, f"shard number, 0..{MAX_SHARD}"),
    WireField("shard_total", "count", None, "items in the shard; never changes"),
    WireField("processed", "count", None, "items of the shard processed; <= shard_total"),
    WireField("successful", "count", None, "processed items that succeeded"),
    WireField(
        "failed", "count", None, "processed items that failed; successful + failed <= processed"
    ),
)


def to_campaign_id(value: uuid.UUID | str) -> uuid.UUID:
    """The converter of every record's ``campaign_id`` field."""
    return check_uuid(value)


def _to_progress(value: float) -> float:
    return check_progress(value)


def _to_sequence(value: int) -> int:
    return check_int(value, "sequence", maximum=MAX_INTEGER)


def to_timestamp(value: int) -> int:
    """The converter of every record's ``timestamp_ms`` field."""
    return check_int(value, "timestamp_ms", maximum=MAX_TIMESTAMP_MS)


def _to_previous_phase(value: Phase | str) -> Phase:
    return coerce_member(Phase, value, "previous_phase")


def _to_processed(value: int) -> int:
    return check_int(value, "processed", maximum=MAX_INTEGER)


def _to_total(value: int) -> int:
    return check_int(value, "total", maximum=MAX_INTEGER)


def _to_successful(value: int) -> int:
    return check_int(value, "successful", maximum=MAX_INTEGER)


def _to_failed(value: int) -> int:
    return check_int(value, "failed", maximum=MAX_INTEGER)


def _to_shard(value: int) -> int:
    return check_int(value, "shard", maximum=MAX_SHARD)


def _to_shard_total(value: int) -> int:
    return check_int(value, "shard_total", maximum=MAX_INTEGER)


def _check_counts(processed: int, successful: int, failed: int) -> None:
    if successful + failed > processed:
        raise InvalidValue(
            f"successful + failed ({successful} + {failed}) must not exceed "
            f"processed ({processed})",
            field="successful",
            value=successful,
        )


@attrs.frozen(weakref_slot=False)
class ProgressMessage:
    """A progress update of one campaign's current phase.

    Counts are ints (never bools) in 0..2**53-1 with ``processed <= total`` and
    ``successful + failed <= processed``; ``progress`` is a finite percentage;
    ``sequence`` numbers the campaign's messages; ``timestamp_ms`` is milliseconds since
    the epoch, at most :data:`~phasekit.codec.MAX_TIMESTAMP_MS`. ``campaign_id`` accepts a
    :class:`uuid.UUID` or its canonical text.

    >>> import uuid
    >>> message = ProgressMessage(uuid.UUID(int=7), "dns_validation", "running", 40.0, 4, 10)
    >>> message.processed, message.total, message.status
    (4, 10, <PhaseStatus.RUNNING: 'running'>)
    """

    campaign_id: uuid.UUID = attrs.field(converter=to_campaign_id)
    phase: Phase = attrs.field(converter=to_phase, repr=member_repr)
    status: PhaseStatus = attrs.field(converter=to_status, repr=member_repr)
    progress: float = attrs.field(converter=_to_progress)
    processed: int = attrs.field(converter=_to_processed)
    total: int = attrs.field(converter=_to_total)
    successful: int = attrs.field(default=0, converter=_to_successful)
    failed: int = attrs.field(default=0, converter=_to_failed)
    sequence: int = attrs.field(default=0, converter=_to_sequence)
    timestamp_ms: int = attrs.field(default=0, converter=to_timestamp)

    def __attrs_post_init__(self) -> None:
        if self.processed > self.total:
            raise InvalidValue(
                f"processed ({self.processed}) must not exceed total ({self.total})",
                field="processed",
                value=self.processed,
            )
        _check_counts(self.processed, self.successful, self.failed)

    @property
    def state(self) -> PhaseState:
        """The :class:`~phasekit.PhaseState` this message reports."""
        return PhaseState(self.phase, self.status, self.progress)


@attrs.frozen(weakref_slot=False)
class TransitionMessage:
    """The notice that a campaign moved on from ``previous_phase`` to ``phase``.

    ``previous_phase`` comes before ``phase`` in pipeline order; ``status`` is the new
    phase's status; ``reason`` follows the rules of :func:`~phasekit.transition_to`
    (stripped, 1..500 characters).
    """

    campaign_id: uuid.UUID = attrs.field(converter=to_campaign_id)
    previous_phase: Phase = attrs.field(converter=_to_previous_phase, repr=member_repr)
    phase: Phase = attrs.field(converter=to_phase, repr=member_repr)
    status: PhaseStatus = attrs.field(converter=to_status, repr=member_repr)
    reason: str = attrs.field(converter=to_reason)
    sequence: int = attrs.field(default=0, converter=_to_sequence)
    timestamp_ms: int = attrs.field(default=0, converter=to_timestamp)

    def __attrs_post_init__(self) -> None:
        if PHASE_ORDER[self.previous_phase] >= PHASE_ORDER[self.phase]:
            raise InvalidValue(
                f"previous_phase ({self.previous_phase.value}) must come before phase "
                f"({self.phase.value}) in pipeline order",
                field="previous_phase",
                value=self.previous_phase,
            )


@attrs.frozen(weakref_slot=False)
class ShardReport:
    """One worker's counts for its shard of a campaign phase.

    A campaign phase's domains are split into shards, each processed by some worker,
    which reports its own shard's counts; :class:`~phasekit.CampaignProgress` merges the
    reports into the campaign's progress. ``shard`` numbers the shard (0..2**31-1) and
    ``shard_total`` is how many items it holds; the counts are ints (never bools) in
    0..2**53-1 with ``successful + failed <= processed <= shard_total``. ``campaign_id``
    accepts a :class:`uuid.UUID` or its canonical text and ``phase`` a
    :class:`~phasekit.Phase` or its value; anything else raises
    :class:`~phasekit.InvalidValue`.

    >>> import uuid
    >>> ShardReport(uuid.UUID(int=1), "dns_validation", 3, 10_000, 2_500, 2_400, 100).processed
    2500
    """

    campaign_id: uuid.UUID = attrs.field(converter=to_campaign_id)
    phase: Phase = attrs.field(converter=to_phase, repr=member_repr)
    shard: int = attrs.field(converter=_to_shard)
    shard_total: int = attrs.field(converter=_to_shard_total)
    processed: int = attrs.field(converter=_to_processed)
    successful: int = attrs.field(default=0, converter=_to_successful)
    failed: int = attrs.field(default=0, converter=_to_failed)

    def __attrs_post_init__(self) -> None:
        if self.processed > self.shard_total:
            raise InvalidValue(
                f"processed ({self.processed}) must not exceed shard_total ({self.shard_total})",
                field="processed",
                value=self.processed,
            )
        _check_counts(self.processed, self.successful, self.failed)


#: Either kind of message a client receives.
Message: TypeAlias = ProgressMessage | TransitionMessage
#: Anything a compact frame carries: a client message or a worker's shard report.
Frame: TypeAlias = ProgressMessage | TransitionMessage | ShardReport

#: A typical progress update (a random campaign id, a 13-digit timestamp, counts in the
#: millions), the example of the docs, the generated schemas and the benchmarks.
EXAMPLE_PROGRESS: Final = ProgressMessage(
    uuid.UUID("9b2e4c1a-7f3d-4e8a-b5c6-0d1e2f3a4b5c"),
    Phase.DNS_VALIDATION,
    PhaseStatus.RUNNING,
    61.72,
    1_234_567,
    2_000_000,
    1_200_000,
    34_567,
    12_345,
    1_764_331_200_123,
)
#: A typical phase-transition notice, for the same uses.
EXAMPLE_TRANSITION: Final = TransitionMessage(
    EXAMPLE_PROGRESS.campaign_id,
    Phase.DOMAIN_GENERATION,
    Phase.DNS_VALIDATION,
    PhaseStatus.PENDING,
    "2,000,000 domains generated",
    12_346,
    1_764_331_260_000,
)

#: A typical shard report (shard 7 of a 2,000,000-domain phase, in shards of 10,000), for
#: the same uses.
EXAMPLE_SHARD_REPORT: Final = ShardReport(
    EXAMPLE_PROGRESS.campaign_id, Phase.DNS_VALIDATION, 7, 10_000, 6_250, 6_075, 175
)


def check_message(value: object) -> Message:
    """Return ``value`` if it is a message, else raise :class:`~phasekit.InvalidValue`."""
    if type(value) is ProgressMessage or type(value) is TransitionMessage:
        return value
    raise InvalidValue(
        f"message must be a ProgressMessage or TransitionMessage; got {shown(value)}",
        field="message",
        value=value,
    )


def check_frame(value: object) -> Frame:
    """Return ``value`` if a compact frame can carry it, else raise
    :class:`~phasekit.InvalidValue`."""
    if type(value) is ShardReport:
        return value
    if type(value) is ProgressMessage or type(value) is TransitionMessage:
        return value
    raise InvalidValue(
        f"message must be a ProgressMessage, TransitionMessage or ShardReport; got {shown(value)}",
        field="message",
        value=value,
    )
