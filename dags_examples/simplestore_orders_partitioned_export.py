"""Daily orders export in parallel: six four-hour parts, on as many workers, and a manifest.

Each run covers the day before it (data interval [00:00, 24:00) UTC). `plan_windows` cuts it into
six four-hour windows; `export_part` is mapped over them (dynamic task mapping), so six export
tasks run side by side on whatever workers are free, each writing only the orders created in its
window to its own file:

    <base>/orders/partitioned/<day>/part-00.jsonl ... part-05.jsonl
    <base>/orders/partitioned/<day>/manifest.json

`write_manifest` runs after all parts: it checks that the windows cover the day edge to edge (each
order in exactly one part), re-hashes every part against what its task reported, and only then
writes the manifest (all at once): each part's path, window, records, bytes and sha256, and the
total. A reader that waits for manifest.json sees a complete export. A re-run writes the same
parts again (each all or nothing) and a new manifest. `<day>` is the day covered
(`data_interval_start | ds`), however the run started; `<base>` as in `simplestore_catalog_export`.
See docs/partitioned-export.md.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_simplestore.compat import AssetAlias, cron_data_interval_timetable
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreExportOperator

PARTS = 6
PARTS_ALIAS = "simplestore-export-orders-parts"
DEFAULT_EXPORT_BASE = os.environ.get(
    "SIMPLESTORE_EXPORT_BASE",
    "file://" + os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "simplestore_exports"),
)
BASE = "{{ var.value.get('simplestore_export_base', params.export_base) }}"
FOLDER = BASE + "/orders/partitioned/{{ data_interval_start | ds }}"  # the day covered, however the run started

with DAG(
    dag_id="simplestore_orders_partitioned_export",
    description="Daily export of SimpleStore orders in parallel parts (dynamic task mapping), with a manifest",
    schedule=cron_data_interval_timetable("0 0 * * *"),
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,  # days are independent: a backfill may run several at once
    params={"export_base": DEFAULT_EXPORT_BASE},
    default_args={"retries": 2},
    tags=["simplestore", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def plan_windows(data_interval_start: Any = None, data_interval_end: Any = None) -> list[dict[str, str]]:
        from airflow_provider_simplestore.utils.manifest import split_window

        return split_window(data_interval_start, data_interval_end, PARTS)

    parts = SimpleStoreExportOperator.partial(
        task_id="export_part",
        resource="orders",
        destination=FOLDER + "/part-{{ '%02d' % ti.map_index }}.jsonl",
        # Not the new-orders alias: the parts are checked by write_manifest. Named in `outlets` too:
        # `.partial()` runs no __init__, and the DAG registers only the outlets it sees.
        asset_alias=PARTS_ALIAS,
        outlets=[AssetAlias(PARTS_ALIAS)],
    ).expand_kwargs(plan_windows())

    @task
    def write_manifest(
        summaries: Any, destination: str, data_interval_start: Any = None, data_interval_end: Any = None
    ) -> dict[str, Any]:
        from airflow_provider_simplestore.utils.manifest import write_manifest as write

        return write(
            destination, list(summaries), window_start=data_interval_start, window_end=data_interval_end
        )

    write_manifest(parts.output, FOLDER + "/manifest.json")


if __name__ == "__main__":
    from airflow_provider_simplestore.compat import dag_test

    dag_test(dag)  # dag.test() as each Airflow version needs it
