"""The TypeScript module: generated tables, joined to the hand-written runtime.

Python writes only what it derives from its tables (the enums, codes, tags and limits,
the message field tables and interfaces, the lifecycle table) as the small module
:func:`tables_module`. The lifecycle functions, the compact-frame decoder and the
client's ``ProgressView`` are real TypeScript, ``runtime.ts`` beside this file (package
data), which imports the tables from ``"./tables"`` and so type-checks on its own.
:func:`typescript` joins both into the one self-contained module that users copy (and
that ``ts/`` packs for npm).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from typing import Final

from phasekit import codec
from phasekit._checks import MAX_PROGRESS, MAX_REASON_LENGTH
from phasekit._lifecycle import (
    PHASE_TRANSITION_FROM,
    PHASE_TRANSITION_STATUS,
    STATUS_RULES,
    available_transitions,
)
from phasekit._model import Event, Phase, PhaseState, PhaseStatus
from phasekit.schema._json_schema import STRIPPED_PATTERN, enum_description

__all__ = ["RUNTIME_FILE", "TABLES_IMPORT", "runtime_source", "tables_module", "typescript"]

#: The hand-written TypeScript, package data of :mod:`phasekit.schema`.
RUNTIME_FILE: Final = "runtime.ts"
#: The module name under which ``runtime.ts`` imports the generated tables.
TABLES_IMPORT: Final = "./tables"
# The runtime's one import statement, removed when both parts become one module.
_IMPORT: Final = re.compile(r'^import \{[^}]*\} from "' + re.escape(TABLES_IMPORT) + r'";\n+', re.M)

_TS_TYPES: Final = {
    "uuid": "string",
    "phase": "Phase",
    "status": "PhaseStatus",
    "percent": "number",
    "count": "number",
    "shard": "number",
    "timestamp": "number",
    "reason": "string",
}


def _ts(value: object) -> str:
    """A TypeScript literal of a JSON value (JSON is valid TypeScript)."""
    return json.dumps(value, ensure_ascii=False)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _ts_name(field: codec.WireField) -> str:
    return field.verbose or _camel(field.name)


def _enums() -> str:
    lines = []
    for name, kind in (("PHASES", Phase), ("PHASE_STATUSES", PhaseStatus), ("EVENTS", Event)):
        lines += [
            f"export const {name} = {_ts([member.value for member in kind])} as const;",
            f"/** {enum_description(kind)} */",
            f"export type {kind.__name__} = (typeof {name})[number];",
        ]
    return "\n".join(lines)


def _lifecycle() -> str:
    targets = "\n".join(
        f"  {phase.value}: "
        + _ts([t.value for t in available_transitions(PhaseState(phase, PHASE_TRANSITION_FROM))])
        + ","
        for phase in Phase
    )
    rules = ",\n".join(
        "  { sources: "
        + _ts([source.value for source in rule.sources])
        + f", event: {_ts(rule.event.value)}, destination: {_ts(rule.destination.value)}, "
        + f"progress: {_ts(rule.progress)} }}"
        for rule in STATUS_RULES
    )
    return f"""export interface StatusRule {{
  readonly sources: readonly PhaseStatus[];
  readonly event: Event;
  readonly destination: PhaseStatus;
  /** The progress the new state carries, or null when it is kept. */
  readonly progress: number | null;
}}

/** The lifecycle table: every status event, the same in every phase. */
export const STATUS_RULES: readonly StatusRule[] = [
{rules},
];
/** A phase transition is allowed only from this status ... */
export const PHASE_TRANSITION_FROM: PhaseStatus = {_ts(PHASE_TRANSITION_FROM.value)};
/** ... to any later phase, which starts in this status at 0 %. */
export const PHASE_TRANSITION_STATUS: PhaseStatus = {_ts(PHASE_TRANSITION_STATUS.value)};
/** The phases each completed phase may move on to, in pipeline order. */
export const TRANSITION_TARGETS: Readonly<Record<Phase, readonly Phase[]>> = {{
{targets}
}};"""


def _interface(name: str, kind: str, fields: tuple[codec.WireField, ...]) -> str:
    lines = [f"export interface {name} {{", f'  readonly kind: "{kind}";']
    lines += [
        f"  /** {field.doc} */\n  readonly {_ts_name(field)}: {_TS_TYPES[field.kind]};"
        for field in fields
    ]
    return "\n".join([*lines, "}"])


def _envelope(name: str, kind: str, fields: tuple[codec.WireField, ...]) -> str:
    data = [
        f"  readonly {field.verbose}: {_TS_TYPES[field.kind]};"
        for field in fields
        if field.verbose is not None
    ]
    return "\n".join(
        [
            f"export interface {name}Data {{",
            *data,
            "}",
            "",
            f"export interface {name}Envelope {{",
            f"  readonly type: {_ts(kind)};",
            "  readonly timestamp: string;",
            f"  readonly data: {name}Data;",
            "}",
        ]
    )


def _messages() -> str:
    return "\n\n".join(
        [
            _interface("ProgressMessage", "progress", codec.PROGRESS_FIELDS),
            _interface("TransitionMessage", "transition", codec.TRANSITION_FIELDS),
            _interface("ShardReport", "shardReport", codec.SHARD_REPORT_FIELDS),
            "/** Either kind of message a client receives. */\n"
            "export type Message = ProgressMessage | TransitionMessage;",
            "/** Anything a compact frame carries: a message or a worker's shard report. */\n"
            "export type Frame = Message | ShardReport;",
            _envelope("Progress", codec.PROGRESS_TYPE, codec.PROGRESS_FIELDS),
            _envelope("Transition", codec.TRANSITION_TYPE, codec.TRANSITION_FIELDS),
        ]
    )


def _codes_record(
    codes: Mapping[Phase, int] | Mapping[PhaseStatus, int], name: str, type_name: str
) -> str:
    pairs = ", ".join(f"{member.value}: {code}" for member, code in codes.items())
    return f"export const {name}: Readonly<Record<{type_name}, number>> = {{ {pairs} }};"


def _constants() -> str:
    return "\n".join(
        [
            _codes_record(codec.PHASE_CODES, "PHASE_CODES", "Phase"),
            _codes_record(codec.STATUS_CODES, "STATUS_CODES", "PhaseStatus"),
            f"export const PROGRESS_TAG = {_ts(codec.PROGRESS_TAG)};",
            f"export const TRANSITION_TAG = {_ts(codec.TRANSITION_TAG)};",
            f"export const SHARD_REPORT_TAG = {_ts(codec.SHARD_REPORT_TAG)};",
            f"export const BATCH_TAG = {_ts(codec.BATCH_TAG)};",
            f"export const MAX_PROGRESS = {_ts(MAX_PROGRESS)};",
            f"export const MAX_INTEGER = {codec.MAX_INTEGER};",
            f"export const MAX_SHARD = {codec.MAX_SHARD};",
            f"export const MAX_TIMESTAMP_MS = {codec.MAX_TIMESTAMP_MS};",
            f"export const MAX_REASON_LENGTH = {MAX_REASON_LENGTH};",
            f"export const DEFAULT_MAX_BYTES = {codec.DEFAULT_MAX_BYTES};",
            f"export const DEFAULT_MAX_BATCH = {codec.DEFAULT_MAX_BATCH};",
            f"export const UUID_PATTERN = /{codec.UUID_PATTERN}/;",
            f"export const STRIPPED_PATTERN = /{STRIPPED_PATTERN}/;",
        ]
    )


def _field_tables() -> str:
    kinds = " | ".join(_ts(kind) for kind in _TS_TYPES)
    lines = [
        "/** How a frame position is checked. */",
        f"export type FieldKind = {kinds};",
        "/** One field of a message: its Python name, its key here and its kind. */",
        "export interface WireField<Key extends string = string> {",
        "  readonly name: string;",
        "  readonly key: Key;",
        "  readonly kind: FieldKind;",
        "}",
    ]
    for name, message, fields in (
        ("PROGRESS_FIELDS", "ProgressMessage", codec.PROGRESS_FIELDS),
        ("TRANSITION_FIELDS", "TransitionMessage", codec.TRANSITION_FIELDS),
        ("SHARD_REPORT_FIELDS", "ShardReport", codec.SHARD_REPORT_FIELDS),
    ):
        lines += [
            f"/** The fields of a {message}, in compact wire order (after the tag). */",
            f'export const {name}: readonly WireField<Exclude<keyof {message}, "kind">>[] = [',
            *(
                f"  {{ name: {_ts(field.name)}, key: {_ts(_ts_name(field))}, "
                f"kind: {_ts(field.kind)} }},"
                for field in fields
            ),
            "];",
        ]
    return "\n".join(lines)


def tables_module() -> str:
    """Return the generated part alone: the module ``runtime.ts`` imports as ``./tables``."""
    from phasekit import __version__

    sections = [
        f"// Generated by phasekit {__version__} from its own tables. Do not edit by hand:\n"
        "// regenerate with `phasekit schema --format typescript`.\n"
        "/* eslint-disable */",
        _enums(),
        _lifecycle(),
        _messages(),
        _constants(),
        _field_tables(),
    ]
    return "\n\n".join(sections) + "\n"


def runtime_source() -> str:
    """Return ``runtime.ts``, the hand-written part, as shipped in the package."""
    return resources.files("phasekit.schema").joinpath(RUNTIME_FILE).read_text(encoding="utf-8")


def typescript() -> str:
    """Return one TypeScript module of phasekit's types, lifecycle and compact decoder.

    It holds string-literal unions and readonly arrays for the enums, interfaces for the
    records and envelopes, the lifecycle table with ``availableEvents`` and
    ``availableTransitions``, ``decodeFrame``, which validates a compact frame exactly
    like :func:`phasekit.codec.decode`, and ``ProgressView``, which keeps the newest
    progress message per campaign exactly like :class:`phasekit.ProgressView`. It
    compiles with ``tsc --strict`` for ES2020, to CommonJS and to ES modules alike, and
    runs where ``String.prototype.isWellFormed`` exists (ES2024: Node 20, current
    browsers).
    """
    return tables_module() + "\n" + _IMPORT.sub("", runtime_source(), count=1)
