"""``phasekit migrate``, ``migrate status`` and ``rollback`` on a real SQLite file, in process.

SQLite runs the same steps as its printed script, each in a transaction; these tests drive
the command line's ``main`` as an operator would and read the file back.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from phasekit import DEFAULT_MAPPING, map_legacy
from phasekit.cli import main
from phasekit.legacy import LEGACY_CAMPAIGN_TYPES, LEGACY_STATUSES

ROWS = 60
TYPES = tuple(
    value for value in LEGACY_CAMPAIGN_TYPES if DEFAULT_MAPPING.target("campaign_type", value)
)
STATUSES = tuple(value for value in LEGACY_STATUSES if DEFAULT_MAPPING.target("status", value))
LegacyRow = tuple[int, str, str, float | None]


def create_database(path: Path) -> list[LegacyRow]:
    """Create a legacy ``campaigns`` table of ``ROWS`` rows in a new SQLite file."""
    generator = random.Random(5)
    rows: list[LegacyRow] = [
        (
            index,
            generator.choice(TYPES),
            generator.choice(STATUSES),
            None if index % 7 == 0 else float(generator.randrange(101)),
        )
        for index in range(1, ROWS + 1)
    ]
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE campaigns (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "campaign_type TEXT NOT NULL, status TEXT NOT NULL, progress_percentage REAL)"
        )
        connection.executemany(
            "INSERT INTO campaigns VALUES (?, 'campaign', ?, ?, ?)",
            rows,
        )
    connection.close()
    return rows


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(sql).fetchall()
    connection.close()
    return rows


def columns(path: Path) -> list[str]:
    return [str(row[1]) for row in query(path, "PRAGMA table_info(campaigns)")]


def command(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(list(arguments))
    out, err = capsys.readouterr()
    return status, out, err


def test_migrate_contract_and_rollback_restore_every_legacy_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "campaigns.db"
    legacy = create_database(path)
    dsn = f"sqlite:///{path}"
    assert command(capsys, "migrate", "status", "--dsn", dsn) == (
        0,
        "campaigns: not migrated\n",
        "",
    )

    status, out, err = command(capsys, "migrate", "--dsn", dsn)
    assert (status, err) == (0, "")
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
    assert "contract: done in" in out
    assert "campaign_type" not in columns(path)
    assert command(capsys, "migrate", "status", "--dsn", dsn)[1].startswith(
        "campaigns: last step done: contract\n"
    )
    status, out, _ = command(capsys, "migrate", "--dsn", dsn, "--to", "contract")
    assert status == 0
    assert out == "".join(
        f"{step}: done before, skipped\n"
        for step in ("preflight", "expand", "backfill", "verify", "contract")
    )

    status, out, err = command(capsys, "rollback", "--dsn", dsn)
    assert (status, err) == (0, "")
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "restore_columns",
        "restore",
        "drop_phase_columns",
        "drop_backup",
    ]
    assert "current_phase" not in columns(path)
    restored = query(
        path, "SELECT id, campaign_type, status, progress_percentage FROM campaigns ORDER BY id"
    )
    assert restored == legacy
    assert query(path, "SELECT name FROM sqlite_master WHERE name LIKE '%phasekit%'") == []
    assert command(capsys, "rollback", "--dsn", dsn) == (0, "rollback: nothing to undo\n", "")


def test_a_rollback_before_contract_keeps_the_writes_made_since_expand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "campaigns.db"
    legacy = create_database(path)
    dsn = f"sqlite:///{path}"
    assert command(capsys, "migrate", "--dsn", dsn, "--to", "backfill")[0] == 0
    # The old application goes on writing its columns after the backfill.
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE campaigns SET status = 'archived' WHERE id = 2")
    connection.close()
    status, out, _ = command(capsys, "rollback", "--dsn", dsn)
    assert status == 0
    assert "restore_columns" not in out
    restored = query(
        path, "SELECT id, campaign_type, status, progress_percentage FROM campaigns ORDER BY id"
    )
    assert restored == [
        (row_id, kind, "archived" if row_id == 2 else value, progress)
        for row_id, kind, value, progress in legacy
    ]
    assert columns(path) == ["id", "name", "campaign_type", "status", "progress_percentage"]


def test_verify_not_zero_stops_before_contract_with_exit_status_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "campaigns.db"
    create_database(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE campaigns SET status = 'zombie' WHERE id IN (3, 4)")
    connection.close()
    dsn = f"sqlite:///{path}"
    status, out, err = command(capsys, "migrate", "--dsn", dsn, "--to", "contract")
    assert status == 3
    assert err == (
        "phasekit migrate: verify: 2 row(s) of campaigns are unmapped or disagree with the "
        "mapping; fix or map them (phasekit mapping, --mapping plan), then run phasekit "
        "migrate again\n"
    )
    assert "unknown values (migration would fail on these rows): 2 rows" in out
    assert "campaign_type" in columns(path)
    assert command(capsys, "migrate", "status", "--dsn", dsn)[1] == (
        f"campaigns: last step done: expand\nbackfill: {ROWS - 2} rows mapped; next id 3, "
        f"last id {ROWS}\n"
    )


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
