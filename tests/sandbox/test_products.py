"""Product writes: create, partial update with nested merge, versions, natural keys, delete."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import assert_problem


@pytest.fixture
def client(small_sandbox):
    return small_sandbox()[1]


def test_create_get_update_delete(client):
    created = client.post("/v1/products", json={"title": "Travel Mug", "description": "Keeps tea hot"})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"productId", "version"}
    product = client.get(f"/v1/products/{body['productId']}").json()
    assert product["slug"] == "travel-mug" and product["shortUrl"] and product["isActive"] is True
    assert product["version"] == body["version"]

    update = {"basePrice": {"sellPrice": 19.999}, "inventory": {"sku": "MUG-1", "trackInventory": True}}
    updated = client.put(f"/v1/products/{body['productId']}", json=update)
    assert updated.status_code == 200
    assert updated.json()["version"] != body["version"]
    product = client.get(f"/v1/products/{body['productId']}").json()
    assert product["title"] == "Travel Mug"  # absent fields untouched
    assert product["basePrice"] == {"currencyCode": "AUD", "sellPrice": 20.0, "retailPrice": None, "attributes": {}}
    assert product["price"]["sellPrice"] == 20.0
    assert product["inventory"]["sku"] == "MUG-1" and product["inventory"]["trackInventory"] is True
    assert product["inventory"]["availableQuantity"] is None  # merged key by key
    assert product["status"] == "Available"

    assert client.delete(f"/v1/products/{body['productId']}").status_code == 200
    assert_problem(client.get(f"/v1/products/{body['productId']}"), 404)
    assert_problem(client.delete(f"/v1/products/{body['productId']}"), 404)
    assert_problem(client.put(f"/v1/products/{body['productId']}", json={"title": "x"}), 404)


def test_stock_below_minimum_is_out_of_stock(client):
    pid = client.post("/v1/products", json={"title": "Rare Thing"}).json()["productId"]
    inventory = {"trackInventory": True, "availableQuantity": 2, "minActiveQuantity": 5}
    client.put(f"/v1/products/{pid}", json={"inventory": inventory})
    assert client.get(f"/v1/products/{pid}").json()["status"] == "OutOfStock"
    client.put(f"/v1/products/{pid}", json={"inventory": {"availableQuantity": 50}})
    assert client.get(f"/v1/products/{pid}").json()["status"] == "Available"


def test_stale_version_is_409_in_body_or_query(client):
    pid = client.post("/v1/products", json={"title": "Versioned"}).json()["productId"]
    v1 = client.get(f"/v1/products/{pid}").json()["version"]
    v2 = client.put(f"/v1/products/{pid}", json={"title": "Versioned 2", "version": v1}).json()["version"]
    assert_problem(
        client.put(f"/v1/products/{pid}", json={"title": "Lost", "version": v1}), 409, detail_contains="stale"
    )
    stale_query = client.put(f"/v1/products/{pid}", params={"Version": v1}, json={"title": "Lost"})
    assert_problem(stale_query, 409)
    assert_problem(client.delete(f"/v1/products/{pid}", params={"version": v1}), 409)
    assert client.get(f"/v1/products/{pid}").json()["title"] == "Versioned 2"
    assert client.delete(f"/v1/products/{pid}", params={"Version": v2}).status_code == 200


def test_slug_and_sku_are_unique_case_insensitively(client):
    first = client.post("/v1/products", json={"title": "A", "slug": "only-one", "inventory": {"sku": "SKU-X"}})
    assert first.status_code == 201
    assert_problem(client.post("/v1/products", json={"title": "B", "slug": "ONLY-ONE"}), 409, detail_contains="slug")
    sku_clash = client.post("/v1/products", json={"title": "C", "inventory": {"sku": "sku-x"}})
    assert_problem(sku_clash, 409, detail_contains="sku")
    other = client.post("/v1/products", json={"title": "D"}).json()["productId"]
    assert_problem(client.put(f"/v1/products/{other}", json={"slug": "Only-One"}), 409)
    # the product keeps its own keys on an update, and a released slug can be reused
    assert client.put(f"/v1/products/{first.json()['productId']}", json={"slug": "renamed"}).status_code == 200
    assert client.put(f"/v1/products/{other}", json={"slug": "only-one"}).status_code == 200


def test_generated_slugs_do_not_collide(client):
    one = client.post("/v1/products", json={"title": "Same Name"}).json()["productId"]
    two = client.post("/v1/products", json={"title": "Same Name"}).json()["productId"]
    slugs = {client.get(f"/v1/products/{pid}").json()["slug"] for pid in (one, two)}
    assert slugs == {"same-name", "same-name-2"}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "title"),
        ({"description": "no title"}, "title"),
        ({"title": ""}, "title"),
        ({"title": 5}, "$.title"),
        ({"title": "x", "colour": "red"}, "unknown field `colour`"),
        ({"title": "x", "basePrice": {"sellPrice": "cheap"}}, "sellPrice"),
        ({"title": "x", "basePrice": {"sellPrice": -1}}, "negative"),
        ({"title": "x", "basePrice": {"currencyCode": "dollars"}}, "ISO 4217"),
        ({"title": "x", "status": "Sold"}, "status"),
        ({"title": "x", "slug": "has space"}, "slug"),
        ({"title": "x", "categories": ["no-such-category"]}, "does not exist"),
        ([], "object"),
    ],
)
def test_invalid_product_bodies(client, body, words):
    before = client.get("/v1/products").json()["totalRecordsFound"]
    assert_problem(client.post("/v1/products", json=body), 400, detail_contains=words)
    assert client.get("/v1/products").json()["totalRecordsFound"] == before


def test_categories_and_collections_by_id_or_ref(client):
    category = client.get("/v1/categories").json()["result"][0]
    collection = client.get("/v1/collections").json()["result"][0]
    body = {
        "title": "Linked",
        "categories": [category["categoryId"]],
        "collections": [{"key": collection["collectionId"]}],
    }
    pid = client.post("/v1/products", json=body).json()["productId"]
    product = client.get(f"/v1/products/{pid}").json()
    assert product["categories"] == [
        {"key": category["categoryId"], "value": category["name"], "slug": category["slug"]}
    ]
    assert product["collections"][0]["key"] == collection["collectionId"]
    count = client.get(f"/v1/categories/{category['categoryId']}").json()["itemCount"]
    assert count == category["itemCount"] + 1


def test_read_only_fields_may_be_round_tripped(client):
    product = client.get("/v1/products").json()["result"][0]
    echo = {k: v for k, v in product.items() if k not in ("categories", "collections")}
    echo["title"] = "Round trip"
    response = client.put(f"/v1/products/{product['productId']}", json=echo)
    assert response.status_code == 200, response.text
    assert client.get(f"/v1/products/{product['productId']}").json()["title"] == "Round trip"


def test_specials_drive_the_effective_price(client):
    pid = client.post("/v1/products", json={"title": "On Sale", "basePrice": {"sellPrice": 80}}).json()["productId"]
    special = {
        "name": "Quarter off",
        "specialType": "Percentage",
        "amount": 25,
        "startOnUtc": "2000-01-01T00:00:00Z",
        "rules": [{"entityType": "Product", "entityId": pid}],
    }
    created = client.post("/v1/specials", json=special)
    assert created.status_code == 201
    assert client.get(f"/v1/products/{pid}").json()["price"]["sellPrice"] == 60.0
    sid = created.json()["specialId"]
    client.put(f"/v1/specials/{sid}", json={"isActive": False})
    assert client.get(f"/v1/products/{pid}").json()["price"]["sellPrice"] == 80.0
    assert client.delete(f"/v1/specials/{sid}").status_code == 200
    assert_problem(client.get(f"/v1/specials/{sid}"), 404)
