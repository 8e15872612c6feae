"""Test-session setup: the Hypothesis profiles, and one-time costs paid before any test
(the strategies' tables; the TypeScript module, compiled once for the tests that need it).

Two profiles, chosen by ``CI``:

- ``dev`` (the default): random examples, remembered in ``.hypothesis/`` so that a failure
  found once is tried first on the next run.
- ``ci`` (``CI=true``, as ``.ci/run`` sets it): no example database, since a CI machine
  starts empty, and one seed for the whole run, printed in the header and again under a
  failure, so that ``CI=true make test PYTEST_ARGS=--hypothesis-seed=N`` replays that run's
  examples exactly; failures also print the ``@reproduce_failure`` blob.

Neither has a deadline: speed is measured by ``make bench``, never by a timed test, and a
deadline turns a loaded machine into a failure. The health checks stay on: a strategy that
is really slow still fails.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import settings

from tests import strategies
from tests.typescript_tools import compile_module

settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile("ci", deadline=None, print_blob=True, database=None)
PROFILE = "ci" if os.environ.get("CI") == "true" else "dev"
settings.load_profile(PROFILE)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Under the ``ci`` profile, fix the run's seed (unless one was given) before the
    Hypothesis plugin reads ``--hypothesis-seed``."""
    if PROFILE == "ci" and config.getoption("hypothesis_seed", default=None) is None:
        config.option.hypothesis_seed = random.SystemRandom().randrange(2**32)


def seed_line(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", default=None)
    if seed is None:
        return f"hypothesis profile {PROFILE!r}: random seeds, examples kept in .hypothesis/"
    replay = "CI=true make test" if PROFILE == "ci" else "make test"
    return (
        f"hypothesis profile {PROFILE!r}, seed {seed}: replay this run with "
        f"`{replay} PYTEST_ARGS=--hypothesis-seed={seed}`"
    )


def pytest_report_header(config: pytest.Config) -> str:
    return seed_line(config)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # After Hypothesis's own hook, which ends its initialization phase (building a strategy
    # before that is reported as a slow side effect of the conftest).
    strategies.warm_up()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if terminalreporter.stats.get("failed"):
        terminalreporter.write_line(seed_line(config))


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The generated TypeScript module, compiled once per session to CommonJS and to an ES
    module (tsc is slow to start): the two compiled modules."""
    return compile_module(tmp_path_factory.mktemp("typescript"))
