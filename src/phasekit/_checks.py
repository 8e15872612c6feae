"""Shared value checks and limits: each argument rule and each numeric limit, written once.

Every public function validates its plain-value arguments at its edge, and every record
validates its fields, with these helpers; so a bound (the 0..100 of a percentage, the
2**53 - 1 of a count that JavaScript must read exactly) and the wording of the error that
names a bad value live here and nowhere else. Internal: the public names are re-exported
where they belong (``phasekit.codec.MAX_INTEGER``, say).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, TypeVar

from phasekit.errors import InvalidProgress, InvalidValue

__all__ = [
    "MAX_INTEGER",
    "MAX_PROGRESS",
    "MAX_REASON_LENGTH",
    "MAX_TIMESTAMP_MS",
    "check_instance",
    "check_int",
    "check_progress",
    "check_reason",
    "coerce_member",
    "shown",
]

#: Highest progress percentage; a completed phase carries exactly this.
MAX_PROGRESS: Final = 100.0
#: Longest transition reason, counted in characters after stripping.
MAX_REASON_LENGTH: Final = 500
#: Largest count or sequence number: the largest integer a JavaScript number holds exactly.
MAX_INTEGER: Final = 2**53 - 1
#: Largest timestamp: 9999-12-31T23:59:59.999Z, the last instant RFC 3339 can write.
MAX_TIMESTAMP_MS: Final = 253_402_300_799_999


def shown(value: object, limit: int = 60) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def check_int(
    value: object, field: str, *, minimum: int = 0, maximum: int | None = None, unit: str = ""
) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) in ``minimum..maximum``.

    Anything else raises :class:`~phasekit.InvalidValue` naming ``field``, the range (and
    ``unit``, such as ``" (milliseconds)"``) and the value.

    >>> check_int(7, "total")
    7
    >>> check_int(True, "now_ms", unit=" (milliseconds)")
    Traceback (most recent call last):
    ...
    phasekit.errors.InvalidValue: now_ms must be an int >= 0 (milliseconds); got True
    """
    if type(value) is int and value >= minimum and (maximum is None or value <= maximum):
        return value
    bounds = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
    raise InvalidValue(
        f"{field} must be an int {bounds}{unit}; got {shown(value)}", field=field, value=value
    )


_T = TypeVar("_T")


def check_instance(value: object, kind: type[_T], field: str) -> _T:
    """Return ``value`` if it is a ``kind``, else raise :class:`~phasekit.InvalidValue`."""
    if isinstance(value, kind):
        return value
    raise InvalidValue(
        f"{field} must be a {kind.__name__}; got {shown(value)}", field=field, value=value
    )


_E = TypeVar("_E", bound=StrEnum)


def coerce_member(kind: type[_E], value: object, field: str) -> _E:
    """Return the member of ``kind`` that is ``value`` or whose value is ``value``.

    Members and their exact string values are accepted; anything else (another type, a
    different spelling) raises :class:`~phasekit.InvalidValue` naming the choices.
    """
    if isinstance(value, kind):
        return value
    if type(value) is str:
        try:
            return kind(value)
        except ValueError:
            pass
    choices = ", ".join(member.value for member in kind)
    raise InvalidValue(
        f"{field} must be a {kind.__name__} or one of its values ({choices}); got {shown(value)}",
        field=field,
        value=value,
    )


def check_progress(value: object, field: str = "progress") -> float:
    """Return ``value`` as a float if it is a finite percentage in 0..100.

    An ``int`` is accepted and converted; a ``bool``, NaN, infinity, anything out of
    range and any non-number raise :class:`~phasekit.InvalidProgress`.
    """
    if isinstance(value, float):
        if 0.0 <= value <= MAX_PROGRESS:
            return float(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= MAX_PROGRESS:
            return float(value)
    else:
        raise InvalidProgress(
            f"{field} must be an int or float percentage in 0..{MAX_PROGRESS:g}; "
            f"got {shown(value)} (not a number)",
            value=value,
        )
    detail = "NaN is not a percentage" if value != value else f"outside 0..{MAX_PROGRESS:g}"
    raise InvalidProgress(
        f"{field} must be a finite percentage in 0..{MAX_PROGRESS:g}; got {shown(value)} "
        f"({detail})",
        value=value,
    )


def check_reason(value: object, field: str = "reason") -> str:
    """Return ``value`` stripped, if it is a non-empty string of at most 500 characters.

    Anything else raises :class:`~phasekit.InvalidValue`.
    """
    if not isinstance(value, str):
        raise InvalidValue(
            f"{field} must be a string; got {shown(value)}", field=field, value=value
        )
    stripped = value.strip()
    if not stripped:
        raise InvalidValue(
            f"{field} must not be empty or only whitespace; got {shown(value)}",
            field=field,
            value=value,
        )
    if len(stripped) > MAX_REASON_LENGTH:
        raise InvalidValue(
            f"{field} must be at most {MAX_REASON_LENGTH} characters after stripping; "
            f"got {len(stripped)}",
            field=field,
            value=value,
        )
    return stripped
