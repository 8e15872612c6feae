"""The web example's edges: concurrent writers, oversized and malformed input, one error shape.

The concurrent-request tests force their interleaving: the first request's body is held
back until the second has been answered, so the first has read the campaign before the
second changed it, on every run, whatever the machine's speed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from phasekit import ShardReport, codec
from tests.test_web_api import conforms, web_api


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(web_api.create_app(tick_seconds=None)) as test_client:
        yield test_client


def error_of(response: Any, status: int, code: str) -> str:
    """Assert ``response`` is the one error shape with this status and code; its message."""
    assert response.status_code == status, response.text
    conforms(response.json(), "Error")
    assert response.json()["error"]["status"] == status
    assert response.json()["error"]["code"] == code
    return str(response.json()["error"]["message"])


# --- compare and set: the second writer of a campaign read earlier gets 409 -------------


class HeldBody:
    """A request body that says when it is first asked for, and arrives when released."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.asked.set()
        await self.release.wait()
        yield self.body


async def race(
    setup: list[tuple[str, str, bytes]],
    first: tuple[str, str, bytes],
    second: tuple[str, str, bytes],
) -> tuple[Any, Any, Any]:
    """Run ``setup``, then ``first`` up to reading its body, all of ``second``, then the rest
    of ``first``; return the campaign (as created), the first's and the second's answers."""
    app = web_api.create_app(tick_seconds=None)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        created = await client.post(
            "/campaigns", json={"name": "race", "initialPhase": "domain_generation"}
        )
        campaign = created.json()["id"]
        for method, path, body in setup:
            done = await client.request(method, path.format(campaign), content=body)
            assert done.status_code == 200, done.text
        method, path, body = first
        held = HeldBody(body.replace(b"{id}", campaign.encode()))
        answer = asyncio.ensure_future(client.request(method, path.format(campaign), content=held))
        await held.asked.wait()  # the first has read the campaign and waits for its body
        method, path, body = second
        second_answer = await client.request(
            method, path.format(campaign), content=body.replace(b"{id}", campaign.encode())
        )
        held.release.set()
        first_answer = await answer
        phases = await client.get(f"/campaigns/{campaign}/phases")
    return phases.json(), first_answer, second_answer


def test_two_concurrent_transitions_never_move_the_phase_back() -> None:
    start = ("POST", "/campaigns/{}/events", b'{"event": "start"}')
    complete = ("POST", "/campaigns/{}/events", b'{"event": "complete"}')
    to_dns = (
        "PUT",
        "/campaigns/{}/transition",
        b'{"targetPhase": "dns_validation", "transitionReason": "first"}',
    )
    to_http = (
        "PUT",
        "/campaigns/{}/transition",
        b'{"targetPhase": "http_validation", "transitionReason": "second"}',
    )
    phases, first, second = asyncio.run(race([start, complete], to_dns, to_http))
    assert second.status_code == 200
    assert "changed while this request was read" in error_of(first, 409, "concurrent_update")
    assert phases["currentPhase"] == "http_validation"  # not back to dns_validation


def test_two_concurrent_events_keep_the_one_that_saved_first() -> None:
    start = ("POST", "/campaigns/{}/events", b'{"event": "start"}')
    complete = ("POST", "/campaigns/{}/events", b'{"event": "complete"}')
    cancel = ("POST", "/campaigns/{}/events", b'{"event": "cancel"}')
    phases, first, second = asyncio.run(race([start], complete, cancel))
    assert second.status_code == 200
    error_of(first, 409, "concurrent_update")
    assert phases["phaseStatus"] == "cancelled"


def shard(processed: int) -> bytes:
    # "{id}" is replaced by the campaign's id once it is created.
    report = ShardReport(
        "00000000-0000-0000-0000-000000000001", "domain_generation", 0, 10, processed, processed, 0
    )
    return codec.encode(report).replace(b"00000000-0000-0000-0000-000000000001", b"{id}")


def test_two_concurrent_shard_reports_do_not_lose_one() -> None:
    split = ("PUT", "/campaigns/{}/shards", b'{"shards": 1, "total": 10}')
    start = ("POST", "/campaigns/{}/events", b'{"event": "start"}')
    late = ("POST", "/campaigns/{}/shard-reports", shard(3))
    early = ("POST", "/campaigns/{}/shard-reports", shard(7))
    phases, first, second = asyncio.run(race([split, start], late, early))
    assert second.status_code == 200
    error_of(first, 409, "concurrent_update")
    assert phases["progress"] == 70.0


# --- limits and malformed input: 413 and 422, never 500 ---------------------------------


def create(client: TestClient, name: Any = "c", **more: Any) -> Any:
    return client.post("/campaigns", json={"name": name, "initialPhase": "dns_validation", **more})


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_configuration_depth_is_limited(client: TestClient) -> None:
    limit = web_api.MAX_CONFIGURATION_DEPTH
    assert create(client, configuration=nested(limit)).status_code == 201
    error_of(create(client, configuration=nested(limit + 1)), 422, "invalid_value")
    deep = b'{"name": "c", "initialPhase": "dns_validation", "configuration": ' + (
        b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}"
    )
    error_of(client.post("/campaigns", content=deep), 422, "invalid_value")
    arrays = b'{"name": "c", "initialPhase": "dns_validation", "configuration": {"a": ' + (
        b"[" * 900 + b"]" * 900 + b"}}"
    )
    error_of(client.post("/campaigns", content=arrays), 422, "invalid_value")


def test_body_size_is_limited_with_413(client: TestClient) -> None:
    huge = create(client, name="x" * 20_000_000)
    assert "at most 65536 bytes" in error_of(huge, 413, "body_too_large")
    # Streamed without a Content-Length: refused as soon as it passes the limit.
    chunks = iter([b'{"name": "', b"x" * web_api.MAX_BODY_BYTES, b'"}'])
    error_of(client.post("/campaigns", content=chunks), 413, "body_too_large")


def test_name_length_matches_the_document(client: TestClient) -> None:
    document = web_api.schema.openapi_document()
    name = document["components"]["schemas"]["CreateCampaignRequest"]["properties"]["name"]
    assert web_api.MAX_NAME_LENGTH == name["maxLength"] == 255
    assert create(client, name="n" * 255).status_code == 201
    assert "at most 255" in error_of(create(client, name="n" * 256), 422, "invalid_value")
    assert create(client, name="  spaced  ").json()["name"] == "spaced"


@pytest.mark.parametrize(
    "character", ["\x00", "\x1b", "\x7f", "\x85", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff"]
)
def test_names_with_controls_or_bidi_overrides_are_refused(
    client: TestClient, character: str
) -> None:
    message = error_of(create(client, name=f"safe{character}name"), 422, "invalid_value")
    assert f"U+{ord(character):04X}" in message


@pytest.mark.parametrize("event", ["reboot", "", 5, None, ["start"], {"event": "start"}])
def test_an_unknown_or_non_string_event_is_malformed(client: TestClient, event: Any) -> None:
    campaign = create(client).json()["id"]
    response = client.post(f"/campaigns/{campaign}/events", json={"event": event})
    assert "event must be one of" in error_of(response, 422, "invalid_value")


@pytest.mark.parametrize("target", ["ftp_validation", "", 1, None, ["dns_validation"]])
def test_an_unknown_or_non_string_target_phase_is_malformed(
    client: TestClient, target: Any
) -> None:
    campaign = create(client).json()["id"]
    body = {"targetPhase": target, "transitionReason": "why"}
    response = client.put(f"/campaigns/{campaign}/transition", json=body)
    assert "targetPhase must be one of" in error_of(response, 422, "invalid_value")


def test_a_valid_event_the_lifecycle_refuses_is_409(client: TestClient) -> None:
    campaign = create(client).json()["id"]
    response = client.post(f"/campaigns/{campaign}/events", json={"event": "complete"})
    assert "allowed: cancel, start" in error_of(response, 409, "invalid_transition")


def test_unknown_paths_and_methods_are_json_errors(client: TestClient) -> None:
    error_of(client.get("/nowhere"), 404, "not_found")
    campaign = create(client).json()["id"]
    wrong = client.delete(f"/campaigns/{campaign}/phases")
    error_of(wrong, 405, "method_not_allowed")
    assert "GET" in wrong.headers["allow"]


ENDPOINTS = [
    ("POST", "/campaigns"),
    ("GET", "/campaigns/{}/phases"),
    ("PUT", "/campaigns/{}/transition"),
    ("POST", "/campaigns/{}/events"),
    ("POST", "/campaigns/{}/progress"),
    ("PUT", "/campaigns/{}/shards"),
    ("POST", "/campaigns/{}/shard-reports"),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
junk = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: repr(value).encode()),
    st.dictionaries(
        st.sampled_from(
            [
                "name",
                "initialPhase",
                "configuration",
                "event",
                "targetPhase",
                "transitionReason",
                "progress",
                "processed",
                "total",
                "shards",
            ]
        ),
        json_values,
    ).map(lambda value: json.dumps(value, default=str).encode()),
)


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[TestClient, str]]:
    """One application for all the junk (a new one per example would be slow): junk that
    happens to be a valid request may change the campaign, which changes nothing here."""
    with TestClient(web_api.create_app(tick_seconds=None)) as client:
        campaign = create(client).json()["id"]
        client.post(f"/campaigns/{campaign}/events", json={"event": "start"})
        yield client, campaign


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@settings(max_examples=25, derandomize=True, database=None)
@given(body=junk)
def test_junk_bodies_are_never_a_server_error(
    shared: tuple[TestClient, str], method: str, path: str, body: bytes
) -> None:
    client, campaign = shared
    response = client.request(method, path.format(campaign), content=body)
    assert response.status_code < 500
    if response.status_code >= 400:
        conforms(response.json(), "Error")
