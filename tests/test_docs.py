"""The documentation covers every public name, each with a docstring."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import phasekit
from phasekit import cli, codec, schema

ROOT = Path(__file__).resolve().parent.parent
API = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"\.\. (?:auto\w+|py:data):: ([\w.]+)", API))

PUBLIC = sorted(
    {f"phasekit.{name}" for name in phasekit.__all__ if name != "__version__"}
    | {f"phasekit.codec.{name}" for name in codec.__all__ if name not in phasekit.__all__}
    | {f"phasekit.schema.{name}" for name in schema.__all__}
    | {f"phasekit.cli.{name}" for name in cli.__all__}
)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_in_the_api_reference(name: str) -> None:
    module, _, attribute = name.rpartition(".")
    owner = {
        "phasekit": phasekit,
        "phasekit.codec": codec,
        "phasekit.schema": schema,
        "phasekit.cli": cli,
    }[module]
    value = getattr(owner, attribute)
    aliases = {name}
    if module == "phasekit.codec" and attribute in phasekit.__all__:
        aliases.add(f"phasekit.{attribute}")
    assert aliases & DOCUMENTED, f"{name} is missing from docs/api.md"
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), f"{name} has no docstring"


def test_reexports_are_the_same_objects() -> None:
    for name in codec.__all__:
        if name in phasekit.__all__:
            assert getattr(phasekit, name) is getattr(codec, name)


def test_changelog_is_included_in_the_docs() -> None:
    assert "../CHANGELOG.md" in (ROOT / "docs" / "changelog.md").read_text(encoding="utf-8")
