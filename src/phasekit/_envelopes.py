"""The names of the JSON envelopes: the verbose ``type`` names and the legacy keys.

The verbose codec writes ``campaign.progress`` and ``campaign.phase.transition``
envelopes; the legacy codec reads and writes the old ``campaign_progress`` envelope,
whose keys are declared here once, in the order they are written. The codec, the JSON
Schema and the TypeScript module read these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "LEGACY_DATA_KEYS",
    "LEGACY_ENVELOPE_KEYS",
    "LEGACY_PROGRESS_TYPE",
    "PROGRESS_TYPE",
    "TRANSITION_TYPE",
]

#: ``type`` of the verbose envelope of a progress message.
PROGRESS_TYPE: Final = "campaign.progress"
#: ``type`` of the verbose envelope of a transition message.
TRANSITION_TYPE: Final = "campaign.phase.transition"
#: ``type`` of the legacy progress envelope.
LEGACY_PROGRESS_TYPE: Final = "campaign_progress"

#: The legacy envelope's top-level keys, in the order they are written: the attribute
#: of the codec's record of the envelope, and the key. ``id``, ``message`` and ``error``
#: are optional when read; ``message`` and ``error`` are never written.
LEGACY_ENVELOPE_KEYS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "message_id": "id",
        "timestamp": "timestamp",
        "type": "type",
        "sequence": "sequenceNumber",
        "campaign_id": "campaignId",
        "data": "data",
        "message": "message",
        "error": "error",
    }
)
#: The keys inside the legacy envelope's ``data``, in the order they are written: the
#: :class:`ProgressMessage` field each carries, and the key.
LEGACY_DATA_KEYS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "progress": "progressPercentage",
        "status": "status",
        "phase": "phase",
        "processed": "processedItems",
        "total": "totalItems",
    }
)
