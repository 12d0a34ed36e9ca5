"""SimpleStoreImportOperator: upserts by natural key, idempotency, reconciliation, rejects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator
from tests.operator_support import context, listing

PRODUCT_HEADER = "slug,title,inventory.sku,basePrice.sellPrice,basePrice.currencyCode,inventory.availableQuantity"


@pytest.fixture
def store(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=11, products=12, customers=8, orders=0)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


def importer(source: Path, resource: str = "products", **kwargs: Any) -> SimpleStoreImportOperator:
    return SimpleStoreImportOperator(task_id="import", resource=resource, source=str(source), **kwargs)


def blank_if_none(value: Any) -> Any:
    return "" if value is None else value


def writes(sb: Any) -> dict[str, int]:
    return {k: v for k, v in sb.stats()["requests"].items() if not k.startswith("GET")}


def test_csv_creates_updates_and_leaves_unchanged_then_a_rerun_changes_nothing(store: Any, tmp_path: Path) -> None:
    products = listing(store, "/v1/products")
    same, by_sku, by_slug = products[0], products[1], products[2]
    source = tmp_path / "inventory.csv"
    source.write_text(
        f"{PRODUCT_HEADER}\n"
        # every field as it is: unchanged
        f"{same['slug']},,,{same['basePrice']['sellPrice']},{same['basePrice']['currencyCode']},"
        f"{blank_if_none(same['inventory']['availableQuantity'])}\n"
        # matched by sku (any case), new price and stock
        f",,{by_sku['inventory']['sku'].lower()},9.95,aud,42\n"
        # matched by slug, new title only
        f"{by_slug['slug']},Renamed Thing,,,,\n"
        # no match: created
        "brand-new-mug,Brand New Mug,NEW-0001,14.5,AUD,7\n"
    )

    first = importer(source).execute(context())
    assert first == {"created": 1, "updated": 2, "unchanged": 1, "rejected": 0, "rows": 4, "rejected_report": None}

    after = {p["productId"]: p for p in listing(store, "/v1/products")}
    assert after[same["productId"]] == same
    assert after[by_sku["productId"]]["basePrice"]["sellPrice"] == 9.95
    assert after[by_sku["productId"]]["basePrice"]["currencyCode"] == "AUD"
    assert after[by_sku["productId"]]["inventory"]["availableQuantity"] == 42
    assert after[by_sku["productId"]]["inventory"]["sku"] == by_sku["inventory"]["sku"]  # not lower-cased
    assert after[by_slug["productId"]]["title"] == "Renamed Thing"
    created = [p for p in after.values() if p["slug"] == "brand-new-mug"]
    assert len(after) == len(products) + 1 and len(created) == 1
    assert created[0]["inventory"] | {"sku": "NEW-0001", "availableQuantity": 7} == created[0]["inventory"]
    write_count = writes(store)

    second = importer(source).execute(context())
    assert second == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0, "rows": 4, "rejected_report": None}
    assert writes(store) == write_count  # only reads the second time


def test_a_create_whose_answer_is_lost_is_reconciled_not_sent_again(store: Any, tmp_path: Path) -> None:
    before = len(listing(store, "/v1/products"))
    source = tmp_path / "new.jsonl"
    new = [
        {"slug": f"lost-{i}", "title": f"Lost {i}", "inventory": {"sku": f"LOST-{i}"}, "basePrice": {"sellPrice": i}}
        for i in range(5)
    ]
    source.write_text("".join(json.dumps(row) + "\n" for row in new))
    # Every create is committed, then answered with a 503: the hook must not repeat the POST.
    store.set_faults(
        rules=[{"kind": "503", "probability": 1, "methods": ["POST"], "routes": ["/v1/products"], "phase": "after"}]
    )

    result = importer(source).execute(context())

    assert result["created"] == 5 and result["rejected"] == 0
    products = listing(store, "/v1/products")
    assert len(products) == before + 5
    assert sorted(p["slug"] for p in products if p["slug"].startswith("lost-")) == [f"lost-{i}" for i in range(5)]
    assert writes(store) == {"POST /v1/products": 5}
    assert store.stats()["creations"]["products"] == 5


def test_malformed_rows_are_reported_with_line_numbers(store: Any, tmp_path: Path) -> None:
    sku = listing(store, "/v1/products")[0]["inventory"]["sku"]
    source = tmp_path / "prices.csv"
    source.write_text(
        "inventory.sku,basePrice.sellPrice,basePrice.currencyCode\n"
        f"{sku},5.5,AUD\n"
        f"{sku},cheap,AUD\n"
        f"{sku},-1,AUD\n"
        ",3,AUD\n"
        f"{sku},1,AUD,extra\n"
        f"{sku},5.5,EURO\n"
    )
    result = importer(source, max_error_ratio=0.9).execute(context())

    assert (result["updated"], result["rejected"]) == (1, 5)
    assert result["rejected_report"] == f"file://{tmp_path}/prices.csv.rejected.jsonl"
    report = [json.loads(line) for line in (tmp_path / "prices.csv.rejected.jsonl").read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in report] == [
        (3, 'basePrice.sellPrice: expected a number, got "cheap"'),
        (4, 'basePrice.sellPrice: must not be negative, got "-1"'),
        (5, "no natural key: give slug or inventory.sku"),
        (6, "expected 3 fields, got 4"),
        (7, 'basePrice.currencyCode: expected a 3-letter ISO 4217 code, got "EURO"'),
    ]
    assert report[0]["row"] == {"inventory.sku": sku, "basePrice.sellPrice": "cheap", "basePrice.currencyCode": "AUD"}


def test_rows_that_cannot_be_written_count_against_the_ratio(store: Any, tmp_path: Path) -> None:
    first, second, third = listing(store, "/v1/products")[:3]
    source = tmp_path / "skus.csv"
    # The first row gives a new sku to a product; the second row's keys name two products (its slug
    # one, its sku another). The third is well-formed but refused by the platform (400: a new
    # product needs a title). (Two rows sharing a key are rejected as duplicates: test_import_refusals.)
    source.write_text(
        f"slug,inventory.sku\n{first['slug']},SHARED-SKU\n{second['slug']},{third['inventory']['sku']}\n"
        "Not A Slug!,NEW-SKU\n"
    )
    with pytest.raises(AirflowException, match=r"2 of 3 rows rejected, over max_error_ratio=0.5 \(0 created, 1 upd"):
        importer(source, max_error_ratio=0.5).execute(context())
    report = [json.loads(line) for line in (tmp_path / "skus.csv.rejected.jsonl").read_text().splitlines()]
    assert [r["line"] for r in report] == [3, 4]
    assert report[0]["reason"] == (
        f"slug and inventory.sku match different products: {second['productId']} and {third['productId']}"
    )
    assert report[1]["reason"].startswith("refused by SimpleStore: ")  # the server's 400 detail follows
    after = {p["productId"]: p for p in listing(store, "/v1/products")}
    assert after[first["productId"]]["inventory"]["sku"] == "SHARED-SKU"
    assert after[second["productId"]]["inventory"]["sku"] == second["inventory"]["sku"]


def test_mostly_malformed_input_fails_before_any_write(store: Any, tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"slug": "a", "title": "A"}\n{oops\n[1]\n{"slug": "b", "colour": "red"}\n')
    with pytest.raises(AirflowFailException, match=r"3 of 4 rows are malformed.*nothing was written"):
        importer(source, max_error_ratio=0.25).execute(context())
    assert writes(store) == {}
    reasons = [json.loads(line)["reason"] for line in (tmp_path / "bad.jsonl.rejected.jsonl").read_text().splitlines()]
    assert reasons[0].startswith("invalid JSON") and reasons[1] == "expected a JSON object, got list"
    assert reasons[2] == "unknown field 'colour'"


def test_a_clean_run_removes_a_stale_report(store: Any, tmp_path: Path) -> None:
    source = tmp_path / "ok.csv"
    source.write_text(f"{PRODUCT_HEADER}\nfine-mug,Fine Mug,FINE-1,3,AUD,1\n")
    stale = tmp_path / "ok.csv.rejected.jsonl"
    stale.write_text('{"line": 2, "reason": "old"}\n')
    assert importer(source).execute(context())["created"] == 1
    assert not stale.exists()


def test_unreadable_input_is_a_clear_error_before_any_write(store: Any, tmp_path: Path) -> None:
    with pytest.raises(AirflowFailException, match=r"input file://.*/missing.csv cannot be read"):
        importer(tmp_path / "missing.csv").execute(context())
    unknown_column = tmp_path / "typo.csv"
    unknown_column.write_text("slug,basePrice.sellprice\nmug,3\n")
    with pytest.raises(AirflowFailException, match=r"line 1: unknown column\(s\) 'basePrice.sellprice'"):
        importer(unknown_column).execute(context())
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("slug,title\nmug,Caf\u00e9\n".encode("latin-1"))
    with pytest.raises(AirflowFailException, match="line 2: not UTF-8"):
        importer(latin1).execute(context())
    with pytest.raises(SimpleStoreConfigError, match="cannot tell the format"):
        importer(tmp_path / "data.txt").execute(context())
    with pytest.raises(SimpleStoreConfigError, match="the import reads JSON Lines or CSV, not parquet"):
        importer(tmp_path / "products.parquet").execute(context())
    with pytest.raises(SimpleStoreConfigError, match="cannot import 'orders'; expected one of: products, customers"):
        importer(tmp_path / "o.csv", resource="orders")
    assert writes(store) == {}


def test_customers_match_by_email_ignoring_case(store: Any, tmp_path: Path) -> None:
    customers = listing(store, "/v1/customers")
    known = customers[0]
    source = tmp_path / "customers.jsonl"
    source.write_text(
        json.dumps({"emailAddress": known["emailAddress"].upper(), "displayName": "VIP " + known["firstName"]})
        + "\n"
        + json.dumps({"emailAddress": "new.person@example.com", "firstName": "New", "lastName": "Person"})
        + "\n"
    )
    first = importer(source, resource="customers").execute(context())
    assert (first["created"], first["updated"], first["unchanged"]) == (1, 1, 0)
    again = importer(source, resource="customers").execute(context())
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    after = {c["customerId"]: c for c in listing(store, "/v1/customers")}
    assert after[known["customerId"]]["displayName"] == "VIP " + known["firstName"]
    assert after[known["customerId"]]["emailAddress"] == known["emailAddress"]
    assert len(after) == len(customers) + 1
