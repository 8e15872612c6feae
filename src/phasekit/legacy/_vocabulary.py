"""The legacy vocabulary, and the two preset mappings of it to the phase model.

Before phases, a campaign row had three columns: ``campaign_type``, ``status`` and a
nullable ``progress_percentage``. The first two hold the values listed here, in the
order the legacy CHECK constraints list them. Two :class:`~phasekit.LegacyMapping` of
them are provided:

* :data:`PLAN_MAPPING` reproduces the migration plan's SQL exactly, including its silent
  loss: ``paused``, ``cancelled`` and ``archived`` campaigns become ``pending``.
* :data:`DEFAULT_MAPPING` maps every known value explicitly and refuses unknown ones.
"""

from __future__ import annotations

from typing import Final

from phasekit._model import Phase, PhaseStatus
from phasekit.legacy._mapping import LegacyMapping

__all__ = ["DEFAULT_MAPPING", "LEGACY_CAMPAIGN_TYPES", "LEGACY_STATUSES", "PLAN_MAPPING"]

#: The legacy ``campaigns.campaign_type`` values, as the legacy CHECK constraint lists them.
LEGACY_CAMPAIGN_TYPES: Final = ("domain_generation", "dns_validation", "http_keyword_validation")
#: The legacy ``campaigns.status`` values, in the legacy CHECK constraint's order.
LEGACY_STATUSES: Final = (
    "pending",
    "queued",
    "running",
    "pausing",
    "paused",
    "completed",
    "failed",
    "archived",
    "cancelled",
)

_P = Phase
_S = PhaseStatus

#: The migration plan's SQL, exactly. Unknown types become domain_generation, and every
#: status but running, completed and failed becomes pending.
PLAN_MAPPING: Final = LegacyMapping(
    types={
        "domain_generation": _P.DOMAIN_GENERATION,
        "dns_validation": _P.DNS_VALIDATION,
        "http_keyword_validation": _P.HTTP_VALIDATION,
    },
    statuses={
        value: {"running": _S.RUNNING, "completed": _S.COMPLETED, "failed": _S.FAILED}.get(
            value, _S.PENDING
        )
        for value in LEGACY_STATUSES
    },
    fallback_phase=_P.DOMAIN_GENERATION,
    fallback_status=_S.PENDING,
)

#: Every known legacy value mapped explicitly to its nearest meaning; unknown values are
#: errors. Lossy (not recoverable from the phase columns alone) are queued, pausing and
#: archived.
DEFAULT_MAPPING: Final = LegacyMapping(
    types=PLAN_MAPPING.types,
    statuses={
        "pending": _S.PENDING,
        "queued": _S.PENDING,
        "running": _S.RUNNING,
        "pausing": _S.PAUSED,
        "paused": _S.PAUSED,
        "completed": _S.COMPLETED,
        "failed": _S.FAILED,
        "archived": _S.COMPLETED,
        "cancelled": _S.CANCELLED,
    },
)
