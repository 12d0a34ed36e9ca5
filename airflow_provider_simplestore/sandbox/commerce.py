"""Carts, baskets and orders: the one place that turns products and quantities into money."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow_provider_simplestore.sandbox.pricing import money
from airflow_provider_simplestore.sandbox.store import Row, Store
from airflow_provider_simplestore.sandbox.web import format_utc

POINT_METHODS = ("RewardsOnly", "RewardsOrCurrency", "RewardsPlusPay")


def new_cart(cart_id: str, currency_code: str, attributes: dict[str, Any] | None = None) -> Row:
    return {
        "cartId": cart_id,
        "items": [],
        "currencyCode": currency_code,
        "shippingFee": 0.0,
        "subTotalCurrency": 0.0,
        "totalCurrency": 0.0,
        "totalPoints": 0.0,
        "attributes": attributes or {},
    }


def cart_item(product: Row, quantity: int, attributes: dict[str, Any] | None = None) -> Row:
    unit = (product.get("price") or {}).get("sellPrice") or 0.0
    rewards = product.get("rewards") or {}
    method = product.get("paymentMethod") or "CurrencyOnly"
    points = (rewards.get("points") or 0) if rewards.get("isEnabled") and method in POINT_METHODS else 0
    return {
        "productId": product["productId"],
        "slug": product.get("slug"),
        "title": product.get("title"),
        "description": product.get("description"),
        "quantity": quantity,
        "paymentMethod": method,
        "totalCurrency": money(unit * quantity),
        "totalPoints": float(points * quantity),
        "files": list(product.get("files") or ()),
        "attributes": attributes or {},
    }


def recompute(cart: Row) -> Row:
    """Totals from the items: subtotal + shipping fee; points summed over points-paying items."""
    subtotal = money(sum(item["totalCurrency"] for item in cart["items"]))
    cart["subTotalCurrency"] = subtotal
    cart["totalCurrency"] = money(subtotal + cart.get("shippingFee", 0.0))
    cart["totalPoints"] = float(sum(item["totalPoints"] for item in cart["items"]))
    return cart


def place_order(
    store: Store,
    cart: Row,
    *,
    order_id: str,
    customer: Row,
    contacts: dict[str, str | None],
    created_on: datetime,
    status: str = "Created",
    payments: list[Row] | None = None,
) -> tuple[Row, Row]:
    """The order and the basket a checked-out cart becomes (both inserted into the store)."""
    items = [
        {
            "productId": item["productId"],
            "title": item["title"],
            "quantity": item["quantity"],
            "sellPrice": money(item["totalCurrency"] / item["quantity"]) if item["quantity"] else 0.0,
            "total": item["totalCurrency"],
        }
        for item in cart["items"]
    ]
    payments = payments or []
    order = {
        "orderId": order_id,
        "version": store.next_version(),
        "status": status,
        "createdOnUtc": format_utc(created_on),
        "customerId": customer["customerId"],
        "purchaserName": contacts.get("purchaserName"),
        "purchaserContactNumberLocal": contacts.get("purchaserContactNumberLocal"),
        "purchaserEmail": contacts.get("purchaserEmail"),
        "receiverName": contacts.get("receiverName"),
        "receiverContactNumberLocal": contacts.get("receiverContactNumberLocal"),
        "receiverEmail": contacts.get("receiverEmail"),
        "items": items,
        "currencyCode": cart["currencyCode"],
        "shippingFee": cart["shippingFee"],
        "subtotal": cart["subTotalCurrency"],
        "total": cart["totalCurrency"],
        "payments": payments,
        "totalPaid": money(sum(p["paidAmount"] for p in payments)),
        "attributes": {},
    }
    basket = {
        "basketId": cart["cartId"],
        "version": store.next_version(),
        "customerId": customer["customerId"],
        "orderId": order_id,
        "status": "Draft",
        "items": cart["items"],
        "currencyCode": cart["currencyCode"],
        "shippingFee": cart["shippingFee"],
        "subTotalCurrency": cart["subTotalCurrency"],
        "totalCurrency": cart["totalCurrency"],
        "totalPoints": cart["totalPoints"],
        "attributes": cart.get("attributes") or {},
    }
    store.orders.insert(order)
    store.baskets.insert(basket)
    return order, basket


def default_contacts(customer: Row) -> dict[str, str | None]:
    name = customer.get("displayName") or f"{customer.get('firstName', '')} {customer.get('lastName', '')}".strip()
    phones = customer.get("phones") or []
    phone = phones[0]["numberLocal"] if phones else None
    email = customer.get("emailAddress")
    return {
        "purchaserName": name,
        "purchaserContactNumberLocal": phone,
        "purchaserEmail": email,
        "receiverName": name,
        "receiverContactNumberLocal": phone,
        "receiverEmail": email,
    }
