"""Legacy-to-phase mapping: the presets, the bulk path, the report and the rollback."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from phasekit import (
    DEFAULT_MAPPING,
    LEGACY_CAMPAIGN_TYPES,
    LEGACY_STATUSES,
    PLAN_MAPPING,
    InvalidValue,
    LegacyMapping,
    MappingError,
    MappingReport,
    Phase,
    PhaseState,
    PhaseStatus,
    map_legacy,
    map_legacy_rows,
    to_legacy,
)
from tests import strategies as st

P, S = Phase, PhaseStatus
# The plan's section 2.2 and the DEFAULT_MAPPING, written out independently.
PLAN_TYPES = {
    "domain_generation": P.DOMAIN_GENERATION,
    "dns_validation": P.DNS_VALIDATION,
    "http_keyword_validation": P.HTTP_VALIDATION,
}
DEFAULT_STATUSES = {
    "pending": S.PENDING,
    "queued": S.PENDING,
    "running": S.RUNNING,
    "pausing": S.PAUSED,
    "paused": S.PAUSED,
    "completed": S.COMPLETED,
    "failed": S.FAILED,
    "archived": S.COMPLETED,
    "cancelled": S.CANCELLED,
}
MAPPINGS = [DEFAULT_MAPPING, PLAN_MAPPING]


def plan_status(value: str) -> PhaseStatus:
    return S(value) if value in ("running", "completed", "failed") else S.PENDING


def test_plan_mapping_reproduces_the_plan() -> None:
    for value in LEGACY_CAMPAIGN_TYPES:
        assert map_legacy(value, "running", 1.0, mapping=PLAN_MAPPING).phase is PLAN_TYPES[value]
    for value in LEGACY_STATUSES:
        state = map_legacy("dns_validation", value, None, mapping=PLAN_MAPPING)
        assert state.status is plan_status(value)
    state = map_legacy("bogus", "bogus", None, mapping=PLAN_MAPPING)
    assert (state.phase, state.status, state.progress) == (P.DOMAIN_GENERATION, S.PENDING, 0.0)


def test_default_mapping_maps_every_known_value_explicitly() -> None:
    assert dict(DEFAULT_MAPPING.types) == PLAN_TYPES
    assert dict(DEFAULT_MAPPING.statuses) == DEFAULT_STATUSES
    assert DEFAULT_MAPPING.fallback_phase is None
    assert DEFAULT_MAPPING.fallback_status is None


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_lossy_values_are_exactly_the_specified_ones(mapping: LegacyMapping) -> None:
    lossy_statuses = {v for v in LEGACY_STATUSES if mapping.is_lossy("status", v)}
    lossy_types = {v for v in LEGACY_CAMPAIGN_TYPES if mapping.is_lossy("campaign_type", v)}
    assert lossy_types == set()
    if mapping is DEFAULT_MAPPING:
        assert lossy_statuses == {"queued", "pausing", "archived"}
    else:
        assert lossy_statuses == set(LEGACY_STATUSES) - {
            "pending",
            "running",
            "completed",
            "failed",
        }
        assert mapping.is_lossy("campaign_type", "bogus")
        assert mapping.is_lossy("status", "bogus")


@pytest.mark.parametrize("mapping", MAPPINGS)
@given(row=st.legacy_rows())
def test_to_legacy_round_trips_every_non_lossy_row(
    mapping: LegacyMapping, row: tuple[str, str, float | None]
) -> None:
    campaign_type, status, progress = row
    back = to_legacy(map_legacy(*row, mapping=mapping), mapping=mapping)
    assert back[2] == (progress or 0.0)
    assert (back[0] == campaign_type) is not mapping.is_lossy("campaign_type", campaign_type)
    assert (back[1] == status) is not mapping.is_lossy("status", status)


@pytest.mark.parametrize("mapping", MAPPINGS)
@given(state=st.phase_states)
def test_to_legacy_is_defined_for_every_state(mapping: LegacyMapping, state: PhaseState) -> None:
    campaign_type, status, progress = to_legacy(state, mapping=mapping)
    assert campaign_type in LEGACY_CAMPAIGN_TYPES
    assert status in LEGACY_STATUSES
    assert progress == state.progress


def test_to_legacy_uses_the_same_name_else_the_first_mapped_value() -> None:
    assert to_legacy(PhaseState("http_validation", "completed", 100.0)) == (
        "http_keyword_validation",
        "completed",
        100.0,
    )
    assert to_legacy(PhaseState("dns_validation", "paused"), mapping=PLAN_MAPPING)[1] == "paused"


def test_to_legacy_with_a_mapping_that_cannot_roll_back() -> None:
    narrow = LegacyMapping(types={"dns": "dns_validation"}, statuses={"go": "running"})
    assert to_legacy(PhaseState("dns_validation", "running"), mapping=narrow) == ("dns", "go", 0.0)
    with pytest.raises(MappingError, match="no legacy campaign_type for 'http_validation'"):
        to_legacy(PhaseState("http_validation", "running"), mapping=narrow)
    with pytest.raises(MappingError, match="no legacy status for 'paused'"):
        to_legacy(PhaseState("dns_validation", "paused"), mapping=narrow)
    with pytest.raises(InvalidValue):
        to_legacy("dns_validation/running")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (("ftp_validation", "running", 1.0), "campaign_type", "unknown campaign_type 'ftp_va"),
        (("dns_validation", "sleeping", 1.0), "status", "unknown status 'sleeping'"),
        ((None, "running", 1.0), "campaign_type", "must be a string"),
        (("dns_validation", b"running", 1.0), "status", "must be a string"),
        (("dns_validation", "running", float("nan")), "progress_percentage", "NaN"),
        (("dns_validation", "running", float("inf")), "progress_percentage", "outside"),
        (("dns_validation", "running", -0.5), "progress_percentage", "outside"),
        (("dns_validation", "running", 100.5), "progress_percentage", "outside"),
        (("dns_validation", "running", "50"), "progress_percentage", "not a number"),
        (("dns_validation", "running", True), "progress_percentage", "not a number"),
    ],
)
def test_map_legacy_errors_name_column_and_value(
    row: tuple[object, object, object], column: str, message: str
) -> None:
    with pytest.raises(MappingError, match=message) as caught:
        map_legacy(*row)  # type: ignore[arg-type]
    assert caught.value.column == column
    assert caught.value.row is None
    assert (
        caught.value.value is row[("campaign_type", "status", "progress_percentage").index(column)]
    )
    with pytest.raises(MappingError) as in_bulk:
        list(map_legacy_rows([("dns_validation", "running", 1.0), row]))  # type: ignore[list-item]
    assert in_bulk.value.row == 1
    assert in_bulk.value.column == column
    assert "in row 1" in str(in_bulk.value)


def test_int_progress_is_accepted() -> None:
    assert map_legacy("dns_validation", "running", 50).progress == 50.0
    assert next(iter(map_legacy_rows([("dns_validation", "running", 7)])))[2] == 7.0


@pytest.mark.parametrize("row", [("a", "b"), ("a", "b", 1.0, 2), None, 5, "abc"])
def test_malformed_rows_raise_mapping_error(row: object) -> None:
    with pytest.raises(MappingError, match="row 0 must be a") as caught:
        list(map_legacy_rows([row]))  # type: ignore[list-item]
    assert caught.value.row == 0


@pytest.mark.parametrize("mapping", MAPPINGS)
@given(rows=hs.lists(st.legacy_rows(unknown=True), max_size=40))
def test_bulk_path_agrees_with_map_legacy_and_counts_everything(
    mapping: LegacyMapping, rows: list[tuple[str, str, float | None]]
) -> None:
    if mapping is DEFAULT_MAPPING:
        rows = [r for r in rows if r[0] in LEGACY_CAMPAIGN_TYPES and r[1] in LEGACY_STATUSES]
    report = MappingReport()
    mapped = list(map_legacy_rows(rows, mapping=mapping, report=report))
    assert mapped == [
        (s.phase, s.status, s.progress) for s in (map_legacy(*r, mapping=mapping) for r in rows)
    ]
    assert report.rows == len(rows)
    assert report.null_progress == sum(r[2] is None for r in rows)
    expected_lossy: Counter[tuple[str, str]] = Counter()
    for row in rows:
        back = to_legacy(map_legacy(*row, mapping=mapping), mapping=mapping)
        for column, given_value, returned in (
            ("campaign_type", row[0], back[0]),
            ("status", row[1], back[1]),
        ):
            if given_value != returned:
                expected_lossy[column, given_value] += 1
    assert report.lossy == dict(expected_lossy)
    assert report.unknown == {}
    rebuilt = MappingReport.from_counts(
        Counter(r[0] for r in rows),
        list(Counter(r[1] for r in rows).items()),
        null_progress=report.null_progress,
        mapping=mapping,
    )
    assert (rebuilt.rows, rebuilt.lossy, rebuilt.null_progress, rebuilt.summary()) == (
        report.rows,
        report.lossy,
        report.null_progress,
        report.summary(),
    )


def test_report_is_updated_as_rows_are_consumed() -> None:
    def endless() -> Iterator[tuple[str, str, float | None]]:
        for index in itertools.count():
            yield ("dns_validation", "queued" if index % 2 else "running", None)

    report = MappingReport()
    mapped = map_legacy_rows(endless(), report=report)
    assert report.rows == 0
    first = list(itertools.islice(mapped, 5))
    assert len(first) == 5
    assert report.rows == 5
    assert report.lossy == {("status", "queued"): 2}
    assert report.null_progress == 5


def test_a_failing_row_is_not_counted() -> None:
    report = MappingReport()
    with pytest.raises(MappingError):
        list(
            map_legacy_rows(
                [("dns_validation", "running", 1.0), ("dns_validation", "x", 1.0)], report=report
            )
        )
    assert report.rows == 1
    assert report.status_counts == {"running": 1}


def test_report_from_counts_lists_unknown_values_without_raising() -> None:
    report = MappingReport.from_counts(
        [("dns_validation", 10), ("ftp", 2)],
        {"running": 7, "archived": 3, "zombie": 2},
        null_progress=4,
    )
    assert report.rows == 12
    assert report.unknown == {("campaign_type", "ftp"): 2, ("status", "zombie"): 2}
    assert report.lossy == {("status", "archived"): 3}
    text = report.summary()
    assert text.index("unknown values") < text.index("lossy values") < text.index("campaign_type:")
    assert "campaign_type 'ftp': 2 rows" in text
    assert "unknown values (migration would fail on these rows): 4 rows" in text
    assert text.endswith(
        "lossy values (not recoverable from the phase columns alone; the backup keeps them): "
        "3 rows\n"
        "  status 'archived': 3 rows -> completed (reads back as 'completed')\n"
        "campaign_type:\n"
        "  dns_validation  10 -> dns_validation\n"
        "  ftp              2 -> ?\n"
        "status:\n"
        "  archived         3 -> completed\n"
        "  running          7 -> running\n"
        "  zombie           2 -> ?"
    )
    assert "12 rows; 4 with NULL progress" in text
    assert "MappingReport(rows=12" in repr(report)


def test_summary_counts_have_thousands_separators_and_lines_fit_100_columns() -> None:
    report = MappingReport.from_counts(
        {"http_keyword_validation": 2_000_000},
        {"queued": 1_999_999, "paused": 1},
        null_progress=12_345,
    )
    text = report.summary()
    assert text.startswith("2,000,000 rows; 12,345 with NULL progress (mapped to 0.0)\n")
    assert "the backup keeps them): 1,999,999 rows\n  status 'queued': 1,999,999 rows" in text
    assert "\n  paused                           1 -> paused\n" in text
    assert "\n  queued                   1,999,999 -> pending" in text
    assert max(len(line) for line in text.splitlines()) < 100


def test_an_empty_report() -> None:
    report = MappingReport()
    assert (report.rows, report.null_progress, report.lossy, report.unknown) == (0, 0, {}, {})
    assert "none" in report.summary()
    assert report.mapping is DEFAULT_MAPPING


def test_plan_report_marks_the_silent_loss() -> None:
    report = MappingReport.from_counts(
        {"domain_generation": 6}, {"paused": 1, "cancelled": 2, "archived": 3}, mapping=PLAN_MAPPING
    )
    assert report.lossy == {
        ("status", "paused"): 1,
        ("status", "cancelled"): 2,
        ("status", "archived"): 3,
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"type_counts": {"x": -1}, "status_counts": {}},
        {"type_counts": {"x": 1.5}, "status_counts": {}},
        {"type_counts": {}, "status_counts": {}, "null_progress": -1},
        {"type_counts": {}, "status_counts": {}, "mapping": "default"},
    ],
)
def test_report_from_counts_rejects_bad_counts(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        MappingReport.from_counts(**bad)  # type: ignore[arg-type]


def test_report_is_bound_to_one_mapping() -> None:
    report = MappingReport()
    list(map_legacy_rows([("dns_validation", "running", 1.0)], report=report))
    with pytest.raises(InvalidValue, match="one mapping"):
        map_legacy_rows([], mapping=PLAN_MAPPING, report=report)
    list(map_legacy_rows([("dns_validation", "paused", 1.0)], report=report))
    assert report.rows == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"types": [("a", "dns_validation")], "statuses": {}},
        {"types": {"": "dns_validation"}, "statuses": {}},
        {"types": {5: "dns_validation"}, "statuses": {}},
        {"types": {"a\x00": "dns_validation"}, "statuses": {}},
        {"types": {"a": "dns"}, "statuses": {}},
        {"types": {}, "statuses": {"a": "done"}},
        {"types": {}, "statuses": {}, "fallback_phase": "x"},
        {"types": {}, "statuses": {}, "fallback_status": 1},
    ],
)
def test_legacy_mapping_validates_its_tables(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        LegacyMapping(**kwargs)  # type: ignore[arg-type]


def test_legacy_mapping_tables_are_read_only_copies() -> None:
    source = {"a": "dns_validation"}
    mapping = LegacyMapping(types=source, statuses={"b": S.RUNNING})
    source["c"] = "http_validation"
    assert dict(mapping.types) == {"a": P.DNS_VALIDATION}
    with pytest.raises(TypeError):
        mapping.types["d"] = P.DNS_VALIDATION  # type: ignore[index]


def test_bad_arguments_raise_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        map_legacy("dns_validation", "running", 1.0, mapping=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        map_legacy_rows([], report={})  # type: ignore[arg-type]


def test_fallback_values_stay_on_the_fast_path_and_are_counted() -> None:
    rows = [("weird", "odd", 3.0)] * 3
    report = MappingReport()
    out = list(map_legacy_rows(rows, mapping=PLAN_MAPPING, report=report))
    assert out == [(P.DOMAIN_GENERATION, S.PENDING, 3.0)] * 3
    assert report.lossy == {("campaign_type", "weird"): 3, ("status", "odd"): 3}


def test_rows_are_numbered_within_each_call_even_when_a_report_is_shared() -> None:
    report = MappingReport()
    good = [("dns_validation", "running", 1.0)] * 3
    first = map_legacy_rows(good, report=report)
    second = map_legacy_rows([good[0], ("dns_validation", "x", 1.0)], report=report)
    next(second)
    next(first)
    next(first)
    with pytest.raises(MappingError, match="in row 1") as caught:
        next(second)
    assert caught.value.row == 1
    assert report.rows == 3


def test_a_call_counts_into_the_report_while_it_runs_and_after_it_ends() -> None:
    report = MappingReport()
    rows = [
        ("dns_validation", "running", 1.0),
        ("domain_generation", "queued", None),
        ("dns_validation", "running", 7),
        ("http_keyword_validation", "failed", 2.0),
    ]
    other = map_legacy_rows(rows, report=report)
    assert next(other) == (P.DNS_VALIDATION, S.RUNNING, 1.0)
    mapped = map_legacy_rows([*rows, ("dns_validation", "running", 101)], report=report)
    assert len(list(itertools.islice(mapped, 4))) == 4
    assert next(other) == (P.DOMAIN_GENERATION, S.PENDING, 0.0)
    with pytest.raises(MappingError, match="in row 4") as caught:
        next(mapped)
    assert caught.value.row == 4
    counts = (report.rows, report.null_progress, report.status_counts)
    assert counts == (6, 2, {"running": 3, "queued": 2, "failed": 1})
    del other  # dropped half-way: what it counted stays counted, once
    assert (report.rows, report.null_progress, report.status_counts) == counts
    assert report._tallies == []


def test_the_report_hands_out_one_counter_per_pair() -> None:
    report = MappingReport()
    report.bind(DEFAULT_MAPPING)
    counter = report.pair_count("dns_validation", "queued", 0)
    assert report.pair_count("dns_validation", "queued", 5) is counter
    assert (counter.phase, counter.status, counter.rows, counter.null_progress) == (
        P.DNS_VALIDATION,
        S.PENDING,
        0,
        0,
    )
    counter.rows += 2
    counter.null_progress += 1
    assert (report.rows, report.null_progress) == (2, 1)
    assert report.lossy == {("status", "queued"): 2}
    assert report.status_counts == {"queued": 2}
    with pytest.raises(MappingError, match="unknown status 'x' in row 7") as caught:
        report.pair_count("dns_validation", "x", 7)
    assert caught.value.row == 7
    assert report.rows == 2


def test_report_from_counts_names_a_bad_count() -> None:
    with pytest.raises(InvalidValue, match=r"count must be an int >= 0 \(for 'x'\); got -1"):
        MappingReport.from_counts({"x": -1}, {})
    with pytest.raises(InvalidValue, match="null_progress must be an int >= 0; got True"):
        MappingReport.from_counts({}, {}, null_progress=True)
