"""The online PostgreSQL migration on a real server, under live writes of both versions.

Two writer threads play the two application versions: the old one writes the legacy
columns (from before expand until contract, and again after a rollback), the new one the
phase columns (from the end of the backfill, through contract or until a rollback drops
them). Each write is logged, in the same transaction, in a control table with a sequence
number taken while the row is locked, so the last write of each row is known exactly.
Afterwards every row must hold what its last write says, whoever made it.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from phasekit import (
    DEFAULT_MAPPING,
    PLAN_MAPPING,
    LegacyMapping,
    Phase,
    PhaseStatus,
    migration_sql,
    runner,
)
from phasekit.cli import main
from phasekit.legacy import LEGACY_CAMPAIGN_TYPES, LEGACY_STATUSES
from phasekit.runner import _postgresql
from tests import sql_runner
from tests.online_writes import (
    WRITE_COLUMNS,
    Interrupted,
    Legacy,
    assert_legacy,
    assert_phases,
    interrupt,
    kill,
    log_statement,
    reporter,
    run_cli,
    run_to_the_end,
)

ROWS = 2_000
BATCH = 150
TYPES = tuple(
    value for value in LEGACY_CAMPAIGN_TYPES if DEFAULT_MAPPING.target("campaign_type", value)
)
STATUSES = tuple(value for value in LEGACY_STATUSES if DEFAULT_MAPPING.target("status", value))


@pytest.fixture(scope="module")
def dsn() -> str:
    return sql_runner.postgres_dsn()


@pytest.fixture
def connection(dsn: str) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    with psycopg.connect(dsn, autocommit=True) as opened:
        yield opened


def create_table(
    connection: psycopg.Connection[tuple[Any, ...]], table: str = "campaigns", seed: int = 0
) -> dict[int, Legacy]:
    """Create a legacy table of ``ROWS`` rows and the writers' control table."""
    for suffix in ("", "_phasekit_state", "_phasekit_lanes", "_phasekit_backup", "_writes"):
        connection.execute(f"DROP TABLE IF EXISTS {table}{suffix} CASCADE")
    connection.execute(
        f"CREATE TABLE {table} (id bigserial PRIMARY KEY, name text NOT NULL, "
        "campaign_type text NOT NULL, status text NOT NULL, progress_percentage double "
        "precision CHECK (progress_percentage BETWEEN 0 AND 100), created_at timestamptz "
        "NOT NULL DEFAULT '2026-01-01')"
    )
    connection.execute(f"CREATE INDEX {table}_legacy_idx ON {table} (campaign_type, status)")
    connection.execute(
        f"CREATE TABLE {table}_writes (seq bigserial PRIMARY KEY, id bigint NOT NULL, "
        "version text NOT NULL, campaign_type text, status text, progress_percentage double "
        "precision, current_phase text, phase_status text, progress double precision)"
    )
    generator = random.Random(seed)
    rows: dict[int, Legacy] = {}
    with connection.cursor() as cursor:
        values = []
        for index in range(1, ROWS + 1):
            progress = None if index % 5 == 0 else float(generator.randrange(101))
            row = (generator.choice(TYPES), generator.choice(STATUSES), progress)
            rows[index] = row
            values.append((f"campaign {index}", *row))
        cursor.executemany(
            f"INSERT INTO {table} (name, campaign_type, status, progress_percentage) "
            "VALUES (%s, %s, %s, %s)",
            values,
        )
    return rows


class Writer(threading.Thread):
    """One application version writing the table until stopped, logging every write."""

    def __init__(self, dsn: str, version: str, seed: int) -> None:
        super().__init__(daemon=True)
        self.dsn, self.version = dsn, version
        self.generator = random.Random(seed)
        self.halt = threading.Event()
        self.errors: list[str] = []
        self.writes = 0

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            while not self.halt.is_set():
                try:
                    with connection.transaction():
                        if self.version == "old":
                            self._old(connection)
                        else:
                            self._new(connection)
                    self.writes += 1
                except psycopg.Error as error:
                    self.errors.append(" ".join(str(error).split()))
                time.sleep(0.001)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)

    def _log(self, connection: psycopg.Connection[tuple[Any, ...]], row: tuple[Any, ...]) -> None:
        connection.execute(log_statement(self.version, "%s"), (row[0], self.version, *row[1:]))

    def _old(self, connection: psycopg.Connection[tuple[Any, ...]]) -> None:
        pick = self.generator
        progress = None if pick.random() < 0.2 else float(pick.randrange(101))
        if pick.random() < 0.2:
            returned = connection.execute(
                "INSERT INTO campaigns (name, campaign_type, status, progress_percentage) "
                "VALUES ('old', %s, %s, %s) "
                "RETURNING id, campaign_type, status, progress_percentage",
                (pick.choice(TYPES), pick.choice(STATUSES), progress),
            ).fetchone()
        else:
            returned = connection.execute(
                "UPDATE campaigns SET status = %s, progress_percentage = %s WHERE id = %s "
                "RETURNING id, campaign_type, status, progress_percentage",
                (pick.choice(STATUSES), progress, pick.randrange(1, ROWS + 1)),
            ).fetchone()
        assert returned is not None
        self._log(connection, returned)

    def _new(self, connection: psycopg.Connection[tuple[Any, ...]]) -> None:
        pick = self.generator
        state = (pick.choice(list(Phase)).value, pick.choice(list(PhaseStatus)).value)
        progress = float(pick.randrange(101))
        if pick.random() < 0.2:
            returned = connection.execute(
                "INSERT INTO campaigns (name, current_phase, phase_status, progress) "
                "VALUES ('new', %s, %s, %s) RETURNING id, current_phase, phase_status, progress",
                (*state, progress),
            ).fetchone()
        else:
            returned = connection.execute(
                "UPDATE campaigns SET current_phase = %s, phase_status = %s, progress = %s "
                "WHERE id = %s RETURNING id, current_phase, phase_status, progress",
                (*state, progress, pick.randrange(1, ROWS + 1)),
            ).fetchone()
        assert returned is not None
        self._log(connection, returned)


def last_writes(connection: psycopg.Connection[tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
    """Return each written row's last write: (version, legacy values, phase values)."""
    rows = connection.execute(
        f"SELECT DISTINCT ON (id) {WRITE_COLUMNS} FROM campaigns_writes ORDER BY id, seq DESC"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def check_phases(
    connection: psycopg.Connection[tuple[Any, ...]], initial: dict[int, Legacy]
) -> None:
    """Every row's phase columns hold what its last write (or its legacy row) says."""
    rows = connection.execute(
        "SELECT id, current_phase, phase_status, progress FROM campaigns ORDER BY id"
    ).fetchall()
    assert_phases(rows, last_writes(connection), initial)


def check_legacy(
    connection: psycopg.Connection[tuple[Any, ...]], initial: dict[int, Legacy]
) -> None:
    """Every row's legacy columns hold its last legacy write exactly, or map to its last
    phase write; a row nobody wrote holds its original values exactly."""
    rows = connection.execute(
        "SELECT id, campaign_type, status, progress_percentage FROM campaigns ORDER BY id"
    ).fetchall()
    assert_legacy(rows, last_writes(connection), initial)


def columns(connection: psycopg.Connection[tuple[Any, ...]]) -> dict[str, bool]:
    """Return the table's columns and whether each is nullable."""
    rows = connection.execute(
        "SELECT column_name, is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_name = 'campaigns' ORDER BY ordinal_position"
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("walkers", [1, 3])
def test_migration_under_both_versions_loses_no_write(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], walkers: int
) -> None:
    initial = create_table(connection)
    old, new = Writer(dsn, "old", 1), Writer(dsn, "new", 2)
    old.start()
    time.sleep(0.2)
    runner.migrate(
        dsn,
        batch_size=BATCH,
        index_columns=("created_at",),
        report=reporter({"backfill": new.start}),
        walkers=walkers,
    )
    assert columns(connection)["current_phase"] is False
    check_legacy_agrees = connection.execute(
        "SELECT COUNT(*) FROM campaigns WHERE campaign_type IS NULL OR status IS NULL"
    ).fetchone()
    assert check_legacy_agrees == (0,)
    # The old version is gone by contract: stop it once contract may drop its columns.
    runner.migrate(
        dsn, batch_size=BATCH, to="contract", report=reporter({"contract_drop_indexes": old.stop})
    )
    time.sleep(0.3)
    new.stop()
    assert (old.errors, new.errors) == ([], [])
    assert old.writes > 50
    assert new.writes > 20
    assert "campaign_type" not in columns(connection)
    check_phases(connection, initial)
    indexes = {
        row[0]
        for row in connection.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'campaigns'"
        ).fetchall()
    }
    assert indexes == {
        "campaigns_pkey",
        "campaigns_phasekit_phase_idx",
        "campaigns_phasekit_counts_idx",
    }
    status = runner.migration_status(dsn)
    assert (status.step, status.backfill_next_id) == ("contract", None)
    # Every row there at expand mapped once: each batch commits with its checkpoint.
    at_expand = connection.execute(
        "SELECT COUNT(*) FROM campaigns WHERE id <= %s", (status.backfill_end_id,)
    ).fetchone()
    assert at_expand == (status.backfill_rows,)


ROLLBACK_POINTS = {
    "expand": ("expand", {}),
    "backfill, interrupted": ("backfill", {"progress:backfill:3": interrupt}),
    "backfill": ("backfill", {}),
    "validate": ("validate", {}),
    "index": ("index", {}),
    "contract, interrupted in the backup": (
        "contract",
        {"progress:contract_backup:2": interrupt},
    ),
    "contract": ("contract", {}),
}


@pytest.mark.parametrize("point", list(ROLLBACK_POINTS))
def test_rollback_from_any_point_loses_no_write(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], point: str
) -> None:
    initial = create_table(connection)
    to, crash = ROLLBACK_POINTS[point]
    old, new = Writer(dsn, "old", 3), Writer(dsn, "new", 4)
    revived = Writer(dsn, "old", 5)
    old.start()
    time.sleep(0.2)
    contracted = to == "contract" and not crash
    actions: dict[str, Callable[[], None]] = {"backfill": new.start, **crash}
    if contracted:
        actions["contract_drop_indexes"] = old.stop
    with contextlib.suppress(Interrupted):
        runner.migrate(dsn, batch_size=BATCH, to=to, report=reporter(actions))
    time.sleep(0.2)
    # The rollback: the new version writes until the phase columns go; the old version
    # comes back once the legacy columns are NOT NULL again.
    undo = {"drop_phase_indexes": new.stop if new.is_alive() else lambda: None}
    if contracted:
        undo["restore_not_null"] = revived.start
    runner.rollback(dsn, batch_size=BATCH, report=reporter(undo))
    time.sleep(0.2)
    for writer in (old, new, revived):
        if writer.is_alive():
            writer.stop()
    assert (old.errors, new.errors, revived.errors) == ([], [], [])
    assert old.writes > 10
    assert columns(connection) == {
        "id": False,
        "name": False,
        "campaign_type": False,
        "status": False,
        "progress_percentage": True,
        "created_at": False,
    }
    check_legacy(connection, initial)
    leftovers = connection.execute(
        "SELECT to_regclass('campaigns_phasekit_state'), "
        "to_regclass('campaigns_phasekit_lanes'), "
        "to_regclass('campaigns_phasekit_backup'), "
        "(SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = CAST('campaigns' AS regclass) "
        "AND NOT tgisinternal), "
        "(SELECT COUNT(*) FROM pg_proc WHERE proname LIKE 'campaigns_phasekit%%')"
    ).fetchone()
    assert leftovers == (None, None, None, 0, 0)


@pytest.mark.parametrize("mapping", [DEFAULT_MAPPING, PLAN_MAPPING], ids=["default", "plan"])
def test_the_new_versions_writes_to_rows_the_rollback_has_not_restored_yet_go_through(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], mapping: LegacyMapping
) -> None:
    initial = create_table(connection)
    connection.execute("UPDATE campaigns SET status = 'queued' WHERE id = %s", (ROWS,))
    runner.migrate(dsn, batch_size=BATCH, mapping=mapping, to="contract")
    last = ROWS  # past the first restore batch: still without legacy values when written
    expected: dict[int, Legacy] = {}

    def new_version_writes() -> None:
        with psycopg.connect(dsn, autocommit=True) as writer:
            unrestored = "SELECT campaign_type FROM campaigns WHERE id = %s"
            assert writer.execute(unrestored, (last,)).fetchone() == (None,)
            # A write that leaves the phase alone: the row is restored from the backup.
            writer.execute("UPDATE campaigns SET name = 'renamed' WHERE id = %s", (last,))
            expected[last] = (initial[last][0], "queued", initial[last][2])
            # A write of the fallback's own values, and an insert with the phases only:
            # the legacy columns follow to_legacy.
            writer.execute(
                "UPDATE campaigns SET current_phase = 'domain_generation', "
                "phase_status = 'pending', progress = 0 WHERE id = %s",
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
        batch_size=BATCH,
        mapping=mapping,
        report=reporter({"progress:restore:1": new_version_writes}),
    )
    assert len(expected) == 3
    for row_id, legacy in expected.items():
        row = connection.execute(
            "SELECT campaign_type, status, progress_percentage FROM campaigns WHERE id = %s",
            (row_id,),
        ).fetchone()
        assert row == legacy, row_id
    assert connection.execute("SELECT name FROM campaigns WHERE id = %s", (last,)).fetchone() == (
        "renamed",
    )


def test_an_insert_of_the_fallbacks_phase_and_status_alone_gets_legacy_values(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]]
) -> None:
    create_table(connection)
    runner.migrate(dsn, batch_size=BATCH, mapping=PLAN_MAPPING, to="backfill")
    # The plan maps a NULL type and status to this phase and status: the row agrees with
    # the mapping, yet its legacy columns, NOT NULL, must be filled.
    inserted = connection.execute(
        "INSERT INTO campaigns (name, current_phase, phase_status, progress) "
        "VALUES ('inserted', 'domain_generation', 'pending', 0) "
        "RETURNING campaign_type, status, progress_percentage"
    ).fetchone()
    assert inserted == ("domain_generation", "pending", None)
    runner.rollback(dsn, mapping=PLAN_MAPPING)


def test_killed_at_random_points_of_the_backfill_the_rerun_equals_an_uninterrupted_run(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]]
) -> None:
    tables = {}
    for table in ("reference", "killed"):
        create_table(connection, table, seed=7)
        tables[table] = ["--dsn", dsn, "--table", table, "--batch-size", "40", "--to", "index"]
    assert main(["migrate", *tables["reference"]]) == 0
    generator = random.Random(11)
    kills = 0
    # Kill points: random counts of rows mapped, each a batch or more past the last.
    for target in sorted(generator.sample(range(100, ROWS - 300, 50), 6)):
        # One session or three: a rerun resumes each lane from its checkpoint either way.
        walkers = str(generator.choice([1, 3]))
        process = run_cli("migrate", *tables["killed"], "--pause-ms", "10", "--walkers", walkers)
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            status = runner.migration_status(dsn, table="killed")
            if status.step != "none" and status.backfill_rows >= target:
                break
            time.sleep(0.005)
        kills += kill(process)
    assert kills >= 5
    run_to_the_end("migrate", *tables["killed"])
    table_rows = {
        table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        for table in tables
    }
    assert table_rows["killed"] == table_rows["reference"]
    states = {
        table: connection.execute(
            f"SELECT step, backfill_next_id, backfill_rows FROM {table}_phasekit_state"
        ).fetchall()
        for table in tables
    }
    # Each batch and its checkpoint commit together: no row counted twice.
    assert states["killed"] == states["reference"] == [("index", None, ROWS)]
    for table in tables:
        connection.execute(f"DROP TABLE {table}, {table}_phasekit_state, {table}_writes CASCADE")
        connection.execute(f"DROP TABLE IF EXISTS {table}_phasekit_lanes")


def lanes(connection: psycopg.Connection[tuple[Any, ...]]) -> list[tuple[int, int, int]]:
    """Return the backfill's lanes: number, first id, last id."""
    rows = connection.execute(
        "SELECT lane, next_id, end_id FROM campaigns_phasekit_lanes ORDER BY lane"
    ).fetchall()
    return [(int(lane), int(first), int(last)) for lane, first, last in rows]


@pytest.mark.parametrize("ids", ["sparse", "few", "checkpoint's row deleted"])
def test_the_lanes_cut_the_walk_from_its_checkpoint_with_no_gap_and_no_overlap(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], ids: str
) -> None:
    create_table(connection)
    if ids == "sparse":
        # Gaps of every size between the ids.
        connection.execute(
            "DELETE FROM campaigns WHERE id % 7 IN (2, 3) OR id BETWEEN 900 AND 1300"
        )
    elif ids == "few":
        connection.execute("DELETE FROM campaigns WHERE id > 5")
    else:
        connection.execute("DELETE FROM campaigns WHERE id BETWEEN 4 AND 9")
    runner.migrate(dsn, to="expand")
    # A checkpoint past the first id, as a backfill an earlier phasekit began leaves it,
    # with no lanes table.
    connection.execute("UPDATE campaigns_phasekit_state SET backfill_next_id = 4")
    connection.execute("DROP TABLE campaigns_phasekit_lanes")
    expected_ids = [
        row[0] for row in connection.execute("SELECT id FROM campaigns WHERE id >= 4 ORDER BY id")
    ]
    # Batches of 500 rows: lanes a batch long at least. Batches of 40: 16 lanes.
    for batch in (500, 40):
        connection.execute("DROP TABLE IF EXISTS campaigns_phasekit_lanes")
        *settings, _ = migration_sql("postgresql", batch_size=batch).step("backfill").statements
        for statement in settings:
            connection.execute(statement)
        cut = lanes(connection)
        assert [lane for lane, _, _ in cut] == list(range(len(cut)))
        assert cut[0][1] == expected_ids[0]
        assert cut[-1][2] == expected_ids[-1]
        covered = [[id_ for id_ in expected_ids if first <= id_ <= last] for _, first, last in cut]
        # Each lane starts at an id it holds, and the lanes hold every id once.
        assert all(
            ids_in and ids_in[0] == first
            for ids_in, (_, first, _) in zip(covered, cut, strict=True)
        )
        assert [id_ for ids_in in covered for id_ in ids_in] == expected_ids
        assert all(len(ids_in) >= batch for ids_in in covered[:-1])
        if ids == "few":
            assert len(cut) == 1
        elif batch == 500:
            assert 2 <= len(cut) <= -(-len(expected_ids) // 500)
        else:
            assert len(cut) == runner.BACKFILL_LANES
    # Running the setup again (a resumed run) keeps the lanes as they are.
    for statement in settings:
        connection.execute(statement)
    assert lanes(connection) == cut
    runner.migrate(dsn, to="backfill", batch_size=BATCH, walkers=2)
    # The rows before the checkpoint are the earlier walk's: this one leaves them alone.
    unmapped = connection.execute(
        "SELECT id FROM campaigns WHERE current_phase IS NULL ORDER BY id"
    ).fetchall()
    assert (
        unmapped
        == connection.execute("SELECT id FROM campaigns WHERE id < 4 ORDER BY id").fetchall()
    )
    status = runner.migration_status(dsn)
    assert (status.step, status.backfill_next_id, status.backfill_rows) == (
        "backfill",
        None,
        len(expected_ids),
    )
    runner.rollback(dsn)


@pytest.mark.parametrize("deleted", ["two lanes' rows", "every row", "every row, before the cut"])
def test_rows_deleted_since_the_cut_end_their_lanes_and_the_backfill_still_records(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], deleted: str
) -> None:
    create_table(connection)
    runner.migrate(dsn, to="expand")
    *settings, batch = migration_sql("postgresql", batch_size=BATCH).step("backfill").statements
    if deleted == "every row, before the cut":
        connection.execute("DELETE FROM campaigns")
        # A batch run before the cut (a second psql session started too soon) finds no
        # lane, and records nothing: the cut has not been made.
        assert connection.execute(batch).fetchall() == []
        assert runner.migration_status(dsn).step == "expand"
    for statement in settings:
        connection.execute(statement)
    if deleted == "every row":
        connection.execute("DELETE FROM campaigns")
    elif deleted == "two lanes' rows":
        cut = lanes(connection)
        # A lane in the middle and the last one: each batch of them maps no row.
        for _, first, last in (cut[3], cut[-1]):
            connection.execute("DELETE FROM campaigns WHERE id BETWEEN %s AND %s", (first, last))
    left = connection.execute("SELECT COUNT(*) FROM campaigns").fetchone()
    events: list[object] = []
    runner.migrate(dsn, to="backfill", batch_size=BATCH, report=events.append)
    assert [e.step for e in events if isinstance(e, runner.StepDone)][-1] == "backfill"
    status = runner.migration_status(dsn)
    assert (status.step, status.backfill_next_id, (status.backfill_rows,)) == (
        "backfill",
        None,
        left,
    )
    assert connection.execute(
        "SELECT COUNT(*) FROM campaigns WHERE current_phase IS NULL"
    ).fetchone() == (0,)
    runner.rollback(dsn)


def test_the_walkers_run_batches_in_sessions_of_their_own_and_report_from_the_caller(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]]
) -> None:
    initial = create_table(connection)
    runner.migrate(dsn, to="expand")
    connection.execute("CREATE TABLE lane_sessions (pid integer, name text)")
    connection.execute(
        "CREATE FUNCTION log_lane_session() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN INSERT INTO lane_sessions VALUES (pg_backend_pid(), "
        "current_setting('application_name')); RETURN NEW; END $$"
    )
    connection.execute(
        "CREATE TRIGGER log_lane_session AFTER UPDATE ON campaigns_phasekit_lanes "
        "FOR EACH ROW EXECUTE FUNCTION log_lane_session()"
    )
    threads = set()

    def report(event: object) -> None:
        threads.add(threading.current_thread())

    try:
        runner.migrate(dsn, to="backfill", batch_size=40, pause_ms=20, walkers=3, report=report)
        sessions = connection.execute(
            "SELECT pid, name FROM lane_sessions GROUP BY pid, name"
        ).fetchall()
    finally:
        connection.execute("DROP TABLE lane_sessions")
        connection.execute("DROP FUNCTION log_lane_session() CASCADE")
    # Three sessions each moved lanes' checkpoints, named for pg_stat_activity, and only
    # the caller's thread reported.
    assert len(sessions) == 3
    assert sorted(name for _, name in sessions) == [
        f"phasekit backfill walker {number}" for number in (1, 2, 3)
    ]
    assert threads == {threading.current_thread()}
    check_phases(connection, initial)
    assert runner.migration_status(dsn).backfill_rows == ROWS
    runner.rollback(dsn)


def test_a_lane_another_session_holds_is_waited_for_then_walked(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    initial = create_table(connection)
    runner.migrate(dsn, to="expand")
    *settings, _ = migration_sql("postgresql", batch_size=BATCH).step("backfill").statements
    for statement in settings:
        connection.execute(statement)
    # As a killed runner's session, still running its batch, holds its lane.
    holder = psycopg.connect(dsn)
    holder.execute("SELECT 1 FROM campaigns_phasekit_lanes WHERE lane = 5 FOR UPDATE")
    monkeypatch.setattr(_postgresql, "HELD_LANES_SECONDS", 0.5)
    # The wait is the longer of that and twice the statement timeout: both short here.
    with pytest.raises(runner.DatabaseError, match="other sessions have held the last lanes"):
        runner.migrate(dsn, to="backfill", batch_size=BATCH, walkers=2, statement_timeout_ms=200)
    held = connection.execute(
        "SELECT lane FROM campaigns_phasekit_lanes WHERE next_id IS NOT NULL"
    ).fetchall()
    assert held == [(5,)]
    assert runner.migration_status(dsn).step == "expand"
    monkeypatch.setattr(_postgresql, "HELD_LANES_SECONDS", 60.0)
    threading.Timer(0.5, holder.rollback).start()
    runner.migrate(dsn, to="backfill", batch_size=BATCH, walkers=2)
    holder.close()
    check_phases(connection, initial)
    status = runner.migration_status(dsn)
    assert (status.step, status.backfill_rows) == ("backfill", ROWS)
    runner.rollback(dsn)


def test_lanes_a_finished_migration_left_do_not_pass_for_a_new_ones(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]]
) -> None:
    initial = create_table(connection)
    # What a finished migration of a table of this name leaves when the table and the
    # state table are dropped (a test database rebuilt): its lanes, all done.
    connection.execute(
        "CREATE TABLE campaigns_phasekit_lanes (lane integer, next_id bigint, end_id bigint, "
        "rows_mapped bigint)"
    )
    connection.execute(f"INSERT INTO campaigns_phasekit_lanes VALUES (0, NULL, {ROWS}, {ROWS})")
    runner.migrate(dsn, to="backfill", walkers=2)
    check_phases(connection, initial)
    assert runner.migration_status(dsn).backfill_rows == ROWS
    runner.rollback(dsn)


def test_a_walker_stopped_by_a_locked_row_stops_the_others_and_the_step_is_retried(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]]
) -> None:
    initial = create_table(connection)
    runner.migrate(dsn, to="expand")
    holder = psycopg.connect(dsn)
    # A row lock in the middle of the table: the walker of its lane waits lock_timeout.
    holder.execute("SELECT 1 FROM campaigns WHERE id = %s FOR UPDATE", (ROWS // 2,))
    events: list[object] = []

    def report(event: object) -> None:
        events.append(event)
        retries = [e for e in events if isinstance(e, runner.Retrying)]
        if len(retries) == 2:
            holder.rollback()

    runner.migrate(dsn, to="backfill", batch_size=40, lock_timeout_ms=100, walkers=4, report=report)
    holder.close()
    assert [(e.step, e.attempt) for e in events if isinstance(e, runner.Retrying)] == [
        ("backfill", 1),
        ("backfill", 2),
    ]
    check_phases(connection, initial)
    # Every batch committed with its checkpoint, before and after the retries: each row
    # is counted once.
    assert runner.migration_status(dsn).backfill_rows == ROWS
    runner.rollback(dsn)


@pytest.mark.parametrize("walkers", ["1", "2"])
def test_ctrl_c_stops_in_one_line_and_the_same_command_goes_on(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], walkers: str
) -> None:
    create_table(connection)
    arguments = ["migrate", "--dsn", dsn, "--walkers", walkers, "--batch-size", "20"]
    process = run_cli(*arguments, "--pause-ms", "20")
    deadline = time.monotonic() + 120
    while runner.migration_status(dsn).backfill_rows < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.splitlines()[-1] == (
        "phasekit migrate: interrupted; what was committed stays: run the same command "
        "again to go on"
    )
    assert "Traceback" not in err
    stopped = runner.migration_status(dsn)
    assert 200 <= stopped.backfill_rows < ROWS
    again = run_cli(*arguments)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert "expand: done before, skipped" in out
    assert runner.migration_status(dsn).backfill_rows == ROWS
    runner.rollback(dsn)


def test_a_ddl_waiting_for_its_lock_gives_up_and_retries(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]]
) -> None:
    create_table(connection)
    holder = psycopg.connect(dsn)
    holder.execute("SELECT COUNT(*) FROM campaigns")  # holds ACCESS SHARE until it ends
    retries: list[runner.Retrying] = []

    def report(event: object) -> None:
        if isinstance(event, runner.Retrying):
            retries.append(event)
            if len(retries) == 3:
                holder.rollback()

    runner.migrate(dsn, batch_size=BATCH, to="expand", report=report)
    holder.close()
    assert [retry.step for retry in retries] == ["expand"] * 3
    assert runner.migration_status(dsn).step == "expand"
    runner.rollback(dsn)


def test_the_sync_function_runs_only_for_a_row_whose_two_sides_disagree(
    connection: psycopg.Connection[tuple[Any, ...]], dsn: str
) -> None:
    create_table(connection)
    runner.migrate(dsn, batch_size=BATCH, to="expand")
    backfill = next(
        step
        for step in migration_sql("postgresql", batch_size=ROWS).steps
        if step.name == "backfill"
    )
    # Counted per transaction, for this session only: the test sees its own calls.
    connection.execute("SET track_functions = 'pl'")
    calls = (
        "SELECT COALESCE(pg_stat_get_xact_function_calls('campaigns_phasekit_sync'::regproc), 0)"
    )
    with connection.transaction(force_rollback=True):
        *settings, batch = backfill.statements
        for statement in settings:
            connection.execute(statement)
        while connection.execute(batch).rowcount:
            pass
        mapped = "SELECT COUNT(*) FROM campaigns WHERE current_phase IS NOT NULL"
        assert connection.execute(mapped).fetchone() == (ROWS,)
        assert connection.execute(calls).fetchone() == (0,)
        # The old version moves a pending row to queued: both map to pending, nothing to do.
        connection.execute("UPDATE campaigns SET status = 'pending' WHERE id = 1")
        connection.execute("UPDATE campaigns SET status = 'queued' WHERE id = 1")
        assert connection.execute(calls).fetchone() == (0,)
        # The old version starts it: the phase status must follow.
        connection.execute("UPDATE campaigns SET status = 'running' WHERE id = 1")
        assert connection.execute(calls).fetchone() == (1,)
        row = "SELECT status, phase_status FROM campaigns WHERE id = 1"
        assert connection.execute(row).fetchone() == ("running", "running")
        # The new version pauses it: the legacy status must follow.
        connection.execute("UPDATE campaigns SET phase_status = 'paused' WHERE id = 1")
        assert connection.execute(calls).fetchone() == (2,)
        assert connection.execute(row).fetchone() == ("paused", "paused")


def test_the_plans_queries_read_the_phase_indexes(
    connection: psycopg.Connection[tuple[Any, ...]], dsn: str
) -> None:
    create_table(connection)
    types = ", ".join(f"'{value}'" for value in TYPES)
    statuses = ", ".join(f"'{value}'" for value in STATUSES)
    connection.execute(
        "INSERT INTO campaigns (name, campaign_type, status, created_at) "
        f"SELECT 'more ' || i, (ARRAY[{types}])[1 + i % {len(TYPES)}], "
        f"(ARRAY[{statuses}])[1 + i % {len(STATUSES)}], "
        "timestamptz '2026-01-01' + i * interval '1 minute' FROM generate_series(1, 50000) AS i"
    )
    # No VACUUM here: the migration's own vacuum step leaves the indexes ready to use.
    runner.migrate(dsn, batch_size=10_000, index_columns=("created_at",), to="contract")

    def plan(query: str) -> str:
        return "\n".join(row[0] for row in connection.execute(f"EXPLAIN (COSTS OFF) {query}"))

    # The wide index orders a page and holds its ids; the counts read the two-column one,
    # not the heap the backfill's new row versions doubled.
    page = plan(
        "SELECT id FROM campaigns WHERE current_phase = 'dns_validation' "
        "AND phase_status = 'running' ORDER BY created_at DESC LIMIT 50"
    )
    assert "Index Only Scan Backward using campaigns_phasekit_phase_idx" in page
    counts = plan("SELECT current_phase, phase_status, count(*) FROM campaigns GROUP BY 1, 2")
    assert "Index Only Scan using campaigns_phasekit_counts_idx" in counts
    # Without columns to order by, the phase index is the two columns: one index only.
    assert 'INDEX CONCURRENTLY IF NOT EXISTS "campaigns_phasekit_counts_idx"' not in (
        migration_sql("postgresql").to_sql()
    )
    runner.rollback(dsn)
    assert not connection.execute(
        "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'campaigns_phasekit%'"
    ).fetchall()


def test_a_table_in_a_schema_migrates_and_rolls_back(
    connection: psycopg.Connection[tuple[Any, ...]], dsn: str
) -> None:
    connection.execute("DROP SCHEMA IF EXISTS app CASCADE")
    connection.execute("CREATE SCHEMA app")
    connection.execute(
        "CREATE TABLE app.campaigns (id bigserial PRIMARY KEY, campaign_type text NOT NULL, "
        "status text NOT NULL, progress_percentage double precision, "
        "created_at timestamptz NOT NULL DEFAULT '2026-01-01')"
    )
    connection.execute("CREATE INDEX ON app.campaigns (campaign_type, status)")
    connection.execute(
        "INSERT INTO app.campaigns (campaign_type, status, progress_percentage) "
        "SELECT 'dns_validation', 'running', 50 FROM generate_series(1, 300)"
    )
    table = "app.campaigns"
    runner.migrate(dsn, table=table, batch_size=100, index_columns=("created_at",), to="contract")
    indexes = (
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'app' "
        "AND tablename = 'campaigns' ORDER BY 1"
    )
    assert connection.execute(indexes).fetchall() == [
        ("campaigns_phasekit_counts_idx",),
        ("campaigns_phasekit_phase_idx",),
        ("campaigns_pkey",),
    ]
    runner.rollback(dsn, table=table)
    rows = (
        "SELECT campaign_type, status, progress_percentage, COUNT(*) FROM app.campaigns "
        "GROUP BY 1, 2, 3"
    )
    assert connection.execute(rows).fetchall() == [("dns_validation", "running", 50.0, 300)]
    assert connection.execute(indexes).fetchall() == [("campaigns_pkey",)]
    connection.execute("DROP SCHEMA app CASCADE")


def test_under_a_publication_for_all_tables_both_versions_write_through_and_back(
    connection: psycopg.Connection[tuple[Any, ...]], dsn: str
) -> None:
    # Logical replication or change data capture publishes every table: PostgreSQL then
    # refuses an UPDATE of a table with no replica identity, phasekit's own included.
    initial = create_table(connection)
    connection.execute("CREATE PUBLICATION phasekit_everything FOR ALL TABLES")
    try:
        old, new = Writer(dsn, "old", 5), Writer(dsn, "new", 6)
        old.start()
        runner.migrate(dsn, batch_size=BATCH, walkers=2, report=reporter({"backfill": new.start}))
        runner.migrate(
            dsn,
            batch_size=BATCH,
            to="contract",
            report=reporter({"contract_drop_indexes": old.stop}),
        )
        assert "campaign_type" not in columns(connection)
        # The new version writes until the rollback drops its columns.
        runner.rollback(dsn, batch_size=BATCH, report=reporter({"drop_phase_indexes": new.stop}))
        assert (old.errors, new.errors) == ([], [])
        assert new.writes > 0
        check_legacy(connection, initial)
    finally:
        connection.execute("DROP PUBLICATION phasekit_everything")


def batch_rows(events: list[object], walk: str) -> list[int]:
    """Return the rows of each batch of ``walk``, from its progress reports."""
    done = [
        event.done for event in events if isinstance(event, runner.Progress) and event.step == walk
    ]
    return [after - before for before, after in zip([0, *done][:-1], done, strict=True)]


def one_lane(connection: psycopg.Connection[tuple[Any, ...]], dsn: str) -> None:
    """Expand, and give the backfill one lane of the whole table, as each of the 16 lanes
    of a large table is longer than a batch: the lane's end does not cut the batches."""
    runner.migrate(dsn, to="expand")
    connection.execute(
        "INSERT INTO campaigns_phasekit_lanes SELECT 0, backfill_next_id, backfill_end_id, 0 "
        "FROM campaigns_phasekit_state"
    )


def test_timed_batches_shrink_when_a_batch_is_slow_and_stay_within_batch_size(
    connection: psycopg.Connection[tuple[Any, ...]], dsn: str
) -> None:
    initial = create_table(connection)
    one_lane(connection, dsn)
    # Every row updated costs at least half a millisecond: 1,000 rows take 0.5 s at least,
    # ten times the 50 ms asked for, whatever the machine, and 100 rows 50 ms at least.
    connection.execute(
        "CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(0.0005); RETURN NEW; END $$"
    )
    connection.execute(
        "CREATE TRIGGER slow_row BEFORE UPDATE ON campaigns FOR EACH ROW "
        "EXECUTE FUNCTION slow_row()"
    )
    events: list[object] = []
    try:
        runner.migrate(dsn, batch_size=1_500, batch_time_ms=50, to="backfill", report=events.append)
    finally:
        connection.execute("DROP TRIGGER slow_row ON campaigns")
        connection.execute("DROP FUNCTION slow_row()")
    # The first batch is 1,000 rows (nothing timed yet); then the smallest, 100.
    assert batch_rows(events, "backfill") == [1_000] + [100] * 10
    check_phases(connection, initial)
    runner.rollback(dsn)


def test_timed_batches_grow_when_quick_but_never_past_batch_size(
    connection: psycopg.Connection[tuple[Any, ...]], dsn: str
) -> None:
    create_table(connection)
    one_lane(connection, dsn)
    events: list[object] = []
    # A minute per batch: every batch is quick, so each may double, up to batch_size.
    runner.migrate(dsn, batch_size=1_500, batch_time_ms=60_000, to="backfill", report=events.append)
    assert batch_rows(events, "backfill") == [1_000, 1_000]
    events.clear()
    runner.migrate(dsn, batch_size=1_500, batch_time_ms=60_000, to="contract", report=events.append)
    # The contract's backup copy reports batches of the size it asked for.
    assert batch_rows(events, "contract_backup") == [1_000, 1_000]
    runner.rollback(dsn)


def test_verify_not_zero_stops_before_validate_with_exit_status_3(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    create_table(connection)
    connection.execute("UPDATE campaigns SET status = 'zombie' WHERE id IN (3, 4)")
    assert main(["migrate", "--dsn", dsn, "--batch-size", "500"]) == 3
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] + "\n" == (
        "phasekit migrate: verify: 2 row(s) of campaigns are unmapped or disagree with the "
        "mapping; fix or map them (phasekit mapping, --mapping plan), then run phasekit "
        "migrate again\n"
    )
    # The progress bar is one line on stderr, rewritten in place.
    assert f"\rbackfill: {ROWS:,} of {ROWS:,} rows, " in err
    assert "unknown values (migration would fail on these rows): 2 rows" in out
    assert "backfill: done in" in out
    assert runner.migration_status(dsn).step == "backfill"
    assert columns(connection)["current_phase"] is True  # validate did not run
    # The operator fixes the rows (the trigger maps them), and the same command goes on.
    connection.execute("UPDATE campaigns SET status = 'paused' WHERE id IN (3, 4)")
    assert main(["migrate", "--dsn", dsn]) == 0
    out, err = capsys.readouterr()
    assert "expand: done before, skipped" in out
    assert "verify: done in" in out
    assert "(0 rows)" in out
    assert main(["migrate", "status", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == (
        f"campaigns: last step done: index\nbackfill: complete, {ROWS:,} rows mapped\n"
    )
    assert main(["rollback", "--dsn", dsn]) == 0
    out, _ = capsys.readouterr()
    assert "drop_phase_columns: done in" in out
    assert main(["rollback", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == "rollback: nothing to undo\n"
    assert main(["migrate", "status", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == "campaigns: not migrated\n"


def test_a_second_runner_on_the_same_table_waits_then_gives_up_in_one_line(
    dsn: str,
    connection: psycopg.Connection[tuple[Any, ...]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_table(connection)
    monkeypatch.setattr(_postgresql, "_LOCK_WAIT_SECONDS", 0.5)
    holder = psycopg.connect(dsn, autocommit=True)
    holder.execute("SELECT pg_advisory_lock(hashtext('phasekit campaigns'))")
    assert main(["migrate", "--dsn", dsn, "--to", "expand"]) == 1
    assert capsys.readouterr().err == (
        "phasekit migrate: database error: another phasekit migrate or rollback is running "
        "on campaigns\n"
    )
    assert runner.migration_status(dsn).step == "none"
    # Released while the second runner waits: it goes on.
    release = threading.Timer(0.3, holder.close)
    release.start()
    assert main(["migrate", "--dsn", dsn, "--to", "expand"]) == 0
    release.join()
    assert runner.migration_status(dsn).step == "expand"
    runner.rollback(dsn)


def test_a_lock_timeout_is_one_line_per_retry_on_stderr(
    dsn: str, connection: psycopg.Connection[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    create_table(connection)
    holder = psycopg.connect(dsn)
    holder.execute("SELECT COUNT(*) FROM campaigns")  # holds ACCESS SHARE until it ends

    def release_after_a_lock_timeout() -> None:
        # Expand's DDL waits for its lock, then stops waiting while the holder still
        # holds it: its lock_timeout. Only then is the holder let go, however slow the
        # machine is to get there (or after 30 s, so that a DDL without a lock_timeout
        # fails the test instead of hanging it).
        waiting = (
            "SELECT COUNT(*) FROM pg_locks WHERE relation = 'campaigns'::regclass AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with psycopg.connect(dsn, autocommit=True) as watcher:
            deadline = time.monotonic() + 30
            for seen in (True, False):
                while (
                    bool(watcher.execute(waiting).fetchall()[0][0]) is not seen
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.002)
        holder.close()

    release = threading.Thread(target=release_after_a_lock_timeout)
    release.start()
    assert main(["migrate", "--dsn", dsn, "--to", "expand"]) == 0
    release.join()
    out, err = capsys.readouterr()
    assert err.startswith(
        "expand: the table is locked by another transaction (lock_timeout); retry 1 in "
    )
    assert all(line.endswith(" s") for line in err.splitlines())
    assert "expand: done in" in out
    runner.rollback(dsn)


def test_without_psycopg_the_command_says_what_to_install(
    dsn: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes the import fail, as it does where psycopg is not installed.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    for arguments in (["migrate"], ["migrate", "status"], ["rollback"]):
        assert main([*arguments, "--dsn", dsn]) == 2
        assert capsys.readouterr() == (
            "",
            f"phasekit {arguments[0]}: error: PostgreSQL needs psycopg: "
            "pip install 'phasekit[postgres]'\n",
        )


def test_a_database_error_is_one_line_with_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--dsn", "postgresql://nobody@127.0.0.1:1/none"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("phasekit migrate: database error: connection")
    assert err.count("\n") == 1


def test_squawk_finds_nothing_but_the_contract_column_drops(tmp_path: Path) -> None:
    from phasekit import migration_sql

    script = migration_sql("postgresql", index_columns=("created_at",)).to_sql()
    (tmp_path / "migration.sql").write_text(script)
    squawk = Path(sys.executable).parent / "squawk"
    done = subprocess.run(
        [str(squawk), "--pg-version=15", "--reporter=gcc", str(tmp_path / "migration.sql")],
        capture_output=True,
        text=True,
    )
    lines = script.splitlines()
    contract = next(
        number for number, line in enumerate(lines, start=1) if line == "-- step: contract"
    )
    findings = [
        line for line in done.stdout.splitlines() if ": warning: " in line or ": error: " in line
    ]
    assert findings, done.stdout  # squawk ran and saw the drops
    for finding in findings:
        line = int(finding.split(":")[1])
        assert line > contract, finding
        assert " ban-drop-column " in finding, finding
    assert len(findings) == 3
    assert "squawk-ignore" not in script
