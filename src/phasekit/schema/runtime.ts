// The hand-written part of phasekit's TypeScript module: the lifecycle functions, the
// compact-frame decoder and the client's ProgressView. Every table, code and limit they read comes from the generated
// part, which this file imports when it stands alone (as phasekit's tests compile it);
// `phasekit schema --format typescript` writes both parts as one module, without the import.
import {
  BATCH_TAG,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_BYTES,
  EVENTS,
  MAX_INTEGER,
  MAX_PROGRESS,
  MAX_REASON_LENGTH,
  MAX_SHARD,
  MAX_TIMESTAMP_MS,
  PHASES,
  PHASE_CODES,
  PHASE_TRANSITION_FROM,
  PROGRESS_FIELDS,
  PROGRESS_TAG,
  SHARD_REPORT_FIELDS,
  SHARD_REPORT_TAG,
  STATUS_CODES,
  STATUS_RULES,
  STRIPPED_PATTERN,
  TRANSITION_FIELDS,
  TRANSITION_TAG,
  TRANSITION_TARGETS,
  UUID_PATTERN,
  type Event,
  type FieldKind,
  type Frame,
  type Phase,
  type PhaseStatus,
  type ProgressMessage,
  type ShardReport,
  type TransitionMessage,
  type WireField,
} from "./tables";

/** Where a campaign is: its phase, that phase's status, its progress (0..MAX_PROGRESS). */
export interface PhaseState {
  readonly phase: Phase;
  readonly status: PhaseStatus;
  readonly progress: number;
}

/** One change of phase: the state before, the state after and why. */
export interface PhaseTransition {
  readonly previous: PhaseState;
  readonly current: PhaseState;
  readonly reason: string;
}

/** The events allowed from a state, in declaration order. */
export function availableEvents(state: { readonly status: PhaseStatus }): Event[] {
  return EVENTS.filter((event) =>
    STATUS_RULES.some((rule) => rule.event === event && rule.sources.includes(state.status)),
  );
}

/** The phases a state may move on to, in pipeline order (empty unless completed). */
export function availableTransitions(state: {
  readonly phase: Phase;
  readonly status: PhaseStatus;
}): Phase[] {
  return state.status === PHASE_TRANSITION_FROM ? [...TRANSITION_TARGETS[state.phase]] : [];
}

/** Whether nothing at all can happen to a state any more. */
export function isTerminal(state: {
  readonly phase: Phase;
  readonly status: PhaseStatus;
}): boolean {
  return availableEvents(state).length === 0 && availableTransitions(state).length === 0;
}

/** Thrown by the decoders for any input the Python decoder refuses. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** A JSON number, and whether it was written as an integer (`12`, not `12.0` or `1.2e1`). */
class JsonNumber {
  constructor(
    readonly value: number,
    readonly integer: boolean,
  ) {}
}

/** What `JSON.parse` returns, with each number kept as a JsonNumber. */
type Json = null | boolean | string | JsonNumber | Json[] | { [key: string]: Json };

// In valid JSON, a token outside a string that starts like a number is a number.
const TOKEN = /"(?:[^"\\]|\\[\s\S])*"|-?[0-9][0-9.eE+-]*/g;

/**
 * Parse with `JSON.parse`, keeping whether each number was written as an integer: the
 * Python decoder refuses `12.0` where an int belongs. The reviver meets the numbers of
 * arrays in document order, the order of their tokens; frames hold no objects (the shape
 * checks refuse any), so only arrays matter.
 */
function parseJson(text: string): Json {
  const integers: boolean[] = [];
  for (const [token] of text.matchAll(TOKEN)) {
    if (token[0] !== '"') {
      integers.push(!/[.eE]/.test(token));
    }
  }
  let next = 0;
  try {
    return JSON.parse(text, (_key, value: unknown) =>
      typeof value === "number" ? new JsonNumber(value, integers[next++] === true) : value,
    ) as Json;
  } catch (error) {
    throw new DecodeError(`frame is not valid JSON: ${String(error)}`);
  }
}

const PHASE_BY_CODE = byCode(PHASE_CODES);
const STATUS_BY_CODE = byCode(STATUS_CODES);

function byCode<Member extends string>(
  codes: Readonly<Record<Member, number>>,
): ReadonlyMap<number, Member> {
  return new Map((Object.keys(codes) as Member[]).map((member) => [codes[member], member]));
}

/** `String.prototype.isWellFormed` (ES2024, Node 20), declared so that ES2020 builds compile. */
interface WellFormed {
  isWellFormed(): boolean;
}

function uuid(value: Json, where: string): string {
  if (typeof value === "string" && UUID_PATTERN.test(value)) {
    return value;
  }
  throw new DecodeError(`${where} must be a canonical lower-case UUID string`);
}

function integer(value: Json, where: string, maximum: number): number {
  if (
    value instanceof JsonNumber &&
    value.integer &&
    Number.isSafeInteger(value.value) &&
    value.value >= 0 &&
    value.value <= maximum
  ) {
    return value.value;
  }
  throw new DecodeError(`${where} must be an int in 0..${maximum}`);
}

function code<Member extends string>(
  value: Json,
  where: string,
  members: ReadonlyMap<number, Member>,
  what: string,
): Member {
  const member = value instanceof JsonNumber && value.integer && members.get(value.value);
  if (member) {
    return member;
  }
  throw new DecodeError(`${where} must be a ${what} code`);
}

function percent(value: Json, where: string): number {
  // An integer is a percentage too: a JavaScript producer writes whole numbers without ".0".
  if (value instanceof JsonNumber && value.value >= 0 && value.value <= MAX_PROGRESS) {
    return value.value;
  }
  throw new DecodeError(`${where} must be a number in 0..${MAX_PROGRESS}`);
}

function reason(value: Json, where: string): string {
  if (
    typeof value === "string" &&
    (value as unknown as WellFormed).isWellFormed() &&
    STRIPPED_PATTERN.test(value)
  ) {
    const length = Array.from(value).length;
    if (length >= 1 && length <= MAX_REASON_LENGTH) {
      return value;
    }
  }
  throw new DecodeError(`${where} must be a stripped string of 1..${MAX_REASON_LENGTH} characters`);
}

/** How each kind of field is checked; a new kind in the tables fails to compile here. */
const READERS: { readonly [Kind in FieldKind]: (value: Json, where: string) => unknown } = {
  uuid,
  phase: (value, where) => code(value, where, PHASE_BY_CODE, "phase"),
  status: (value, where) => code(value, where, STATUS_BY_CODE, "status"),
  percent,
  count: (value, where) => integer(value, where, MAX_INTEGER),
  shard: (value, where) => integer(value, where, MAX_SHARD),
  timestamp: (value, where) => integer(value, where, MAX_TIMESTAMP_MS),
  reason,
};

/** How the errors name each kind of frame, as the Python decoder does. */
const FRAME_NAMES: { readonly [Kind in Frame["kind"]]: string } = {
  progress: "progress",
  transition: "transition",
  shardReport: "shard report",
};

/** Check a frame's items against a field table: the arity, then each position in turn. */
function readFields(
  items: readonly Json[],
  fields: readonly WireField[],
  kind: Frame["kind"],
): { readonly [key: string]: unknown } {
  const name = FRAME_NAMES[kind];
  if (items.length !== fields.length + 1) {
    throw new DecodeError(`${name} frame must have ${fields.length + 1} items; got ${items.length}`);
  }
  const message: { [key: string]: unknown } = { kind };
  fields.forEach((field, index) => {
    const where = `${name} frame position ${index + 1} (${field.name})`;
    message[field.key] = READERS[field.kind](items[index + 1], where);
  });
  return message;
}

function readProgress(items: readonly Json[]): ProgressMessage {
  const message = readFields(items, PROGRESS_FIELDS, "progress") as unknown as ProgressMessage;
  if (message.processedItems > message.totalItems) {
    throw new DecodeError("processed must not exceed total");
  }
  if (message.successfulItems + message.failedItems > message.processedItems) {
    throw new DecodeError("successful + failed must not exceed processed");
  }
  return message;
}

function readTransition(items: readonly Json[]): TransitionMessage {
  const message = readFields(items, TRANSITION_FIELDS, "transition") as unknown as TransitionMessage;
  if (PHASES.indexOf(message.previousPhase) >= PHASES.indexOf(message.newPhase)) {
    throw new DecodeError("previous phase must come before the new phase");
  }
  return message;
}

function readShardReport(items: readonly Json[]): ShardReport {
  const report = readFields(items, SHARD_REPORT_FIELDS, "shardReport") as unknown as ShardReport;
  if (report.processed > report.shardTotal) {
    throw new DecodeError(
      `shard report frame: processed (${report.processed}) must not exceed ` +
        `shard_total (${report.shardTotal})`,
    );
  }
  if (report.successful + report.failed > report.processed) {
    throw new DecodeError(
      `shard report frame: successful + failed (${report.successful} + ${report.failed}) ` +
        `must not exceed processed (${report.processed})`,
    );
  }
  return report;
}

function parseFrame(text: string, maxBytes: number): Json {
  if (typeof text !== "string") {
    throw new DecodeError("frame must be a string");
  }
  const size = new TextEncoder().encode(text).length;
  if (size > maxBytes) {
    throw new DecodeError(`frame of ${size} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  return parseJson(text);
}

function readFrame(items: Json, where: string): Frame {
  if (!Array.isArray(items) || items.length === 0) {
    throw new DecodeError(`${where} must be a non-empty JSON array`);
  }
  if (items[0] === PROGRESS_TAG) {
    return readProgress(items);
  }
  if (items[0] === TRANSITION_TAG) {
    return readTransition(items);
  }
  if (items[0] === SHARD_REPORT_TAG) {
    return readShardReport(items);
  }
  throw new DecodeError(`${where} has an unknown tag`);
}

/**
 * Decode one compact frame, validating exactly like phasekit's Python decoder: it
 * returns the same values, and throws DecodeError on the same inputs. A frame carries a
 * client message or a worker's shard report; `kind` tells which.
 */
export function decodeFrame(text: string, maxBytes: number = DEFAULT_MAX_BYTES): Frame {
  return readFrame(parseFrame(text, maxBytes), "frame");
}

/** Decode a batch frame into its frames' messages and shard reports, in order. */
export function decodeBatch(
  text: string,
  maxBytes: number = DEFAULT_MAX_BYTES,
  maxMessages: number = DEFAULT_MAX_BATCH,
): Frame[] {
  const items = parseFrame(text, maxBytes);
  if (!Array.isArray(items) || items.length === 0 || items[0] !== BATCH_TAG) {
    throw new DecodeError(`batch frame must be a JSON array starting with "${BATCH_TAG}"`);
  }
  if (items.length - 1 > maxMessages) {
    const size = items.length - 1;
    throw new DecodeError(`batch of ${size} messages exceeds the limit of ${maxMessages}`);
  }
  return items.slice(1).map((item, index) => readFrame(item, `batch item ${index + 1}`));
}

/** Thrown for a value of the wrong kind, where phasekit's Python raises `InvalidValue`. */
export class InvalidValue extends Error {
  constructor(
    message: string,
    /** The parameter that was given the bad value. */
    readonly field: string,
  ) {
    super(message);
    this.name = "InvalidValue";
  }
}

/**
 * The client side: the newest progress message per campaign, as phasekit's Python
 * `ProgressView` keeps it.
 *
 * `apply` keeps a message only if its `sequence` is greater than the kept one's, so
 * duplicates and late arrivals never move a campaign backwards, and any order of the same
 * messages gives the same view (given that a campaign never sends two different messages
 * with one sequence number). It takes progress messages only: a transition or a shard
 * report throws `InvalidValue`, as in Python. Iterating yields the campaign ids in the
 * order of their first kept message.
 */
export class ProgressView implements Iterable<string> {
  readonly #latest = new Map<string, ProgressMessage>();

  /** Keep `message` if it is newer than the kept one; return whether it was. */
  apply(message: ProgressMessage): boolean {
    // The type admits progress messages only; plain JavaScript callers get Python's check.
    const kind: unknown =
      typeof message === "object" && message !== null ? (message as Frame).kind : undefined;
    if (kind !== "progress") {
      const got = typeof kind === "string" ? `a message of kind "${kind}"` : "no message";
      throw new InvalidValue(`message must be a ProgressMessage; got ${got}`, "message");
    }
    const kept = this.#latest.get(message.campaignId);
    if (kept !== undefined && message.sequence <= kept.sequence) {
      return false;
    }
    this.#latest.set(message.campaignId, message);
    return true;
  }

  /** The newest message of a campaign, or `undefined` if none arrived. */
  get(campaignId: string): ProgressMessage | undefined {
    if (typeof campaignId !== "string" || !UUID_PATTERN.test(campaignId)) {
      throw new InvalidValue(
        `campaignId must be a canonical lower-case UUID string; got ${JSON.stringify(campaignId)}`,
        "campaignId",
      );
    }
    return this.#latest.get(campaignId);
  }

  /** How many campaigns the view holds. */
  get size(): number {
    return this.#latest.size;
  }

  /** The campaign ids, in the order of their first kept message. */
  [Symbol.iterator](): IterableIterator<string> {
    return this.#latest.keys();
  }
}
