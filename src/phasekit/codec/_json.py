"""A frame's bytes: the size limit, and JSON in and out (orjson) for every format.

Every decoder reads its input through :func:`read_json`, so all of them accept the same
input types, apply the same size limit and raise the same errors for text that is not
JSON.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from phasekit._checks import check_int
from phasekit.errors import DecodeError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "JSONDecodeError",
    "dumps",
    "loads",
    "parse",
    "read_json",
    "size_check",
]

#: Largest frame the decoders accept by default, in bytes of UTF-8.
DEFAULT_MAX_BYTES: Final = 64 * 1024

#: orjson's writer and reader, bound once for the hot paths.
dumps: Final = orjson.dumps
loads: Final = orjson.loads
JSONDecodeError: Final = orjson.JSONDecodeError


def size_check(data: object, max_bytes: int) -> bytes | str:
    """Return ``data`` as bytes or text if it is at most ``max_bytes`` of UTF-8."""
    if type(max_bytes) is not int or max_bytes < 1:
        check_int(max_bytes, "max_bytes", minimum=1)
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


def parse(data: bytes | str) -> Any:
    """Return the JSON value of ``data``, or raise :class:`~phasekit.DecodeError`."""
    try:
        return loads(data)
    except JSONDecodeError as error:
        raise DecodeError(f"frame is not valid JSON: {error}") from None


def read_json(data: object, max_bytes: int) -> Any:
    """Return the JSON value of a frame, after the size limit."""
    return parse(size_check(data, max_bytes))
