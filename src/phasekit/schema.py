"""JSON Schema, OpenAPI 3.1 and TypeScript, generated from phasekit's own tables.

Nothing here restates a rule: the enums come from :class:`~phasekit.Phase`,
:class:`~phasekit.PhaseStatus` and :class:`~phasekit.Event`, the message fields and enum
codes from :mod:`phasekit.codec`, and the lifecycle from
:data:`~phasekit.STATUS_RULES`. So the API spec, the frontend types and the backend can
never drift apart, and generated files are never edited by hand.

Every function is pure and deterministic: the same phasekit gives byte-identical output
on every run and machine (``phasekit schema`` writes it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, TypeAlias

from phasekit import codec
from phasekit._checks import MAX_PROGRESS, MAX_REASON_LENGTH
from phasekit._lifecycle import (
    PHASE_TRANSITION_FROM,
    PHASE_TRANSITION_STATUS,
    STATUS_RULES,
    available_transitions,
)
from phasekit._model import Event, Phase, PhaseState, PhaseStatus

__all__ = ["JSONValue", "json_schema", "openapi_document", "typescript"]

#: A JSON value: what the generators' documents are made of.
JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
# Python's own whitespace (str.isspace), so that "stripped" means the same everywhere.
_WHITESPACE: Final = "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())
_STRIPPED_PATTERN: Final = f"^[^{_WHITESPACE}]([\\s\\S]*[^{_WHITESPACE}])?$"

Schema = dict[str, Any]
Ref = Callable[[str], Schema]

_ENUM_DOCS: Final = {
    "Phase": "A processing phase, in pipeline order.",
    "PhaseStatus": "The status of the current phase.",
    "Event": "Something that happens to a phase's status.",
}


def _enum(kind: type[Phase] | type[PhaseStatus] | type[Event]) -> Schema:
    return {
        "type": "string",
        "enum": [member.value for member in kind],
        "description": _ENUM_DOCS[kind.__name__],
    }


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
        described = {"type": "number", "minimum": 0, "maximum": MAX_PROGRESS}
    elif field.kind == "count":
        described = {"type": "integer", "minimum": 0, "maximum": codec.MAX_INTEGER}
    elif field.kind == "timestamp":
        described = {"type": "integer", "minimum": 0, "maximum": codec.MAX_TIMESTAMP_MS}
    else:
        described = {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_REASON_LENGTH,
            "pattern": _STRIPPED_PATTERN,
        }
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


def _definitions(ref: Ref) -> dict[str, Schema]:
    """Every shared definition, with references built by ``ref``."""
    percent = {"type": "number", "minimum": 0, "maximum": MAX_PROGRESS}
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
                "progress": {**percent, "description": "percent done, 0..100"},
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
                "reason": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_REASON_LENGTH,
                    "pattern": _STRIPPED_PATTERN,
                },
            },
            "required": ["previous", "current", "reason"],
            "additionalProperties": False,
        },
        "ProgressData": _data(codec.PROGRESS_FIELDS, ref),
        "ProgressEnvelope": _envelope("campaign.progress", "ProgressData", ref),
        "TransitionData": _data(codec.TRANSITION_FIELDS, ref),
        "TransitionEnvelope": _envelope("campaign.phase.transition", "TransitionData", ref),
        "CompactProgressFrame": _frame(
            codec.PROGRESS_TAG,
            codec.PROGRESS_FIELDS,
            ref,
            "Compact progress frame. Also: processed <= total, successful + failed <= "
            "processed, and progress is written as a JSON float.",
        ),
        "CompactTransitionFrame": _frame(
            codec.TRANSITION_TAG,
            codec.TRANSITION_FIELDS,
            ref,
            "Compact transition frame. Also: the previous phase comes before the new one "
            "in pipeline order.",
        ),
        "CompactFrame": {"oneOf": [ref("CompactProgressFrame"), ref("CompactTransitionFrame")]},
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
        "$defs": _definitions(lambda name: {"$ref": f"#/$defs/{name}"}),
    }
    return document


def _component(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(name: str, description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _component(name)}},
    }


def _error_responses(*codes: str) -> dict[str, Schema]:
    texts = {
        "404": "No campaign has this id.",
        "409": "The lifecycle does not allow this transition from the campaign's state; "
        "the message says what is allowed.",
        "422": "The body is not valid.",
    }
    return {code: _json_body("Error", texts[code]) for code in codes}


def openapi_document() -> dict[str, JSONValue]:
    """Return an OpenAPI 3.1 document: every enum with its values, the records and
    messages, and the plan's three endpoints with their bodies and error responses.

    >>> document = openapi_document()
    >>> sorted(document["paths"])
    ['/campaigns', '/campaigns/{id}/phases', '/campaigns/{id}/transition']
    >>> document["components"]["schemas"]["PhaseStatus"]["enum"][:2]
    ['pending', 'running']
    """
    from phasekit import __version__

    schemas = _definitions(_component)
    phases_list = {"type": "array", "items": _component("Phase")}
    schemas["PhaseConfiguration"] = {
        "type": "object",
        "description": "Settings of the phases, free-form for the application to define.",
        "additionalProperties": True,
    }
    schemas["CreateCampaignRequest"] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255},
            "initialPhase": _component("Phase"),
            "configuration": _component("PhaseConfiguration"),
        },
        "required": ["name", "initialPhase"],
        "additionalProperties": False,
    }
    schemas["TransitionRequest"] = {
        "type": "object",
        "properties": {
            "targetPhase": _component("Phase"),
            "transitionReason": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_REASON_LENGTH,
                "description": "why; stored stripped, non-empty after stripping",
            },
        },
        "required": ["targetPhase", "transitionReason"],
        "additionalProperties": False,
    }
    schemas["CampaignPhases"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "currentPhase": _component("Phase"),
            "phaseStatus": _component("PhaseStatus"),
            "progress": {"type": "number", "minimum": 0, "maximum": MAX_PROGRESS},
            "availableEvents": {"type": "array", "items": _component("Event")},
            "availableTransitions": phases_list,
        },
        "required": ["id", "currentPhase", "phaseStatus", "progress", "availableTransitions"],
        "additionalProperties": False,
    }
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "error": {
                "type": "string",
                "enum": ["invalid_transition", "invalid_value", "not_found"],
            },
            "message": {"type": "string", "description": "what was given and what was allowed"},
        },
        "required": ["error", "message"],
        "additionalProperties": False,
    }
    campaign_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    example_body = {"name": "spring domains", "initialPhase": "domain_generation"}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "Campaign phases API",
            "version": __version__,
            "description": "Generated by phasekit from its own tables; do not edit by hand.",
        },
        "paths": {
            "/campaigns": {
                "post": {
                    "operationId": "createCampaign",
                    "summary": "Create a campaign at its initial phase, pending.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": _component("CreateCampaignRequest"),
                                "example": example_body,
                            }
                        },
                    },
                    "responses": {
                        "201": _json_body("CampaignPhases", "The new campaign."),
                        **_error_responses("422"),
                    },
                }
            },
            "/campaigns/{id}/transition": {
                "put": {
                    "operationId": "transitionCampaign",
                    "summary": "Move a completed phase on to a later phase.",
                    "parameters": [campaign_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": _component("TransitionRequest")}
                        },
                    },
                    "responses": {
                        "200": _json_body("CampaignPhases", "The campaign, in its new phase."),
                        **_error_responses("404", "409", "422"),
                    },
                }
            },
            "/campaigns/{id}/phases": {
                "get": {
                    "operationId": "getCampaignPhases",
                    "summary": "The campaign's phase, status and what it may do next.",
                    "parameters": [campaign_id],
                    "responses": {
                        "200": _json_body("CampaignPhases", "The campaign's phases."),
                        **_error_responses("404"),
                    },
                }
            },
        },
        "components": {"schemas": schemas},
    }
    return document


# --- TypeScript -----------------------------------------------------------------------


def _ts(value: object) -> str:
    """A TypeScript literal of a JSON value (JSON is valid TypeScript)."""
    return json.dumps(value, ensure_ascii=False)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _ts_name(field: codec.WireField) -> str:
    return field.verbose or _camel(field.name)


_TS_TYPES: Final = {
    "uuid": "string",
    "phase": "Phase",
    "status": "PhaseStatus",
    "percent": "number",
    "count": "number",
    "timestamp": "number",
    "reason": "string",
}


def _interface(name: str, kind: str, fields: tuple[codec.WireField, ...]) -> str:
    lines = [f"export interface {name} {{", f'  readonly kind: "{kind}";']
    lines += [
        f"  /** {field.doc} */\n  readonly {_ts_name(field)}: {_TS_TYPES[field.kind]};"
        for field in fields
    ]
    return "\n".join([*lines, "}"])


def _data_interface(name: str, fields: tuple[codec.WireField, ...]) -> str:
    lines = [f"export interface {name} {{"]
    lines += [
        f"  readonly {field.verbose}: {_TS_TYPES[field.kind]};"
        for field in fields
        if field.verbose is not None
    ]
    return "\n".join([*lines, "}"])


def _reader(kind: str, fields: tuple[codec.WireField, ...]) -> str:
    """A TypeScript function that checks one compact frame's items, field by field."""
    name = "Progress" if kind == "progress" else "Transition"
    lines = [
        f"function read{name}(items: readonly Json[]): {name}Message {{",
        f"  if (items.length !== {len(fields) + 1}) {{",
        f'    throw new DecodeError("{kind} frame must have {len(fields) + 1} items; got " '
        "+ items.length);",
        "  }",
    ]
    for position, field in enumerate(fields, start=1):
        lines.append(
            f"  const {_ts_name(field)} = {field.kind}(items[{position}], "
            f'"{kind} frame position {position} ({field.name})");'
        )
    names = [_ts_name(field) for field in fields]
    if kind == "progress":
        lines += [
            "  if (processedItems > totalItems) {",
            '    throw new DecodeError("processed must not exceed total");',
            "  }",
            "  if (successfulItems + failedItems > processedItems) {",
            '    throw new DecodeError("successful + failed must not exceed processed");',
            "  }",
        ]
    else:
        lines += [
            "  if (PHASES.indexOf(previousPhase) >= PHASES.indexOf(newPhase)) {",
            '    throw new DecodeError("previous phase must come before the new phase");',
            "  }",
        ]
    lines.append(f'  return {{ kind: "{kind}", {", ".join(names)} }};')
    lines.append("}")
    return "\n".join(lines)


def _lifecycle_ts() -> str:
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
}};

/** The events allowed from a state, in declaration order. */
export function availableEvents(state: {{ readonly status: PhaseStatus }}): Event[] {{
  return EVENTS.filter((event) =>
    STATUS_RULES.some((rule) => rule.event === event && rule.sources.includes(state.status)),
  );
}}

/** The phases a state may move on to, in pipeline order (empty unless completed). */
export function availableTransitions(state: {{
  readonly phase: Phase;
  readonly status: PhaseStatus;
}}): Phase[] {{
  return state.status === PHASE_TRANSITION_FROM ? [...TRANSITION_TARGETS[state.phase]] : [];
}}

/** Whether nothing at all can happen to a state any more. */
export function isTerminal(state: {{
  readonly phase: Phase;
  readonly status: PhaseStatus;
}}): boolean {{
  return availableEvents(state).length === 0 && availableTransitions(state).length === 0;
}}"""


_TS_DECODER: Final = r"""/** Thrown by the decoders for any input the Python decoder refuses. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** A parsed JSON value; numbers remember whether they were written as integers. */
type Json = null | boolean | string | JsonNumber | Json[] | { [key: string]: Json };

class JsonNumber {
  constructor(
    readonly value: number,
    readonly integer: boolean,
  ) {}
}

const WHITESPACE = " \t\n\r";
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const MAX_DEPTH = 1024;

/** A strict JSON parser that, like the Python decoder, keeps ints and floats apart. */
class Parser {
  private position = 0;

  constructor(private readonly text: string) {}

  parse(): Json {
    const value = this.value(0);
    this.skip();
    if (this.position !== this.text.length) {
      this.fail("trailing characters");
    }
    return value;
  }

  private fail(why: string): never {
    throw new DecodeError(`frame is not valid JSON: ${why} at ${this.position}`);
  }

  private skip(): void {
    while (this.position < this.text.length && WHITESPACE.includes(this.text[this.position])) {
      this.position += 1;
    }
  }

  private value(depth: number): Json {
    if (depth > MAX_DEPTH) {
      this.fail("nested too deep");
    }
    this.skip();
    const char = this.text[this.position];
    if (char === "[") {
      return this.array(depth);
    }
    if (char === "{") {
      return this.object(depth);
    }
    if (char === '"') {
      return this.string();
    }
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.position)) {
        this.position += word.length;
        return value;
      }
    }
    return this.number();
  }

  /** Read the items of an array or object up to `close`, calling `item` for each. */
  private items(close: string, item: () => void): void {
    this.position += 1;
    this.skip();
    if (this.text[this.position] === close) {
      this.position += 1;
      return;
    }
    for (;;) {
      item();
      this.skip();
      const char = this.text[this.position];
      this.position += 1;
      if (char === close) {
        return;
      }
      if (char !== ",") {
        this.fail(`expected , or ${close}`);
      }
    }
  }

  private array(depth: number): Json[] {
    const items: Json[] = [];
    this.items("]", () => items.push(this.value(depth + 1)));
    return items;
  }

  private object(depth: number): { [key: string]: Json } {
    const entries: { [key: string]: Json } = {};
    this.items("}", () => {
      this.skip();
      if (this.text[this.position] !== '"') {
        this.fail("expected a key");
      }
      const key = this.string();
      this.skip();
      if (this.text[this.position] !== ":") {
        this.fail("expected :");
      }
      this.position += 1;
      entries[key] = this.value(depth + 1);
    });
    return entries;
  }

  private string(): string {
    this.position += 1;
    let result = "";
    for (;;) {
      if (this.position >= this.text.length) {
        this.fail("unterminated string");
      }
      const code = this.text.charCodeAt(this.position);
      if (code === 0x22) {
        this.position += 1;
        return result;
      }
      if (code < 0x20) {
        this.fail("control character in string");
      }
      if (code === 0x5c) {
        result += this.escape();
        continue;
      }
      if (code >= 0xd800 && code <= 0xdbff) {
        const next = this.text.charCodeAt(this.position + 1);
        if (!(next >= 0xdc00 && next <= 0xdfff)) {
          this.fail("lone surrogate");
        }
        result += this.text.slice(this.position, this.position + 2);
        this.position += 2;
        continue;
      }
      if (code >= 0xdc00 && code <= 0xdfff) {
        this.fail("lone surrogate");
      }
      result += this.text[this.position];
      this.position += 1;
    }
  }

  private hex4(): number {
    const digits = this.text.slice(this.position, this.position + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) {
      this.fail("bad \\u escape");
    }
    this.position += 4;
    return parseInt(digits, 16);
  }

  private escape(): string {
    const char = this.text[this.position + 1];
    this.position += 2;
    const simple: { [key: string]: string } = {
      '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t",
    };
    if (char in simple) {
      return simple[char];
    }
    if (char !== "u") {
      this.fail("bad escape");
    }
    const code = this.hex4();
    if (code >= 0xdc00 && code <= 0xdfff) {
      this.fail("lone surrogate");
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      if (this.text.slice(this.position, this.position + 2) !== "\\u") {
        this.fail("lone surrogate");
      }
      this.position += 2;
      const low = this.hex4();
      if (!(low >= 0xdc00 && low <= 0xdfff)) {
        this.fail("lone surrogate");
      }
      return String.fromCharCode(code, low);
    }
    return String.fromCharCode(code);
  }

  private number(): JsonNumber {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (match === null) {
      this.fail("unexpected character");
    }
    this.position += match[0].length;
    const value = Number(match[0]);
    const integer = match[1] === undefined && match[2] === undefined;
    if (!integer && !Number.isFinite(value)) {
      this.fail("number is infinity");
    }
    return new JsonNumber(value, integer);
  }
}

function uuid(value: Json, where: string): string {
  if (typeof value === "string" && UUID.test(value)) {
    return value;
  }
  throw new DecodeError(`${where} must be a canonical lower-case UUID string`);
}

function integer(value: Json, where: string, maximum: number): number {
  if (value instanceof JsonNumber && value.integer && value.value >= 0 && value.value <= maximum) {
    return value.value;
  }
  throw new DecodeError(`${where} must be an int in 0..${maximum}`);
}

function count(value: Json, where: string): number {
  return integer(value, where, MAX_INTEGER);
}

function timestamp(value: Json, where: string): number {
  return integer(value, where, MAX_TIMESTAMP_MS);
}

function percent(value: Json, where: string): number {
  if (value instanceof JsonNumber && !value.integer && value.value >= 0 && value.value <= 100) {
    return value.value;
  }
  throw new DecodeError(`${where} must be a float in 0..100`);
}

function phase(value: Json, where: string): Phase {
  if (value instanceof JsonNumber && value.integer && PHASE_BY_CODE.has(value.value)) {
    return PHASE_BY_CODE.get(value.value) as Phase;
  }
  throw new DecodeError(`${where} must be a phase code`);
}

function status(value: Json, where: string): PhaseStatus {
  if (value instanceof JsonNumber && value.integer && STATUS_BY_CODE.has(value.value)) {
    return STATUS_BY_CODE.get(value.value) as PhaseStatus;
  }
  throw new DecodeError(`${where} must be a status code`);
}

function reason(value: Json, where: string): string {
  if (typeof value === "string" && STRIPPED.test(value)) {
    const length = Array.from(value).length;
    if (length >= 1 && length <= MAX_REASON_LENGTH) {
      return value;
    }
  }
  throw new DecodeError(`${where} must be a stripped string of 1..${MAX_REASON_LENGTH} characters`);
}

function parseFrame(text: string, maxBytes: number): Json {
  if (typeof text !== "string") {
    throw new DecodeError("frame must be a string");
  }
  const size = new TextEncoder().encode(text).length;
  if (size > maxBytes) {
    throw new DecodeError(`frame of ${size} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  return new Parser(text).parse();
}

function readMessage(items: Json, where: string): Message {
  if (!Array.isArray(items) || items.length === 0) {
    throw new DecodeError(`${where} must be a non-empty JSON array`);
  }
  if (items[0] === PROGRESS_TAG) {
    return readProgress(items);
  }
  if (items[0] === TRANSITION_TAG) {
    return readTransition(items);
  }
  throw new DecodeError(`${where} has an unknown tag`);
}

/**
 * Decode one compact frame, validating exactly like phasekit's Python decoder: it
 * returns the same values, and throws DecodeError on the same inputs.
 */
export function decodeFrame(text: string, maxBytes: number = DEFAULT_MAX_BYTES): Message {
  return readMessage(parseFrame(text, maxBytes), "frame");
}

/** Decode a batch frame into its messages, in order. */
export function decodeBatch(
  text: string,
  maxBytes: number = DEFAULT_MAX_BYTES,
  maxMessages: number = DEFAULT_MAX_BATCH,
): Message[] {
  const items = parseFrame(text, maxBytes);
  if (!Array.isArray(items) || items.length === 0 || items[0] !== BATCH_TAG) {
    throw new DecodeError(`batch frame must be a JSON array starting with "${BATCH_TAG}"`);
  }
  if (items.length - 1 > maxMessages) {
    const size = items.length - 1;
    throw new DecodeError(`batch of ${size} messages exceeds the limit of ${maxMessages}`);
  }
  return items.slice(1).map((item, index) => readMessage(item, `batch item ${index + 1}`));
}"""


def typescript() -> str:
    """Return one TypeScript module of phasekit's types, lifecycle and compact decoder.

    It holds string-literal unions and readonly arrays for the enums, interfaces for the
    records and envelopes, the lifecycle table with ``availableEvents`` and
    ``availableTransitions``, and ``decodeFrame``, which validates a compact frame
    exactly like :func:`phasekit.codec.decode`. It compiles with ``tsc --strict`` for
    ES2020, to CommonJS and to ES modules alike.
    """
    from phasekit import __version__

    def members(kind: type[Phase] | type[PhaseStatus] | type[Event]) -> str:
        return _ts([member.value for member in kind])

    def by_code(codes: dict[Any, int], name: str, type_name: str) -> str:
        pairs = ", ".join(f"[{code}, {_ts(member.value)}]" for member, code in codes.items())
        return f"const {name}: ReadonlyMap<number, {type_name}> = new Map([{pairs}]);"

    def codes_record(codes: dict[Any, int], name: str, type_name: str) -> str:
        pairs = ", ".join(f"{member.value}: {code}" for member, code in codes.items())
        return f"export const {name}: Readonly<Record<{type_name}, number>> = {{ {pairs} }};"

    sections = [
        f"// Generated by phasekit {__version__} from its own tables. Do not edit by hand:\n"
        "// regenerate with `phasekit schema --format typescript`.\n"
        "/* eslint-disable */",
        f"export const PHASES = {members(Phase)} as const;\n"
        "/** A processing phase, in pipeline order. */\n"
        "export type Phase = (typeof PHASES)[number];\n"
        f"export const PHASE_STATUSES = {members(PhaseStatus)} as const;\n"
        "/** The status of the current phase. */\n"
        "export type PhaseStatus = (typeof PHASE_STATUSES)[number];\n"
        f"export const EVENTS = {members(Event)} as const;\n"
        "/** Something that happens to a phase's status. */\n"
        "export type Event = (typeof EVENTS)[number];",
        "export interface PhaseState {\n  readonly phase: Phase;\n  readonly status: PhaseStatus;\n"
        "  readonly progress: number;\n}\n\n"
        "export interface PhaseTransition {\n  readonly previous: PhaseState;\n"
        "  readonly current: PhaseState;\n  readonly reason: string;\n}",
        _lifecycle_ts(),
        _interface("ProgressMessage", "progress", codec.PROGRESS_FIELDS)
        + "\n\n"
        + _interface("TransitionMessage", "transition", codec.TRANSITION_FIELDS)
        + "\n\nexport type Message = ProgressMessage | TransitionMessage;",
        _data_interface("ProgressData", codec.PROGRESS_FIELDS)
        + "\n\n"
        + "export interface ProgressEnvelope {\n"
        '  readonly type: "campaign.progress";\n  readonly timestamp: string;\n'
        "  readonly data: ProgressData;\n}\n\n"
        + _data_interface("TransitionData", codec.TRANSITION_FIELDS)
        + "\n\n"
        + "export interface TransitionEnvelope {\n"
        '  readonly type: "campaign.phase.transition";\n  readonly timestamp: string;\n'
        "  readonly data: TransitionData;\n}",
        codes_record(dict(codec.PHASE_CODES), "PHASE_CODES", "Phase")
        + "\n"
        + codes_record(dict(codec.STATUS_CODES), "STATUS_CODES", "PhaseStatus")
        + "\n"
        + by_code(dict(codec.PHASE_CODES), "PHASE_BY_CODE", "Phase")
        + "\n"
        + by_code(dict(codec.STATUS_CODES), "STATUS_BY_CODE", "PhaseStatus")
        + f"\nexport const PROGRESS_TAG = {_ts(codec.PROGRESS_TAG)};"
        + f"\nexport const TRANSITION_TAG = {_ts(codec.TRANSITION_TAG)};"
        + f"\nexport const BATCH_TAG = {_ts(codec.BATCH_TAG)};"
        + f"\nexport const MAX_INTEGER = {codec.MAX_INTEGER};"
        + f"\nexport const MAX_TIMESTAMP_MS = {codec.MAX_TIMESTAMP_MS};"
        + f"\nexport const MAX_REASON_LENGTH = {MAX_REASON_LENGTH};"
        + f"\nexport const DEFAULT_MAX_BYTES = {codec.DEFAULT_MAX_BYTES};"
        + f"\nexport const DEFAULT_MAX_BATCH = {codec.DEFAULT_MAX_BATCH};"
        + f"\nconst UUID = /{codec.UUID_PATTERN}/;"
        + f"\nconst STRIPPED = /{_STRIPPED_PATTERN}/;",
        _TS_DECODER,
        _reader("progress", codec.PROGRESS_FIELDS),
        _reader("transition", codec.TRANSITION_FIELDS),
    ]
    return "\n\n".join(sections) + "\n"
