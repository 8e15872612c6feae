"""The generated migration and rollback SQL, run on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from phasekit import (
    DEFAULT_MAPPING,
    PLAN_MAPPING,
    InvalidValue,
    LegacyMapping,
    MappingReport,
    MigrationScript,
    map_legacy,
    map_legacy_rows,
    migration_sql,
    rollback_sql,
)
from tests import sql_runner
from tests import strategies as st

LegacyRow = tuple[str, str, float | None]
Row = tuple[Any, ...]

# The plan's literal data migration (section 2.2), the oracle for PLAN_MAPPING.
PLAN_LITERAL_SQL = (Path(__file__).parent / "data" / "plan_section_2_2.sql").read_text()


#: The steps that ``contract`` stands for, per dialect.
CONTRACT_STEPS = {
    "postgresql": ("contract_backup_start", "contract_backup", "contract_drop_indexes", "contract"),
    "sqlite": ("contract_drop_indexes", "contract"),
}


class Database:
    """A real database with a legacy ``campaigns`` table, driven through phasekit's scripts."""

    def __init__(self, dialect: str, connection: Any, table: str = "campaigns") -> None:
        self.dialect = dialect
        self.connection = connection
        self.table = table

    @property
    def quoted(self) -> str:
        return ".".join(f'"{part}"' for part in self.table.split("."))

    def execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[Row]:
        if self.dialect == "postgresql":
            cursor = self.connection.execute(sql, parameters or None)
        else:
            cursor = self.connection.execute(sql.replace("%s", "?"), parameters)
        return list(cursor.fetchall()) if cursor.description else []

    def create(self, rows: list[LegacyRow]) -> None:
        backup = self.table.split(".")[-1] + "_phasekit_backup"
        prefix = self.table.rsplit(".", 1)[0] + "." if "." in self.table else ""
        self.execute(f'DROP TABLE IF EXISTS {prefix}"{backup}"')
        for suffix in ("_phasekit_state", "_phasekit_lanes"):
            state = self.table.split(".")[-1] + suffix
            self.execute(f'DROP TABLE IF EXISTS {prefix}"{state}"')
        self.execute(f"DROP TABLE IF EXISTS {self.quoted}")
        real = "DOUBLE PRECISION" if self.dialect == "postgresql" else "REAL"
        self.execute(
            f"CREATE TABLE {self.quoted} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "campaign_type TEXT NOT NULL, status TEXT NOT NULL, "
            f"progress_percentage {real} CHECK (progress_percentage BETWEEN 0 AND 100))"
        )
        for index, row in enumerate(rows):
            self.execute(
                f"INSERT INTO {self.quoted} VALUES (%s, %s, %s, %s, %s)",
                (index + 1, f"campaign {index}", *row),
            )

    def run(self, script: MigrationScript, *steps: str) -> dict[str, list[list[Row]]]:
        return sql_runner.run(self.connection, script, *steps)

    def migrate(self, mapping: LegacyMapping, *steps: str) -> dict[str, list[list[Row]]]:
        if "contract" in steps:
            # contract is several steps: PostgreSQL's backup started, copied, indexes, drop;
            # SQLite's indexes, then the rest.
            steps = tuple(s for s in steps if s != "contract") + CONTRACT_STEPS[self.dialect]
        return self.run(migration_sql(self.dialect, mapping=mapping, table=self.table), *steps)  # type: ignore[arg-type]

    def rollback(self, contracted: bool | None = None) -> None:
        self.run(rollback_sql(self.dialect, table=self.table, contracted=contracted))  # type: ignore[arg-type]

    def columns(self) -> list[str]:
        if self.dialect == "sqlite":
            return [row[1] for row in self.execute(f"PRAGMA table_info({self.quoted})")]
        schema, _, name = self.table.rpartition(".")
        return [
            row[0]
            for row in self.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = %s ORDER BY ordinal_position",
                (name, schema or "public"),
            )
        ]

    def legacy_rows(self) -> list[Row]:
        return self.execute(
            f"SELECT id, name, campaign_type, status, progress_percentage FROM {self.quoted} "
            "ORDER BY id"
        )

    def phase_rows(self) -> list[Row]:
        return self.execute(
            f"SELECT id, current_phase, phase_status, progress FROM {self.quoted} ORDER BY id"
        )

    def verify(self, mapping: LegacyMapping) -> int:
        return int(self.migrate(mapping, "verify")["verify"][0][0][0])


@pytest.fixture(scope="module")
def sqlite_database() -> Iterator[Database]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    yield Database("sqlite", connection)
    connection.close()


@pytest.fixture(scope="module")
def postgres_connection() -> Iterator[Any]:
    yield from sql_runner.connect_postgres()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Database:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database")  # type: ignore[no-any-return]
    return Database("postgresql", request.getfixturevalue("postgres_connection"))


def expected_phase_rows(rows: list[LegacyRow], mapping: LegacyMapping) -> list[Row]:
    states = (map_legacy(*row, mapping=mapping) for row in rows)
    return [
        (index + 1, state.phase.value, state.status.value, state.progress)
        for index, state in enumerate(states)
    ]


def legacy_tables(mapping: LegacyMapping) -> hs.SearchStrategy[list[LegacyRow]]:
    unknown = mapping.fallback_phase is not None and mapping.fallback_status is not None
    return hs.lists(st.legacy_rows(unknown=unknown), max_size=25)


DB_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("mapping", [DEFAULT_MAPPING, PLAN_MAPPING], ids=["default", "plan"])
@DB_SETTINGS
@given(data=hs.data(), contract=hs.booleans(), told=hs.booleans())
def test_migration_matches_map_legacy_and_rollback_restores_exactly(
    database: Database, mapping: LegacyMapping, data: hs.DataObject, contract: bool, told: bool
) -> None:
    rows = data.draw(legacy_tables(mapping))
    database.create(rows)
    original = database.legacy_rows()

    preflight = database.migrate(mapping, "preflight")["preflight"]
    report = MappingReport.from_counts(
        preflight[0], preflight[1], null_progress=preflight[2][0][0], mapping=mapping
    )
    streamed = MappingReport()
    list(map_legacy_rows(rows, mapping=mapping, report=streamed))
    assert (report.rows, report.lossy, report.null_progress, report.unknown) == (
        streamed.rows,
        streamed.lossy,
        streamed.null_progress,
        {},
    )

    database.migrate(mapping, "expand", "backfill")
    migrated = database.phase_rows()
    assert migrated == expected_phase_rows(rows, mapping)
    database.migrate(mapping, "backfill")
    assert database.phase_rows() == migrated
    assert database.verify(mapping) == 0
    if contract:
        database.migrate(mapping, "contract")
        assert "campaign_type" not in database.columns()
        assert database.phase_rows() == migrated

    # Told whether contract ran, or not told (then SQLite's guards decide).
    database.rollback(contract if told else None)
    assert database.legacy_rows() == original
    assert database.columns() == ["id", "name", "campaign_type", "status", "progress_percentage"]


@DB_SETTINGS
@given(rows=legacy_tables(PLAN_MAPPING))
def test_plan_script_gives_exactly_the_plan_literal_result(
    database: Database, rows: list[LegacyRow]
) -> None:
    database.create(rows)
    database.migrate(PLAN_MAPPING, "expand", "backfill")
    generated = database.phase_rows()
    # The sync triggers would write the legacy columns from these NULLs. SQLite cannot
    # disable a trigger: drop them (the rollback drops them only if they exist).
    if database.dialect == "postgresql":
        database.execute("ALTER TABLE campaigns DISABLE TRIGGER phasekit_sync")
    else:
        for kind in ("old_insert", "old_update", "new_insert", "new_update"):
            database.execute(f"DROP TRIGGER campaigns_phasekit_{kind}")
    database.execute(
        "UPDATE campaigns SET current_phase = NULL, phase_status = NULL, progress = NULL"
    )
    database.execute(PLAN_LITERAL_SQL)
    assert database.phase_rows() == generated
    if database.dialect == "postgresql":
        database.execute("ALTER TABLE campaigns ENABLE TRIGGER phasekit_sync")
    database.rollback()


@pytest.mark.parametrize("bad", [("ftp_validation", "running"), ("dns_validation", "zombie")])
def test_unknown_value_without_fallback_is_reported_and_blocks_contract(
    database: Database, bad: tuple[str, str]
) -> None:
    rows: list[LegacyRow] = [("dns_validation", "running", 10.0), (*bad, None)]
    database.create(rows)
    original = database.legacy_rows()
    preflight = database.migrate(DEFAULT_MAPPING, "preflight")["preflight"]
    report = MappingReport.from_counts(preflight[0], preflight[1])
    assert report.unknown
    assert "unknown values (migration would fail on these rows): 1 row\n" in report.summary()

    database.migrate(DEFAULT_MAPPING, "expand", "backfill")
    assert database.phase_rows() == [(1, "dns_validation", "running", 10.0), (2, None, None, None)]
    assert database.verify(DEFAULT_MAPPING) == 1
    with pytest.raises(Exception, match="contract") as refused:
        database.migrate(DEFAULT_MAPPING, "contract")
    assert "refused" in str(refused.value)
    # The failed step left nothing half-done: the legacy columns and values are all there.
    assert "campaign_type" in database.columns()
    assert database.legacy_rows() == original
    database.rollback()
    assert database.legacy_rows() == original


def test_verify_counts_live_the_rows_the_mapping_cannot_map(database: Database) -> None:
    database.create([("dns_validation", "running", 10.0), ("domain_generation", "paused", 5.0)])
    database.migrate(DEFAULT_MAPPING, "expand", "backfill")
    assert database.verify(DEFAULT_MAPPING) == 0
    # The old version writes a value the mapping cannot map: the trigger leaves the phase
    # columns NULL, never guessed, and verify counts the row until it is fixed.
    database.execute(f"UPDATE {database.quoted} SET status = 'zombie' WHERE id = 1")
    database.execute(
        f"INSERT INTO {database.quoted} (id, name, campaign_type, status) "
        "VALUES (3, 'late', 'ftp_validation', 'pending')"
    )
    assert database.phase_rows()[0] == (1, None, None, None)
    assert database.phase_rows()[2] == (3, None, None, None)
    assert database.verify(DEFAULT_MAPPING) == 2
    database.execute(f"UPDATE {database.quoted} SET status = 'paused' WHERE id = 1")
    assert database.verify(DEFAULT_MAPPING) == 1
    assert database.phase_rows()[0] == (1, "dns_validation", "paused", 10.0)
    database.rollback()


def test_trigger_keeps_verify_at_zero_under_writes_of_either_version(database: Database) -> None:
    database.create([("dns_validation", "running", 10.0), ("domain_generation", "paused", 5.0)])
    database.migrate(DEFAULT_MAPPING, "expand", "backfill")
    assert database.verify(DEFAULT_MAPPING) == 0
    # The new version writes the phase columns: the legacy columns follow.
    database.execute(f"UPDATE {database.quoted} SET phase_status = 'failed' WHERE id = 1")
    # The old version writes the legacy columns, and inserts: the phase columns follow.
    database.execute(f"UPDATE {database.quoted} SET status = 'queued' WHERE id = 2")
    database.execute(
        f"INSERT INTO {database.quoted} (id, name, campaign_type, status) "
        "VALUES (3, 'late', 'dns_validation', 'pending')"
    )
    # The new version inserts with phase columns: the legacy columns follow. SQLite checks
    # NOT NULL before its AFTER trigger runs, so there the insert must give legacy values:
    # any, the trigger replaces those that disagree.
    given = ", campaign_type, status" if database.dialect == "sqlite" else ""
    placeholders = ", 'domain_generation', 'completed'" if database.dialect == "sqlite" else ""
    database.execute(
        f"INSERT INTO {database.quoted} (id, name, current_phase, phase_status, progress{given}) "
        f"VALUES (4, 'new', 'http_validation', 'paused', 30{placeholders})"
    )
    # An update writing both column sets is the new version's: its phase columns win.
    database.execute(
        f"UPDATE {database.quoted} SET status = 'running', phase_status = 'completed' WHERE id = 3"
    )
    assert database.verify(DEFAULT_MAPPING) == 0
    assert database.legacy_rows() == [
        (1, "campaign 0", "dns_validation", "failed", 10.0),
        (2, "campaign 1", "domain_generation", "queued", 5.0),
        (3, "late", "dns_validation", "completed", None),
        (4, "new", "http_keyword_validation", "paused", 30.0),
    ]
    assert database.phase_rows() == [
        (1, "dns_validation", "failed", 10.0),
        (2, "domain_generation", "pending", 5.0),
        (3, "dns_validation", "completed", 0.0),
        (4, "http_validation", "paused", 30.0),
    ]
    database.rollback()


def test_sqlite_new_version_insert_without_legacy_values_is_refused_by_not_null(
    sqlite_database: Database,
) -> None:
    """The documented SQLite limit: NOT NULL is checked before an AFTER trigger could fill
    the legacy columns, so the new version's inserts must give legacy values."""
    database = sqlite_database
    database.create([("dns_validation", "running", 10.0)])
    database.migrate(DEFAULT_MAPPING, "expand", "backfill")
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL constraint failed"):
        database.execute(
            f"INSERT INTO {database.quoted} (id, name, current_phase, phase_status, progress) "
            "VALUES (2, 'new', 'http_validation', 'paused', 30)"
        )
    database.rollback()


def test_the_new_versions_write_stands_even_where_to_legacy_does_not_map_back(
    database: Database,
) -> None:
    """PLAN_MAPPING maps the legacy 'paused' to pending, and to_legacy(paused) is 'paused':
    the new version's paused stays paused (on SQLite, the AFTER triggers must not answer
    their own updates), and verify counts the row, on both dialects."""
    database.create([("dns_validation", "running", 10.0)])
    database.migrate(PLAN_MAPPING, "expand", "backfill")
    database.execute(f"UPDATE {database.quoted} SET phase_status = 'paused' WHERE id = 1")
    assert database.phase_rows() == [(1, "dns_validation", "paused", 10.0)]
    assert database.legacy_rows() == [(1, "campaign 0", "dns_validation", "paused", 10.0)]
    assert database.verify(PLAN_MAPPING) == 1
    database.rollback()


def test_mapping_vocabulary_is_quoted(database: Database) -> None:
    mapping = LegacyMapping(
        types={"o'brien": "dns_validation", 'say "hi"': "http_validation"},
        statuses={"it's running": "running"},
    )
    rows: list[LegacyRow] = [("o'brien", "it's running", 1.0), ('say "hi"', "it's running", None)]
    database.create(rows)
    database.migrate(mapping, "expand", "backfill")
    assert database.phase_rows() == expected_phase_rows(rows, mapping)
    assert database.verify(mapping) == 0
    database.rollback()


def test_batched_backfill(database: Database) -> None:
    rows: list[LegacyRow] = [
        ("dns_validation", status, float(index))
        for index, status in enumerate(
            ["running", "queued", "paused", "zombie", "archived", "cancelled", "failed"] * 3
        )
    ]
    database.create(rows)
    script = migration_sql(database.dialect, batch_size=4)  # type: ignore[arg-type]
    # PostgreSQL repeats one statement in autocommit mode; SQLite the whole transaction.
    assert script.step("backfill").repeat
    assert script.step("backfill").in_transaction is (database.dialect == "sqlite")
    database.run(script, "expand", "backfill")
    got = database.phase_rows()
    known = [row for row in got if row[1] is not None]
    assert len(known) == 18
    assert database.verify(DEFAULT_MAPPING) == 3
    state = database.execute(
        "SELECT step, backfill_next_id, backfill_end_id, backfill_rows "
        "FROM campaigns_phasekit_state"
    )
    assert state == [("backfill", None, 21, 21)]
    database.rollback()


def test_schema_qualified_table(database: Database) -> None:
    if database.dialect == "postgresql":
        database.execute("CREATE SCHEMA IF NOT EXISTS legacy")
        table = "legacy.campaigns"
    else:
        table = "main.campaigns"
    qualified = Database(database.dialect, database.connection, table)
    rows: list[LegacyRow] = [("http_keyword_validation", "pausing", 50.0)]
    qualified.create(rows)
    original = qualified.legacy_rows()
    qualified.migrate(DEFAULT_MAPPING, "expand", "backfill")
    assert qualified.verify(DEFAULT_MAPPING) == 0
    qualified.migrate(DEFAULT_MAPPING, "contract")
    assert qualified.phase_rows() == [(1, "http_validation", "paused", 50.0)]
    qualified.rollback()
    assert qualified.legacy_rows() == original
    qualified.execute(f"DROP TABLE {qualified.quoted}")


@pytest.mark.parametrize(
    "table",
    ["", "1abc", "a.b.c", "a-b", 'a"b', "x" * 64, "a; DROP TABLE x", "schema.", ".t", None, 5],
)
def test_bad_table_names_are_refused(table: object) -> None:
    for make in (migration_sql, rollback_sql):
        with pytest.raises(InvalidValue, match="table must be an identifier") as caught:
            make("sqlite", table=table)  # type: ignore[arg-type]
        assert caught.value.value is table


@pytest.mark.parametrize(
    ("table", "lower"),
    [("Campaigns", "campaigns"), ("public.Campaigns", "public.campaigns"), ("APP.t_1", "app.t_1")],
)
def test_mixed_case_table_names_are_refused_with_the_name_to_write(table: str, lower: str) -> None:
    for make in (migration_sql, rollback_sql):
        with pytest.raises(InvalidValue) as caught:
            make("postgresql", table=table)
        assert str(caught.value) == (
            "table must be lower case: the SQL quotes the name, and a table created unquoted "
            f"is lower case in PostgreSQL; got {table!r}: write {lower!r}"
        )
        assert (caught.value.field, caught.value.value) == ("table", table)


def test_the_lower_case_name_is_the_table_postgres_made_of_a_mixed_case_one(
    postgres_connection: Any,
) -> None:
    database = Database("postgresql", postgres_connection)
    database.execute("DROP TABLE IF EXISTS campaigns_phasekit_backup")
    database.execute("DROP TABLE IF EXISTS campaigns_phasekit_state")
    database.execute("DROP TABLE IF EXISTS campaigns_phasekit_lanes")
    database.execute("DROP TABLE IF EXISTS campaigns")
    database.execute(
        "CREATE TABLE Campaigns (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "campaign_type TEXT NOT NULL, status TEXT NOT NULL, progress_percentage FLOAT)"
    )
    database.execute("INSERT INTO Campaigns VALUES (1, 'a', 'dns_validation', 'running', 5.0)")
    database.migrate(DEFAULT_MAPPING, "expand", "backfill")
    assert database.phase_rows() == [(1, "dns_validation", "running", 5.0)]
    database.rollback()
    database.execute("DROP TABLE campaigns")


@pytest.mark.parametrize("table", ["campaigns", "public.campaigns", "x" * 63, "_t1.y" + "z" * 62])
def test_good_table_names_are_quoted(table: str) -> None:
    script = migration_sql("postgresql", table=table)
    quoted = ".".join(f'"{part}"' for part in table.split("."))
    statements = [statement for step in script.steps for statement in step.statements]
    altered = [statement for statement in statements if statement.startswith("ALTER TABLE")]
    assert altered
    assert all(statement.startswith(f"ALTER TABLE {quoted} ") for statement in altered)
    for statement in statements:
        for word in statement.replace(".", " ").split():
            if word.startswith('"'):
                assert len(word.strip("\"'();,")) <= 63


@pytest.mark.parametrize("dialect", ["mysql", "", None, "SQLite"])
def test_unknown_dialect_is_refused(dialect: object) -> None:
    with pytest.raises(InvalidValue, match="dialect must be one of postgresql, sqlite"):
        migration_sql(dialect)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        rollback_sql(dialect)  # type: ignore[arg-type]


def test_bad_batch_size_and_mapping_are_refused() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidValue, match="batch_size"):
            migration_sql("postgresql", batch_size=bad)  # type: ignore[arg-type]
    for make in (migration_sql, rollback_sql):
        with pytest.raises(InvalidValue, match="batch_size must be an int >= 1; got 0"):
            make("sqlite", batch_size=0)
    with pytest.raises(InvalidValue):
        migration_sql("sqlite", mapping="plan")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="mapping"):
        rollback_sql("postgresql", mapping="plan")  # type: ignore[arg-type]


def test_script_text_names_every_step() -> None:
    script = migration_sql("postgresql", batch_size=1000)
    text = script.to_sql()
    for step in script.steps:
        assert f"-- step: {step.name}" in text
    assert (
        "-- repeat: run the last statement again and again, each run in its own transaction "
        "(autocommit), until it reports 0 rows (an UPDATE) or returns none (a query)\n"
        "-- autocommit: run it outside a transaction "
        "block\nSET lock_timeout = '200ms';" in text
    )
    assert "-- generates: run each statement the last query returns" in text
    assert "psql -v ON_ERROR_STOP=1" in text
    sqlite = migration_sql("sqlite", batch_size=500).to_sql()
    assert "sqlite3 -bail" in sqlite
    assert "LIMIT 500" in sqlite
    assert (
        "-- repeat: run this whole step, BEGIN to COMMIT, again and again, each run its own\n"
        "-- transaction, until its last query returns 0." in sqlite
    )
    assert "-- generates: run each statement the last query returns, before COMMIT" in sqlite
    with pytest.raises(InvalidValue, match="no step 'nope'"):
        script.step("nope")


@pytest.mark.parametrize("bad", [0, 1, "yes", "false"])
def test_contracted_must_be_a_bool_or_none(bad: object) -> None:
    with pytest.raises(InvalidValue, match=f"contracted must be True, False or None; got {bad!r}"):
        rollback_sql("sqlite", contracted=bad)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the scripts as printed
#
# What `phasekit sql` prints must run as printed. SQLite scripts are run the way
# `sqlite3 -bail DATABASE < FILE` runs them: executescript stops at the first error, and
# closing the connection rolls back the transaction that error left open.

SITUATIONS = ["expand", "backfill", "refused contract", "contract"]
LEGACY_COLUMNS = ["id", "name", "campaign_type", "status", "progress_percentage"]


def printed_steps(text: str) -> dict[str, str]:
    """Return the printed text of each step, as someone running one step at a time sees it."""
    return {
        section.split("\n", 1)[0]: "-- step: " + section for section in text.split("-- step: ")[1:]
    }


def run_printed_sqlite(path: Path, text: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.executescript(text)
    finally:
        connection.close()


def sqlite_situation(path: Path, situation: str) -> tuple[Database, list[Row]]:
    """Create the legacy table in ``path`` and run the printed migration up to ``situation``."""
    rows: list[LegacyRow] = [
        ("dns_validation", "running", 10.0),
        ("domain_generation", "archived", None),
        ("http_keyword_validation", "pausing", 55.5),
    ]
    if situation == "refused contract":
        rows.append(("dns_validation", "zombie", None))
    database = Database("sqlite", sqlite3.connect(path, isolation_level=None))
    database.create(rows)
    original = database.legacy_rows()
    migration = migration_sql("sqlite").to_sql()
    steps = printed_steps(migration)
    if situation == "expand":
        run_printed_sqlite(path, steps["expand"])
    elif situation == "backfill":
        for name in ("preflight", "expand", "backfill", "verify"):
            run_printed_sqlite(path, steps[name])
    elif situation == "contract":
        run_printed_sqlite(path, migration)
        assert "campaign_type" not in database.columns()
    else:
        with pytest.raises(sqlite3.IntegrityError, match="phasekit_contract_refused"):
            run_printed_sqlite(path, migration)
        assert database.legacy_rows() == original
    assert "current_phase" in database.columns()
    return database, original


def schema_and_rows(database: Database) -> list[str]:
    connection = database.connection
    assert isinstance(connection, sqlite3.Connection)
    return list(connection.iterdump())


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_printed_sqlite_rollback_runs_as_printed_after_each_migration_step(
    tmp_path: Path, situation: str
) -> None:
    path = tmp_path / "campaigns.sqlite3"
    database, original = sqlite_situation(path, situation)
    rollback = rollback_sql("sqlite", contracted=situation == "contract").to_sql()
    assert "guard" not in rollback
    run_printed_sqlite(path, rollback)
    assert database.legacy_rows() == original
    assert database.columns() == LEGACY_COLUMNS
    tables = database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert tables == [("campaigns",)]


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_other_printed_sqlite_rollback_fails_at_once_and_changes_nothing(
    tmp_path: Path, situation: str
) -> None:
    path = tmp_path / "campaigns.sqlite3"
    database, _ = sqlite_situation(path, situation)
    before = schema_and_rows(database)
    wrong = rollback_sql("sqlite", contracted=situation != "contract").to_sql()
    expected = "no such column" if situation == "contract" else "duplicate column name"
    assert f"fails at once with '{expected}' and changes nothing" in wrong.replace("\n-- ", " ")
    with pytest.raises(sqlite3.OperationalError, match=f"{expected}: campaign_type"):
        run_printed_sqlite(path, wrong)
    assert schema_and_rows(database) == before


def test_the_guarded_sqlite_rollback_says_it_does_not_run_as_printed(tmp_path: Path) -> None:
    text = rollback_sql("sqlite").to_sql()
    assert text.startswith("-- phasekit sqlite script")
    assert "-- NOT RUNNABLE AS PRINTED in every situation" in text
    assert "--contracted or --no-contracted" in text
    path = tmp_path / "campaigns.sqlite3"
    sqlite_situation(path, "backfill")
    with pytest.raises(sqlite3.OperationalError, match="duplicate column name"):
        run_printed_sqlite(path, text)


def test_without_bail_a_refused_sqlite_contract_drops_the_columns_and_the_backup_keeps_them(
    tmp_path: Path,
) -> None:
    """The limit the printed header states: plain SQL cannot skip statements after a failed
    one, so a client that goes on after errors (sqlite3 without -bail) goes past the
    contract's refusal. The backup keeps the legacy values: the contracted rollback
    restores them."""
    path = tmp_path / "campaigns.sqlite3"
    database, original = sqlite_situation(path, "refused contract")
    contract = printed_steps(migration_sql("sqlite").to_sql())["contract"]
    errors = []
    for line in contract.splitlines():
        if line and not line.startswith("--"):
            try:
                database.execute(line)
            except sqlite3.Error as error:
                errors.append(str(error))
    assert errors[0].endswith("phasekit_contract_refused_rows_unmapped_run_backfill_then_verify")
    assert "campaign_type" not in database.columns()
    run_printed_sqlite(path, rollback_sql("sqlite", contracted=True).to_sql())
    assert database.legacy_rows() == original


def run_printed_postgres(connection: Any, text: str, *, stop_at_error: bool) -> list[str]:
    """Run ``text`` as psql does, one statement a line, stopping at the first error with
    ON_ERROR_STOP or going on without it; return the errors.

    A step's ``-- repeat:`` rule is followed as an operator would: its last statement runs
    again until it reports 0 rows.
    """
    errors = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("--")]
        repeated = "-- repeat: run the last statement" in block
        for number, line in enumerate(lines):
            again = repeated and number == len(lines) - 1
            try:
                while connection.execute(line).rowcount and again:
                    pass
            except psycopg.Error as error:
                errors.append(str(error).splitlines()[0])
                if stop_at_error:
                    connection.execute("ROLLBACK")
                    return errors
    return errors


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_printed_postgres_rollback_runs_as_printed_after_each_migration_step(
    postgres_connection: Any, situation: str
) -> None:
    database = Database("postgresql", postgres_connection)
    rows: list[LegacyRow] = [
        ("dns_validation", "running", 10.0),
        ("dns_validation", "archived", None),
    ]
    if situation == "refused contract":
        rows.append(("dns_validation", "zombie", None))
    database.create(rows)
    original = database.legacy_rows()
    migration = migration_sql("postgresql").to_sql()
    steps = printed_steps(migration)
    upto = {"expand": ["expand"], "backfill": ["expand", "backfill", "verify"]}
    for name in upto.get(situation, []):
        assert run_printed_postgres(postgres_connection, steps[name], stop_at_error=True) == []
    if "contract" in situation:
        errors = run_printed_postgres(postgres_connection, migration, stop_at_error=True)
        assert bool(errors) is (situation == "refused contract")
    assert ("campaign_type" in database.columns()) is (situation != "contract")
    rollback = rollback_sql("postgresql", contracted=situation == "contract").to_sql()
    assert rollback == rollback_sql("postgresql").to_sql()
    assert run_printed_postgres(postgres_connection, rollback, stop_at_error=True) == []
    assert database.legacy_rows() == original
    assert database.columns() == LEGACY_COLUMNS


def test_a_refused_postgres_contract_drops_nothing_even_when_psql_goes_on_after_errors(
    postgres_connection: Any,
) -> None:
    database = Database("postgresql", postgres_connection)
    database.create([("dns_validation", "running", 10.0), ("dns_validation", "zombie", None)])
    original = database.legacy_rows()
    migration = migration_sql("postgresql").to_sql()
    errors = run_printed_postgres(postgres_connection, migration, stop_at_error=False)
    # The unmapped row fails validate (its phase columns are NULL), then contract refuses
    # twice: at its start (verify is 1) and before it drops anything (no backup).
    refusals = [error for error in errors if error.startswith("phasekit: contract refused")]
    assert refusals == [
        "phasekit: contract refused: 1 row(s) of campaigns are unmapped or disagree with the "
        "mapping (run backfill, then verify)",
        "phasekit: contract refused: the backup of campaigns is not complete (run "
        "contract_backup_start, then contract_backup until it reports 0)",
    ]
    assert "campaign_type" in database.columns()
    assert database.legacy_rows() == original
    assert "current_phase" in database.columns()
    database.rollback()


def test_batch_size_errors_name_the_rule() -> None:
    for dialect in ("postgresql", "sqlite"):
        with pytest.raises(InvalidValue, match="batch_size must be an int >= 1; got 0"):
            migration_sql(dialect, batch_size=0)
        with pytest.raises(InvalidValue, match=r"batch_size must be an int >= 1; got 2\.5"):
            rollback_sql(dialect, batch_size=2.5)  # type: ignore[arg-type]
