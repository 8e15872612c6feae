"""Migration and rollback SQL for PostgreSQL and SQLite, generated from a LegacyMapping.

All pure text generation, from the ground up:

* :mod:`~phasekit.sql._script`: the script records, dialects, identifiers and quoting;
* :mod:`~phasekit.sql._expressions`: the mapping as SQL ``CASE`` expressions and
  conditions, and the verify query;
* :mod:`~phasekit.sql._migrate`: :func:`~phasekit.migration_sql`, one function per step;
* :mod:`~phasekit.sql._rollback`: :func:`~phasekit.rollback_sql`, one function per step.

Import these names from ``phasekit``.
"""

from __future__ import annotations

from phasekit.sql._migrate import migration_sql
from phasekit.sql._rollback import rollback_sql
from phasekit.sql._script import Dialect, MigrationScript, MigrationStep

__all__ = ["Dialect", "MigrationScript", "MigrationStep", "migration_sql", "rollback_sql"]
