"""The documentation covers every public name, each with a docstring, and builds right."""

from __future__ import annotations

import html
import inspect
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
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


@pytest.fixture(scope="module")
def built_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML docs, built once into a scratch folder, as ``make docs`` builds them."""
    out = tmp_path_factory.mktemp("docs")
    command = [sys.executable, "-m", "sphinx", "-q", "-b", "html", "-d", str(out / "doctrees")]
    done = subprocess.run(
        [*command, "docs", str(out / "html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out / "html"


def _page_text(page: str) -> str:
    """The text a reader sees in ``page``: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_concepts_page_shows_the_lifecycle_as_inline_svg(built_html: Path) -> None:
    page = (built_html / "concepts.html").read_text(encoding="utf-8")
    # No script draws it: it shows offline and from disk, as the build left it.
    scripts = re.findall(r"<script\b.*?</script>", page, re.DOTALL)
    assert not [script for script in scripts if "mermaid" in script.lower()]
    assert 'class="mermaid"' not in page
    assert "direction LR" not in page
    assert "<img" not in page
    found = re.findall(r'<svg\b[^>]*class="phasekit-diagram".*?</svg>', page, re.DOTALL)
    pictures = [ET.fromstring(svg) for svg in found]
    assert {svg.get("id") for svg in pictures} == {"status-machine", "phase-chain"}
    words = {text.text for svg in pictures for text in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {status.value for status in phasekit.PhaseStatus} <= words
    assert {phase.value for phase in phasekit.Phase} <= words
    assert {event.value for event in phasekit.Event} <= words


def test_api_reference_shows_real_defaults_and_types(built_html: Path) -> None:
    text = _page_text((built_html / "api.html").read_text(encoding="utf-8"))
    assert "attr_dict[" not in text
    assert "reason: object" not in text
    assert "campaign_id: object" not in text
    assert "PhaseState(phase: Phase | str, status: PhaseStatus | str, progress: float = 0.0)" in (
        " ".join(text.split())
    )
