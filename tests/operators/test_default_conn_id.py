"""One default connection id, `simplestore_default`, for every hook, operator, sensor and trigger."""

from __future__ import annotations

import inspect

from airflow_provider_simplestore.client.connection_fields import DEFAULT_CONN_ID
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook
from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator
from airflow_provider_simplestore.operators.simplestore import SimpleStoreOperator
from airflow_provider_simplestore.sensors.orders import SimpleStoreOrdersSensor
from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.triggers.orders import SimpleStoreOrdersTrigger

TAKERS = (
    SimpleStoreHook,
    SimpleStoreAsyncHook,
    SimpleStoreOperator,
    SimpleStoreToObjectStorageOperator,
    SimpleStoreToSqlOperator,
    SimpleStoreImportOperator,
    SimpleStoreOrdersSensor,
    SimpleStoreOrdersTrigger,
)


def test_every_class_defaults_to_the_one_conn_id() -> None:
    assert DEFAULT_CONN_ID == "simplestore_default"
    for cls in TAKERS:
        parameter = inspect.signature(cls.__init__).parameters["simplestore_conn_id"]
        assert parameter.default == DEFAULT_CONN_ID, cls.__name__
    assert SimpleStoreHook.default_conn_name == DEFAULT_CONN_ID
    assert SimpleStoreHook().simplestore_conn_id == SimpleStoreAsyncHook().simplestore_conn_id == DEFAULT_CONN_ID
    trigger = SimpleStoreOrdersTrigger(since="2026-01-01T00:00:00Z")
    assert trigger.serialize()[1]["simplestore_conn_id"] == DEFAULT_CONN_ID
