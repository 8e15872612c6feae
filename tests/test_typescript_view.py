"""The TypeScript ProgressView, compiled by the real tsc and run by Node on streams of
frames that the Python ProgressView also applies: Node must answer every apply, keep every
campaign's message and answer every query exactly as Python does."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from phasekit import InvalidValue, ProgressMessage, ProgressView, codec
from phasekit.codec import Frame
from tests import strategies as st
from tests.typescript_tools import as_typescript, node_results

# Python's message is "message must be a ProgressMessage; got <the message>": Node's says
# the same before the ";".
WRONG_KIND = "message must be a ProgressMessage;"


def python_view(frames: list[str], queries: list[str]) -> dict[str, Any]:
    """What the Python ProgressView answers for a stream, shaped as the Node runner writes
    it (an error is ``True`` here; its text is checked apart)."""
    view = ProgressView()
    steps: list[dict[str, Any]] = []
    for frame in frames:
        message = codec.decode(frame)
        try:
            step: dict[str, Any] = {"applied": view.apply(message)}  # type: ignore[arg-type]
        except InvalidValue as error:
            assert str(error).startswith(WRONG_KIND)
            step = {"error": True}
        kept = view.get(message.campaign_id)
        step["kept"] = None if kept is None else as_typescript(kept)
        steps.append(step)
    answers: list[dict[str, Any]] = []
    for query in queries:
        try:
            kept = view.get(query)
        except InvalidValue:
            answers.append({"error": True})
        else:
            answers.append({"value": None if kept is None else as_typescript(kept)})
    return {
        "steps": steps,
        "campaigns": [str(campaign) for campaign in view],
        "size": len(view),
        "queries": answers,
    }


def node_view(result: dict[str, Any]) -> dict[str, Any]:
    """Node's answers with each error's text checked and replaced by ``True``."""
    for step in result["steps"]:
        if "error" in step:
            assert step["error"].startswith(WRONG_KIND), step
            step["error"] = True
    for answer in result["queries"]:
        if "error" in answer:
            assert answer["error"].startswith("campaignId must be"), answer
            answer["error"] = True
    return result


@hs.composite
def streams(draw: hs.DrawFn) -> dict[str, list[str]]:
    """Frames of a few campaigns with small sequence numbers, so that equal, lower and
    higher sequences, duplicates, transitions and shard reports all meet in one view; and
    queries: every campaign, one never seen, and text that is no canonical id."""
    pool = draw(hs.lists(st.campaign_ids, min_size=1, max_size=3, unique=True))
    ids = hs.sampled_from(pool)
    frames: list[str] = []
    for _ in range(draw(hs.integers(0, 30))):
        how = draw(hs.integers(0, 7))
        message: Frame
        if how == 0 and frames:
            frames.append(draw(hs.sampled_from(frames)))  # a duplicate, or a late copy
            continue
        if how == 1:
            message = attrs.evolve(draw(st.transition_messages()), campaign_id=draw(ids))
        elif how == 2:
            message = draw(st.shard_reports(ids))
        else:
            message = attrs.evolve(
                draw(st.progress_messages(ids)), sequence=draw(hs.integers(0, 5))
            )
        frames.append(codec.encode(message).decode())
    unseen = draw(st.campaign_ids.filter(lambda campaign: campaign not in pool))
    queries = [str(campaign) for campaign in [*pool, unseen]]
    queries += [queries[0].upper(), "{" + queries[0] + "}", "", "not a uuid"]
    return {"frames": frames, "queries": queries}


def progress(sequence: int, percent: float, campaign: int = 1) -> str:
    message = ProgressMessage(
        uuid.UUID(int=campaign), "dns_validation", "running", percent, 5, 100, sequence=sequence
    )
    return codec.encode(message).decode()


def other_kinds(campaign: int = 1) -> list[str]:
    transition = attrs.evolve(codec.EXAMPLE_TRANSITION, campaign_id=uuid.UUID(int=campaign))
    report = attrs.evolve(codec.EXAMPLE_SHARD_REPORT, campaign_id=uuid.UUID(int=campaign))
    return [codec.encode(transition).decode(), codec.encode(report).decode()]


# A stream whose every answer is written out: first, newer, equal (another message),
# older, a duplicate, a transition and a shard report, a second campaign, a newer one.
FIXED_STREAM = {
    "frames": [
        progress(3, 30.0),
        progress(5, 50.0),
        progress(5, 55.0),
        progress(4, 40.0),
        progress(5, 50.0),
        *other_kinds(),
        progress(0, 1.0, campaign=2),
        progress(6, 60.0),
    ],
    "queries": [str(uuid.UUID(int=1)), str(uuid.UUID(int=3)), "nope"],
}


def test_the_fixed_stream_gives_what_python_promises(compiled: list[Path], tmp_path: Path) -> None:
    expected = python_view(FIXED_STREAM["frames"], FIXED_STREAM["queries"])
    applied = [step.get("applied", "error") for step in expected["steps"]]
    assert applied == [True, True, False, False, False, "error", "error", True, True]
    kept = [step["kept"] and step["kept"]["progressPercent"] for step in expected["steps"]]
    assert kept == [30.0, 50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 1.0, 60.0]
    assert expected["campaigns"] == [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))]
    assert expected["size"] == 2
    assert [answer.get("error") for answer in expected["queries"]] == [None, None, True]
    assert expected["queries"][1] == {"value": None}
    for module in compiled:
        vectors = {"frames": [], "batches": [], "states": [], "views": [FIXED_STREAM]}
        (result,) = node_results(module, vectors, tmp_path)["views"]
        assert node_view(result) == expected


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[
        HealthCheck.large_base_example,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(hs.lists(streams(), min_size=20, max_size=20))
def test_node_keeps_exactly_what_python_keeps(
    compiled: list[Path],
    tmp_path_factory: pytest.TempPathFactory,
    drawn: list[dict[str, list[str]]],
) -> None:
    expected = [python_view(stream["frames"], stream["queries"]) for stream in drawn]
    vectors = {"frames": [], "batches": [], "states": [], "views": drawn}
    for module in compiled:
        results = node_results(module, vectors, tmp_path_factory.mktemp("views"))["views"]
        for stream, mine, theirs in zip(drawn, expected, results, strict=True):
            assert node_view(theirs) == mine, stream
