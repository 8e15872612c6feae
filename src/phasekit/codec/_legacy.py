"""The legacy wire format: the ``campaign_progress`` envelope, read and written with cattrs.

The legacy backend's envelope carries a progress update with legacy phase and status
strings (mapped with ``DEFAULT_MAPPING``), ``sequenceNumber`` for ``sequence`` and any
RFC 3339 timestamp. Its keys are declared once, in :data:`~phasekit._messages.LEGACY_ENVELOPE_KEYS`
and :data:`~phasekit._messages.LEGACY_DATA_KEYS`; the two records below mirror its shape,
and one cattrs converter built from those tables writes and reads it, as the verbose
format's converter does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from phasekit._checks import check_instance, shown
from phasekit._envelopes import LEGACY_DATA_KEYS, LEGACY_ENVELOPE_KEYS, LEGACY_PROGRESS_TYPE
from phasekit._ids import check_uuid, uuid_text
from phasekit._messages import ProgressMessage
from phasekit.codec._json import DEFAULT_MAX_BYTES, dumps, read_json
from phasekit.codec._timestamps import format_timestamp, parse_timestamp
from phasekit.codec._verbose import describe_exception
from phasekit.errors import DecodeError, PhasekitError
from phasekit.legacy import DEFAULT_MAPPING, to_legacy

__all__ = ["decode_legacy", "encode_legacy"]

# Keys written only when reading: optional, and never written.
_READ_ONLY: Final = frozenset({"message", "error"})


@attrs.frozen(kw_only=True)
class _LegacyData:
    """The envelope's ``data``: legacy strings and plain values, checked by the record."""

    progress: object
    status: str
    phase: str
    processed: object
    total: object


@attrs.frozen(kw_only=True)
class _LegacyEnvelope:
    """The whole envelope; ``message_id``, ``message`` and ``error`` are optional."""

    message_id: object = None
    timestamp: str
    type: str
    sequence: object
    campaign_id: str
    data: _LegacyData
    message: object = None
    error: object = None


_T = TypeVar("_T")


def _as_is(value: _T, _: object) -> _T:
    # The record checks these values itself, with its own messages.
    return value


def _strict_str(value: object, _: object) -> str:
    if type(value) is str:
        return value
    raise DecodeError(f"must be a string; got {shown(value)}")


def _legacy_type(value: object, _: object) -> str:
    if value == LEGACY_PROGRESS_TYPE:
        return LEGACY_PROGRESS_TYPE
    raise DecodeError(f"must be {LEGACY_PROGRESS_TYPE!r}; got {shown(value)}")


_DATA_KEYS: Final = sorted(LEGACY_DATA_KEYS.values())


def _objects_only(
    structure: Callable[..., object],
) -> Callable[[object, type], object]:
    """Wrap the structure hook of ``data`` so that a non-object is named plainly."""

    def structure_data(value: object, cls: type) -> object:
        if type(value) is not dict:
            raise DecodeError(f"must be an object with exactly {_DATA_KEYS}; got {shown(value)}")
        return structure(value, cls)

    return structure_data


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(object, _as_is)
    for cls, keys in ((_LegacyData, LEGACY_DATA_KEYS), (_LegacyEnvelope, LEGACY_ENVELOPE_KEYS)):
        names = {name: override(rename=key) for name, key in keys.items()}
        omit = {name: override(omit=True) for name in _READ_ONLY if name in keys}
        converter.register_unstructure_hook(
            cls,
            make_dict_unstructure_fn(cls, converter, **{**names, **omit}),  # type: ignore[arg-type]
        )
        names_in = {**names}
        if cls is _LegacyEnvelope:
            names_in["type"] = override(rename=keys["type"], struct_hook=_legacy_type)
        structure = make_dict_structure_fn(
            cls,
            converter,
            _cattrs_forbid_extra_keys=True,
            **names_in,  # type: ignore[arg-type]
        )
        hook = _objects_only(structure) if cls is _LegacyData else structure
        converter.register_structure_hook(cls, hook)
    return converter


_converter: Final = _make_converter()


def _describe(exception: BaseException, kind: type | None) -> str:
    if isinstance(exception, cattrs.ForbiddenExtraKeysError):
        extra = sorted(exception.extra_fields)
        if exception.cl is _LegacyData:
            return f"must be an object with exactly {_DATA_KEYS}; got unexpected {extra}"
        return f"keys: unexpected {extra}"
    if isinstance(exception, KeyError):
        return "is missing"
    return describe_exception(exception, kind)


def _error_text(error: cattrs.BaseValidationError) -> str:
    """Flatten a cattrs error into one line naming each bad key of the envelope."""
    keys = {f"data.{name}": f"data.{key}" for name, key in LEGACY_DATA_KEYS.items()}
    keys.update(LEGACY_ENVELOPE_KEYS)
    keys.update({"": "frame", "data": "frame data"})
    messages = []
    for message in cattrs.transform_error(error, format_exception=_describe):
        text, _, path = message.rpartition(" @ $")
        messages.append(f"legacy {keys.get(path.removeprefix('.'), path)} {text}")
    return "; ".join(messages)


def encode_legacy(message: ProgressMessage, *, message_id: uuid.UUID) -> bytes:
    """Return the legacy ``campaign_progress`` envelope of ``message``.

    For clients that still read the legacy format during a migration. ``message_id`` is
    the envelope's own ``id`` (the legacy backend made a new UUID per message; phasekit
    takes it from you, as it draws no random numbers). Phase and status are written
    with :func:`~phasekit.to_legacy` under ``DEFAULT_MAPPING``; ``sequence`` becomes
    ``sequenceNumber``; ``successful`` and ``failed`` are not carried.
    """
    check_instance(message, ProgressMessage, "message")
    campaign_type, status, progress = to_legacy(message.state)
    envelope = _LegacyEnvelope(
        message_id=uuid_text(check_uuid(message_id)),
        timestamp=format_timestamp(message.timestamp_ms),
        type=LEGACY_PROGRESS_TYPE,
        sequence=message.sequence,
        campaign_id=uuid_text(message.campaign_id),
        data=_LegacyData(
            progress=progress,
            status=status,
            phase=campaign_type,
            processed=message.processed,
            total=message.total,
        ),
    )
    return dumps(_converter.unstructure(envelope))


def decode_legacy(
    data: bytes | bytearray | memoryview | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> ProgressMessage:
    """Return the :class:`~phasekit.ProgressMessage` of a legacy ``campaign_progress`` envelope.

    ``data.phase`` and ``data.status`` are legacy strings, mapped with
    ``DEFAULT_MAPPING`` (an unknown one is a :class:`~phasekit.DecodeError`);
    ``sequenceNumber`` becomes ``sequence``; the timestamp may be any RFC 3339 text;
    ``successful`` and ``failed`` are 0. The optional ``id``, ``message`` and ``error``
    keys are ignored.
    """
    document = read_json(data, max_bytes)
    if type(document) is not dict:
        raise DecodeError(f"legacy frame must be a JSON object; got {shown(document)}")
    try:
        envelope = _converter.structure(document, _LegacyEnvelope)
    except cattrs.BaseValidationError as error:
        raise DecodeError(_error_text(error)) from None
    body = envelope.data
    phase = DEFAULT_MAPPING.types.get(body.phase)
    status = DEFAULT_MAPPING.statuses.get(body.status)
    if phase is None or status is None:
        key, value = ("phase", body.phase) if phase is None else ("status", body.status)
        raise DecodeError(
            f"legacy data.{key} {shown(value)} is not a legacy value DEFAULT_MAPPING knows"
        )
    timestamp_ms = parse_timestamp(envelope.timestamp, strict=False)
    try:
        return ProgressMessage(
            envelope.campaign_id,
            phase,
            status,
            body.progress,  # type: ignore[arg-type]
            body.processed,  # type: ignore[arg-type]
            body.total,  # type: ignore[arg-type]
            sequence=envelope.sequence,  # type: ignore[arg-type]
            timestamp_ms=timestamp_ms,
        )
    except PhasekitError as error:
        raise DecodeError(f"legacy frame: {error}") from None
