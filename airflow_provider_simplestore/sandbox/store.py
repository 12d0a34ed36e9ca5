"""In-memory state: tables in a stable order with cached JSON, versions, unique natural keys."""

from __future__ import annotations

import random
import string
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from airflow_provider_simplestore.client.resources import RESOURCES as LISTABLE
from airflow_provider_simplestore.client.resources import natural_key
from airflow_provider_simplestore.sandbox import views
from airflow_provider_simplestore.sandbox.web import conflict, encode, not_found, page_bytes

Row = dict[str, Any]


class Table:
    """One resource's objects in insertion order, each encoded to JSON once until it changes.

    `view` turns a stored row into what the API shows (for derived fields); its output is cached
    too, so a route that changes what a view depends on must call `touch_all()`.
    """

    def __init__(self, kind: str, id_field: str, view: Callable[[Row], Row] | None = None) -> None:
        self.kind = kind
        self.id_field = id_field
        self.view = view
        self._rows: dict[str, Row] = {}
        self._encoded: dict[str, bytes] = {}
        self._order: list[Row] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def get(self, key: str) -> Row | None:
        return self._rows.get(key)

    def require(self, key: str) -> Row:
        row = self._rows.get(key)
        if row is None:
            raise not_found(self.kind, key)
        return row

    def insert(self, row: Row) -> Row:
        self._rows[row[self.id_field]] = row
        self._order = None
        return row

    def changed(self, key: str) -> None:
        """Drop the cached JSON of a row that was edited in place."""
        self._encoded.pop(key, None)

    def touch_all(self) -> None:
        self._encoded.clear()

    def delete(self, key: str) -> Row:
        row = self.require(key)
        del self._rows[key]
        self._encoded.pop(key, None)
        self._order = None
        return row

    def rows(self) -> list[Row]:
        """All rows in their stable order (insertion order; new rows go last)."""
        if self._order is None:
            self._order = list(self._rows.values())
        return self._order

    def show(self, row: Row) -> Row:
        return self.view(row) if self.view else row

    def encoded(self, row: Row) -> bytes:
        key = row[self.id_field]
        data = self._encoded.get(key)
        if data is None:
            data = self._encoded[key] = encode(self.show(row))
        return data

    def page(self, rows: list[Row], size: int, index: int) -> bytes:
        start = size * index
        return page_bytes((self.encoded(row) for row in rows[start : start + size]), len(rows), size, index)


class UniqueIndex:
    """A natural key (slug, sku, email) in its natural_key() form -> owning id; a second owner is a 409."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._owners: dict[str, str] = {}

    def check(self, value: str | None, owner: str) -> None:
        if value is None or value == "":
            return
        current = self._owners.get(natural_key(value))
        if current is not None and current != owner:
            raise conflict(f"{self.what} {value!r} is already used by {current!r}")

    def claim(self, value: str | None, owner: str) -> None:
        if value:
            self._owners[natural_key(value)] = owner

    def release(self, value: str | None, owner: str) -> None:
        if value and self._owners.get(natural_key(value)) == owner:
            del self._owners[natural_key(value)]

    def find(self, value: str) -> str | None:
        return self._owners.get(natural_key(value))

    def move(self, old: str | None, new: str | None, owner: str) -> None:
        self.check(new, owner)
        self.release(old, owner)
        self.claim(new, owner)


# Every table: the listable resources of the provider's table, and carts (read one by one).
RESOURCES = (*LISTABLE, "carts")


class Store:
    """Every table of one sandbox plus the counters that make ids and versions deterministic."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._version = 0
        self._ids = random.Random(f"runtime-ids-{seed}")
        self.creations: Counter[str] = Counter()
        self.products = Table("product", "productId")
        self.categories = Table("category", "categoryId", lambda row: views.category_view(self, row))
        self.collections = Table("collection", "collectionId", lambda row: views.collection_view(self, row))
        self.specials = Table("special", "specialId")
        self.customers = Table("customer", "customerId")
        self.orders = Table("order", "orderId")
        self.baskets = Table("basket", "basketId")
        self.carts = Table("cart", "cartId")
        self.folders = Table("folder", "folderId")
        self.configuration: Row = {}
        self.short_urls: set[str] = set()
        self.shipping_quoted: set[str] = set()  # carts whose fee came from calculate-shipping
        self._memberships: tuple[Counter[str], Counter[str]] | None = None
        self.product_slugs = UniqueIndex("product slug")
        self.product_skus = UniqueIndex("product sku")
        self.customer_emails = UniqueIndex("customer emailAddress")

    def next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def new_short_url(self) -> str:
        """A fresh 8-character QuickBuy short id, unique in this store."""
        while True:
            candidate = "".join(self._ids.choices(string.ascii_letters + string.digits, k=8))
            if candidate not in self.short_urls:
                self.short_urls.add(candidate)
                return candidate

    def new_order_id(self) -> str:
        return order_id(self._ids)

    def table(self, resource: str) -> Table:
        table = getattr(self, resource)
        assert isinstance(table, Table)
        return table

    def counts(self) -> dict[str, int]:
        return {name: len(self.table(name)) for name in RESOURCES}

    def memberships(self) -> tuple[Counter[str], Counter[str]]:
        """Products per category id and per collection id (cached until products change)."""
        if self._memberships is None:
            categories: Counter[str] = Counter()
            collections: Counter[str] = Counter()
            for product in self.products.rows():
                categories.update(ref["key"] for ref in product["categories"])
                collections.update(ref["key"] for ref in product["collections"])
            self._memberships = (categories, collections)
        return self._memberships

    def memberships_changed(self) -> None:
        self._memberships = None
        self.categories.touch_all()
        self.collections.touch_all()

    def created(self, resource: str, n: int = 1) -> None:
        self.creations[resource] += n


def order_id(rng: random.Random) -> str:
    """`ord_` + 12 lowercase letters and digits, the portal's order id form."""
    return "ord_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))


def check_version(row: Row, *sent: str | None) -> None:
    """A write that names a `version` other than the current one is stale: 409."""
    for version in sent:
        if version is not None and version != row.get("version"):
            raise conflict(f"version {version!r} is stale; the current version is {row.get('version')!r}")
