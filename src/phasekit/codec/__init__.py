"""Progress and phase-transition messages, and their wire formats.

One table, :data:`PROGRESS_FIELDS` (and :data:`TRANSITION_FIELDS`), lists every field of
a message in wire order, with its kind and its name in the verbose JSON envelope; the
enum codes live in :data:`PHASE_CODES` and :data:`STATUS_CODES`. The encoders, the
decoders, the JSON Schema, the TypeScript decoder and the docs all read these tables.

Formats:

compact (the default)
    ``encode`` / ``decode``: a JSON array, ``["p1", campaign_id, phase code, status code,
    progress, processed, total, successful, failed, sequence, timestamp_ms]`` for progress
    and ``["t1", campaign_id, previous phase code, phase code, status code, reason,
    sequence, timestamp_ms]`` for a transition, and ``["s1", campaign_id, phase code,
    shard, shard_total, processed, successful, failed]`` for a worker's
    :class:`~phasekit.ShardReport`. The leading tag names the kind and the format version. About a
    sixth of the legacy dual broadcast.
batch
    ``encode_batch`` / ``decode_batch``: ``["b1", frame, frame, ...]``.
verbose
    ``encode_verbose`` / ``decode_verbose``: the standardized ``campaign.progress`` and
    ``campaign.phase.transition`` envelopes, for clients that want readable JSON (shard
    reports travel between workers in compact frames only).
legacy
    ``decode_legacy`` reads the legacy ``campaign_progress`` envelope;
    ``encode_legacy`` writes one, for clients that have not moved yet.

Decoding is strict: anything that the matching encoder could not have produced raises
:class:`~phasekit.DecodeError` naming the field or position, and no other exception
escapes a decoder, whatever the input.
"""

from __future__ import annotations

from phasekit._checks import MAX_INTEGER, MAX_TIMESTAMP_MS
from phasekit._envelopes import LEGACY_PROGRESS_TYPE as LEGACY_PROGRESS_TYPE
from phasekit._envelopes import PROGRESS_TYPE as PROGRESS_TYPE
from phasekit._envelopes import TRANSITION_TYPE as TRANSITION_TYPE
from phasekit._ids import ID_CACHE_LIMIT as ID_CACHE_LIMIT
from phasekit._ids import UUID_PATTERN
from phasekit._messages import (
    BATCH_TAG,
    EXAMPLE_PROGRESS,
    EXAMPLE_SHARD_REPORT,
    EXAMPLE_TRANSITION,
    MAX_SHARD,
    PHASE_CODES,
    PROGRESS_FIELDS,
    PROGRESS_TAG,
    SHARD_REPORT_FIELDS,
    SHARD_REPORT_TAG,
    STATUS_CODES,
    TRANSITION_FIELDS,
    TRANSITION_TAG,
    Frame,
    Message,
    ProgressMessage,
    ShardReport,
    TransitionMessage,
    WireField,
)
from phasekit._messages import FieldKind as FieldKind
from phasekit.codec._compact import (
    DEFAULT_MAX_BATCH,
    decode,
    decode_batch,
    encode,
    encode_batch,
)
from phasekit.codec._json import DEFAULT_MAX_BYTES
from phasekit.codec._legacy import decode_legacy, encode_legacy
from phasekit.codec._timestamps import TIMESTAMP_PATTERN, format_timestamp, parse_timestamp
from phasekit.codec._verbose import decode_verbose, encode_verbose
from phasekit.errors import DecodeError

__all__ = [
    "BATCH_TAG",
    "DEFAULT_MAX_BATCH",
    "DEFAULT_MAX_BYTES",
    "EXAMPLE_PROGRESS",
    "EXAMPLE_SHARD_REPORT",
    "EXAMPLE_TRANSITION",
    "MAX_INTEGER",
    "MAX_SHARD",
    "MAX_TIMESTAMP_MS",
    "PHASE_CODES",
    "PROGRESS_FIELDS",
    "PROGRESS_TAG",
    "SHARD_REPORT_FIELDS",
    "SHARD_REPORT_TAG",
    "STATUS_CODES",
    "TIMESTAMP_PATTERN",
    "TRANSITION_FIELDS",
    "TRANSITION_TAG",
    "UUID_PATTERN",
    "DecodeError",
    "Frame",
    "Message",
    "ProgressMessage",
    "ShardReport",
    "TransitionMessage",
    "WireField",
    "decode",
    "decode_batch",
    "decode_legacy",
    "decode_verbose",
    "encode",
    "encode_batch",
    "encode_legacy",
    "encode_verbose",
    "format_timestamp",
    "parse_timestamp",
]
