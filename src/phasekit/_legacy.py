"""Transitional alias of :mod:`phasekit.legacy`, for ``codec.py``'s import line only.

Remove this module once codec imports ``from phasekit.legacy import DEFAULT_MAPPING,
to_legacy`` (the re-layout of codec does).
"""

from __future__ import annotations

from phasekit.legacy import DEFAULT_MAPPING, to_legacy

__all__ = ["DEFAULT_MAPPING", "to_legacy"]
