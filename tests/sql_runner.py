"""Run a phasekit MigrationScript on a real database connection (test helper)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg

from phasekit import MigrationScript, MigrationStep, runner
from tests.servers import server_address

DSN_VARIABLE = "PHASEKIT_TEST_POSTGRES_DSN"
SKIP_VARIABLE = "PHASEKIT_SKIP_POSTGRES"

Row = tuple[Any, ...]


def _statements(connection: Any, step: MigrationStep) -> list[list[Row]]:
    """Run a step's statements in order; return what each query returned."""
    results = []
    for statement in step.statements:
        cursor = connection.execute(statement)
        if cursor.description:
            results.append(cursor.fetchall())
    return results


def _skipped(connection: Any, step: MigrationStep) -> bool:
    return step.guard is not None and not connection.execute(step.guard).fetchone()[0]


def run_sqlite_step(connection: sqlite3.Connection, step: MigrationStep) -> list[list[Row]]:
    """Run ``step`` as phasekit's runner does, unless its guard says there is nothing to do.

    The connection is in autocommit mode; see :func:`phasekit.runner.run_sqlite_step`.
    """
    if _skipped(connection, step):
        return []
    return runner.run_sqlite_step(connection, step)


def run_postgres_step(connection: Any, step: MigrationStep) -> list[list[Row]]:
    """Run ``step`` on an autocommit psycopg connection, in a transaction if it wants one.

    A repeated step runs its last statement until it reports 0 rows or returns none (the
    rowcount of a query is its rows); a step that generates statements runs each row its
    last query returns.
    """
    if _skipped(connection, step):
        return []
    if step.repeat:
        *settings, statement = step.statements
        for setting in settings:
            connection.execute(setting)
        while connection.execute(statement).rowcount:
            pass
        return []
    if not step.in_transaction:
        results = _statements(connection, step)
        if step.generates_statements:
            for (generated,) in results[-1]:
                connection.execute(generated)
        return results
    with connection.transaction():
        return _statements(connection, step)


def run(connection: Any, script: MigrationScript, *names: str) -> dict[str, list[list[Row]]]:
    """Run the named steps of ``script`` (all of them by default) on ``connection``."""
    run_step = run_sqlite_step if isinstance(connection, sqlite3.Connection) else run_postgres_step
    chosen = [script.step(name) for name in names] if names else list(script.steps)
    return {step.name: run_step(connection, step) for step in chosen}


def postgres_dsn() -> str:
    """Return the test server's DSN; without one, fail, unless the run opted out."""
    return server_address(
        DSN_VARIABLE,
        SKIP_VARIABLE,
        "PostgreSQL tests",
        f"no PostgreSQL server: run `make test`, which starts one, or set {DSN_VARIABLE} "
        f"to a server of yours (or {SKIP_VARIABLE}=1 to skip these tests)",
    )


def connect_postgres() -> Iterator[Any]:
    connection = psycopg.connect(postgres_dsn(), autocommit=True)
    try:
        yield connection
    finally:
        connection.close()
