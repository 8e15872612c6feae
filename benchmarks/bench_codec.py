"""Benchmark: phasekit's compact codec against stdlib json, orjson, pydantic and msgspec.

All encode the same progress message (random campaign id, 13-digit timestamp, counts in
the millions) and decode it back with validation, in one run:
- stdlib ``json`` and ``orjson`` on a dict (decode without validation: the cost of JSON
  alone);
- pydantic v2 ``model_dump_json`` / ``model_validate_json`` with the same constraints;
- msgspec ``Struct(array_like=True)`` with the same constraints (the C floor).
Also the bytes per message of each.

Run with ``make bench`` or ``python benchmarks/bench_codec.py``.
"""

from __future__ import annotations

import argparse
import json
import timeit
import uuid
from collections.abc import Callable
from typing import Annotated

import msgspec
import orjson
from _harness import machine_line, print_table
from pydantic import BaseModel, ConfigDict, Field

from phasekit import Phase, PhaseStatus, codec

Count = Annotated[int, Field(ge=0, le=codec.MAX_INTEGER, strict=True)]
MsgCount = Annotated[int, msgspec.Meta(ge=0, le=codec.MAX_INTEGER)]


class PydanticProgress(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True)
    campaign_id: uuid.UUID
    phase: Phase
    status: PhaseStatus
    progress: Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
    processed: Count
    total: Count
    successful: Count
    failed: Count
    sequence: Count
    timestamp_ms: Annotated[int, Field(ge=0, le=codec.MAX_TIMESTAMP_MS, strict=True)]


class MsgspecProgress(msgspec.Struct, array_like=True, frozen=True):
    campaign_id: uuid.UUID
    phase: Phase
    status: PhaseStatus
    progress: Annotated[float, msgspec.Meta(ge=0.0, le=100.0)]
    processed: MsgCount
    total: MsgCount
    successful: MsgCount
    failed: MsgCount
    sequence: MsgCount
    timestamp_ms: Annotated[int, msgspec.Meta(ge=0, le=codec.MAX_TIMESTAMP_MS)]


def per_call_ns(call: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000)
    args = parser.parse_args()
    n = args.number
    message = codec.EXAMPLE_PROGRESS
    fields = {name: getattr(message, name) for name in message.__slots__}
    as_dict = {**fields, "campaign_id": str(message.campaign_id)}

    frame = codec.encode(message)
    json_frame = json.dumps(as_dict).encode()
    orjson_frame = orjson.dumps(as_dict)
    model = PydanticProgress(**fields)
    pydantic_frame = model.model_dump_json().encode()
    struct = MsgspecProgress(**fields)
    encoder = msgspec.json.Encoder()
    decoder = msgspec.json.Decoder(MsgspecProgress)
    msgspec_frame = encoder.encode(struct)
    assert codec.decode(frame) == message
    assert PydanticProgress.model_validate_json(pydantic_frame) == model
    assert decoder.decode(msgspec_frame) == struct

    rows = [
        (
            "phasekit compact",
            per_call_ns(lambda: codec.encode(message), n),
            per_call_ns(lambda: codec.decode(frame), n),
            len(frame),
        ),
        (
            "stdlib json, dict (no validation)",
            per_call_ns(lambda: json.dumps(as_dict), n),
            per_call_ns(lambda: json.loads(json_frame), n),
            len(json_frame),
        ),
        (
            "orjson, dict (no validation)",
            per_call_ns(lambda: orjson.dumps(as_dict), n),
            per_call_ns(lambda: orjson.loads(orjson_frame), n),
            len(orjson_frame),
        ),
        (
            "pydantic v2",
            per_call_ns(model.model_dump_json, n),
            per_call_ns(lambda: PydanticProgress.model_validate_json(pydantic_frame), n),
            len(pydantic_frame),
        ),
        (
            "msgspec Struct(array_like=True)",
            per_call_ns(lambda: encoder.encode(struct), n),
            per_call_ns(lambda: decoder.decode(msgspec_frame), n),
            len(msgspec_frame),
        ),
    ]
    legacy = len(codec.encode_verbose(message)) + len(
        codec.encode_legacy(message, message_id=uuid.UUID(int=3))
    )
    print(f"## Codec benchmark ({machine_line()})")
    print_table(
        f"One progress message ({n:,} calls, best of 5)",
        ["implementation", "encode ns", "decode+validate ns", "bytes"],
        [(name, f"{enc:,.0f}", f"{dec:,.0f}", size) for name, enc, dec, size in rows],
    )
    ours, pydantic, floor = rows[0], rows[3], rows[4]
    print(
        f"\nLegacy dual broadcast of the same update: {legacy} bytes; compact is "
        f"{len(frame) / legacy:.1%} of it."
    )
    checks = [
        (f"encode <= 2x msgspec: {ours[1] / floor[1]:.2f}x", ours[1] <= 2 * floor[1]),
        (
            f"encode >= 3x faster than pydantic: {pydantic[1] / ours[1]:.1f}x",
            pydantic[1] >= 3 * ours[1],
        ),
        (f"decode+validate <= 3.5x msgspec: {ours[2] / floor[2]:.2f}x", ours[2] <= 3.5 * floor[2]),
        (
            f"decode+validate faster than pydantic: {pydantic[2] / ours[2]:.1f}x",
            ours[2] < pydantic[2],
        ),
        (
            f"bytes <= msgspec array_like: {len(frame)} vs {len(msgspec_frame)}",
            len(frame) <= len(msgspec_frame),
        ),
    ]
    print("Targets: " + "; ".join(f"{text} ({'met' if ok else 'NOT met'})" for text, ok in checks))


if __name__ == "__main__":
    main()
