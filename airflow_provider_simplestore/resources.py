"""Every resource and path of the SimpleStore API: the one description every layer reads.

`RESOURCES` describes each listable resource once (names, paths, id, filters, natural keys,
creation time, importable); the regular calls of `ENDPOINTS` (list, get, create, update, delete)
are derived from it, and only the irregular calls are written out. The hook's methods, the sync
resource list, incremental syncs and the importer's lookups all read these rows.

Catalog and order routes are sandbox choices (the platform documents none), so realigning the
provider with the real platform's Swagger is a change to this file only. Query parameter names
are emitted in camelCase; the platform binds them case-insensitively.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote


def natural_key(value: str) -> str:
    """The form in which two natural keys (slug, sku, email) are the same key: NFKC, then lower case.

    NFKC makes `café` typed precomposed or with a combining accent, and the same word in
    full-width letters, one key. Lower case, not casefold(): casefold maps `ß` to `ss`, so
    `straße@x` and `strasse@x` would be one key, yet they are two mail addresses (and two slugs);
    identifiers are compared in lower case for this reason (PRECIS, RFC 8264). The sandbox keeps
    its keys unique in this form; the real platform does not document its rule."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).lower())


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with `{placeholders}` for ids

    def format(self, **ids: Any) -> str:
        """The path with its ids filled in, each quoted as one path segment.

        Only plain `{name}` placeholders: not str.format, whose `{id.__class__}`, `{id[0]}`,
        `{id!r}` and `{id:>9}` would put other text than the quoted id into the path."""
        parts = []
        for literal, name, spec, conversion in string.Formatter().parse(self.path):  # ValueError: bad braces
            parts.append(literal)
            if name is None:
                continue
            if not _PLACEHOLDER.fullmatch(name) or spec or conversion:
                field = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                raise ValueError(f"{self.path!r} has the placeholder {{{field}}}; only plain {{name}} placeholders "
                                 "are filled in (no attribute, index, conversion or format spec)")
            if name not in ids:
                raise TypeError(f"{self.method} {self.path} needs the id {name!r}".lstrip())
            parts.append(_segment(ids[name]))
        return "".join(parts)


_PLACEHOLDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _segment(value: Any) -> str:
    text = str(value)
    # `..` also spelled with what NFKC folds to dots (full-width U+FF0E, U+2025): a server or proxy
    # that normalises Unicode would resolve it (protocol.check_path refuses such paths too).
    if not text or unicodedata.normalize("NFKC", text) in (".", ".."):
        raise ValueError(f"invalid id {value!r}")
    return quote(text, safe=":@")  # ids such as `catalog:products:33:a` stay readable


# The regular calls: the method, and whether the path is the item's (else the list's).
REGULAR_CALLS: dict[str, tuple[str, bool]] = {
    "list": ("GET", False),
    "get": ("GET", True),
    "create": ("POST", False),
    "update": ("PUT", True),
    "delete": ("DELETE", True),
}
CREATED_FILTERS = ("created_from", "created_to")  # the window filters of a resource with a creation time


@dataclass(frozen=True)
class Resource:
    """A listable resource: its names, where it lives, its id, filters and natural keys."""

    name: str  # plural: `list_<name>`, the sync resource name
    singular: str  # `get_<singular>(<singular>_id)` and the other item calls
    list_path: str
    item_path: str  # with `{id}`
    id_field: str
    filters: Mapping[str, str] = field(default_factory=dict)  # python keyword -> query name
    # unique fields (dotted for nested, compared as natural_key() forms) -> the filter keyword that finds them
    natural_keys: Mapping[str, str] = field(default_factory=dict)
    created_field: str | None = None  # the creation time; incremental syncs iff set (filters CREATED_FILTERS)
    importable: bool = False  # the import operator can upsert it (its fields: operators/importer.py)
    calls: tuple[str, ...] = tuple(REGULAR_CALLS)  # the regular calls it has; irregular ones are in ENDPOINTS

    def __post_init__(self) -> None:
        needed = {*self.natural_keys.values(), *(CREATED_FILTERS if self.created_field else ())}
        missing = sorted(needed - set(self.filters))
        if missing:
            raise ValueError(f"resource {self.name}: its natural keys / creation time need the filters {missing}")
        unknown = sorted(set(self.calls) - set(REGULAR_CALLS))
        if unknown:
            raise ValueError(f"resource {self.name}: unknown regular calls {unknown}")

    @property
    def id_param(self) -> str:
        """The keyword naming an item in its calls and paths (`product_id`)."""
        return f"{self.singular}_id"

    def call_name(self, call: str) -> str:
        """`list_products`, `get_product`, ...: the ENDPOINTS key and the hook method of a regular call."""
        return f"{call}_{self.name if call == 'list' else self.singular}"

    def endpoints(self) -> dict[str, Endpoint]:
        item = self.item_path.replace("{id}", "{" + self.id_param + "}")
        return {
            self.call_name(call): Endpoint(REGULAR_CALLS[call][0], item if REGULAR_CALLS[call][1] else self.list_path)
            for call in self.calls
        }

    def query(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        """Python keyword filters -> query parameters (None values dropped)."""
        unknown = sorted(set(filters) - set(self.filters))
        if unknown:
            raise TypeError(f"{self.name} has no filter(s) {', '.join(unknown)}; known: {', '.join(self.filters)}")
        return {self.filters[name]: value for name, value in filters.items() if value is not None}


_CATALOG_FILTERS = {"slug": "slug", "name": "name", "is_active": "isActive"}
_SLUG = {"slug": "slug"}

# In the order the docs list them (the sync resource list keeps it).
RESOURCES: dict[str, Resource] = {r.name: r for r in (
    Resource("products", "product", "/v1/products", "/v1/products/{id}", "productId",
             filters={"slug": "slug", "sku": "sku", "category_id": "categoryId", "collection_id": "collectionId",
                      "is_active": "isActive"},
             natural_keys={"slug": "slug", "inventory.sku": "sku"}, importable=True),
    Resource("categories", "category", "/v1/categories", "/v1/categories/{id}", "categoryId",
             filters={**_CATALOG_FILTERS, "parent_id": "parentId"}, natural_keys=_SLUG),
    Resource("collections", "collection", "/v1/collections", "/v1/collections/{id}", "collectionId",
             filters=_CATALOG_FILTERS, natural_keys=_SLUG),
    Resource("specials", "special", "/v1/specials", "/v1/specials/{id}", "specialId",  # specials have no slug
             filters={"name": "name", "is_active": "isActive"}),
    Resource("customers", "customer", "/v1/customers", "/v1/customers/{id}", "customerId",
             filters={"customer_ids": "customerId", "email": "emailAddress", "include_phones": "includePhones",
                      "include_addresses": "includeAddresses", "include_attributes": "includeAttributes"},
             natural_keys={"emailAddress": "email"}, importable=True),
    # orders are created by checkout only
    Resource("orders", "order", "/v1/orders", "/v1/orders/{id}", "orderId",
             filters={"order_ids": "orderId", "customer_id": "customerId", "status": "status",
                      "created_from": "createdFromUtc", "created_to": "createdToUtc"},
             created_field="createdOnUtc", calls=("list", "get")),
    # basket: one is read by its cart id (get_basket_by_cart, written out below)
    Resource("baskets", "basket", "/v1/basket", "/v1/basket/bycart/{id}", "basketId",
             filters={"cart_ids": "cartId", "include_items": "includeItems", "include_attributes": "includeAttributes"},
             calls=("list",)),
    # asset folders: plural search, singular item; create and update (by POST) written out below
    Resource("folders", "folder", "/v1/folders", "/v1/folder/{id}", "folderId",
             filters={"name": "name", "parent_id": "parentId"}, calls=("list", "get", "delete")),
)}  # fmt: skip

# The irregular calls, written out; every other entry comes from RESOURCES.
IRREGULAR_ENDPOINTS: dict[str, Endpoint] = {
    # customers (documented)
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
    "get_basket_by_cart": Endpoint("GET", "/v1/basket/bycart/{cart_id}"),
    # asset folders (documented: created at the singular path, updated by POST)
    "create_folder": Endpoint("POST", "/v1/folder/"),
    "update_folder": Endpoint("POST", "/v1/folder/{folder_id}"),
    # store configuration (sandbox choice: one object, no id)
    "get_configuration": Endpoint("GET", "/v1/configuration"),
    "update_configuration": Endpoint("PUT", "/v1/configuration"),
}

ENDPOINTS: dict[str, Endpoint] = {
    **{name: e for resource in RESOURCES.values() for name, e in resource.endpoints().items()},
    **IRREGULAR_ENDPOINTS,
}

# The cheap authenticated read test_connection() makes.
PROBE_ENDPOINT = "list_products"
