"""Nightly catalog export: products and categories to JSON Lines and CSV files.

Every night at 02:00 UTC the whole catalog is written to

    <base>/catalog/<day>/products.jsonl      one JSON object per product, every field
    <base>/catalog/<day>/products.csv        fixed columns, nested fields as `basePrice.sellPrice`
    <base>/catalog/<day>/categories.jsonl
    <base>/catalog/<day>/categories.csv

`<day>` is the run's logical date; a manual run without one (Airflow 3 allows it) has no `ds`,
so the template falls back to the day it was triggered (`dag_run.run_after`).

`<base>` is any ObjectStoragePath URL (`file:///...`, `s3://bucket/prefix`, ...): the Airflow
Variable `simplestore_export_base` if set, else the DAG param `export_base`, whose default is
the environment variable SIMPLESTORE_EXPORT_BASE or `$AIRFLOW_HOME/simplestore_exports`. Each
file appears all at once when its task succeeds; a failed task leaves nothing behind. Each task
returns a summary (records, bytes, sha256) to XCom.

Needs the `simplestore_default` connection. Nothing here does I/O when the file is parsed: the
Variable is read by the template when the task runs.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

DEFAULT_EXPORT_BASE = os.environ.get(
    "SIMPLESTORE_EXPORT_BASE",
    "file://" + os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "simplestore_exports"),
)
BASE = "{{ var.value.get('simplestore_export_base', params.export_base) }}"
DAY = "{{ (logical_date | default(dag_run.run_after)) | ds }}"  # ds, also for a run without a logical date

with DAG(
    dag_id="simplestore_catalog_export",
    description="Nightly export of the SimpleStore catalog (products, categories) to JSON Lines and CSV",
    schedule="0 2 * * *",
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    params={"export_base": DEFAULT_EXPORT_BASE},
    default_args={"retries": 2},
    tags=["simplestore", "example"],
    doc_md=__doc__,
) as dag:
    for resource in ("products", "categories"):
        for file_format in ("jsonl", "csv"):
            SimpleStoreToObjectStorageOperator(
                task_id=f"export_{resource}_{file_format}",
                resource=resource,
                destination=f"{BASE}/catalog/{DAY}/{resource}.{file_format}",
                max_workers=2,
            )


if __name__ == "__main__":
    from airflow_provider_simplestore.compat import dag_test

    dag_test(dag)  # dag.test() as each Airflow version needs it
