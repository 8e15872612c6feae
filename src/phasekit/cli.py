"""The ``phasekit`` command line: generated artifacts, SQL, the diagram and the mappings.

The only module of phasekit that does I/O: it writes what the pure functions return to
standard output or to a file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import orjson

from phasekit import (
    DEFAULT_MAPPING,
    PLAN_MAPPING,
    LegacyColumn,
    LegacyMapping,
    PhasekitError,
    __version__,
    lifecycle_mermaid,
    migration_sql,
    rollback_sql,
    schema,
)

__all__ = ["build_parser", "main", "schema_text"]

MAPPINGS: dict[str, LegacyMapping] = {"default": DEFAULT_MAPPING, "plan": PLAN_MAPPING}


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports a bad argument in one line, with status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``phasekit`` command and its subcommands."""
    parser = _Parser(
        prog="phasekit",
        description="Generate phasekit's artifacts: schemas, migration SQL, the lifecycle "
        "diagram and the legacy mappings.",
    )
    parser.add_argument("--version", action="version", version=f"phasekit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser(
        "schema",
        help="print JSON Schema, OpenAPI or TypeScript",
        description="Print a generated artifact: JSON Schema (draft 2020-12), an OpenAPI 3.1 "
        "document, or a TypeScript module. Output is byte-identical on every run.",
    )
    generate.add_argument(
        "--format", required=True, choices=["jsonschema", "openapi", "typescript"]
    )
    generate.add_argument(
        "-o", "--output", type=Path, help="write to FILE instead of stdout", metavar="FILE"
    )

    sql = commands.add_parser(
        "sql",
        help="print the migration or rollback SQL",
        description="Print the migration (preflight, expand, backfill, verify, contract) or "
        "rollback script, each step under a comment naming it.",
    )
    sql.add_argument("script", choices=["migrate", "rollback"])
    sql.add_argument("--dialect", required=True, choices=["postgresql", "sqlite"])
    sql.add_argument("--mapping", choices=sorted(MAPPINGS), default="default")
    sql.add_argument("--table", default="campaigns", help="table or schema.table")
    sql.add_argument("--batch-size", type=int, help="PostgreSQL backfill batch size (migrate)")

    commands.add_parser(
        "diagram",
        help="print the lifecycle as a Mermaid diagram",
        description="Print the lifecycle as a Mermaid state diagram: every phase, status, "
        "event and phase transition.",
    )

    mapping = commands.add_parser(
        "mapping",
        help="print how each legacy value is mapped",
        description="Print every known legacy value with its target under the chosen "
        "mapping; lossy rows (not restored exactly by a rollback) are marked.",
    )
    mapping.add_argument("--mapping", choices=sorted(MAPPINGS), default="default")
    return parser


def schema_text(kind: str) -> str:
    """Return a generated artifact as ``phasekit schema`` writes it: ``kind`` is
    ``"jsonschema"``, ``"openapi"`` (indented JSON) or ``"typescript"``."""
    if kind == "typescript":
        return schema.typescript()
    document = schema.json_schema() if kind == "jsonschema" else schema.openapi_document()
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def _mapping_text(name: str) -> str:
    chosen = MAPPINGS[name]
    lines = [f"# legacy values under the {name} mapping; * = lossy (a rollback cannot restore it)"]
    width = max(len(value) for value in [*DEFAULT_MAPPING.types, *DEFAULT_MAPPING.statuses])
    columns: tuple[LegacyColumn, ...] = ("campaign_type", "status")
    for column in columns:
        for value in DEFAULT_MAPPING.table(column):
            target = chosen.target(column, value)
            mark = "*" if chosen.is_lossy(column, value) else " "
            lines.append(f"{mark} {column:<13} {value:<{width}} -> {target}")
        fallback = chosen.fallback(column)
        shown = "error (no fallback)" if fallback is None else f"{fallback}"
        mark = " " if fallback is None else "*"
        lines.append(f"{mark} {column:<13} {'(any other)':<{width}} -> {shown}")
    return "\n".join(lines) + "\n"


def _run(arguments: argparse.Namespace) -> str:
    if arguments.command == "schema":
        return schema_text(arguments.format)
    if arguments.command == "sql":
        mapping = MAPPINGS[arguments.mapping]
        if arguments.script == "migrate":
            script = migration_sql(
                arguments.dialect,
                mapping=mapping,
                table=arguments.table,
                batch_size=arguments.batch_size,
            )
        else:
            script = rollback_sql(arguments.dialect, table=arguments.table)
        return script.to_sql()
    if arguments.command == "diagram":
        return lifecycle_mermaid()
    return _mapping_text(arguments.mapping)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if getattr(arguments, "script", None) == "rollback" and arguments.batch_size is not None:
        parser.error("--batch-size applies to 'sql migrate' only")
    try:
        text = _run(arguments)
    except PhasekitError as error:
        sys.stderr.write(f"phasekit: error: {error}\n")
        return 2
    output: Path | None = getattr(arguments, "output", None)
    return _write(text, output, f"phasekit {arguments.command}")


def _write(text: str, output: Path | None, prog: str) -> int:
    """Write ``text`` to ``output`` (standard output if None); a failure is one line, status 1."""
    try:
        if output is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            output.write_text(text, encoding="utf-8")
    except BrokenPipeError:
        # The reader left early (`phasekit ... | head`): nothing more to tell it, and no
        # second error when Python flushes standard output at exit.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as error:
        where = "standard output" if output is None else str(output)
        reason = error.strerror or str(error)
        sys.stderr.write(f"{prog}: error: cannot write {where}: {reason}\n")
        return 1
    return 0
