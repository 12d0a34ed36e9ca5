"""Cart (6 documented endpoints + `POST /v1/cart`, a sandbox choice) and basket (2 documented)."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response

from airflow_provider_simplestore.sandbox import commerce
from airflow_provider_simplestore.sandbox.data import now_utc
from airflow_provider_simplestore.sandbox.pricing import shipping_fee
from airflow_provider_simplestore.sandbox.routes import Api
from airflow_provider_simplestore.sandbox.routes.crud import read_routes
from airflow_provider_simplestore.sandbox.schemas import (
    CartItemsDeleteIn,
    CartItemsIn,
    CartNewIn,
    CheckoutIn,
    ShippingAddressIn,
)
from airflow_provider_simplestore.sandbox.state import SandboxState
from airflow_provider_simplestore.sandbox.store import Row, Store
from airflow_provider_simplestore.sandbox.web import (
    Query,
    bad_request,
    conflict,
    empty,
    json_response,
    raw_json,
    read_json,
    read_optional_json,
)


def _apply_items(store: Store, cart: Row, body: CartItemsIn | CartNewIn) -> None:
    """Validate everything first, then change the cart: a bad line leaves the cart as it was."""
    currency = cart["currencyCode"] if body.currency_code is UNSET else body.currency_code
    if currency != cart["currencyCode"] and cart["items"]:
        raise bad_request(f"currencyCode {currency!r} differs from the cart's {cart['currencyCode']!r}")
    lines: list[tuple[Row, int, Any]] = []
    for line in body.items:
        if line.quantity < 0:
            raise bad_request(f"quantity for product {line.product_id!r} must not be negative")
        product = store.products.get(line.product_id)
        if product is None:
            raise bad_request(f"product {line.product_id!r} does not exist")
        if line.quantity and not (product["isActive"] and product["status"] == "Available"):
            raise bad_request(f"product {line.product_id!r} is not available for sale ({product['status']})")
        product_currency = (product.get("price") or {}).get("currencyCode")
        if line.quantity and product_currency and product_currency != currency:
            raise bad_request(f"product {line.product_id!r} is priced in {product_currency}, the cart in {currency}")
        lines.append((product, line.quantity, None if line.attributes is UNSET else line.attributes))
    cart["currencyCode"] = currency
    if body.attributes is not UNSET:
        cart["attributes"] = body.attributes
    items = {item["productId"]: item for item in cart["items"]}
    for product, quantity, attributes in lines:
        if quantity == 0:  # quantity replaces; 0 removes the line
            items.pop(product["productId"], None)
        else:
            old = items.get(product["productId"])
            keep = attributes if attributes is not None else (old or {}).get("attributes")
            items[product["productId"]] = commerce.cart_item(product, quantity, keep)
    cart["items"] = list(items.values())
    commerce.recompute(cart)
    store.carts.changed(cart["cartId"])


def _customer(store: Store, body: CheckoutIn) -> Row:
    if body.customer_id:
        customer = store.customers.get(body.customer_id)
        if customer is None:
            raise bad_request(f"customerId {body.customer_id!r} does not exist")
        return customer
    if not body.customer_email:
        raise bad_request("checkout needs customerId or customerEmail")
    owner = store.customer_emails.find(body.customer_email)
    if owner:
        return store.customers.require(owner)
    if "@" not in body.customer_email:
        raise bad_request(f"customerEmail must be an email address, got {body.customer_email!r}")
    names = [n for n in (body.customer_first_name, body.customer_last_name) if n]
    customer = {
        "customerId": store.new_uuid(),
        "version": store.next_version(),
        "firstName": body.customer_first_name,
        "lastName": body.customer_last_name,
        "displayName": " ".join(names) or None,
        "emailAddress": body.customer_email,
        "phones": [],
        "addresses": [],
        "attributes": {},
    }
    store.customers.insert(customer)
    store.customer_emails.claim(body.customer_email, customer["customerId"])
    store.created("customers")
    return customer


def _take_stock(store: Store, cart: Row) -> None:
    """Checkout decrements tracked stock (not below 0) and may flip a product to OutOfStock."""
    for item in cart["items"]:
        product = store.products.get(item["productId"])
        if product is None or not product["inventory"].get("trackInventory"):
            continue
        inventory = product["inventory"]
        inventory["availableQuantity"] = max(0, (inventory.get("availableQuantity") or 0) - item["quantity"])
        if product["status"] == "Available" and inventory["availableQuantity"] < (
            inventory.get("minActiveQuantity") or 0
        ):
            product["status"] = "OutOfStock"
        product["version"] = store.next_version()
        store.products.changed(product["productId"])


def register(api: Api, state: SandboxState) -> None:
    max_body = state.options.max_body_bytes

    def cart_of(request: Request) -> Row:
        return state.store.carts.require(request.path_params["cartId"])

    def show(cart: Row, status: int = 200) -> Response:
        return raw_json(state.store.carts.encoded(cart), status)

    @api.route("POST", "/v1/cart")
    async def new_cart(request: Request) -> Response:
        store = state.store
        body = await read_optional_json(request, CartNewIn, max_body) or CartNewIn()
        currency = store.configuration["defaultCurrencyCode"] if body.currency_code is UNSET else body.currency_code
        cart = commerce.new_cart(store.new_uuid(), currency)
        _apply_items(store, cart, body)
        store.carts.insert(cart)
        store.created("carts")
        return show(cart, 201)

    @api.route("GET", "/v1/cart/{cartId}")
    async def get_cart(request: Request) -> Response:
        return show(cart_of(request))

    @api.route("DELETE", "/v1/cart/{cartId}")
    async def delete_cart(request: Request) -> Response:
        store = state.store
        store.carts.delete(cart_of(request)["cartId"])
        store.shipping_quoted.discard(request.path_params["cartId"])
        return empty(204)

    @api.route("POST", "/v1/cart/{cartId}/items")
    async def put_items(request: Request) -> Response:
        store = state.store
        cart_id = request.path_params["cartId"]
        body = await read_json(request, CartItemsIn, max_body)
        cart = store.carts.get(cart_id)
        if cart is None:  # an unknown cart id creates that cart, as documented
            if cart_id in store.baskets:
                raise conflict(f"cart {cart_id!r} was checked out; start a new cart")
            currency = store.configuration["defaultCurrencyCode"] if body.currency_code is UNSET else body.currency_code
            cart = commerce.new_cart(cart_id, currency)
            _apply_items(store, cart, body)
            store.carts.insert(cart)
            store.created("carts")
        else:
            _apply_items(store, cart, body)
        return show(cart)

    @api.route("DELETE", "/v1/cart/{cartId}/items")
    async def delete_items(request: Request) -> Response:
        cart = cart_of(request)
        body = await read_json(request, CartItemsDeleteIn, max_body)
        gone = set()
        for item in body.items:
            key = item if isinstance(item, str) else item.get("productId")
            if not isinstance(key, str):
                raise bad_request("items must be product ids or objects with a productId")
            gone.add(key)
        cart["items"] = [item for item in cart["items"] if item["productId"] not in gone]
        commerce.recompute(cart)
        state.store.carts.changed(cart["cartId"])
        return show(cart)

    @api.route("POST", "/v1/cart/{cartId}/shipping")
    async def calculate_shipping(request: Request) -> Response:
        store = state.store
        cart = cart_of(request)
        body = await read_json(request, ShippingAddressIn, max_body)
        if len(body.country) != 2:
            raise bad_request(f"country must be an ISO 3166 two-letter code, got {body.country!r}")
        cart["shippingFee"] = shipping_fee(store.configuration, body.country, body.state)
        commerce.recompute(cart)
        store.carts.changed(cart["cartId"])
        store.shipping_quoted.add(cart["cartId"])
        return show(cart)

    @api.route("POST", "/v1/cart/{cartId}")
    async def checkout(request: Request) -> Response:
        store = state.store
        cart = cart_of(request)  # a checked-out cart is gone: a second checkout is a 404
        body = await read_json(request, CheckoutIn, max_body)
        if not cart["items"]:
            raise bad_request(f"cart {cart['cartId']!r} is empty")
        customer = _customer(store, body)
        if cart["cartId"] not in store.shipping_quoted:
            address = (customer.get("addresses") or [{}])[0]
            cart["shippingFee"] = shipping_fee(store.configuration, address.get("country"), address.get("state"))
            commerce.recompute(cart)
        contacts = commerce.default_contacts(customer)
        for key in contacts:
            given = getattr(body, _snake(key))
            if given:
                contacts[key] = given
        order, _ = commerce.place_order(
            store, cart, order_id=_new_order_id(store), customer=customer, contacts=contacts, created_on=now_utc()
        )
        _take_stock(store, cart)
        store.carts.delete(cart["cartId"])
        store.shipping_quoted.discard(cart["cartId"])
        store.created("orders")
        store.created("baskets")
        return json_response({"orderId": order["orderId"], "customerId": customer["customerId"]})

    read_routes(
        api,
        state,
        "baskets",
        "/v1/basket",
        "/v1/basket/bycart/{cartId}",
        _baskets,
        hideable=(("IncludeItems", "items"), ("IncludeAttributes", "attributes")),
    )


def _baskets(rows: list[Row], query: Query) -> list[Row]:
    if ids := query.get_all("CartId"):
        wanted = set(ids)
        rows = [r for r in rows if r["basketId"] in wanted]
    return rows


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _new_order_id(store: Store) -> str:
    order_id = store.new_order_id()
    while order_id in store.orders:
        order_id = store.new_order_id()
    return order_id
