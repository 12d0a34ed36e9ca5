"""Fixtures for the sandbox's own tests: authenticated `requests` sessions against real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.sandbox.helpers import SMALL, Client


@pytest.fixture(scope="session")
def api(sandbox: Any) -> Iterator[Client]:
    """An authenticated client of the shared, read-only sandbox."""
    with Client(sandbox) as client:
        yield client


@pytest.fixture
def small_sandbox(fresh_sandbox: Callable[..., Any]) -> Callable[..., tuple[Any, Client]]:
    """Factory: a small private sandbox (for writes and faults) and an authenticated client of it."""

    def start(**options: Any) -> tuple[Any, Client]:
        sb = fresh_sandbox(**{**SMALL, **options})
        return sb, Client(sb)

    return start
