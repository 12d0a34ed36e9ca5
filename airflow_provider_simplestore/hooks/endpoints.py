"""A typed method for every SimpleStore endpoint, written once for both hooks.

Each method only names its endpoint (from `resources.ENDPOINTS`) and hands over to the hook's
`request` or `paginate`. The item calls of a resource (get, create, update, delete) are one line
each over one generic method, `regular_call`, naming the call and the `resources.RESOURCES` row;
its lists are typed methods over `list_resource`, one keyword per filter; the irregular calls
(cart, basket, addresses, phones, folder writes, configuration) name their `ENDPOINTS` entry.
All are written out: `tests/test_resources.py` checks them against the table (names, parameters,
and the request each one sends).

On `SimpleStoreHook` those return values and iterators; on `SimpleStoreAsyncHook` they return
awaitables and async iterators, so the same methods are coroutines (`await hook.get_order(...)`)
and async iterators (`async for o in hook.list_orders()`). Bodies and results are plain JSON
values (dicts), as the platform documents them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Generic, NoReturn, TypeVar

from airflow_provider_simplestore.client.pacing import Workers
from airflow_provider_simplestore.client.resources import ENDPOINTS, RESOURCES

CallT = TypeVar("CallT")  # what request() returns: Any, or Awaitable[Any]
ListT = TypeVar("ListT")  # what paginate() returns: Iterator[dict], or AsyncIterator[dict]

Body = Mapping[str, Any]
Params = Mapping[str, Any] | None


class EndpointMethods(Generic[CallT, ListT]):
    """Mixin: the hook provides `request` and `paginate`; this provides the endpoint methods."""

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None) -> CallT:
        raise NotImplementedError

    def paginate(self, path: str, params: Any = None, page_size: int | None = None, max_workers: Workers = 1) -> ListT:
        raise NotImplementedError

    def empty(self) -> ListT:
        """An exhausted iterator of the hook's kind."""
        raise NotImplementedError

    def call(self, endpoint: str, *, params: Params = None, json: Any = None, **ids: Any) -> CallT:
        """Call a named endpoint of `resources.ENDPOINTS`, filling its path ids from `ids`."""
        spec = ENDPOINTS[endpoint]
        return self.request(spec.method, spec.format(**ids), params=params, json=json)

    def list_resource(
        self,
        resource: str,
        *,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **filters: Any,
    ) -> ListT:
        """Items of a `resources.RESOURCES` list, with its python-named filters (None = unset).

        Filter names and values are checked (`Resource.query`) before any request: an unknown name or
        a value of the wrong kind raises `SimpleStoreFilterError`, naming it and the valid names."""
        spec = RESOURCES[resource]
        query = spec.query(filters, where=f"{type(self).__name__}.list_{resource}")
        if any(value == [] for value in query.values()):
            return self.empty()  # an empty id list selects nothing (no filter would select all)
        return self.paginate(spec.list_path, {**(params or {}), **query}, page_size=page_size, max_workers=max_workers)

    def regular_call(self, call: str, resource: str, item_id: str | None = None, body: Body | None = None) -> CallT:
        """`get`, `create`, `update` or `delete` one item of a `resources.RESOURCES` row."""
        spec = RESOURCES[resource]
        items = [name for name in spec.calls if name != "list"]  # a list goes through list_resource
        if call not in items:
            raise TypeError(f"{resource} has no item call {call!r}; it has: {', '.join(items) or 'none'}")
        ids: dict[str, Any] = {} if item_id is None else {spec.id_param: item_id}
        return self.call(spec.call_name(call), json=body, **ids)

    # ---- item calls: one method per call of a resources.RESOURCES row, over regular_call -----------
    # get -> the item; create -> {<id field>, version}; update (the fields present in `body`, which may
    # carry `version`) -> {<id field>, version}; delete -> None. tests/test_resources.py checks that the
    # names, parameters and requests match the rows.

    def get_product(self, product_id: str) -> CallT:
        return self.regular_call("get", "products", product_id)

    def create_product(self, body: Body) -> CallT:
        return self.regular_call("create", "products", body=body)

    def update_product(self, product_id: str, body: Body) -> CallT:
        return self.regular_call("update", "products", product_id, body)

    def delete_product(self, product_id: str) -> CallT:
        return self.regular_call("delete", "products", product_id)

    def get_category(self, category_id: str) -> CallT:
        return self.regular_call("get", "categories", category_id)

    def create_category(self, body: Body) -> CallT:
        return self.regular_call("create", "categories", body=body)

    def update_category(self, category_id: str, body: Body) -> CallT:
        return self.regular_call("update", "categories", category_id, body)

    def delete_category(self, category_id: str) -> CallT:
        return self.regular_call("delete", "categories", category_id)

    def get_collection(self, collection_id: str) -> CallT:
        return self.regular_call("get", "collections", collection_id)

    def create_collection(self, body: Body) -> CallT:
        return self.regular_call("create", "collections", body=body)

    def update_collection(self, collection_id: str, body: Body) -> CallT:
        return self.regular_call("update", "collections", collection_id, body)

    def delete_collection(self, collection_id: str) -> CallT:
        return self.regular_call("delete", "collections", collection_id)

    def get_special(self, special_id: str) -> CallT:
        return self.regular_call("get", "specials", special_id)

    def create_special(self, body: Body) -> CallT:
        return self.regular_call("create", "specials", body=body)

    def update_special(self, special_id: str, body: Body) -> CallT:
        return self.regular_call("update", "specials", special_id, body)

    def delete_special(self, special_id: str) -> CallT:
        return self.regular_call("delete", "specials", special_id)

    def get_customer(self, customer_id: str) -> CallT:
        return self.regular_call("get", "customers", customer_id)

    def create_customer(self, body: Body) -> CallT:
        return self.regular_call("create", "customers", body=body)

    def update_customer(self, customer_id: str, body: Body) -> CallT:
        return self.regular_call("update", "customers", customer_id, body)  # answers 201, as documented

    def delete_customer(self, customer_id: str) -> CallT:
        return self.regular_call("delete", "customers", customer_id)

    def get_order(self, order_id: str) -> CallT:
        return self.regular_call("get", "orders", order_id)

    def get_folder(self, folder_id: str) -> CallT:
        return self.regular_call("get", "folders", folder_id)

    def delete_folder(self, folder_id: str) -> CallT:
        return self.regular_call("delete", "folders", folder_id)

    # ---- lists: each resource's filters as typed keywords (resources.RESOURCES[...].filters) -----
    # Any other keyword is a misspelt filter: list_resource names it and the valid ones
    # (`SimpleStoreFilterError`); typed NoReturn, so that a type checker flags it as well.

    def list_products(
        self,
        *,
        slug: str | None = None,
        sku: str | None = None,
        category_id: str | None = None,
        collection_id: str | None = None,
        is_active: bool | None = None,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **misspelt: NoReturn,
    ) -> ListT:
        return self.list_resource(
            "products",
            slug=slug,
            sku=sku,
            category_id=category_id,
            collection_id=collection_id,
            is_active=is_active,
            params=params,
            page_size=page_size,
            max_workers=max_workers,
            **misspelt,
        )

    def list_categories(
        self,
        *,
        slug: str | None = None,
        name: str | None = None,
        is_active: bool | None = None,
        parent_id: str | None = None,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **misspelt: NoReturn,
    ) -> ListT:
        return self.list_resource(
            "categories",
            slug=slug,
            name=name,
            is_active=is_active,
            parent_id=parent_id,
            params=params,
            page_size=page_size,
            max_workers=max_workers,
            **misspelt,
        )

    def list_collections(
        self,
        *,
        slug: str | None = None,
        name: str | None = None,
        is_active: bool | None = None,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **misspelt: NoReturn,
    ) -> ListT:
        return self.list_resource(
            "collections",
            slug=slug,
            name=name,
            is_active=is_active,
            params=params,
            page_size=page_size,
            max_workers=max_workers,
            **misspelt,
        )

    def list_specials(
        self,
        *,
        name: str | None = None,
        is_active: bool | None = None,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **misspelt: NoReturn,
    ) -> ListT:
        return self.list_resource(
            "specials",
            name=name,
            is_active=is_active,
            params=params,
            page_size=page_size,
            max_workers=max_workers,
            **misspelt,
        )

    def list_customers(
        self,
        *,
        customer_ids: Iterable[str] | None = None,
        email: str | None = None,
        include_phones: bool | None = None,
        include_addresses: bool | None = None,
        include_attributes: bool | None = None,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **misspelt: NoReturn,
    ) -> ListT:
        return self.list_resource(
            "customers",
            customer_ids=_listed(customer_ids),
            email=email,
            include_phones=include_phones,
            include_addresses=include_addresses,
            include_attributes=include_attributes,
            params=params,
            page_size=page_size,
            max_workers=max_workers,
            **misspelt,
        )

    def list_orders(
        self,
        *,
        order_ids: Iterable[str] | None = None,
        customer_id: str | None = None,
        status: str | None = None,
        created_from: datetime | str | None = None,
        created_to: datetime | str | None = None,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **misspelt: NoReturn,
    ) -> ListT:
        """Orders; `created_from` is inclusive and `created_to` exclusive (UTC)."""
        return self.list_resource(
            "orders",
            order_ids=_listed(order_ids),
            customer_id=customer_id,
            status=status,
            created_from=created_from,
            created_to=created_to,
            params=params,
            page_size=page_size,
            max_workers=max_workers,
            **misspelt,
        )

    def list_baskets(
        self,
        *,
        cart_ids: Iterable[str] | None = None,
        include_items: bool | None = None,
        include_attributes: bool | None = None,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **misspelt: NoReturn,
    ) -> ListT:
        return self.list_resource(
            "baskets",
            cart_ids=_listed(cart_ids),
            include_items=include_items,
            include_attributes=include_attributes,
            params=params,
            page_size=page_size,
            max_workers=max_workers,
            **misspelt,
        )

    def list_folders(
        self,
        *,
        name: str | None = None,
        parent_id: str | None = None,
        params: Params = None,
        page_size: int | None = None,
        max_workers: Workers = 1,
        **misspelt: NoReturn,
    ) -> ListT:
        return self.list_resource(
            "folders",
            name=name,
            parent_id=parent_id,
            params=params,
            page_size=page_size,
            max_workers=max_workers,
            **misspelt,
        )

    # ---- irregular calls, written out ------------------------------------------------------------

    def add_customer_address(self, customer_id: str, address: Body) -> CallT:
        """-> {customerId, version, totalAddressesAttached}"""
        return self.call("add_customer_address", customer_id=customer_id, json=address)

    def delete_customer_addresses(self, customer_id: str, keys: Iterable[str], *, version: str | None = None) -> CallT:
        return self.call(
            "delete_customer_addresses", customer_id=customer_id, params={"version": version}, json={"keys": list(keys)}
        )

    def add_customer_phone(self, customer_id: str, phone: Body) -> CallT:
        """-> {customerId, version, totalPhonesAttached}"""
        return self.call("add_customer_phone", customer_id=customer_id, json=phone)

    def delete_customer_phones(self, customer_id: str, keys: Iterable[str], *, version: str | None = None) -> CallT:
        return self.call(
            "delete_customer_phones", customer_id=customer_id, params={"version": version}, json={"keys": list(keys)}
        )

    def create_cart(self, body: Body | None = None) -> CallT:
        """A new cart with a generated id (`{currencyCode, items, attributes}` may seed it) -> Cart."""
        return self.call("create_cart", json=dict(body or {}))

    def get_cart(self, cart_id: str) -> CallT:
        return self.call("get_cart", cart_id=cart_id)

    def delete_cart(self, cart_id: str) -> CallT:
        return self.call("delete_cart", cart_id=cart_id)

    def set_cart_items(self, cart_id: str, body: Body) -> CallT:
        """Add or update items: `{currencyCode, items: [{productId, quantity}], attributes}` -> Cart."""
        return self.call("set_cart_items", cart_id=cart_id, json=body)

    def remove_cart_items(self, cart_id: str, product_ids: Iterable[str]) -> CallT:
        return self.call("remove_cart_items", cart_id=cart_id, json={"items": list(product_ids)})

    def calculate_shipping(self, cart_id: str, *, country: str, state: str | None = None) -> CallT:
        return self.call("calculate_shipping", cart_id=cart_id, json={"country": country, "state": state})

    def checkout_cart(self, cart_id: str, body: Body) -> CallT:
        """-> {orderId, customerId}. Not retried on 5xx/timeouts: a checkout is not repeatable."""
        return self.call("checkout_cart", cart_id=cart_id, json=body)

    def get_basket_by_cart(self, cart_id: str) -> CallT:
        return self.call("get_basket_by_cart", cart_id=cart_id)

    def create_folder(self, body: Body) -> CallT:
        """`{name, parentId, attributes}` -> {folderId, version}"""
        return self.call("create_folder", json=body)

    def update_folder(self, folder_id: str, body: Body) -> CallT:
        """Sent as POST, as documented: not retried on 5xx/timeouts."""
        return self.call("update_folder", folder_id=folder_id, json=body)

    def get_configuration(self) -> CallT:
        return self.call("get_configuration")

    def update_configuration(self, body: Body) -> CallT:
        return self.call("update_configuration", json=body)


def _listed(values: Iterable[str] | str | None) -> list[str] | None:
    if values is None:
        return None
    return [values] if isinstance(values, str) else list(values)
