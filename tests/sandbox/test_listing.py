"""Paged lists: the documented envelope, caps, stable order, case-insensitive names and filters."""

from __future__ import annotations

import math
import re

import pytest

from tests.sandbox.helpers import assert_problem

LISTS = [
    ("/v1/products", "productId"),
    ("/v1/categories", "categoryId"),
    ("/v1/collections", "collectionId"),
    ("/v1/specials", "specialId"),
    ("/v1/customers", "customerId"),
    ("/v1/orders", "orderId"),
    ("/v1/basket", "basketId"),
    ("/v1/folders", "folderId"),
]
ENVELOPE = [
    "result",
    "pageSize",
    "pageIndex",
    "totalRecordsFound",
    "resultCount",
    "totalPages",
    "queryDurationMilliseconds",
]
CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")


def _keys(value, found):
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(key)
            _keys(item, found)
    elif isinstance(value, list):
        for item in value:
            _keys(item, found)
    return found


@pytest.mark.parametrize(("path", "id_field"), LISTS)
def test_envelope_default_page_and_camel_case(api, path, id_field):
    response = api.get(path)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ENVELOPE
    total = body["totalRecordsFound"]
    assert total > 0
    assert body["pageSize"] == 10 and body["pageIndex"] == 0
    assert body["resultCount"] == len(body["result"]) == min(10, total)
    assert body["totalPages"] == math.ceil(total / 10)
    assert all(item[id_field] for item in body["result"])
    locale_keys = {"en-AU", "ja-JP"}  # dictionary keys of localised text are locales, not fields
    assert all(CAMEL.match(key) for key in _keys(body["result"], set()) - locale_keys)


@pytest.mark.parametrize(("path", "id_field"), LISTS)
def test_every_page_in_a_stable_order(api, path, id_field):
    first = api.get(path, params={"pageSize": 7}).json()
    seen = []
    for index in range(first["totalPages"]):
        page = api.get(path, params={"pageSize": 7, "pageIndex": index}).json()
        assert page["pageIndex"] == index
        seen += [item[id_field] for item in page["result"]]
    assert len(seen) == len(set(seen)) == first["totalRecordsFound"]
    again = [item[id_field] for item in api.get(path, params={"pageSize": 7}).json()["result"]]
    assert again == seen[:7]


def test_page_size_is_capped_and_reported(api, sandbox):
    body = api.get("/v1/products", params={"pageSize": 5000}).json()
    assert body["pageSize"] == 100 == len(body["result"])
    assert body["totalPages"] == math.ceil(body["totalRecordsFound"] / 100)


def test_past_the_last_page_is_empty_with_totals(api):
    body = api.get("/v1/customers", params={"pageSize": 10, "pageIndex": 999}).json()
    assert body["result"] == [] and body["resultCount"] == 0
    assert body["totalRecordsFound"] == 50 and body["totalPages"] == 5


def test_max_page_size_option(small_sandbox):
    _, client = small_sandbox(max_page_size=7)
    body = client.get("/v1/products", params={"PageSize": 50}).json()
    assert body["pageSize"] == 7 == body["resultCount"]


@pytest.mark.parametrize("name", ["pageSize", "PageSize", "PAGESIZE", "pagesize"])
def test_query_names_are_case_insensitive(api, name):
    assert api.get("/v1/orders", params={name: 3, "PAGEINDEX": 1}).json()["pageSize"] == 3
    assert api.get("/v1/orders", params={name: 3, "PageIndex": 1}).json()["pageIndex"] == 1


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"pageSize": -1}, "PageSize"),
        ({"pageSize": 0}, "at least 1"),
        ({"pageSize": "ten"}, "integer"),
        ({"pageIndex": -2}, "PageIndex"),
        ({"pageIndex": "1.5"}, "integer"),
    ],
)
def test_bad_paging_is_a_400_problem(api, params, words):
    assert_problem(api.get("/v1/products", params=params), 400, detail_contains=words)


def test_repeated_order_ids(api):
    ids = [o["orderId"] for o in api.get("/v1/orders", params={"pageSize": 5}).json()["result"]]
    body = api.get("/v1/orders", params=[("OrderId", ids[1]), ("orderid", ids[3]), ("OrderId", "ord_missing")]).json()
    assert [o["orderId"] for o in body["result"]] == [ids[1], ids[3]]


def test_orders_filters_customer_status_and_half_open_range(api):
    orders = api.get("/v1/orders", params={"pageSize": 100}).json()["result"]
    customer = orders[0]["customerId"]
    mine = api.get("/v1/orders", params={"CustomerId": customer, "pageSize": 100}).json()["result"]
    assert mine and all(o["customerId"] == customer for o in mine)
    paid = api.get("/v1/orders", params={"status": "Paid", "pageSize": 100}).json()
    assert paid["totalRecordsFound"] > 0 and all(o["status"] == "Paid" for o in paid["result"])
    start, end = orders[10]["createdOnUtc"], orders[20]["createdOnUtc"]
    window = api.get("/v1/orders", params={"CreatedFromUtc": start, "CreatedToUtc": end, "pageSize": 100}).json()
    stamps = [o["createdOnUtc"] for o in window["result"]]
    assert stamps[0] == start  # inclusive start
    assert end not in stamps  # exclusive end
    assert all(start <= s < end for s in stamps)
    offset = api.get("/v1/orders", params={"CreatedFromUtc": start.replace("Z", "+00:00"), "pageSize": 1}).json()
    assert offset["result"][0]["createdOnUtc"] == start


def test_bad_filters_are_400(api):
    assert_problem(api.get("/v1/orders", params={"CreatedFromUtc": "yesterday"}), 400, detail_contains="CreatedFromUtc")
    assert_problem(api.get("/v1/products", params={"IsActive": "maybe"}), 400, detail_contains="IsActive")


def test_product_filters(api):
    products = api.get("/v1/products", params={"pageSize": 100}).json()["result"]
    product = products[3]
    by_slug = api.get("/v1/products", params={"Slug": product["slug"].upper()}).json()["result"]
    assert [p["productId"] for p in by_slug] == [product["productId"]]
    sku = product["inventory"]["sku"]
    by_sku = api.get("/v1/products", params={"sku": sku.lower()}).json()["result"]
    assert [p["productId"] for p in by_sku] == [product["productId"]]
    category = product["categories"][0]["key"]
    in_category = api.get("/v1/products", params={"CategoryId": category, "pageSize": 100}).json()
    assert in_category["totalRecordsFound"] > 0
    assert all(any(c["key"] == category for c in p["categories"]) for p in in_category["result"])
    inactive = api.get("/v1/products", params={"IsActive": "false", "pageSize": 100}).json()["result"]
    assert inactive and all(p["isActive"] is False for p in inactive)
    with_collection = next(p for p in products if p["collections"])
    collection = with_collection["collections"][0]["key"]
    in_collection = api.get("/v1/products", params={"CollectionId": collection, "pageSize": 100}).json()["result"]
    assert with_collection["productId"] in {p["productId"] for p in in_collection}


def test_customer_filters_and_include_flags(api):
    customers = api.get("/v1/customers", params={"pageSize": 100}).json()["result"]
    target = customers[5]
    found = api.get("/v1/customers", params={"EmailAddress": target["emailAddress"].upper()}).json()["result"]
    assert [c["customerId"] for c in found] == [target["customerId"]]
    two = api.get(
        "/v1/customers", params=[("CustomerId", customers[1]["customerId"]), ("CustomerId", target["customerId"])]
    )
    assert {c["customerId"] for c in two.json()["result"]} == {customers[1]["customerId"], target["customerId"]}
    bare = api.get("/v1/customers", params={"IncludePhones": "false", "IncludeAddresses": "false"}).json()["result"]
    assert all("phones" not in c and "addresses" not in c and "attributes" in c for c in bare)


def test_folder_and_category_searches(api):
    folders = api.get("/v1/folders", params={"Name": "MARKET"}).json()["result"]
    assert [f["name"] for f in folders] == ["Marketing"]
    assert set(folders[0]) == {"folderId", "version", "name", "parentId"}
    kitchen = api.get("/v1/categories", params={"slug": "KITCHEN"}).json()["result"]
    assert [c["name"] for c in kitchen] == ["Kitchen"]


def test_basket_search_by_cart_ids_and_flags(api):
    baskets = api.get("/v1/basket", params={"pageSize": 3}).json()["result"]
    wanted = [b["basketId"] for b in baskets[:2]]
    found = api.get("/v1/basket", params=[("CartId", wanted[0]), ("cartid", wanted[1]), ("IncludeItems", "false")])
    result = found.json()["result"]
    assert [b["basketId"] for b in result] == wanted
    assert all("items" not in b for b in result)
