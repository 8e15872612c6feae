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
    assert set(transition["responses"]) == {"200", "404", "409", "413", "422"}
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


def test_every_error_response_is_the_one_error_shape() -> None:
    document = as_json(schema.openapi_document())
    errors = 0
    for path in document["paths"].values():
        for operation in path.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    errors += 1
                    content = response["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/Error"}, status
    assert errors >= 20
    shape = document["components"]["schemas"]["Error"]
    assert shape["required"] == ["error"]
    assert shape["properties"]["error"]["required"] == ["status", "code", "message"]


def test_a_created_campaign_links_to_every_operation_on_it() -> None:
    document = as_json(schema.openapi_document())
    operations = {
        operation["operationId"]: path
        for path, methods in document["paths"].items()
        for operation in methods.values()
    }
    on_a_campaign = {name for name, path in operations.items() if "{id}" in path}
    assert on_a_campaign == {
        "getCampaignPhases",
        "transitionCampaign",
        "applyEvent",
        "reportProgress",
        "splitIntoShards",
        "reportShards",
    }
    created = document["paths"]["/campaigns"]["post"]["responses"]["201"]
    assert set(created["links"]) == on_a_campaign
    for link in created["links"].values():
        assert link["parameters"] == {"id": "$response.body#/id"}
    # The link reads the field the response really has.
    phases = document["components"]["schemas"]["CampaignPhases"]
    assert "id" in phases["required"]
    assert phases["properties"]["id"]["format"] == "uuid"


def test_name_rules_are_stated() -> None:
    document = as_json(schema.openapi_document())
    name = document["components"]["schemas"]["CreateCampaignRequest"]["properties"]["name"]
    validator = jsonschema.Draft202012Validator(name)
    assert name["maxLength"] == 255
    assert validator.is_valid("spring domains")
    for bad in ("", "   ", "n" * 256, "a\x00b", "a\u202eb", "a\u2066b", "a\x85b"):
        assert not validator.is_valid(bad), repr(bad)
