"""What the codec tests share: the typical message and envelope editing."""

from __future__ import annotations

from collections.abc import Callable

import orjson

from phasekit import codec

TYPICAL = codec.EXAMPLE_PROGRESS
CAMPAIGN = TYPICAL.campaign_id
DECODERS: list[Callable[..., object]] = [
    codec.decode,
    codec.decode_batch,
    codec.decode_verbose,
    codec.decode_legacy,
]


def changed(frame: bytes, change: dict[str, object]) -> bytes:
    """Return an envelope with keys replaced; ``data/key`` names a key inside ``data``."""
    envelope = orjson.loads(frame)
    for key, value in change.items():
        if key.startswith("data/"):
            envelope["data"][key[5:]] = value
        else:
            envelope[key] = value
    return orjson.dumps(envelope)
