"""Sphinx configuration for phasekit's docs.

Every table and diagram about the lifecycle is generated from the code at build time
(see ``_generate`` below), so the docs cannot drift from the library.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
from sphinx.application import Sphinx

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
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence"]
exclude_patterns = ["_build", "_generated"]
html_theme = "furo"
html_title = f"phasekit {release}"
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
nitpicky = True
nitpick_ignore_regex = [
    # Standard-library and third-party types have no inventory here (the build is offline).
    (r"py:.*", r"(typing|collections\.abc|enum|attrs|transitions|uuid|argparse|sqlite3)\..*"),
    (r"py:class", r"(Machine|Final|Event|Phase|PhaseStatus|PhaseState|float|int|str|bool)"),
]
doctest_global_setup = "\n".join(
    [
        "import phasekit",
        "from phasekit import *",
        "from phasekit.codec import *",
        "from phasekit.schema import *",
    ]
)

GENERATED = Path(__file__).parent / "_generated"

# attrs writes its generated __init__'s defaults as ``attr_dict['name'].default``, which
# autodoc_preserve_defaults shows verbatim; show each field's real default instead.
_ATTRS_DEFAULT = re.compile(r"attr_dict\['(\w+)'\]\.default")


def _attrs_defaults(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    if signature is None or not (isinstance(obj, type) and attrs.has(obj)):
        return None
    fields = attrs.fields_dict(obj)

    def real_default(match: re.Match[str]) -> str:
        return repr(fields[match.group(1)].default)

    return _ATTRS_DEFAULT.sub(real_default, signature), return_annotation


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the hooks above."""
    app.connect("autodoc-process-signature", _attrs_defaults)
    return {"parallel_read_safe": True}


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
        lexer = "postgresql" if dialect == "postgresql" else "sql"
        page = f"```{lexer}\n{migration}```\n"
        if dialect == "postgresql":
            rollback = phasekit.rollback_sql(dialect).to_sql()
            page += f"\nRollback, whether or not contract ran:\n\n```{lexer}\n{rollback}```\n"
        else:
            for contracted, situation in (
                (True, "after contract (`phasekit sql rollback --contracted`)"),
                (False, "when contract did not run or was refused (`--no-contracted`)"),
            ):
                rollback = phasekit.rollback_sql(dialect, contracted=contracted).to_sql()
                page += f"\nRollback {situation}:\n\n```{lexer}\n{rollback}```\n"
        pages[f"sql_{dialect}.md"] = page
    return pages


def _wire_tables() -> dict[str, str]:
    from phasekit import codec

    def table(tag: str, fields: tuple[codec.WireField, ...]) -> str:
        rows = ["| position | field | kind | verbose key | meaning |", "|---|---|---|---|---|"]
        rows.append(f"| 0 | tag | string | `type` | `{tag!r}` |")
        for position, field in enumerate(fields, start=1):
            verbose = f"`{field.verbose}`" if field.verbose else "`timestamp` (RFC 3339)"
            rows.append(f"| {position} | `{field.name}` | {field.kind} | {verbose} | {field.doc} |")
        return "\n".join(rows) + "\n"

    def compact_table(tag: str, fields: tuple[codec.WireField, ...]) -> str:
        # A frame with no verbose envelope (a shard report): no verbose-key column.
        rows = ["| position | field | kind | meaning |", "|---|---|---|---|"]
        rows.append(f"| 0 | tag | string | `{tag!r}` |")
        for position, field in enumerate(fields, start=1):
            rows.append(f"| {position} | `{field.name}` | {field.kind} | {field.doc} |")
        return "\n".join(rows) + "\n"

    codes = ["| code | phase |", "|---|---|"] + [
        f"| {code} | `{phase}` |" for phase, code in codec.PHASE_CODES.items()
    ]
    codes += ["", "| code | status |", "|---|---|"] + [
        f"| {code} | `{status}` |" for status, code in codec.STATUS_CODES.items()
    ]
    import uuid

    sample = codec.EXAMPLE_PROGRESS
    compact = codec.encode(sample)
    verbose = codec.encode_verbose(sample)
    legacy = codec.encode_legacy(sample, message_id=uuid.UUID(int=12345))
    sizes = (
        "| format | bytes |\n|---|---|\n"
        f"| compact | {len(compact)} |\n"
        f"| verbose `campaign.progress` | {len(verbose)} |\n"
        f"| legacy `campaign_progress` | {len(legacy)} |\n"
        f"| legacy dual broadcast (both) | {len(verbose) + len(legacy)} |\n\n"
        f"The compact frame is {len(compact) / (len(verbose) + len(legacy)):.1%} of the "
        "dual broadcast.\n\n"
        f"```json\n{compact.decode()}\n```\n\n```json\n{verbose.decode()}\n```\n\n"
        f"```json\n{legacy.decode()}\n```\n"
    )
    return {
        "progress_fields.md": table(codec.PROGRESS_TAG, codec.PROGRESS_FIELDS),
        "transition_fields.md": table(codec.TRANSITION_TAG, codec.TRANSITION_FIELDS),
        "shard_report_fields.md": compact_table(codec.SHARD_REPORT_TAG, codec.SHARD_REPORT_FIELDS),
        "codes.md": "\n".join(codes) + "\n",
        "sizes.md": sizes,
    }


def _generate() -> None:
    GENERATED.mkdir(exist_ok=True)
    files = {
        "lifecycle_table.md": _lifecycle_table(),
        "terminal_states.md": _terminal_list(),
        "enums.md": _enum_table(),
        # The diagrams as SVG inlined in the page: drawn here, shown with no script.
        "status_machine.md": f"```{{raw}} html\n{phasekit.status_machine_svg()}\n```\n",
        "phase_chain.md": f"```{{raw}} html\n{phasekit.phase_chain_svg()}\n```\n",
        "mapping_table.md": _mapping_table(),
        **_sql_pages(),
        **_wire_tables(),
    }
    for name, text in files.items():
        path = GENERATED / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


_generate()
