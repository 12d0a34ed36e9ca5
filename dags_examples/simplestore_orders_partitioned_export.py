"""Daily orders export in parallel: six four-hour parts, on as many workers, and a manifest.

Each run covers the day before it (data interval [00:00, 24:00) UTC). `plan_parts` cuts it into
six four-hour windows; `export_part` is mapped over them (dynamic task mapping), so six export
tasks run side by side on whatever workers are free, each writing only the orders created in its
window to its own file:

    <base>/orders/partitioned/<day>/part-00.jsonl ... part-05.jsonl
    <base>/orders/partitioned/<day>/manifest.json

`write_manifest` runs after all parts: it checks that the windows cover the day edge to edge (each
order in exactly one part), re-hashes every part against what its task reported, and only then
writes the manifest (all at once): each part's path, window, records, bytes and sha256, and the
total. A reader that waits for manifest.json sees a complete export. A re-run writes the same
parts again (each all or nothing) and a new manifest. `<day>` is the day covered, however the run
started (a manual run without a logical date covers the last whole day before it was triggered);
`<base>` as in `simplestore_catalog_export`.
See docs/partitioned-export.md.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_simplestore.compat import AssetAlias, cron_data_interval_timetable
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator

PARTS = 6
PARTS_ALIAS = "simplestore-export-orders-parts"
DEFAULT_EXPORT_BASE = os.environ.get(
    "SIMPLESTORE_EXPORT_BASE",
    "file://" + os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "simplestore_exports"),
)
BASE = "{{ var.value.get('simplestore_export_base', params.export_base) }}"

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
    def plan_parts(base: str, **context: Any) -> list[dict[str, str]]:
        """The day this run covers cut into PARTS windows, each with the file its part goes to."""
        from airflow_provider_simplestore.utils.manifest import split_window
        from airflow_provider_simplestore.utils.run_interval import run_interval

        interval = run_interval(context)  # also for a run without a logical date
        if interval is None:
            raise ValueError("this run covers no time span: trigger it with a logical date")
        folder = f"{base}/orders/partitioned/{interval.start:%Y-%m-%d}"
        windows = split_window(interval.start, interval.end, PARTS)
        return [{**window, "destination": f"{folder}/part-{i:02d}.jsonl"} for i, window in enumerate(windows)]

    plan = plan_parts(BASE)
    parts = SimpleStoreToObjectStorageOperator.partial(
        task_id="export_part",
        resource="orders",
        # Not the new-orders alias: the parts are checked by write_manifest. Named in `outlets` too:
        # `.partial()` runs no __init__, and the DAG registers only the outlets it sees.
        asset_alias=PARTS_ALIAS,
        outlets=[AssetAlias(PARTS_ALIAS)],
    ).expand_kwargs(plan)

    @task
    def write_manifest(summaries: Any, plan: list[dict[str, str]]) -> dict[str, Any]:
        """manifest.json beside the parts, over the whole planned window."""
        from airflow_provider_simplestore.utils.manifest import write_manifest as write

        folder = plan[0]["destination"].rsplit("/", 1)[0]
        start, end = plan[0]["created_from"], plan[-1]["created_to"]
        return write(f"{folder}/manifest.json", list(summaries), window_start=start, window_end=end)

    write_manifest(parts.output, plan)


if __name__ == "__main__":
    from airflow_provider_simplestore.compat import dag_test

    dag_test(dag)  # dag.test() as each Airflow version needs it
