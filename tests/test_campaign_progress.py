"""Merging many workers' shard reports: exact, monotone, and the same in any order."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from phasekit import (
    CampaignProgress,
    InvalidValue,
    Phase,
    PhaseStatus,
    ProgressMessage,
    ShardReport,
    codec,
)
from tests.frames import CAMPAIGN

PHASE = Phase.DNS_VALIDATION


@dataclass(frozen=True)
class Campaign:
    """A campaign's shards and every report its workers sent, in the order they sent them."""

    sizes: tuple[int, ...]
    total: int
    reports: tuple[ShardReport, ...]

    def progress(self) -> CampaignProgress:
        return CampaignProgress(CAMPAIGN, PHASE, shards=len(self.sizes), total=self.total)


@hs.composite
def attempt(draw: hs.DrawFn, shard: int, size: int) -> list[ShardReport]:
    """One run of a shard's task: counts that grow, then stop (or reach the end)."""
    processed_values = sorted(draw(hs.lists(hs.integers(0, size), max_size=4)))
    if draw(hs.booleans()):
        processed_values.append(size)  # this run finishes the shard
    reports = []
    for processed in processed_values:
        successful = draw(hs.integers(0, processed))
        failed = draw(hs.integers(0, processed - successful))
        reports.append(ShardReport(CAMPAIGN, PHASE, shard, size, processed, successful, failed))
    return reports


@hs.composite
def campaigns(draw: hs.DrawFn) -> Campaign:
    """Random shards, each run one or more times: a retry restarts its count from 0."""
    sizes = tuple(draw(hs.lists(hs.integers(0, 40), min_size=1, max_size=6)))
    total = sum(sizes) + draw(hs.integers(0, 5))
    in_order: list[list[ShardReport]] = []
    for shard, size in enumerate(sizes):
        runs = draw(hs.lists(attempt(shard, size), min_size=1, max_size=3))
        in_order.append([report for run in runs for report in run])
    # Each worker's reports stay in its own order; the workers interleave at random.
    interleaved: list[ShardReport] = []
    queues = [list(reports) for reports in in_order]
    while any(queues):
        queue = draw(hs.sampled_from([queue for queue in queues if queue]))
        interleaved.append(queue.pop(0))
    return Campaign(sizes, total, tuple(interleaved))


def delivered(draw: hs.DataObject, reports: tuple[ShardReport, ...]) -> list[ShardReport]:
    """What a broker may deliver: every report one to three times, in any order."""
    copies = [report for report in reports for _ in range(draw.draw(hs.integers(1, 3)))]
    return draw.draw(hs.permutations(copies))


def figures(progress: CampaignProgress) -> tuple[int, int, int, int]:
    return (progress.processed, progress.successful, progress.failed, progress.shards_done)


def apply_all(progress: CampaignProgress, reports: list[ShardReport]) -> CampaignProgress:
    for report in reports:
        progress.apply(report)
    return progress


@given(campaigns(), hs.data())
def test_any_delivery_gives_the_state_of_in_order_delivery(
    campaign: Campaign, data: hs.DataObject
) -> None:
    expected = apply_all(campaign.progress(), list(campaign.reports))
    progress = campaign.progress()
    processed = 0
    for report in delivered(data, campaign.reports):
        before = figures(progress)
        changed = progress.apply(report)
        assert changed == (figures(progress) != before)
        assert progress.processed >= processed  # never decreases
        processed = progress.processed
    assert progress == expected
    assert figures(progress) == figures(expected)


@given(campaigns())
def test_the_merged_figures_are_exact(campaign: Campaign) -> None:
    progress = apply_all(campaign.progress(), list(campaign.reports))
    best: dict[int, tuple[int, int, int]] = {}
    for report in campaign.reports:
        counts = (report.processed, report.successful, report.failed)
        best[report.shard] = max(best.get(report.shard, counts), counts)
    assert progress.processed == sum(counts[0] for counts in best.values())
    assert progress.successful == sum(counts[1] for counts in best.values())
    assert progress.failed == sum(counts[2] for counts in best.values())
    finished = {shard for shard, counts in best.items() if counts[0] == campaign.sizes[shard]}
    assert progress.shards_done == len(finished)
    assert progress.complete == (len(finished) == len(campaign.sizes))
    assert progress.total == campaign.total
    assert 0.0 <= progress.percent <= 100.0
    if progress.total == 0:
        assert progress.percent == (100.0 if progress.complete else 0.0)
    elif progress.processed == progress.total:
        assert progress.percent == 100.0


@given(campaigns(), hs.data())
def test_merge_is_the_union(campaign: Campaign, data: hs.DataObject) -> None:
    reports = delivered(data, campaign.reports)
    split = data.draw(hs.lists(hs.booleans(), min_size=len(reports), max_size=len(reports)))
    first = apply_all(
        campaign.progress(), [r for r, left in zip(reports, split, strict=True) if left]
    )
    second = apply_all(
        campaign.progress(), [r for r, left in zip(reports, split, strict=True) if not left]
    )
    union = first.merge(second)
    assert union == apply_all(campaign.progress(), reports)
    assert union == second.merge(first)
    assert union.merge(union) == union
    # Neither input changed.
    assert first == apply_all(
        campaign.progress(), [r for r, left in zip(reports, split, strict=True) if left]
    )


def test_a_retry_that_restarts_from_zero_changes_nothing_until_it_passes() -> None:
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=1, total=100)
    assert progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 100, 60, 60, 0))
    assert not progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 100, 0))
    assert not progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 100, 59, 59, 0))
    assert progress.processed == 60
    assert progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 100, 61, 60, 1))
    assert (progress.processed, progress.successful, progress.failed) == (61, 60, 1)


def test_ties_on_processed_are_broken_by_successful_then_failed() -> None:
    reports = [
        ShardReport(CAMPAIGN, PHASE, 0, 10, 5, 2, 1),
        ShardReport(CAMPAIGN, PHASE, 0, 10, 5, 3, 0),
        ShardReport(CAMPAIGN, PHASE, 0, 10, 5, 3, 2),
    ]
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        progress = apply_all(
            CampaignProgress(CAMPAIGN, PHASE, shards=1, total=10), [reports[i] for i in order]
        )
        assert (progress.successful, progress.failed) == (3, 2)


def test_a_finished_shard_counts_once_as_done_whatever_its_later_reports() -> None:
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=2, total=20)
    assert progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 10, 10, 5, 0))
    # The same shard finished again with more successes (a retry): more advanced, still
    # one shard done.
    assert progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 10, 10, 9, 1))
    assert progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 10, 10, 10, 0))
    assert (progress.shards_done, progress.complete) == (1, False)
    assert (progress.successful, progress.failed) == (10, 0)


def test_a_shard_of_no_items_is_done_once_reported() -> None:
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=2, total=5)
    assert not progress.complete
    assert progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 0, 0))  # shards_done changed
    assert progress.shards_done == 1
    assert not progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 0, 0))
    assert progress.apply(ShardReport(CAMPAIGN, PHASE, 1, 5, 5, 5))
    assert progress.complete
    assert progress.percent == 100.0
    empty = CampaignProgress(CAMPAIGN, PHASE, shards=1, total=0)
    assert empty.percent == 0.0
    empty.apply(ShardReport(CAMPAIGN, PHASE, 0, 0, 0))
    assert (empty.complete, empty.percent) == (True, 100.0)


OTHER_CAMPAIGN = uuid.UUID(int=99)


@pytest.mark.parametrize(
    ("report", "match"),
    [
        (ShardReport(OTHER_CAMPAIGN, PHASE, 0, 10, 1), "report is for campaign"),
        (ShardReport(CAMPAIGN, Phase.HTTP_VALIDATION, 0, 10, 1), "phase http_validation"),
        (ShardReport(CAMPAIGN, PHASE, 3, 10, 1), r"shard must be in 0..2 \(shards=3\); got 3"),
        (ShardReport(CAMPAIGN, PHASE, 0, 11, 1), "reported shard_total 11, earlier 10"),
        (ShardReport(CAMPAIGN, PHASE, 2, 16, 1), "hold 31, more than total"),
    ],
)
def test_a_report_that_does_not_fit_raises_and_changes_nothing(
    report: ShardReport, match: str
) -> None:
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=3, total=30)
    progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 10, 4, 4))
    progress.apply(ShardReport(CAMPAIGN, PHASE, 1, 5, 5, 5))
    before = progress.merge(CampaignProgress(CAMPAIGN, PHASE, shards=3, total=30))
    with pytest.raises(InvalidValue, match=match):
        progress.apply(report)
    assert progress == before
    assert figures(progress) == figures(before)


@pytest.mark.parametrize(
    "arguments",
    [
        {"campaign_id": "x", "phase": PHASE, "shards": 1, "total": 1},
        {"campaign_id": CAMPAIGN, "phase": "ftp", "shards": 1, "total": 1},
        {"campaign_id": CAMPAIGN, "phase": PHASE, "shards": 0, "total": 1},
        {"campaign_id": CAMPAIGN, "phase": PHASE, "shards": 2**31 + 1, "total": 1},
        {"campaign_id": CAMPAIGN, "phase": PHASE, "shards": True, "total": 1},
        {"campaign_id": CAMPAIGN, "phase": PHASE, "shards": 1, "total": -1},
        {"campaign_id": CAMPAIGN, "phase": PHASE, "shards": 1, "total": 2**53},
    ],
)
def test_bad_arguments_raise(arguments: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        CampaignProgress(**arguments)  # type: ignore[arg-type]


def test_apply_and_merge_refuse_what_is_not_theirs() -> None:
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=1, total=1)
    with pytest.raises(InvalidValue, match="report must be a ShardReport"):
        progress.apply(codec.EXAMPLE_PROGRESS)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="other must be a CampaignProgress"):
        progress.merge("x")  # type: ignore[arg-type]
    for other in (
        CampaignProgress(CAMPAIGN, PHASE, shards=2, total=1),
        CampaignProgress(CAMPAIGN, PHASE, shards=1, total=2),
        CampaignProgress(OTHER_CAMPAIGN, PHASE, shards=1, total=1),
    ):
        with pytest.raises(InvalidValue, match="cannot merge"):
            progress.merge(other)


def test_the_campaign_message_goes_to_clients() -> None:
    progress = CampaignProgress(str(CAMPAIGN), PHASE.value, shards=2, total=3)
    progress.apply(ShardReport(CAMPAIGN, PHASE, 0, 2, 2, 1, 1))
    message = progress.message("running", sequence=7, timestamp_ms=1_764_331_200_000)
    assert message == ProgressMessage(
        CAMPAIGN, PHASE, PhaseStatus.RUNNING, 200 / 3, 2, 3, 1, 1, 7, 1_764_331_200_000
    )
    assert codec.decode(codec.encode(message)) == message
    assert progress != "not a progress"
    with pytest.raises(TypeError):
        hash(progress)
    assert repr(progress) == (
        f"CampaignProgress(campaign_id=UUID('{CAMPAIGN}'), phase=Phase.DNS_VALIDATION, "
        "shards=2, total=3, processed=2, shards_done=1)"
    )


def test_a_realistic_stream_with_a_redelivered_shard() -> None:
    # Four workers, 40 shards of 250 items; shard 13's task is redelivered after its
    # worker died at 100 and the second run reports from 0 again.
    rng = random.Random(12)
    reports = []
    for shard in range(40):
        for processed in range(0, 251, 50):
            reports.append(ShardReport(CAMPAIGN, PHASE, shard, 250, processed, processed))
        if shard == 13:
            reports += [ShardReport(CAMPAIGN, PHASE, 13, 250, p, p) for p in (0, 50, 100)]
    rng.shuffle(reports)
    progress = CampaignProgress(CAMPAIGN, PHASE, shards=40, total=10_000)
    for report in reports:
        progress.apply(report)
    assert (progress.processed, progress.complete, progress.percent) == (10_000, True, 100.0)
