"""Data-aware scheduling: check each orders export as soon as it lands.

Scheduled on the orders export's asset alias `simplestore-export-orders`: every run of
`simplestore_new_orders_export` that writes a file emits an asset event through it (the file's
URI, with records, bytes, sha256 and the window in its extra), and the scheduler starts this DAG
after it. The task re-reads each file the events name and checks it against what the export
reported (line count and sha256), so a file changed or cut short in between fails here, before
dbt or reports read it. Put your own downstream work after `check_exports`.

On Airflow 2.11 the same DAG is scheduled on the Dataset alias of that name. Airflow 3.0 starts the
DAG on the alias's events but does not hand them to the run; the task then fails, saying so, rather
than succeed having checked nothing (3.1 and later pass them).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_simplestore.compat import AssetAlias

ORDERS_EXPORT = AssetAlias("simplestore-export-orders")


def check_export(uri: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The exported file against its asset event: same number of lines and the same sha256."""
    import hashlib

    from airflow_provider_simplestore.utils.storage import storage_path

    digest, lines = hashlib.sha256(), 0
    with storage_path(uri, role="export").open("rb") as handle:
        while chunk := handle.read(1 << 16):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    if digest.hexdigest() != extra.get("sha256") or lines != extra.get("records"):
        raise ValueError(
            f"{uri} is not what the export wrote: {lines} lines (export: {extra.get('records')}), "
            f"sha256 {digest.hexdigest()} (export: {extra.get('sha256')})"
        )
    return {"uri": uri, "records": lines}


with DAG(
    dag_id="simplestore_new_orders_check",
    description="Check each SimpleStore orders export when it lands (scheduled on its asset)",
    schedule=[ORDERS_EXPORT],
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["simplestore", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def check_exports(**context: Any) -> list[dict[str, Any]]:
        from airflow_provider_simplestore.compat import triggering_asset_events

        events = triggering_asset_events(context)
        run_type = getattr(context["dag_run"], "run_type", "")
        run_type = str(getattr(run_type, "value", run_type)).lower()  # an enum on some versions
        if not events and ("asset" in run_type or "dataset" in run_type):
            # Never a green run that checked nothing: Airflow 3.0 starts a DAG scheduled on an alias
            # but hands it only events of assets the alias named when the DAG was parsed.
            raise ValueError(
                "started by an asset event, but this run received none: nothing to check "
                "(Airflow 3.0 does not pass events through an asset alias; use 3.1 or later)"
            )
        return [check_export(uri, extra) for uri, extra in events]

    check_exports()


if __name__ == "__main__":
    from airflow_provider_simplestore.compat import dag_test

    dag_test(dag)  # dag.test() as each Airflow version needs it
