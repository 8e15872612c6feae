"""``phasekit migrate``, ``migrate status`` and ``rollback`` on real SQLite files.

The first tests drive the command line's ``main`` in process, as an operator would, and
read the file back. Then the online model, as on PostgreSQL (tests/test_online_migration.py):
two writer threads on their own connections play the two application versions, the old
one writing the legacy columns, the new one the phase columns, each logging every write in
a control table in the same transaction, so that afterwards every row can be checked
against its last write; rollbacks from every point; the runner killed at random points of
the backfill and run again; and a Hypothesis model of both versions' writes.
"""

from __future__ import annotations

import contextlib
import math
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from phasekit import (
    DEFAULT_MAPPING,
    PLAN_MAPPING,
    LegacyMapping,
    Phase,
    PhaseState,
    PhaseStatus,
    map_legacy,
    migration_sql,
    rollback_sql,
    runner,
    to_legacy,
)
from phasekit.cli import main
from phasekit.legacy import LEGACY_CAMPAIGN_TYPES, LEGACY_STATUSES
from phasekit.runner._run import SMALLEST_TIMED_BATCH, next_batch_size
from tests import sql_runner
from tests import strategies as st
from tests.online_writes import (
    WRITE_COLUMNS,
    Interrupted,
    Legacy,
    Phases,
    assert_legacy,
    assert_phases,
    interrupt,
    kill,
    log_statement,
    phase_of,
    reporter,
    run_cli,
    run_to_the_end,
)

ROWS = 60
TYPES = tuple(
    value for value in LEGACY_CAMPAIGN_TYPES if DEFAULT_MAPPING.target("campaign_type", value)
)
STATUSES = tuple(value for value in LEGACY_STATUSES if DEFAULT_MAPPING.target("status", value))
LegacyRow = tuple[int, str, str, float | None]


def create_database(
    path: Path, count: int = ROWS, seed: int = 5, journal_mode: str = "delete"
) -> list[LegacyRow]:
    """Create a legacy ``campaigns`` table of ``count`` rows in a new SQLite file, with an
    index on legacy columns (which contract must drop) and the writers' control table.

    ``journal_mode="wal"`` (kept by the file) lets readers and a writer work at once, as
    an application with concurrent writers would set it.
    """
    generator = random.Random(seed)
    rows: list[LegacyRow] = [
        (
            index,
            generator.choice(TYPES),
            generator.choice(STATUSES),
            None if index % 7 == 0 else float(generator.randrange(101)),
        )
        for index in range(1, count + 1)
    ]
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(f"PRAGMA journal_mode = {journal_mode}")
        connection.execute(
            "CREATE TABLE campaigns (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "campaign_type TEXT NOT NULL, status TEXT NOT NULL, progress_percentage REAL "
            "CHECK (progress_percentage BETWEEN 0 AND 100))"
        )
        connection.execute("CREATE INDEX campaigns_legacy_idx ON campaigns (campaign_type, status)")
        connection.execute(
            "CREATE TABLE campaigns_writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "id INTEGER NOT NULL, version TEXT NOT NULL, campaign_type TEXT, status TEXT, "
            "progress_percentage REAL, current_phase TEXT, phase_status TEXT, progress REAL)"
        )
        connection.executemany("INSERT INTO campaigns VALUES (?, 'campaign', ?, ?, ?)", rows)
    return rows


def query(path: Path, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
        return connection.execute(sql, parameters).fetchall()


def columns(path: Path) -> list[str]:
    return [str(row[1]) for row in query(path, "PRAGMA table_info(campaigns)")]


def leftovers(path: Path) -> list[tuple[Any, ...]]:
    """Return what the migration made that is still in the file: triggers, tables, indexes."""
    return query(
        path, "SELECT type, name FROM sqlite_master WHERE name LIKE '%phasekit%' ORDER BY name"
    )


@attrs.frozen
class LegacyFile:
    """A SQLite file with a legacy table (see :func:`create_database`), and its DSN."""

    path: Path
    rows: list[LegacyRow]

    @property
    def dsn(self) -> str:
        return f"sqlite:///{self.path}"


@pytest.fixture
def legacy_file(tmp_path: Path) -> LegacyFile:
    path = tmp_path / "campaigns.db"
    return LegacyFile(path, create_database(path))


def command(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    out, err = capsys.readouterr()
    return status, out, err


def progress_bar(err: str, walk: str, rows: int) -> None:
    """Assert that ``err`` is one progress bar line of ``walk``, ending at ``rows`` rows."""
    assert err.startswith(f"\r{walk}: "), err
    assert err.count("\n") == 1, err
    assert err.endswith(f"\r{walk}: {rows:,} of {rows:,} rows, " + err.rsplit(" rows, ", 1)[1])


def test_migrate_contract_and_rollback_restore_every_legacy_row(
    legacy_file: LegacyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path, legacy, dsn = legacy_file.path, legacy_file.rows, legacy_file.dsn
    assert command(capsys, "migrate", "status", "--dsn", dsn) == (
        0,
        "campaigns: not migrated\n",
        "",
    )

    status, out, err = command(capsys, "migrate", "--dsn", dsn, "--batch-size", "25")
    assert status == 0
    progress_bar(err, "backfill", ROWS)
    # Three batches of 25 rows, each reported: the bar is rewritten in place.
    assert err.count("\rbackfill: ") == math.ceil(ROWS / 25)
    assert out.startswith(f"{ROWS} rows; ")
    assert "unknown values (migration would fail on these rows): none" in out
    # SQLite has neither validate nor index: the default --to index stops after verify.
    steps = [line.split(":")[0] for line in out.splitlines() if " done in " in line]
    assert steps == ["preflight", "expand", "backfill", "verify"]
    phases = query(path, "SELECT id, current_phase, phase_status, progress FROM campaigns")
    expected = [
        (row_id, state.phase.value, state.status.value, state.progress)
        for row_id, *values in legacy
        for state in [map_legacy(*values)]  # type: ignore[arg-type]
    ]
    assert phases == expected
    assert command(capsys, "migrate", "status", "--dsn", dsn) == (
        0,
        f"campaigns: last step done: backfill\nbackfill: complete, {ROWS} rows mapped\n",
        "",
    )

    status, out, err = command(capsys, "migrate", "--dsn", dsn, "--to", "contract")
    assert (status, err) == (0, "")
    assert "expand: done before, skipped" in out
    assert "contract_drop_indexes: done in" in out
    assert "contract: done in" in out
    assert columns(path) == ["id", "name", "current_phase", "phase_status", "progress"]
    # The legacy index went with contract (SQLite cannot drop an indexed column); the
    # backup and the state table stay, for a rollback.
    assert leftovers(path) == [
        ("table", "campaigns_phasekit_backup"),
        ("index", "campaigns_phasekit_backup_id"),
        ("table", "campaigns_phasekit_state"),
    ]
    assert query(path, "SELECT name FROM sqlite_master WHERE type = 'index'") == [
        ("campaigns_phasekit_backup_id",)
    ]
    assert command(capsys, "migrate", "status", "--dsn", dsn)[1].startswith(
        "campaigns: last step done: contract\n"
    )
    status, out, _ = command(capsys, "migrate", "--dsn", dsn, "--to", "contract")
    assert status == 0
    assert out == "".join(
        f"{step}: done before, skipped\n"
        for step in ("expand", "backfill", "verify", "contract_drop_indexes", "contract")
    )

    status, out, err = command(capsys, "rollback", "--dsn", dsn, "--batch-size", "7")
    assert status == 0
    progress_bar(err, "restore", ROWS)
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "restore_columns",
        "restore",
        "drop_phase_indexes",
        "drop_phase_columns",
    ]
    assert columns(path) == ["id", "name", "campaign_type", "status", "progress_percentage"]
    restored = query(
        path, "SELECT id, campaign_type, status, progress_percentage FROM campaigns ORDER BY id"
    )
    assert restored == legacy
    assert leftovers(path) == []
    assert command(capsys, "rollback", "--dsn", dsn) == (0, "rollback: nothing to undo\n", "")
    assert command(capsys, "migrate", "status", "--dsn", dsn)[1] == "campaigns: not migrated\n"


def test_a_rollback_before_contract_keeps_the_writes_made_since_expand(
    legacy_file: LegacyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path, legacy, dsn = legacy_file.path, legacy_file.rows, legacy_file.dsn
    assert command(capsys, "migrate", "--dsn", dsn, "--to", "backfill")[0] == 0
    # The old application goes on writing its columns after the backfill.
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE campaigns SET status = 'archived' WHERE id = 2")
    assert query(path, "SELECT phase_status FROM campaigns WHERE id = 2") == [("completed",)]
    status, out, _ = command(capsys, "rollback", "--dsn", dsn)
    assert status == 0
    assert [line.split(" in ")[0] for line in out.splitlines()] == [
        "restore_columns: nothing to do",
        "restore: nothing to do",
        "drop_phase_indexes: done",
        "drop_phase_columns: done",
    ]
    restored = query(
        path, "SELECT id, campaign_type, status, progress_percentage FROM campaigns ORDER BY id"
    )
    assert restored == [
        (row_id, kind, "archived" if row_id == 2 else value, progress)
        for row_id, kind, value, progress in legacy
    ]
    assert columns(path) == ["id", "name", "campaign_type", "status", "progress_percentage"]
    # The legacy index was never touched; nothing of the migration is left.
    assert query(path, "SELECT name FROM sqlite_master WHERE type = 'index'") == [
        ("campaigns_legacy_idx",)
    ]
    assert leftovers(path) == []


def test_verify_not_zero_stops_before_contract_with_exit_status_3(
    legacy_file: LegacyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = legacy_file.path
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE campaigns SET status = 'zombie' WHERE id IN (3, 4)")
    dsn = f"sqlite:///{path}"
    status, out, err = command(capsys, "migrate", "--dsn", dsn, "--to", "contract")
    assert status == 3
    assert err.splitlines()[-1] + "\n" == (
        "phasekit migrate: verify: 2 row(s) of campaigns are unmapped or disagree with the "
        "mapping; fix or map them (phasekit mapping, --mapping plan), then run phasekit "
        "migrate again\n"
    )
    assert "unknown values (migration would fail on these rows): 2 rows" in out
    assert "contract" not in out
    assert "campaign_type" in columns(path)
    assert command(capsys, "migrate", "status", "--dsn", dsn)[1] == (
        f"campaigns: last step done: backfill\nbackfill: complete, {ROWS} rows mapped\n"
    )
    # The operator fixes the rows (the triggers map them), and the same command goes on.
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("UPDATE campaigns SET status = 'paused' WHERE id IN (3, 4)")
    status, out, err = command(capsys, "migrate", "--dsn", dsn, "--to", "contract")
    assert (status, err) == (0, "")
    assert "verify: done in" in out
    assert "(0 rows)" in out
    assert "contract: done in" in out


def test_a_missing_file_or_table_is_one_line_with_status_1_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    for arguments in (["migrate"], ["migrate", "status"], ["rollback"]):
        status, out, err = command(capsys, *arguments, "--dsn", f"sqlite:///{missing}")
        prog = "phasekit " + arguments[0]
        assert (status, out) == (1, "")
        assert err == (
            f"{prog}: database error: cannot open the SQLite database {missing}: "
            "unable to open database file\n"
        )
        assert not missing.exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    for arguments in (["migrate"], ["migrate", "status"], ["rollback"]):
        status, out, err = command(capsys, *arguments, "--dsn", f"sqlite:///{empty}")
        prog = "phasekit " + arguments[0]
        assert (status, out, err) == (
            1,
            "",
            f"{prog}: database error: no table campaigns in this SQLite database\n",
        )
    assert query(empty, "SELECT name FROM sqlite_master") == []


def test_index_columns_are_refused_for_sqlite_which_builds_no_phase_index(
    legacy_file: LegacyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = legacy_file.path
    status, out, err = command(
        capsys, "migrate", "--dsn", f"sqlite:///{path}", "--index-columns", "created_at"
    )
    assert (status, out) == (2, "")
    assert err == (
        "phasekit migrate: error: --index-columns is only for PostgreSQL: the SQLite migration "
        "builds no phase index (create it with your schema tool); got ('created_at',) (see "
        "phasekit migrate --help)\n"
    )
    assert "current_phase" not in columns(path)


@pytest.mark.parametrize("command_name", ["migrate", "rollback"])
def test_batch_time_is_refused_for_sqlite_whose_batches_are_of_batch_size_rows(
    legacy_file: LegacyFile, capsys: pytest.CaptureFixture[str], command_name: str
) -> None:
    path = legacy_file.path
    status, out, err = command(
        capsys, command_name, "--dsn", f"sqlite:///{path}", "--batch-time-ms", "100"
    )
    assert (status, out) == (2, "")
    assert err == (
        f"phasekit {command_name}: error: --batch-time-ms is only for PostgreSQL: SQLite "
        "batches are of the batch size (a smaller one shortens them); got 100 (see phasekit "
        f"{command_name} --help)\n"
    )
    assert "current_phase" not in columns(path)


def test_walkers_are_refused_for_sqlite_which_has_one_writer(
    legacy_file: LegacyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = legacy_file.path
    status, out, err = command(capsys, "migrate", "--dsn", f"sqlite:///{path}", "--walkers", "2")
    assert (status, out) == (2, "")
    assert err == (
        "phasekit migrate: error: --walkers above 1 is only for PostgreSQL: SQLite has one "
        "writer at a time; got 2 (see phasekit migrate --help)\n"
    )
    assert "current_phase" not in columns(path)


@given(
    size=hs.integers(1, 100_000),
    seconds=hs.floats(0, 1_000, allow_nan=False),
    target=hs.floats(0.001, 60, allow_nan=False),
    largest=hs.integers(1, 100_000),
)
def test_a_timed_batch_stays_within_bounds_and_at_most_doubles(
    size: int, seconds: float, target: float, largest: int
) -> None:
    resized = next_batch_size(size, seconds, target=target, largest=largest)
    assert min(SMALLEST_TIMED_BATCH, largest) <= resized <= largest
    assert resized <= max(size * 2, SMALLEST_TIMED_BATCH)
    # A slower batch never makes the next one larger.
    slower = next_batch_size(size, seconds * 2 + 1, target=target, largest=largest)
    assert slower <= resized


# ---------------------------------------------------------------- interrupted and resumed


def test_an_interrupted_backfill_resumes_at_its_checkpoint_and_maps_each_row_once(
    legacy_file: LegacyFile,
) -> None:
    path, dsn = legacy_file.path, legacy_file.dsn
    with pytest.raises(Interrupted):
        runner.migrate(dsn, batch_size=8, report=reporter({"progress:backfill:3": interrupt}))
    stopped = runner.migration_status(dsn)
    assert (stopped.step, stopped.backfill_next_id, stopped.backfill_rows) == ("expand", 25, 24)
    assert query(path, "SELECT COUNT(*) FROM campaigns WHERE current_phase IS NULL") == [
        (ROWS - 24,)
    ]
    events: list[object] = []
    runner.migrate(dsn, batch_size=8, report=events.append)
    done = [event for event in events if isinstance(event, runner.StepDone)]
    # The preflight runs again until the backfill is done, as on PostgreSQL.
    assert [(event.step, event.skipped) for event in done] == [
        ("preflight", False),
        ("expand", True),
        ("backfill", False),
        ("verify", False),
    ]
    # The walk went on from id 25: 36 rows in 5 batches, the last of 4.
    walked = [(event.done, event.total) for event in events if isinstance(event, runner.Progress)]
    assert walked == [(8, 36), (16, 36), (24, 36), (32, 36), (36, 36)]
    assert runner.migration_status(dsn).backfill_rows == ROWS


def test_a_rollback_interrupted_in_its_restore_walk_blocks_migrate_and_resumes(
    legacy_file: LegacyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path, legacy, dsn = legacy_file.path, legacy_file.rows, legacy_file.dsn
    runner.migrate(dsn, to="contract")
    with pytest.raises(Interrupted):
        runner.rollback(dsn, batch_size=10, report=reporter({"progress:restore:2": interrupt}))
    assert query(path, "SELECT COUNT(*) FROM campaigns WHERE campaign_type IS NULL") == [
        (ROWS - 20,)
    ]
    status, out, err = command(capsys, "migrate", "--dsn", dsn)
    assert (status, out) == (1, "")
    assert err == (
        "phasekit migrate: database error: a rollback of campaigns is under way (its last "
        "step done: restore_columns): run phasekit rollback to finish it before migrating "
        "again\n"
    )
    status, out, _ = command(capsys, "rollback", "--dsn", dsn, "--batch-size", "10")
    assert status == 0
    assert out.startswith("restore_columns: nothing to do\nrestore: done in ")
    restored = query(
        path, "SELECT id, campaign_type, status, progress_percentage FROM campaigns ORDER BY id"
    )
    assert restored == legacy
    assert leftovers(path) == []


@pytest.mark.parametrize("mapping", [DEFAULT_MAPPING, PLAN_MAPPING], ids=["default", "plan"])
def test_the_new_versions_writes_to_rows_the_rollback_has_not_restored_yet_go_through(
    legacy_file: LegacyFile, mapping: LegacyMapping
) -> None:
    path, initial, dsn = legacy_file.path, legacy_file.rows, legacy_file.dsn
    runner.migrate(dsn, batch_size=10, mapping=mapping, to="contract")
    last = ROWS  # past the first restore batch: still without legacy values when written
    expected: dict[int, tuple[Any, ...]] = {}

    def new_version_writes() -> None:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as writer, writer:
            unrestored = "SELECT campaign_type FROM campaigns WHERE id = ?"
            assert writer.execute(unrestored, (last,)).fetchone() == (None,)
            # A write that leaves the phase alone: the row is restored from the backup.
            writer.execute("UPDATE campaigns SET name = 'renamed' WHERE id = ?", (last,))
            expected[last] = initial[last - 1][1:]
            # A write of the fallback's own values, and an insert with the phases only:
            # the legacy columns follow to_legacy.
            writer.execute(
                "UPDATE campaigns SET current_phase = 'domain_generation', "
                "phase_status = 'pending', progress = 0 WHERE id = ?",
                (last - 1,),
            )
            expected[last - 1] = ("domain_generation", "pending", 0.0)
            inserted = writer.execute(
                "INSERT INTO campaigns (name, current_phase, phase_status, progress) "
                "VALUES ('inserted', 'domain_generation', 'pending', 0) RETURNING id"
            ).fetchone()
            assert inserted is not None
            # (An insert's progress of 0 keeps the legacy NULL, as before contract.)
            expected[inserted[0]] = ("domain_generation", "pending", None)

    runner.rollback(
        dsn,
        batch_size=10,
        mapping=mapping,
        report=reporter({"progress:restore:1": new_version_writes}),
    )
    assert len(expected) == 3
    for row_id, legacy in expected.items():
        row = query(
            path,
            "SELECT campaign_type, status, progress_percentage FROM campaigns WHERE id = ?",
            (row_id,),
        )
        assert row == [legacy], row_id
    assert query(path, "SELECT name FROM campaigns WHERE id = ?", (last,)) == [("renamed",)]
    assert leftovers(path) == []


def test_the_runner_waits_for_a_writers_lock_instead_of_failing(legacy_file: LegacyFile) -> None:
    path = legacy_file.path
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE campaigns SET status = 'failed' WHERE id = 1")
    release = threading.Timer(0.8, holder.execute, ("COMMIT",))
    started = time.monotonic()
    release.start()
    runner.migrate(f"sqlite:///{path}", to="expand")
    waited = time.monotonic() - started
    release.join()
    holder.close()
    assert waited >= 0.7
    assert runner.migration_status(f"sqlite:///{path}").step == "expand"
    # The writer's update committed first; the backfill will map it.
    assert query(path, "SELECT status FROM campaigns WHERE id = 1") == [("failed",)]


def test_a_phase_index_of_the_new_version_is_dropped_by_the_rollback(
    legacy_file: LegacyFile,
) -> None:
    path, legacy, dsn = legacy_file.path, legacy_file.rows, legacy_file.dsn
    runner.migrate(dsn, to="contract")
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(
            "CREATE INDEX campaigns_phase_idx ON campaigns (current_phase, phase_status)"
        )
    runner.rollback(dsn)
    assert query(path, "SELECT name FROM sqlite_master WHERE type = 'index'") == []
    restored = query(
        path, "SELECT id, campaign_type, status, progress_percentage FROM campaigns ORDER BY id"
    )
    assert restored == legacy


# ---------------------------------------------------------------- both versions writing

WRITER_ROWS = 1_500
WRITER_BATCH = 100
#: The pause between a writer's transactions: SQLite's lock has no queue, and a writer
#: that takes it again at once would starve the runner (and the other writer) for long.
WRITER_PAUSE = 0.001


class Writer(threading.Thread):
    """One application version writing the table until stopped, logging every write.

    Each write and its log row are one ``BEGIN IMMEDIATE`` transaction, so the log's
    order is the order the writes committed in. The old version writes the legacy
    columns; the new one the phase columns, and, while the legacy columns are there (NOT
    NULL, checked before the trigger runs), legacy values of its own, which the trigger
    replaces where they disagree with the phases written.
    """

    def __init__(
        self, path: Path, version: str, seed: int, *, recursive_triggers: bool = False
    ) -> None:
        super().__init__(daemon=True)
        self.path, self.version = path, version
        self.recursive_triggers = recursive_triggers
        self.generator = random.Random(seed)
        self.halt = threading.Event()
        self.errors: list[str] = []
        self.writes = 0

    def run(self) -> None:
        with contextlib.closing(
            sqlite3.connect(self.path, isolation_level=None, timeout=30)
        ) as connection:
            # A connection's setting: the triggers its writes fire may fire again.
            connection.execute(f"PRAGMA recursive_triggers = {int(self.recursive_triggers)}")
            connection.execute("PRAGMA synchronous = NORMAL")  # WAL: no fsync per commit
            while not self.halt.is_set():
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    try:
                        row = (
                            self._old(connection)
                            if self.version == "old"
                            else self._new(connection)
                        )
                        self._log(connection, row)
                    except BaseException:
                        connection.execute("ROLLBACK")
                        raise
                    connection.execute("COMMIT")
                    self.writes += 1
                except sqlite3.Error as error:
                    self.errors.append(" ".join(str(error).split()))
                time.sleep(WRITER_PAUSE)

    def stop(self, *, after: int = 0) -> None:
        """Stop once the writer has made ``after`` writes (at most a minute from now), so
        that each version surely wrote in its window, however slow the machine."""
        deadline = time.monotonic() + 60
        while self.is_alive() and self.writes < after and time.monotonic() < deadline:
            time.sleep(0.01)
        self.halt.set()
        self.join(timeout=60)

    def _log(self, connection: sqlite3.Connection, row: tuple[Any, ...]) -> None:
        connection.execute(log_statement(self.version, "?"), (row[0], self.version, *row[1:]))

    def _old(self, connection: sqlite3.Connection) -> tuple[Any, ...]:
        pick = self.generator
        progress = None if pick.random() < 0.2 else float(pick.randrange(101))
        if pick.random() < 0.2:
            cursor = connection.execute(
                "INSERT INTO campaigns (name, campaign_type, status, progress_percentage) "
                "VALUES ('old', ?, ?, ?) RETURNING id, campaign_type, status, progress_percentage",
                (pick.choice(TYPES), pick.choice(STATUSES), progress),
            )
        else:
            cursor = connection.execute(
                "UPDATE campaigns SET status = ?, progress_percentage = ? WHERE id = ? "
                "RETURNING id, campaign_type, status, progress_percentage",
                (pick.choice(STATUSES), progress, pick.randrange(1, WRITER_ROWS + 1)),
            )
        returned: tuple[Any, ...] = cursor.fetchone()
        return returned

    def _new(self, connection: sqlite3.Connection) -> tuple[Any, ...]:
        pick = self.generator
        state = (pick.choice(list(Phase)).value, pick.choice(list(PhaseStatus)).value)
        progress = float(pick.randrange(101))
        if pick.random() < 0.2:
            present = [row[1] for row in connection.execute("PRAGMA table_info(campaigns)")]
            legacy: tuple[Any, ...] = ()
            if "campaign_type" in present:
                legacy = (pick.choice(TYPES), pick.choice(STATUSES), None)
            given = ", campaign_type, status, progress_percentage" if legacy else ""
            cursor = connection.execute(
                f"INSERT INTO campaigns (name, current_phase, phase_status, progress{given}) "
                f"VALUES ('new', ?, ?, ?{', ?, ?, ?' if legacy else ''}) "
                "RETURNING id, current_phase, phase_status, progress",
                (*state, progress, *legacy),
            )
        else:
            cursor = connection.execute(
                "UPDATE campaigns SET current_phase = ?, phase_status = ?, progress = ? "
                "WHERE id = ? RETURNING id, current_phase, phase_status, progress",
                (*state, progress, pick.randrange(1, WRITER_ROWS + 1)),
            )
        returned: tuple[Any, ...] = cursor.fetchone()
        return returned


def last_writes(path: Path) -> dict[int, tuple[Any, ...]]:
    """Return each written row's last write: (version, legacy values, phase values)."""
    rows = query(
        path,
        f"SELECT {WRITE_COLUMNS} FROM campaigns_writes AS w "
        "WHERE seq = (SELECT MAX(seq) FROM campaigns_writes WHERE id = w.id)",
    )
    return {row[0]: row[1:] for row in rows}


def check_phases(path: Path, initial: list[LegacyRow]) -> None:
    """Every row's phase columns hold what its last write (or its legacy row) says."""
    rows = query(path, "SELECT id, current_phase, phase_status, progress FROM campaigns")
    assert_phases(rows, last_writes(path), {row[0]: row[1:] for row in initial})


def check_legacy(path: Path, initial: list[LegacyRow]) -> None:
    """Every row's legacy columns hold its last legacy write exactly, or map to its last
    phase write; a row nobody wrote holds its original values exactly."""
    rows = query(path, "SELECT id, campaign_type, status, progress_percentage FROM campaigns")
    assert_legacy(rows, last_writes(path), {row[0]: row[1:] for row in initial})


def test_migration_under_both_versions_loses_no_write(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.db"
    initial = create_database(path, WRITER_ROWS, journal_mode="wal")
    dsn = f"sqlite:///{path}"
    old, new = Writer(path, "old", 1), Writer(path, "new", 2)
    old.start()
    time.sleep(0.2)
    runner.migrate(
        dsn, batch_size=WRITER_BATCH, pause_ms=10, report=reporter({"backfill": new.start})
    )
    time.sleep(0.3)
    assert query(path, "SELECT COUNT(*) FROM campaigns WHERE current_phase IS NULL") == [(0,)]
    # The old version is gone by contract: stop it once contract may drop its columns.
    runner.migrate(
        dsn,
        batch_size=WRITER_BATCH,
        to="contract",
        report=reporter({"verify": lambda: old.stop(after=100)}),
    )
    time.sleep(0.3)
    new.stop(after=100)
    assert (old.errors, new.errors) == ([], [])
    assert old.writes >= 100
    assert new.writes >= 100
    assert "campaign_type" not in columns(path)
    check_phases(path, initial)
    status = runner.migration_status(dsn)
    assert (status.step, status.backfill_next_id) == ("contract", None)
    # Every row there at expand mapped once: each batch commits with its checkpoint.
    at_expand = query(
        path, "SELECT COUNT(*) FROM campaigns WHERE id <= ?", (status.backfill_end_id,)
    )
    assert at_expand == [(status.backfill_rows,)]


ROLLBACK_POINTS: dict[str, tuple[str, dict[str, Callable[[], None]], bool]] = {
    "expand": ("expand", {}, False),
    "backfill, interrupted": ("backfill", {"progress:backfill:3": interrupt}, False),
    "backfill": ("backfill", {}, False),
    "verify": ("verify", {}, False),
    "contract": ("contract", {}, False),
    "contract, rollback interrupted": ("contract", {}, True),
}


@pytest.mark.parametrize(
    ("point", "recursive_triggers"),
    [(point, False) for point in ROLLBACK_POINTS]
    # The writers' connections with PRAGMA recursive_triggers on: where most trigger
    # writes meet (the Hypothesis model below tries both settings everywhere).
    + [("backfill", True), ("contract, rollback interrupted", True)],
)
def test_rollback_from_any_point_loses_no_write(
    tmp_path: Path, point: str, recursive_triggers: bool
) -> None:
    path = tmp_path / "campaigns.db"
    initial = create_database(path, WRITER_ROWS, journal_mode="wal")
    dsn = f"sqlite:///{path}"
    to, crash, crash_rollback = ROLLBACK_POINTS[point]
    old, new, revived = (
        Writer(path, version, seed, recursive_triggers=recursive_triggers)
        for version, seed in (("old", 3), ("new", 4), ("old", 5))
    )
    old.start()
    time.sleep(0.2)
    contracted = to == "contract"
    actions: dict[str, Callable[[], None]] = {"backfill": new.start, **crash}
    if contracted:
        actions["verify"] = lambda: old.stop(after=20)
    with contextlib.suppress(Interrupted):
        runner.migrate(dsn, batch_size=WRITER_BATCH, pause_ms=10, to=to, report=reporter(actions))
    time.sleep(0.2)
    # The rollback: the new version writes until the phase columns go; the old version
    # comes back once the legacy columns are filled again.
    undo = {"drop_phase_indexes": lambda: new.stop(after=20) if new.is_alive() else None}
    if contracted:
        undo["restore"] = revived.start
    if crash_rollback:
        with pytest.raises(Interrupted):
            runner.rollback(
                dsn,
                batch_size=WRITER_BATCH,
                pause_ms=10,
                report=reporter({"progress:restore:4": interrupt}),
            )
        time.sleep(0.2)
    runner.rollback(dsn, batch_size=WRITER_BATCH, pause_ms=10, report=reporter(undo))
    time.sleep(0.2)
    for writer in (old, new, revived):
        if writer.is_alive():
            writer.stop(after=20)
    assert (old.errors, new.errors, revived.errors) == ([], [], [])
    # Each version wrote in its window: the new one from the end of the backfill to the
    # rollback's last step, the revived old one once the legacy columns were filled.
    assert old.writes >= 20
    assert (new.writes >= 20) is (to != "expand" and not crash)
    assert (revived.writes >= 20) is contracted
    assert columns(path) == ["id", "name", "campaign_type", "status", "progress_percentage"]
    check_legacy(path, initial)
    assert leftovers(path) == []


# ---------------------------------------------------------------- killed and run again

KILL_ROWS = 3_000


def backfill_rows(path: Path) -> int:
    """Return the rows the backfill has mapped so far (0 before expand)."""
    try:
        return int(query(path, "SELECT backfill_rows FROM campaigns_phasekit_state")[0][0])
    except sqlite3.OperationalError:
        return 0


def test_killed_at_random_points_of_the_backfill_the_rerun_equals_an_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = {name: tmp_path / f"{name}.db" for name in ("reference", "killed")}
    for path in paths.values():
        create_database(path, KILL_ROWS, seed=7)
    options = {
        name: ["--dsn", f"sqlite:///{path}", "--batch-size", "20"] for name, path in paths.items()
    }
    assert main(["migrate", *options["reference"]]) == 0
    capsys.readouterr()
    generator = random.Random(11)
    kills = 0
    # Kill points: random counts of rows mapped, some batches past the last, so that every
    # kill lands in the backfill however fast the machine runs it.
    for target in sorted(generator.sample(range(100, KILL_ROWS - 500, 100), 6)):
        process = run_cli("migrate", *options["killed"], "--pause-ms", "5")
        deadline = time.monotonic() + 60
        while (
            process.poll() is None
            and backfill_rows(paths["killed"]) < target
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)
        # In a batch's transaction or between two.
        time.sleep(generator.uniform(0, 0.01))
        kills += kill(process)
    assert kills >= 5
    assert 0 < backfill_rows(paths["killed"]) < KILL_ROWS
    run_to_the_end("migrate", *options["killed"])
    tables = {
        name: query(path, "SELECT * FROM campaigns ORDER BY id") for name, path in paths.items()
    }
    assert tables["killed"] == tables["reference"]
    states = {
        name: query(
            path, "SELECT step, backfill_next_id, backfill_rows FROM campaigns_phasekit_state"
        )
        for name, path in paths.items()
    }
    # Each batch and its checkpoint commit together: no row counted twice.
    assert states["killed"] == states["reference"] == [("backfill", None, KILL_ROWS)]
    assert query(paths["killed"], "PRAGMA integrity_check") == [("ok",)]


# ---------------------------------------------------------------- a model of both versions


def synced_legacy(legacy: Legacy, phases: Phases) -> Legacy:
    """What the triggers make of the legacy values when the new version writes ``phases``:
    each value kept where it maps to what was written, else ``to_legacy``'s."""
    kind, status, progress = legacy
    phase, phase_status, value = phases
    mapping = DEFAULT_MAPPING
    if kind is None or mapping.target("campaign_type", kind) != Phase(phase):
        kind = mapping.rollback_value("campaign_type", Phase(phase))
    if status is None or mapping.target("status", status) != PhaseStatus(phase_status):
        status = mapping.rollback_value("status", PhaseStatus(phase_status))
    if (0.0 if progress is None else progress) != value:
        progress = value
    return kind, status, progress


old_writes = hs.tuples(
    hs.sampled_from(["old_update", "old_insert"]), hs.integers(0, 99), st.legacy_rows()
)
new_states = hs.tuples(st.phases, st.statuses, st.progresses).map(
    lambda state: (state[0].value, state[1].value, float(state[2]))
)
new_writes = hs.tuples(
    hs.sampled_from(["new_update", "new_insert"]), hs.integers(0, 99), new_states, st.legacy_rows()
)


class Model:
    """The table as both versions' writes should leave it, and the same table in SQLite."""

    def __init__(self, rows: list[tuple[str, str, float | None]], recursive: bool) -> None:
        self.connection = sqlite3.connect(":memory:", isolation_level=None)
        self.connection.execute(f"PRAGMA recursive_triggers = {int(recursive)}")
        self.connection.execute(
            "CREATE TABLE campaigns (id INTEGER PRIMARY KEY, campaign_type TEXT NOT NULL, "
            "status TEXT NOT NULL, progress_percentage REAL)"
        )
        self.legacy: dict[int, Legacy] = {}
        self.phases: dict[int, Phases] = {}
        for row in rows:
            self.legacy[self._insert(("campaign_type", "status", "progress_percentage"), row)] = row
        self.contracted = False

    def _insert(self, names: tuple[str, ...], values: tuple[Any, ...]) -> int:
        marks = ", ".join("?" for _ in values)
        cursor = self.connection.execute(
            f"INSERT INTO campaigns ({', '.join(names)}) VALUES ({marks})", values
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def write(self, operation: tuple[Any, ...]) -> None:
        kind, pick, *values = operation
        ids = sorted(self.phases if self.contracted else self.legacy)
        identifier = ids[pick % len(ids)]
        legacy_names = ("campaign_type", "status", "progress_percentage")
        phase_names = ("current_phase", "phase_status", "progress")
        if kind == "old_update":
            sets = ", ".join(f"{name} = ?" for name in legacy_names)
            self.connection.execute(
                f"UPDATE campaigns SET {sets} WHERE id = ?", (*values[0], identifier)
            )
            self._old(identifier, values[0])
        elif kind == "old_insert":
            self._old(self._insert(legacy_names, values[0]), values[0])
        elif kind == "new_update":
            sets = ", ".join(f"{name} = ?" for name in phase_names)
            self.connection.execute(
                f"UPDATE campaigns SET {sets} WHERE id = ?", (*values[0], identifier)
            )
            self._new(identifier, values[0])
        elif self.contracted:
            self._new(self._insert(phase_names, values[0]), values[0])
        else:
            # Before contract the new version gives legacy values too (NOT NULL).
            inserted = self._insert((*phase_names, *legacy_names), (*values[0], *values[1]))
            self.legacy[inserted] = values[1]
            self._new(inserted, values[0])

    def _old(self, identifier: int, legacy: Legacy) -> None:
        self.legacy[identifier] = legacy
        self.phases[identifier] = phase_of(legacy)

    def _new(self, identifier: int, phases: Phases) -> None:
        self.phases[identifier] = phases
        if not self.contracted:
            self.legacy[identifier] = synced_legacy(self.legacy[identifier], phases)

    def rows(self, names: str) -> dict[int, tuple[Any, ...]]:
        return {
            row[0]: tuple(row[1:])
            for row in self.connection.execute(f"SELECT id, {names} FROM campaigns")
        }


@settings(max_examples=60, deadline=None)
@given(
    rows=hs.lists(st.legacy_rows(), min_size=1, max_size=10),
    before=hs.lists(old_writes, max_size=6),
    during=hs.lists(hs.one_of(old_writes, new_writes), max_size=12),
    after=hs.lists(new_writes, max_size=6),
    batch_size=hs.integers(1, 4),
    recursive=hs.booleans(),
    contract=hs.booleans(),
)
def test_both_versions_writes_match_a_model_through_migration_and_rollback(
    rows: list[tuple[str, str, float | None]],
    before: list[tuple[Any, ...]],
    during: list[tuple[Any, ...]],
    after: list[tuple[Any, ...]],
    batch_size: int,
    recursive: bool,
    contract: bool,
) -> None:
    model = Model(rows, recursive)
    script = migration_sql("sqlite", batch_size=batch_size)
    sql_runner.run(model.connection, script, "expand")
    # The old version writes while the backfill has not reached every row.
    for operation in before:
        model.write(operation)
    sql_runner.run(model.connection, script, "backfill")
    model.phases = {identifier: phase_of(legacy) for identifier, legacy in model.legacy.items()}
    for operation in during:
        model.write(operation)
    assert model.rows("campaign_type, status, progress_percentage") == model.legacy
    assert model.rows("current_phase, phase_status, progress") == model.phases
    assert sql_runner.run(model.connection, script, "verify")["verify"] == [[(0,)]]
    expected = dict(model.legacy)
    if contract:
        sql_runner.run(model.connection, script, "contract_drop_indexes", "contract")
        at_contract = dict(model.phases)
        model.contracted = True
        for operation in after:
            model.write(operation)
        assert model.rows("current_phase, phase_status, progress") == model.phases
        # Unchanged since contract: the backup's values; else to_legacy of the state now.
        expected = {
            identifier: model.legacy[identifier]
            if at_contract.get(identifier) == phases
            else to_legacy(PhaseState(*phases))
            for identifier, phases in model.phases.items()
        }
    sql_runner.run(
        model.connection, rollback_sql("sqlite", contracted=contract, batch_size=batch_size)
    )
    assert model.rows("campaign_type, status, progress_percentage") == expected
    assert (
        model.connection.execute(
            "SELECT name FROM sqlite_master WHERE name <> 'campaigns'"
        ).fetchall()
        == []
    )


def test_a_rollback_after_contract_without_the_backup_fails_in_one_line_and_keeps_the_phases(
    legacy_file: LegacyFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path, dsn = legacy_file.path, legacy_file.dsn
    runner.migrate(dsn, to="contract")
    phases = query(path, "SELECT id, current_phase, phase_status, progress FROM campaigns")
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DROP TABLE campaigns_phasekit_backup")
    status, out, err = command(capsys, "rollback", "--dsn", dsn)
    assert (status, out) == (1, "restore_columns: done in " + out.split(" in ", 1)[1])
    assert err == "phasekit rollback: database error: no such table: campaigns_phasekit_backup\n"
    # Nothing of the new version's is gone: the phase columns stay until a restore is done.
    assert query(path, "SELECT id, current_phase, phase_status, progress FROM campaigns") == phases
    assert runner.migration_status(dsn).step == "restore_columns"
