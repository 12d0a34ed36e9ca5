"""The SimpleStore hook of an operator or sensor, built on first use.

The hook module is imported only when a task runs: DAG files import operators at every parse,
and parsing must stay cheap.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


class SimpleStoreHookMixin:
    """Gives ``self.hook`` from ``self.simplestore_conn_id`` (and ``self.page_size``, if set)."""

    simplestore_conn_id: str
    page_size: int | None = None

    @cached_property
    def hook(self) -> SimpleStoreHook:
        from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

        return SimpleStoreHook(simplestore_conn_id=self.simplestore_conn_id, page_size=self.page_size)
