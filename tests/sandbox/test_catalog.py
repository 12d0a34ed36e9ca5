"""Categories, collections, specials and configuration: the sandbox-chosen catalog routes."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import assert_problem


@pytest.fixture
def client(small_sandbox):
    return small_sandbox()[1]


def test_category_tree_and_counts(client):
    root = client.post("/v1/categories", json={"name": "Root Thing"}).json()
    assert client.get(f"/v1/categories/{root['categoryId']}").json()["slug"] == "root-thing"
    child = client.post("/v1/categories", json={"name": "Leaf", "parentId": root["categoryId"]})
    assert child.status_code == 201
    shown = client.get(f"/v1/categories/{root['categoryId']}").json()
    assert shown["totalChildren"] == 1 and shown["children"][0]["name"] == "Leaf"
    leaf = client.get(f"/v1/categories/{child.json()['categoryId']}").json()
    assert leaf["parentName"] == "Root Thing" and leaf["totalSibling"] == 0 and leaf["itemCount"] == 0
    assert list(leaf)[-4:] == ["sibling", "totalSibling", "isActive", "files"]
    cycle = client.put(f"/v1/categories/{root['categoryId']}", json={"parentId": child.json()["categoryId"]})
    assert_problem(cycle, 400, detail_contains="cycle")
    assert_problem(client.delete(f"/v1/categories/{root['categoryId']}"), 409, detail_contains="child")
    assert_problem(client.post("/v1/categories", json={"name": "x", "parentId": "nope"}), 400)
    assert_problem(client.post("/v1/categories", json={"slug": "no-name"}), 400, detail_contains="name")


def test_renaming_or_deleting_a_category_updates_product_refs(client):
    category = client.post("/v1/categories", json={"name": "Old"}).json()["categoryId"]
    pid = client.post("/v1/products", json={"title": "P", "categories": [category]}).json()["productId"]
    client.put(f"/v1/categories/{category}", json={"name": "New", "slug": "new"})
    assert client.get(f"/v1/products/{pid}").json()["categories"] == [{"key": category, "value": "New", "slug": "new"}]
    assert client.delete(f"/v1/categories/{category}").status_code == 200
    assert client.get(f"/v1/products/{pid}").json()["categories"] == []
    assert_problem(client.get(f"/v1/categories/{category}"), 404)


def test_collection_crud(client):
    created = client.post("/v1/collections", json={"name": "Spring", "description": "Fresh"})
    assert created.status_code == 201
    cid = created.json()["collectionId"]
    shown = client.get(f"/v1/collections/{cid}").json()
    assert shown["totalItems"] == 0 and shown["slug"] == "spring"
    v = shown["version"]
    assert client.put(f"/v1/collections/{cid}", json={"isActive": False, "version": v}).status_code == 200
    assert_problem(client.put(f"/v1/collections/{cid}", json={"name": "Late", "version": v}), 409)
    assert client.get(f"/v1/collections/{cid}").json()["isActive"] is False
    assert client.delete(f"/v1/collections/{cid}").status_code == 200
    assert_problem(client.get(f"/v1/collections/{cid}"), 404)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"amount": 5}, "specialType"),
        ({"specialType": "Percentage", "amount": 150}, "at most 100"),
        ({"specialType": "Percentage", "amount": -5}, "negative"),
        ({"specialType": "Half", "amount": 5}, "specialType"),
        ({"specialType": "FixedAmount", "amount": 5, "startOnUtc": "soon"}, "startOnUtc"),
        (
            {"specialType": "FixedAmount", "amount": 5, "startOnUtc": "2024-02-01", "endOnUtc": "2024-01-01"},
            "after",
        ),
        ({"specialType": "FixedAmount", "amount": 5, "rules": [{"entityType": "Product", "entityId": "x"}]}, "exist"),
    ],
)
def test_invalid_specials(client, body, words):
    assert_problem(client.post("/v1/specials", json=body), 400, detail_contains=words)


def test_configuration_get_and_partial_update(client):
    config = client.get("/v1/configuration").json()
    assert config["defaultCurrencyCode"] == "AUD" and set(config["languages"]) == {"en-AU", "ja-JP"}
    updated = client.put("/v1/configuration", json={"rewardsConversionRate": 0.02, "version": config["version"]})
    assert updated.status_code == 200 and set(updated.json()) == {"version"}
    after = client.get("/v1/configuration").json()
    assert after["rewardsConversionRate"] == 0.02 and after["languages"] == config["languages"]
    assert_problem(
        client.put("/v1/configuration", json={"rewardsConversionRate": 1, "version": config["version"]}), 409
    )
    assert_problem(client.put("/v1/configuration", json={"defaultCurrencyCode": "aud"}), 400)
    assert_problem(client.put("/v1/configuration", json={"theme": "dark"}), 400, detail_contains="theme")


def test_catalog_routes_can_be_switched_off(small_sandbox):
    _, client = small_sandbox(catalog_routes=False)
    for path in ("/v1/products", "/v1/categories", "/v1/configuration"):
        assert_problem(client.get(path), 404)
    assert client.get("/v1/customers").status_code == 200
