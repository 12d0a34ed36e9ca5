"""What every SimpleStore operator and sensor shares: its hook, and how it checks its arguments.

The hook is built on first use and closed when the task ends. The hook module is imported only
when a task runs: DAG files import operators at every parse, and parsing must stay cheap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError

if TYPE_CHECKING:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

R = TypeVar("R")
N = TypeVar("N", int, float)


def at_least(name: str, value: N, minimum: float) -> N:
    """`value`, checked when the task is built (a DAG with a bad one fails to parse, naming it)."""
    if value < minimum:
        raise SimpleStoreConfigError(f"{name} must be at least {minimum:g}, got {value}")
    return value


class SimpleStoreHookMixin:
    """Gives ``self.hook`` from ``self.simplestore_conn_id`` (and ``self.page_size``, if set)."""

    simplestore_conn_id: str
    page_size: int | None = None

    @cached_property
    def hook(self) -> SimpleStoreHook:
        from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

        return SimpleStoreHook(simplestore_conn_id=self.simplestore_conn_id, page_size=self.page_size)

    def task_label(self) -> str:
        """`SimpleStoreExportOperator 'export_orders'`: how a configuration error names its task."""
        return f"{type(self).__name__} {getattr(self, 'task_id', '?')!r}"

    def close_hook(self) -> None:
        """Close the hook's pooled connections, if it was built; a later use builds a new one."""
        hook = self.__dict__.pop("hook", None)
        if hook is not None:
            hook.close()


def closes_hook(execute: Callable[..., R]) -> Callable[..., R]:
    """Wraps an `execute`: the hook is closed when it returns, fails or defers. A worker process
    runs task after task, so pooled sockets must not outlive the task that opened them."""

    @functools.wraps(execute)
    def wrapper(self: SimpleStoreHookMixin, *args: Any, **kwargs: Any) -> R:
        try:
            return execute(self, *args, **kwargs)
        finally:
            self.close_hook()

    return wrapper
