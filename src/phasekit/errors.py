"""Exceptions raised by phasekit.

Every exception phasekit raises on bad input derives from :class:`PhasekitError`, and
every subclass is also a :class:`ValueError`, so callers that already catch
``ValueError`` keep working. Messages name the value that was given and what was
expected, so a log line alone is enough to find the fault.
"""

from __future__ import annotations

__all__ = [
    "DecodeError",
    "InvalidProgress",
    "InvalidTransition",
    "InvalidValue",
    "MappingError",
    "PhasekitError",
]


class PhasekitError(Exception):
    """Base class of every error phasekit raises on bad input."""


class InvalidValue(PhasekitError, ValueError):
    """A value is not one of those a field accepts (wrong type, unknown name, bad text).

    ``field`` names the parameter or attribute, ``value`` is what was given.
    """

    def __init__(self, message: str, *, field: str, value: object) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class InvalidTransition(PhasekitError, ValueError):
    """An event or phase transition that the lifecycle does not allow from a state.

    ``state`` is the state it was attempted from; ``event`` or ``target`` holds what was
    asked for, exactly as given (it may not even be a valid :class:`~phasekit.Event`
    or :class:`~phasekit.Phase`); the other one is ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        state: object,
        event: object = None,
        target: object = None,
    ) -> None:
        super().__init__(message)
        self.state = state
        self.event = event
        self.target = target


class InvalidProgress(PhasekitError, ValueError):
    """A progress percentage that is not finite, out of 0..100, or not allowed now.

    ``value`` is the progress that was given.
    """

    def __init__(self, message: str, *, value: object) -> None:
        super().__init__(message)
        self.value = value


class MappingError(PhasekitError, ValueError):
    """A legacy value that a mapping cannot translate.

    ``column`` is the legacy column (``"campaign_type"``, ``"status"`` or
    ``"progress_percentage"``), ``value`` the value found there, and ``row`` the 0-based
    position of the row in a bulk call (``None`` outside one).
    """

    def __init__(self, message: str, *, column: str, value: object, row: int | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.value = value
        self.row = row


class DecodeError(PhasekitError, ValueError):
    """Bytes or text that are not a message phasekit's encoders could have produced."""
