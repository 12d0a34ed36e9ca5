"""The SimpleStore hook of an operator or sensor: built on first use, closed when the task ends.

The hook module is imported only when a task runs: DAG files import operators at every parse, and
parsing must stay cheap. Each operator declares its own ``hook`` property over ``new_hook`` and
wraps ``execute`` in ``closes_hook``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

R = TypeVar("R")


def new_hook(conn_id: str, page_size: int | None = None) -> SimpleStoreHook:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

    return SimpleStoreHook(simplestore_conn_id=conn_id, page_size=page_size)


def close_hook(task: Any) -> None:
    """Close the task's hook, if its ``hook`` property built one; a later use builds a new one."""
    hook = vars(task).pop("hook", None)
    if hook is not None:
        hook.close()


def closes_hook(execute: Callable[..., R]) -> Callable[..., R]:
    """Wraps an `execute`: the hook is closed when it returns, fails or defers. A worker process
    runs task after task, so pooled sockets must not outlive the task that opened them."""

    @functools.wraps(execute)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> R:
        try:
            return execute(self, *args, **kwargs)
        finally:
            close_hook(self)

    return wrapper


def task_label(task: Any) -> str:
    """`SimpleStoreToObjectStorageOperator 'export_orders'`: how a configuration error names its task."""
    return f"{type(task).__name__} {getattr(task, 'task_id', '?')!r}"
