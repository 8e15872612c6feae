"""The phasekit command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from phasekit import DEFAULT_MAPPING, PLAN_MAPPING, lifecycle_mermaid, migration_sql, rollback_sql
from phasekit.cli import main
from phasekit.schema import json_schema, typescript

ROW = re.compile(r"(?P<mark>[* ]) (?P<column>\S+) +(?P<value>\(any other\)|\S+) +-> (?P<target>.+)")


def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_schema_formats(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run("schema", "--format", "jsonschema", capsys=capsys)
    assert status == 0
    assert orjson.loads(out) == json_schema()
    status, out, _ = run("schema", "--format", "typescript", capsys=capsys)
    assert out == typescript()
    status, out, _ = run("schema", "--format", "openapi", capsys=capsys)
    assert orjson.loads(out)["openapi"] == "3.1.0"


def test_schema_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "phasekit.ts"
    status, out, _ = run("schema", "--format", "typescript", "-o", str(target), capsys=capsys)
    assert (status, out) == (0, "")
    assert target.read_text(encoding="utf-8") == typescript()


@pytest.mark.parametrize(
    ("where", "reason"),
    [("missing/phasekit.ts", "No such file or directory"), (".", "Is a directory")],
)
def test_schema_to_an_unwritable_file_is_one_line_and_status_1(
    where: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / where
    status, out, err = run("schema", "--format", "typescript", "-o", str(target), capsys=capsys)
    assert (status, out) == (1, "")
    assert err == f"phasekit schema: error: cannot write {target}: {reason}\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("output", [[], ["-o", "/dev/full"]])
def test_a_full_disk_is_one_line_and_status_1(output: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "phasekit", "schema", "--format", "openapi", *output],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 1
    where = "standard output" if not output else "/dev/full"
    assert done.stderr == f"phasekit schema: error: cannot write {where}: No space left on device\n"


def test_a_reader_that_leaves_early_is_no_traceback() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "phasekit", "schema", "--format", "openapi"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        child.stdout.close()  # before the child writes: it is still importing
        err = child.stderr.read()
        assert child.wait(timeout=60) == 1
    assert err == b""


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
@pytest.mark.parametrize("mapping", ["default", "plan"])
def test_sql(dialect: str, mapping: str, capsys: pytest.CaptureFixture[str]) -> None:
    chosen = DEFAULT_MAPPING if mapping == "default" else PLAN_MAPPING
    status, out, _ = run(
        "sql",
        "migrate",
        "--dialect",
        dialect,
        "--mapping",
        mapping,
        "--table",
        "app.campaigns",
        capsys=capsys,
    )
    assert status == 0
    assert out == migration_sql(dialect, mapping=chosen, table="app.campaigns").to_sql()  # type: ignore[arg-type]
    for name in ("preflight", "expand", "backfill", "verify", "contract"):
        assert f"-- step: {name}\n" in out
    for flag, contracted in (("--contracted", True), ("--no-contracted", False)):
        status, out, _ = run("sql", "rollback", "--dialect", dialect, flag, capsys=capsys)
        assert status == 0
        assert out == rollback_sql(dialect, contracted=contracted).to_sql()  # type: ignore[arg-type]
        assert "NOT RUNNABLE AS PRINTED" not in out


def test_postgres_rollback_is_the_same_whether_or_not_contract_ran(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outs = {
        run("sql", "rollback", "--dialect", "postgresql", *flag, capsys=capsys)[1]
        for flag in ([], ["--contracted"], ["--no-contracted"])
    }
    assert outs == {rollback_sql("postgresql").to_sql()}


def test_sql_batch_size(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        "sql", "migrate", "--dialect", "postgresql", "--batch-size", "5000", capsys=capsys
    )
    assert status == 0
    assert out == migration_sql("postgresql", batch_size=5000).to_sql()
    assert "LIMIT 5001" in out  # a batch and the first id of the next one
    status, out, _ = run(
        "sql", "migrate", "--dialect", "sqlite", "--batch-size", "5000", capsys=capsys
    )
    assert status == 0
    assert out == migration_sql("sqlite", batch_size=5000).to_sql()
    assert "LIMIT 5000" in out  # a batch
    assert "OFFSET 5000" in out  # and the first id of the next one


def test_sql_sqlite_rollback_takes_the_batch_size_and_the_mapping_of_to_legacy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = ("sql", "rollback", "--dialect", "sqlite", "--contracted", "--batch-size", "77")
    status, out, _ = run(*arguments, "--mapping", "plan", capsys=capsys)
    assert status == 0
    assert (
        out == rollback_sql("sqlite", contracted=True, batch_size=77, mapping=PLAN_MAPPING).to_sql()
    )
    assert "LIMIT 77" in out
    # The mapping decides to_legacy of the rows the new version changed since contract.
    assert out != run(*arguments, capsys=capsys)[1]


def test_diagram(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run("diagram", capsys=capsys)
    assert (status, out) == (0, lifecycle_mermaid())


@pytest.mark.parametrize("mapping", ["default", "plan"])
def test_mapping_lists_every_known_value_and_marks_lossy_rows(
    mapping: str, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = DEFAULT_MAPPING if mapping == "default" else PLAN_MAPPING
    status, out, _ = run("mapping", "--mapping", mapping, capsys=capsys)
    assert status == 0
    assert out.startswith(
        f"# legacy values under the {mapping} mapping; * = lossy: not recoverable from the "
        "phase\n# columns alone (the SQL rollback restores it from the backup table)\n"
    )
    rows = [ROW.match(line) for line in out.splitlines()[2:]]
    assert all(rows)
    listed = {(row["column"], row["value"]) for row in rows if row}
    known = {("campaign_type", v) for v in DEFAULT_MAPPING.types} | {
        ("status", v) for v in DEFAULT_MAPPING.statuses
    }
    assert listed == known | {("campaign_type", "(any other)"), ("status", "(any other)")}
    for row in rows:
        assert row is not None
        column, value = row["column"], row["value"]
        if value == "(any other)":
            fallback = chosen.fallback(column)  # type: ignore[arg-type]
            assert row["target"] == ("error (no fallback)" if fallback is None else fallback)
            assert (row["mark"] == "*") is (fallback is not None)
            continue
        assert row["target"] == str(chosen.target(column, value))  # type: ignore[arg-type]
        assert (row["mark"] == "*") is chosen.is_lossy(column, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "prog", "message"),
    [
        ([], "phasekit", "the following arguments are required: COMMAND"),
        (["schema"], "phasekit schema", "the following arguments are required: --format"),
        (["schema", "--format", "yaml"], "phasekit schema", "invalid choice: 'yaml'"),
        (["sql"], "phasekit sql", "the following arguments are required: SCRIPT"),
        (["sql", "upgrade", "--dialect", "sqlite"], "phasekit sql", "invalid choice: 'upgrade'"),
        (["sql", "migrate"], "phasekit sql migrate", "required: --dialect"),
        (
            ["sql", "migrate", "--dialect", "sqlite", "--batch-size", "ten"],
            "phasekit sql migrate",
            "argument --batch-size: invalid int value: 'ten'",
        ),
        (
            ["sql", "migrate", "--dialect", "postgresql", "--batch-size", "0"],
            "phasekit sql migrate",
            "--batch-size must be an int >= 1; got 0",
        ),
        (
            ["sql", "migrate", "--dialect", "sqlite", "--batch-size", "0"],
            "phasekit sql migrate",
            "--batch-size must be an int >= 1; got 0",
        ),
        (
            ["sql", "migrate", "--dialect", "sqlite", "--contract"],
            "phasekit sql migrate",
            "unrecognized arguments: --contract",
        ),
        (
            ["sql", "rollback", "--dialect", "sqlite", "--contracted", "--batch-size", "-3"],
            "phasekit sql rollback",
            "--batch-size must be an int >= 1; got -3",
        ),
        (
            ["migrate", "--dsn", "sqlite:///x.db", "--batch-size", "0"],
            "phasekit migrate",
            "--batch-size must be >= 1; got 0",
        ),
        (
            ["rollback", "--dsn", "sqlite:///x.db", "--pause-ms", "-1"],
            "phasekit rollback",
            "--pause-ms must be >= 0; got -1",
        ),
        (
            ["migrate", "--dsn", "postgresql://x", "--batch-time-ms", "0"],
            "phasekit migrate",
            "--batch-time-ms must be >= 1; got 0",
        ),
        (
            ["migrate", "--dsn", "sqlite:///x.db", "--to", "finish"],
            "phasekit migrate",
            "argument --to: invalid choice: 'finish'",
        ),
        (
            ["migrate", "--table", "campaigns"],
            "phasekit migrate",
            "the following arguments are required: --dsn",
        ),
        (
            ["sql", "rollback", "--dialect", "sqlite"],
            "phasekit sql rollback",
            "--dialect sqlite needs --contracted (contract ran: campaign_type is gone) or "
            "--no-contracted (it did not run, or was refused): SQLite cannot add a column only "
            "if it is missing, so the rollback differs",
        ),
        (
            ["sql", "migrate", "--dialect", "sqlite", "--contracted"],
            "phasekit sql migrate",
            "unrecognized arguments: --contracted",
        ),
        (["diagram", "extra"], "phasekit diagram", "unrecognized arguments: extra"),
        (["mapping", "--mapping", "custom"], "phasekit mapping", "invalid choice: 'custom'"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_command_and_its_help(
    args: list[str], prog: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{prog}: error: ")
    assert captured.err.endswith(f" (see {prog} --help)\n")
    assert captured.err.count("\n") == 1
    assert message in captured.err


@pytest.mark.parametrize("script", ["migrate", "rollback"])
@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("a;b", "--table must be an identifier or schema.identifier"),
        ("a.b.c", "--table must be an identifier or schema.identifier"),
        ("public.Campaigns", "--table must be lower case: the SQL quotes the name"),
    ],
)
def test_bad_values_are_one_line_in_the_command_s_terms(
    script: str, table: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        "sql", script, "--dialect", "postgresql", "--table", table, capsys=capsys
    )
    assert (status, out) == (2, "")
    prog = f"phasekit sql {script}"
    assert err.startswith(f"{prog}: error: {message}")
    assert f"got {table!r}" in err
    assert err.endswith(f" (see {prog} --help)\n")
    assert err.count("\n") == 1


@pytest.mark.parametrize("walkers", ["0", "17", "-2"])
def test_walkers_outside_the_lanes_are_refused_before_connecting(
    walkers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # No server listens there: the refusal comes before any connection.
    status, out, err = run(
        "migrate", "--dsn", "postgresql://127.0.0.1:1/x", "--walkers", walkers, capsys=capsys
    )
    assert (status, out) == (2, "")
    assert err == (
        "phasekit migrate: error: --walkers must be an int from 1 to 16 (the backfill's "
        f"lanes); got {walkers} (see phasekit migrate --help)\n"
    )


def test_a_mixed_case_table_is_refused_with_the_name_to_write(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(
        "sql", "migrate", "--dialect", "postgresql", "--table", "public.Campaigns", capsys=capsys
    )
    assert status == 2
    assert "got 'public.Campaigns': write 'public.campaigns' (see phasekit sql migrate" in err


def test_migrate_only_options_are_not_offered_by_rollback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["sql", "rollback", "--help"])
    rollback = capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["sql", "migrate", "--help"])
    migrate = capsys.readouterr().out
    assert "--index-columns" in migrate
    assert "--index-columns" not in rollback
    assert "--contracted" in rollback
    assert "--contracted" not in migrate


@pytest.mark.parametrize(
    "command",
    [[], ["schema"], ["sql"], ["sql", "migrate"], ["sql", "rollback"], ["diagram"], ["mapping"]],
)
def test_help_on_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--help"])
    assert stopped.value.code == 0
    assert "usage: phasekit" in capsys.readouterr().out


def test_module_and_console_script_entry_points() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "phasekit", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("phasekit ")
    script = Path(sys.executable).parent / "phasekit"
    done = subprocess.run([str(script), "diagram"], capture_output=True, text=True, check=True)
    assert done.stdout == lifecycle_mermaid()
