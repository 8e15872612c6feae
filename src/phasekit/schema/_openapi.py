"""The OpenAPI 3.1 document: the example application's endpoints over the shared types.

The components are the JSON Schema definitions of ``_json_schema`` (read, never
restated) plus the application's own request and response bodies, one error shape for
every error response, and the links that lead from a created campaign to every
operation on it (so that a client, or a fuzzer's stateful phase, can follow them).
"""

from __future__ import annotations

from typing import Any, Final

from phasekit._checks import MAX_INTEGER, MAX_REASON_LENGTH
from phasekit.codec import BATCH_TAG, DEFAULT_MAX_BATCH, MAX_SHARD
from phasekit.schema._json_schema import (
    JSON_SCHEMA_DIALECT,
    NOT_BLANK_PATTERN,
    STRIPPED_PATTERN,
    JSONValue,
    Schema,
    definitions,
    percent_schema,
)

__all__ = ["openapi_document"]

#: The longest campaign name, in characters, as given (before stripping).
MAX_NAME_LENGTH: Final = 255
#: What a name must not contain: C0 and C1 controls, DEL, the bidirectional embeddings,
#: overrides and isolates (U+202A..U+202E, U+2066..U+2069) and the byte order mark.
NAME_FORBIDDEN_PATTERN: Final = "[\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]"
#: The deepest ``configuration``: objects and arrays nested at most this many levels.
MAX_CONFIGURATION_DEPTH: Final = 32
#: The largest request body the application reads, in bytes.
MAX_BODY_BYTES: Final = 64 * 1024

#: Each error code, with the status it is answered with and when.
ERROR_CODES: Final = {
    "invalid_value": (
        422,
        "the request is malformed: not JSON, a missing or unknown "
        "key, a value of the wrong type or out of range",
    ),
    "not_found": (404, "no campaign has this id, or no endpoint has this path"),
    "method_not_allowed": (405, "the path does not take this method (see Allow)"),
    "body_too_large": (413, f"the body is longer than {MAX_BODY_BYTES} bytes"),
    "invalid_transition": (
        409,
        "the lifecycle does not allow this event or phase "
        "transition from the campaign's state; the message says what is",
    ),
    "invalid_progress": (
        409,
        "progress is refused in the campaign's state: it is not "
        "running, or the value would go down",
    ),
    "concurrent_update": (
        409,
        "the campaign changed while this request was read; read it again and retry",
    ),
    "shards_already_set": (409, "the phase already runs in other shards"),
    "no_shards": (409, "the phase does not run in shards: PUT its shards first"),
    "shard_report_does_not_fit": (409, "a report does not fit the phase's shards"),
    "internal_error": (500, "a fault of the server, never of the request"),
}


def _component(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_body(name: str, description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _component(name)}},
    }


def _error_responses(*statuses: int) -> dict[str, Schema]:
    responses = {}
    for status in statuses:
        codes = [code for code, (answer, _) in ERROR_CODES.items() if answer == status]
        text = "; ".join(f"`{code}`: {ERROR_CODES[code][1]}" for code in codes)
        responses[str(status)] = _json_body("Error", f"Error {text}.")
    return responses


def _campaign_links(operations: tuple[str, ...]) -> dict[str, Schema]:
    return {
        operation: {
            "operationId": operation,
            "parameters": {"id": "$response.body#/id"},
            "description": "The same campaign.",
        }
        for operation in operations
    }


def _object(properties: dict[str, Schema], *optional: str) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _count(description: str) -> Schema:
    return {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER, "description": description}


def _request_schemas() -> dict[str, Schema]:
    reason = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_REASON_LENGTH,
        "pattern": NOT_BLANK_PATTERN,
        "description": "why; stored stripped, so it must hold more than whitespace",
    }
    return {
        "CreateCampaignRequest": _object(
            {
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_NAME_LENGTH,
                    "pattern": NOT_BLANK_PATTERN,
                    "not": {"pattern": NAME_FORBIDDEN_PATTERN},
                    "description": "stored stripped, so it must hold more than whitespace; "
                    "no control characters, bidirectional controls or byte order mark",
                },
                "initialPhase": _component("Phase"),
                "configuration": _component("PhaseConfiguration"),
            },
            "configuration",
        ),
        "TransitionRequest": _object(
            {"targetPhase": _component("Phase"), "transitionReason": reason}
        ),
        "EventRequest": _object({"event": _component("Event")}),
        "ProgressRequest": {
            **_object(
                {
                    "progress": {**percent_schema(), "description": "percent done, 0..100"},
                    "processed": _count("items processed so far; at most total"),
                    "total": _count("items in the phase"),
                }
            ),
            "description": "A worker's report. Also: processed <= total (else 422), and "
            "the campaign must be running and its progress must not go down (else 409).",
        },
        "ShardsRequest": _object(
            {
                "shards": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_SHARD + 1,
                    "description": "how many shards the phase runs in",
                },
                "total": _count("items in all the shards"),
            }
        ),
        "ShardReportBatch": {
            "type": "array",
            "description": "Several shard-report frames in one batch.",
            "prefixItems": [{"const": BATCH_TAG}],
            "items": _component("CompactShardReportFrame"),
            "minItems": 2,
            "maxItems": 1 + DEFAULT_MAX_BATCH,
        },
    }


def openapi_document() -> dict[str, JSONValue]:
    """Return an OpenAPI 3.1 document: every enum with its values, the records and
    messages, and every endpoint of the example application with its bodies, its error
    responses and the links between them.

    >>> document = openapi_document()
    >>> sorted(document["paths"])[:3]
    ['/campaigns', '/campaigns/{id}/events', '/campaigns/{id}/phases']
    >>> document["paths"]["/campaigns"]["post"]["responses"]["201"]["links"]["applyEvent"]
    ... # doctest: +NORMALIZE_WHITESPACE
    {'operationId': 'applyEvent', 'parameters': {'id': '$response.body#/id'},
     'description': 'The same campaign.'}
    >>> document["components"]["schemas"]["PhaseStatus"]["enum"][:2]
    ['pending', 'running']
    """
    from phasekit import __version__

    schemas = definitions(_component)
    schemas["PhaseConfiguration"] = {
        "type": "object",
        "description": "Settings of the phases, free-form for the application to define; "
        f"objects and arrays nested at most {MAX_CONFIGURATION_DEPTH} levels deep.",
        "additionalProperties": True,
        "x-max-depth": MAX_CONFIGURATION_DEPTH,
    }
    schemas.update(_request_schemas())
    schemas["CampaignPhases"] = _object(
        {
            "id": {"type": "string", "format": "uuid"},
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_NAME_LENGTH,
                "pattern": STRIPPED_PATTERN,
                "not": {"pattern": NAME_FORBIDDEN_PATTERN},
            },
            "currentPhase": _component("Phase"),
            "phaseStatus": _component("PhaseStatus"),
            "progress": percent_schema(),
            "availableEvents": {"type": "array", "items": _component("Event")},
            "availableTransitions": {"type": "array", "items": _component("Phase")},
        }
    )
    schemas["Error"] = {
        "type": "object",
        "description": "Every error the application answers, whatever its status.",
        "properties": {
            "error": _object(
                {
                    "status": {
                        "type": "integer",
                        "enum": sorted({status for status, _ in ERROR_CODES.values()}),
                        "description": "the HTTP status, repeated",
                    },
                    "code": {
                        "type": "string",
                        "enum": list(ERROR_CODES),
                        "description": "what went wrong, for a program to branch on",
                    },
                    "message": {
                        "type": "string",
                        "description": "what was given and what was allowed, for a person",
                    },
                }
            )
        },
        "required": ["error"],
        "additionalProperties": False,
    }
    campaign_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }
    on_a_campaign = (
        "getCampaignPhases",
        "transitionCampaign",
        "applyEvent",
        "reportProgress",
        "splitIntoShards",
        "reportShards",
    )
    links = _campaign_links(on_a_campaign)

    def campaign(description: str, status: str = "200") -> dict[str, Schema]:
        return {status: {**_json_body("CampaignPhases", description), "links": links}}

    def operation(
        operation_id: str, summary: str, body: Schema | None, *errors: int
    ) -> dict[str, Any]:
        described: dict[str, Any] = {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [campaign_id],
        }
        if body is not None:
            described["requestBody"] = {"required": True, "content": {"application/json": body}}
        described["responses"] = {
            **campaign("The campaign, as it is now."),
            **_error_responses(*errors),
        }
        return described

    def body(name: str) -> Schema:
        return {"schema": _component(name)}

    shard_reports = {
        "schema": {"oneOf": [_component("CompactShardReportFrame"), _component("ShardReportBatch")]}
    }
    example_body = {"name": "spring domains", "initialPhase": "domain_generation"}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": "Campaign phases API",
            "version": __version__,
            "description": "Generated by phasekit from its own tables; do not edit by hand. "
            "The API of examples/web_api.py. Every error is answered with one JSON shape, "
            "`Error`: 422 for a malformed request, 409 for one that the lifecycle or the "
            "campaign's state refuses, 404 for an unknown campaign or path, 405 for a "
            f"method a path does not take and 413 for a body over {MAX_BODY_BYTES} bytes. "
            "Each campaign also has a WebSocket, `/campaigns/{id}/stream`, that OpenAPI "
            "cannot describe: binary messages, each a compact progress or transition "
            "frame (`CompactProgressFrame`, `CompactTransitionFrame`), the first one the "
            "campaign's current state.",
            "x-max-body-bytes": MAX_BODY_BYTES,
        },
        "paths": {
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document of the API.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/campaigns": {
                "post": {
                    "operationId": "createCampaign",
                    "summary": "Create a campaign at its initial phase, pending.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": _component("CreateCampaignRequest"),
                                "example": example_body,
                            }
                        },
                    },
                    "responses": {
                        **campaign("The new campaign.", "201"),
                        **_error_responses(413, 422),
                    },
                }
            },
            "/campaigns/{id}/phases": {
                "get": {
                    **operation(
                        "getCampaignPhases",
                        "The campaign's phase, status and what it may do next.",
                        None,
                        404,
                    )
                }
            },
            "/campaigns/{id}/transition": {
                "put": operation(
                    "transitionCampaign",
                    "Move a completed phase on to a later phase.",
                    body("TransitionRequest"),
                    404,
                    409,
                    413,
                    422,
                )
            },
            "/campaigns/{id}/events": {
                "post": operation(
                    "applyEvent",
                    "Apply a lifecycle event (start, pause, resume, complete, ...).",
                    body("EventRequest"),
                    404,
                    409,
                    413,
                    422,
                )
            },
            "/campaigns/{id}/progress": {
                "post": operation(
                    "reportProgress",
                    "A worker's progress report on the running phase.",
                    body("ProgressRequest"),
                    404,
                    409,
                    413,
                    422,
                )
            },
            "/campaigns/{id}/shards": {
                "put": operation(
                    "splitIntoShards",
                    "Run the current phase in shards, holding total items in all.",
                    body("ShardsRequest"),
                    404,
                    409,
                    413,
                    422,
                )
            },
            "/campaigns/{id}/shard-reports": {
                "post": operation(
                    "reportShards",
                    "Workers' shard reports, merged into one exact campaign progress.",
                    shard_reports,
                    404,
                    409,
                    413,
                    422,
                )
            },
        },
        "components": {"schemas": schemas},
    }
    return document
