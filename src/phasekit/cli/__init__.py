"""The ``phasekit`` command line: generated artifacts, SQL, the diagram and the mappings.

With ``phasekit.runner``, the only code of phasekit that does I/O: it writes what the
pure functions return to standard output or to a file, and runs migrations through the
runner.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from phasekit import (
    DEFAULT_MAPPING,
    LegacyColumn,
    PhasekitError,
    lifecycle_mermaid,
    migration_sql,
    rollback_sql,
    schema,
)
from phasekit.cli._database import _run_on_database
from phasekit.cli._parser import MAPPINGS, _in_command_terms, _usage_error, build_parser

__all__ = ["build_parser", "main", "schema_text"]


def schema_text(kind: str) -> str:
    """Return a generated artifact as ``phasekit schema`` writes it: ``kind`` is
    ``"jsonschema"``, ``"openapi"`` (indented JSON) or ``"typescript"``."""
    if kind == "typescript":
        return schema.typescript()
    document = schema.json_schema() if kind == "jsonschema" else schema.openapi_document()
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def _mapping_text(name: str) -> str:
    chosen = MAPPINGS[name]
    lines = [
        f"# legacy values under the {name} mapping; * = lossy: not recoverable from the phase",
        "# columns alone (the SQL rollback restores it from the backup table)",
    ]
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
        mapping = MAPPINGS[arguments.mapping or "default"]
        timeouts = {}
        if arguments.dialect == "postgresql":
            timeouts = {
                "lock_timeout_ms": arguments.lock_timeout_ms,
                "statement_timeout_ms": arguments.statement_timeout_ms,
            }
        if arguments.script == "migrate":
            columns = tuple(c.strip() for c in arguments.index_columns.split(",") if c.strip())
            script = migration_sql(
                arguments.dialect,
                mapping=mapping,
                table=arguments.table,
                batch_size=arguments.batch_size,
                index_columns=columns,
                **timeouts,
            )
        else:
            script = rollback_sql(
                arguments.dialect,
                table=arguments.table,
                contracted=arguments.contracted,
                mapping=mapping,
                batch_size=arguments.batch_size,
                **timeouts,
            )
        return script.to_sql()
    if arguments.command == "diagram":
        return lifecycle_mermaid()
    return _mapping_text(arguments.mapping)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    A bad argument or value is one line on stderr, naming the subcommand, and status 2;
    output that cannot be written is one line and status 1.
    """
    parser = build_parser()
    arguments, unknown = parser.parse_known_args(argv)
    command: argparse.ArgumentParser = arguments.command_parser
    if unknown:
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    problem = _usage_error(arguments)
    if problem is not None:
        command.error(problem)
    if arguments.command in ("migrate", "rollback"):
        return _run_on_database(arguments, command.prog)
    try:
        text = _run(arguments)
    except PhasekitError as error:
        message = _in_command_terms(error)
        sys.stderr.write(f"{command.prog}: error: {message} (see {command.prog} --help)\n")
        return 2
    output: Path | None = getattr(arguments, "output", None)
    return _write(text, output, command.prog)


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
