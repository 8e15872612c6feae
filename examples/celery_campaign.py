"""Many workers, one campaign: a real Celery + Redis cluster reporting one exact progress.

A simulated campaign phase of ``--domains`` domains (default 2,000,000) is split into shards
of ``--shard-size`` (default 10,000), one Celery task per shard, run by ``--workers`` Celery
worker processes (default 2) that this script starts itself and stops at the end. The broker
is a real Redis server (``--redis-url``, default ``$PHASEKIT_REDIS_URL``; ``make demo`` starts
a throwaway one with ``.ci/with-redis.sh``).

Each task processes its shard in chunks of 1,000 domains at a simulated 50,000 domains a
second (a domain succeeds or fails by a checksum of its name, so every run gives the same
counts), and reports its shard's counts as a ``ShardReport`` ``s1`` frame pushed to a Redis
list: after its first chunk, then at most once every 250 ms, and a final one (the old way
wrote one progress update per batch of 100 domains). The tasks run with ``acks_late``,
``reject_on_worker_lost`` and a short broker visibility timeout (30 s; Redis's default is an
hour), so a task whose worker dies is delivered again and its shard is processed again from
0: with ``--kill-worker`` one pool process is killed with SIGKILL in the middle of a shard,
to show that (the first task to report part of its shard after the script asks for it
signals itself, right after that report, so the kill lands mid-shard however loaded the
machine is).

This process reads the frames, merges them into one ``CampaignProgress`` (per shard the most
advanced report wins, so the redone shard's reports change nothing until they pass what was
already reported), offers the campaign's messages to a ``ProgressThrottle`` (what it lets
through is what clients would get), and draws a progress bar on stderr beside the naive sum:
adding up what each task attempt reports, as a per-task progress counter does, which counts
the redone domains twice. The last line on stdout sums it up (one line, longer than the
others, so that a script can read it whole)::

    processed 2,000,000 of 2,000,000 domains exactly; progress never decreased; <n> frames to
    clients; <k> shard reports; worker killed: yes, <r> shards redelivered

Run it with ``make demo``, or ``python examples/celery_campaign.py --kill-worker`` with
``PHASEKIT_REDIS_URL`` set (in a clone, ``pip install -e '.[examples]'`` brings Celery and
redis).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Final

import redis
from celery import Celery

import phasekit
from phasekit import CampaignProgress, PhaseStatus, ProgressThrottle, ShardReport, codec

TASK_NAME: Final = "phasekit_example.process_shard"
PHASE: Final = "dns_validation"
CHUNK: Final = 1_000  # domains a task processes between two looks at the clock
# The simulated speed of a task, waiting on DNS answers, say: it sleeps to keep to it.
DOMAINS_PER_SECOND: Final = 50_000
LEGACY_BATCH: Final = 100  # the old way wrote one progress update per batch of 100 domains
REPORT_EVERY_S: Final = 0.25  # a shard reports at most this often, plus its final report
CLIENT_INTERVAL_MS: Final = 250  # the throttle's interval: at most one frame per 250 ms
# A task not acknowledged this long after its delivery is delivered again, even to another
# worker while it still runs: longer than a shard ever takes, even on a loaded machine.
VISIBILITY_TIMEOUT_S: Final = 30
# Set by this script for the workers it starts: the broker, and the run's tag (the prefix of
# every Redis key of the run, and part of each worker's name, so its processes can be found).
BROKER_VARIABLE: Final = "PHASEKIT_CAMPAIGN_BROKER"
RUN_VARIABLE: Final = "PHASEKIT_CAMPAIGN_RUN"
EXAMPLES: Final = Path(__file__).resolve().parent

app = Celery("celery_campaign")


def key(run: str, name: str) -> str:
    """A Redis key of this run (the broker's own keys get the same prefix)."""
    return f"phasekit-example:{run}:{name}"


def configure(broker_url: str, run: str) -> None:
    """Configure the Celery app, identically in this process and in every worker."""
    app.conf.update(
        broker_url=broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "global_keyprefix": key(run, ""),
        },
        task_default_queue="shards",
        task_acks_late=True,  # acknowledge a shard when it is done, not when it starts
        task_reject_on_worker_lost=True,  # a shard whose process died goes back to the queue
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_send_task_events=False,
    )


def domain_fails(index: int) -> bool:
    """Whether the simulated check of domain ``index`` fails (about 5% do, always the same)."""
    return zlib.crc32(b"d%d.example" % index) % 20 == 0


_clients: dict[int, redis.Redis] = {}


def worker_client() -> redis.Redis:
    """One Redis connection per worker process (a pool process is forked: not inherited)."""
    pid = os.getpid()
    if pid not in _clients:
        _clients[pid] = redis.Redis.from_url(os.environ[BROKER_VARIABLE])
    return _clients[pid]


def process_shard(task: Any, campaign_id: str, shard: int, start: int, size: int) -> None:
    """The Celery task: process one shard and report its counts as ``s1`` frames."""
    run = os.environ[RUN_VARIABLE]
    client = worker_client()
    reports = key(run, "reports")
    # Bookkeeping for the demonstration, not progress: how often the shard was started, and
    # whether the broker said this delivery is a redelivery.
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(key(run, "attempts"), str(shard), 1)
    if (task.request.delivery_info or {}).get("redelivered"):
        pipe.sadd(key(run, "redelivered"), str(shard))
    pipe.execute()

    def report() -> None:
        frame = codec.encode(
            ShardReport(campaign_id, PHASE, shard, size, processed, processed - failed, failed)
        )
        client.rpush(reports, frame)
        # --kill-worker: the first task to report part of its shard takes the request (DEL
        # is atomic: one taker), says who it is, and dies as a killed worker does.
        if 0 < processed < size and client.delete(key(run, "kill")):
            client.hset(
                key(run, "killed"),
                mapping={"pid": os.getpid(), "shard": shard, "processed": processed},
            )
            os.kill(os.getpid(), signal.SIGKILL)

    processed = failed = reported = 0
    began = time.monotonic()
    last_report = -math.inf
    end = start + size
    for first in range(start, end, CHUNK):
        last = min(first + CHUNK, end)
        failed += sum(1 for index in range(first, last) if domain_fails(index))
        processed += last - first
        # Sleep until the simulated time of this many domains (a sleep that overshoots, as
        # on a loaded machine, shortens the next ones).
        time.sleep(max(0.0, began + processed / DOMAINS_PER_SECOND - time.monotonic()))
        now = time.monotonic()
        if now - last_report >= REPORT_EVERY_S:
            report()
            reported, last_report = processed, now
    if processed > reported:
        report()


# Registered without a decorator: Celery is untyped, and the function stays a typed function.
process_shard_task = app.task(name=TASK_NAME, bind=True)(process_shard)

if os.environ.get(RUN_VARIABLE):  # imported by `celery worker`, started by this script
    configure(os.environ[BROKER_VARIABLE], os.environ[RUN_VARIABLE])


# --------------------------------------------------------------------------- the cluster


class CampaignFailed(Exception):
    """The run could not finish or did not add up; the message says why."""


def proc_processes() -> Iterator[tuple[int, str]]:
    """Every live (non-zombie) process as ``(pid, command line)``, from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            yield int(entry.name), command


def run_processes(run: str) -> list[int]:
    """The live processes of this run's workers: each command line has the run's tag."""
    return [pid for pid, command in proc_processes() if run in command and pid != os.getpid()]


@dataclass
class Cluster:
    """The Celery worker processes of one run: started here, stopped here."""

    broker_url: str
    run: str
    workers: int
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        # The workers import this file as `celery_campaign`, and the same phasekit as here.
        package_root = str(Path(phasekit.__file__).resolve().parent.parent)
        path = [str(EXAMPLES), package_root, os.environ.get("PYTHONPATH", "")]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(part for part in path if part),
            BROKER_VARIABLE: self.broker_url,
            RUN_VARIABLE: self.run,
        }
        for number in range(1, self.workers + 1):
            command = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "celery_campaign",
                "worker",
                "--pool=prefork",
                "--concurrency=1",  # one pool process: a worker runs one shard at a time
                f"--hostname=w{number}.{self.run}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ]
            log = (self.logs / f"worker-{number}.log").open("wb")
            with log:
                self.processes.append(
                    subprocess.Popen(
                        command,
                        env=env,
                        cwd=EXAMPLES,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )

    def check(self) -> None:
        for number, process in enumerate(self.processes, 1):
            if process.poll() is not None:
                raise CampaignFailed(f"worker {number} exited with status {process.returncode}")

    def stop(self) -> list[int]:
        """Stop every worker and its pool process; return the run's processes left (none)."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # a warm shutdown: the queue is empty
        deadline = time.monotonic() + 15
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Whatever is left of the run (a pool process whose worker died, say) is killed: the
        # run's tag is in each of its processes' command line, and in no other's.
        deadline = time.monotonic() + 5
        while (left := run_processes(self.run)) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        return run_processes(self.run)

    def log_tails(self, lines: int = 15) -> str:
        tails = []
        for log in sorted(self.logs.glob("worker-*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {log.name} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(tails)


# --------------------------------------------------------------------------- aggregation


@dataclass
class Tally:
    """What this process saw of the run."""

    reports: int = 0
    frames: int = 0  # campaign messages the throttle let through to clients
    first_frame_at: float = 0.0  # time.monotonic() when the first frame went out
    last_frame_at: float = 0.0  # and when the last one did
    naive: int = 0  # the sum of what every task attempt reported
    never_decreased: bool = True
    frames_never_decreased: bool = True
    last_frame_processed: int = 0
    reports_per_shard: dict[int, int] = field(default_factory=dict)
    latest: dict[int, int] = field(default_factory=dict)  # shard -> processed, last report
    killed: tuple[int, int, int] | None = None  # (pid, shard, processed at the kill)


def bar(progress: CampaignProgress, tally: Tally, width: int = 16) -> str:
    """The progress line, under 100 columns for the 2,000,000-domain default."""
    filled = progress.processed * width // max(progress.total, 1)
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {progress.percent:6.2f}% "
        f"{progress.processed:,}/{progress.total:,} | naive {tally.naive:,} "
        f"| shards {progress.shards_done:,}/{progress.shards:,} | reports {tally.reports:,}"
    )


def show(progress: CampaignProgress, tally: Tally) -> None:
    if sys.stderr.isatty():
        print(f"\r{bar(progress, tally)}", end="", file=sys.stderr, flush=True)
    else:
        print(bar(progress, tally), file=sys.stderr, flush=True)


def killed_worker(client: redis.Redis, run: str) -> tuple[int, int, int] | None:
    """The pool process that --kill-worker killed, as ``(pid, shard, processed)``, if any."""
    killed = client.hgetall(key(run, "killed"))
    if not killed:
        return None
    return int(killed[b"pid"]), int(killed[b"shard"]), int(killed[b"processed"])


def aggregate(
    client: redis.Redis,
    run: str,
    progress: CampaignProgress,
    sizes: Sequence[int],
    cluster: Cluster,
    *,
    kill_worker: bool,
    timeout_s: float,
) -> tuple[Tally, float]:
    """Merge the shards' reports until every shard is done; return the tally and seconds."""
    tally = Tally()
    throttle = ProgressThrottle(min_interval_ms=CLIENT_INTERVAL_MS, min_delta=1.0)
    reports = key(run, "reports")
    sequence = 0
    started = time.monotonic()

    def now_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    def to_clients(messages: Sequence[phasekit.ProgressMessage]) -> None:
        for message in messages:
            tally.frames += 1
            tally.last_frame_at = time.monotonic()
            if tally.frames == 1:
                tally.first_frame_at = tally.last_frame_at
            if message.processed < tally.last_frame_processed:
                tally.frames_never_decreased = False
            tally.last_frame_processed = message.processed
            show(progress, tally)

    while not progress.complete:
        if time.monotonic() - started > timeout_s:
            raise CampaignFailed(
                f"not done after {timeout_s:.0f} s: {progress.shards_done} of "
                f"{progress.shards} shards complete"
            )
        cluster.check()
        popped = client.blpop([reports], timeout=0.25)
        if popped is None:
            to_clients(throttle.due(now_ms()))
            continue
        frames = [popped[1], *(client.lpop(reports, 1000) or [])]
        for frame in frames:
            report = codec.decode(frame)
            if not isinstance(report, ShardReport):
                raise CampaignFailed(f"not a shard report: {frame!r}")
            tally.reports += 1
            shard = report.shard
            tally.reports_per_shard[shard] = tally.reports_per_shard.get(shard, 0) + 1
            # The naive sum: a task attempt's reports grow, so a report that does not pass
            # the shard's previous one comes from a new attempt, whose counts are added anew.
            previous = tally.latest.get(shard, 0)
            gained = report.processed - previous
            tally.naive += gained if gained > 0 else report.processed
            tally.latest[shard] = report.processed
            before = progress.processed
            changed = progress.apply(report)
            if progress.processed < before:
                tally.never_decreased = False
            if changed:
                sequence += 1
                status = PhaseStatus.COMPLETED if progress.complete else PhaseStatus.RUNNING
                wall_ms = time.time_ns() // 1_000_000
                message = progress.message(status, sequence=sequence, timestamp_ms=wall_ms)
                sent = throttle.offer(message, now_ms())
                to_clients([sent] if sent is not None else [])
        to_clients(throttle.due(now_ms()))
        if kill_worker and tally.killed is None:
            tally.killed = killed_worker(client, run)
    to_clients(throttle.flush())
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return tally, time.monotonic() - started


# --------------------------------------------------------------------------- the run


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("PHASEKIT_REDIS_URL"),
        help="the Redis broker (default: $PHASEKIT_REDIS_URL)",
    )
    parser.add_argument(
        "--domains",
        type=int,
        default=2_000_000,
        help="domains in the campaign phase, at least 1 (default: 2,000,000)",
    )
    parser.add_argument(
        "--shard-size",
        type=int,
        default=10_000,
        help=f"domains per shard, one Celery task each; more than {CHUNK:,} with --kill-worker "
        "(default: 10,000)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Celery worker processes to start, at least 1 (default: 2)",
    )
    parser.add_argument(
        "--kill-worker",
        action="store_true",
        help="kill -9 the pool process running a shard, in the middle of it",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="give up after this many seconds (default: 900)",
    )
    return parser.parse_args(argv)


def usage_error(args: argparse.Namespace) -> str | None:
    if not args.redis_url:
        return (
            "no Redis server: pass --redis-url or set PHASEKIT_REDIS_URL "
            "(`.ci/with-redis.sh python examples/celery_campaign.py` starts a throwaway one)"
        )
    if args.domains < 1 or args.shard_size < 1 or args.workers < 1:
        return "--domains, --shard-size and --workers must be at least 1"
    if args.kill_worker and args.shard_size <= CHUNK:
        return f"--kill-worker needs shards of more than {CHUNK:,} domains, to kill one mid-way"
    return None


def raise_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    error = usage_error(args)
    if error is not None:
        print(f"celery_campaign: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, raise_on_sigterm)  # stop the workers on `kill` too

    run = uuid.uuid4().hex[:12]
    campaign = uuid.uuid4()
    sizes = [
        min(args.shard_size, args.domains - start)
        for start in range(0, args.domains, args.shard_size)
    ]
    progress = CampaignProgress(campaign, PHASE, shards=len(sizes), total=args.domains)
    client = redis.Redis.from_url(args.redis_url)
    try:
        client.ping()
    except redis.RedisError as exc:
        print(f"celery_campaign: cannot reach Redis at {args.redis_url}: {exc}", file=sys.stderr)
        return 1
    configure(args.redis_url, run)

    workers = plural(args.workers, "Celery worker process", "Celery worker processes")
    print(
        f"Campaign {campaign}: {args.domains:,} domains in {len(sizes):,} shards of "
        f"{args.shard_size:,},\non {workers} (run {run}, broker {args.redis_url})",
        flush=True,
    )
    logs = Path(tempfile.mkdtemp(prefix="phasekit-celery-"))
    cluster = Cluster(args.redis_url, run, args.workers, logs)
    status, last_line = 1, ""
    left: list[int] = []
    try:
        cluster.start()
        if args.kill_worker:
            client.set(key(run, "kill"), 1)
        for shard, size in enumerate(sizes):
            process_shard_task.apply_async(
                args=(str(campaign), shard, shard * args.shard_size, size)
            )
        tally, seconds = aggregate(
            client,
            run,
            progress,
            sizes,
            cluster,
            kill_worker=args.kill_worker,
            timeout_s=args.timeout,
        )
        status, last_line = summarize(
            client, run, progress, sizes, tally, seconds, kill_worker=args.kill_worker
        )
    except CampaignFailed as exc:
        print(f"celery_campaign: {exc}\n{cluster.log_tails()}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ncelery_campaign: interrupted; stopping the workers", file=sys.stderr)
        status = 130
    finally:
        left = cluster.stop()
        for name in client.scan_iter(match=key(run, "*"), count=1000):
            client.delete(name)
        client.close()
        shutil.rmtree(logs, ignore_errors=True)
    if left:
        print(f"celery_campaign: worker processes still running: {left}", file=sys.stderr)
        status = 1
    else:
        print(f"workers stopped: {workers} and their pool processes, none left running")
    if last_line:
        print(last_line)
    return status


def plural(count: int, noun: str, nouns: str = "") -> str:
    """``1 shard``, ``2 shards``: a count and its noun."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def summarize(
    client: redis.Redis,
    run: str,
    progress: CampaignProgress,
    sizes: Sequence[int],
    tally: Tally,
    seconds: float,
    *,
    kill_worker: bool,
) -> tuple[int, str]:
    """Print the figures; return 0 if they add up (else 1) and the summing-up lines."""
    attempts = {
        int(shard): int(count) for shard, count in client.hgetall(key(run, "attempts")).items()
    }
    flagged = len(client.smembers(key(run, "redelivered")))
    redone = sorted(shard for shard, count in attempts.items() if count > 1)
    more = " " * 15  # a figure's second line, under its first
    print(
        f"merged:        {progress.processed:,} processed ({progress.successful:,} successful, "
        f"{progress.failed:,} failed)\n{more}{progress.shards_done:,} of {progress.shards:,} "
        "shards complete"
    )
    print(
        f"naive sum:     {tally.naive:,} processed ({tally.naive - progress.total:+,}): adding up "
        f"what every task attempt\n{more}reported, as a per-task progress counter does, counts "
        "a redone shard's domains again"
    )
    if tally.killed is not None:
        pid, shard, done = tally.killed
        print(
            f"killed:        pid {pid} (SIGKILL), the pool process running shard {shard:,},\n"
            f"{more}which had reported {done:,} of its {sizes[shard]:,} domains"
        )
    runs = ", ".join(f"shard {shard:,}: {attempts[shard]:,} runs" for shard in redone[:5])
    print(
        f"redelivered:   {plural(len(redone), 'shard')} ran again ({runs or 'none'});\n{more}the "
        f"broker flagged {plural(flagged, 'delivery', 'deliveries')} as redelivered"
    )
    batches = sum(-(-size // LEGACY_BATCH) for size in sizes)
    most = max(tally.reports_per_shard.values(), default=0)
    span = tally.last_frame_at - tally.first_frame_at
    allowed = 2 + int(span * 1000) // CLIENT_INTERVAL_MS
    print(
        f"broker writes: {tally.reports:,} shard reports for {len(sizes):,} shards (at most "
        f"{most:,} for one shard:\n{more}one per {REPORT_EVERY_S * 1000:.0f} ms and a final "
        f"one); one per batch of {LEGACY_BATCH:,} domains would be {batches:,}"
    )
    print(
        f"client frames: {tally.frames:,} over {span:.1f} s from the first to the last (a "
        f"{CLIENT_INTERVAL_MS} ms throttle\n{more}allows at most {allowed:,}); one per batch "
        f"would be {batches:,}"
    )
    print(f"aggregation:   {seconds:.1f} s, from sending the shards to the last report")
    exact = progress.processed == progress.total and progress.complete
    monotone = tally.never_decreased and tally.frames_never_decreased
    killed = tally.killed is not None
    last_line = (
        f"processed {progress.processed:,} of {progress.total:,} domains "
        f"{'exactly' if exact else 'NOT EXACTLY'}; "
        f"progress {'never decreased' if monotone else 'DECREASED'}; "
        f"{tally.frames:,} frames to clients; {tally.reports:,} shard reports; "
        f"worker killed: {'yes' if killed else 'no'}, {len(redone):,} shards redelivered"
    )
    ok = exact and monotone and (killed or not kill_worker)
    if not ok:
        print("celery_campaign: the figures do not add up", file=sys.stderr)
    return (0 if ok else 1), last_line


if __name__ == "__main__":
    sys.exit(main())
