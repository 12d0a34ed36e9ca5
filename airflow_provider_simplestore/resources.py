"""Every path of the SimpleStore API, in one table.

Catalog and order routes are sandbox choices (the platform documents none), so realigning the
provider with the real platform's Swagger is a change to this file only. Query parameter names
are emitted in camelCase; the platform binds them case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with `{placeholders}` for ids

    def format(self, **ids: Any) -> str:
        """The path with its ids filled in, each quoted as one path segment."""
        try:
            return self.path.format(**{name: _segment(value) for name, value in ids.items()})
        except KeyError as exc:
            raise TypeError(f"{self.method} {self.path} needs the id {exc.args[0]!r}") from None


def _segment(value: Any) -> str:
    text = str(value)
    if not text or text in (".", ".."):
        raise ValueError(f"invalid id {value!r}")
    return quote(text, safe=":@")  # ids such as `catalog:products:33:a` stay readable


ENDPOINTS: dict[str, Endpoint] = {
    # customers (documented)
    "list_customers": Endpoint("GET", "/v1/customers"),
    "create_customer": Endpoint("POST", "/v1/customers"),
    "get_customer": Endpoint("GET", "/v1/customers/{customer_id}"),
    "update_customer": Endpoint("PUT", "/v1/customers/{customer_id}"),
    "delete_customer": Endpoint("DELETE", "/v1/customers/{customer_id}"),
    "add_customer_address": Endpoint("POST", "/v1/customers/{customer_id}/addresses"),
    "delete_customer_addresses": Endpoint("DELETE", "/v1/customers/{customer_id}/addresses"),
    "add_customer_phone": Endpoint("POST", "/v1/customers/{customer_id}/phones"),
    "delete_customer_phones": Endpoint("DELETE", "/v1/customers/{customer_id}/phones"),
    # cart (documented; creating a cart without an id is a sandbox choice)
    "create_cart": Endpoint("POST", "/v1/cart"),
    "get_cart": Endpoint("GET", "/v1/cart/{cart_id}"),
    "delete_cart": Endpoint("DELETE", "/v1/cart/{cart_id}"),
    "checkout_cart": Endpoint("POST", "/v1/cart/{cart_id}"),
    "set_cart_items": Endpoint("POST", "/v1/cart/{cart_id}/items"),
    "remove_cart_items": Endpoint("DELETE", "/v1/cart/{cart_id}/items"),
    "calculate_shipping": Endpoint("POST", "/v1/cart/{cart_id}/shipping"),
    # basket (documented)
    "list_baskets": Endpoint("GET", "/v1/basket"),
    "get_basket_by_cart": Endpoint("GET", "/v1/basket/bycart/{cart_id}"),
    # asset folders (documented; plural search, singular item, update by POST)
    "list_folders": Endpoint("GET", "/v1/folders"),
    "create_folder": Endpoint("POST", "/v1/folder/"),
    "get_folder": Endpoint("GET", "/v1/folder/{folder_id}"),
    "update_folder": Endpoint("POST", "/v1/folder/{folder_id}"),
    "delete_folder": Endpoint("DELETE", "/v1/folder/{folder_id}"),
    # catalog (sandbox choices, customers style)
    "list_products": Endpoint("GET", "/v1/products"),
    "create_product": Endpoint("POST", "/v1/products"),
    "get_product": Endpoint("GET", "/v1/products/{product_id}"),
    "update_product": Endpoint("PUT", "/v1/products/{product_id}"),
    "delete_product": Endpoint("DELETE", "/v1/products/{product_id}"),
    "list_categories": Endpoint("GET", "/v1/categories"),
    "create_category": Endpoint("POST", "/v1/categories"),
    "get_category": Endpoint("GET", "/v1/categories/{category_id}"),
    "update_category": Endpoint("PUT", "/v1/categories/{category_id}"),
    "delete_category": Endpoint("DELETE", "/v1/categories/{category_id}"),
    "list_collections": Endpoint("GET", "/v1/collections"),
    "create_collection": Endpoint("POST", "/v1/collections"),
    "get_collection": Endpoint("GET", "/v1/collections/{collection_id}"),
    "update_collection": Endpoint("PUT", "/v1/collections/{collection_id}"),
    "delete_collection": Endpoint("DELETE", "/v1/collections/{collection_id}"),
    "list_specials": Endpoint("GET", "/v1/specials"),
    "create_special": Endpoint("POST", "/v1/specials"),
    "get_special": Endpoint("GET", "/v1/specials/{special_id}"),
    "update_special": Endpoint("PUT", "/v1/specials/{special_id}"),
    "delete_special": Endpoint("DELETE", "/v1/specials/{special_id}"),
    "get_configuration": Endpoint("GET", "/v1/configuration"),
    "update_configuration": Endpoint("PUT", "/v1/configuration"),
    # orders (sandbox choices; orders are created by checkout only)
    "list_orders": Endpoint("GET", "/v1/orders"),
    "get_order": Endpoint("GET", "/v1/orders/{order_id}"),
}

# The cheap authenticated read test_connection() makes.
PROBE_ENDPOINT = "list_products"


@dataclass(frozen=True)
class Resource:
    """A listable resource: where it lives, its id, and how its list filters are spelled."""

    name: str
    list_path: str
    item_path: str  # with `{id}`
    id_field: str
    filters: Mapping[str, str] = field(default_factory=dict)  # python keyword -> query name
    natural_keys: tuple[str, ...] = ()  # unique fields; dotted for nested (`inventory.sku`)
    created_field: str | None = None

    def item(self, item_id: Any) -> str:
        return self.item_path.format(id=_segment(item_id))

    def query(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        """Python keyword filters -> query parameters (None values dropped)."""
        unknown = sorted(set(filters) - set(self.filters))
        if unknown:
            raise TypeError(f"{self.name} has no filter(s) {', '.join(unknown)}; known: {', '.join(self.filters)}")
        return {self.filters[name]: value for name, value in filters.items() if value is not None}


_CATALOG_FILTERS = {"slug": "slug", "name": "name", "is_active": "isActive"}

RESOURCES: dict[str, Resource] = {
    "products": Resource(
        "products",
        "/v1/products",
        "/v1/products/{id}",
        "productId",
        filters={"slug": "slug", "sku": "sku", "category_id": "categoryId", "collection_id": "collectionId",
                 "is_active": "isActive"},
        natural_keys=("slug", "inventory.sku"),
    ),
    "categories": Resource("categories", "/v1/categories", "/v1/categories/{id}", "categoryId",
                           filters={**_CATALOG_FILTERS, "parent_id": "parentId"}, natural_keys=("slug",)),
    "collections": Resource("collections", "/v1/collections", "/v1/collections/{id}", "collectionId",
                            filters=_CATALOG_FILTERS, natural_keys=("slug",)),
    "specials": Resource("specials", "/v1/specials", "/v1/specials/{id}", "specialId", filters=_CATALOG_FILTERS),
    "customers": Resource(
        "customers",
        "/v1/customers",
        "/v1/customers/{id}",
        "customerId",
        filters={"customer_ids": "customerId", "email": "emailAddress", "include_phones": "includePhones",
                 "include_addresses": "includeAddresses", "include_attributes": "includeAttributes"},
        natural_keys=("emailAddress",),
    ),
    "orders": Resource(
        "orders",
        "/v1/orders",
        "/v1/orders/{id}",
        "orderId",
        filters={"order_ids": "orderId", "customer_id": "customerId", "status": "status",
                 "created_from": "createdFromUtc", "created_to": "createdToUtc"},
        created_field="createdOnUtc",
    ),
    "baskets": Resource(
        "baskets",
        "/v1/basket",
        "/v1/basket/bycart/{id}",
        "basketId",
        filters={"cart_ids": "cartId", "include_items": "includeItems", "include_attributes": "includeAttributes"},
    ),
    "folders": Resource("folders", "/v1/folders", "/v1/folder/{id}", "folderId",
                        filters={"name": "name", "parent_id": "parentId"}),
}
