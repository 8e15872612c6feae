"""What every run shares: the errors, the reports, the settings and the base class of a run."""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Sequence
from typing import Final

import attrs

from phasekit.errors import PhasekitError
from phasekit.legacy import LegacyMapping, MappingReport
from phasekit.sql import MigrationScript, MigrationStep
from phasekit.sql._script import TableNames, script_target

#: How long a run waits for another runner (PostgreSQL: its advisory lock) or another
#: writer (SQLite: its write lock, the busy timeout) before it gives up.
_LOCK_WAIT_SECONDS: Final = 30.0


class MissingDriver(PhasekitError):
    """psycopg is not installed: PostgreSQL needs ``pip install 'phasekit[postgres]'``."""


class DatabaseError(PhasekitError):
    """The database refused a statement (the message is the database's, in one line)."""


class VerifyFailed(PhasekitError):
    """Verify counted rows whose phase columns are unmapped or disagree with the mapping."""

    def __init__(self, count: int, table: str) -> None:
        self.count = count
        super().__init__(
            f"verify: {count:,} row(s) of {table} are unmapped or disagree with the mapping; "
            "fix or map them (phasekit mapping, --mapping plan), then run phasekit migrate "
            "again"
        )


@attrs.frozen
class Progress:
    """How far a keyset walk is: rows done of rows to do, and the time so far."""

    step: str
    done: int
    total: int
    seconds: float


@attrs.frozen
class Retrying:
    """A step hit ``lock_timeout``: another transaction held the table; it runs again."""

    step: str
    attempt: int
    wait_seconds: float
    cancelled_autovacuum: int = 0


@attrs.frozen
class StepDone:
    """One step the runner finished (or found finished), with its time."""

    step: str
    seconds: float
    skipped: bool = False
    detail: str = ""


@attrs.frozen
class MigrationStatus:
    """Where a table's migration is: the last step recorded and the backfill checkpoint."""

    table: str
    step: str
    backfill_next_id: object
    backfill_end_id: object
    backfill_rows: int

    def summary(self) -> str:
        """Return the status as the lines ``phasekit migrate status`` prints."""
        if self.step == "none":
            return f"{self.table}: not migrated\n"
        lines = [f"{self.table}: last step done: {self.step}"]
        if self.backfill_next_id is None:
            lines.append(f"backfill: complete, {self.backfill_rows:,} rows mapped")
        else:
            lines.append(
                f"backfill: {self.backfill_rows:,} rows mapped; next id {self.backfill_next_id}, "
                f"last id {self.backfill_end_id}"
            )
        return "\n".join(lines) + "\n"


Report = Callable[[object], None]


def _ignore(_: object) -> None:
    return None


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


Rows = list[tuple[object, ...]]


@attrs.frozen
class _RunSettings:
    """What a run is given: how to generate its script for a batch size, its mapping and
    batch size, the pause, the report, the time a batch should take (None: every batch
    has ``batch_size`` rows) and how many sessions walk the backfill's lanes at once."""

    script_for: Callable[[int], MigrationScript]
    mapping: LegacyMapping
    batch_size: int
    pause_ms: int
    report: Report
    batch_time_ms: int | None
    walkers: int = 1


class _Run(abc.ABC):
    """One run of a script on a database: the order of the steps, what to skip, verify.

    What differs per database (how a statement runs, how a step's transaction and a
    keyset walk run, where the state is read) is the subclasses'.
    """

    def __init__(self, settings: _RunSettings) -> None:
        self.script_for = settings.script_for
        self.script = settings.script_for(settings.batch_size)
        self.mapping = settings.mapping
        self.batch_size = settings.batch_size
        self.names: TableNames = script_target(self.script.dialect, self.script.table).names
        self.pause = settings.pause_ms / 1000
        self.report = settings.report
        self.batch_time = None if settings.batch_time_ms is None else settings.batch_time_ms / 1000
        self.walkers = settings.walkers

    @abc.abstractmethod
    def _query(self, sql: str, parameters: Sequence[object] = ()) -> Rows:
        """Run one statement outside a step; return its rows."""

    @abc.abstractmethod
    def _recorded(self) -> str | None:
        """Return the last step the state table records, None without one."""

    @abc.abstractmethod
    def _contracted(self) -> bool:
        """Return whether contract ran: the legacy columns are gone."""

    @abc.abstractmethod
    def _run_step(self, step: MigrationStep) -> list[Rows]:
        """Run ``step``; return what its queries returned."""

    def _migrate(self, wanted: Sequence[str]) -> None:
        order = [step.name for step in self.script.steps]
        recorded = self._recorded()
        if recorded is not None and recorded not in order:
            raise DatabaseError(
                f"a rollback of {self.script.table} is under way (its last step done: "
                f"{recorded}): run phasekit rollback to finish it before migrating again"
            )
        for step in self.script.steps:
            if _family(step.name) not in wanted:
                break
            recorded = self._recorded()
            rank = -1 if recorded is None else order.index(recorded)
            if step.name == "preflight":
                if rank >= order.index("backfill"):
                    continue
                self._preflight(step)
                continue
            if rank >= order.index(step.name) or self._contracted():
                self.report(StepDone(step.name, 0.0, skipped=True))
                continue
            started = time.monotonic()
            if step.name == "verify":
                count = int(str(self._run_step(step)[-1][0][0]))
                if count:
                    raise VerifyFailed(count, self.script.table)
                self.report(StepDone(step.name, time.monotonic() - started, detail="0 rows"))
                continue
            self._run_step(step)
            self.report(StepDone(step.name, time.monotonic() - started))

    def _preflight(self, step: MigrationStep) -> None:
        started = time.monotonic()
        results = [self._query(statement) for statement in step.statements]
        self.report(_preflight_report(results, self.mapping))
        self.report(StepDone(step.name, time.monotonic() - started))

    def _batch_rows(self, walk: str, rowcount: int, size: int) -> int:
        # The backfill reports rows updated; the copies report their checkpoint's update.
        return rowcount if walk == "backfill" else size

    def _remaining(self, walk: str) -> int:
        prefix = {"backfill": "backfill", "contract_backup": "backup", "restore": "restore"}[walk]
        state, table = self.names.state, self.names.table
        rows = self._query(
            f"SELECT COUNT(*) FROM {table} WHERE id >= (SELECT {prefix}_next_id FROM {state}) "
            f"AND id <= (SELECT {prefix}_end_id FROM {state})"
        )
        return int(str(rows[0][0]))

    def _report_batch(
        self, walk: str, progress: tuple[int, int, float], rows: int, size: int | None = None
    ) -> int:
        """Report one more batch of ``walk``, of ``size`` rows at most; return the rows done
        so far."""
        done, total, started = progress
        done = min(total, done + self._batch_rows(walk, rows, size or self.batch_size))
        self.report(Progress(walk, done, total, time.monotonic() - started))
        return done


#: The smallest batch a timed walk shrinks to: below it, a batch's fixed cost (planning,
#: the checkpoint, the commit) outweighs its rows.
SMALLEST_TIMED_BATCH: Final = 100


def next_batch_size(size: int, seconds: float, *, target: float, largest: int) -> int:
    """Return the size of the next keyset batch, for it to take about ``target`` seconds.

    The rule of pt-online-schema-change's ``--chunk-time``: scale the batch by how far the
    last one, of ``size`` rows in ``seconds``, was from the target. It at most doubles,
    since one quick batch (rows already mapped, pages in cache) says little of the next,
    and it stays between :data:`SMALLEST_TIMED_BATCH` (or ``largest``, if smaller) and
    ``largest``, the batch size asked for.

    >>> next_batch_size(1_000, 0.5, target=0.1, largest=10_000)
    200
    >>> next_batch_size(1_000, 0.01, target=0.1, largest=10_000)
    2000
    >>> next_batch_size(8_000, 0.01, target=0.1, largest=10_000)
    10000
    >>> next_batch_size(150, 9.0, target=0.1, largest=10_000)
    100
    """
    # Quick enough to double (and no division by a zero or tiny time).
    scaled = size * 2 if seconds * 2 <= target else int(size * target / seconds)
    return max(min(SMALLEST_TIMED_BATCH, largest), min(largest, size * 2, scaled))


#: The steps that ``--to`` names by another step's name.
_FAMILIES: Final = {
    "not_null_checks": "validate",
    "set_not_null": "validate",
    "vacuum": "index",
    "contract_backup_start": "contract",
    "contract_backup": "contract",
    "contract_drop_indexes": "contract",
}


def _family(step: str) -> str:
    """Return the ``--to`` name of ``step``: validate and contract stand for several."""
    return _FAMILIES.get(step, step)


def _preflight_report(results: Sequence[Rows], mapping: LegacyMapping) -> MappingReport:
    """Return the report of the preflight's three queries' rows."""
    types, statuses, nulls = results
    return MappingReport.from_counts(
        [(str(value), int(str(count))) for value, count in types],
        [(str(value), int(str(count))) for value, count in statuses],
        null_progress=int(str(nulls[0][0])),
        mapping=mapping,
    )
