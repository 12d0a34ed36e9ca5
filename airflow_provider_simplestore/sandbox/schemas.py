"""Request bodies as msgspec structs: decoding validates types and refuses unknown fields.

Every field is optional (UNSET when absent) so one struct serves create and partial update;
routes check what a create requires. `msgspec.to_builtins` gives the present fields, camelCased.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

Attributes = dict[str, Any]
ProductStatus = Literal["Available", "OutOfStock", "Discontinued", "Unavailable"]
PaymentMethod = Literal["CurrencyOnly", "RewardsOrCurrency", "RewardsOnly", "RewardsPlusPay"]
PhoneType = Literal["Unknown", "Phone", "Mobile"]


class Body(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """Base for request bodies: camelCase names, unknown fields rejected."""


class Versioned(Body):
    """A write: it may name the `version` it read (a stale one gets 409)."""

    version: str | UnsetType = UNSET


def present(body: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent, with their JSON (camelCase) names."""
    data = msgspec.to_builtins(body)
    assert isinstance(data, dict)
    return data


class EntityRef(Body):
    key: str
    value: str | UnsetType | None = UNSET
    slug: str | UnsetType | None = UNSET


class FileRef(Body):
    file_id: str
    content_type: str | UnsetType | None = UNSET
    access_permission: str | int | UnsetType | None = UNSET
    access_url: str | UnsetType | None = UNSET
    attributes: Attributes | UnsetType = UNSET
    edge_url: str | UnsetType | None = UNSET


class PricingIn(Body):
    currency_code: str | UnsetType = UNSET
    sell_price: float | UnsetType | None = UNSET
    retail_price: float | UnsetType | None = UNSET
    attributes: Attributes | UnsetType = UNSET


class RewardsIn(Body):
    is_enabled: bool | UnsetType = UNSET
    points: int | UnsetType = UNSET
    min_pay_amount: float | UnsetType = UNSET
    min_points_amount: float | UnsetType = UNSET


class InventoryIn(Body):
    sku: str | UnsetType | None = UNSET
    available_quantity: float | UnsetType | None = UNSET
    min_active_quantity: float | UnsetType | None = UNSET
    gross_weight: float | UnsetType | None = UNSET
    track_inventory: bool | UnsetType = UNSET


class ProductIn(Versioned):
    slug: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    titles: dict[str, str] | UnsetType = UNSET
    descriptions: dict[str, str] | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    status: ProductStatus | UnsetType = UNSET
    attributes: Attributes | UnsetType = UNSET
    categories: list[str | EntityRef] | UnsetType = UNSET
    collections: list[str | EntityRef] | UnsetType = UNSET
    files: list[FileRef] | UnsetType = UNSET
    payment_method: PaymentMethod | UnsetType = UNSET
    base_price: PricingIn | UnsetType = UNSET
    base_rewards: RewardsIn | UnsetType = UNSET
    inventory: InventoryIn | UnsetType = UNSET
    # read-only fields a client may round-trip from a GET; accepted and ignored
    product_id: str | UnsetType = UNSET
    short_url: str | UnsetType = UNSET
    price: Attributes | UnsetType = UNSET
    rewards: Attributes | UnsetType = UNSET


class CatalogIn(Versioned):
    """The fields categories and collections share."""

    name: str | UnsetType = UNSET
    slug: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    names: dict[str, str] | UnsetType = UNSET
    descriptions: dict[str, str] | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    attributes: Attributes | UnsetType = UNSET


class CategoryIn(CatalogIn):
    parent_id: str | UnsetType | None = UNSET
    files: list[FileRef] | UnsetType = UNSET
    category_id: str | UnsetType = UNSET  # read-only, ignored


class CollectionIn(CatalogIn):
    collection_id: str | UnsetType = UNSET  # read-only, ignored


class SpecialRule(Body):
    entity_type: Literal["Product", "Category", "Collection"]
    entity_id: str
    key: str | UnsetType = UNSET


class SpecialIn(Versioned):
    name: str | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    start_on_utc: str | UnsetType = UNSET
    end_on_utc: str | UnsetType | None = UNSET
    special_type: Literal["Percentage", "FixedAmount"] | UnsetType = UNSET
    amount: float | UnsetType = UNSET
    rules: list[SpecialRule] | UnsetType = UNSET
    attributes: Attributes | UnsetType = UNSET
    special_id: str | UnsetType = UNSET  # read-only, ignored


class ShippingRate(Body):
    country: str
    fee: float
    state: str | None = None


class ShippingIn(Body):
    default_fee: float
    rates: list[ShippingRate] = []


class ConfigurationIn(Versioned):
    default_currency_code: str | UnsetType = UNSET
    rewards_conversion_rate: float | UnsetType = UNSET
    languages: dict[str, str] | UnsetType = UNSET
    shipping: ShippingIn | UnsetType = UNSET


class CustomerIn(Versioned):
    first_name: str | UnsetType | None = UNSET
    last_name: str | UnsetType | None = UNSET
    display_name: str | UnsetType | None = UNSET
    email_address: str | UnsetType = UNSET
    attributes: Attributes | UnsetType = UNSET
    customer_id: str | UnsetType = UNSET  # read-only, ignored


class AddressIn(Versioned):
    address1: str | None = None
    address2: str | None = None
    suburb: str | None = None
    postcode: str | None = None
    state: str | None = None
    country: str | None = None


class PhoneIn(Versioned, kw_only=True):
    number_local: str
    type: PhoneType = "Unknown"
    country: str | None = None


class KeysIn(Versioned, kw_only=True):
    keys: list[str]


class CartItemIn(Body):
    product_id: str
    quantity: int
    attributes: Attributes | UnsetType = UNSET


class CartItemsIn(Body):
    currency_code: str | UnsetType = UNSET
    items: list[CartItemIn] = []
    attributes: Attributes | UnsetType = UNSET


class CartNewIn(Body):
    currency_code: str | UnsetType = UNSET
    items: list[CartItemIn] = []
    attributes: Attributes | UnsetType = UNSET


class CartItemsDeleteIn(Body):
    items: list[str | dict[str, Any]]  # product ids; `{"productId": ...}` objects also accepted


class ShippingAddressIn(Body):
    country: str
    state: str | None = None


class CheckoutIn(Body):
    customer_id: str | None = None
    customer_email: str | None = None
    customer_first_name: str | None = None
    customer_last_name: str | None = None
    purchaser_name: str | None = None
    purchaser_contact_number_local: str | None = None
    purchaser_email: str | None = None
    receiver_name: str | None = None
    receiver_contact_number_local: str | None = None
    receiver_email: str | None = None


class FolderIn(Versioned):
    name: str | UnsetType = UNSET
    parent_id: str | UnsetType | None = UNSET
    attributes: Attributes | UnsetType = UNSET
    folder_id: str | UnsetType = UNSET  # read-only, ignored


class OrdersIn(Body):
    count: int = 1
