"""Cart (6 documented + POST /v1/cart), checkout into an order and a basket, and the basket reads."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import assert_problem


@pytest.fixture
def shop(small_sandbox):
    sb, client = small_sandbox()
    products = client.get("/v1/products", params={"pageSize": 100, "IsActive": "true"}).json()["result"]
    sellable = [p for p in products if p["status"] == "Available"]
    return sb, client, sellable


def test_cart_flow_checkout_and_basket(shop):
    sb, client, products = shop
    a, b = products[0], products[1]
    created = client.post("/v1/cart", json={"items": [{"productId": a["productId"], "quantity": 2}]})
    assert created.status_code == 201
    cart = created.json()
    cart_id = cart["cartId"]
    assert cart["currencyCode"] == "AUD" and cart["items"][0]["quantity"] == 2
    assert cart["subTotalCurrency"] == round(2 * a["price"]["sellPrice"], 2)

    both = client.post(f"/v1/cart/{cart_id}/items", json={"items": [{"productId": b["productId"], "quantity": 1}]})
    assert both.status_code == 200 and len(both.json()["items"]) == 2
    replaced = client.post(f"/v1/cart/{cart_id}/items", json={"items": [{"productId": a["productId"], "quantity": 1}]})
    assert [i["quantity"] for i in replaced.json()["items"]] == [1, 1]  # quantity replaces

    shipped = client.post(f"/v1/cart/{cart_id}/shipping", json={"country": "AU", "state": "NSW"}).json()
    assert shipped["shippingFee"] == 9.95
    assert shipped["totalCurrency"] == round(shipped["subTotalCurrency"] + 9.95, 2)
    assert client.get(f"/v1/cart/{cart_id}").json() == shipped

    customer = client.get("/v1/customers").json()["result"][0]
    checkout = client.post(f"/v1/cart/{cart_id}", json={"customerId": customer["customerId"], "receiverName": "Gift"})
    assert checkout.status_code == 200
    result = checkout.json()
    assert set(result) == {"orderId", "customerId"} and result["customerId"] == customer["customerId"]

    order = client.get(f"/v1/orders/{result['orderId']}").json()
    assert order["status"] == "Created" and order["total"] == shipped["totalCurrency"]
    assert order["shippingFee"] == 9.95 and order["subtotal"] == shipped["subTotalCurrency"]
    assert order["receiverName"] == "Gift" and order["purchaserEmail"] == customer["emailAddress"]
    assert [i["productId"] for i in order["items"]] == [a["productId"], b["productId"]]

    basket = client.get(f"/v1/basket/bycart/{cart_id}").json()
    assert basket["basketId"] == cart_id and basket["orderId"] == result["orderId"] and "cartId" not in basket
    listed = client.get("/v1/basket", params={"CartId": cart_id}).json()
    assert listed["totalRecordsFound"] == 1

    assert_problem(client.post(f"/v1/cart/{cart_id}", json={"customerId": customer["customerId"]}), 404)
    assert_problem(client.get(f"/v1/cart/{cart_id}"), 404)
    assert_problem(client.post(f"/v1/cart/{cart_id}/items", json={"items": []}), 409, detail_contains="checked out")
    stats = sb.stats()
    assert stats["creations"]["orders"] == 1 and stats["creations"]["carts"] == 1


def test_unknown_cart_id_creates_that_cart_and_quantity_zero_removes(shop):
    _, client, products = shop
    pid = products[0]["productId"]
    made = client.post("/v1/cart/my-own-cart/items", json={"items": [{"productId": pid, "quantity": 3}]})
    assert made.status_code == 200 and made.json()["cartId"] == "my-own-cart"
    emptied = client.post("/v1/cart/my-own-cart/items", json={"items": [{"productId": pid, "quantity": 0}]}).json()
    assert emptied["items"] == [] and emptied["totalCurrency"] == 0
    assert_problem(
        client.post("/v1/cart/my-own-cart", json={"customerEmail": "x@example.com"}), 400, detail_contains="empty"
    )
    yen = client.post("/v1/cart", json={"currencyCode": "JPY", "items": [{"productId": pid, "quantity": 1}]})
    assert_problem(yen, 400, detail_contains="priced in AUD")


def test_remove_items_and_delete_cart(shop):
    _, client, products = shop
    lines = [{"productId": p["productId"], "quantity": 1} for p in products[:3]]
    cart_id = client.post("/v1/cart", json={"items": lines}).json()["cartId"]
    left = client.delete(
        f"/v1/cart/{cart_id}/items", json={"items": [products[0]["productId"], {"productId": products[1]["productId"]}]}
    )
    assert left.status_code == 200 and [i["productId"] for i in left.json()["items"]] == [products[2]["productId"]]
    deleted = client.delete(f"/v1/cart/{cart_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    for response in (
        client.get(f"/v1/cart/{cart_id}"),
        client.delete(f"/v1/cart/{cart_id}"),
        client.delete(f"/v1/cart/{cart_id}/items", json={"items": []}),
        client.post(f"/v1/cart/{cart_id}/shipping", json={"country": "AU"}),
        client.post(f"/v1/cart/{cart_id}", json={"customerEmail": "a@b.c"}),
        client.get(f"/v1/basket/bycart/{cart_id}"),
    ):
        assert_problem(response, 404)


def test_checkout_by_email_creates_or_reuses_customer_and_default_shipping(shop):
    _, client, products = shop
    cart_id = client.post("/v1/cart", json={"items": [{"productId": products[0]["productId"], "quantity": 1}]}).json()[
        "cartId"
    ]
    body = {"customerEmail": "New.Buyer@example.com", "customerFirstName": "New", "customerLastName": "Buyer"}
    result = client.post(f"/v1/cart/{cart_id}", json=body).json()
    customer = client.get(f"/v1/customers/{result['customerId']}").json()
    assert customer["displayName"] == "New Buyer"
    order = client.get(f"/v1/orders/{result['orderId']}").json()
    assert order["shippingFee"] == 24.95  # no address, no quote: the configured default fee
    again = client.post("/v1/cart", json={"items": [{"productId": products[1]["productId"], "quantity": 1}]}).json()
    reuse = client.post(f"/v1/cart/{again['cartId']}", json={"customerEmail": "new.buyer@EXAMPLE.com"}).json()
    assert reuse["customerId"] == result["customerId"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"items": [{"productId": "nope", "quantity": 1}]}, 400, "does not exist"),
        ({"items": [{"productId": "{pid}", "quantity": -1}]}, 400, "negative"),
        ({"items": [{"productId": "{pid}", "quantity": 1.5}]}, 400, "quantity"),
        ({"items": [{"productId": "{pid}"}]}, 400, "quantity"),
        ({"currencyCode": "JPY", "items": [{"productId": "{pid}", "quantity": 1}]}, 400, "differs"),
    ],
)
def test_invalid_cart_items_leave_the_cart_unchanged(shop, body, status, words):
    _, client, products = shop
    pid = products[0]["productId"]
    cart = client.post("/v1/cart", json={"items": [{"productId": pid, "quantity": 1}]}).json()
    text = str(body).replace("'", '"').replace("{pid}", pid).replace("True", "true")
    response = client.post(f"/v1/cart/{cart['cartId']}/items", data=text, headers={"Content-Type": "application/json"})
    assert_problem(response, status, detail_contains=words)
    assert client.get(f"/v1/cart/{cart['cartId']}").json() == cart


def test_checkout_needs_a_known_customer(shop):
    _, client, products = shop
    cart_id = client.post("/v1/cart", json={"items": [{"productId": products[0]["productId"], "quantity": 1}]}).json()[
        "cartId"
    ]
    assert_problem(client.post(f"/v1/cart/{cart_id}", json={}), 400, detail_contains="customerId or customerEmail")
    assert_problem(client.post(f"/v1/cart/{cart_id}", json={"customerId": "ghost"}), 400, detail_contains="ghost")
    assert client.get(f"/v1/cart/{cart_id}").status_code == 200  # still there


def test_checkout_takes_tracked_stock(shop):
    _, client, products = shop
    tracked = next(p for p in products if p["inventory"]["trackInventory"] and p["inventory"]["availableQuantity"] > 3)
    before = tracked["inventory"]["availableQuantity"]
    cart_id = client.post("/v1/cart", json={"items": [{"productId": tracked["productId"], "quantity": 3}]}).json()[
        "cartId"
    ]
    client.post(f"/v1/cart/{cart_id}", json={"customerEmail": "stock@example.com"})
    after = client.get(f"/v1/products/{tracked['productId']}").json()
    assert after["inventory"]["availableQuantity"] == before - 3 and after["version"] != tracked["version"]
