"""The OpenAPI document, checked by openapi-spec-validator and jsonschema."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson
from openapi_spec_validator import validate as validate_openapi

from phasekit import Event, Phase, PhaseStatus, schema


def as_json(document: dict[str, schema.JSONValue]) -> Any:
    """The document as JSON gives it back: this also proves it serializes."""
    return orjson.loads(orjson.dumps(document))


def test_openapi_document_is_valid_and_carries_every_enum() -> None:
    document = as_json(schema.openapi_document())
    validate_openapi(document)
    components = document["components"]["schemas"]
    for kind in (Phase, PhaseStatus, Event):
        assert components[kind.__name__]["enum"] == [member.value for member in kind]
    transition = document["paths"]["/campaigns/{id}/transition"]["put"]
    assert set(transition["responses"]) == {"200", "404", "409", "422"}
    body = transition["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert components[body.rsplit("/", 1)[1]]["required"] == ["targetPhase", "transitionReason"]
    create = document["paths"]["/campaigns"]["post"]["requestBody"]["content"]["application/json"]
    assert set(components["CreateCampaignRequest"]["properties"]) == {
        "name",
        "initialPhase",
        "configuration",
    }
    jsonschema.Draft202012Validator(
        {**document, "$ref": "#/components/schemas/CreateCampaignRequest"}
    ).validate(create["example"])
    phases = components["CampaignPhases"]["properties"]
    assert {"currentPhase", "phaseStatus", "availableTransitions"} <= set(phases)
