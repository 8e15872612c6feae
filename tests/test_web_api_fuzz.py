"""The web example under schemathesis: every operation of its OpenAPI document, all checks.

schemathesis calls the ASGI application directly (no server): each operation alone, with
data the document allows and data it does not (the examples, coverage and fuzzing phases),
then the stateful phase, which follows the document's links from a created campaign to
every operation on it, so that events, progress and transitions reach a real campaign.

Every check schemathesis has runs. One is narrowed, for the cases it cannot judge: a
request body can break a rule that JSON Schema cannot state because it relates two values
(``processed <= total``; in a shard report ``successful + failed <= processed <=
shard_total``; a report's campaign is the one in the path). The document states those
rules in words; schemathesis's generator does not read them, so it calls such a body
valid. For those bodies ``positive_data_acceptance`` is replaced by the assertion that the
answer is the 422 the rule calls for.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.test_web_api import web_api

load_all_checks()
#: Every check schemathesis registers (there is no timing check among them: `max_response_time`
#: only runs when given a limit, and this suite has no timed test).
ALL_CHECKS: list[Any] = list(CHECKS.get_all())

schema = schemathesis.openapi.from_asgi("/openapi.json", web_api.create_app(tick_seconds=None))
#: Bounded, and the same examples on every run.
BOUNDED = settings(
    max_examples=25, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


def _breaks(frame: object, campaign: str) -> bool:
    if not isinstance(frame, list) or len(frame) != 8 or not isinstance(frame[1], str):
        return False
    counts = frame[4:8]
    if not all(type(count) in (int, float) for count in counts):
        return False
    shard_total, processed, successful, failed = counts
    return processed > shard_total or successful + failed > processed or frame[1] != campaign


def breaks_an_unstated_rule(case: schemathesis.Case[Any]) -> bool:
    """Whether ``case``'s body breaks a rule relating two values, that the schema cannot
    state."""
    body: Any = case.body
    campaign = str(case.path_parameters.get("id", "")) if case.path_parameters else ""
    operation = case.operation.definition.raw.get("operationId")
    if operation == "reportProgress" and isinstance(body, dict):
        processed: Any = body.get("processed")
        total: Any = body.get("total")
        numbers = all(type(n) in (int, float) for n in (processed, total))
        return numbers and bool(processed > total)
    if operation == "reportShards":
        frames = body[1:] if isinstance(body, list) and body[:1] == ["b1"] else [body]
        return any(_breaks(frame, campaign) for frame in frames)
    return False


#: (operationId, status) of every answer the stateful phase got.
STATEFUL_ANSWERS: set[tuple[str, int]] = set()


def validate(case: schemathesis.Case[Any], response: Any, **kwargs: Any) -> None:
    if (
        case.meta is not None
        and case.meta.generation.mode.is_positive
        and (breaks_an_unstated_rule(case))
    ):
        # Valid to the schema, not to the rule stated in words: refused as malformed.
        assert response.status_code in (404, 422), response.text
        if response.status_code == 422:
            assert response.json()["error"]["code"] == "invalid_value"
        checks = [check for check in ALL_CHECKS if check is not positive_data_acceptance]
    else:
        checks = ALL_CHECKS
    case.validate_response(response, checks=checks, **kwargs)


@schema.parametrize()
@BOUNDED
def test_every_operation_with_all_checks(case: schemathesis.Case[Any]) -> None:
    validate(case, case.call())


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls that follow the links: create, then act on what was created."""

    def validate_response(
        self,
        response: Any,
        case: schemathesis.Case[Any],
        additional_checks: Any = None,
        **kwargs: Any,
    ) -> None:
        STATEFUL_ANSWERS.add((case.operation.definition.raw["operationId"], response.status_code))
        validate(case, response, transport_kwargs=kwargs or None, recorder=self.recorder)


class TestStatefully(Workflow.TestCase):  # type: ignore[misc,name-defined]
    settings = settings(BOUNDED, max_examples=20, stateful_step_count=6)

    def runTest(self) -> None:  # noqa: N802 - unittest's name
        super().runTest()
        # The links led from created campaigns to the operations on them: these reached
        # a real campaign (answered other than 404), the transition among them.
        reached = {operation for operation, status in STATEFUL_ANSWERS if status != 404}
        assert {"applyEvent", "transitionCampaign", "reportProgress"} <= reached
