"""Categories, collections, specials and store configuration (sandbox choice: customers-style routes)."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.client.resources import natural_key
from airflow_provider_simplestore.sandbox.data import now_utc, reprice_all, slugify
from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import (
    check_parent,
    currency,
    guard_version,
    merge,
    not_negative,
    slug,
    text,
)
from airflow_provider_simplestore.sandbox.routes.crud import deletable, deleted, inserted, read_routes, update_route
from airflow_provider_simplestore.sandbox.schemas import CategoryIn, CollectionIn, ConfigurationIn, SpecialIn, present
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row, Store
from airflow_provider_simplestore.sandbox.web import (
    Query,
    bad_request,
    format_utc,
    json_response,
    parse_datetime,
    read_json,
)


def _fields(body: Any, *read_only: str) -> dict[str, Any]:
    return {k: v for k, v in present(body).items() if k not in ("version", *read_only)}


def _filter_common(rows: list[Row], query: Query) -> list[Row]:
    if (value := query.get("Slug")) is not None:
        rows = [r for r in rows if natural_key(r.get("slug") or "") == natural_key(value)]
    if (value := query.get("Name")) is not None:
        rows = [r for r in rows if value.casefold() in (r.get("name") or "").casefold()]
    active = query.get_bool("IsActive")
    if active is not None:
        rows = [r for r in rows if r.get("isActive") is active]
    return rows


def _refresh_refs(store: Store, field: str, key: str, row: Row | None) -> None:
    """Keep products' `{key, value, slug}` refs in step with a renamed or deleted category/collection."""
    for product in store.products.rows():
        refs = product[field]
        if not any(ref["key"] == key for ref in refs):
            continue
        if row is None:
            product[field] = [ref for ref in refs if ref["key"] != key]
        else:
            product[field] = [
                {"key": key, "value": row["name"], "slug": row["slug"]} if ref["key"] == key else ref for ref in refs
            ]
        store.products.changed(product["productId"])
    store.memberships_changed()


def _special_fields(store: Store, body: SpecialIn, current: Row | None) -> dict[str, Any]:
    changes = _fields(body, "specialId")
    for key in ("startOnUtc", "endOnUtc"):
        if changes.get(key) is not None:
            changes[key] = format_utc(parse_datetime(changes[key], key))
    not_negative(body.amount, "amount")
    merged = {**(current or {}), **changes}
    if merged.get("specialType") == "Percentage" and (merged.get("amount") or 0) > 100:
        raise bad_request(f"a Percentage special's amount must be at most 100, got {merged['amount']}")
    if merged.get("endOnUtc") and merged.get("startOnUtc") and merged["endOnUtc"] <= merged["startOnUtc"]:
        raise bad_request("endOnUtc must be after startOnUtc")
    if "rules" in changes:
        tables = {"Product": store.products, "Category": store.categories, "Collection": store.collections}
        for rule in changes["rules"]:
            if rule["entityId"] not in tables[rule["entityType"]]:
                raise bad_request(f"{rule['entityType']} {rule['entityId']!r} in rules does not exist")
            rule.setdefault("key", store.new_uuid())
        changes["rules"] = [
            {"key": rule["key"], "entityType": rule["entityType"], "entityId": rule["entityId"]}
            for rule in changes["rules"]
        ]
    return changes


def _specials_changed(store: Store) -> None:
    reprice_all(store, now_utc())


def _categories(rows: list[Row], query: Query) -> list[Row]:
    rows = _filter_common(rows, query)
    if (parent := query.get("ParentId")) is not None:
        rows = [r for r in rows if (r.get("parentId") or "") == parent]
    return rows


def _named(body: CategoryIn | CollectionIn, *, create: bool) -> None:
    """A create needs a name; an update may leave it out, but not blank it."""
    if create or body.name is not UNSET:
        text(body.name, "name", required=True)
    slug(body.slug)


def register(api: Api, state: SandboxState) -> None:
    max_body = state.options.max_body_bytes
    read_routes(api, state, "categories", "/v1/categories", "/v1/categories/{categoryId}", _categories)
    read_routes(api, state, "collections", "/v1/collections", "/v1/collections/{collectionId}", _filter_common)
    read_routes(api, state, "specials", "/v1/specials", "/v1/specials/{specialId}", _filter_common)

    # ---- categories ----
    @api.route("POST", "/v1/categories")
    async def create_category(request: Request) -> Response:
        body = await read_json(request, CategoryIn, max_body)
        _named(body, create=True)
        store = state.store
        category_id = store.new_uuid()
        changes = _fields(body, "categoryId")
        check_parent(store.categories, category_id, changes.get("parentId"))
        row: Row = {
            "categoryId": category_id,
            "version": store.next_version(),
            "slug": slugify(changes["name"]),
            "name": "",
            "description": None,
            "names": {},
            "descriptions": {},
            "parentId": None,
            "isActive": True,
            "attributes": {},
            "files": [],
        }
        merge(row, changes)
        store.categories.touch_all()  # parents and siblings list the newcomer
        return inserted(store, "categories", row)

    @update_route(api, state, "PUT", "/v1/categories/{categoryId}", "categories", CategoryIn)
    def update_category(store: Store, row: Row, body: CategoryIn) -> None:
        _named(body, create=False)
        changes = _fields(body, "categoryId")
        if "parentId" in changes:
            check_parent(store.categories, row["categoryId"], changes["parentId"])
        merge(row, changes)
        store.categories.touch_all()
        if "name" in changes or "slug" in changes:
            _refresh_refs(store, "categories", row["categoryId"], row)

    @api.route("DELETE", "/v1/categories/{categoryId}")
    async def delete_category(request: Request) -> Response:
        store = state.store
        row = deletable(store.categories, request, "child categories")
        response = deleted(store.categories, row)
        store.categories.touch_all()
        _refresh_refs(store, "categories", row["categoryId"], None)
        return response

    # ---- collections ----
    @api.route("POST", "/v1/collections")
    async def create_collection(request: Request) -> Response:
        body = await read_json(request, CollectionIn, max_body)
        _named(body, create=True)
        store = state.store
        changes = _fields(body, "collectionId")
        row: Row = {
            "collectionId": store.new_uuid(),
            "version": store.next_version(),
            "name": "",
            "slug": slugify(changes["name"]),
            "description": None,
            "names": {},
            "descriptions": {},
            "isActive": True,
            "attributes": {},
        }
        merge(row, changes)
        return inserted(store, "collections", row)

    @update_route(api, state, "PUT", "/v1/collections/{collectionId}", "collections", CollectionIn)
    def update_collection(store: Store, row: Row, body: CollectionIn) -> None:
        _named(body, create=False)
        changes = _fields(body, "collectionId")
        merge(row, changes)
        if "name" in changes or "slug" in changes:
            _refresh_refs(store, "collections", row["collectionId"], row)

    @api.route("DELETE", "/v1/collections/{collectionId}")
    async def delete_collection(request: Request) -> Response:
        store = state.store
        row = deletable(store.collections, request)
        response = deleted(store.collections, row)
        _refresh_refs(store, "collections", row["collectionId"], None)
        return response

    # ---- specials ----
    @api.route("POST", "/v1/specials")
    async def create_special(request: Request) -> Response:
        body = await read_json(request, SpecialIn, max_body)
        if body.special_type is UNSET or body.amount is UNSET:
            raise bad_request("specialType and amount are required")
        store = state.store
        changes = _special_fields(store, body, None)
        row: Row = {
            "specialId": store.new_uuid(),
            "version": store.next_version(),
            "name": None,
            "description": None,
            "isActive": True,
            "startOnUtc": format_utc(now_utc()),
            "endOnUtc": None,
            "specialType": "Percentage",
            "amount": 0.0,
            "rules": [],
            "attributes": {},
        }
        merge(row, changes)
        response = inserted(store, "specials", row)
        _specials_changed(store)
        return response

    @update_route(api, state, "PUT", "/v1/specials/{specialId}", "specials", SpecialIn)
    def update_special(store: Store, row: Row, body: SpecialIn) -> None:
        merge(row, _special_fields(store, body, row))
        _specials_changed(store)

    @api.route("DELETE", "/v1/specials/{specialId}")
    async def delete_special(request: Request) -> Response:
        store = state.store
        response = deleted(store.specials, deletable(store.specials, request))
        _specials_changed(store)
        return response

    # ---- configuration ----
    @api.route("GET", "/v1/configuration")
    async def get_configuration(request: Request) -> Response:
        return json_response(state.store.configuration)

    @api.route("PUT", "/v1/configuration")
    async def update_configuration(request: Request) -> Response:
        store = state.store
        body = await read_json(request, ConfigurationIn, max_body)
        guard_version(store.configuration, body.version, request)
        currency(body.default_currency_code, "defaultCurrencyCode")
        not_negative(body.rewards_conversion_rate, "rewardsConversionRate")
        if body.shipping is not UNSET:
            not_negative(body.shipping.default_fee, "shipping.defaultFee")
            for rate in body.shipping.rates:
                not_negative(rate.fee, "shipping.rates[].fee")
        merge(store.configuration, _fields(body))
        store.configuration["version"] = store.next_version()
        return json_response({"version": store.configuration["version"]})
