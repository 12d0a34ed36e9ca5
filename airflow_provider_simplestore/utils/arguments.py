"""Checks of an operator's arguments, run when the task is built: a DAG with a bad one fails to
parse, naming the argument, instead of failing each run."""

from __future__ import annotations

from typing import TypeVar

from airflow_provider_simplestore.client.pacing import Workers, check_workers
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.formats import FORMATS

N = TypeVar("N", int, float)


def at_least(name: str, value: N, minimum: float) -> N:
    if value < minimum:
        raise SimpleStoreConfigError(f"{name} must be at least {minimum:g}, got {value}")
    return value


def checked_workers(max_workers: Workers) -> Workers:
    """`max_workers` as the hook takes it: a number of at least 1, or "auto"."""
    try:
        return check_workers(max_workers)
    except ValueError as exc:
        raise SimpleStoreConfigError(str(exc)) from None


def checked_format(file_format: str | None) -> str | None:
    """An explicit `file_format`, or None to take it from the file name when the task runs."""
    if file_format is not None and file_format not in FORMATS:
        raise SimpleStoreConfigError(f"unknown file_format {file_format!r}; expected one of {', '.join(FORMATS)}")
    return file_format
