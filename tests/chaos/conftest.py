"""Chaos suite fixtures: operators' `execute` called directly, as the Task Runner would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def operators_run_outside_task_runner() -> Iterator[None]:
    """Silence BaseOperator's "called outside of the Task Runner" guard (Airflow's own tests do this)."""
    from airflow.sdk.bases.operator import ExecutorSafeguard

    previous = ExecutorSafeguard.test_mode
    ExecutorSafeguard.test_mode = True
    yield
    ExecutorSafeguard.test_mode = previous
