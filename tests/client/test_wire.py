"""client/wire.py, and the path table of client/resources.py: encoding, decoding, the envelope, page maths."""

from __future__ import annotations

import enum
import inspect
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from airflow_provider_simplestore import __version__
from airflow_provider_simplestore.client import wire
from airflow_provider_simplestore.client.resources import ENDPOINTS, RESOURCES, Endpoint
from airflow_provider_simplestore.client.wire import Answer, Page
from airflow_provider_simplestore.exceptions import SimpleStoreNotFoundError, SimpleStoreResponseError
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreAsyncHook, SimpleStoreHook


class Status(enum.Enum):
    PAID = "Paid"


def envelope(items: list, size: int = 2, index: int = 0, total: int = 5, pages: int | None = 3) -> dict:
    data = {
        "result": items,
        "pageSize": size,
        "pageIndex": index,
        "totalRecordsFound": total,
        "resultCount": len(items),
        "queryDurationMilliseconds": 1,
    }
    if pages is not None:
        data["totalPages"] = pages
    return data


def test_headers() -> None:
    assert wire.USER_AGENT.split("/") == ["airflow-provider-simplestore", __version__]
    assert wire.headers("tok", body=True) == {
        "User-Agent": wire.USER_AGENT,
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Authorization": "Bearer tok",
    }
    assert "Content-Type" not in wire.headers("tok") and "Authorization" not in wire.token_headers()


def test_encode_params() -> None:
    aware = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    params = {
        "orderId": ["a", "b"],
        "isActive": True,
        "x": False,
        "none": None,
        "from": aware,
        "naive": datetime(2026, 3, 1, 1, 2, 3, 456000),
        "day": date(2026, 3, 1),
        "status": Status.PAID,
        "n": 5,
    }
    assert wire.encode_params(params) == (
        ("orderId", "a"),
        ("orderId", "b"),
        ("isActive", "true"),
        ("x", "false"),
        ("from", "2026-03-01T10:30:00Z"),
        ("naive", "2026-03-01T01:02:03.456Z"),
        ("day", "2026-03-01"),
        ("status", "Paid"),
        ("n", "5"),
    )
    assert wire.encode_params([("a", 1), ("a", 2)]) == (("a", "1"), ("a", "2"))
    assert wire.encode_params(None) == ()


def test_page_params_replace_any_paging_the_caller_passed() -> None:
    assert wire.page_params({"PageSize": 7, "pageindex": 3, "status": "Paid"}, 2, 50) == (
        ("status", "Paid"),
        ("pageSize", "50"),
        ("pageIndex", "2"),
    )


def test_encode_body() -> None:
    body = {
        "when": datetime(2026, 1, 2, tzinfo=timezone.utc),
        "price": Decimal("9.95"),
        "qty": Decimal("2"),
        "tags": ("a",),
        "name": "Teekanne ü",
    }
    assert json.loads(wire.encode_body(body) or b"") == {
        "when": "2026-01-02T00:00:00Z",
        "price": 9.95,
        "qty": 2,
        "tags": ["a"],
        "name": "Teekanne ü",
    }
    assert wire.encode_body(None) is None
    with pytest.raises(TypeError, match="cannot send a object"):
        wire.encode_body({"x": object()})


def test_prepare() -> None:
    call = wire.prepare("http://h:1/", "get", "/v1/orders?x=1", {"a": [1, 2]})
    assert (call.method, call.url, call.path, call.query, call.body) == (
        "GET",
        "http://h:1/v1/orders?x=1",
        "/v1/orders",
        (("a", "1"), ("a", "2")),
        None,
    )
    with pytest.raises(ValueError, match="start with '/'"):
        wire.prepare("http://h:1", "GET", "v1/orders")


def test_decode_response() -> None:
    assert wire.decode_response("GET", "/v1/x", Answer(200, {}, b'{"a": 1}')) == {"a": 1}
    assert wire.decode_response("DELETE", "/v1/x", Answer(204, {}, b"")) is None
    assert wire.decode_response("DELETE", "/v1/x", Answer(200, {}, b"  ")) is None
    with pytest.raises(SimpleStoreResponseError, match=r"GET /v1/x: HTTP 200 with a body that is not JSON \(text/"):
        wire.decode_response("GET", "/v1/x", Answer(200, {"content-type": "text/html"}, b"<html>"))
    with pytest.raises(SimpleStoreNotFoundError) as info:
        wire.decode_response("GET", "/v1/x", Answer(404, {"Retry-After": "3"}, b'{"title": "Not Found"}'))
    assert info.value.retry_after == 3 and info.value.title == "Not Found"


# What a server may send that msgspec and json.loads read differently or not at all, and what both
# read: numbers past 64 bits and past a float, NaN, surrogates, a BOM, duplicate keys, deep nesting.
LOADS_CASES = [
    b'{"a": 1, "a": 2, "b": [1.5, -0.0, 0.1, 1E5, 5e-324, 1e-400, 1.7976931348623157e308]}',
    b"[12345678901234567890123, -9223372036854775809, 123456789012345678901234567890.5]",
    b'{"s": "\\u00e9\\ud83d\\ude00\\u0000 \xc3\xa9", "t": true, "f": false, "n": null}',
    b"[1e400, -1e400]",
    b"[NaN, Infinity, -Infinity]",
    b'["\\ud800", "\\udc00\\ud800"]',
    b"\xef\xbb\xbf{}",
    b"[" * 3000 + b"]" * 3000,
    b"[1,]",
    b'{"a": 1} trailing',
    b'"\xff"',
]


@pytest.mark.parametrize("content", LOADS_CASES, ids=range(len(LOADS_CASES)))
def test_loads_gives_what_json_loads_gives_or_raises_what_it_raises(content: bytes) -> None:
    try:
        expected: object = json.loads(content)
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc)) as raised:
            wire.loads(content)
        assert str(raised.value) == str(exc)
        return
    got = wire.loads(content)
    assert repr(got) == repr(expected)  # repr: NaN != NaN, and -0.0 == 0.0
    assert [type(v) for v in _leaves(got)] == [type(v) for v in _leaves(expected)]


def test_loads_decodes_with_msgspec_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Else the test above would compare json.loads with itself."""
    pytest.importorskip("msgspec")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("json.loads used for a plain JSON page")

    monkeypatch.setattr(wire.json, "loads", refuse)
    assert wire.loads(b'{"result": [{"orderId": "o-1", "total": 433.2}]}') == {
        "result": [{"orderId": "o-1", "total": 433.2}]
    }


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in (key, *_leaves(item))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_parse_page() -> None:
    page = wire.parse_page("/v1/x", envelope([{"id": 1}, {"id": 2}]), requested_index=0)
    assert page == Page(index=0, items=[{"id": 1}, {"id": 2}], page_size=2, total_records=5, total_pages=3)
    no_pages = wire.parse_page("/v1/x", envelope([{"id": 1}], pages=None), requested_index=0)
    assert no_pages.total_pages == 3  # computed when the server omits it


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "not an object"),
        ({"items": []}, "no `result` list"),
        (envelope([], size=-1), "pageSize is -1"),
        ({**envelope([]), "totalRecordsFound": "5"}, "totalRecordsFound is '5'"),
        (envelope([], index=1), "asked for page 0, got page 1"),
        (envelope([1, 2, 3], size=2), "3 items on a page of 2"),
        (envelope([1], size=0), "pageSize is 0"),
    ],
)
def test_not_the_envelope(data: object, problem: str) -> None:
    with pytest.raises(SimpleStoreResponseError, match="not the paged envelope") as info:
        wire.parse_page("/v1/x", data, requested_index=0)
    assert problem in str(info.value)


def test_a_page_size_changed_mid_listing_is_refused() -> None:
    """Page 1 asked for 2 per page but got 1 per page: the offsets no longer line up with page 0's."""
    shrunk = {**envelope([{"id": 2}], size=1, index=1), "totalPages": 5}
    with pytest.raises(SimpleStoreResponseError, match="changed its page size") as info:
        wire.parse_page("/v1/x", shrunk, requested_index=1, requested_size=2)
    assert "asked with pageSize 2 but has pageSize 1" in str(info.value)
    # the first page may apply less than asked (the server's cap): later pages are asked with that
    first = wire.parse_page("/v1/x", envelope([{"id": 1}], size=1), requested_index=0, requested_size=100)
    assert first.page_size == 1
    # a last page that reports its own length is harmless
    last = {**envelope([{"id": 5}], size=1, index=2), "totalPages": 3}
    assert wire.parse_page("/v1/x", last, requested_index=2, requested_size=2).items == [{"id": 5}]


def test_page_plan() -> None:
    first = Page(index=0, items=[{"id": 1}, {"id": 2}], page_size=2, total_records=5, total_pages=3)
    assert list(wire.remaining_pages(first)) == [1, 2]
    assert list(wire.remaining_pages(Page(0, [], 100, 0, 0))) == []


def test_resources_contract() -> None:
    assert set(RESOURCES) == {
        "products",
        "categories",
        "collections",
        "specials",
        "customers",
        "orders",
        "baskets",
        "folders",
    }
    assert RESOURCES["orders"].created_field == "createdOnUtc"
    assert RESOURCES["products"].natural_keys == {"slug": "slug", "inventory.sku": "sku"}
    assert RESOURCES["customers"].natural_keys == {"emailAddress": "email"}
    assert ENDPOINTS["get_folder"].format(folder_id="f 1") == "/v1/folder/f%201"
    assert ENDPOINTS["get_product"].format(product_id="catalog:products:33:a") == "/v1/products/catalog:products:33:a"
    for resource in RESOURCES.values():
        assert "{id}" in resource.item_path and resource.list_path.startswith("/v1/")
        list_endpoint = ENDPOINTS[f"list_{resource.name}"]
        assert (list_endpoint.method, list_endpoint.path) == ("GET", resource.list_path)


def test_ids_are_quoted_as_one_segment() -> None:
    assert ENDPOINTS["get_order"].format(order_id="a/../b?c") == "/v1/orders/a%2F..%2Fb%3Fc"
    with pytest.raises(ValueError, match="invalid id"):
        ENDPOINTS["get_order"].format(order_id="..")
    with pytest.raises(TypeError, match="needs the id 'order_id'"):
        ENDPOINTS["get_order"].format()
    assert Endpoint("GET", "/v1/x/{a}").format(a=5) == "/v1/x/5"


def test_resource_filters_are_checked() -> None:
    assert RESOURCES["orders"].query({"status": "Paid", "customer_id": None}) == {"status": "Paid"}
    with pytest.raises(TypeError, match=r"unknown filter 'colour' for orders"):
        RESOURCES["orders"].query({"colour": "red"})


@pytest.mark.parametrize("hook_class", [SimpleStoreHook, SimpleStoreAsyncHook])
def test_every_endpoint_has_a_method_on_both_hooks(hook_class: type) -> None:
    for name in ENDPOINTS:
        assert callable(getattr(hook_class, name, None)), f"{hook_class.__name__} lacks {name}()"


def test_async_hook_methods_are_awaitable_or_async_iterables() -> None:
    hook = SimpleStoreAsyncHook("unused")
    coroutine = hook.get_order("o1")
    assert inspect.iscoroutine(coroutine)
    coroutine.close()  # never awaited: no I/O happened
    assert hasattr(hook.list_orders(), "__aiter__")
