"""Hourly orders into a SQL table, incremental and safe to catch up.

Each run loads the orders created in its data interval (one hour, `createdOnUtc` in
[data_interval_start, data_interval_end)) into the table `simplestore_orders`, upserting by
order id. So a retry, a re-run, a backfill (`airflow backfill create`) or turning `catchup` on
never duplicates a row: every run touches only its own hour, and writing it twice gives the
same table.

The table (created on first use) has the order id, a few typed columns (status, customer,
created time, currency, totals), the full order as JSON text (`document`) and `synced_at`.

The database is the Airflow connection `sqlite_default` (an embedded SQLite file; set it with
e.g. AIRFLOW_CONN_SQLITE_DEFAULT='{"conn_type": "sqlite", "host": "/data/orders.db"}'; where it
is not defined, as on a fresh Airflow 3, $AIRFLOW_HOME/simplestore.db is used and logged). Any
common-sql connection works the same way: point `sql_conn_id` at a Postgres connection and
nothing else changes.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.common.compat.sdk import DAG

from airflow_provider_simplestore.compat import cron_data_interval_timetable
from airflow_provider_simplestore.transfers.simplestore_to_sql import SimpleStoreToSqlOperator

with DAG(
    dag_id="simplestore_orders_to_sql",
    description="Hourly, incremental load of SimpleStore orders into a SQL table",
    # A data-interval timetable: each run covers the hour *before* it starts.
    schedule=cron_data_interval_timetable("0 * * * *"),
    start_date=datetime(2025, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    default_args={"retries": 3},
    tags=["simplestore", "example"],
    doc_md=__doc__,
) as dag:
    SimpleStoreToSqlOperator(
        task_id="load_orders",
        resource="orders",
        table="simplestore_orders",
        sql_conn_id="sqlite_default",
        create_table=True,
    )


if __name__ == "__main__":
    from airflow_provider_simplestore.compat import dag_test

    dag_test(dag)  # dag.test() as each Airflow version needs it
