"""The compact wire format: one message as a tagged JSON array, and batches of them.

``["p1", campaign_id, phase code, status code, progress, processed, total, successful,
failed, sequence, timestamp_ms]`` for progress, ``["t1", campaign_id, previous phase
code, phase code, status code, reason, sequence, timestamp_ms]`` for a transition,
``["s1", campaign_id, phase code, shard, shard_total, processed, successful, failed]``
for a worker's shard report, ``["b1", frame, frame, ...]`` for a batch. Encoding and
decoding progress and shard-report frames are the hot paths: the fast paths below check
classes and ranges in one chain and fill the record directly; anything off goes to
:func:`_explain` for a precise error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from phasekit._checks import (
    MAX_INTEGER,
    MAX_PROGRESS,
    MAX_REASON_LENGTH,
    MAX_TIMESTAMP_MS,
    check_int,
    shown,
)
from phasekit._ids import cached_text, cached_uuid, parse_uuid, uuid_text
from phasekit._messages import (
    BATCH_TAG,
    INTEGER_MAXIMUM,
    MAX_SHARD,
    PHASE_BY_CODE,
    PHASE_CODES,
    PROGRESS_FIELDS,
    PROGRESS_TAG,
    SHARD_REPORT_FIELDS,
    SHARD_REPORT_TAG,
    STATUS_BY_CODE,
    STATUS_CODES,
    TRANSITION_FIELDS,
    TRANSITION_TAG,
    Frame,
    ProgressMessage,
    ShardReport,
    TransitionMessage,
    WireField,
    check_frame,
)
from phasekit._model import PHASE_ORDER, unchecked_constructor
from phasekit.codec._json import (
    DEFAULT_MAX_BYTES,
    JSONDecodeError,
    dumps,
    loads,
    read_json,
)
from phasekit.errors import DecodeError, PhasekitError

__all__ = ["DEFAULT_MAX_BATCH", "decode", "decode_batch", "encode", "encode_batch", "frame_items"]

#: Most messages a batch frame may carry by default.
DEFAULT_MAX_BATCH: Final = 1000

_phase_code = dict(PHASE_CODES).__getitem__
_status_code = dict(STATUS_CODES).__getitem__


def _progress_items(message: ProgressMessage) -> tuple[object, ...]:
    campaign_id = message.campaign_id
    return (
        PROGRESS_TAG,
        cached_text(campaign_id) or uuid_text(campaign_id),
        _phase_code(message.phase),
        _status_code(message.status),
        message.progress,
        message.processed,
        message.total,
        message.successful,
        message.failed,
        message.sequence,
        message.timestamp_ms,
    )


def _transition_items(message: TransitionMessage) -> tuple[object, ...]:
    return (
        TRANSITION_TAG,
        uuid_text(message.campaign_id),
        PHASE_CODES[message.previous_phase],
        PHASE_CODES[message.phase],
        STATUS_CODES[message.status],
        message.reason,
        message.sequence,
        message.timestamp_ms,
    )


def _shard_report_items(report: ShardReport) -> tuple[object, ...]:
    campaign_id = report.campaign_id
    return (
        SHARD_REPORT_TAG,
        cached_text(campaign_id) or uuid_text(campaign_id),
        _phase_code(report.phase),
        report.shard,
        report.shard_total,
        report.processed,
        report.successful,
        report.failed,
    )


def frame_items(message: object) -> tuple[object, ...]:
    """Return the items of ``message``'s compact frame; refuse anything a frame can't carry."""
    if type(message) is ProgressMessage:
        return _progress_items(message)
    if type(message) is ShardReport:
        return _shard_report_items(message)
    return _transition_items(check_frame(message))  # type: ignore[arg-type]


def encode(message: Frame) -> bytes:
    """Return the compact frame of ``message``: deterministic, UTF-8 JSON bytes.

    >>> import uuid
    >>> encode(ProgressMessage(uuid.UUID(int=1), "dns_validation", "running", 12.5, 5, 40))
    b'["p1","00000000-0000-0000-0000-000000000001",1,1,12.5,5,40,0,0,0,0]'
    """
    if message.__class__ is ProgressMessage:
        return dumps(_progress_items(message))
    return dumps(frame_items(message))


def encode_batch(messages: Iterable[Frame]) -> bytes:
    """Return one frame that carries every message of ``messages``, in order.

    >>> encode_batch([])
    b'["b1"]'
    """
    return dumps((BATCH_TAG, *map(frame_items, messages)))


_TRANSITION_TYPES: Final = (str, str, int, int, int, str, int, int)

# Build records from values the decoder has just checked, without re-validating them.
_new_progress: Final = unchecked_constructor(ProgressMessage)
_new_transition: Final = unchecked_constructor(TransitionMessage)
_new_shard_report: Final = unchecked_constructor(ShardReport)
_phase_by_code = PHASE_BY_CODE.get
_status_by_code = STATUS_BY_CODE.get


def _decode_progress(items: list[Any]) -> ProgressMessage:
    # Fast path: class checks and one chain of range checks, then the record is filled
    # in directly. Anything off goes to _explain for a precise error.
    if len(items) == 11:
        _, text, phase_code, status_code, progress, processed, total, ok, bad, seq, ts = items
        if (
            phase_code.__class__
            is status_code.__class__
            is processed.__class__
            is total.__class__
            is ok.__class__
            is bad.__class__
            is seq.__class__
            is ts.__class__
            is int
            and (progress.__class__ is float or progress.__class__ is int)
            and text.__class__ is str
            and 0 <= progress <= MAX_PROGRESS
            and 0 <= ok <= ok + bad <= processed <= total <= MAX_INTEGER
            and 0 <= seq <= MAX_INTEGER
            and 0 <= ts <= MAX_TIMESTAMP_MS
        ):
            campaign_id = cached_uuid(text) or parse_uuid(text)
            phase = _phase_by_code(phase_code)
            status = _status_by_code(status_code)
            if campaign_id is not None and phase is not None and status is not None:
                if progress.__class__ is int:
                    # A JavaScript producer writes 100 for 100.0: accepted, stored as float.
                    progress = float(progress)
                return _new_progress(
                    campaign_id, phase, status, progress, processed, total, ok, bad, seq, ts
                )
    raise _explain(items, PROGRESS_FIELDS, ProgressMessage, "progress")


def _decode_transition(items: list[Any]) -> TransitionMessage:
    if tuple(map(type, items)) == _TRANSITION_TYPES:
        _, text, previous_code, phase_code, status_code, reason, seq, ts = items
        campaign_id = parse_uuid(text)
        previous = PHASE_BY_CODE.get(previous_code)
        phase = PHASE_BY_CODE.get(phase_code)
        status = STATUS_BY_CODE.get(status_code)
        if (
            campaign_id is not None
            and previous is not None
            and phase is not None
            and status is not None
            and PHASE_ORDER[previous] < PHASE_ORDER[phase]
            and 0 < len(reason) <= MAX_REASON_LENGTH
            and reason.strip() == reason
            and 0 <= seq <= MAX_INTEGER
            and 0 <= ts <= MAX_TIMESTAMP_MS
        ):
            return _new_transition(campaign_id, previous, phase, status, reason, seq, ts)
    raise _explain(items, TRANSITION_FIELDS, TransitionMessage, "transition")


def _decode_shard_report(items: list[Any]) -> ShardReport:
    # Workers send these many times a second: the same kind of fast path as progress.
    if len(items) == 8:
        _, text, phase_code, shard, size, processed, ok, bad = items
        if (
            phase_code.__class__
            is shard.__class__
            is size.__class__
            is processed.__class__
            is ok.__class__
            is bad.__class__
            is int
            and text.__class__ is str
            and 0 <= shard <= MAX_SHARD
            and 0 <= ok <= ok + bad <= processed <= size <= MAX_INTEGER
        ):
            campaign_id = cached_uuid(text) or parse_uuid(text)
            phase = _phase_by_code(phase_code)
            if campaign_id is not None and phase is not None:
                return _new_shard_report(campaign_id, phase, shard, size, processed, ok, bad)
    raise _explain(items, SHARD_REPORT_FIELDS, ShardReport, "shard report")


def _wire_value(field: WireField, value: object, position: int, kind_name: str) -> object:
    """Return a wire value as the record field wants it, or raise naming the position."""
    where = f"{kind_name} frame position {position} ({field.name})"
    if field.kind == "uuid":
        if type(value) is str and parse_uuid(value) is not None:
            return parse_uuid(value)
        raise DecodeError(f"{where} must be a canonical lower-case UUID string; got {shown(value)}")
    if field.kind in ("phase", "status"):
        codes = PHASE_BY_CODE if field.kind == "phase" else STATUS_BY_CODE
        if type(value) is int and value in codes:
            return codes[value]
        raise DecodeError(
            f"{where} must be a {field.kind} code in {sorted(codes)}; got {shown(value)}"
        )
    if field.kind == "percent":
        if type(value) in (float, int) and 0 <= value <= MAX_PROGRESS:  # type: ignore[operator]
            return float(value)  # type: ignore[arg-type]
        raise DecodeError(f"{where} must be a number in 0..{MAX_PROGRESS:g}; got {shown(value)}")
    if field.kind == "reason":
        if type(value) is str and value.strip() == value:
            return value
        raise DecodeError(f"{where} must be a stripped string; got {shown(value)}")
    maximum = INTEGER_MAXIMUM[field.kind]
    if type(value) is int and 0 <= value <= maximum:
        return value
    raise DecodeError(f"{where} must be an int in 0..{maximum}; got {shown(value)}")


def _explain(
    items: list[Any], fields: tuple[WireField, ...], cls: type[Frame], kind_name: str
) -> DecodeError:
    if len(items) != len(fields) + 1:
        return DecodeError(
            f"{kind_name} frame must have {len(fields) + 1} items (tag and "
            f"{', '.join(field.name for field in fields)}); got {len(items)}"
        )
    values = {
        field.name: _wire_value(field, value, position, kind_name)
        for position, (field, value) in enumerate(zip(fields, items[1:], strict=True), start=1)
    }
    try:
        cls(**values)  # type: ignore[arg-type]
    except PhasekitError as error:
        return DecodeError(f"{kind_name} frame: {error}")
    raise AssertionError("the fast path refused a valid frame")  # pragma: no cover


def _decode_items(items: Any, position: str = "frame") -> Frame:
    if type(items) is not list or not items:
        raise DecodeError(f"{position} must be a non-empty JSON array; got {shown(items)}")
    tag = items[0]
    if tag == PROGRESS_TAG:
        return _decode_progress(items)
    if tag == TRANSITION_TAG:
        return _decode_transition(items)
    if tag == SHARD_REPORT_TAG:
        return _decode_shard_report(items)
    raise DecodeError(
        f"{position} has unknown tag {shown(tag)}; expected {PROGRESS_TAG!r}, "
        f"{TRANSITION_TAG!r} or {SHARD_REPORT_TAG!r} (kind and format version)"
    )


def decode(
    data: bytes | bytearray | memoryview | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Frame:
    """Return the message of a compact frame, or raise :class:`~phasekit.DecodeError`.

    >>> decode('["p1","00000000-0000-0000-0000-000000000001",1,1,12.5,5,40,0,0,0,0]').total
    40
    >>> decode('["p1","00000000-0000-0000-0000-000000000001",1,1,12.5,50,40,0,0,0,0]')
    Traceback (most recent call last):
    ...
    phasekit.errors.DecodeError: progress frame: processed (50) must not exceed total (40)
    """
    if data.__class__ is bytes and max_bytes.__class__ is int and len(data) <= max_bytes:
        try:
            items = loads(data)
        except JSONDecodeError as error:
            raise DecodeError(f"frame is not valid JSON: {error}") from None
    else:
        items = read_json(data, max_bytes)
    if items.__class__ is list and items and items[0] == PROGRESS_TAG:
        return _decode_progress(items)
    return _decode_items(items)


def decode_batch(
    data: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_messages: int = DEFAULT_MAX_BATCH,
) -> list[Frame]:
    """Return the messages of a batch frame, in order (an empty batch gives ``[]``)."""
    check_int(max_messages, "max_messages")
    items = read_json(data, max_bytes)
    if type(items) is not list or not items or items[0] != BATCH_TAG:
        raise DecodeError(f"batch frame must be a JSON array starting with {BATCH_TAG!r}")
    if len(items) - 1 > max_messages:
        raise DecodeError(f"batch of {len(items) - 1} messages exceeds the limit of {max_messages}")
    return [_decode_items(item, f"batch item {index}") for index, item in enumerate(items[1:], 1)]
