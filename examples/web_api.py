"""The plan's phase API and a progress WebSocket, in Starlette, on an SQLite store.

Endpoints (the plan's three, then two that drive a campaign for the demo):

- ``GET /openapi.json``: the OpenAPI document of this API.
- ``POST /campaigns`` {name, initialPhase, configuration}: create a campaign, pending.
- ``PUT /campaigns/{id}/transition`` {targetPhase, transitionReason}: move a completed
  phase on; a transition the lifecycle refuses is answered 409 with phasekit's message.
- ``GET /campaigns/{id}/phases``: phase, status, progress and what may happen next.
- ``POST /campaigns/{id}/events`` {event}: start, pause, resume, complete, fail, ...
- ``POST /campaigns/{id}/progress`` {progress, processed, total}: a worker's report.
- ``PUT /campaigns/{id}/shards`` {shards, total}: the current phase is processed by many
  workers, in ``shards`` shards holding ``total`` domains in all.
- ``POST /campaigns/{id}/shard-reports``: the workers' reports, as compact ``s1`` frames
  (one, or a ``b1`` batch of them), merged by :class:`phasekit.CampaignProgress` into one
  exact campaign progress that never goes back, whatever the duplicates and the order.
- ``WebSocket /campaigns/{id}/stream``: compact progress frames, throttled, starting
  with the current state; transitions as compact frames too. With shards, the frames
  carry the merged campaign progress.

``phasekit.schema.openapi_document()`` (``generated/openapi.json``) describes every HTTP
endpoint, and the application reads its limits from it: the name's length and characters,
the depth of ``configuration`` and the size of a body. Every error is one JSON shape,
``{"error": {"status": ..., "code": ..., "message": ...}}``: 422 for a malformed request
(not JSON, a missing or unknown key, a wrong type, an unknown event or phase), 409 for one
the lifecycle or the campaign's state refuses, 404 and 405 for an unknown campaign, path
or method, and 413 for a body over the size limit. No input is answered 500.

Each change is saved only if the campaign is still as the request read it (its sequence
number is the version): of two concurrent requests on one campaign, the one that saves
second is answered 409 ``concurrent_update`` instead of overwriting the first.

phasekit does the domain work; this file is only the web and storage glue. Run it with
``uvicorn examples.web_api:app`` (the ``examples`` extra installs Starlette and uvicorn
with its WebSocket support), or ``python examples/web_api.py`` for a scripted session
through the test client.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

import phasekit
from phasekit import (
    CampaignProgress,
    Event,
    InvalidTransition,
    Phase,
    PhasekitError,
    PhaseState,
    PhaseStatus,
    ProgressMessage,
    ProgressThrottle,
    ShardReport,
    TransitionMessage,
    codec,
    schema,
)

# The limits, read from the OpenAPI document that describes this application.
_DOCUMENT: Any = schema.openapi_document()
_SCHEMAS: Any = _DOCUMENT["components"]["schemas"]
_NAME: Any = _SCHEMAS["CreateCampaignRequest"]["properties"]["name"]
#: The longest name, in characters, as given.
MAX_NAME_LENGTH: int = _NAME["maxLength"]
#: What a name must not contain: controls, bidirectional controls, the byte order mark.
NAME_FORBIDDEN = re.compile(_NAME["not"]["pattern"])
#: The deepest nesting of objects and arrays in ``configuration``.
MAX_CONFIGURATION_DEPTH: int = _SCHEMAS["PhaseConfiguration"]["x-max-depth"]
#: The largest request body read, in bytes; a longer one is answered 413.
MAX_BODY_BYTES: int = _DOCUMENT["info"]["x-max-body-bytes"]
#: The longest transition reason, in characters, as given.
MAX_REASON_LENGTH: int = _SCHEMAS["TransitionRequest"]["properties"]["transitionReason"][
    "maxLength"
]

Clock = Callable[[], int]
#: A stored campaign: name, state, processed, total, last message sequence.
Loaded = tuple[str, PhaseState, int, int, int]


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class CampaignStore:
    """Campaigns in SQLite: the phase columns of the migrated ``campaigns`` table."""

    def __init__(self, database: str = ":memory:") -> None:
        self.connection = sqlite3.connect(database, check_same_thread=False)
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS campaigns (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
            "configuration TEXT NOT NULL, current_phase TEXT NOT NULL, "
            "phase_status TEXT NOT NULL, progress REAL NOT NULL, processed INTEGER NOT NULL, "
            "total INTEGER NOT NULL, sequence INTEGER NOT NULL)"
        )

    def create(self, name: str, state: PhaseState, configuration: dict[str, Any]) -> uuid.UUID:
        campaign_id = uuid.uuid4()
        with self.connection:
            self.connection.execute(
                "INSERT INTO campaigns VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0)",
                (
                    str(campaign_id),
                    name,
                    orjson.dumps(configuration).decode(),
                    state.phase.value,
                    state.status.value,
                    state.progress,
                ),
            )
        return campaign_id

    def load(self, campaign_id: uuid.UUID) -> Loaded | None:
        row = self.connection.execute(
            "SELECT name, current_phase, phase_status, progress, processed, total, sequence "
            "FROM campaigns WHERE id = ?",
            (str(campaign_id),),
        ).fetchone()
        if row is None:
            return None
        name, phase, status, progress, processed, total, sequence = row
        return name, PhaseState(phase, status, progress), processed, total, sequence

    def save(
        self, campaign_id: uuid.UUID, read: int, state: PhaseState, processed: int, total: int
    ) -> int | None:
        """Store a new state if the campaign's sequence is still ``read`` (compare and set).

        Return the campaign's next message sequence number, or None if the campaign
        changed since it was read (the caller answers 409 and stores nothing).
        """
        with self.connection:
            saved = self.connection.execute(
                "UPDATE campaigns SET current_phase = ?, phase_status = ?, progress = ?, "
                "processed = ?, total = ?, sequence = sequence + 1 "
                "WHERE id = ? AND sequence = ?",
                (
                    state.phase.value,
                    state.status.value,
                    state.progress,
                    processed,
                    total,
                    str(campaign_id),
                    read,
                ),
            )
        return read + 1 if saved.rowcount == 1 else None

    def version(self, campaign_id: uuid.UUID) -> int | None:
        """The campaign's sequence number now, or None if there is no such campaign."""
        row = self.connection.execute(
            "SELECT sequence FROM campaigns WHERE id = ?", (str(campaign_id),)
        ).fetchone()
        return None if row is None else int(row[0])


class Broadcaster:
    """Fan compact frames out to each campaign's WebSocket subscribers."""

    def __init__(self) -> None:
        self.subscribers: dict[uuid.UUID, set[asyncio.Queue[bytes]]] = {}

    def subscribe(self, campaign_id: uuid.UUID) -> asyncio.Queue[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.subscribers.setdefault(campaign_id, set()).add(queue)
        return queue

    def unsubscribe(self, campaign_id: uuid.UUID, queue: asyncio.Queue[bytes]) -> None:
        self.subscribers.get(campaign_id, set()).discard(queue)

    def publish(self, message: ProgressMessage | TransitionMessage) -> None:
        frame = codec.encode(message)
        for queue in self.subscribers.get(message.campaign_id, ()):
            queue.put_nowait(frame)


def error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape: ``{"error": {"status": ..., "code": ..., "message": ...}}``."""
    body = {"error": {"status": status, "code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def conflict(campaign_id: uuid.UUID) -> JSONResponse:
    return error(
        409,
        "concurrent_update",
        f"campaign {campaign_id} changed while this request was read; read it and retry",
    )


def depth(value: object) -> int:
    """How deeply objects and arrays nest in ``value`` (0 for a scalar); no recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            pending.extend((inner, level + 1) for inner in _children(item))
    return deepest


def _children(item: dict[str, Any] | list[Any]) -> list[Any]:
    return list(item.values()) if isinstance(item, dict) else item


def whole(value: object) -> Any:
    """An integral float as an int: JSON (and JSON Schema's "integer") has one number 4 = 4.0."""
    return int(value) if type(value) is float and value.is_integer() else value


def whole_numbers(raw: bytes) -> bytes:
    """The frames of ``raw`` with their integral floats as ints (``[.., 4.0, ..]`` as 4).

    phasekit's decoder takes ints only, as its encoder writes them; a client that writes
    a count as 4.0 writes the same JSON number. Raises DecodeError if ``raw`` is not JSON.
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as problem:
        raise phasekit.DecodeError(f"body is not valid JSON: {problem}") from None

    def frame(value: object) -> object:
        return [whole(item) for item in value] if isinstance(value, list) else value

    if isinstance(body, list) and body[:1] == [codec.BATCH_TAG]:
        body = [body[0], *(frame(item) for item in body[1:])]
    else:
        body = frame(body)
    return orjson.dumps(body)


def check_name(name: object) -> str | JSONResponse:
    """Return the name stripped, or the 422 response if it is not a name."""
    if not isinstance(name, str) or not name.strip():
        return error(422, "invalid_value", "name must be a string with more than whitespace")
    if len(name) > MAX_NAME_LENGTH:
        return error(
            422,
            "invalid_value",
            f"name must be at most {MAX_NAME_LENGTH} characters; got {len(name)}",
        )
    forbidden = NAME_FORBIDDEN.search(name)
    if forbidden is not None:
        return error(
            422,
            "invalid_value",
            f"name must not contain U+{ord(forbidden.group()):04X} (control characters, "
            "bidirectional controls and the byte order mark are refused)",
        )
    return name.strip()


async def read_bytes(request: Request) -> bytes | JSONResponse:
    """Return the body, or the 413 response as soon as it passes MAX_BODY_BYTES."""
    too_large = error(413, "body_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def http_error(request: Request, problem: Exception) -> Response:
    """Starlette's own errors (an unknown path, a method a path does not take) as JSON."""
    assert isinstance(problem, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(problem.status_code, "invalid_value")
    return error(problem.status_code, code, problem.detail, dict(problem.headers or {}))


async def server_error(request: Request, problem: Exception) -> Response:
    """A fault of this application, in the same shape (no input should ever get here)."""
    return error(500, "internal_error", "the server failed; the fault is logged")


def phases_body(campaign_id: uuid.UUID, name: str, state: PhaseState) -> dict[str, Any]:
    return {
        "id": str(campaign_id),
        "name": name,
        "currentPhase": state.phase.value,
        "phaseStatus": state.status.value,
        "progress": state.progress,
        "availableEvents": sorted(event.value for event in phasekit.available_events(state)),
        "availableTransitions": [phase.value for phase in phasekit.available_transitions(state)],
    }


async def read_body(
    request: Request, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any] | JSONResponse:
    """Return the JSON object body, or the 413 or 422 response to send.

    orjson parses the body: it refuses nesting deeper than 1024 with a ValueError, where
    the standard library's parser could exhaust the stack.
    """
    raw = await read_bytes(request)
    if isinstance(raw, JSONResponse):
        return raw
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or not set(required) <= set(body) <= {*required, *optional}:
        keys = ", ".join([*required, *(f"{key} (optional)" for key in optional)])
        return error(422, "invalid_value", f"body must be an object of {keys}")
    return body


def create_app(
    database: str = ":memory:", clock: Clock = wall_clock_ms, tick_seconds: float | None = 0.25
) -> Starlette:
    """Return the application, with its own store, throttle and broadcaster.

    Every ``tick_seconds`` a background task sends the progress reports that the throttle
    held back and that ``clock`` now says are due; ``None`` turns it off (for tests that
    move a hand-driven clock and must not race a real-time ticker).
    """
    store = CampaignStore(database)
    throttle = ProgressThrottle(min_interval_ms=250, min_delta=1.0)
    broadcaster = Broadcaster()
    # The merge state of each campaign whose current phase runs in shards (kept in memory:
    # a real service keeps one aggregator per campaign, or merges several with `merge`).
    shard_merges: dict[uuid.UUID, CampaignProgress] = {}

    def campaign_id_of(request: Request | WebSocket) -> uuid.UUID | None:
        try:
            return uuid.UUID(request.path_params["id"])
        except ValueError:
            return None

    def lookup(request: Request) -> tuple[uuid.UUID, Loaded] | JSONResponse:
        """Return the campaign the path names, or the 404 response to send."""
        campaign_id = campaign_id_of(request)
        found = store.load(campaign_id) if campaign_id else None
        if campaign_id is None or found is None:
            return error(404, "not_found", f"no campaign {request.path_params['id']}")
        return campaign_id, found

    def progress_message(
        campaign_id: uuid.UUID, state: PhaseState, processed: int, total: int, sequence: int
    ) -> ProgressMessage:
        # This demo counts every processed item as successful.
        return ProgressMessage(
            campaign_id,
            state.phase,
            state.status,
            state.progress,
            processed,
            total,
            processed,
            0,
            sequence,
            clock(),
        )

    def offer(message: ProgressMessage) -> None:
        sent = throttle.offer(message, clock())
        if sent is not None:
            broadcaster.publish(sent)

    async def openapi_json(request: Request) -> Response:
        return Response(orjson.dumps(_DOCUMENT), media_type="application/json")

    async def create_campaign(request: Request) -> JSONResponse:
        body = await read_body(request, ("name", "initialPhase"), ("configuration",))
        if isinstance(body, JSONResponse):
            return body
        name = check_name(body["name"])
        if isinstance(name, JSONResponse):
            return name
        configuration = body.get("configuration", {})
        if not isinstance(configuration, dict):
            return error(422, "invalid_value", "configuration must be an object")
        if depth(configuration) > MAX_CONFIGURATION_DEPTH:
            return error(
                422,
                "invalid_value",
                f"configuration must nest at most {MAX_CONFIGURATION_DEPTH} levels deep",
            )
        try:
            state = phasekit.initial_state(body["initialPhase"])
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        campaign_id = store.create(name, state, configuration)
        return JSONResponse(phases_body(campaign_id, name, state), status_code=201)

    async def get_phases(request: Request) -> JSONResponse:
        looked = lookup(request)
        if isinstance(looked, JSONResponse):
            return looked
        campaign_id, found = looked
        return JSONResponse(phases_body(campaign_id, found[0], found[1]))

    async def transition(request: Request) -> JSONResponse:
        looked = lookup(request)
        if isinstance(looked, JSONResponse):
            return looked
        campaign_id, found = looked
        # The campaign is read before the body arrives: another request may change it
        # meanwhile, and the save below then refuses to overwrite that change.
        body = await read_body(request, ("targetPhase", "transitionReason"))
        if isinstance(body, JSONResponse):
            return body
        name, state, _, _, read = found
        target, reason = body["targetPhase"], body["transitionReason"]
        if not isinstance(target, str) or target not in Phase._value2member_map_:
            phases = ", ".join(phase.value for phase in Phase)
            return error(422, "invalid_value", f"targetPhase must be one of {phases}")
        if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
            return error(
                422,
                "invalid_value",
                f"transitionReason must be a string of at most {MAX_REASON_LENGTH} "
                "characters, as given",
            )
        try:
            change = phasekit.transition_to(state, target, reason)
        except InvalidTransition as refused:
            return error(409, "invalid_transition", str(refused))
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        sequence = store.save(campaign_id, read, change.current, 0, 0)
        if sequence is None:
            return conflict(campaign_id)
        shard_merges.pop(campaign_id, None)  # the shards were the finished phase's
        broadcaster.publish(
            TransitionMessage(
                campaign_id,
                state.phase,
                change.current.phase,
                change.current.status,
                change.reason,
                sequence,
                clock(),
            )
        )
        return JSONResponse(phases_body(campaign_id, name, change.current))

    async def apply(request: Request) -> JSONResponse:
        looked = lookup(request)
        if isinstance(looked, JSONResponse):
            return looked
        campaign_id, found = looked
        body = await read_body(request, ("event",))
        if isinstance(body, JSONResponse):
            return body
        name, state, processed, total, read = found
        event = body["event"]
        if not isinstance(event, str) or event not in Event._value2member_map_:
            events = ", ".join(member.value for member in Event)
            return error(422, "invalid_value", f"event must be one of {events}")
        try:
            after = phasekit.apply_event(state, event)
        except InvalidTransition as refused:
            return error(409, "invalid_transition", str(refused))
        if after.status is phasekit.PhaseStatus.COMPLETED:
            processed = total
        sequence = store.save(campaign_id, read, after, processed, total)
        if sequence is None:
            return conflict(campaign_id)
        offer(progress_message(campaign_id, after, processed, total, sequence))
        return JSONResponse(phases_body(campaign_id, name, after))

    async def progress(request: Request) -> JSONResponse:
        looked = lookup(request)
        if isinstance(looked, JSONResponse):
            return looked
        campaign_id, found = looked
        body = await read_body(request, ("progress", "processed", "total"))
        if isinstance(body, JSONResponse):
            return body
        name, state, _, _, read = found
        processed, total = whole(body["processed"]), whole(body["total"])
        try:
            # The values alone first (422), then whether the state allows them (409).
            ProgressMessage(
                campaign_id,
                state.phase,
                state.status,
                body["progress"],
                processed,
                total,
            )
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        try:
            after = phasekit.with_progress(state, body["progress"])
        except PhasekitError as refused:
            return error(409, "invalid_progress", str(refused))
        sequence = store.save(campaign_id, read, after, processed, total)
        if sequence is None:
            return conflict(campaign_id)
        offer(progress_message(campaign_id, after, processed, total, sequence))
        return JSONResponse(phases_body(campaign_id, name, after))

    async def split_into_shards(request: Request) -> JSONResponse:
        looked = lookup(request)
        if isinstance(looked, JSONResponse):
            return looked
        campaign_id, found = looked
        body = await read_body(request, ("shards", "total"))
        if isinstance(body, JSONResponse):
            return body
        name, state, _, _, read = found
        try:
            merge = CampaignProgress(
                campaign_id, state.phase, shards=whole(body["shards"]), total=whole(body["total"])
            )
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        if store.version(campaign_id) != read:
            return conflict(campaign_id)  # the phase may have moved on meanwhile
        kept = shard_merges.setdefault(campaign_id, merge)
        if (kept.phase, kept.shards, kept.total) != (merge.phase, merge.shards, merge.total):
            return error(
                409,
                "shards_already_set",
                f"{state.phase.value} already runs in {kept.shards} shards of "
                f"{kept.total} domains in all",
            )
        return JSONResponse(phases_body(campaign_id, name, state))

    async def shard_reports(request: Request) -> JSONResponse:
        looked = lookup(request)
        if isinstance(looked, JSONResponse):
            return looked
        campaign_id, found = looked
        raw = await read_bytes(request)
        if isinstance(raw, JSONResponse):
            return raw
        try:
            raw = whole_numbers(raw)
            batch = raw.startswith(b'["' + codec.BATCH_TAG.encode())
            frames = codec.decode_batch(raw) if batch else [codec.decode(raw)]
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        reports: list[ShardReport] = []
        for frame in frames:
            if not isinstance(frame, ShardReport):
                return error(422, "invalid_value", "body must hold s1 shard-report frames")
            reports.append(frame)
            if frame.campaign_id != campaign_id:
                return error(
                    422,
                    "invalid_value",
                    f"a report is for campaign {frame.campaign_id}, not {campaign_id}",
                )
        # Whether the reports fit depends on the campaign as it is now: read after the
        # body, with no await until the save, so nothing can change in between.
        name, state, _, _, read = found
        merged = shard_merges.get(campaign_id)
        if store.version(campaign_id) != read:
            return conflict(campaign_id)
        if merged is None:
            return error(
                409, "no_shards", f"PUT /campaigns/{campaign_id}/shards before reporting shards"
            )
        if state.status is not PhaseStatus.RUNNING:
            return error(
                409,
                "invalid_progress",
                f"progress can only change while running; {state} is {state.status.value}",
            )
        # Applied to a copy first, so that a bad report in a batch changes nothing.
        trial = merged.merge(
            CampaignProgress(campaign_id, merged.phase, shards=merged.shards, total=merged.total)
        )
        try:
            changed = False
            for report in reports:
                changed = trial.apply(report) or changed
        except PhasekitError as problem:
            return error(409, "shard_report_does_not_fit", str(problem))
        if not changed:
            return JSONResponse(phases_body(campaign_id, name, state))
        after = phasekit.with_progress(state, trial.percent)
        sequence = store.save(campaign_id, read, after, trial.processed, trial.total)
        if sequence is None:  # pragma: no cover - no await since the version was checked
            return conflict(campaign_id)
        shard_merges[campaign_id] = trial
        offer(trial.message(after.status, sequence=sequence, timestamp_ms=clock()))
        return JSONResponse(phases_body(campaign_id, name, after))

    async def stream(websocket: WebSocket) -> None:
        campaign_id = campaign_id_of(websocket)
        found = store.load(campaign_id) if campaign_id else None
        if campaign_id is None or found is None:
            await websocket.close(code=4404)
            return
        await websocket.accept()
        _, state, processed, total, sequence = found
        queue = broadcaster.subscribe(campaign_id)
        try:
            current = progress_message(campaign_id, state, processed, total, sequence)
            await websocket.send_bytes(codec.encode(current))
            receiving = asyncio.ensure_future(websocket.receive())
            while True:
                getting = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {receiving, getting}, return_when=asyncio.FIRST_COMPLETED
                )
                if receiving in done:
                    getting.cancel()
                    if receiving.result()["type"] == "websocket.disconnect":
                        return
                    receiving = asyncio.ensure_future(websocket.receive())
                    continue
                await websocket.send_bytes(getting.result())
        except WebSocketDisconnect:
            return
        finally:
            broadcaster.unsubscribe(campaign_id, queue)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def tick(seconds: float) -> None:
            while True:
                await asyncio.sleep(seconds)
                for message in throttle.due(clock()):
                    broadcaster.publish(message)

        ticker = None if tick_seconds is None else asyncio.ensure_future(tick(tick_seconds))
        try:
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
            for message in throttle.flush():
                broadcaster.publish(message)

    return Starlette(
        exception_handlers={HTTPException: http_error, Exception: server_error},
        routes=[
            Route("/openapi.json", openapi_json, methods=["GET"]),
            Route("/campaigns", create_campaign, methods=["POST"]),
            Route("/campaigns/{id}/transition", transition, methods=["PUT"]),
            Route("/campaigns/{id}/phases", get_phases, methods=["GET"]),
            Route("/campaigns/{id}/events", apply, methods=["POST"]),
            Route("/campaigns/{id}/progress", progress, methods=["POST"]),
            Route("/campaigns/{id}/shards", split_into_shards, methods=["PUT"]),
            Route("/campaigns/{id}/shard-reports", shard_reports, methods=["POST"]),
            WebSocketRoute("/campaigns/{id}/stream", stream),
        ],
        lifespan=lifespan,
    )


app = create_app()


#: The time the scripted session runs at: 2025-11-28T12:00:00Z, in Unix milliseconds.
SCRIPTED_SESSION_TIME_MS = 1_764_331_200_000


def main() -> None:
    """A scripted session through Starlette's test client, printing each exchange.

    The session runs on a stopped clock with the ticker off: the throttle then decides
    the same way on every machine, so the frames printed are the same however slow the
    machine is (on the wall clock, a held report could be sent by the ticker in between).
    """
    from starlette.testclient import TestClient

    def stopped_clock() -> int:
        return SCRIPTED_SESSION_TIME_MS

    with TestClient(create_app(clock=stopped_clock, tick_seconds=None)) as client:
        created = client.post(
            "/campaigns", json={"name": "spring domains", "initialPhase": "domain_generation"}
        )
        campaign = created.json()["id"]
        print("POST /campaigns ->", created.status_code, created.json())
        refused = client.put(
            f"/campaigns/{campaign}/transition",
            json={"targetPhase": "dns_validation", "transitionReason": "go"},
        )
        print("PUT  transition while pending ->", refused.status_code, refused.json())
        with client.websocket_connect(f"/campaigns/{campaign}/stream") as socket:
            print("WS   first frame:", socket.receive_bytes().decode())
            client.post(f"/campaigns/{campaign}/events", json={"event": "start"})
            print("WS   after start:", socket.receive_bytes().decode())
            client.post(
                f"/campaigns/{campaign}/progress",
                json={"progress": 50.0, "processed": 50, "total": 100},
            )
            client.post(f"/campaigns/{campaign}/events", json={"event": "complete"})
            print("WS   after complete:", socket.receive_bytes().decode())
            moved = client.put(
                f"/campaigns/{campaign}/transition",
                json={"targetPhase": "dns_validation", "transitionReason": "domains generated"},
            )
            print("PUT  transition ->", moved.status_code, moved.json())
            print("WS   transition frame:", socket.receive_bytes().decode())
        phases = client.get(f"/campaigns/{campaign}/phases")
        print("GET  phases ->", phases.status_code, phases.json())


if __name__ == "__main__":
    main()
