"""Daily inventory and price import from a CSV file.

Reads `<base>/inventory/<day>.csv` (base: the Variable `simplestore_import_base`, else the DAG
param `import_base`, default SIMPLESTORE_IMPORT_BASE or `$AIRFLOW_HOME/simplestore_imports`),
for example as written by a warehouse system. `<day>` is the run's logical date, or for a manual
run without one (Airflow 3) the day it was triggered:

    inventory.sku,basePrice.sellPrice,basePrice.retailPrice,basePrice.currencyCode,inventory.availableQuantity
    SKU-00042,19.95,24.95,AUD,130

Each row is matched to a product by `slug` or `inventory.sku` and only the fields that differ
are updated; rows for unknown products create them. Running the same file again changes
nothing. Rows that cannot be used (a bad number, an unknown product field, a refused value) are
listed with their line number and reason in `<file>.rejected.jsonl` next to the input; the task
fails only if more than 5% of the rows are rejected. The task returns its counts (created,
updated, unchanged, rejected) to XCom.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator

DEFAULT_IMPORT_BASE = os.environ.get(
    "SIMPLESTORE_IMPORT_BASE",
    "file://" + os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "simplestore_imports"),
)

with DAG(
    dag_id="simplestore_inventory_import",
    description="Daily import of stock levels and prices from a CSV file into SimpleStore products",
    schedule="30 5 * * *",
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    params={"import_base": DEFAULT_IMPORT_BASE},
    tags=["simplestore", "example"],
    doc_md=__doc__,
) as dag:
    SimpleStoreImportOperator(
        task_id="import_inventory",
        resource="products",
        source=(
            "{{ var.value.get('simplestore_import_base', params.import_base) }}"
            "/inventory/{{ (logical_date | default(dag_run.run_after)) | ds }}.csv"  # ds, also for an undated run
        ),
        max_error_ratio=0.05,
        # Safe to retry: rows already written are "unchanged" on the next try.
        retries=2,
    )


if __name__ == "__main__":
    from airflow_provider_simplestore.compat import dag_test

    dag_test(dag)  # dag.test() as each Airflow version needs it
