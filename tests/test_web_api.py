"""The Starlette example: the plan's endpoints and the progress WebSocket, end to end."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from starlette.testclient import TestClient

from phasekit import ProgressMessage, ShardReport, TransitionMessage, codec, schema
from tests.frames import TYPICAL

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "web_api.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_api_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


web_api = load_example()


class Clock:
    """A clock the test moves by hand, so the throttle's decisions are predictable."""

    def __init__(self) -> None:
        self.now = 1_764_331_200_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(clock: Clock) -> Iterator[TestClient]:
    # No ticker: the tests move the clock by hand, and a real-time ticker would send a
    # held report at whatever moment it woke up.
    with TestClient(web_api.create_app(clock=clock, tick_seconds=None)) as test_client:
        yield test_client


def conforms(body: Any, component: str) -> None:
    document = schema.openapi_document()
    jsonschema.Draft202012Validator(
        {**document, "$ref": f"#/components/schemas/{component}"}
    ).validate(body)


def create(client: TestClient, phase: str = "domain_generation") -> str:
    response = client.post(
        "/campaigns", json={"name": "c", "initialPhase": phase, "configuration": {"batch": 500}}
    )
    assert response.status_code == 201
    conforms(response.json(), "CampaignPhases")
    return str(response.json()["id"])


def test_create_and_get_phases(client: TestClient) -> None:
    campaign = create(client, "dns_validation")
    phases = client.get(f"/campaigns/{campaign}/phases")
    assert phases.status_code == 200
    conforms(phases.json(), "CampaignPhases")
    assert phases.json() | {"id": campaign} == {
        "id": campaign,
        "name": "c",
        "currentPhase": "dns_validation",
        "phaseStatus": "pending",
        "progress": 0.0,
        "availableEvents": ["cancel", "start"],
        "availableTransitions": [],
    }


def test_invalid_transition_is_409_with_the_error_text(client: TestClient) -> None:
    campaign = create(client)
    response = client.put(
        f"/campaigns/{campaign}/transition",
        json={"targetPhase": "http_validation", "transitionReason": "skip"},
    )
    assert response.status_code == 409
    conforms(response.json(), "Error")
    assert response.json() == {
        "error": {
            "status": 409,
            "code": "invalid_transition",
            "message": "cannot transition domain_generation/pending to http_validation; "
            "allowed: none (only a completed phase can move on)",
        }
    }
    refused = client.post(f"/campaigns/{campaign}/events", json={"event": "resume"})
    assert refused.status_code == 409
    assert "allowed: cancel, start" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "method", "body", "status"),
    [
        ("/campaigns", "post", {"name": "c", "initialPhase": "ftp"}, 422),
        ("/campaigns", "post", {"name": " ", "initialPhase": "dns_validation"}, 422),
        ("/campaigns", "post", [1], 422),
        ("/campaigns/nope/phases", "get", None, 404),
        ("/campaigns/00000000-0000-0000-0000-000000000000/phases", "get", None, 404),
        (
            "/campaigns/00000000-0000-0000-0000-000000000000/transition",
            "put",
            {"targetPhase": "dns_validation", "transitionReason": "x"},
            404,
        ),
    ],
)
def test_bad_requests(client: TestClient, path: str, method: str, body: Any, status: int) -> None:
    response = client.request(method.upper(), path, json=body)
    assert response.status_code == status
    conforms(response.json(), "Error")


def test_bad_transition_body_and_reason(client: TestClient) -> None:
    campaign = create(client)
    for event in ("start", "complete"):
        client.post(f"/campaigns/{campaign}/events", json={"event": event})
    bad = client.put(f"/campaigns/{campaign}/transition", json={"targetPhase": "dns_validation"})
    assert bad.status_code == 422
    blank = client.put(
        f"/campaigns/{campaign}/transition",
        json={"targetPhase": "dns_validation", "transitionReason": "   "},
    )
    assert blank.status_code == 422
    assert "reason must not be empty" in blank.json()["error"]["message"]


def test_whole_life_over_the_websocket(client: TestClient, clock: Clock) -> None:
    campaign = create(client)
    with client.websocket_connect(f"/campaigns/{campaign}/stream") as socket:
        first = codec.decode(socket.receive_bytes())
        assert isinstance(first, ProgressMessage)
        assert (first.phase.value, first.status.value) == ("domain_generation", "pending")

        assert client.post(f"/campaigns/{campaign}/events", json={"event": "start"}).is_success
        started = codec.decode(socket.receive_bytes())
        assert isinstance(started, ProgressMessage)
        assert started.status.value == "running"

        clock.now += 100  # too soon: the throttle holds this report back
        held = client.post(
            f"/campaigns/{campaign}/progress",
            json={"progress": 10.0, "processed": 10, "total": 100},
        )
        assert held.json()["progress"] == 10.0
        clock.now += 1000  # later, and 30 % more: sent at once
        client.post(
            f"/campaigns/{campaign}/progress",
            json={"progress": 40.0, "processed": 40, "total": 100},
        )
        report = codec.decode(socket.receive_bytes())
        assert isinstance(report, ProgressMessage)
        assert (report.progress, report.processed, report.total) == (40.0, 40, 100)

        down = client.post(
            f"/campaigns/{campaign}/progress",
            json={"progress": 30.0, "processed": 30, "total": 100},
        )
        assert down.status_code == 409  # refused by the campaign's state, not malformed
        assert down.json()["error"]["code"] == "invalid_progress"
        assert "must not go down" in down.json()["error"]["message"]

        client.post(f"/campaigns/{campaign}/events", json={"event": "complete"})
        done = codec.decode(socket.receive_bytes())
        assert isinstance(done, ProgressMessage)
        assert (done.status.value, done.progress) == ("completed", 100.0)
        assert done.sequence > report.sequence > started.sequence

        moved = client.put(
            f"/campaigns/{campaign}/transition",
            json={
                "targetPhase": "http_validation",
                "transitionReason": " generated domains go straight to HTTP ",
            },
        )
        assert moved.status_code == 200
        conforms(moved.json(), "CampaignPhases")
        notice = codec.decode(socket.receive_bytes())
        assert isinstance(notice, TransitionMessage)
        assert (notice.previous_phase.value, notice.phase.value, notice.reason) == (
            "domain_generation",
            "http_validation",
            "generated domains go straight to HTTP",
        )
    phases = client.get(f"/campaigns/{campaign}/phases").json()
    assert (phases["currentPhase"], phases["phaseStatus"]) == ("http_validation", "pending")


def test_the_ticker_sends_a_held_report_once_it_is_due(clock: Clock) -> None:
    with TestClient(web_api.create_app(clock=clock, tick_seconds=0.01)) as client:
        campaign = create(client)
        with client.websocket_connect(f"/campaigns/{campaign}/stream") as socket:
            socket.receive_bytes()
            client.post(f"/campaigns/{campaign}/events", json={"event": "start"})
            socket.receive_bytes()
            clock.now += 100  # too soon: held back
            client.post(
                f"/campaigns/{campaign}/progress",
                json={"progress": 10.0, "processed": 10, "total": 100},
            )
            clock.now += 1000  # now due: the ticker sends it without a further report
            held = codec.decode(socket.receive_bytes())
            assert isinstance(held, ProgressMessage)
            assert (held.progress, held.processed) == (10.0, 10)


def test_stream_of_an_unknown_campaign_is_closed(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/campaigns/00000000-0000-0000-0000-000000000000/stream"),
    ):
        pass
    assert closed.value.code == 4404


def test_scripted_session_runs(capsys: pytest.CaptureFixture[str]) -> None:
    web_api.main()
    out = capsys.readouterr().out
    assert "PUT  transition while pending -> 409" in out
    # The session runs on a stopped clock, so the throttle holds the 50% report and the
    # completion supersedes it: the same four frames on any machine, however loaded.
    frames = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("WS")]
    decoded = [codec.decode(frame.encode()) for frame in frames]
    assert [type(message).__name__ for message in decoded] == [
        "ProgressMessage",
        "ProgressMessage",
        "ProgressMessage",
        "TransitionMessage",
    ]
    messages = [m for m in decoded if isinstance(m, ProgressMessage | TransitionMessage)]
    assert messages == decoded
    assert [message.sequence for message in messages] == [0, 1, 3, 4]
    assert {message.timestamp_ms for message in messages} == {web_api.SCRIPTED_SESSION_TIME_MS}
    last_progress = decoded[2]
    assert isinstance(last_progress, ProgressMessage)
    assert last_progress.progress == 100.0


# --- many workers: shard reports merged into the campaign's progress ------------------


def shard_frame(campaign: str, shard: int, size: int, processed: int, failed: int = 0) -> bytes:
    report = ShardReport(
        campaign, "domain_generation", shard, size, processed, processed - failed, failed
    )
    return codec.encode(report)


def running_in_shards(client: TestClient, shards: int = 2, total: int = 30) -> str:
    campaign = create(client)
    split = client.put(f"/campaigns/{campaign}/shards", json={"shards": shards, "total": total})
    assert split.status_code == 200
    assert client.post(f"/campaigns/{campaign}/events", json={"event": "start"}).status_code == 200
    return campaign


def test_the_stream_serves_the_merged_progress_of_the_shards(
    client: TestClient, clock: Clock
) -> None:
    campaign = running_in_shards(client)
    post = f"/campaigns/{campaign}/shard-reports"
    with client.websocket_connect(f"/campaigns/{campaign}/stream") as socket:
        socket.receive_bytes()
        clock.now += 1000
        assert client.post(post, content=shard_frame(campaign, 0, 10, 4)).status_code == 200
        first = codec.decode(socket.receive_bytes())
        assert isinstance(first, ProgressMessage)
        assert (first.processed, first.total) == (4, 30)
        # A batch from both workers, with a duplicate, a late report and a retry of shard 0
        # that restarted from 0: the campaign counts each domain once.
        batch = (
            b'["b1",'
            + b",".join(
                [
                    shard_frame(campaign, 1, 20, 20, 1),
                    shard_frame(campaign, 0, 10, 4),
                    shard_frame(campaign, 0, 10, 2),
                    shard_frame(campaign, 0, 10, 0),
                    shard_frame(campaign, 0, 10, 6),
                    shard_frame(campaign, 1, 20, 20, 1),
                ]
            )
            + b"]"
        )
        clock.now += 1000
        assert client.post(post, content=batch).status_code == 200
        merged = codec.decode(socket.receive_bytes())
        assert isinstance(merged, ProgressMessage)
        assert (merged.processed, merged.successful, merged.failed) == (26, 25, 1)
        assert merged.progress == 26 * 100 / 30
        assert merged.sequence > first.sequence
    phases = client.get(f"/campaigns/{campaign}/phases").json()
    assert phases["progress"] == 26 * 100 / 30


def test_shard_reports_that_do_not_fit_change_nothing(client: TestClient) -> None:
    campaign = running_in_shards(client)
    post = f"/campaigns/{campaign}/shard-reports"
    assert client.post(post, content=shard_frame(campaign, 0, 10, 4)).status_code == 200
    other = str(uuid.UUID(int=5))
    bad_batch = (
        b'["b1",' + shard_frame(campaign, 1, 20, 20) + b"," + shard_frame(campaign, 2, 1, 1) + b"]"
    )
    for body, status, text in [
        (shard_frame(campaign, 2, 1, 1), 409, "shard must be in 0..1"),
        (shard_frame(campaign, 0, 11, 5), 409, "earlier 10"),
        (shard_frame(other, 1, 20, 20), 422, "report is for campaign"),
        (bad_batch, 409, "shard must be in 0..1"),
        (codec.encode(TYPICAL), 422, "s1 shard-report frames"),
        (b"[1,", 422, "not valid JSON"),
    ]:
        response = client.post(post, content=body)
        assert response.status_code == status, body
        conforms(response.json(), "Error")
        assert text in response.json()["error"]["message"]
    # Shard 1's report in the refused batch was not kept.
    assert client.get(f"/campaigns/{campaign}/phases").json()["progress"] == 4 * 100 / 30


def test_shards_must_be_set_while_running_and_only_once(client: TestClient) -> None:
    campaign = create(client)
    frame = shard_frame(campaign, 0, 10, 4)
    no_shards = client.post(f"/campaigns/{campaign}/shard-reports", content=frame)
    assert (no_shards.status_code, no_shards.json()["error"]["code"]) == (409, "no_shards")
    shards = f"/campaigns/{campaign}/shards"
    assert client.put(shards, json={"shards": 0, "total": 5}).status_code == 422
    assert client.put(shards, json={"shards": 2}).status_code == 422
    assert client.put(shards, json={"shards": 2, "total": 30}).status_code == 200
    assert client.put(shards, json={"shards": 2, "total": 30}).status_code == 200  # again
    again = client.put(shards, json={"shards": 3, "total": 30})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "shards_already_set")
    pending = client.post(f"/campaigns/{campaign}/shard-reports", content=frame)
    assert (pending.status_code, pending.json()["error"]["code"]) == (409, "invalid_progress")
