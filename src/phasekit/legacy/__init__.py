"""Legacy campaign rows and the phase model: the vocabulary, the mappings and the report.

A value is *lossy* when the phase columns alone cannot give it back, that is when
``to_legacy(map_legacy(value))`` gives a different legacy value back. (The SQL rollback
still restores it exactly, from the backup table.) The modules, from the ground up:

* :mod:`~phasekit.legacy._mapping`: :class:`~phasekit.LegacyMapping`, the tables as data;
* :mod:`~phasekit.legacy._vocabulary`: the legacy values and the two preset mappings;
* :mod:`~phasekit.legacy._convert`: :func:`~phasekit.map_legacy` and
  :func:`~phasekit.to_legacy`, one row at a time;
* :mod:`~phasekit.legacy._report`: :class:`~phasekit.MappingReport`, the counts;
* :mod:`~phasekit.legacy._bulk`: :func:`~phasekit.map_legacy_rows`, the bulk path.

The same tables drive all of them and the generated SQL of :mod:`phasekit.sql`. Import
these names from ``phasekit``.
"""

from __future__ import annotations

from phasekit.legacy._bulk import map_legacy_rows
from phasekit.legacy._convert import map_legacy, to_legacy
from phasekit.legacy._mapping import LegacyColumn, LegacyMapping
from phasekit.legacy._report import MappingReport
from phasekit.legacy._vocabulary import (
    DEFAULT_MAPPING,
    LEGACY_CAMPAIGN_TYPES,
    LEGACY_STATUSES,
    PLAN_MAPPING,
)

__all__ = [
    "DEFAULT_MAPPING",
    "LEGACY_CAMPAIGN_TYPES",
    "LEGACY_STATUSES",
    "PLAN_MAPPING",
    "LegacyColumn",
    "LegacyMapping",
    "MappingReport",
    "map_legacy",
    "map_legacy_rows",
    "to_legacy",
]
