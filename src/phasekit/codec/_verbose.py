"""The verbose wire format: readable JSON envelopes, converted with cattrs.

``{"type": "campaign.progress", "timestamp": RFC 3339 text, "data": {...}}`` and the
same with ``campaign.phase.transition``; the keys inside ``data`` are the ``verbose``
names of the field tables. One cattrs converter, built from those tables, writes and
reads the envelopes' data; its errors are flattened into one line naming each bad key.
"""

from __future__ import annotations

import uuid
from typing import Final

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from phasekit._checks import shown
from phasekit._envelopes import PROGRESS_TYPE, TRANSITION_TYPE
from phasekit._ids import uuid_text
from phasekit._messages import (
    PROGRESS_FIELDS,
    TRANSITION_FIELDS,
    Message,
    ProgressMessage,
    TransitionMessage,
    WireField,
    check_message,
)
from phasekit._model import Phase, PhaseStatus
from phasekit.codec._json import DEFAULT_MAX_BYTES, dumps, read_json
from phasekit.codec._timestamps import format_timestamp, parse_timestamp
from phasekit.errors import DecodeError

__all__ = ["decode_verbose", "describe_exception", "encode_verbose"]

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
    converter.register_unstructure_hook(uuid.UUID, uuid_text)
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
    check_message(message)
    return dumps(
        {
            "type": kind,
            "timestamp": format_timestamp(message.timestamp_ms),
            "data": _converter.unstructure(message),
        }
    )


def describe_exception(exception: BaseException, _: object) -> str:
    if isinstance(exception, KeyError):
        return "required key is missing"
    return str(exception) or type(exception).__name__


def _error_text(error: cattrs.BaseValidationError, fields: tuple[WireField, ...]) -> str:
    """Flatten a cattrs error into one line naming each bad key of the envelope."""
    verbose = {field.name: field.verbose or "timestamp" for field in fields}
    messages = []
    for message in cattrs.transform_error(error, format_exception=describe_exception):
        text, _, path = message.rpartition(" @ $.")
        key = verbose.get(path)
        messages.append(f"data.{key}: {text}" if key else message)
    return "; ".join(messages)


def decode_verbose(
    data: bytes | bytearray | memoryview | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Message:
    """Return the message of a verbose envelope, or raise :class:`~phasekit.DecodeError`."""
    envelope = read_json(data, max_bytes)
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
