"""``phasekit migrate`` (and ``migrate status``) and ``rollback``: the runner on a database."""

from __future__ import annotations

import argparse
import sys

from phasekit import MappingReport, PhasekitError
from phasekit.cli._parser import MAPPINGS, _in_command_terms


class _ProgressPrinter:
    """Print a runner's reports: the preflight, a progress bar on stderr, each step's time."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.bar_shown = False

    def __call__(self, event: object) -> None:
        from phasekit.runner import Progress, Retrying, StepDone

        if isinstance(event, Progress):
            rate = event.done / event.seconds if event.seconds > 0 else 0.0
            left = (event.total - event.done) / rate if rate > 0 else 0.0
            sys.stderr.write(
                f"\r{event.step}: {event.done:,} of {event.total:,} rows, {rate:,.0f} rows/s, "
                f"ETA {left:,.0f} s   "
            )
            sys.stderr.flush()
            self.bar_shown = True
            return
        if self.bar_shown:
            sys.stderr.write("\n")
            self.bar_shown = False
        if isinstance(event, Retrying):
            cancelled = (
                f"; cancelled {event.cancelled_autovacuum} autovacuum on the table"
                if event.cancelled_autovacuum
                else ""
            )
            sys.stderr.write(
                f"{event.step}: the table is locked by another transaction (lock_timeout)"
                f"{cancelled}; retry {event.attempt} in {event.wait_seconds:.2f} s\n"
            )
        elif isinstance(event, StepDone):
            if event.skipped:
                what = event.detail or "done before, skipped"
            else:
                what = f"done in {event.seconds:,.2f} s" + (
                    f" ({event.detail})" if event.detail else ""
                )
            sys.stdout.write(f"{event.step}: {what}\n")
        elif isinstance(event, MappingReport):
            sys.stdout.write(event.summary().rstrip("\n") + "\n")
        sys.stdout.flush()


def _run_on_database(arguments: argparse.Namespace, prog: str) -> int:
    """Run ``phasekit migrate``, ``migrate status`` or ``rollback``; return the status."""
    from phasekit import runner

    options = {
        "table": arguments.table,
        "mapping": MAPPINGS[arguments.mapping],
        "batch_size": arguments.batch_size,
        "pause_ms": arguments.pause_ms,
        "batch_time_ms": arguments.batch_time_ms,
        "lock_timeout_ms": arguments.lock_timeout_ms,
        "statement_timeout_ms": arguments.statement_timeout_ms,
    }
    printer = _ProgressPrinter(arguments.command)
    try:
        if arguments.command == "rollback":
            runner.rollback(arguments.dsn, report=printer, **options)
        elif arguments.action == "status":
            sys.stdout.write(
                runner.migration_status(arguments.dsn, table=arguments.table).summary()
            )
        else:
            columns = tuple(c.strip() for c in arguments.index_columns.split(",") if c.strip())
            runner.migrate(
                arguments.dsn,
                to=arguments.to,
                index_columns=columns,
                walkers=arguments.walkers,
                report=printer,
                **options,
            )
    except KeyboardInterrupt:
        sys.stderr.write(
            f"\n{prog}: interrupted; what was committed stays: run the same command again to "
            "go on\n"
        )
        return 130
    except runner.VerifyFailed as error:
        sys.stderr.write(f"{prog}: {error}\n")
        return 3
    except runner.MissingDriver as error:
        sys.stderr.write(f"{prog}: error: {error}\n")
        return 2
    except runner.DatabaseError as error:
        sys.stderr.write(f"{prog}: database error: {error}\n")
        return 1
    except PhasekitError as error:
        message = _in_command_terms(error)
        sys.stderr.write(f"{prog}: error: {message} (see {prog} --help)\n")
        return 2
    return 0
