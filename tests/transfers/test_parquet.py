"""SimpleStoreToObjectStorageOperator to Parquet: the declared schema, every record, atomic, pyarrow
optional (and never imported to parse a DAG)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from airflow_provider_simplestore.client.fields import typed_values
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError, SimpleStoreServerError
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.utils.parquet import EXTRA_COLUMN, arrow_schema, parquet_columns
from tests.operator_support import context, listing, serving


def export(**kwargs: Any) -> SimpleStoreToObjectStorageOperator:
    return SimpleStoreToObjectStorageOperator(task_id="export", **kwargs)


def test_orders_read_back_with_the_declared_schema_every_record_once(
    simplestore_conn: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("airflow_provider_simplestore.utils.parquet.ROW_GROUP_ROWS", 128)  # several row groups
    target = tmp_path / "orders.parquet"
    operator = export(resource="orders", incremental=False, destination=str(target), page_size=50, max_workers=2)
    summary = operator.execute(context())

    orders = listing(simplestore_conn, "/v1/orders")
    data = target.read_bytes()
    assert summary == {
        "destination": f"file://{target}",
        "resource": "orders",
        "format": "parquet",
        "records": len(orders),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "duplicates_dropped": 0,
    }
    file = pq.ParquetFile(target)
    assert file.schema_arrow == arrow_schema("orders")
    assert file.metadata.num_rows == len(orders) and file.metadata.num_row_groups == -(-len(orders) // 128)
    table = file.read()
    assert sorted(table.column("orderId").to_pylist()) == sorted({o["orderId"] for o in orders})
    # Each row is its order, typed: the same values the field table gives (nothing left over).
    assert table.to_pylist() == [{**typed_values(o, "orders")[0], EXTRA_COLUMN: None} for o in orders]
    assert operator.lineage is not None
    assert tuple(operator.lineage.outputs[0].fields) == parquet_columns("orders")


def test_the_suffix_chooses_parquet_and_an_empty_window_is_a_file_with_the_schema(
    simplestore_conn: Any, tmp_path: Path
) -> None:
    import datetime as dt

    empty = context(dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2001, 1, 2, tzinfo=dt.timezone.utc))
    summary = export(resource="orders", destination=str(tmp_path / "o.PARQUET")).execute(empty)
    assert (summary["format"], summary["records"]) == ("parquet", 0)
    file = pq.ParquetFile(tmp_path / "o.PARQUET")
    assert (file.metadata.num_rows, file.schema_arrow) == (0, arrow_schema("orders"))


def test_a_field_the_platform_adds_later_is_kept_in_extra_fields(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    later = {
        "productId": "p-later",
        "slug": "mug",
        "loyaltyTier": "gold",
        "isActive": "yes",
        "basePrice": {"sellPrice": 5, "taxRate": 0.1},
    }
    with serving([later], monkeypatch):
        export(resource="products", destination=str(tmp_path / "p.parquet")).execute(context())
    [row] = pq.read_table(tmp_path / "p.parquet").to_pylist()
    assert (row["slug"], row["isActive"], row["basePrice"]["sellPrice"]) == ("mug", None, 5.0)
    assert json.loads(row[EXTRA_COLUMN]) == {"loyaltyTier": "gold", "isActive": "yes", "basePrice": {"taxRate": 0.1}}
    task_log = caplog.text + capsys.readouterr().out  # Airflow 3's task log goes to stdout, 2.11's to logging
    assert "(kept as JSON in its _extra_fields column): basePrice.taxRate, isActive, loyaltyTier" in task_log


def test_a_failure_mid_export_leaves_the_old_file_and_no_temporary(
    fresh_sandbox: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=2, products=120)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(max_retries=0))
    monkeypatch.setattr("airflow_provider_simplestore.utils.parquet.ROW_GROUP_ROWS", 10)  # bytes out per page
    target = tmp_path / "products.parquet"
    target.write_bytes(b"yesterday's export")
    operator = export(resource="products", destination=str(target), page_size=10)
    real_pages = operator.hook.paginate_pages

    def pages_then_outage(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for index, page in enumerate(real_pages(*args, **kwargs)):
            yield page
            if index == 1:  # two pages (two row groups) are written: the platform starts failing
                sb.set_faults(rules=[{"kind": "503", "probability": 1, "routes": ["/v1/products"]}])

    monkeypatch.setattr(operator.hook, "paginate_pages", pages_then_outage)
    with pytest.raises(SimpleStoreServerError):
        operator.execute(context())
    assert target.read_bytes() == b"yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == ["products.parquet"]


def test_without_pyarrow_a_parquet_export_fails_when_the_dag_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # how Python marks a package as not importable
    needs = r"file_format 'parquet' needs pyarrow, which is not installed: pip install 'airflow-provider-simplestore"
    with pytest.raises(SimpleStoreConfigError, match=needs):
        export(resource="orders", destination="/tmp/orders.jsonl", file_format="parquet")
    with pytest.raises(SimpleStoreConfigError, match=needs):
        export(resource="orders", destination="s3://lake/orders/{{ ds }}.parquet")
    export(resource="orders", destination="/tmp/orders.jsonl")  # the other formats do not need it


def test_building_a_parquet_export_imports_no_pyarrow() -> None:
    """What DAG parsing does: import the operator and build it. pyarrow loads when the task runs."""
    code = (
        "import sys\n"
        "from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator\n"
        "SimpleStoreToObjectStorageOperator(task_id='t', resource='orders', destination='/tmp/o.parquet')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyarrow'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"
