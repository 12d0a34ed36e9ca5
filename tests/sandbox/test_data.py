"""Seeded data: deterministic, realistic, and `POST /_sandbox/orders` for incremental syncs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import requests

from airflow_provider_simplestore.sandbox import run_sandbox
from tests.sandbox.helpers import SMALL, Client

ANCHOR = "2024-03-15T12:00:00Z"
PATHS = [
    "/v1/products",
    "/v1/categories",
    "/v1/collections",
    "/v1/specials",
    "/v1/customers",
    "/v1/orders",
    "/v1/basket",
    "/v1/folders",
]


def _snapshot(**options):
    with run_sandbox(**options) as sb, Client(sb) as client:
        out = {}
        for path in PATHS:
            out[path] = [client.get(path, params={"pageSize": 100, "pageIndex": i}).content for i in range(3)]
        out["/v1/configuration"] = [client.get("/v1/configuration").content]
        return out


def test_same_options_give_byte_identical_listings():
    options = {**SMALL, "products": 150, "orders": 120, "seed": 11, "anchor": ANCHOR}
    first, second = _snapshot(**options), _snapshot(**options)
    assert first == second
    other = _snapshot(**{**options, "seed": 12})
    assert other["/v1/products"] != first["/v1/products"]
    assert other["/v1/orders"] != first["/v1/orders"]


def test_orders_span_the_ninety_days_before_the_anchor(small_sandbox):
    _, client = small_sandbox(orders=200, anchor=ANCHOR)
    anchor = datetime(2024, 3, 15, 12, tzinfo=timezone.utc)
    orders = []
    for i in range(2):
        orders += client.get("/v1/orders", params={"pageSize": 100, "pageIndex": i}).json()["result"]
    stamps = [datetime.fromisoformat(o["createdOnUtc"].replace("Z", "+00:00")) for o in orders]
    assert len(stamps) == 200 and stamps == sorted(stamps)
    assert all(anchor - timedelta(days=90) <= s < anchor for s in stamps)
    assert max(stamps) - min(stamps) > timedelta(days=60)
    assert {o["status"] for o in orders} == {"Created", "Paid"}
    for order in orders:
        assert order["total"] == round(order["subtotal"] + order["shippingFee"], 2)
        assert order["subtotal"] == round(sum(item["total"] for item in order["items"]), 2)
        paid = sum(p["paidAmount"] for p in order["payments"])
        assert order["totalPaid"] == round(paid, 2)


def test_realistic_products_and_customers(api):
    products = api.get("/v1/products", params={"pageSize": 100}).json()["result"]
    for product in products:
        assert set(product["titles"]) == {"en-AU", "ja-JP"}
        price = product["basePrice"]["sellPrice"]
        assert price > 0 and round(price, 2) == price
        assert product["inventory"]["sku"]
        assert product["status"] in {"Available", "OutOfStock", "Discontinued", "Unavailable"}
    assert any(p["inventory"]["trackInventory"] and p["inventory"]["availableQuantity"] for p in products)
    assert any(p["price"]["sellPrice"] < p["basePrice"]["sellPrice"] for p in products), "no special applied"
    customers = api.get("/v1/customers", params={"pageSize": 100}).json()["result"]
    assert all(c["phones"] and c["addresses"] for c in customers)
    assert {c["addresses"][0]["country"] for c in customers} == {"AU", "JP"}
    phone = customers[0]["phones"][0]
    assert phone["numberInternational"].startswith("+")
    assert len({c["emailAddress"] for c in customers}) == len(customers)


def test_create_orders_now_for_incremental_syncs(small_sandbox):
    sb, client = small_sandbox()
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    stamp = before.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert client.get("/v1/orders", params={"CreatedFromUtc": stamp}).json()["totalRecordsFound"] == 0
    new_ids = sb.create_orders(3)
    assert len(set(new_ids)) == 3 and all(i.startswith("ord_") for i in new_ids)
    fresh = client.get("/v1/orders", params={"CreatedFromUtc": stamp}).json()
    assert sorted(o["orderId"] for o in fresh["result"]) == sorted(new_ids)
    assert all(o["status"] == "Created" for o in fresh["result"])
    stats = sb.stats()
    assert stats["creations"]["orders"] == 3 and stats["objects"]["orders"] == 23
    assert client.get(f"/v1/basket/bycart/{fresh['result'][0]['orderId']}").status_code == 404


def test_create_orders_rejects_bad_counts(small_sandbox):
    sb, _ = small_sandbox()
    for body in ({"count": -1}, {"count": "2"}, {"cont": 2}):
        response = requests.post(sb.url + "/_sandbox/orders", json=body, timeout=10)
        assert response.status_code == 400, body
    assert sb.stats()["objects"]["orders"] == 20
