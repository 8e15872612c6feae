"""phasekit: phases, lifecycle, legacy mapping and progress messages for campaigns.

A typed, pure-Python library with no I/O. Every public name is re-exported here from the
private module that defines it; import from ``phasekit`` only.

>>> import phasekit
>>> state = phasekit.apply_event(phasekit.initial_state(), "start")
>>> sorted(event.value for event in phasekit.available_events(state))
['cancel', 'complete', 'fail', 'pause']
"""

from __future__ import annotations

from phasekit._campaign_progress import CampaignProgress
from phasekit._diagram import lifecycle_mermaid, phase_chain_svg, status_machine_svg
from phasekit._lifecycle import (
    PHASE_TRANSITION_FROM,
    PHASE_TRANSITION_STATUS,
    STATUS_RULES,
    StatusRule,
    apply_event,
    available_events,
    available_transitions,
    initial_state,
    is_terminal,
    transition_to,
    with_progress,
)
from phasekit._machine import lifecycle_edges, lifecycle_machine, state_name, transition_trigger
from phasekit._messages import Frame, Message, ProgressMessage, ShardReport, TransitionMessage
from phasekit._model import Event, Phase, PhaseState, PhaseStatus, PhaseTransition
from phasekit._progress import ProgressThrottle, ProgressView
from phasekit.errors import (
    DecodeError,
    InvalidProgress,
    InvalidTransition,
    InvalidValue,
    MappingError,
    PhasekitError,
)
from phasekit.legacy import (
    DEFAULT_MAPPING,
    LEGACY_CAMPAIGN_TYPES,
    LEGACY_STATUSES,
    PLAN_MAPPING,
    LegacyColumn,
    LegacyMapping,
    MappingReport,
    map_legacy,
    map_legacy_rows,
    to_legacy,
)
from phasekit.sql import Dialect, MigrationScript, MigrationStep, migration_sql, rollback_sql

__version__ = "0.1.0"

# The public modules, so that `import phasekit` is enough to reach them.
from phasekit import codec, schema

__all__ = [
    "DEFAULT_MAPPING",
    "LEGACY_CAMPAIGN_TYPES",
    "LEGACY_STATUSES",
    "PHASE_TRANSITION_FROM",
    "PHASE_TRANSITION_STATUS",
    "PLAN_MAPPING",
    "STATUS_RULES",
    "CampaignProgress",
    "DecodeError",
    "Dialect",
    "Event",
    "Frame",
    "InvalidProgress",
    "InvalidTransition",
    "InvalidValue",
    "LegacyColumn",
    "LegacyMapping",
    "MappingError",
    "MappingReport",
    "Message",
    "MigrationScript",
    "MigrationStep",
    "Phase",
    "PhaseState",
    "PhaseStatus",
    "PhaseTransition",
    "PhasekitError",
    "ProgressMessage",
    "ProgressThrottle",
    "ProgressView",
    "ShardReport",
    "StatusRule",
    "TransitionMessage",
    "__version__",
    "apply_event",
    "available_events",
    "available_transitions",
    "codec",
    "initial_state",
    "is_terminal",
    "lifecycle_edges",
    "lifecycle_machine",
    "lifecycle_mermaid",
    "map_legacy",
    "map_legacy_rows",
    "migration_sql",
    "phase_chain_svg",
    "rollback_sql",
    "schema",
    "state_name",
    "status_machine_svg",
    "to_legacy",
    "transition_to",
    "transition_trigger",
    "with_progress",
]
