"""utils/upsert.py on its own: the natural-key engine against a real sandbox, without an operator.

Each row goes through `Upserter.write`, as the import operator sends it. The engine is given the
real hook inside `Recorded`, which keeps the writes it was asked for (to see what an update sent)
and can change the sandbox at the moment a create goes out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
from airflow_provider_simplestore.utils.import_rows import TARGETS, parse_row
from airflow_provider_simplestore.utils.upsert import RowRejected, Upserter
from tests.operator_support import listing

PRODUCTS = TARGETS["products"]


class Recorded:
    """The real hook as the engine uses it (`list_resource`, `regular_call`), with its writes kept
    in `writes` as (call, item id, body); `before_create` runs just before a create is sent."""

    def __init__(self, hook: SimpleStoreHook, before_create: Callable[[], None] | None = None) -> None:
        self.hook = hook
        self.before_create = before_create
        self.writes: list[tuple[str, str | None, Any]] = []

    def list_resource(self, resource: str, **filters: Any) -> Any:
        return self.hook.list_resource(resource, **filters)

    def regular_call(self, call: str, resource: str, item_id: str | None = None, body: Any = None) -> Any:
        self.writes.append((call, item_id, body))
        if call == "create" and self.before_create is not None:
            self.before_create()
        return self.hook.regular_call(call, resource, item_id, body)


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=11, products=3, customers=1, orders=0, max_body_bytes=4096)
    # No retries: a faulted answer is final at once, so no test waits.
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_UPSERT", sb.connection_json(max_retries=0))
    return sb


@pytest.fixture
def hook(shop: Any) -> Iterator[SimpleStoreHook]:
    real = SimpleStoreHook("simplestore_upsert")
    yield real
    real.close()


def product(sb: Any, slug: str) -> dict[str, Any]:
    [found] = [p for p in listing(sb, "/v1/products") if p["slug"] == slug]
    return found


def new_row(**fields: Any) -> dict[str, Any]:
    return parse_row(
        PRODUCTS,
        {
            "slug": "new-lamp",
            "title": "New lamp",
            "inventory.sku": "NEW-LAMP-1",
            "basePrice.sellPrice": "12.50",
            "basePrice.currencyCode": "aud",
            **fields,
        },
    )


def test_a_new_row_is_created_with_its_nested_fields(shop: Any, hook: SimpleStoreHook) -> None:
    recorded = Recorded(hook)
    assert Upserter(recorded, PRODUCTS).write(1, new_row()) == "created"
    created = product(shop, "new-lamp")
    assert (created["title"], created["inventory"]["sku"]) == ("New lamp", "NEW-LAMP-1")
    assert (created["basePrice"]["sellPrice"], created["basePrice"]["currencyCode"]) == (12.5, "AUD")
    assert [call for call, _, _ in recorded.writes] == ["create"]


def test_an_update_sends_only_the_differing_fields_with_the_version(shop: Any, hook: SimpleStoreHook) -> None:
    before = listing(shop, "/v1/products")[0]
    row = parse_row(
        PRODUCTS,
        {
            "slug": before["slug"],
            "title": "Renamed",
            "inventory.sku": before["inventory"]["sku"],
            "description": before["description"],
            "basePrice.retailPrice": 999.5,
            "basePrice.sellPrice": before["basePrice"]["sellPrice"],
        },
    )
    recorded = Recorded(hook)
    assert Upserter(recorded, PRODUCTS).write(1, row) == "updated"
    assert recorded.writes == [
        (
            "update",
            before["productId"],
            {"title": "Renamed", "basePrice": {"retailPrice": 999.5}, "version": before["version"]},
        ),
    ]
    after = product(shop, before["slug"])
    assert (after["title"], after["basePrice"]["retailPrice"]) == ("Renamed", 999.5)
    assert after["basePrice"]["sellPrice"] == before["basePrice"]["sellPrice"]
    assert after["description"] == before["description"] and after["inventory"] == before["inventory"]


def test_a_row_equal_to_its_object_is_unchanged_and_writes_nothing(shop: Any, hook: SimpleStoreHook) -> None:
    before = listing(shop, "/v1/products")[1]
    # The natural key in another case and the price as text: equal all the same.
    row = parse_row(
        PRODUCTS,
        {
            "slug": before["slug"].upper(),
            "title": before["title"],
            "basePrice.sellPrice": str(before["basePrice"]["sellPrice"]),
            "inventory.trackInventory": before["inventory"]["trackInventory"],
        },
    )
    recorded = Recorded(hook)
    assert Upserter(recorded, PRODUCTS).write(1, row) == "unchanged"
    assert recorded.writes == []
    assert product(shop, before["slug"])["version"] == before["version"]


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"status": "Bogus"}, (400, 422), "refused by SimpleStore:"),  # the body is checked: a validation error
        ({"description": "x" * 8000}, (413,), "refused by SimpleStore (HTTP 413)"),  # over max_body_bytes
    ],
    ids=["validation", "too-large"],
)
def test_a_4xx_rejects_the_row_and_the_next_row_still_goes(
    shop: Any, hook: SimpleStoreHook, fields: dict[str, Any], status: tuple[int, ...], reason: str
) -> None:
    upserter = Upserter(hook, PRODUCTS)
    with pytest.raises(RowRejected) as rejected:
        upserter.write(1, new_row(**fields))
    assert rejected.value.status in status and not rejected.value.unknown
    assert str(rejected.value).startswith(reason)
    assert "new-lamp" not in {p["slug"] for p in listing(shop, "/v1/products")}
    assert upserter.write(2, new_row(slug="next-lamp", **{"inventory.sku": "NEXT-LAMP-1"})) == "created"


def test_a_create_whose_outcome_stays_unknown_is_found_by_its_natural_key_next_time(
    shop: Any, hook: SimpleStoreHook
) -> None:
    def go_down() -> None:
        # The sandbox commits the create but its answer is lost, and every read after it fails.
        shop.set_faults(
            rules=[
                {"kind": "503", "probability": 1, "methods": ["POST"], "routes": ["/v1/products"], "phase": "after"},
                {"kind": "503", "probability": 1, "methods": ["GET"], "routes": ["/v1/products"]},
            ]
        )

    with pytest.raises(RowRejected) as rejected:
        Upserter(Recorded(hook, before_create=go_down), PRODUCTS).write(1, new_row())
    assert rejected.value.unknown and "outcome unknown" in str(rejected.value)
    shop.clear_faults()
    assert product(shop, "new-lamp")["title"] == "New lamp"  # it did land

    # The next run: the row is found by its natural key, not created a second time.
    recorded = Recorded(hook)
    assert Upserter(recorded, PRODUCTS).write(1, new_row()) == "unchanged"
    assert recorded.writes == []
    assert [p["slug"] for p in listing(shop, "/v1/products")].count("new-lamp") == 1
    assert shop.stats()["requests"]["POST /v1/products"] == 1
