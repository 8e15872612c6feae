"""Plain SVG drawing as text: boxes, arrows and their labels, for the lifecycle diagrams.

It knows nothing of the lifecycle; :mod:`phasekit._diagram` decides what goes where. The
output has no script, no stylesheet (a ``<style>`` in an SVG inlined in a page would
style the whole page), no external font and no link to any file, so it shows the same
inline in a web page, opened from disk, offline, or as an ``.svg`` file of its own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Final
from xml.sax.saxutils import escape as escape_text
from xml.sax.saxutils import quoteattr

import attrs

__all__ = ["Box", "Point", "document", "edge", "node", "node_width", "start_marker"]

#: A point of the drawing, in pixels from its top-left corner.
Point = tuple[float, float]

_FONT: Final = "sans-serif"
#: A generous average width of a sans-serif character, in ems; sizes the label backgrounds.
_CHAR_WIDTH: Final = 0.62
_BOLD_CHAR_WIDTH: Final = 0.66
_NODE_FONT_SIZE: Final = 14
_LABEL_FONT_SIZE: Final = 12
_INK: Final = "#1f2328"
_NODE_FILL: Final = "#eaf1fb"
_NODE_STROKE: Final = "#36598f"
_PAPER: Final = "#ffffff"


@attrs.frozen
class Box:
    """A rectangle given by its centre and its size."""

    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> Point:
        """The centre of the box."""
        return (self.x, self.y)

    def border_toward(self, point: Point) -> Point:
        """Return where the segment from the centre toward ``point`` leaves the box."""
        dx, dy = point[0] - self.x, point[1] - self.y
        scales = [
            half / abs(delta)
            for half, delta in ((self.width / 2, dx), (self.height / 2, dy))
            if delta
        ]
        scale = min(scales, default=0.0)
        return (self.x + dx * scale, self.y + dy * scale)


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _attributes(values: Mapping[str, str]) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in values.items())


def _text(at: Point, text: str, size: int, *, weight: str = "normal") -> str:
    # Centred on ``at``: the baseline sits a third of an em below the middle (dominant-
    # baseline is not read alike by every renderer).
    return (
        f'<text x="{_number(at[0])}" y="{_number(at[1] + size * 0.35)}" '
        f'font-family="{_FONT}" font-size="{size}" font-weight="{weight}" fill="{_INK}" '
        f'text-anchor="middle">{escape_text(text)}</text>'
    )


def node_width(label: str) -> float:
    """Return the width of a box that holds ``label`` in the bold type :func:`node` uses."""
    return len(label) * _NODE_FONT_SIZE * _BOLD_CHAR_WIDTH + 28


def _text_size(text: str, size: int) -> tuple[float, float]:
    return (len(text) * size * _CHAR_WIDTH + 8, size + 6)


def node(box: Box, label: str, *, attributes: Mapping[str, str], title: str, double: bool) -> str:
    """Return a ``<g>`` drawing ``box`` with ``label`` in it; ``double`` doubles the border."""
    left, top = box.x - box.width / 2, box.y - box.height / 2
    rects = [
        f'<rect x="{_number(left)}" y="{_number(top)}" width="{_number(box.width)}" '
        f'height="{_number(box.height)}" rx="8" fill="{_NODE_FILL}" stroke="{_NODE_STROKE}" '
        f'stroke-width="1.5"/>'
    ]
    if double:
        rects.append(
            f'<rect x="{_number(left + 3)}" y="{_number(top + 3)}" '
            f'width="{_number(box.width - 6)}" height="{_number(box.height - 6)}" rx="6" '
            f'fill="none" stroke="{_NODE_STROKE}" stroke-width="1"/>'
        )
    return (
        f"<g{_attributes(attributes)}><title>{escape_text(title)}</title>"
        + "".join(rects)
        + _text(box.centre, label, _NODE_FONT_SIZE, weight="bold")
        + "</g>"
    )


def _label_centre(points: list[Point], size: tuple[float, float], side: int) -> Point:
    """Return the centre of an edge's label: on its longest segment, or beside it."""
    segments = list(itertools.pairwise(points))
    (x1, y1), (x2, y2) = max(segments, key=lambda s: math.dist(*s))
    middle = ((x1 + x2) / 2, (y1 + y2) / 2)
    length = math.dist((x1, y1), (x2, y2))
    nx, ny = -(y2 - y1) / length, (x2 - x1) / length
    reach = (abs(nx) * size[0] / 2 + abs(ny) * size[1] / 2 + 4) * side
    return (middle[0] + nx * reach, middle[1] + ny * reach)


def edge(
    source: Box,
    target: Box,
    label: str,
    *,
    marker: str,
    attributes: Mapping[str, str],
    title: str,
    via: tuple[Point, ...] = (),
    offset: float = 0.0,
    label_side: int = 0,
) -> str:
    """Return a ``<g>`` drawing an arrow from ``source`` to ``target``, with ``label``.

    The arrow runs straight, or through the points ``via``; it ends in the marker whose
    id is ``marker``. ``offset`` moves a straight arrow that many pixels sideways, to
    the left as seen along it when positive, so that two opposite arrows between the same
    boxes run side by side. The label sits on the middle of the arrow's longest segment
    when ``label_side`` is 0, else beside it: 1 on the arrow's left, -1 on its right.
    """
    if offset and not via:
        dx, dy = target.x - source.x, target.y - source.y
        length = math.hypot(dx, dy)
        shift_x, shift_y = -dy / length * offset, dx / length * offset
        source = attrs.evolve(source, x=source.x + shift_x, y=source.y + shift_y)
        target = attrs.evolve(target, x=target.x + shift_x, y=target.y + shift_y)
    first = via[0] if via else target.centre
    last = via[-1] if via else source.centre
    points = [source.border_toward(first), *via, target.border_toward(last)]
    path = " ".join(f"{_number(x)},{_number(y)}" for x, y in points)
    size = _text_size(label, _LABEL_FONT_SIZE)
    centre = _label_centre(points, size, label_side)
    background = (
        f'<rect x="{_number(centre[0] - size[0] / 2)}" y="{_number(centre[1] - size[1] / 2)}" '
        f'width="{_number(size[0])}" height="{_number(size[1])}" rx="3" fill="{_PAPER}"/>'
    )
    return (
        f"<g{_attributes(attributes)}><title>{escape_text(title)}</title>"
        f'<polyline points="{path}" fill="none" stroke="{_INK}" stroke-width="1.4" '
        f'stroke-linejoin="round" marker-end="url(#{marker})"/>'
        + background
        + _text(centre, label, _LABEL_FONT_SIZE)
        + "</g>"
    )


def start_marker(box: Box, *, marker: str, attributes: Mapping[str, str], title: str) -> str:
    """Return a ``<g>`` drawing a dot above ``box`` with an arrow into it: "starts here"."""
    top = box.y - box.height / 2
    return (
        f"<g{_attributes(attributes)}><title>{escape_text(title)}</title>"
        f'<circle cx="{_number(box.x)}" cy="{_number(top - 34)}" r="6" fill="{_INK}"/>'
        f'<line x1="{_number(box.x)}" y1="{_number(top - 28)}" x2="{_number(box.x)}" '
        f'y2="{_number(top)}" stroke="{_INK}" stroke-width="1.4" marker-end="url(#{marker})"/>'
        "</g>"
    )


def document(
    width: float,
    height: float,
    parts: list[str],
    *,
    name: str,
    title: str,
    description: str,
) -> str:
    """Return a whole ``<svg>`` element holding ``parts``, on a white ground.

    ``name`` prefixes its ids (the arrowhead marker is ``{name}-arrow``), so that several
    diagrams can be inlined in one page. It scales down to fit a narrower page.
    """
    size = f"{_number(width)} {_number(height)}"
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_number(width)}" '
            f'height="{_number(height)}" viewBox="0 0 {size}" role="img" '
            f'aria-labelledby="{name}-title {name}-desc" '
            'style="max-width: 100%; height: auto" '
            f'class="phasekit-diagram" id="{name}">',
            f'<title id="{name}-title">{escape_text(title)}</title>',
            f'<desc id="{name}-desc">{escape_text(description)}</desc>',
            "<defs>",
            f'<marker id="{name}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="7" markerHeight="7" markerUnits="strokeWidth" orient="auto">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{_INK}"/></marker>',
            "</defs>",
            f'<rect width="{_number(width)}" height="{_number(height)}" rx="6" fill="{_PAPER}"/>',
            *parts,
            "</svg>",
        ]
    )
