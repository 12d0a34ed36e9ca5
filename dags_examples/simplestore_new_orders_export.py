"""Wait for new orders (deferrable), then export them.

Triggered on demand (or by an upstream DAG): the sensor waits, in the triggerer and without
holding a worker slot, until at least one order has been created since the run started (its
data interval start; for a manual run without a logical date, which Airflow 3 allows, the moment
it was triggered). It returns the window it saw, `since` .. `checked_at`, and the export writes
exactly the orders created in that window to

    <base>/orders/new/<run id>.jsonl

(base as in `simplestore_catalog_export`; the run id with `:` as `-`: one file per run, also for
runs triggered in the same second, and for runs without a logical date). The sensor polls every
30 s with jitter, backs off on 429/503 as the server asks (Retry-After), and gives up after 6 hours.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_simplestore.sensors.orders import SimpleStoreOrdersSensor
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

DEFAULT_EXPORT_BASE = os.environ.get(
    "SIMPLESTORE_EXPORT_BASE",
    "file://" + os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "simplestore_exports"),
)
SEEN = "ti.xcom_pull(task_ids='wait_for_orders')"

with DAG(
    dag_id="simplestore_new_orders_export",
    description="Wait for new SimpleStore orders (deferrable sensor), then export them",
    schedule=None,
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    params={"export_base": DEFAULT_EXPORT_BASE},
    tags=["simplestore", "example"],
    doc_md=__doc__,
) as dag:
    wait_for_orders = SimpleStoreOrdersSensor(
        task_id="wait_for_orders",
        min_count=1,
        deferrable=True,
        poke_interval=30,
        timeout=timedelta(hours=6).total_seconds(),
    )
    export_new_orders = SimpleStoreToObjectStorageOperator(
        task_id="export_new_orders",
        resource="orders",
        created_from="{{ " + SEEN + "['since'] }}",
        created_to="{{ " + SEEN + "['checked_at'] }}",
        destination=(
            "{{ var.value.get('simplestore_export_base', params.export_base) }}"
            "/orders/new/{{ run_id | replace(':', '-') }}.jsonl"
        ),
    )
    wait_for_orders >> export_new_orders


if __name__ == "__main__":
    from airflow_provider_simplestore.compat import dag_test

    dag_test(dag)  # dag.test() as each Airflow version needs it
