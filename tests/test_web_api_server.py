"""The web example under a real uvicorn on 127.0.0.1, spoken to by real clients.

uvicorn runs in its own process group on a socket this test binds (so the port is free
and already listening when uvicorn starts); httpx2 speaks HTTP and the ``websockets``
client the WebSocket; the frames are decoded with phasekit.codec. The server is killed in
the fixture's teardown whatever happens.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from websockets.sync.client import connect

from phasekit import ProgressMessage, TransitionMessage, codec

ROOT = Path(__file__).resolve().parent.parent
#: How long to wait for the server to come up, or for a frame, before failing (a bound on
#: a broken run, never a measure of speed).
PATIENCE_SECONDS = 60.0


@pytest.fixture
def server() -> Iterator[str]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "examples.web_api:app",
            "--fd",
            str(listener.fileno()),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
        pass_fds=(listener.fileno(),),
        start_new_session=True,  # its own process group, killed whole below
    )
    listener.close()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:  # poll until it answers
            assert process.poll() is None, "uvicorn exited"
            try:
                if httpx2.get(f"{url}/openapi.json").status_code == 200:
                    break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "uvicorn did not answer"
                time.sleep(0.05)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_campaign_over_real_http_and_a_real_websocket(server: str) -> None:
    with httpx2.Client(base_url=server) as http:
        created = http.post(
            "/campaigns", json={"name": "live", "initialPhase": "domain_generation"}
        )
        assert created.status_code == 201
        campaign = created.json()["id"]
        ws_url = server.replace("http://", "ws://") + f"/campaigns/{campaign}/stream"
        with connect(ws_url, open_timeout=PATIENCE_SECONDS) as socket_:
            first = codec.decode(socket_.recv(timeout=PATIENCE_SECONDS))
            assert isinstance(first, ProgressMessage)
            assert (first.phase.value, first.status.value) == ("domain_generation", "pending")

            assert http.post(f"/campaigns/{campaign}/events", json={"event": "start"}).is_success
            started = codec.decode(socket_.recv(timeout=PATIENCE_SECONDS))
            assert isinstance(started, ProgressMessage)
            assert started.status.value == "running"

            assert http.post(f"/campaigns/{campaign}/events", json={"event": "complete"}).is_success
            done = codec.decode(socket_.recv(timeout=PATIENCE_SECONDS))
            assert isinstance(done, ProgressMessage)
            assert (done.status.value, done.progress) == ("completed", 100.0)

            moved = http.put(
                f"/campaigns/{campaign}/transition",
                json={"targetPhase": "dns_validation", "transitionReason": "generated"},
            )
            assert moved.status_code == 200
            notice = codec.decode(socket_.recv(timeout=PATIENCE_SECONDS))
            assert isinstance(notice, TransitionMessage)
            assert (notice.previous_phase.value, notice.phase.value, notice.reason) == (
                "domain_generation",
                "dns_validation",
                "generated",
            )
        missing = http.get("/campaigns/00000000-0000-0000-0000-000000000000/phases")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
