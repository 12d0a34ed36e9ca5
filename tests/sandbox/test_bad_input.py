"""Bad input gets a 4xx problem body; the server neither crashes nor changes state."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox.helpers import assert_problem

WRITES = [
    ("POST", "/v1/products"),
    ("POST", "/v1/categories"),
    ("POST", "/v1/collections"),
    ("POST", "/v1/specials"),
    ("PUT", "/v1/configuration"),
    ("POST", "/v1/customers"),
    ("POST", "/v1/cart"),
    ("POST", "/v1/cart/any-cart/items"),
    ("POST", "/v1/folder/"),
]
BAD_BODIES = [
    (b"{not json", "malformed"),
    (b'{"name": "x",}', ""),  # trailing comma (or an unknown field, whichever is seen first)
    (b"\xff\xfe{}", "malformed"),
    (b"[" * 2000 + b"]" * 2000, ""),  # deep nesting
    (b'"a string"', "object"),
    (b"17", "object"),
    (b"null", "object"),
]


@pytest.fixture(scope="module")
def victim():
    from airflow_provider_simplestore.sandbox import run_sandbox
    from tests.sandbox.helpers import SMALL, Client

    with run_sandbox(**SMALL, max_body_bytes=4096) as sb, Client(sb) as client:
        yield sb, client


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_bad_json_bodies(victim, method, path):
    sb, client = victim
    before = sb.stats()["objects"]
    for body, words in BAD_BODIES:
        response = client.request(method, path, data=body, headers={"Content-Type": "application/json"})
        assert_problem(response, 400, detail_contains=words)
    assert sb.stats()["objects"] == before


def test_wrong_content_type_is_415(victim):
    _, client = victim
    response = client.post("/v1/customers", data="emailAddress=a@b.c", headers={"Content-Type": "text/plain"})
    assert_problem(response, 415, detail_contains="application/json")


def test_empty_body_is_400(victim):
    _, client = victim
    assert_problem(client.post("/v1/customers", data=b""), 400, detail_contains="empty")


def test_oversized_body_with_length_is_413(victim):
    sb, client = victim
    big = {"title": "x" * 10_000}
    assert_problem(client.post("/v1/products", json=big), 413, detail_contains="4096")
    assert_problem(client.post("/v1/folder/", json={"name": "x" * 5000}), 413)
    assert sb.stats()["creations"]["products"] == 0


def test_oversized_chunked_body_is_413(victim):
    sb, client = victim

    def chunks():
        yield b'{"title": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = client.post("/v1/products", data=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers  # really chunked
    assert_problem(response, 413)
    assert client.get("/v1/products").status_code == 200
    assert sb.stats()["creations"]["products"] == 0


def test_ids_that_do_not_exist_are_404_everywhere(victim):
    _, client = victim
    for method, path in [
        ("GET", "/v1/products/x"),
        ("GET", "/v1/categories/x"),
        ("GET", "/v1/collections/x"),
        ("GET", "/v1/specials/x"),
        ("GET", "/v1/customers/x"),
        ("GET", "/v1/orders/x"),
        ("GET", "/v1/cart/x"),
        ("GET", "/v1/basket/bycart/x"),
        ("GET", "/v1/folder/x"),
        ("PUT", "/v1/categories/x"),
        ("DELETE", "/v1/collections/x"),
        ("PUT", "/v1/specials/x"),
    ]:
        response = client.request(method, path, json={})
        assert_problem(response, 404, detail_contains="'x'")


def test_unknown_routes_and_methods(victim):
    sb, client = victim
    assert_problem(client.get("/v1/widgets"), 404)
    assert_problem(client.patch("/v1/products"), 405)
    assert requests.get(sb.url + "/elsewhere", timeout=10).status_code == 404


def test_server_survives_everything(victim):
    sb, client = victim
    assert client.get("/v1/orders").status_code == 200
    assert requests.get(sb.url + "/_sandbox/health", timeout=10).json() == {"status": "ok"}
