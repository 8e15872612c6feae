"""Timestamps as RFC 3339 text: the verbose envelopes' strict form and the legacy forms.

The messages carry milliseconds since the Unix epoch; the verbose envelope writes them
as RFC 3339 UTC text with milliseconds, which round-trips exactly, and the legacy
envelope may carry any RFC 3339 date-time.
"""

from __future__ import annotations

import datetime
import re
from typing import Final

from phasekit._checks import MAX_TIMESTAMP_MS, shown
from phasekit._messages import to_timestamp
from phasekit.errors import DecodeError

__all__ = ["TIMESTAMP_PATTERN", "format_timestamp", "parse_timestamp"]

#: RFC 3339 UTC with milliseconds, as the verbose envelopes carry their timestamps.
TIMESTAMP_PATTERN: Final = (
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z$"
)

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
    moment = _EPOCH + datetime.timedelta(milliseconds=to_timestamp(timestamp_ms))
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
