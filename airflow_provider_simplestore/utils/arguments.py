"""Checks of an operator's arguments, run when the task is built: a DAG with a bad one fails to
parse, naming the argument, instead of failing each run."""

from __future__ import annotations

from typing import TypeVar

from airflow_provider_simplestore.client.pacing import Workers, check_workers
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.formats import EXPORT_FORMATS, FORMATS, format_from_name

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


def checked_format(file_format: str | None, formats: tuple[str, ...] = FORMATS) -> str | None:
    """An explicit `file_format`, or None to take it from the file name when the task runs."""
    if file_format is not None and file_format not in formats:
        raise SimpleStoreConfigError(f"unknown file_format {file_format!r}; expected one of {', '.join(formats)}")
    return file_format


def checked_export_format(file_format: str | None, destination: str) -> str | None:
    """`checked_format` among the export's formats; Parquet (asked for, or the destination's suffix)
    needs pyarrow, checked now so that a DAG without it fails to parse saying what to install."""
    checked = checked_format(file_format, EXPORT_FORMATS)
    if (checked or format_from_name(str(destination))) == "parquet":
        from airflow_provider_simplestore.utils.parquet import require_pyarrow  # finds pyarrow, never imports it

        require_pyarrow()
    return checked
