"""The JSON Schema document: phasekit's enums, records and messages as ``$defs``.

Nothing here restates a rule: the enums and their descriptions come from
:class:`~phasekit.Phase`, :class:`~phasekit.PhaseStatus` and :class:`~phasekit.Event`, the
message fields, codes, tags, envelope types and limits from :mod:`phasekit.codec` and the
shared limits. :func:`definitions` builds every shared definition for a caller-chosen
reference style, so the OpenAPI document reuses them as its components.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Final, TypeAlias, assert_never

from phasekit import codec
from phasekit._checks import MAX_PROGRESS, MAX_REASON_LENGTH
from phasekit._messages import INTEGER_MAXIMUM
from phasekit._model import Event, Phase, PhaseStatus

__all__ = [
    "JSON_SCHEMA_DIALECT",
    "NOT_BLANK_PATTERN",
    "STRIPPED_PATTERN",
    "JSONValue",
    "Ref",
    "Schema",
    "definitions",
    "enum_description",
    "json_schema",
    "percent_schema",
]

#: A JSON value: what the generators' documents are made of.
JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
#: One schema object, as the generators build it.
Schema: TypeAlias = dict[str, Any]
#: How a document refers to one of its shared definitions, by name.
Ref: TypeAlias = Callable[[str], Schema]

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
# Python's own whitespace (str.isspace), so that "stripped" means the same everywhere.
_WHITESPACE: Final = "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())
#: A string with no leading or trailing whitespace, as :func:`str.strip` leaves it.
STRIPPED_PATTERN: Final = f"^[^{_WHITESPACE}]([\\s\\S]*[^{_WHITESPACE}])?$"
#: A string with something besides whitespace in it, so :func:`str.strip` leaves it non-empty.
NOT_BLANK_PATTERN: Final = f"[^{_WHITESPACE}]"


def enum_description(kind: type[Phase] | type[PhaseStatus] | type[Event]) -> str:
    """The first paragraph of the enum's own docstring: its description everywhere."""
    doc = inspect.getdoc(kind) or kind.__name__
    return " ".join(doc.split("\n\n")[0].split())


def _enum(kind: type[Phase] | type[PhaseStatus] | type[Event]) -> Schema:
    return {
        "type": "string",
        "enum": [member.value for member in kind],
        "description": enum_description(kind),
    }


def _reason() -> Schema:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_REASON_LENGTH,
        "pattern": STRIPPED_PATTERN,
    }


def percent_schema() -> Schema:
    """A progress percentage; "number" admits integers (a frame may write 100 for 100.0)."""
    return {"type": "number", "minimum": 0, "maximum": MAX_PROGRESS}


def _field(field: codec.WireField, ref: Ref, *, compact: bool) -> Schema:
    """The schema of one message field, in compact frames or in verbose envelopes."""
    described: Schema
    if field.kind == "uuid":
        described = {"type": "string", "format": "uuid", "pattern": codec.UUID_PATTERN}
    elif field.kind == "phase":
        described = (
            {"type": "integer", "enum": list(codec.PHASE_CODES.values())}
            if compact
            else ref("Phase")
        )
    elif field.kind == "status":
        described = (
            {"type": "integer", "enum": list(codec.STATUS_CODES.values())}
            if compact
            else ref("PhaseStatus")
        )
    elif field.kind == "percent":
        described = percent_schema()
    elif field.kind == "count" or field.kind == "shard" or field.kind == "timestamp":
        described = {"type": "integer", "minimum": 0, "maximum": INTEGER_MAXIMUM[field.kind]}
    elif field.kind == "reason":
        described = _reason()
    else:  # pragma: no cover - a new kind in the tables must be described here first
        assert_never(field.kind)
    return {**described, "description": field.doc}


def _data(fields: tuple[codec.WireField, ...], ref: Ref) -> Schema:
    carried = [field for field in fields if field.verbose is not None]
    return {
        "type": "object",
        "properties": {
            field.verbose: _field(field, ref, compact=False)
            for field in carried
            if field.verbose is not None
        },
        "required": [field.verbose for field in carried],
        "additionalProperties": False,
    }


def _envelope(kind: str, data: str, ref: Ref) -> Schema:
    return {
        "type": "object",
        "properties": {
            "type": {"const": kind},
            "timestamp": {
                "type": "string",
                "format": "date-time",
                "pattern": codec.TIMESTAMP_PATTERN,
                "description": "RFC 3339 UTC with milliseconds",
            },
            "data": ref(data),
        },
        "required": ["type", "timestamp", "data"],
        "additionalProperties": False,
    }


def _frame(tag: str, fields: tuple[codec.WireField, ...], ref: Ref, doc: str) -> Schema:
    items = [{"const": tag}, *(_field(field, ref, compact=True) for field in fields)]
    return {
        "type": "array",
        "description": doc,
        "prefixItems": items,
        "items": False,
        "minItems": len(items),
        "maxItems": len(items),
    }


def definitions(ref: Ref) -> dict[str, Schema]:
    """Every shared definition, with references built by ``ref``."""
    return {
        "Phase": _enum(Phase),
        "PhaseStatus": _enum(PhaseStatus),
        "Event": _enum(Event),
        "PhaseState": {
            "type": "object",
            "description": "Where a campaign is: its phase, that phase's status, its progress.",
            "properties": {
                "phase": ref("Phase"),
                "status": ref("PhaseStatus"),
                "progress": {**percent_schema(), "description": "percent done, 0..100"},
            },
            "required": ["phase", "status", "progress"],
            "additionalProperties": False,
        },
        "PhaseTransition": {
            "type": "object",
            "description": "One change of phase: the state before, the state after and why.",
            "properties": {
                "previous": ref("PhaseState"),
                "current": ref("PhaseState"),
                "reason": _reason(),
            },
            "required": ["previous", "current", "reason"],
            "additionalProperties": False,
        },
        "ProgressData": _data(codec.PROGRESS_FIELDS, ref),
        "ProgressEnvelope": _envelope(codec.PROGRESS_TYPE, "ProgressData", ref),
        "TransitionData": _data(codec.TRANSITION_FIELDS, ref),
        "TransitionEnvelope": _envelope(codec.TRANSITION_TYPE, "TransitionData", ref),
        "CompactProgressFrame": _frame(
            codec.PROGRESS_TAG,
            codec.PROGRESS_FIELDS,
            ref,
            "Compact progress frame. Also: processed <= total and successful + failed <= "
            "processed.",
        ),
        "CompactTransitionFrame": _frame(
            codec.TRANSITION_TAG,
            codec.TRANSITION_FIELDS,
            ref,
            "Compact transition frame. Also: the previous phase comes before the new one "
            "in pipeline order.",
        ),
        "CompactShardReportFrame": _frame(
            codec.SHARD_REPORT_TAG,
            codec.SHARD_REPORT_FIELDS,
            ref,
            "Compact shard-report frame: one worker's counts for its shard of a campaign "
            "phase (compact frames only; no verbose envelope). Also: successful + failed "
            "<= processed <= shard_total.",
        ),
        "CompactFrame": {
            "oneOf": [
                ref("CompactProgressFrame"),
                ref("CompactTransitionFrame"),
                ref("CompactShardReportFrame"),
            ]
        },
        "BatchFrame": {
            "type": "array",
            "description": "Several compact frames in one.",
            "prefixItems": [{"const": codec.BATCH_TAG}],
            "items": ref("CompactFrame"),
            "minItems": 1,
            "maxItems": 1 + codec.DEFAULT_MAX_BATCH,
        },
    }


def json_schema() -> dict[str, JSONValue]:
    """Return one JSON Schema (draft 2020-12) document of phasekit's types and messages.

    Its ``$defs`` hold the enums, ``PhaseState``, ``PhaseTransition``, the verbose
    envelopes and the compact frames (fixed-length arrays).

    >>> json_schema()["$defs"]["Phase"]["enum"]
    ['domain_generation', 'dns_validation', 'http_validation']
    """
    from phasekit import __version__

    document: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": "urn:phasekit:schema",
        "title": f"phasekit {__version__}",
        "description": "Phases, lifecycle records and progress messages of phasekit.",
        "$defs": definitions(lambda name: {"$ref": f"#/$defs/{name}"}),
    }
    return document
