"""Importing products while the answers to committed POSTs get lost: exactly N products, task succeeds.

The sandbox processes and commits a share of the `POST /v1/products` calls and then answers
503, resets the connection, or answers after the client's read timeout (fault phase `after`).
The client cannot know whether those creates landed; the import operator must reconcile by
natural key instead of sending them again, so nothing is duplicated and nothing is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.operators.importer import SimpleStoreImportOperator
from tests.chaos.support import FAST_RETRY_EXTRAS, fault_mix, listing

pytestmark = pytest.mark.chaos

N = 60
LOST_ANSWERS = {"503": 0.20, "reset": 0.10, "slow": 0.05}


def product_rows(n: int) -> list[dict[str, Any]]:
    return [
        {
            "slug": f"chaos-product-{i:03d}",
            "title": f"Chaos product {i}",
            "description": "Imported while the answers got lost",
            "basePrice": {"sellPrice": 10 + i, "retailPrice": 20 + i, "currencyCode": "AUD"},
            "inventory": {"sku": f"CHAOS-{i:03d}", "availableQuantity": i},
        }
        for i in range(n)
    ]


def test_import_with_lost_post_answers_creates_each_product_once(
    fresh_sandbox: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox(seed=41, products=25, customers=5, orders=0, subprocess=True)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(**FAST_RETRY_EXTRAS))
    existing = {p["productId"] for p in listing(sb, "/v1/products")}
    rows = product_rows(N)
    source = tmp_path / "products.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    sb.set_faults(rules=fault_mix(LOST_ANSWERS, methods=["POST"], routes=["/v1/products"], phase="after"), seed=4)

    result = SimpleStoreImportOperator(
        task_id="import_products", resource="products", source=str(source), max_error_ratio=0
    ).execute({})

    stats = sb.stats()
    sb.clear_faults()
    lost = {kind: stats["faults"][kind] for kind in LOST_ANSWERS}
    assert all(lost.values()), f"every kind of lost answer should have fired: {lost}"
    assert result["created"] == N and result["rejected"] == 0 and result["rows"] == N, result
    assert result["rejected_report"] is None

    products = listing(sb, "/v1/products")
    new = [p for p in products if p["productId"] not in existing]
    assert len(products) == len(existing) + N
    assert sorted(p["slug"] for p in new) == [row["slug"] for row in rows]  # each exactly once
    by_slug = {p["slug"]: p for p in new}
    for row in rows:
        product = by_slug[row["slug"]]
        assert product["title"] == row["title"]
        assert product["inventory"]["sku"] == row["inventory"]["sku"]
        assert product["basePrice"]["sellPrice"] == row["basePrice"]["sellPrice"]
    assert stats["creations"]["products"] == N
    # A lost answer was reconciled by looking the product up, never by sending the POST again.
    assert stats["requests"]["POST /v1/products"] == N

    # Importing the same file again (no faults) changes nothing.
    again = SimpleStoreImportOperator(
        task_id="import_again", resource="products", source=str(source), max_error_ratio=0
    ).execute({})
    assert again["unchanged"] == N and again["created"] == again["updated"] == 0, again
    assert sb.stats()["creations"]["products"] == N
