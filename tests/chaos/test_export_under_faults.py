"""Exporting 10,000 orders while the sandbox misbehaves: every record arrives exactly once.

Per fixed seed the sandbox faults 10 % of the order-list requests with 503, 5 % with 429 (both
with Retry-After), 2 % with a connection reset and 1 % with a response slower than the client's
read timeout; 30 % of the token requests get a 503 as well. The export operator must succeed and
its file must hold exactly the sandbox's own listing (ids and content hashes), read beforehand
without faults.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from tests.chaos.support import FAST_RETRY_EXTRAS, content_hash, fault_mix, hashes_by_id, listing

pytestmark = pytest.mark.chaos

ORDERS = 10_000
PAGE_SIZE = 50  # 200 pages, so every kind of fault fires
FAULT_SHARES = {"503": 0.10, "429": 0.05, "reset": 0.02, "slow": 0.01}


@pytest.mark.parametrize(
    ("seed", "max_workers"),
    [(1, 1), (2, 1), (4, 4)],
    ids=["seed1-sequential", "seed2-sequential", "seed4-4-workers"],
)
def test_export_gets_every_order_exactly_once(
    seed: int,
    max_workers: int,
    fresh_sandbox: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sb = fresh_sandbox(seed=20 + seed, orders=ORDERS, subprocess=True)
    expected = hashes_by_id(listing(sb, "/v1/orders"), "orderId")
    assert len(expected) == ORDERS

    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json(**FAST_RETRY_EXTRAS))
    sb.set_faults(
        rules=fault_mix(FAULT_SHARES, methods=["GET"], routes=["/v1/orders"]),
        token_rules=fault_mix({"503": 0.3}),
        seed=seed,
    )
    before = sb.stats()
    destination = tmp_path / "orders.jsonl"
    operator = SimpleStoreToObjectStorageOperator(
        task_id="export_orders",
        resource="orders",
        incremental=False,
        destination=str(destination),
        page_size=PAGE_SIZE,
        max_workers=max_workers,
    )

    result = operator.execute({})  # a non-incremental export reads no context

    faults = {kind: sb.stats()["faults"][kind] - before["faults"][kind] for kind in ("503", "429", "reset", "slow")}
    sb.clear_faults()
    # Chaos really happened: every kind fired (fixed seeds; about 18 % of ~240 requests).
    assert all(faults.values()), faults

    lines = destination.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    got = hashes_by_id(records, "orderId")  # also fails on a duplicated order
    assert len(records) == ORDERS
    assert got.keys() == expected.keys()
    assert got == expected, [k for k in expected if got.get(k) != expected[k]][:5]
    assert result["records"] == ORDERS
    assert result["destination"].endswith(str(destination))
    # The file is complete and in the sandbox's order (page by page, also with 4 workers).
    assert [r["orderId"] for r in records] == list(expected)
    assert {content_hash(r) for r in records} == set(expected.values())
    assert not [p for p in tmp_path.iterdir() if p != destination], "a temporary file was left behind"
