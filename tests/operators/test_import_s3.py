"""SimpleStoreImportOperator reads s3:// through ObjectStoragePath (a moto server on 127.0.0.1),
and writes its rejects report beside the input in one upload."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator
from tests.operator_support import context, listing
from tests.s3_server import BUCKET, CONN_ID, S3Server

SOURCE = "in/inventory.csv"
REPORT = SOURCE + ".rejected.jsonl"
GOOD = (
    "slug,title,inventory.sku,basePrice.sellPrice,basePrice.currencyCode\n"
    "lake-mug,Lake Mug,LAKE-1,12.5,AUD\n"
    "lake-cap,Lake Cap,LAKE-2,20,AUD\n"
)


@pytest.fixture
def store(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=11, products=5, customers=2, orders=0)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


def run_import(key: str = SOURCE) -> dict[str, Any]:
    return SimpleStoreImportOperator(
        task_id="import",
        resource="products",
        source=f"s3://{BUCKET}/{key}",
        storage_conn_id=CONN_ID,
        max_error_ratio=0.5,
    ).execute(context())


def keys(s3: S3Server) -> list[str]:
    return sorted(entry["Key"] for entry in s3.client().list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_an_s3_file_is_imported_and_its_rejects_report_lands_beside_it(s3: S3Server, store: Any) -> None:
    client = s3.client()
    client.put_object(Bucket=BUCKET, Key=SOURCE, Body=(GOOD + "lake-bad,Bad,LAKE-3,cheap,AUD\n").encode())

    first = run_import()
    assert (first["created"], first["rejected"]) == (2, 1)
    assert first["rejected_report"] == f"s3://{CONN_ID}@{BUCKET}/{REPORT}"
    report = [json.loads(line) for line in client.get_object(Bucket=BUCKET, Key=REPORT)["Body"].read().splitlines()]
    assert [(entry["line"], "basePrice.sellPrice" in entry["reason"]) for entry in report] == [(4, True)]
    assert {"lake-mug", "lake-cap"} <= {product["slug"] for product in listing(store, "/v1/products")}

    client.put_object(Bucket=BUCKET, Key=SOURCE, Body=GOOD.encode())  # fixed: the stale report goes
    second = run_import()
    assert (second["created"], second["unchanged"], second["rejected_report"]) == (0, 2, None)
    assert keys(s3) == [SOURCE]
    assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_a_missing_s3_input_fails_clearly_before_any_write(s3: S3Server, store: Any) -> None:
    with pytest.raises(AirflowFailException, match=r"input s3://aws_test@lake/in/missing.csv cannot be read"):
        run_import("in/missing.csv")
    assert not [k for k in store.stats()["requests"] if not k.startswith("GET")]
    assert keys(s3) == []
