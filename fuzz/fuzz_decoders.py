"""Coverage-guided fuzzing of every phasekit decoder with atheris.

Any input must give a valid record or a ``DecodeError``; any other exception is a bug
that atheris reports with the input that caused it.

    pip install atheris
    python fuzz/fuzz_decoders.py -max_total_time=60
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from phasekit import DecodeError, codec

DECODERS = (codec.decode, codec.decode_batch, codec.decode_verbose, codec.decode_legacy)


def test_one_input(data: bytes) -> None:
    for decoder in DECODERS:
        with contextlib.suppress(DecodeError):
            decoder(data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
