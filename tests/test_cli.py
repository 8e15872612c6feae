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
    status, out, _ = run("sql", "rollback", "--dialect", dialect, capsys=capsys)
    assert out == rollback_sql(dialect).to_sql()  # type: ignore[arg-type]


def test_sql_batch_size(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        "sql", "migrate", "--dialect", "postgresql", "--batch-size", "5000", capsys=capsys
    )
    assert status == 0
    assert "LIMIT 5000" in out


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
    rows = [ROW.match(line) for line in out.splitlines()[1:]]
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
    ("args", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["schema"], "the following arguments are required: --format"),
        (["schema", "--format", "yaml"], "invalid choice: 'yaml'"),
        (["sql", "migrate"], "required: --dialect"),
        (["sql", "upgrade", "--dialect", "sqlite"], "invalid choice: 'upgrade'"),
        (["sql", "rollback", "--dialect", "sqlite", "--batch-size", "10"], "migrate' only"),
        (["sql", "migrate", "--dialect", "sqlite", "--batch-size", "ten"], "invalid int value"),
        (["mapping", "--mapping", "custom"], "invalid choice: 'custom'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err
    assert err.startswith("phasekit")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sql", "migrate", "--dialect", "sqlite", "--table", "a;b"], "table must be"),
        (["sql", "migrate", "--dialect", "sqlite", "--batch-size", "10"], "only for postgresql"),
    ],
)
def test_bad_values_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(*args, capsys=capsys)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize("command", [[], ["schema"], ["sql"], ["diagram"], ["mapping"]])
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
