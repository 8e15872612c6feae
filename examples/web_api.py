"""The plan's phase API and a progress WebSocket, in Starlette, on an SQLite store.

Endpoints (the plan's three, then two that drive a campaign for the demo):

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

phasekit does the domain work; this file is only the web and storage glue. Run it with
``uvicorn examples.web_api:app`` (the ``examples`` extra installs Starlette and uvicorn),
or ``python examples/web_api.py`` for a scripted session through the test client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

import phasekit
from phasekit import (
    CampaignProgress,
    InvalidTransition,
    PhasekitError,
    PhaseState,
    PhaseStatus,
    ProgressMessage,
    ProgressThrottle,
    ShardReport,
    TransitionMessage,
    codec,
)

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
                    json.dumps(configuration),
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

    def save(self, campaign_id: uuid.UUID, state: PhaseState, processed: int, total: int) -> int:
        """Store a new state and return the campaign's next message sequence number."""
        with self.connection:
            self.connection.execute(
                "UPDATE campaigns SET current_phase = ?, phase_status = ?, progress = ?, "
                "processed = ?, total = ?, sequence = sequence + 1 WHERE id = ?",
                (
                    state.phase.value,
                    state.status.value,
                    state.progress,
                    processed,
                    total,
                    str(campaign_id),
                ),
            )
        (sequence,) = self.connection.execute(
            "SELECT sequence FROM campaigns WHERE id = ?", (str(campaign_id),)
        ).fetchone()
        return int(sequence)


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


def error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": kind, "message": message}, status_code=status)


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
    """Return the JSON object body, or the 422 response if its keys are not as expected."""
    try:
        body = await request.json()
    except ValueError:
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

    def report(campaign_id: uuid.UUID, state: PhaseState, processed: int, total: int) -> None:
        sequence = store.save(campaign_id, state, processed, total)
        message = progress_message(campaign_id, state, processed, total, sequence)
        sent = throttle.offer(message, clock())
        if sent is not None:
            broadcaster.publish(sent)

    async def create_campaign(request: Request) -> JSONResponse:
        body = await read_body(request, ("name", "initialPhase"), ("configuration",))
        if isinstance(body, JSONResponse):
            return body
        name, configuration = body.get("name"), body.get("configuration", {})
        if not isinstance(name, str) or not name.strip() or not isinstance(configuration, dict):
            return error(
                422, "invalid_value", "name must be a non-empty string and configuration an object"
            )
        try:
            state = phasekit.initial_state(body.get("initialPhase"))  # type: ignore[arg-type]
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        campaign_id = store.create(name.strip(), state, configuration)
        return JSONResponse(phases_body(campaign_id, name.strip(), state), status_code=201)

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
        body = await read_body(request, ("targetPhase", "transitionReason"))
        if isinstance(body, JSONResponse):
            return body
        name, state, _, _, _ = found
        try:
            change = phasekit.transition_to(state, body["targetPhase"], body["transitionReason"])
        except InvalidTransition as refused:
            return error(409, "invalid_transition", str(refused))
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        sequence = store.save(campaign_id, change.current, 0, 0)
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
        name, state, processed, total, _ = found
        try:
            after = phasekit.apply_event(state, body["event"])
        except InvalidTransition as refused:
            return error(409, "invalid_transition", str(refused))
        if after.status is phasekit.PhaseStatus.COMPLETED:
            processed = total
        report(campaign_id, after, processed, total)
        return JSONResponse(phases_body(campaign_id, name, after))

    async def progress(request: Request) -> JSONResponse:
        looked = lookup(request)
        if isinstance(looked, JSONResponse):
            return looked
        campaign_id, found = looked
        body = await read_body(request, ("progress", "processed", "total"))
        if isinstance(body, JSONResponse):
            return body
        name, state, _, _, _ = found
        try:
            after = phasekit.with_progress(state, body["progress"])
            # Validates the counts too, before anything is stored.
            ProgressMessage(
                campaign_id,
                after.phase,
                after.status,
                after.progress,
                body["processed"],
                body["total"],
            )
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        report(campaign_id, after, body["processed"], body["total"])
        return JSONResponse(phases_body(campaign_id, name, after))

    async def split_into_shards(request: Request) -> JSONResponse:
        looked = lookup(request)
        if isinstance(looked, JSONResponse):
            return looked
        campaign_id, found = looked
        body = await read_body(request, ("shards", "total"))
        if isinstance(body, JSONResponse):
            return body
        name, state, _, _, _ = found
        try:
            merge = CampaignProgress(
                campaign_id, state.phase, shards=body["shards"], total=body["total"]
            )
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
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
        name, state, _, _, _ = found
        merged = shard_merges.get(campaign_id)
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
        body = await request.body()
        try:
            batch = body.lstrip().startswith(b'["' + codec.BATCH_TAG.encode())
            frames = codec.decode_batch(body) if batch else [codec.decode(body)]
            # Applied to a copy first, so that a bad report in a batch changes nothing.
            trial = merged.merge(
                CampaignProgress(
                    campaign_id, merged.phase, shards=merged.shards, total=merged.total
                )
            )
            changed = False
            for frame in frames:
                if not isinstance(frame, ShardReport):
                    return error(422, "invalid_value", "body must hold s1 shard-report frames")
                changed = trial.apply(frame) or changed
            after = phasekit.with_progress(state, trial.percent) if changed else state
        except PhasekitError as problem:
            return error(422, "invalid_value", str(problem))
        shard_merges[campaign_id] = trial
        if changed:
            sequence = store.save(campaign_id, after, trial.processed, trial.total)
            message = trial.message(after.status, sequence=sequence, timestamp_ms=clock())
            sent = throttle.offer(message, clock())
            if sent is not None:
                broadcaster.publish(sent)
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
        routes=[
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
