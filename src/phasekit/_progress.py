"""Deciding which progress messages to send, and reducing them on the client.

:class:`ProgressThrottle` runs on the server, between the workers that report progress
and the socket: it sends what tells a client something new and holds back the rest,
keeping only the newest held message per campaign. :class:`ProgressView` runs on the
client and keeps the newest message per campaign, whatever order they arrive in.

Neither reads a clock: the caller passes ``now_ms``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Final

from phasekit._checks import MAX_PROGRESS, check_instance, check_int, shown
from phasekit._ids import check_uuid
from phasekit._lifecycle import is_terminal
from phasekit._messages import ProgressMessage
from phasekit._model import Phase, PhaseState, PhaseStatus
from phasekit.errors import InvalidValue

__all__ = ["ProgressThrottle", "ProgressView"]

_TERMINAL: Final = frozenset(
    (phase, status)
    for phase in Phase
    for status in PhaseStatus
    if is_terminal(PhaseState(phase, status))
)


class ProgressThrottle:
    """Decide which progress messages to send now and which to hold back.

    Sent at once: a campaign's first message, any change of phase or status against
    the last message sent for that campaign, and every terminal state. Any other
    message is sent at once if and only if at least ``min_interval_ms`` have passed
    since the last message sent for its campaign *and* its progress differs from that
    message's by at least ``min_delta``; otherwise it is held, replacing any message
    already held for the campaign. Call :meth:`due` on a timer tick for the held
    messages that have become worth sending, and :meth:`flush` on shutdown.

    A campaign is forgotten once its terminal message is sent, so memory stays
    bounded by the number of live campaigns.

    >>> import uuid
    >>> throttle = ProgressThrottle(min_interval_ms=250, min_delta=1.0)
    >>> def report(progress, processed):
    ...     return ProgressMessage(uuid.UUID(int=1), "dns_validation", "running",
    ...                            progress, processed, 100)
    >>> throttle.offer(report(10.0, 10), now_ms=0) is not None   # first: sent
    True
    >>> throttle.offer(report(10.5, 10), now_ms=300) is None      # too small a change: held
    True
    >>> [m.progress for m in throttle.flush()]                    # shutdown: sent
    [10.5]
    """

    __slots__ = ("_held", "_min_delta", "_min_interval_ms", "_sent")

    def __init__(self, min_interval_ms: int = 250, min_delta: float = 1.0) -> None:
        check_int(min_interval_ms, "min_interval_ms")
        if (
            type(min_delta) not in (int, float)
            or not math.isfinite(min_delta)
            or not 0 <= min_delta <= MAX_PROGRESS
        ):
            raise InvalidValue(
                f"min_delta must be a finite number in 0..{MAX_PROGRESS:g}; got {shown(min_delta)}",
                field="min_delta",
                value=min_delta,
            )
        self._min_interval_ms = min_interval_ms
        self._min_delta = float(min_delta)
        # Per campaign: the last message sent and when; and the newest one held back.
        self._sent: dict[uuid.UUID, tuple[ProgressMessage, int]] = {}
        self._held: dict[uuid.UUID, ProgressMessage] = {}

    @property
    def min_interval_ms(self) -> int:
        """Shortest time between two ordinary messages of one campaign."""
        return self._min_interval_ms

    @property
    def min_delta(self) -> float:
        """Smallest progress change an ordinary message must carry to be sent."""
        return self._min_delta

    def _worth_sending(
        self, message: ProgressMessage, last: ProgressMessage, at_ms: int, now_ms: int
    ) -> bool:
        return (
            now_ms - at_ms >= self._min_interval_ms
            and abs(message.progress - last.progress) >= self._min_delta
        )

    def _send(self, message: ProgressMessage, now_ms: int) -> ProgressMessage:
        if (message.phase, message.status) in _TERMINAL:
            self._sent.pop(message.campaign_id, None)
        else:
            self._sent[message.campaign_id] = (message, now_ms)
        return message

    def offer(self, message: ProgressMessage, now_ms: int) -> ProgressMessage | None:
        """Return ``message`` if it should be sent now, or ``None`` if it is held back."""
        # The guards inline their fast test: offer is a hot path.
        if message.__class__ is not ProgressMessage:
            check_instance(message, ProgressMessage, "message")
        if now_ms.__class__ is not int or now_ms < 0:
            check_int(now_ms, "now_ms", unit=" (milliseconds)")
        key = message.campaign_id
        sent = self._sent.get(key)
        if sent is not None:
            last, at_ms = sent
            if (
                message.phase is last.phase
                and message.status is last.status
                and (message.phase, message.status) not in _TERMINAL
                and not self._worth_sending(message, last, at_ms, now_ms)
            ):
                self._held[key] = message
                return None
        self._held.pop(key, None)
        return self._send(message, now_ms)

    def due(self, now_ms: int) -> list[ProgressMessage]:
        """Return every held message that is now worth sending, and forget it as held."""
        check_int(now_ms, "now_ms", unit=" (milliseconds)")
        ready = []
        for key, message in self._held.items():
            last, at_ms = self._sent[key]
            if self._worth_sending(message, last, at_ms, now_ms):
                ready.append(message)
        for message in ready:
            del self._held[message.campaign_id]
            self._send(message, now_ms)
        return ready

    def flush(self) -> list[ProgressMessage]:
        """Return every held message, on shutdown: then what each campaign's client saw
        last is the last message offered for it."""
        flushed = list(self._held.values())
        self._held.clear()
        for message in flushed:
            self._send(message, self._sent[message.campaign_id][1])
        return flushed

    def forget(self, campaign_id: uuid.UUID | str) -> ProgressMessage | None:
        """Stop tracking a campaign that will send nothing more, without a terminal state
        (failed and abandoned, say); return its held message, if any, so that it is not
        lost silently."""
        key = check_uuid(campaign_id)
        self._sent.pop(key, None)
        return self._held.pop(key, None)

    @property
    def tracked(self) -> int:
        """How many campaigns the throttle remembers (live ones, not yet terminal)."""
        return len(self._sent)

    @property
    def held(self) -> int:
        """How many messages are held back right now."""
        return len(self._held)


class ProgressView:
    """The client side: the newest progress message per campaign.

    :meth:`apply` keeps a message only if its ``sequence`` is greater than the kept
    one's, so duplicates and late arrivals never move a campaign backwards, and any
    order of the same messages gives the same view (given that a campaign never sends
    two different messages with one sequence number).

    >>> import uuid
    >>> view = ProgressView()
    >>> first = ProgressMessage(uuid.UUID(int=1), "dns_validation", "running", 5.0, 5, 100,
    ...                         sequence=1)
    >>> second = ProgressMessage(uuid.UUID(int=1), "dns_validation", "running", 9.0, 9, 100,
    ...                          sequence=2)
    >>> view.apply(second), view.apply(first), view.get(uuid.UUID(int=1)).progress
    (True, False, 9.0)
    """

    __slots__ = ("_latest",)

    def __init__(self) -> None:
        self._latest: dict[uuid.UUID, ProgressMessage] = {}

    def apply(self, message: ProgressMessage) -> bool:
        """Keep ``message`` if it is newer than the kept one; return whether it was."""
        if message.__class__ is not ProgressMessage:
            check_instance(message, ProgressMessage, "message")
        kept = self._latest.get(message.campaign_id)
        if kept is not None and message.sequence <= kept.sequence:
            return False
        self._latest[message.campaign_id] = message
        return True

    def get(self, campaign_id: uuid.UUID | str) -> ProgressMessage | None:
        """Return the newest message of a campaign, or ``None`` if none arrived."""
        return self._latest.get(check_uuid(campaign_id))

    def __len__(self) -> int:
        return len(self._latest)

    def __iter__(self) -> Iterator[uuid.UUID]:
        return iter(self._latest)
