"""Campaign ids: the one canonical UUID text, its check, and the caches both ways.

A campaign sends many messages, so its id is converted between :class:`uuid.UUID` and
text once and remembered. The caches are bounded: cleared when full, they cost at most a
few hundred KB. The records (:mod:`phasekit._messages`), the codec and the progress
throttle all read ids through here.
"""

from __future__ import annotations

import re
import uuid
from typing import Final

from phasekit._checks import shown
from phasekit.errors import InvalidValue

__all__ = [
    "ID_CACHE_LIMIT",
    "UUID_PATTERN",
    "cached_text",
    "cached_uuid",
    "check_uuid",
    "parse_uuid",
    "uuid_text",
]

#: Canonical UUID text, the only form the encoders write and the decoders accept.
UUID_PATTERN: Final = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
#: Most ids each cache holds before it is cleared.
ID_CACHE_LIMIT: Final = 4096

_CANONICAL_UUID = re.compile(UUID_PATTERN)
_uuid_by_text: dict[str, uuid.UUID] = {}
_text_by_uuid: dict[uuid.UUID, str] = {}

#: The cached UUID of a text, or ``None``: the first, cheapest step of the hot paths.
cached_uuid: Final = _uuid_by_text.get
#: The cached text of a UUID, or ``None``.
cached_text: Final = _text_by_uuid.get


def parse_uuid(text: str) -> uuid.UUID | None:
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


def uuid_text(value: uuid.UUID) -> str:
    """Return the canonical text of ``value``."""
    found = _text_by_uuid.get(value)
    if found is not None:
        return found
    if len(_text_by_uuid) >= ID_CACHE_LIMIT:
        _text_by_uuid.clear()
    text = _text_by_uuid[value] = str(value)
    return text


def check_uuid(value: object) -> uuid.UUID:
    """Return ``value`` as a UUID if it is one or its canonical text; the converter of
    every ``campaign_id``. Anything else raises :class:`~phasekit.InvalidValue`."""
    if isinstance(value, uuid.UUID):
        return value
    if type(value) is str:
        parsed = parse_uuid(value)
        if parsed is not None:
            return parsed
    raise InvalidValue(
        f"campaign_id must be a uuid.UUID or its canonical text; got {shown(value)}",
        field="campaign_id",
        value=value,
    )
