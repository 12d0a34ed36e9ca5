"""Customers with addresses and phones: the 9 documented endpoints."""

from __future__ import annotations

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox.pricing import international_number
from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.common import merge, text
from airflow_provider_simplestore.sandbox.routes.crud import (
    addressed,
    bumped,
    deletable,
    deleted,
    inserted,
    read_routes,
    update_route,
)
from airflow_provider_simplestore.sandbox.schemas import AddressIn, CustomerIn, KeysIn, PhoneIn, present
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row, Store
from airflow_provider_simplestore.sandbox.web import Query, bad_request, json_response, read_json

WRITABLE = ("firstName", "lastName", "displayName", "emailAddress", "attributes")


def _email(value: object) -> None:
    if value is UNSET:
        return
    if not isinstance(value, str) or "@" not in value or value.strip() != value or " " in value:
        raise bad_request(f"emailAddress must be an email address, got {value!r}")


def _select(store: Store, rows: list[Row], query: Query) -> list[Row]:
    if ids := query.get_all("CustomerId"):
        wanted = set(ids)
        rows = [r for r in rows if r["customerId"] in wanted]
    if (email := query.get("EmailAddress")) is not None:
        owner = store.customer_emails.find(email)
        rows = [r for r in rows if r["customerId"] == owner]
    return rows


def register(api: Api, state: SandboxState) -> None:
    read_routes(
        api,
        state,
        "customers",
        "/v1/customers",
        "/v1/customers/{customerId}",
        lambda rows, query: _select(state.store, rows, query),
        hideable=(("IncludePhones", "phones"), ("IncludeAddresses", "addresses"), ("IncludeAttributes", "attributes")),
    )

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
        store.customer_emails.claim(row["emailAddress"], customer_id)
        return inserted(store, "customers", row)

    # 201 for an update, as documented
    @update_route(api, state, "PUT", "/v1/customers/{customerId}", "customers", CustomerIn, status=201)
    def update_customer(store: Store, row: Row, body: CustomerIn) -> None:
        if body.email_address is not UNSET:
            text(body.email_address, "emailAddress", required=True)
            _email(body.email_address)
            store.customer_emails.move(row["emailAddress"], body.email_address, row["customerId"])
        merge(row, {k: v for k, v in present(body).items() if k in WRITABLE})

    @api.route("DELETE", "/v1/customers/{customerId}")
    async def delete_customer(request: Request) -> Response:
        store = state.store
        row = deletable(store.customers, request)
        store.customer_emails.release(row["emailAddress"], row["customerId"])
        return deleted(store.customers, row)

    def attached(row: Row, **extra: object) -> Response:
        """A sub-list changed: a new version; answers `{customerId, version, **extra}`."""
        bumped(state.store, state.store.customers, row)
        return json_response({"customerId": row["customerId"], "version": row["version"], **extra})

    @api.route("POST", "/v1/customers/{customerId}/addresses")
    async def add_address(request: Request) -> Response:
        store = state.store
        row, body = await addressed(state, store.customers, request, AddressIn)
        if not (body.address1 or "").strip():
            raise bad_request("address1 is required")
        address = {"key": store.new_uuid(), **{k: v for k, v in present(body).items() if k != "version"}}
        address = {k: address.get(k) for k in ("key", "address1", "address2", "suburb", "postcode", "state", "country")}
        row["addresses"].append(address)
        return attached(row, totalAddressesAttached=len(row["addresses"]))

    async def remove_entries(request: Request, field: str, singular: str) -> Response:
        """Delete the addresses or phones named by `keys`; unknown keys are ignored."""
        row, body = await addressed(state, state.store.customers, request, KeysIn)
        keys = set(body.keys)
        removed = [entry for entry in row[field] if entry["key"] in keys]
        row[field] = [entry for entry in row[field] if entry["key"] not in keys]
        return attached(row, **{f"{field}Removed": removed, f"total{singular}Attached": len(row[field])})

    @api.route("DELETE", "/v1/customers/{customerId}/addresses")
    async def remove_addresses(request: Request) -> Response:
        return await remove_entries(request, "addresses", "Addresses")

    @api.route("POST", "/v1/customers/{customerId}/phones")
    async def add_phone(request: Request) -> Response:
        store = state.store
        row, body = await addressed(state, store.customers, request, PhoneIn)
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
        return attached(row, totalPhonesAttached=len(row["phones"]))

    @api.route("DELETE", "/v1/customers/{customerId}/phones")
    async def remove_phones(request: Request) -> Response:
        return await remove_entries(request, "phones", "Phones")
