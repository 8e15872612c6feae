"""The ``phasekit`` command's arguments: the parser, its subcommands, what it refuses."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from phasekit import DEFAULT_MAPPING, PLAN_MAPPING, LegacyMapping, PhasekitError, __version__

MAPPINGS: dict[str, LegacyMapping] = {"default": DEFAULT_MAPPING, "plan": PLAN_MAPPING}


#: The library's name of a value, and the option that gives it on the command line.
_OPTIONS = {
    "table": "--table",
    "batch_size": "--batch-size",
    "batch_time_ms": "--batch-time-ms",
    "walkers": "--walkers",
    "dialect": "--dialect",
    "index_columns": "--index-columns",
    "lock_timeout_ms": "--lock-timeout-ms",
    "statement_timeout_ms": "--statement-timeout-ms",
}


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
        help="the rollback: the legacy columns back, no write lost",
        description="Print the rollback script: the legacy columns kept where they are live; "
        "where contract dropped them, brought back and filled from the backup table for rows "
        "unchanged since contract, from to_legacy under --mapping for rows the new version "
        "changed; the phase columns, the backup and the state table removed.",
    )
    for script in (migrate, rollback):
        script.add_argument("--dialect", required=True, choices=["postgresql", "sqlite"])
        script.add_argument(
            "--table",
            default="campaigns",
            help="the table: NAME or SCHEMA.NAME, lower case (default: campaigns)",
        )
        script.set_defaults(command_parser=script)
    for script in (migrate, rollback):
        script.add_argument(
            "--mapping",
            choices=sorted(MAPPINGS),
            help="how legacy values map to phases and statuses (default: default); for a "
            "rollback, to_legacy of the rows the new version changed since contract",
        )
        script.add_argument(
            "--batch-size",
            type=int,
            metavar="N",
            help="rows per batch of a keyset walk, each its own transaction (default: 10000)",
        )
        for option, default, what in (
            ("--lock-timeout-ms", 200, "how long a DDL statement waits for its lock"),
            ("--statement-timeout-ms", 60_000, "how long a statement blocking writes may run"),
        ):
            script.add_argument(
                option,
                type=int,
                default=default,
                metavar="MS",
                help=f"PostgreSQL only: {what} (default: {default})",
            )
    migrate.add_argument(
        "--index-columns",
        default="",
        metavar="COLUMNS",
        help="PostgreSQL only: comma-separated columns appended to the phase index "
        "(current_phase, phase_status, ...), e.g. created_at; the index then includes id, "
        "and the counts get an index on (current_phase, phase_status)",
    )
    rollback.add_argument(
        "--contracted",
        action=argparse.BooleanOptionalAction,
        help="whether contract ran (the legacy columns are gone): needed with --dialect sqlite, "
        "which cannot add a column only if it is missing, so its rollback differs; "
        "PostgreSQL's rollback is the same either way",
    )

    diagram = commands.add_parser(
        "diagram",
        help="print the lifecycle as a Mermaid diagram",
        description="Print the lifecycle as a Mermaid state diagram: every phase, status, "
        "event and phase transition.",
    )
    diagram.set_defaults(command_parser=diagram)

    _add_runner_commands(commands)

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


_DSN_HELP = (
    "the database: a PostgreSQL URI or conninfo string (needs pip install "
    "'phasekit[postgres]'), or sqlite:///path/to.db"
)
_TABLE_HELP = "the table: NAME or SCHEMA.NAME, lower case (default: campaigns)"


def _add_runner_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """Add ``migrate`` (and ``migrate status``) and ``rollback``: they run on a database."""
    from phasekit.runner import BACKFILL_LANES, MIGRATE_STEPS

    migrate = commands.add_parser(
        "migrate",
        help="run the migration on a live database, resumably",
        description="Run the migration on a live database while the application keeps "
        "writing: preflight, expand, backfill, verify, validate, index and, with --to "
        "contract, contract (SQLite has no validate or index step). Steps already done are "
        "skipped and the backfill resumes at its checkpoint: after Ctrl-C or a crash, run the "
        "same command again. 'phasekit migrate status' prints where the migration is. Exit "
        "status: 0 done, 3 verify found unmapped rows, 2 bad arguments, 1 a database error.",
    )
    migrate.add_argument(
        "action",
        nargs="?",
        choices=["status"],
        help="status: print the last step done and the backfill checkpoint, change nothing",
    )
    rollback = commands.add_parser(
        "rollback",
        help="undo the migration on a live database, from any point",
        description="Undo whatever phasekit migrate did, from any point, contract included, "
        "without losing a write of either application version. Resumable like migrate.",
    )
    for command in (migrate, rollback):
        command.add_argument("--dsn", required=True, help=_DSN_HELP)
        command.add_argument("--table", default="campaigns", help=_TABLE_HELP)
        command.add_argument(
            "--mapping",
            choices=sorted(MAPPINGS),
            default="default",
            help="how legacy values map to phases and statuses; the rollback's to_legacy for "
            "rows the new version changed (default: default)",
        )
        command.add_argument(
            "--batch-size",
            type=int,
            default=10_000,
            metavar="N",
            help="rows per backfill transaction (default: 10000); with --batch-time-ms, the most",
        )
        command.add_argument(
            "--batch-time-ms",
            type=int,
            default=None,
            metavar="MS",
            help="PostgreSQL: size each batch to take about this long, from 1000 rows up to "
            "--batch-size, since an application write to a row in a batch waits for it to "
            "commit (default: every batch has --batch-size rows)",
        )
        command.add_argument(
            "--pause-ms",
            type=int,
            default=0,
            metavar="MS",
            help="pause between batches, to leave the database room (default: 0)",
        )
        command.add_argument(
            "--lock-timeout-ms",
            type=int,
            default=200,
            metavar="MS",
            help="PostgreSQL: how long a DDL statement waits for its lock before it gives up "
            "and is retried with backoff (default: 200). SQLite has no lock timeout: each step "
            "waits up to 30 s for a writer's lock",
        )
        command.add_argument(
            "--statement-timeout-ms",
            type=int,
            default=60_000,
            metavar="MS",
            help="PostgreSQL: the longest a statement holding a lock that blocks writes may "
            "run (default: 60000)",
        )
        command.set_defaults(command_parser=command)
    migrate.add_argument(
        "--to",
        choices=MIGRATE_STEPS,
        default="index",
        help="the last step to run (default: index, everything but contract; contract "
        "drops the legacy columns, once the old application version is gone)",
    )
    migrate.add_argument(
        "--walkers",
        type=int,
        default=1,
        metavar="N",
        help="PostgreSQL: sessions that run backfill batches at once, each in its own lane of "
        f"ids, up to {BACKFILL_LANES}; each keeps a server core busy (default: 1)",
    )
    migrate.add_argument(
        "--index-columns",
        default="",
        metavar="COLUMNS",
        help="PostgreSQL only: comma-separated columns the application orders or filters by, "
        "appended to the phase index (current_phase, phase_status, ...), e.g. created_at; the "
        "index then includes id, and the counts get an index on (current_phase, phase_status)",
    )


def _usage_error(arguments: argparse.Namespace) -> str | None:
    """Return what is wrong with a combination of options argparse accepted, if anything."""
    if arguments.command in ("migrate", "rollback"):
        for option in ("batch_size", "lock_timeout_ms", "statement_timeout_ms"):
            if getattr(arguments, option) < 1:
                return (
                    f"--{option.replace('_', '-')} must be >= 1; got {getattr(arguments, option)}"
                )
        if arguments.pause_ms < 0:
            return f"--pause-ms must be >= 0; got {arguments.pause_ms}"
        if arguments.batch_time_ms is not None and arguments.batch_time_ms < 1:
            return f"--batch-time-ms must be >= 1; got {arguments.batch_time_ms}"
        return None
    if arguments.command != "sql":
        return None
    if arguments.batch_size is not None and arguments.batch_size < 1:
        return f"--batch-size must be an int >= 1; got {arguments.batch_size}"
    if (
        arguments.script == "rollback"
        and arguments.dialect == "sqlite"
        and (arguments.contracted is None)
    ):
        return (
            "--dialect sqlite needs --contracted (contract ran: campaign_type is gone) or "
            "--no-contracted (it did not run, or was refused): SQLite cannot add a column "
            "only if it is missing, so the rollback differs"
        )
    return None


def _in_command_terms(error: PhasekitError) -> str:
    """Return the library's message, naming the option where it names a parameter."""
    message = str(error)
    field = getattr(error, "field", None)
    if isinstance(field, str) and field in _OPTIONS and message.startswith(f"{field} "):
        return _OPTIONS[field] + message[len(field) :]
    return message
