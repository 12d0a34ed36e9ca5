"""Customers with addresses and phones: the 9 documented endpoints."""

from __future__ import annotations

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.pricing import international_number
from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import (
    guard_version,
    merge,
    one,
    page,
    page_views,
    text,
    written,
)
from airflow_provider_simplestore.sandbox.schemas import AddressIn, CustomerIn, KeysIn, PhoneIn, present
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row, Store
from airflow_provider_simplestore.sandbox.web import Query, bad_request, empty, json_response, read_json

WRITABLE = ("firstName", "lastName", "displayName", "emailAddress", "attributes")


def _email(value: object) -> None:
    if value is UNSET:
        return
    if not isinstance(value, str) or "@" not in value or value.strip() != value or " " in value:
        raise bad_request(f"emailAddress must be an email address, got {value!r}")


def _bump(store: Store, row: Row) -> None:
    row["version"] = store.next_version()
    store.customers.changed(row["customerId"])


def register(api: Api, state: SandboxState) -> None:
    @api.route("GET", "/v1/customers")
    async def list_customers(request: Request) -> Response:
        query = Query.of(request)
        store = state.store
        rows = store.customers.rows()
        if ids := query.get_all("CustomerId"):
            wanted = set(ids)
            rows = [r for r in rows if r["customerId"] in wanted]
        if (email := query.get("EmailAddress")) is not None:
            owner = store.customer_emails.find(email)
            rows = [r for r in rows if r["customerId"] == owner]
        hidden = [
            field
            for flag, field in (
                ("IncludePhones", "phones"),
                ("IncludeAddresses", "addresses"),
                ("IncludeAttributes", "attributes"),
            )
            if query.get_bool(flag, True) is False
        ]
        if not hidden:
            return page(state, store.customers, rows, query)
        return page_views(state, rows, query, lambda r: {k: v for k, v in r.items() if k not in hidden})

    @api.route("GET", "/v1/customers/{customerId}")
    async def get_customer(request: Request) -> Response:
        return one(state.store.customers, request.path_params["customerId"])

    @api.route("POST", "/v1/customers")
    async def create_customer(request: Request) -> Response:
        body = await read_json(request, CustomerIn, state.options.max_body_bytes)
        text(body.email_address, "emailAddress", required=True)
        _email(body.email_address)
        store = state.store
        customer_id = store.new_uuid()
        store.customer_emails.check(body.email_address, customer_id)  # type: ignore[arg-type]
        row: Row = {
            "customerId": customer_id,
            "version": store.next_version(),
            "firstName": None,
            "lastName": None,
            "displayName": None,
            "emailAddress": None,
            "phones": [],
            "addresses": [],
            "attributes": {},
        }
        merge(row, {k: v for k, v in present(body).items() if k in WRITABLE})
        if not row["displayName"]:
            row["displayName"] = " ".join(p for p in (row["firstName"], row["lastName"]) if p) or None
        store.customers.insert(row)
        store.customer_emails.claim(row["emailAddress"], customer_id)
        store.created("customers")
        return written(row, "customerId", 201)

    @api.route("PUT", "/v1/customers/{customerId}")
    async def update_customer(request: Request) -> Response:
        store = state.store
        row = store.customers.require(request.path_params["customerId"])
        body = await read_json(request, CustomerIn, state.options.max_body_bytes)
        guard_version(row, body.version, request)
        if body.email_address is not UNSET:
            text(body.email_address, "emailAddress", required=True)
            _email(body.email_address)
            store.customer_emails.move(row["emailAddress"], body.email_address, row["customerId"])
        merge(row, {k: v for k, v in present(body).items() if k in WRITABLE})
        _bump(store, row)
        return written(row, "customerId", 201)  # 201 for an update, as documented

    @api.route("DELETE", "/v1/customers/{customerId}")
    async def delete_customer(request: Request) -> Response:
        store = state.store
        row = store.customers.require(request.path_params["customerId"])
        guard_version(row, UNSET, request)
        store.customers.delete(row["customerId"])
        store.customer_emails.release(row["emailAddress"], row["customerId"])
        return empty(200)

    @api.route("POST", "/v1/customers/{customerId}/addresses")
    async def add_address(request: Request) -> Response:
        store = state.store
        row = store.customers.require(request.path_params["customerId"])
        body = await read_json(request, AddressIn, state.options.max_body_bytes)
        guard_version(row, body.version, request)
        if not (body.address1 or "").strip():
            raise bad_request("address1 is required")
        address = {"key": store.new_uuid(), **{k: v for k, v in present(body).items() if k != "version"}}
        address = {k: address.get(k) for k in ("key", "address1", "address2", "suburb", "postcode", "state", "country")}
        row["addresses"].append(address)
        _bump(store, row)
        return json_response(
            {
                "customerId": row["customerId"],
                "version": row["version"],
                "totalAddressesAttached": len(row["addresses"]),
            }
        )

    async def remove_entries(request: Request, field: str, singular: str) -> Response:
        """Delete the addresses or phones named by `keys`; unknown keys are ignored."""
        store = state.store
        row = store.customers.require(request.path_params["customerId"])
        body = await read_json(request, KeysIn, state.options.max_body_bytes)
        guard_version(row, body.version, request)
        keys = set(body.keys)
        removed = [entry for entry in row[field] if entry["key"] in keys]
        row[field] = [entry for entry in row[field] if entry["key"] not in keys]
        _bump(store, row)
        return json_response(
            {
                "customerId": row["customerId"],
                "version": row["version"],
                f"{field}Removed": removed,
                f"total{singular}Attached": len(row[field]),
            }
        )

    @api.route("DELETE", "/v1/customers/{customerId}/addresses")
    async def remove_addresses(request: Request) -> Response:
        return await remove_entries(request, "addresses", "Addresses")

    @api.route("POST", "/v1/customers/{customerId}/phones")
    async def add_phone(request: Request) -> Response:
        store = state.store
        row = store.customers.require(request.path_params["customerId"])
        body = await read_json(request, PhoneIn, state.options.max_body_bytes)
        guard_version(row, body.version, request)
        if not body.number_local.strip():
            raise bad_request("numberLocal must not be empty")
        if body.country is not None and len(body.country) != 2:
            raise bad_request(f"country must be an ISO 3166 two-letter code, got {body.country!r}")
        country = body.country.upper() if body.country else None
        row["phones"].append(
            {
                "key": store.new_uuid(),
                "type": body.type,
                "country": country,
                "numberLocal": body.number_local,
                "numberInternational": international_number(country, body.number_local),
            }
        )
        _bump(store, row)
        return json_response(
            {"customerId": row["customerId"], "version": row["version"], "totalPhonesAttached": len(row["phones"])}
        )

    @api.route("DELETE", "/v1/customers/{customerId}/phones")
    async def remove_phones(request: Request) -> Response:
        return await remove_entries(request, "phones", "Phones")
