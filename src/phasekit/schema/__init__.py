"""JSON Schema, OpenAPI 3.1 and TypeScript, generated from phasekit's own tables.

Nothing here restates a rule: the enums come from :class:`~phasekit.Phase`,
:class:`~phasekit.PhaseStatus` and :class:`~phasekit.Event`, the message fields and enum
codes from :mod:`phasekit.codec`, and the lifecycle from
:data:`~phasekit.STATUS_RULES`. So the API spec, the frontend types and the backend can
never drift apart, and generated files are never edited by hand.

Every function is pure and deterministic: the same phasekit gives byte-identical output
on every run and machine (``phasekit schema`` writes it).
"""

from __future__ import annotations

from phasekit.schema._json_schema import JSONValue, json_schema
from phasekit.schema._openapi import openapi_document
from phasekit.schema._typescript import typescript

__all__ = ["JSONValue", "json_schema", "openapi_document", "typescript"]
