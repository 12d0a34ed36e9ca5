"""Every typed endpoint method, over real HTTP, on both hooks: write flows on a fresh sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_simplestore.client.resources import ENDPOINTS
from airflow_provider_simplestore.exceptions import SimpleStoreConflictError, SimpleStoreNotFoundError

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def shop(fresh_sandbox: Callable, connect: Callable, client: Callable) -> Any:
    sb = fresh_sandbox(products=30, customers=5, orders=5)
    c = client(connect(sb))
    c.sandbox = sb
    return c


def used_routes(sb: Any) -> set[str]:
    return set(sb.stats()["requests"])


def test_products(shop: Any) -> None:
    created = shop.call(
        "create_product",
        {
            "title": "Blue mug",
            "slug": "blue-mug",
            "isActive": True,
            "inventory": {"sku": "MUG-1", "availableQuantity": 5},
        },
    )
    pid = created["productId"]
    assert shop.call("get_product", pid)["slug"] == "blue-mug"
    assert [p["productId"] for p in shop.items("list_products", slug="BLUE-MUG")] == [pid]
    assert [p["productId"] for p in shop.items("list_products", sku="mug-1")] == [pid]
    updated = shop.call("update_product", pid, {"title": "Big blue mug", "version": created["version"]})
    assert updated["productId"] == pid and updated["version"] != created["version"]
    assert shop.call("get_product", pid)["inventory"]["sku"] == "MUG-1"  # nested fields merged, not replaced
    active = shop.items("list_products", is_active=True)
    assert active and all(p["isActive"] for p in active)
    assert shop.call("delete_product", pid) is None
    with pytest.raises(SimpleStoreNotFoundError):
        shop.call("get_product", pid)


def test_customers_addresses_and_phones(shop: Any) -> None:
    body = {"firstName": "Ada", "lastName": "L", "displayName": "Ada L", "emailAddress": "ada@example.com"}
    cid = shop.call("create_customer", body)["customerId"]
    with pytest.raises(SimpleStoreConflictError):
        shop.call("create_customer", {**body, "emailAddress": "ADA@example.com"})
    assert [c["customerId"] for c in shop.items("list_customers", email="ada@example.com")] == [cid]
    assert [c["customerId"] for c in shop.items("list_customers", customer_ids=[cid])] == [cid]
    added = shop.call(
        "add_customer_address",
        cid,
        {"address1": "1 Main St", "suburb": "Newtown", "postcode": "2042", "state": "NSW", "country": "AU"},
    )
    assert added["totalAddressesAttached"] == 1
    assert (
        shop.call("add_customer_phone", cid, {"type": "Mobile", "country": "AU", "numberLocal": "0400 000 000"})[
            "totalPhonesAttached"
        ]
        == 1
    )
    customer = shop.call("get_customer", cid)
    removed = shop.call(
        "delete_customer_addresses", cid, [customer["addresses"][0]["key"]], version=customer["version"]
    )
    assert removed["totalAddressesAttached"] == 0 and len(removed["addressesRemoved"]) == 1
    customer = shop.call("get_customer", cid)
    removed = shop.call("delete_customer_phones", cid, [customer["phones"][0]["key"]], version=customer["version"])
    assert removed["totalPhonesAttached"] == 0
    assert shop.call("update_customer", cid, {**body, "displayName": "Countess"})["customerId"] == cid
    assert shop.call("get_customer", cid)["displayName"] == "Countess"
    shop.call("delete_customer", cid)
    with pytest.raises(SimpleStoreNotFoundError):
        shop.call("get_customer", cid)


def test_cart_checkout_order_and_basket(shop: Any) -> None:
    product = next(p for p in shop.items("list_products", is_active=True) if p["status"] == "Available")
    customer = shop.items("list_customers")[0]
    cart = shop.call("create_cart", {"currencyCode": "AUD"})
    cart_id = cart["cartId"]
    items = {"currencyCode": "AUD", "items": [{"productId": product["productId"], "quantity": 2}]}
    assert shop.call("set_cart_items", cart_id, items)["items"][0]["quantity"] == 2
    assert shop.call("calculate_shipping", cart_id, country="AU", state="NSW")["shippingFee"] >= 0
    assert shop.call("remove_cart_items", cart_id, [product["productId"]])["items"] == []
    shop.call("set_cart_items", cart_id, items)
    assert shop.call("get_cart", cart_id)["cartId"] == cart_id
    done = shop.call("checkout_cart", cart_id, {"customerId": customer["customerId"], "purchaserName": "Ada"})
    order = shop.call("get_order", done["orderId"])
    assert order["customerId"] == customer["customerId"] and order["items"][0]["quantity"] == 2
    assert [o["orderId"] for o in shop.items("list_orders", order_ids=[done["orderId"]])] == [done["orderId"]]
    assert shop.call("get_basket_by_cart", cart_id)["orderId"] == done["orderId"]
    assert [b["orderId"] for b in shop.items("list_baskets", cart_ids=[cart_id])] == [done["orderId"]]
    spare = shop.call("create_cart")["cartId"]
    shop.call("delete_cart", spare)
    with pytest.raises(SimpleStoreNotFoundError):
        shop.call("get_cart", spare)


def test_folders(shop: Any) -> None:
    fid = shop.call("create_folder", {"name": "Banners", "attributes": {}})["folderId"]
    assert shop.call("get_folder", fid)["name"] == "Banners"
    shop.call("update_folder", fid, {"name": "Hero banners"})
    assert [f["folderId"] for f in shop.items("list_folders", name="Hero banners")] == [fid]
    child = shop.call("create_folder", {"name": "Child", "parentId": fid})["folderId"]
    assert [f["folderId"] for f in shop.items("list_folders", parent_id=fid)] == [child]
    shop.call("delete_folder", child)
    with pytest.raises(SimpleStoreNotFoundError):
        shop.call("get_folder", child)


CATALOG_CASES = [
    ("category", {"name": "Teaware", "slug": "teaware"}, {"name": "Fine teaware"}),
    ("collection", {"name": "Spring", "slug": "spring", "description": "new"}, {"name": "Spring 2027"}),
    (
        "special",
        {
            "name": "10% off",
            "specialType": "Percentage",
            "amount": 10,
            "isActive": False,
            "startOnUtc": "2026-01-01T00:00:00Z",
            "rules": [],
        },
        {"amount": 15},
    ),
]


@pytest.mark.parametrize(("kind", "body", "change"), CATALOG_CASES)
def test_catalog_entities(shop: Any, kind: str, body: dict, change: dict) -> None:
    created = shop.call(f"create_{kind}", body)
    entity_id = created[f"{kind}Id"]
    assert shop.call(f"get_{kind}", entity_id)["name"] == body["name"]
    shop.call(f"update_{kind}", entity_id, change)
    got = shop.call(f"get_{kind}", entity_id)
    assert all(got[k] == v for k, v in change.items())
    plural = {"category": "categories", "collection": "collections", "special": "specials"}[kind]
    assert entity_id in [e[f"{kind}Id"] for e in shop.items(f"list_{plural}", name=got["name"])]
    shop.call(f"delete_{kind}", entity_id)
    with pytest.raises(SimpleStoreNotFoundError):
        shop.call(f"get_{kind}", entity_id)


def test_configuration(shop: Any) -> None:
    config = shop.call("get_configuration")
    shop.call("update_configuration", {"rewardsConversionRate": 0.5, "version": config["version"]})
    assert shop.call("get_configuration")["rewardsConversionRate"] == 0.5


def test_the_flows_above_cover_every_route(fresh_sandbox: Callable, connect: Callable, client: Callable) -> None:
    """Runs every flow on one sandbox and checks each ENDPOINTS route was really called."""
    sb = fresh_sandbox(products=30, customers=5, orders=5)
    c = client(connect(sb))
    c.sandbox = sb
    test_products(c)
    test_customers_addresses_and_phones(c)
    test_cart_checkout_order_and_basket(c)
    test_folders(c)
    for kind, body, change in CATALOG_CASES:
        test_catalog_entities(c, kind, body, change)
    test_configuration(c)
    c.items("list_categories")
    c.items("list_collections")
    c.items("list_specials")
    seen = {route_key(route) for route in used_routes(sb)}
    never = [
        f"{name} ({e.method} {e.path})"
        for name, e in ENDPOINTS.items()
        if route_key(f"{e.method} {e.path}") not in seen
    ]
    assert not never, f"never called: {never}"


def route_key(route: str) -> str:
    """`METHOD /full/template` with parameter names dropped (ours are snake_case, the sandbox's
    camelCase): `GET /v1/products/{product_id}` and `GET /v1/products/{productId}` -> `GET /v1/products/{}`."""
    return re.sub(r"\{[^}]*\}", "{}", route).rstrip("/")


def test_route_keys_tell_every_endpoint_apart() -> None:
    """One key per endpoint: a key that merged two routes would let one of them go uncalled unnoticed."""
    keys = {route_key(f"{e.method} {e.path}") for e in ENDPOINTS.values()}
    assert len(keys) == len(ENDPOINTS) == 47
    assert route_key("GET /v1/products/{product_id}") == route_key("GET /v1/products/{productId}")
    assert route_key("GET /v1/products/{product_id}") != route_key("GET /v1/products")
