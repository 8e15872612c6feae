"""The test servers `make test` starts: their address from the environment, or a clear stop."""

from __future__ import annotations

import os

import pytest


def server_address(variable: str, skip_variable: str, skipped: str, missing: str) -> str:
    """Return the address in ``variable``; without one, fail, unless the run opted out.

    ``skipped`` names what is skipped when ``skip_variable`` is ``1``; ``missing`` is the
    failure's message.
    """
    address = os.environ.get(variable)
    if address:
        return address
    if os.environ.get(skip_variable) == "1":
        pytest.skip(f"{skipped} skipped: {skip_variable}=1 was set")
    pytest.fail(missing)
