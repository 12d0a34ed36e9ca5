"""Products (sandbox choice: customers-style routes; the docs only give the schema)."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.data import CURRENCY, now_utc, slugify
from airflow_provider_simplestore.sandbox.pricing import effective_price, money
from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import currency, merge, not_negative, slug, text
from airflow_provider_simplestore.sandbox.routes.crud import deletable, deleted, inserted, read_routes, update_route
from airflow_provider_simplestore.sandbox.schemas import EntityRef, ProductIn, present
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row, Store, Table
from airflow_provider_simplestore.sandbox.web import Query, bad_request, read_json

READ_ONLY = ("productId", "shortUrl", "price", "rewards", "version")
NESTED = ("basePrice", "baseRewards", "inventory")


def resolve_refs(refs: list[Any], table: Table, id_field: str, what: str) -> list[Row]:
    out, seen = [], set()
    for ref in refs:
        key = ref.key if isinstance(ref, EntityRef) else ref
        row = table.get(key)
        if row is None:
            raise bad_request(f"{what} {key!r} does not exist")
        if key not in seen:
            seen.add(key)
            out.append({"key": key, "value": row.get("name"), "slug": row.get("slug")})
    return out


def _validate(body: ProductIn) -> None:
    slug(body.slug)
    if body.base_price is not UNSET:
        currency(body.base_price.currency_code, "basePrice.currencyCode")
        not_negative(body.base_price.sell_price, "basePrice.sellPrice")
        not_negative(body.base_price.retail_price, "basePrice.retailPrice")
    if body.base_rewards is not UNSET:
        not_negative(body.base_rewards.points, "baseRewards.points")
    if body.inventory is not UNSET:
        not_negative(body.inventory.available_quantity, "inventory.availableQuantity")
        not_negative(body.inventory.min_active_quantity, "inventory.minActiveQuantity")
        if body.inventory.sku is not UNSET and body.inventory.sku is not None and not body.inventory.sku.strip():
            raise bad_request("inventory.sku must not be blank")


def _changes(store: Store, body: ProductIn) -> dict[str, Any]:
    changes = {k: v for k, v in present(body).items() if k not in READ_ONLY}
    if "categories" in changes:
        changes["categories"] = resolve_refs(body.categories or [], store.categories, "categoryId", "category")
    if "collections" in changes:
        changes["collections"] = resolve_refs(body.collections or [], store.collections, "collectionId", "collection")
    base = changes.get("basePrice")
    if base:
        for key in ("sellPrice", "retailPrice"):
            if base.get(key) is not None:
                base[key] = money(base[key])
    return changes


def _stock_status(row: Row, status_sent: bool) -> None:
    """OutOfStock when tracked stock is below the minimum (unless the client set the status)."""
    if status_sent or row["status"] not in ("Available", "OutOfStock"):
        return
    inv = row["inventory"]
    below = bool(inv.get("trackInventory")) and (inv.get("availableQuantity") or 0) < (
        inv.get("minActiveQuantity") or 0
    )
    row["status"] = "OutOfStock" if below else "Available"


def _unique_slug(store: Store, title: str) -> str:
    base = slugify(title)
    candidate, n = base, 1
    while store.product_slugs.find(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def reprice(store: Store, row: Row) -> None:
    row["price"] = effective_price(row, store.specials.rows(), now_utc())
    row["rewards"] = dict(row.get("baseRewards") or {})


def _select(store: Store, rows: list[Row], query: Query) -> list[Row]:
    if (value := query.get("Slug")) is not None:
        owner = store.product_slugs.find(value)
        rows = [store.products.require(owner)] if owner else []
    if (value := query.get("Sku")) is not None:
        owner = store.product_skus.find(value)
        rows = [r for r in rows if r["productId"] == owner]
    if category := query.get("CategoryId"):
        rows = [r for r in rows if any(ref["key"] == category for ref in r["categories"])]
    if collection := query.get("CollectionId"):
        rows = [r for r in rows if any(ref["key"] == collection for ref in r["collections"])]
    active = query.get_bool("IsActive")
    if active is not None:
        rows = [r for r in rows if r["isActive"] is active]
    return rows


def register(api: Api, state: SandboxState) -> None:
    read_routes(
        api,
        state,
        "products",
        "/v1/products",
        "/v1/products/{productId}",
        lambda rows, query: _select(state.store, rows, query),
    )

    @api.route("POST", "/v1/products")
    async def create_product(request: Request) -> Response:
        body = await read_json(request, ProductIn, state.options.max_body_bytes)
        text(body.title, "title", required=True)
        _validate(body)
        store = state.store
        changes = _changes(store, body)
        product_id = store.new_uuid()
        row: Row = {
            "productId": product_id,
            "version": "",
            "slug": "",
            "shortUrl": store.new_short_url(),
            "title": "",
            "description": None,
            "titles": {},
            "descriptions": {},
            "isActive": True,
            "status": "Available",
            "attributes": {},
            "categories": [],
            "collections": [],
            "files": [],
            "paymentMethod": "CurrencyOnly",
            "basePrice": {"currencyCode": CURRENCY, "sellPrice": None, "retailPrice": None, "attributes": {}},
            "price": {},
            "baseRewards": {"isEnabled": False, "points": 0, "minPayAmount": 0.0, "minPointsAmount": 0.0},
            "rewards": {},
            "inventory": {
                "sku": None,
                "availableQuantity": None,
                "minActiveQuantity": None,
                "grossWeight": None,
                "trackInventory": False,
            },
        }
        merge(row, changes, NESTED)
        if not row["slug"]:
            row["slug"] = _unique_slug(store, row["title"])
        store.product_slugs.check(row["slug"], product_id)
        store.product_skus.check(row["inventory"].get("sku"), product_id)
        _stock_status(row, "status" in changes)
        reprice(store, row)
        row["version"] = store.next_version()
        store.product_slugs.claim(row["slug"], product_id)
        store.product_skus.claim(row["inventory"].get("sku"), product_id)
        store.memberships_changed()
        return inserted(store, "products", row)

    @update_route(api, state, "PUT", "/v1/products/{productId}", "products", ProductIn)
    def update_product(store: Store, row: Row, body: ProductIn) -> None:
        if body.title is not UNSET:
            text(body.title, "title", required=True)
        _validate(body)
        changes = _changes(store, body)
        updated = {**row}
        merge(updated, changes, NESTED)
        product_id = row["productId"]
        store.product_slugs.check(updated["slug"], product_id)
        store.product_skus.check(updated["inventory"].get("sku"), product_id)
        store.product_slugs.move(row["slug"], updated["slug"], product_id)
        store.product_skus.move(row["inventory"].get("sku"), updated["inventory"].get("sku"), product_id)
        _stock_status(updated, "status" in changes)
        reprice(store, updated)
        row.clear()
        row.update(updated)
        if "categories" in changes or "collections" in changes:
            store.memberships_changed()

    @api.route("DELETE", "/v1/products/{productId}")
    async def delete_product(request: Request) -> Response:
        store = state.store
        row = deletable(store.products, request)
        store.product_slugs.release(row["slug"], row["productId"])
        store.product_skus.release(row["inventory"].get("sku"), row["productId"])
        store.memberships_changed()
        return deleted(store.products, row)
