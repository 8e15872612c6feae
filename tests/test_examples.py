"""Every example runs and shows what it promises."""

from __future__ import annotations

import contextlib
import re
import runpy
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_lifecycle_tour_walks_every_initial_phase(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "lifecycle_tour.py"), run_name="__main__")
    out = capsys.readouterr().out
    for phase in ("domain_generation", "dns_validation", "http_validation"):
        assert f"Campaign starting at {phase}:" in out
        assert f"A second campaign at {phase}, cancelled while paused:" in out
        assert f"{phase}/cancelled" in out
    for step in ("start", "pause", "resume", "progress 25%", "fail", "retry", "complete"):
        assert f"  {step}" in out
    assert "reason: 'domain_generation finished'" in out
    assert "http_validation/completed" in out
    assert out.count("[terminal]") == 6
    assert "refused as expected: cannot apply 'start' to http_validation/completed" in out
    assert "  complete  " in out
    assert "\n    phase transitions available: dns_validation, http_validation\n" in out
    assert max(len(line) for line in out.splitlines()) < 100


def test_migration_demo_migrates_and_rolls_back_exactly() -> None:
    out = run_example("migrate_sqlite.py", "--rows", "20000")
    assert "Creating 20,000 legacy campaigns" in out
    assert "unknown values (migration would fail on these rows): none" in out
    assert out.index("lossy values") < out.index("expand")
    for step in ("preflight", "expand", "backfill", "verify", "contract", "restore"):
        assert f"  {step}" in out
    assert "verify: 0 rows unmapped" in out
    assert "legacy rows after rollback identical" in out
    assert "(contracted, rolled back exactly: True)" in out
    assert max(len(line) for line in out.splitlines()) < 100


def test_migration_demo_refuses_to_contract_with_unknown_values() -> None:
    out = run_example("migrate_sqlite.py", "--rows", "3000", "--unknown", "7")
    assert "status 'deleted': 7 rows" in out
    assert "verify: 7 rows unmapped" in out
    assert "contract refused" in out
    assert "(contract refused, rolled back exactly: True)" in out
    assert max(len(line) for line in out.splitlines()) < 100


def test_migration_demo_with_the_plan_mapping_marks_the_loss() -> None:
    out = run_example("migrate_sqlite.py", "--rows", "3000", "--mapping", "plan")
    assert "status 'paused':" in out
    assert "-> pending (reads back as 'pending')" in out
    assert "rolled back exactly: True" in out


def test_migration_demo_refuses_to_delete_an_existing_database(tmp_path: Path) -> None:
    database = tmp_path / "mine.sqlite3"
    database.write_bytes(b"precious")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "migrate_sqlite.py"), "--database", str(database)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert f"--database {database} exists: pass --overwrite to delete it" in done.stderr
    assert database.read_bytes() == b"precious"


def test_migration_demo_overwrites_a_database_when_asked_and_keeps_it(tmp_path: Path) -> None:
    database = tmp_path / "mine.sqlite3"
    database.write_bytes(b"precious")
    args = ("--rows", "500", "--database", str(database), "--overwrite")
    out = run_example("migrate_sqlite.py", *args)
    assert "rolled back exactly: True" in out
    with contextlib.closing(sqlite3.connect(database)) as connection:
        (count,) = connection.execute("SELECT COUNT(*) FROM campaigns").fetchone()
    assert count == 500


def options_without_help(help_text: str) -> list[str]:
    """The options of an argparse --help that have no help text of their own."""
    lines = help_text.split("options:\n", 1)[1].splitlines()
    return [
        line.strip()
        for index, line in enumerate(lines)
        if line.startswith("  -")
        and not re.search(r"\S {2,}\S", line)  # no help on the option's line
        and not (index + 1 < len(lines) and lines[index + 1].startswith(" " * 8))
    ]


@pytest.mark.parametrize("name", ["migrate_sqlite.py", "progress_worker.py", "celery_campaign.py"])
def test_every_option_of_an_example_has_help(name: str) -> None:
    help_text = run_example(name, "--help")
    assert "options:" in help_text
    assert options_without_help(help_text) == []


def test_progress_worker_help_states_the_domains_rule() -> None:
    help_text = " ".join(run_example("progress_worker.py", "--help").split())
    assert "--domains DOMAINS domains in the campaign: a positive multiple of 200" in help_text


def test_progress_worker_delivers_every_change_with_a_fraction_of_the_bytes() -> None:
    out = run_example("progress_worker.py", "--domains", "200000")
    changes = [
        line.strip()
        for line in out.splitlines()
        if line.startswith("  ") and "/" in line and "->" not in line
    ]
    assert changes == [
        "domain_generation/pending",
        "domain_generation/running",
        "domain_generation/completed",
        "dns_validation/pending",
        "dns_validation/running",
        "dns_validation/paused",
        "dns_validation/running",
        "dns_validation/completed",
        "http_validation/pending",
        "http_validation/running",
        "http_validation/completed",
    ]
    assert "2 phase transitions:\n    domain_generation -> dns_validation\n" in out
    assert max(len(line) for line in out.splitlines()) < 100
    assert "every status and phase change delivered: True; final state delivered: True" in out
    cut = float(out.split("Traffic cut by ")[1].split("%")[0])
    assert cut >= 99.0


def test_make_demo_announces_each_example_with_a_header_and_its_purpose() -> None:
    makefile = (EXAMPLES.parent / "Makefile").read_text(encoding="utf-8")
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    runs = [index for index, line in enumerate(demo) if "examples/" in line]
    assert len(runs) == len(list(EXAMPLES.glob("*.py"))) - 1  # all but the web API
    for index in runs:
        header = re.fullmatch(r'\t@echo "== ([^:]+): (.+) =="', demo[index - 1])
        assert header, demo[index - 1]
        assert len(header[1]) + len(header[2]) + 8 < 100


def test_progress_worker_refuses_bad_arguments() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "progress_worker.py"), "--domains", "150"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "--domains must be a positive multiple of 200" in done.stderr
