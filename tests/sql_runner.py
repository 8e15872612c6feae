"""Run a phasekit MigrationScript on a real database connection (test helper)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from phasekit import MigrationScript, MigrationStep

DSN_VARIABLE = "PHASEKIT_TEST_POSTGRES_DSN"

Row = tuple[Any, ...]


def run_sqlite_step(connection: sqlite3.Connection, step: MigrationStep) -> list[list[Row]]:
    """Run ``step`` in one transaction (the connection is in autocommit mode)."""
    if step.guard is not None and not connection.execute(step.guard).fetchone()[0]:
        return []
    results = []
    connection.execute("BEGIN")
    try:
        for statement in step.statements:
            cursor = connection.execute(statement)
            if cursor.description:
                results.append(cursor.fetchall())
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return results


def run_sqlite(
    connection: sqlite3.Connection, script: MigrationScript, *names: str
) -> dict[str, list[list[Row]]]:
    chosen = [script.step(name) for name in names] if names else list(script.steps)
    return {step.name: run_sqlite_step(connection, step) for step in chosen}


def run_postgres_step(connection: Any, step: MigrationStep) -> list[list[Row]]:
    """Run ``step`` on an autocommit psycopg connection, in a transaction if it wants one."""
    if step.guard is not None and not connection.execute(step.guard).fetchone()[0]:
        return []
    results = []

    def run_all() -> None:
        for statement in step.statements:
            cursor = connection.execute(statement)
            if cursor.description:
                results.append(cursor.fetchall())

    if step.in_transaction:
        with connection.transaction():
            run_all()
    else:
        run_all()
    return results


def run_postgres(
    connection: Any, script: MigrationScript, *names: str
) -> dict[str, list[list[Row]]]:
    chosen = [script.step(name) for name in names] if names else list(script.steps)
    return {step.name: run_postgres_step(connection, step) for step in chosen}


def postgres_dsn() -> str:
    """Return the test server's DSN; fail under CI=true without one, else skip visibly."""
    dsn = os.environ.get(DSN_VARIABLE)
    if dsn:
        return dsn
    reason = (
        f"no PostgreSQL server: set {DSN_VARIABLE} (`.ci/start-postgres.sh` starts one and "
        "prints it; `make test-postgres` does both)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def connect_postgres() -> Iterator[Any]:
    psycopg = pytest.importorskip("psycopg")
    connection = psycopg.connect(postgres_dsn(), autocommit=True)
    try:
        yield connection
    finally:
        connection.close()
