"""Categories, collections, specials and store configuration (sandbox choice: customers-style routes)."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.data import now_utc, reprice_all, slugify
from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import (
    check_parent,
    currency,
    guard_version,
    merge,
    not_negative,
    one,
    page,
    slug,
    text,
    written,
)
from airflow_provider_simplestore.sandbox.schemas import CategoryIn, CollectionIn, ConfigurationIn, SpecialIn, present
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row, Store
from airflow_provider_simplestore.sandbox.web import (
    Query,
    bad_request,
    conflict,
    empty,
    format_utc,
    json_response,
    parse_datetime,
    read_json,
)


def _fields(body: Any, *read_only: str) -> dict[str, Any]:
    return {k: v for k, v in present(body).items() if k not in ("version", *read_only)}


def _filter_common(rows: list[Row], query: Query) -> list[Row]:
    if (value := query.get("Slug")) is not None:
        rows = [r for r in rows if (r.get("slug") or "").casefold() == value.casefold()]
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


def register(api: Api, state: SandboxState) -> None:
    max_body = state.options.max_body_bytes

    # ---- categories ----
    @api.route("GET", "/v1/categories")
    async def list_categories(request: Request) -> Response:
        query = Query.of(request)
        rows = _filter_common(state.store.categories.rows(), query)
        if (parent := query.get("ParentId")) is not None:
            rows = [r for r in rows if (r.get("parentId") or "") == parent]
        return page(state, state.store.categories, rows, query)

    @api.route("GET", "/v1/categories/{categoryId}")
    async def get_category(request: Request) -> Response:
        return one(state.store.categories, request.path_params["categoryId"])

    @api.route("POST", "/v1/categories")
    async def create_category(request: Request) -> Response:
        body = await read_json(request, CategoryIn, max_body)
        text(body.name, "name", required=True)
        slug(body.slug)
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
        store.categories.insert(row)
        store.categories.touch_all()  # parents and siblings list the newcomer
        store.created("categories")
        return written(row, "categoryId", 201)

    @api.route("PUT", "/v1/categories/{categoryId}")
    async def update_category(request: Request) -> Response:
        store = state.store
        row = store.categories.require(request.path_params["categoryId"])
        body = await read_json(request, CategoryIn, max_body)
        guard_version(row, body.version, request)
        if body.name is not UNSET:
            text(body.name, "name", required=True)
        slug(body.slug)
        changes = _fields(body, "categoryId")
        if "parentId" in changes:
            check_parent(store.categories, row["categoryId"], changes["parentId"])
        merge(row, changes)
        row["version"] = store.next_version()
        store.categories.touch_all()
        if "name" in changes or "slug" in changes:
            _refresh_refs(store, "categories", row["categoryId"], row)
        return written(row, "categoryId")

    @api.route("DELETE", "/v1/categories/{categoryId}")
    async def delete_category(request: Request) -> Response:
        store = state.store
        row = store.categories.require(request.path_params["categoryId"])
        guard_version(row, UNSET, request)
        if any(c.get("parentId") == row["categoryId"] for c in store.categories.rows()):
            raise conflict(f"category {row['categoryId']!r} has child categories; delete or move them first")
        store.categories.delete(row["categoryId"])
        store.categories.touch_all()
        _refresh_refs(store, "categories", row["categoryId"], None)
        return empty(200)

    # ---- collections ----
    @api.route("GET", "/v1/collections")
    async def list_collections(request: Request) -> Response:
        query = Query.of(request)
        return page(state, state.store.collections, _filter_common(state.store.collections.rows(), query), query)

    @api.route("GET", "/v1/collections/{collectionId}")
    async def get_collection(request: Request) -> Response:
        return one(state.store.collections, request.path_params["collectionId"])

    @api.route("POST", "/v1/collections")
    async def create_collection(request: Request) -> Response:
        body = await read_json(request, CollectionIn, max_body)
        text(body.name, "name", required=True)
        slug(body.slug)
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
        store.collections.insert(row)
        store.created("collections")
        return written(row, "collectionId", 201)

    @api.route("PUT", "/v1/collections/{collectionId}")
    async def update_collection(request: Request) -> Response:
        store = state.store
        row = store.collections.require(request.path_params["collectionId"])
        body = await read_json(request, CollectionIn, max_body)
        guard_version(row, body.version, request)
        if body.name is not UNSET:
            text(body.name, "name", required=True)
        slug(body.slug)
        changes = _fields(body, "collectionId")
        merge(row, changes)
        row["version"] = store.next_version()
        store.collections.changed(row["collectionId"])
        if "name" in changes or "slug" in changes:
            _refresh_refs(store, "collections", row["collectionId"], row)
        return written(row, "collectionId")

    @api.route("DELETE", "/v1/collections/{collectionId}")
    async def delete_collection(request: Request) -> Response:
        store = state.store
        row = store.collections.require(request.path_params["collectionId"])
        guard_version(row, UNSET, request)
        store.collections.delete(row["collectionId"])
        _refresh_refs(store, "collections", row["collectionId"], None)
        return empty(200)

    # ---- specials ----
    @api.route("GET", "/v1/specials")
    async def list_specials(request: Request) -> Response:
        query = Query.of(request)
        return page(state, state.store.specials, _filter_common(state.store.specials.rows(), query), query)

    @api.route("GET", "/v1/specials/{specialId}")
    async def get_special(request: Request) -> Response:
        return one(state.store.specials, request.path_params["specialId"])

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
        store.specials.insert(row)
        store.created("specials")
        _specials_changed(store)
        return written(row, "specialId", 201)

    @api.route("PUT", "/v1/specials/{specialId}")
    async def update_special(request: Request) -> Response:
        store = state.store
        row = store.specials.require(request.path_params["specialId"])
        body = await read_json(request, SpecialIn, max_body)
        guard_version(row, body.version, request)
        merge(row, _special_fields(store, body, row))
        row["version"] = store.next_version()
        store.specials.changed(row["specialId"])
        _specials_changed(store)
        return written(row, "specialId")

    @api.route("DELETE", "/v1/specials/{specialId}")
    async def delete_special(request: Request) -> Response:
        store = state.store
        row = store.specials.require(request.path_params["specialId"])
        guard_version(row, UNSET, request)
        store.specials.delete(row["specialId"])
        _specials_changed(store)
        return empty(200)

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
