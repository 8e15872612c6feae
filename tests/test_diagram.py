"""The SVG diagrams draw every status, phase, event and phase transition of the lifecycle."""

from __future__ import annotations

import contextlib
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from phasekit import (
    Event,
    InvalidTransition,
    Phase,
    PhaseState,
    PhaseStatus,
    apply_event,
    available_transitions,
    initial_state,
    is_terminal,
    phase_chain_svg,
    status_machine_svg,
    transition_to,
    transition_trigger,
)
from phasekit._diagram import STATUS_POSITIONS, STATUS_ROUTES

SVG = "{http://www.w3.org/2000/svg}"


def _groups(svg: ET.Element, css_class: str) -> list[ET.Element]:
    return [group for group in svg.iter(f"{SVG}g") if group.get("class") == css_class]


def _label(group: ET.Element) -> str:
    texts = [text.text for text in group.iter(f"{SVG}text")]
    assert len(texts) == 1
    return texts[0] or ""


def _status_edges_in(phase: Phase) -> set[tuple[str, str, str]]:
    """Every status event the functions allow in ``phase``, as (source, event, target)."""
    edges = set()
    for status, event in itertools.product(PhaseStatus, Event):
        with contextlib.suppress(InvalidTransition):
            after = apply_event(PhaseState(phase, status), event)
            assert after.phase is phase
            edges.add((status.value, event.value, after.status.value))
    return edges


def _phase_edges() -> set[tuple[str, str, str]]:
    """Every phase transition the functions allow, as (source, target, trigger)."""
    edges = set()
    for phase, status in itertools.product(Phase, PhaseStatus):
        state = PhaseState(phase, status)
        for target in available_transitions(state):
            after = transition_to(state, target, "r").current
            edges.add((str(state), str(after), transition_trigger(target)))
    return edges


@pytest.mark.parametrize("draw", [status_machine_svg, phase_chain_svg])
def test_diagram_is_one_plain_svg_element(draw: Callable[[], str]) -> None:
    text = draw()
    assert text == draw()
    svg = ET.fromstring(text)
    assert svg.tag == f"{SVG}svg"
    assert svg.get("viewBox")
    # Nothing to run or fetch: no script, no stylesheet, no link, no event handler.
    assert not list(svg.iter(f"{SVG}script"))
    assert not list(svg.iter(f"{SVG}style"))
    assert not list(svg.iter(f"{SVG}image"))
    assert not list(svg.iter(f"{SVG}a"))
    for element in svg.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            assert "href" not in name, name
            assert "://" not in value or name == "xmlns", (name, value)
    # Every arrow ends in a marker the same picture defines.
    markers = {marker.get("id") for marker in svg.iter(f"{SVG}marker")}
    used = set(re.findall(r'marker-end="url\(#([\w-]+)\)"', text))
    assert used
    assert used <= markers
    # Ids are unique, and prefixed with the picture's own, so two fit in one page.
    ids = [element.get("id") for element in svg.iter() if element.get("id")]
    assert len(ids) == len(set(ids))


def test_status_machine_draws_every_status_and_every_event_of_every_phase() -> None:
    svg = ET.fromstring(status_machine_svg())
    boxes = {group.get("id"): _label(group) for group in _groups(svg, "status")}
    assert boxes == {f"status-{status.value}": status.value for status in PhaseStatus}
    drawn = set()
    for group in _groups(svg, "event"):
        edge = (group.get("data-source"), group.get("data-event"), group.get("data-target"))
        assert _label(group) == edge[1]
        assert edge not in drawn
        drawn.add(edge)
    # The picture is of "the same in every phase": it must equal each phase's events.
    for phase in Phase:
        assert drawn == _status_edges_in(phase)
    (start,) = _groups(svg, "start")
    assert start.get("data-target") == initial_state().status.value


def test_status_machine_marks_the_statuses_terminal_in_every_phase() -> None:
    svg = ET.fromstring(status_machine_svg())
    for group in _groups(svg, "status"):
        status = PhaseStatus((group.get("id") or "").removeprefix("status-"))
        terminal = all(is_terminal(PhaseState(phase, status)) for phase in Phase)
        assert len(list(group.iter(f"{SVG}rect"))) == (2 if terminal else 1)


def test_status_layout_places_every_status_and_routes_only_real_arrows() -> None:
    assert set(STATUS_POSITIONS) == set(PhaseStatus)
    assert len(set(STATUS_POSITIONS.values())) == len(PhaseStatus)
    edges = {
        (PhaseStatus(source), PhaseStatus(target))
        for source, _, target in _status_edges_in(Phase.DOMAIN_GENERATION)
    }
    assert set(STATUS_ROUTES) <= edges


def test_phase_chain_draws_every_phase_and_every_transition() -> None:
    svg = ET.fromstring(phase_chain_svg())
    boxes = {group.get("id"): _label(group) for group in _groups(svg, "phase")}
    assert boxes == {f"phase-{phase.value}": phase.value for phase in Phase}
    drawn = set()
    for group in _groups(svg, "transition"):
        source, target = group.get("data-source") or "", group.get("data-target") or ""
        edge = (source, target, group.get("data-trigger"))
        assert edge not in drawn
        drawn.add(edge)
        source_status = source.rpartition("/")[2]
        target_status = target.rpartition("/")[2]
        assert _label(group) == f"{source_status} → {target_status}"
    assert drawn == _phase_edges()
