"""utils/parquet.py: the Parquet schema from the field table, and the encoder's row groups.

The operator's Parquet exports against the sandbox are in tests/transfers/test_parquet.py.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_simplestore.client.fields import FIELDS
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils import parquet
from airflow_provider_simplestore.utils.parquet import EXTRA_COLUMN, ParquetEncoder, arrow_schema


def test_the_schema_types_each_documented_field() -> None:
    schema = arrow_schema("products")
    assert schema.names == [*(f.name for f in FIELDS["products"]), EXTRA_COLUMN]
    assert schema.field("basePrice").type == pa.struct(
        [
            ("currencyCode", pa.string()),
            ("sellPrice", pa.float64()),
            ("retailPrice", pa.float64()),
            ("attributes", pa.string()),  # a free-form map: JSON text
        ]
    )
    assert schema.field("baseRewards").type.field("points").type == pa.int64()
    assert schema.field("categories").type == pa.list_(
        pa.struct([("key", pa.string()), ("value", pa.string()), ("slug", pa.string())])
    )
    assert schema.field("isActive").type == pa.bool_() and schema.field("titles").type == pa.string()
    orders = arrow_schema("orders")
    assert orders.field("createdOnUtc").type == pa.timestamp("us", tz="UTC")
    assert orders.field("payments").type.value_type.field("paidOnUtc").type == pa.timestamp("us", tz="UTC")
    assert orders.metadata == {b"simplestore.resource": b"orders"}


def order(number: int, **fields: Any) -> dict[str, Any]:
    return {
        "orderId": f"ord_{number:04d}",
        "version": str(number),
        "status": "Paid",
        "createdOnUtc": f"2026-03-04T05:{number // 60 % 60:02d}:{number % 60:02d}.123Z",
        "items": [{"productId": "p1", "title": "Mug", "quantity": 2, "sellPrice": 4.5, "total": 9.0}],
        "total": 9.0,
        "attributes": {"channel": "web"},
        **fields,
    }


def test_row_groups_leave_as_they_fill_and_the_file_reads_back_typed() -> None:
    encoder = ParquetEncoder("orders", row_group_rows=100, batch_rows=30)
    chunks = [encoder.header()]
    sizes = []
    for number in range(250):
        chunks.append(encoder.encode(order(number)))
        sizes.append(sum(map(len, chunks)))
    chunks.append(encoder.footer())
    # The bytes of a row group come out when it is full, not at the end: memory holds one at most.
    assert sizes[98] == 4 < sizes[99] == sizes[198] < sizes[199] == sizes[249]
    data = pq.ParquetFile(io.BytesIO(b"".join(chunks)))
    assert [data.metadata.row_group(i).num_rows for i in range(data.metadata.num_row_groups)] == [100, 100, 50]
    assert data.schema_arrow == arrow_schema("orders")
    first = data.read().slice(0, 1).to_pylist()[0]
    assert first["createdOnUtc"].isoformat() == "2026-03-04T05:00:00.123000+00:00"
    assert first["items"] == [{"productId": "p1", "title": "Mug", "quantity": 2, "sellPrice": 4.5, "total": 9.0}]
    assert (first["attributes"], first["customerId"], first[EXTRA_COLUMN]) == ('{"channel":"web"}', None, None)


def test_what_the_schema_has_no_column_for_is_kept_as_json() -> None:
    encoder = ParquetEncoder("orders")
    later = order(1, loyaltyTier="gold", total="9.00", items=[{"productId": "p1", "quantity": 2, "giftWrap": True}])
    data = encoder.header() + encoder.encode(later) + encoder.encode(order(2)) + encoder.footer()
    rows = pq.read_table(io.BytesIO(data)).to_pylist()
    assert (rows[0]["total"], rows[0]["items"][0]["quantity"]) == (None, 2)  # text is no number: null, kept apart
    assert json.loads(rows[0][EXTRA_COLUMN]) == {"loyaltyTier": "gold", "total": "9.00", "items": [{"giftWrap": True}]}
    assert rows[1][EXTRA_COLUMN] is None
    assert encoder.left_over == {"loyaltyTier", "total", "items[].giftWrap"}


def test_an_export_of_nothing_is_a_valid_file_with_the_schema() -> None:
    encoder = ParquetEncoder("folders")
    data = pq.ParquetFile(io.BytesIO(encoder.header() + encoder.footer()))
    assert (data.metadata.num_rows, data.schema_arrow) == (0, arrow_schema("folders"))


def test_without_pyarrow_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # how Python marks a package as not importable
    with pytest.raises(
        SimpleStoreConfigError,
        match=r"file_format 'parquet' needs pyarrow, which is not installed: "
        r"pip install 'airflow-provider-simplestore\[parquet\]'",
    ):
        parquet.require_pyarrow()


@pytest.mark.parametrize(("chosen", "used"), [(None, "system"), ("jemalloc", "jemalloc")])
def test_an_export_loads_pyarrow_with_the_c_allocator_unless_the_deployment_chose(
    chosen: str | None, used: str
) -> None:
    code = (
        "from airflow_provider_simplestore.utils.parquet import ParquetEncoder\n"
        "ParquetEncoder('orders')\n"
        "import pyarrow\n"
        "print(pyarrow.default_memory_pool().backend_name)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == used
