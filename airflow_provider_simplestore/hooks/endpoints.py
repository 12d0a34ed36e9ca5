"""A typed method for every SimpleStore endpoint, written once for both hooks.

Each method only names its endpoint (from `resources.ENDPOINTS`) and hands over to the hook's
`request` or `paginate`. The item calls of a resource (get, create, update, delete) are generated
from `resources.RESOURCES` over one generic method, `regular_call`, one typed line each; its lists
are typed methods over `list_resource`, one keyword per filter; the irregular calls (cart,
basket, addresses, phones, folder writes, configuration) are written out.

On `SimpleStoreHook` those return values and iterators; on `SimpleStoreAsyncHook` they return
awaitables and async iterators, so the same methods are coroutines (`await hook.get_order(...)`)
and async iterators (`async for o in hook.list_orders()`). Bodies and results are plain JSON
values (dicts), as the platform documents them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Generic, NoReturn, ParamSpec, TypeVar, overload

from airflow_provider_simplestore.client.pacing import Workers
from airflow_provider_simplestore.client.resources import ENDPOINTS, RESOURCES

CallT = TypeVar("CallT")  # what request() returns: Any, or Awaitable[Any]
ListT = TypeVar("ListT")  # what paginate() returns: Iterator[dict], or AsyncIterator[dict]
C = TypeVar("C")  # CallT of the hook a generated method is bound to
P = ParamSpec("P")  # the arguments of a generated method

Body = Mapping[str, Any]
Params = Mapping[str, Any] | None


class Regular(Generic[P]):
    """An item call of a `resources.RESOURCES` row as a hook method, bound to `regular_call`.

    The call is the attribute's prefix (`get_product = by_id("products")` gets a product) and is
    checked against the table when the class is made. Typed by the factory below (`P`, the
    arguments) and the hook (`CallT`, a value or an awaitable); at runtime its signature names the
    id as the table does (`get_product(product_id)`), so keyword calls and `help()` work as for a
    written-out method.
    """

    def __init__(self, resource: str) -> None:
        self.spec = RESOURCES[resource]
        self.call = ""
        self.signature = self.__signature__ = inspect.Signature()

    def __set_name__(self, owner: type, name: str) -> None:
        call = name.partition("_")[0]
        if call == "list" or call not in self.spec.calls or self.spec.call_name(call) != name:
            raise TypeError(f"{owner.__name__}.{name}: not an item call of RESOURCES[{self.spec.name!r}]")
        self.call = call
        names = ([] if call == "create" else [self.spec.id_param]) + (["body"] if call in ("create", "update") else [])
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        self.signature = inspect.Signature(
            [inspect.Parameter(n, kind, annotation="Body" if n == "body" else "str") for n in names],
            return_annotation="CallT",
        )
        # Read on the class, it is the unbound method: `SimpleStoreHook.get_product(hook, product_id)`.
        self.__name__ = self.__qualname__ = name
        self.__doc__ = _DOCS[call].format(singular=self.spec.singular, id_field=self.spec.id_field)
        self.__signature__ = self.signature.replace(parameters=[inspect.Parameter("self", kind),
                                                                *self.signature.parameters.values()])

    def __call__(self, hook: EndpointMethods[Any, Any], /, *args: P.args, **kwargs: P.kwargs) -> Any:
        return self.__get__(hook)(*args, **kwargs)

    @overload
    def __get__(self, hook: None, owner: type | None = None) -> Regular[P]: ...
    @overload
    def __get__(self, hook: EndpointMethods[C, Any], owner: type | None = None) -> Callable[P, C]: ...
    def __get__(self, hook: Any, owner: Any = None) -> Any:
        if hook is None:
            return self

        def method(*args: Any, **kwargs: Any) -> Any:
            values = self.signature.bind(*args, **kwargs).arguments
            return hook.regular_call(self.call, self.spec.name, values.get(self.spec.id_param), values.get("body"))

        method.__name__ = method.__qualname__ = self.spec.call_name(self.call)
        method.__doc__ = self.__doc__
        method.__signature__ = self.signature  # type: ignore[attr-defined]
        return method


_DOCS = {
    "get": "The {singular} with this id.",
    "create": "Create a {singular} from `body` -> {{{id_field}, version}}.",
    "update": "Update the fields present in `body` (may carry `version`) -> {{{id_field}, version}}.",
    "delete": "Delete the {singular} with this id.",
}


def by_id(resource: str) -> Regular[[str]]:
    """`get_<singular>(<singular>_id)`, `delete_<singular>(<singular>_id)`."""
    return Regular(resource)


def with_body(resource: str) -> Regular[[Body]]:
    """`create_<singular>(body)`."""
    return Regular(resource)


def by_id_with_body(resource: str) -> Regular[[str, Body]]:
    """`update_<singular>(<singular>_id, body)`."""
    return Regular(resource)


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
        return self.paginate(spec.list_path, {**(params or {}), **query}, page_size=page_size,
                             max_workers=max_workers)

    def regular_call(self, call: str, resource: str, item_id: str | None = None, body: Body | None = None) -> CallT:
        """`get`, `create`, `update` or `delete` one item of a `resources.RESOURCES` row."""
        spec = RESOURCES[resource]
        items = [name for name in spec.calls if name != "list"]  # a list goes through list_resource
        if call not in items:
            raise TypeError(f"{resource} has no item call {call!r}; it has: {', '.join(items) or 'none'}")
        ids: dict[str, Any] = {} if item_id is None else {spec.id_param: item_id}
        return self.call(spec.call_name(call), json=body, **ids)

    # ---- item calls, generated from resources.RESOURCES (see Regular) --------------------------------

    get_product = by_id("products")
    get_category = by_id("categories")
    get_collection = by_id("collections")
    get_special = by_id("specials")
    get_customer = by_id("customers")
    get_order = by_id("orders")
    get_folder = by_id("folders")
    create_product = with_body("products")
    create_category = with_body("categories")
    create_collection = with_body("collections")
    create_special = with_body("specials")
    create_customer = with_body("customers")
    update_product = by_id_with_body("products")
    update_category = by_id_with_body("categories")
    update_collection = by_id_with_body("collections")
    update_special = by_id_with_body("specials")
    update_customer = by_id_with_body("customers")  # answers 201, as documented
    delete_product = by_id("products")
    delete_category = by_id("categories")
    delete_collection = by_id("collections")
    delete_special = by_id("specials")
    delete_customer = by_id("customers")
    delete_folder = by_id("folders")

    # ---- lists: each resource's filters as typed keywords (resources.RESOURCES[...].filters) -----
    # Any other keyword is a misspelt filter: list_resource names it and the valid ones
    # (`SimpleStoreFilterError`); typed NoReturn, so that a type checker flags it as well.

    def list_products(self, *, slug: str | None = None, sku: str | None = None, category_id: str | None = None,
                      collection_id: str | None = None, is_active: bool | None = None, params: Params = None,
                      page_size: int | None = None, max_workers: Workers = 1, **misspelt: NoReturn) -> ListT:
        return self.list_resource("products", slug=slug, sku=sku, category_id=category_id,
                                  collection_id=collection_id, is_active=is_active, params=params,
                                  page_size=page_size, max_workers=max_workers, **misspelt)

    def list_categories(self, *, slug: str | None = None, name: str | None = None, is_active: bool | None = None,
                        parent_id: str | None = None, params: Params = None, page_size: int | None = None,
                        max_workers: Workers = 1, **misspelt: NoReturn) -> ListT:
        return self.list_resource("categories", slug=slug, name=name, is_active=is_active, parent_id=parent_id,
                                  params=params, page_size=page_size, max_workers=max_workers, **misspelt)

    def list_collections(self, *, slug: str | None = None, name: str | None = None, is_active: bool | None = None,
                         params: Params = None, page_size: int | None = None, max_workers: Workers = 1,
                         **misspelt: NoReturn) -> ListT:
        return self.list_resource("collections", slug=slug, name=name, is_active=is_active, params=params,
                                  page_size=page_size, max_workers=max_workers, **misspelt)

    def list_specials(self, *, name: str | None = None, is_active: bool | None = None, params: Params = None,
                      page_size: int | None = None, max_workers: Workers = 1, **misspelt: NoReturn) -> ListT:
        return self.list_resource("specials", name=name, is_active=is_active, params=params, page_size=page_size,
                                  max_workers=max_workers, **misspelt)

    def list_customers(self, *, customer_ids: Iterable[str] | None = None, email: str | None = None,
                       include_phones: bool | None = None, include_addresses: bool | None = None,
                       include_attributes: bool | None = None, params: Params = None,
                       page_size: int | None = None, max_workers: Workers = 1, **misspelt: NoReturn) -> ListT:
        return self.list_resource("customers", customer_ids=_listed(customer_ids), email=email,
                                  include_phones=include_phones, include_addresses=include_addresses,
                                  include_attributes=include_attributes, params=params, page_size=page_size,
                                  max_workers=max_workers, **misspelt)

    def list_orders(self, *, order_ids: Iterable[str] | None = None, customer_id: str | None = None,
                    status: str | None = None, created_from: datetime | str | None = None,
                    created_to: datetime | str | None = None, params: Params = None, page_size: int | None = None,
                    max_workers: Workers = 1, **misspelt: NoReturn) -> ListT:
        """Orders; `created_from` is inclusive and `created_to` exclusive (UTC)."""
        return self.list_resource("orders", order_ids=_listed(order_ids), customer_id=customer_id, status=status,
                                  created_from=created_from, created_to=created_to, params=params,
                                  page_size=page_size, max_workers=max_workers, **misspelt)

    def list_baskets(self, *, cart_ids: Iterable[str] | None = None, include_items: bool | None = None,
                     include_attributes: bool | None = None, params: Params = None, page_size: int | None = None,
                     max_workers: Workers = 1, **misspelt: NoReturn) -> ListT:
        return self.list_resource("baskets", cart_ids=_listed(cart_ids), include_items=include_items,
                                  include_attributes=include_attributes, params=params, page_size=page_size,
                                  max_workers=max_workers, **misspelt)

    def list_folders(self, *, name: str | None = None, parent_id: str | None = None, params: Params = None,
                     page_size: int | None = None, max_workers: Workers = 1, **misspelt: NoReturn) -> ListT:
        return self.list_resource("folders", name=name, parent_id=parent_id, params=params, page_size=page_size,
                                  max_workers=max_workers, **misspelt)

    # ---- irregular calls, written out ------------------------------------------------------------

    def add_customer_address(self, customer_id: str, address: Body) -> CallT:
        """-> {customerId, version, totalAddressesAttached}"""
        return self.call("add_customer_address", customer_id=customer_id, json=address)

    def delete_customer_addresses(self, customer_id: str, keys: Iterable[str], *, version: str | None = None) -> CallT:
        return self.call("delete_customer_addresses", customer_id=customer_id, params={"version": version},
                         json={"keys": list(keys)})

    def add_customer_phone(self, customer_id: str, phone: Body) -> CallT:
        """-> {customerId, version, totalPhonesAttached}"""
        return self.call("add_customer_phone", customer_id=customer_id, json=phone)

    def delete_customer_phones(self, customer_id: str, keys: Iterable[str], *, version: str | None = None) -> CallT:
        return self.call("delete_customer_phones", customer_id=customer_id, params={"version": version},
                         json={"keys": list(keys)})

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
