"""Progress and phase-transition messages, and their wire formats.

One table, :data:`PROGRESS_FIELDS` (and :data:`TRANSITION_FIELDS`), lists every field of
a message in wire order, with its kind and its name in the verbose JSON envelope; the
enum codes live in :data:`PHASE_CODES` and :data:`STATUS_CODES`. The encoders, the
decoders, the JSON Schema, the TypeScript decoder and the docs all read these tables.

Formats:

compact (the default)
    ``encode`` / ``decode``: a JSON array, ``["p1", campaign_id, phase code, status code,
    progress, processed, total, successful, failed, sequence, timestamp_ms]`` for progress
    and ``["t1", campaign_id, previous phase code, phase code, status code, reason,
    sequence, timestamp_ms]`` for a transition. The leading tag names the kind and the
    format version. About a sixth of the legacy dual broadcast.
batch
    ``encode_batch`` / ``decode_batch``: ``["b1", frame, frame, ...]``.
verbose
    ``encode_verbose`` / ``decode_verbose``: the standardized ``campaign.progress`` and
    ``campaign.phase.transition`` envelopes, for clients that want readable JSON.
legacy
    ``decode_legacy`` reads the legacy ``campaign_progress`` envelope;
    ``encode_legacy`` writes one, for clients that have not moved yet.

Decoding is strict: anything that the matching encoder could not have produced raises
:class:`~phasekit.DecodeError` naming the field or position, and no other exception
escapes a decoder, whatever the input.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from phasekit._checks import (
    MAX_PROGRESS,
    MAX_REASON_LENGTH,
    check_progress,
    check_reason,
    coerce_member,
    shown,
)
from phasekit._legacy import DEFAULT_MAPPING, to_legacy
from phasekit._model import (
    PHASE_ORDER,
    Phase,
    PhaseState,
    PhaseStatus,
    member_repr,
    to_phase,
    to_status,
    unchecked_constructor,
)
from phasekit.errors import DecodeError, InvalidValue, PhasekitError

__all__ = [
    "BATCH_TAG",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BYTES",
    "EXAMPLE_PROGRESS",
    "EXAMPLE_TRANSITION",
    "MAX_INTEGER",
    "MAX_TIMESTAMP_MS",
    "PHASE_CODES",
    "PROGRESS_FIELDS",
    "PROGRESS_TAG",
    "STATUS_CODES",
    "TIMESTAMP_PATTERN",
    "TRANSITION_FIELDS",
    "TRANSITION_TAG",
    "UUID_PATTERN",
    "DecodeError",
    "Message",
    "ProgressMessage",
    "TransitionMessage",
    "WireField",
    "decode",
    "decode_batch",
    "decode_legacy",
    "decode_verbose",
    "encode",
    "encode_batch",
    "encode_legacy",
    "encode_verbose",
    "format_timestamp",
    "parse_timestamp",
]

#: Largest integer in any format, exact in a JavaScript number too (2**53 - 1).
MAX_INTEGER: Final = 2**53 - 1
#: Latest timestamp (the last millisecond of the year 9999), the last instant RFC 3339 can write.
MAX_TIMESTAMP_MS: Final = 253_402_300_799_999
#: Largest frame the decoders accept by default, in bytes of UTF-8.
DEFAULT_MAX_BYTES: Final = 64 * 1024
#: Most messages a batch frame may carry by default.
DEFAULT_MAX_BATCH: Final = 1000

#: Canonical UUID text, the only form the encoders write and the decoders accept.
UUID_PATTERN: Final = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
#: RFC 3339 UTC with milliseconds, as the verbose envelopes carry their timestamps.
TIMESTAMP_PATTERN: Final = (
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z$"
)

#: Leading tag of a compact progress frame, kind "p" and format version 1.
PROGRESS_TAG: Final = "p1"
#: Leading tag of a compact transition frame.
TRANSITION_TAG: Final = "t1"
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
_PHASE_BY_CODE: Final = {code: phase for phase, code in PHASE_CODES.items()}
_STATUS_BY_CODE: Final = {code: status for status, code in STATUS_CODES.items()}

FieldKind = Literal["uuid", "phase", "status", "percent", "count", "timestamp", "reason"]


@attrs.frozen
class WireField:
    """One field of a message: its attribute, kind, verbose name and meaning.

    ``verbose`` is the key inside the verbose envelope's ``data``; ``None`` for the
    timestamp, which the envelope carries at its top level as RFC 3339 text.
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
    WireField("progress", "percent", "progressPercent", "percent done, 0..100"),
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
    WireField("reason", "reason", "triggerReason", "why, 1..500 characters, stripped"),
    WireField("sequence", "count", "sequence", "per-campaign message number"),
    WireField("timestamp_ms", "timestamp", None, "milliseconds since the Unix epoch"),
)


def _check_uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if type(value) is str:
        parsed = _parse_uuid(value)
        if parsed is not None:
            return parsed
    raise InvalidValue(
        f"campaign_id must be a uuid.UUID or its canonical text; got {shown(value)}",
        field="campaign_id",
        value=value,
    )


def _check_int(value: object, field: str, maximum: int = MAX_INTEGER) -> int:
    if type(value) is int and 0 <= value <= maximum:
        return value
    raise InvalidValue(
        f"{field} must be an int in 0..{maximum}; got {shown(value)}", field=field, value=value
    )


def _to_sequence(value: int) -> int:
    return _check_int(value, "sequence")


def _to_timestamp(value: int) -> int:
    return _check_int(value, "timestamp_ms", MAX_TIMESTAMP_MS)


def _to_previous_phase(value: Phase | str) -> Phase:
    return coerce_member(Phase, value, "previous_phase")


def _to_processed(value: int) -> int:
    return _check_int(value, "processed")


def _to_total(value: int) -> int:
    return _check_int(value, "total")


def _to_successful(value: int) -> int:
    return _check_int(value, "successful")


def _to_failed(value: int) -> int:
    return _check_int(value, "failed")


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

    campaign_id: uuid.UUID = attrs.field(converter=_check_uuid)
    phase: Phase = attrs.field(converter=to_phase, repr=member_repr)
    status: PhaseStatus = attrs.field(converter=to_status, repr=member_repr)
    progress: float = attrs.field(converter=check_progress)
    processed: int = attrs.field(converter=_to_processed)
    total: int = attrs.field(converter=_to_total)
    successful: int = attrs.field(default=0, converter=_to_successful)
    failed: int = attrs.field(default=0, converter=_to_failed)
    sequence: int = attrs.field(default=0, converter=_to_sequence)
    timestamp_ms: int = attrs.field(default=0, converter=_to_timestamp)

    def __attrs_post_init__(self) -> None:
        if self.processed > self.total:
            raise InvalidValue(
                f"processed ({self.processed}) must not exceed total ({self.total})",
                field="processed",
                value=self.processed,
            )
        if self.successful + self.failed > self.processed:
            raise InvalidValue(
                f"successful + failed ({self.successful} + {self.failed}) must not exceed "
                f"processed ({self.processed})",
                field="successful",
                value=self.successful,
            )

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

    campaign_id: uuid.UUID = attrs.field(converter=_check_uuid)
    previous_phase: Phase = attrs.field(converter=_to_previous_phase, repr=member_repr)
    phase: Phase = attrs.field(converter=to_phase, repr=member_repr)
    status: PhaseStatus = attrs.field(converter=to_status, repr=member_repr)
    reason: str = attrs.field(converter=check_reason)
    sequence: int = attrs.field(default=0, converter=_to_sequence)
    timestamp_ms: int = attrs.field(default=0, converter=_to_timestamp)

    def __attrs_post_init__(self) -> None:
        if PHASE_ORDER[self.previous_phase] >= PHASE_ORDER[self.phase]:
            raise InvalidValue(
                f"previous_phase ({self.previous_phase.value}) must come before phase "
                f"({self.phase.value}) in pipeline order",
                field="previous_phase",
                value=self.previous_phase,
            )


#: Either kind of message.
Message: TypeAlias = ProgressMessage | TransitionMessage

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

# --- identifiers ----------------------------------------------------------------------

_CANONICAL_UUID = re.compile(UUID_PATTERN)
# A campaign sends many messages, so its id is converted once and remembered. The caches
# are bounded: cleared when full, they cost at most a few hundred KB.
ID_CACHE_LIMIT: Final = 4096
_uuid_by_text: dict[str, uuid.UUID] = {}
_text_by_uuid: dict[uuid.UUID, str] = {}


def _parse_uuid(text: str) -> uuid.UUID | None:
    """Return the UUID of canonical lower-case text, or None for any other text."""
    found = _uuid_by_text.get(text)
    if found is not None:
        return found
    if _CANONICAL_UUID.fullmatch(text) is None:
        return None
    if len(_uuid_by_text) >= ID_CACHE_LIMIT:
        _uuid_by_text.clear()
    parsed = _uuid_by_text[text] = uuid.UUID(text)
    return parsed


def _uuid_text(value: uuid.UUID) -> str:
    found = _text_by_uuid.get(value)
    if found is not None:
        return found
    if len(_text_by_uuid) >= ID_CACHE_LIMIT:
        _text_by_uuid.clear()
    text = _text_by_uuid[value] = str(value)
    return text


# --- timestamps -----------------------------------------------------------------------

_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_RFC3339_MS = re.compile(TIMESTAMP_PATTERN)
_RFC3339_ANY = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def format_timestamp(timestamp_ms: int) -> str:
    """Return ``timestamp_ms`` as RFC 3339 UTC text with milliseconds.

    >>> format_timestamp(1_764_331_200_123)
    '2025-11-28T12:00:00.123Z'
    """
    moment = _EPOCH + datetime.timedelta(milliseconds=_to_timestamp(timestamp_ms))
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def parse_timestamp(text: str, *, strict: bool = True) -> int:
    """Return the milliseconds since the epoch of RFC 3339 text.

    Strict (the default) accepts exactly what :func:`format_timestamp` writes; otherwise
    any RFC 3339 date-time is read, with fractions below a millisecond dropped, as the
    legacy backend wrote them. Raises :class:`~phasekit.DecodeError`.

    >>> parse_timestamp("2025-11-28T12:00:00.123Z")
    1764331200123
    >>> parse_timestamp("2025-11-28T13:00:00.1234567+01:00", strict=False)
    1764331200123
    """
    pattern = _RFC3339_MS if strict else _RFC3339_ANY
    matched = pattern.fullmatch(text) if type(text) is str else None
    if matched is None:
        form = "YYYY-MM-DDTHH:MM:SS.mmmZ" if strict else "an RFC 3339 date-time"
        raise DecodeError(f"timestamp must be {form}; got {shown(text)}")
    parts = matched.groups()
    try:
        moment = datetime.datetime(
            int(parts[0]),
            int(parts[1]),
            int(parts[2]),
            int(parts[3]),
            int(parts[4]),
            int(parts[5]),
            tzinfo=datetime.UTC,
        )
    except ValueError:
        raise DecodeError(f"timestamp is not a valid date-time; got {shown(text)}") from None
    milliseconds = int((parts[6] or "0")[:3].ljust(3, "0"))
    if not strict and parts[8] is not None:
        offset = datetime.timedelta(hours=int(parts[9]), minutes=int(parts[10]))
        moment -= offset if parts[8] == "+" else -offset
    delta = moment - _EPOCH
    value = (delta.days * 86_400 + delta.seconds) * 1000 + milliseconds
    if not 0 <= value <= MAX_TIMESTAMP_MS:
        raise DecodeError(f"timestamp must lie in 1970..9999 UTC; got {shown(text)}")
    return value


# --- compact --------------------------------------------------------------------------


_phase_code = dict(PHASE_CODES).__getitem__
_status_code = dict(STATUS_CODES).__getitem__
_text_from_cache = _text_by_uuid.get


def _progress_items(message: ProgressMessage) -> tuple[object, ...]:
    campaign_id = message.campaign_id
    return (
        PROGRESS_TAG,
        _text_from_cache(campaign_id) or _uuid_text(campaign_id),
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
        _uuid_text(message.campaign_id),
        PHASE_CODES[message.previous_phase],
        PHASE_CODES[message.phase],
        STATUS_CODES[message.status],
        message.reason,
        message.sequence,
        message.timestamp_ms,
    )


def _items(message: object) -> tuple[object, ...]:
    if type(message) is ProgressMessage:
        return _progress_items(message)
    if type(message) is TransitionMessage:
        return _transition_items(message)
    raise InvalidValue(
        f"message must be a ProgressMessage or TransitionMessage; got {shown(message)}",
        field="message",
        value=message,
    )


_dumps = orjson.dumps
_loads = orjson.loads


def encode(message: Message) -> bytes:
    """Return the compact frame of ``message``: deterministic, UTF-8 JSON bytes.

    >>> import uuid
    >>> encode(ProgressMessage(uuid.UUID(int=1), "dns_validation", "running", 12.5, 5, 40))
    b'["p1","00000000-0000-0000-0000-000000000001",1,1,12.5,5,40,0,0,0,0]'
    """
    if message.__class__ is ProgressMessage:
        return _dumps(_progress_items(message))
    return _dumps(_items(message))


def encode_batch(messages: Iterable[Message]) -> bytes:
    """Return one frame that carries every message of ``messages``, in order.

    >>> encode_batch([])
    b'["b1"]'
    """
    return _dumps((BATCH_TAG, *map(_items, messages)))


def _size_check(data: object, max_bytes: int) -> bytes | str:
    if type(max_bytes) is not int or max_bytes < 1:
        raise InvalidValue(
            f"max_bytes must be an int >= 1; got {shown(max_bytes)}",
            field="max_bytes",
            value=max_bytes,
        )
    if isinstance(data, bytes | bytearray):
        size = len(data)
    elif isinstance(data, memoryview):
        size = data.nbytes
        data = data.tobytes()
    elif isinstance(data, str):
        size = len(data)
        if size * 4 > max_bytes:
            try:
                size = len(data.encode())
            except UnicodeEncodeError:
                raise DecodeError("frame is not valid UTF-8 text (lone surrogate)") from None
    else:
        raise DecodeError(
            f"frame must be bytes, bytearray, memoryview or str; got {type(data).__name__}"
        )
    if size > max_bytes:
        raise DecodeError(f"frame of {size} bytes exceeds the limit of {max_bytes} bytes")
    return data  # type: ignore[return-value]


def _parse(data: bytes | str) -> Any:
    try:
        return _loads(data)
    except orjson.JSONDecodeError as error:
        raise DecodeError(f"frame is not valid JSON: {error}") from None


_TRANSITION_TYPES: Final = (str, str, int, int, int, str, int, int)


# Build records from values the decoder has just checked, without re-validating them.
_new_progress: Final = unchecked_constructor(ProgressMessage)
_new_transition: Final = unchecked_constructor(TransitionMessage)
_uuid_from_cache = _uuid_by_text.get
_phase_by_code = _PHASE_BY_CODE.get
_status_by_code = _STATUS_BY_CODE.get


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
            campaign_id = _uuid_from_cache(text) or _parse_uuid(text)
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
        campaign_id = _parse_uuid(text)
        previous = _PHASE_BY_CODE.get(previous_code)
        phase = _PHASE_BY_CODE.get(phase_code)
        status = _STATUS_BY_CODE.get(status_code)
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


def _wire_value(field: WireField, value: object, position: int, kind_name: str) -> object:
    """Return a wire value as the record field wants it, or raise naming the position."""
    where = f"{kind_name} frame position {position} ({field.name})"
    if field.kind == "uuid":
        if type(value) is str and _parse_uuid(value) is not None:
            return _parse_uuid(value)
        raise DecodeError(f"{where} must be a canonical lower-case UUID string; got {shown(value)}")
    if field.kind in ("phase", "status"):
        codes = _PHASE_BY_CODE if field.kind == "phase" else _STATUS_BY_CODE
        if type(value) is int and value in codes:
            return codes[value]
        raise DecodeError(
            f"{where} must be a {field.kind} code in {sorted(codes)}; got {shown(value)}"
        )
    if field.kind == "percent":
        if type(value) in (float, int) and 0 <= value <= MAX_PROGRESS:  # type: ignore[operator]
            return float(value)  # type: ignore[arg-type]
        raise DecodeError(f"{where} must be a number in 0..100; got {shown(value)}")
    if field.kind == "reason":
        if type(value) is str and value.strip() == value:
            return value
        raise DecodeError(f"{where} must be a stripped string; got {shown(value)}")
    maximum = MAX_TIMESTAMP_MS if field.kind == "timestamp" else MAX_INTEGER
    if type(value) is int and 0 <= value <= maximum:
        return value
    raise DecodeError(f"{where} must be an int in 0..{maximum}; got {shown(value)}")


def _explain(
    items: list[Any], fields: tuple[WireField, ...], cls: type[Message], kind_name: str
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


def _decode_items(items: Any, position: str = "frame") -> Message:
    if type(items) is not list or not items:
        raise DecodeError(f"{position} must be a non-empty JSON array; got {shown(items)}")
    tag = items[0]
    if tag == PROGRESS_TAG:
        return _decode_progress(items)
    if tag == TRANSITION_TAG:
        return _decode_transition(items)
    raise DecodeError(
        f"{position} has unknown tag {shown(tag)}; expected {PROGRESS_TAG!r} or "
        f"{TRANSITION_TAG!r} (kind and format version)"
    )


def decode(
    data: bytes | bytearray | memoryview | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Message:
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
            items = _loads(data)
        except orjson.JSONDecodeError as error:
            raise DecodeError(f"frame is not valid JSON: {error}") from None
    else:
        items = _parse(_size_check(data, max_bytes))
    if items.__class__ is list and items and items[0] == PROGRESS_TAG:
        return _decode_progress(items)
    return _decode_items(items)


def decode_batch(
    data: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_messages: int = DEFAULT_MAX_BATCH,
) -> list[Message]:
    """Return the messages of a batch frame, in order (an empty batch gives ``[]``)."""
    if type(max_messages) is not int or max_messages < 0:
        raise InvalidValue(
            f"max_messages must be an int >= 0; got {shown(max_messages)}",
            field="max_messages",
            value=max_messages,
        )
    items = _parse(_size_check(data, max_bytes))
    if type(items) is not list or not items or items[0] != BATCH_TAG:
        raise DecodeError(f"batch frame must be a JSON array starting with {BATCH_TAG!r}")
    if len(items) - 1 > max_messages:
        raise DecodeError(f"batch of {len(items) - 1} messages exceeds the limit of {max_messages}")
    return [_decode_items(item, f"batch item {index}") for index, item in enumerate(items[1:], 1)]


# --- verbose --------------------------------------------------------------------------

PROGRESS_TYPE: Final = "campaign.progress"
TRANSITION_TYPE: Final = "campaign.phase.transition"
LEGACY_PROGRESS_TYPE: Final = "campaign_progress"
_TIMESTAMP_KEY: Final = "__timestamp_ms"


def _strict_int(value: object, _: type) -> int:
    if type(value) is int:
        return value
    raise DecodeError(f"must be an integer; got {shown(value)}")


def _number(value: object, _: type) -> float:
    # Verbose JSON is also written by JavaScript, where 42.0 prints as 42.
    if type(value) is float or type(value) is int:
        return float(value)
    raise DecodeError(f"must be a number; got {shown(value)}")


def _strict_str(value: object, _: type) -> str:
    if type(value) is str:
        return value
    raise DecodeError(f"must be a string; got {shown(value)}")


def _make_converter() -> cattrs.Converter:
    # Detailed validation wraps every error, so decode_verbose sees only cattrs errors.
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(float, _number)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(Phase, lambda value, _: _strict_str(value, str))
    converter.register_structure_hook(PhaseStatus, lambda value, _: _strict_str(value, str))
    converter.register_structure_hook(uuid.UUID, lambda value, _: _strict_str(value, str))
    converter.register_unstructure_hook(uuid.UUID, _uuid_text)
    for cls, fields in ((ProgressMessage, PROGRESS_FIELDS), (TransitionMessage, TRANSITION_FIELDS)):
        names = {field.name: override(rename=field.verbose or _TIMESTAMP_KEY) for field in fields}
        omit = {field.name: override(omit=True) for field in fields if field.verbose is None}
        converter.register_unstructure_hook(
            cls,
            make_dict_unstructure_fn(cls, converter, **{**names, **omit}),  # type: ignore[arg-type]
        )
        converter.register_structure_hook(
            cls,
            make_dict_structure_fn(
                cls,
                converter,
                _cattrs_forbid_extra_keys=True,
                **names,  # type: ignore[arg-type]
            ),
        )
    return converter


_converter: Final = _make_converter()


def encode_verbose(message: Message) -> bytes:
    """Return the verbose JSON envelope of ``message`` (``campaign.progress`` or
    ``campaign.phase.transition``), for clients that want readable JSON."""
    kind = PROGRESS_TYPE if type(message) is ProgressMessage else TRANSITION_TYPE
    _items(message)  # refuses anything that is not a message
    return _dumps(
        {
            "type": kind,
            "timestamp": format_timestamp(message.timestamp_ms),
            "data": _converter.unstructure(message),
        }
    )


def _describe_exception(exception: BaseException, _: object) -> str:
    if isinstance(exception, KeyError):
        return "required key is missing"
    return str(exception) or type(exception).__name__


def _error_text(error: cattrs.BaseValidationError, fields: tuple[WireField, ...]) -> str:
    """Flatten a cattrs error into one line naming each bad key of the envelope."""
    verbose = {field.name: field.verbose or "timestamp" for field in fields}
    messages = []
    for message in cattrs.transform_error(error, format_exception=_describe_exception):
        text, _, path = message.rpartition(" @ $.")
        key = verbose.get(path)
        messages.append(f"data.{key}: {text}" if key else message)
    return "; ".join(messages)


def decode_verbose(
    data: bytes | bytearray | memoryview | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Message:
    """Return the message of a verbose envelope, or raise :class:`~phasekit.DecodeError`."""
    envelope = _parse(_size_check(data, max_bytes))
    if type(envelope) is not dict:
        raise DecodeError(f"verbose frame must be a JSON object; got {shown(envelope)}")
    if set(envelope) != {"type", "timestamp", "data"}:
        raise DecodeError(
            f"verbose frame must have exactly the keys type, timestamp and data; "
            f"got {sorted(map(str, envelope))}"
        )
    kind = envelope["type"]
    cls: type[Message]
    if kind == PROGRESS_TYPE:
        cls, fields = ProgressMessage, PROGRESS_FIELDS
    elif kind == TRANSITION_TYPE:
        cls, fields = TransitionMessage, TRANSITION_FIELDS
    else:
        raise DecodeError(
            f"verbose frame type must be {PROGRESS_TYPE!r} or {TRANSITION_TYPE!r}; "
            f"got {shown(kind)}"
        )
    body = envelope["data"]
    if type(body) is not dict:
        raise DecodeError(f"verbose frame data must be a JSON object; got {shown(body)}")
    if _TIMESTAMP_KEY in body:
        raise DecodeError(f"verbose frame data has an unexpected key {_TIMESTAMP_KEY!r}")
    body = {**body, _TIMESTAMP_KEY: parse_timestamp(envelope["timestamp"])}
    try:
        message: Message = _converter.structure(body, cls)
    except cattrs.BaseValidationError as error:
        raise DecodeError(f"verbose {kind} frame: {_error_text(error, fields)}") from None
    return message


# --- legacy ---------------------------------------------------------------------------

_LEGACY_KEYS: Final = frozenset(
    {"id", "timestamp", "type", "sequenceNumber", "campaignId", "data", "message", "error"}
)
_LEGACY_DATA_KEYS: Final = frozenset(
    {"progressPercentage", "status", "phase", "processedItems", "totalItems"}
)


def encode_legacy(message: ProgressMessage, *, message_id: uuid.UUID) -> bytes:
    """Return the legacy ``campaign_progress`` envelope of ``message``.

    For clients that still read the legacy format during a migration. ``message_id`` is
    the envelope's own ``id`` (the legacy backend made a new UUID per message; phasekit
    takes it from you, as it draws no random numbers). Phase and status are written
    with :func:`~phasekit.to_legacy` under ``DEFAULT_MAPPING``; ``sequence`` becomes
    ``sequenceNumber``; ``successful`` and ``failed`` are not carried.
    """
    if type(message) is not ProgressMessage:
        raise InvalidValue(
            f"message must be a ProgressMessage; got {shown(message)}",
            field="message",
            value=message,
        )
    campaign_type, status, progress = to_legacy(message.state)
    return _dumps(
        {
            "id": _uuid_text(_check_uuid(message_id)),
            "timestamp": format_timestamp(message.timestamp_ms),
            "type": LEGACY_PROGRESS_TYPE,
            "sequenceNumber": message.sequence,
            "campaignId": _uuid_text(message.campaign_id),
            "data": {
                "progressPercentage": progress,
                "status": status,
                "phase": campaign_type,
                "processedItems": message.processed,
                "totalItems": message.total,
            },
        }
    )


def decode_legacy(
    data: bytes | bytearray | memoryview | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> ProgressMessage:
    """Return the :class:`ProgressMessage` of a legacy ``campaign_progress`` envelope.

    ``data.phase`` and ``data.status`` are legacy strings, mapped with
    ``DEFAULT_MAPPING`` (an unknown one is a :class:`~phasekit.DecodeError`);
    ``sequenceNumber`` becomes ``sequence``; the timestamp may be any RFC 3339 text;
    ``successful`` and ``failed`` are 0. The optional ``id``, ``message`` and ``error``
    keys are ignored.
    """
    envelope = _parse(_size_check(data, max_bytes))
    if type(envelope) is not dict:
        raise DecodeError(f"legacy frame must be a JSON object; got {shown(envelope)}")
    extra = set(envelope) - _LEGACY_KEYS
    missing = {"timestamp", "type", "sequenceNumber", "campaignId", "data"} - set(envelope)
    if extra or missing:
        raise DecodeError(
            f"legacy frame keys: missing {sorted(missing)}, unexpected {sorted(map(str, extra))}"
        )
    if envelope["type"] != LEGACY_PROGRESS_TYPE:
        raise DecodeError(
            f"legacy frame type must be {LEGACY_PROGRESS_TYPE!r}; got {shown(envelope['type'])}"
        )
    body = envelope["data"]
    if type(body) is not dict or set(body) != _LEGACY_DATA_KEYS:
        raise DecodeError(
            f"legacy frame data must be an object with exactly {sorted(_LEGACY_DATA_KEYS)}; "
            f"got {shown(body)}"
        )
    for key in ("phase", "status"):
        if type(body[key]) is not str:
            raise DecodeError(f"legacy data.{key} must be a string; got {shown(body[key])}")
    phase = DEFAULT_MAPPING.types.get(body["phase"])
    status = DEFAULT_MAPPING.statuses.get(body["status"])
    if phase is None or status is None:
        bad = "phase" if phase is None else "status"
        raise DecodeError(
            f"legacy data.{bad} {shown(body[bad])} is not a legacy value DEFAULT_MAPPING knows"
        )
    progress = body["progressPercentage"]
    fields = {
        "campaign_id": envelope["campaignId"],
        "phase": phase,
        "status": status,
        "progress": float(progress) if type(progress) is int else progress,
        "processed": body["processedItems"],
        "total": body["totalItems"],
        "sequence": envelope["sequenceNumber"],
        "timestamp_ms": parse_timestamp(envelope["timestamp"], strict=False),
    }
    if type(fields["campaign_id"]) is not str:
        raise DecodeError(f"legacy campaignId must be a string; got {shown(fields['campaign_id'])}")
    try:
        return ProgressMessage(**fields)
    except PhasekitError as error:
        raise DecodeError(f"legacy frame: {error}") from None
