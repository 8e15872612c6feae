"""Hypothesis strategies shared by every test module: valid values and hostile ones."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from phasekit import Event, Phase, PhaseState, PhaseStatus

#: Every Unicode character except the surrogates: the characters that UTF-8, and so JSON
#: and orjson, can carry. Spelled with categories rather than ``codec="utf-8"`` (what
#: ``st.text()`` uses by default) because Hypothesis builds a codec's table by encoding all
#: 1.1M code points, 7 to 15 seconds on a fresh clone, inside the first draw; the category
#: table costs about a second and ``warm_up`` pays it before the first test.
characters = st.characters(exclude_categories=["Cs"])


def texts(*, min_size: int = 0, max_size: int) -> st.SearchStrategy[str]:
    """Any text of the given length, from ``characters``."""
    return st.text(characters, min_size=min_size, max_size=max_size)


phases = st.sampled_from(Phase)
statuses = st.sampled_from(PhaseStatus)
events = st.sampled_from(Event)

#: Every valid progress percentage, the edges included.
progresses = st.one_of(
    st.sampled_from([0.0, 100.0, 50.0, 0.1, 99.9]),
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
    st.integers(min_value=0, max_value=100),
)

#: Any valid record, whatever the lifecycle thinks of the combination.
phase_states = st.builds(PhaseState, phases, statuses, progresses)

#: Valid transition reasons (non-empty after stripping, at most 500 characters).
reasons = texts(min_size=1, max_size=500).filter(lambda text: text.strip() != "")

#: Values that are not a member or exact value of any of phasekit's enums.
not_enum_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=20),
    texts(max_size=20).filter(
        lambda text: text not in {m.value for kind in (Phase, PhaseStatus, Event) for m in kind}
    ),
    st.lists(st.integers(), max_size=2),
    st.sampled_from([name.upper() for kind in (Phase, PhaseStatus, Event) for name in kind]),
)

#: Values that are not a valid progress percentage.
bad_progresses = st.one_of(
    st.booleans(),
    st.none(),
    texts(max_size=5),
    st.floats().filter(lambda value: math.isnan(value) or not 0.0 <= value <= 100.0),
    st.integers().filter(lambda value: not 0 <= value <= 100),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0001, 100.0001, 10**400]),
)

# --- legacy rows -------------------------------------------------------------------------

from phasekit import LEGACY_CAMPAIGN_TYPES, LEGACY_STATUSES  # noqa: E402

#: Strings that are not legacy vocabulary (a quote included, to exercise SQL quoting).
unknown_legacy_values = st.one_of(
    st.sampled_from(["", "QUEUED", "o'brien", "http_validation", "deleted", " running"]),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12),
).filter(lambda text: text not in LEGACY_CAMPAIGN_TYPES and text not in LEGACY_STATUSES)

#: Legacy progress: NULL, the edges, any percentage.
legacy_progresses = st.one_of(
    st.none(),
    st.sampled_from([0.0, 100.0, 0.5, 99.99, 5e-324]),
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
)


def legacy_rows(*, unknown: bool = False) -> st.SearchStrategy[tuple[str, str, float | None]]:
    """Legacy (campaign_type, status, progress_percentage) rows; unknown strings if asked."""
    types = st.sampled_from(LEGACY_CAMPAIGN_TYPES)
    statuses_ = st.sampled_from(LEGACY_STATUSES)
    if unknown:
        types = st.one_of(types, unknown_legacy_values)
        statuses_ = st.one_of(statuses_, unknown_legacy_values)
    return st.tuples(types, statuses_, legacy_progresses)


# --- messages ----------------------------------------------------------------------------

import uuid  # noqa: E402

from phasekit.codec import (  # noqa: E402
    MAX_INTEGER,
    MAX_SHARD,
    MAX_TIMESTAMP_MS,
    ProgressMessage,
    ShardReport,
    TransitionMessage,
)

campaign_ids = st.uuids()
counts = st.one_of(st.integers(0, 1000), st.integers(0, MAX_INTEGER))
timestamps = st.one_of(
    st.integers(1_700_000_000_000, 1_900_000_000_000), st.integers(0, MAX_TIMESTAMP_MS)
)
percentages = st.one_of(
    st.sampled_from([0.0, 100.0, 50.0, 5e-324, 99.99999999999999]),
    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
)


@st.composite
def counts_within(draw: st.DrawFn, total: int) -> tuple[int, int, int]:
    """``(processed, successful, failed)`` with ``successful + failed <= processed <= total``."""
    processed = draw(st.integers(0, total))
    successful = draw(st.integers(0, processed))
    return processed, successful, draw(st.integers(0, processed - successful))


@st.composite
def progress_messages(
    draw: st.DrawFn, campaign_id: st.SearchStrategy[uuid.UUID] = campaign_ids
) -> ProgressMessage:
    total = draw(counts)
    processed, successful, failed = draw(counts_within(total))
    return ProgressMessage(
        draw(campaign_id),
        draw(phases),
        draw(statuses),
        draw(percentages),
        processed,
        total,
        successful,
        failed,
        draw(counts),
        draw(timestamps),
    )


@st.composite
def transition_messages(draw: st.DrawFn) -> TransitionMessage:
    ordered = list(Phase)
    previous = draw(st.integers(0, len(ordered) - 2))
    new = draw(st.integers(previous + 1, len(ordered) - 1))
    return TransitionMessage(
        draw(campaign_ids),
        ordered[previous],
        ordered[new],
        draw(statuses),
        draw(reasons),
        draw(counts),
        draw(timestamps),
    )


messages = st.one_of(progress_messages(), transition_messages())


@st.composite
def shard_reports(
    draw: st.DrawFn, campaign_id: st.SearchStrategy[uuid.UUID] = campaign_ids
) -> ShardReport:
    shard_total = draw(counts)
    processed, successful, failed = draw(counts_within(shard_total))
    shard = draw(st.one_of(st.integers(0, 100), st.integers(0, MAX_SHARD)))
    return ShardReport(
        draw(campaign_id), draw(phases), shard, shard_total, processed, successful, failed
    )


#: Anything a compact frame carries: the client messages and the workers' shard reports.
frames = st.one_of(messages, shard_reports())

#: Any JSON value, for swapping into valid frames.
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        texts(max_size=40),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


def warm_up() -> None:
    """Build, once per session, the tables every strategy here needs (Hypothesis's Unicode
    category map above all), so that no test pays that one-time cost inside a draw, where
    the ``too_slow`` health check would count it against the test's strategy."""
    for strategy in (characters, reasons, not_enum_values, unknown_legacy_values, json_values):
        strategy.validate()
