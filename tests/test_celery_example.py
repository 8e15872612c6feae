"""The Celery example, on a real Redis server and real Celery worker processes.

``make test`` runs the cluster test with a throwaway Redis server (``.ci/with-redis.sh``).
Without ``PHASEKIT_REDIS_URL`` it fails, saying how to get a server, unless
``PHASEKIT_SKIP_REDIS=1`` is set: then it is skipped, saying so. (A run without
``--kill-worker`` is left out: it costs as much again, for the startup of Celery workers, and
shows less.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.servers import server_address

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "celery_campaign.py"
REDIS_VARIABLE = "PHASEKIT_REDIS_URL"
SKIP_VARIABLE = "PHASEKIT_SKIP_REDIS"
# The example gives up after this long (stopping its workers); the test waits a bit longer.
EXAMPLE_TIMEOUT_S = 120
LAST_LINE = re.compile(
    r"processed (?P<processed>[\d,]+) of (?P<total>[\d,]+) domains exactly; "
    r"progress never decreased; (?P<frames>[\d,]+) frames to clients; "
    r"(?P<reports>[\d,]+) shard reports; "
    r"worker killed: (?P<killed>yes|no), (?P<redelivered>[\d,]+) shards redelivered"
)


def redis_url() -> str:
    """Return the test server's URL; without one, fail, unless the run opted out."""
    return server_address(
        REDIS_VARIABLE,
        SKIP_VARIABLE,
        "Redis test",
        f"no Redis server: run `make test`, which starts one, or `.ci/with-redis.sh pytest "
        f"...`, or set {REDIS_VARIABLE} to a server of yours (or {SKIP_VARIABLE}=1 to skip "
        "this test)",
    )


def processes_of(run: str) -> list[tuple[int, str]]:
    """The live processes whose command line names the run (its Celery workers)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if state != "Z" and run in command:
            alive.append((int(entry.name), command))
    return alive


def run_campaign(*args: str) -> tuple[str, str]:
    """Run the example to the end; return its stdout and stderr. Whatever happens, no
    process of it is left: the example runs in its own process group, with its workers."""
    command = [sys.executable, str(EXAMPLE), "--redis-url", redis_url()]
    command += ["--timeout", str(EXAMPLE_TIMEOUT_S), *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=EXAMPLE_TIMEOUT_S + 60)
    except BaseException:  # a timeout, or an interrupted test run: kill the example's group
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    tag = re.search(r"\(run (\w+),", out)
    left = processes_of(tag.group(1)) if tag else []
    for pid, _ in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"worker processes left running: {left}"
    assert process.returncode == 0, f"exit status {process.returncode}\n{out}\n{err}"
    return out, err


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in:\n{text}"
    return match.group(1)


def figures(out: str) -> dict[str, str]:
    last = out.strip().splitlines()[-1]
    match = LAST_LINE.fullmatch(last)
    assert match, f"unexpected last line: {last!r}"
    return match.groupdict()


def count(text: str) -> int:
    return int(text.replace(",", ""))


def test_a_killed_worker_still_gives_exact_monotone_progress() -> None:
    out, err = run_campaign(
        "--domains", "50000", "--shard-size", "5000", "--workers", "2", "--kill-worker"
    )
    last = figures(out)
    assert count(last["processed"]) == count(last["total"]) == 50_000
    assert last["killed"] == "yes"
    assert count(last["redelivered"]) >= 1
    assert count(last["reports"]) >= 10  # at least one per shard
    # The throttle sends at most one frame per 250 ms (plus the last, a status change), and
    # only for a change of 1% or more.
    frames = count(last["frames"])
    seconds = float(found(r"client frames: [\d,]+ over ([\d.]+) s", out))
    assert frames <= seconds * 4 + 3
    assert frames <= 100 + 3
    # The redone shard's domains are counted twice by the naive sum, never by the merge.
    naive = count(found(r"naive sum: +([\d,]+) processed", out))
    reported = count(found(r"which had reported ([\d,]+) of its 5,000 domains", out))
    assert 0 < reported < 5_000
    assert naive >= 50_000 + reported  # more if the broker redelivered another shard too
    assert re.search(r"killed: +pid \d+ \(SIGKILL\)", out)
    assert "none left running" in out
    assert "100.00%" in err  # the progress bar reached the end
    # Every line fits in 100 columns, but the last: one line by design, so that a script
    # can read the figures whole.
    assert max(len(line) for line in (out.strip().splitlines()[:-1] + err.splitlines())) < 100


def test_without_a_redis_server_it_says_how_to_get_one() -> None:
    env = {name: value for name, value in os.environ.items() if name != REDIS_VARIABLE}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "pass --redis-url or set PHASEKIT_REDIS_URL" in done.stderr
