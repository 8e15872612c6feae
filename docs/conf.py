"""Sphinx configuration for phasekit's docs.

Every table and diagram about the lifecycle is generated from the code at build time
(see ``_generate`` below), so the docs cannot drift from the library.
"""

from __future__ import annotations

from pathlib import Path

import phasekit
from phasekit import STATUS_RULES, Event, Phase, PhaseState, PhaseStatus

project = "phasekit"
author = "phasekit developers"
copyright = "2026, phasekit developers"
release = phasekit.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinxcontrib.mermaid",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence"]
myst_fence_as_directive = ["mermaid"]
exclude_patterns = ["_build", "_generated"]
html_theme = "furo"
html_title = f"phasekit {release}"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
nitpicky = True
nitpick_ignore_regex = [
    # Standard-library and third-party types have no inventory here (the build is offline).
    (r"py:.*", r"(typing|collections\.abc|enum|attrs|transitions|uuid)\..*"),
    (r"py:class", r"(Machine|Final|Event|Phase|PhaseStatus|PhaseState|float|int|str|bool)"),
]
doctest_global_setup = "import phasekit\nfrom phasekit import *"

GENERATED = Path(__file__).parent / "_generated"


def _lifecycle_table() -> str:
    rows = ["| from | event | to | progress |", "|---|---|---|---|"]
    for rule in STATUS_RULES:
        sources = ", ".join(source.value for source in rule.sources)
        progress = "kept" if rule.progress is None else f"becomes {rule.progress}"
        rows.append(f"| {sources} | {rule.event.value} | {rule.destination.value} | {progress} |")
    return "\n".join(rows) + "\n"


def _terminal_list() -> str:
    terminal = [
        f"- `{PhaseState(phase, status)}`"
        for phase in Phase
        for status in PhaseStatus
        if phasekit.is_terminal(PhaseState(phase, status))
    ]
    return "\n".join(terminal) + "\n"


def _enum_table() -> str:
    rows = ["| enum | values, in declaration order |", "|---|---|"]
    for kind in (Phase, PhaseStatus, Event):
        rows.append(f"| `{kind.__name__}` | {', '.join(f'`{m.value}`' for m in kind)} |")
    return "\n".join(rows) + "\n"


def _mapping_table() -> str:
    rows = [
        "| column | legacy value | DEFAULT_MAPPING | PLAN_MAPPING |",
        "|---|---|---|---|",
    ]
    columns = (
        ("campaign_type", phasekit.LEGACY_CAMPAIGN_TYPES),
        ("status", phasekit.LEGACY_STATUSES),
    )
    for column, values in columns:
        for value in values:
            cells = []
            for mapping in (phasekit.DEFAULT_MAPPING, phasekit.PLAN_MAPPING):
                target = mapping.target(column, value)  # type: ignore[arg-type]
                lossy = mapping.is_lossy(column, value)  # type: ignore[arg-type]
                cells.append(f"{target} **(lossy)**" if lossy else str(target))
            rows.append(f"| {column} | `{value}` | {' | '.join(cells)} |")
    for column in ("campaign_type", "status"):
        cells = []
        for mapping in (phasekit.DEFAULT_MAPPING, phasekit.PLAN_MAPPING):
            fallback = mapping.fallback(column)  # type: ignore[arg-type]
            cells.append("error" if fallback is None else f"{fallback} **(lossy)**")
        rows.append(f"| {column} | any other value | {' | '.join(cells)} |")
    return "\n".join(rows) + "\n"


def _sql_pages() -> dict[str, str]:
    pages = {}
    for dialect in ("postgresql", "sqlite"):
        migration = phasekit.migration_sql(dialect).to_sql()  # type: ignore[arg-type]
        rollback = phasekit.rollback_sql(dialect).to_sql()  # type: ignore[arg-type]
        lexer = "postgresql" if dialect == "postgresql" else "sql"
        pages[f"sql_{dialect}.md"] = (
            f"```{lexer}\n{migration}```\n\nRollback:\n\n```{lexer}\n{rollback}```\n"
        )
    return pages


def _generate() -> None:
    GENERATED.mkdir(exist_ok=True)
    files = {
        "lifecycle_table.md": _lifecycle_table(),
        "terminal_states.md": _terminal_list(),
        "enums.md": _enum_table(),
        "lifecycle.md": f"```mermaid\n{phasekit.lifecycle_mermaid()}```\n",
        "mapping_table.md": _mapping_table(),
        **_sql_pages(),
    }
    for name, text in files.items():
        path = GENERATED / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


_generate()
