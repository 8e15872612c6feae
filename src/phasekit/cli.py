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


#: The library's name of a value, and the option that gives it on the command line.
_OPTIONS = {"table": "--table", "batch_size": "--batch-size", "dialect": "--dialect"}


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports a bad argument in one line, with status 2.

    The line names the (sub)command, ``phasekit sql migrate: error: ...``, and ends with
    where its help is, ``(see phasekit sql migrate --help)``.
    """

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
    generate.set_defaults(command_parser=generate)

    sql = commands.add_parser(
        "sql",
        help="print the migration or rollback SQL",
        description="Print the migration (preflight, expand, backfill, verify, contract) or "
        "the rollback script, each step under a comment naming it.",
    )
    scripts = sql.add_subparsers(dest="script", required=True, metavar="SCRIPT")
    migrate = scripts.add_parser(
        "migrate",
        help="the migration: preflight, expand, backfill, verify, contract",
        description="Print the migration script from the legacy columns to the phase "
        "columns: preflight, expand, backfill, verify and contract.",
    )
    rollback = scripts.add_parser(
        "rollback",
        help="the rollback: the legacy columns back from the backup",
        description="Print the rollback script: the legacy columns restored exactly from the "
        "backup table (whatever mapping the migration used), the phase columns and the backup "
        "removed.",
    )
    for script in (migrate, rollback):
        script.add_argument("--dialect", required=True, choices=["postgresql", "sqlite"])
        script.add_argument(
            "--table",
            default="campaigns",
            help="the table: NAME or SCHEMA.NAME, lower case (default: campaigns)",
        )
        script.set_defaults(command_parser=script)
    migrate.add_argument(
        "--mapping",
        choices=sorted(MAPPINGS),
        default="default",
        help="how legacy values map to phases and statuses (default: default)",
    )
    migrate.add_argument(
        "--batch-size",
        type=int,
        metavar="N",
        help="PostgreSQL only: backfill N rows per transaction (run it in autocommit mode)",
    )
    rollback.add_argument(
        "--contracted",
        action=argparse.BooleanOptionalAction,
        help="whether contract ran (the legacy columns are gone): needed with --dialect sqlite, "
        "which cannot add a column only if it is missing, so its rollback differs; "
        "PostgreSQL's rollback is the same either way",
    )
    # Migrate-only options, refused with a reason rather than an "unrecognized argument".
    for option in ("--mapping", "--batch-size"):
        rollback.add_argument(option, help=argparse.SUPPRESS)

    diagram = commands.add_parser(
        "diagram",
        help="print the lifecycle as a Mermaid diagram",
        description="Print the lifecycle as a Mermaid state diagram: every phase, status, "
        "event and phase transition.",
    )
    diagram.set_defaults(command_parser=diagram)

    mapping = commands.add_parser(
        "mapping",
        help="print how each legacy value is mapped",
        description="Print every known legacy value with its target under the chosen "
        "mapping; lossy rows (not recoverable from the phase columns alone; the SQL rollback "
        "restores them from the backup table) are marked.",
    )
    mapping.add_argument("--mapping", choices=sorted(MAPPINGS), default="default")
    mapping.set_defaults(command_parser=mapping)
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


def _usage_error(arguments: argparse.Namespace) -> str | None:
    """Return what is wrong with a combination of options argparse accepted, if anything."""
    if arguments.command != "sql":
        return None
    if arguments.script == "rollback":
        if arguments.mapping is not None:
            return (
                "--mapping is only for 'phasekit sql migrate': the rollback restores the "
                "legacy values from the backup, whatever the mapping"
            )
        if arguments.batch_size is not None:
            return "--batch-size is only for 'phasekit sql migrate'"
        if arguments.dialect == "sqlite" and arguments.contracted is None:
            return (
                "--dialect sqlite needs --contracted (contract ran: campaign_type is gone) or "
                "--no-contracted (it did not run, or was refused): SQLite cannot add a column "
                "only if it is missing, so the rollback differs"
            )
        return None
    if arguments.batch_size is not None:
        if arguments.dialect != "postgresql":
            return "--batch-size is only for --dialect postgresql"
        if arguments.batch_size < 1:
            return f"--batch-size must be an int >= 1; got {arguments.batch_size}"
    return None


def _run(arguments: argparse.Namespace) -> str:
    if arguments.command == "schema":
        return schema_text(arguments.format)
    if arguments.command == "sql":
        if arguments.script == "migrate":
            script = migration_sql(
                arguments.dialect,
                mapping=MAPPINGS[arguments.mapping],
                table=arguments.table,
                batch_size=arguments.batch_size,
            )
        else:
            script = rollback_sql(
                arguments.dialect, table=arguments.table, contracted=arguments.contracted
            )
        return script.to_sql()
    if arguments.command == "diagram":
        return lifecycle_mermaid()
    return _mapping_text(arguments.mapping)


def _in_command_terms(error: PhasekitError) -> str:
    """Return the library's message, naming the option where it names a parameter."""
    message = str(error)
    field = getattr(error, "field", None)
    if isinstance(field, str) and field in _OPTIONS and message.startswith(f"{field} "):
        return _OPTIONS[field] + message[len(field) :]
    return message


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
