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

import datetime as dt
import difflib
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
                raise ValueError(
                    f"{self.path!r} has the placeholder {{{field}}}; only plain {{name}} placeholders "
                    "are filled in (no attribute, index, conversion or format spec)"
                )
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

# What a filter's value may be (a row's `filter_kinds`, as said in errors). The platform documents types
# (ids, booleans, dates), no enum a filter's value could be checked against.
FILTER_KINDS = {
    "text": "a text",
    "flag": "true or false",
    "ids": "an id or a list of ids",
    "moment": "an ISO-8601 date-time with a time zone (e.g. 2026-03-04T00:00:00Z), or a datetime",
}


@dataclass(frozen=True)
class Resource:
    """A listable resource: its names, where it lives, its id, filters and natural keys."""

    name: str  # plural: `list_<name>`, the sync resource name
    singular: str  # `get_<singular>(<singular>_id)` and the other item calls
    list_path: str
    item_path: str  # with `{id}`
    id_field: str
    filters: Mapping[str, str] = field(default_factory=dict)  # python keyword -> query name
    filter_kinds: Mapping[str, str] = field(default_factory=dict)  # python keyword -> FILTER_KINDS key (else text)
    # unique fields (dotted for nested, compared as natural_key() forms) -> the filter keyword that finds them
    natural_keys: Mapping[str, str] = field(default_factory=dict)
    created_field: str | None = None  # the creation time; incremental syncs iff set (filters CREATED_FILTERS)
    importable: bool = False  # the import operator can upsert it (its fields: utils/import_rows.py)
    calls: tuple[str, ...] = tuple(REGULAR_CALLS)  # the regular calls it has; irregular ones are in ENDPOINTS

    def __post_init__(self) -> None:
        needed = {*self.natural_keys.values(), *(CREATED_FILTERS if self.created_field else ())}
        missing = sorted(needed - set(self.filters))
        if missing:
            raise ValueError(f"resource {self.name}: its natural keys / creation time need the filters {missing}")
        unknown = sorted(set(self.calls) - set(REGULAR_CALLS))
        if unknown:
            raise ValueError(f"resource {self.name}: unknown regular calls {unknown}")
        kinds = {name: self.kind(name) for name in self.filter_kinds}
        if set(kinds) - set(self.filters) or set(kinds.values()) - set(FILTER_KINDS):
            raise ValueError(f"resource {self.name}: filter_kinds {kinds} name filters or kinds it does not have")

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

    def kind(self, name: str) -> str:
        """The kind of value a filter takes (a `FILTER_KINDS` key): as declared, else the window filters
        take moments and the others text."""
        return self.filter_kinds.get(name) or ("moment" if name in CREATED_FILTERS else "text")

    def query(
        self,
        filters: Mapping[str, Any],
        *,
        where: str = "",
        set_by: Mapping[str, str] | None = None,
        api_names: bool = False,
        templated: bool = False,
    ) -> dict[str, Any]:
        """Python-named filters -> query parameters, each value checked for its kind; None and "" dropped.

        The one check of filter names and values: every operator, transfer, sensor, trigger and list
        method of the hook calls it, before any request or write. A name the resource does not have,
        or a value of the wrong kind, raises `SimpleStoreFilterError` (a config error: the task fails
        without retries) naming `where` (the task or method), the name, the resource, its filters and
        the closest one ("did you mean 'status'?"). `set_by`: names the caller sets itself, each with
        the argument to use instead. `api_names`: the query names themselves are accepted too (any
        case), as the generic operator's `query` spells them. `templated`: values still holding a
        Jinja template are not checked (at DAG parse; they are checked again once rendered).
        """
        params: dict[str, Any] = {}
        for key, value in filters.items():
            name = self._filter_name(key, api_names)
            if name is None or name in (set_by or {}):
                raise _filter_error(where, self._unknown(key, name, set_by or {}, api_names))
            if value is None or value == "" or (templated and is_template(value)):
                continue
            checked = _checked_value(self.kind(name), value)
            if checked is None:
                shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
                raise _filter_error(
                    where, f"the filter {name!r} of {self.name} must be {FILTER_KINDS[self.kind(name)]}, got {shown}"
                )
            params[self.filters[name]] = checked
        return params

    def _filter_name(self, key: Any, api_names: bool) -> str | None:
        if not isinstance(key, str):
            return None
        if key in self.filters:
            return key
        if api_names:
            return next((name for name, query in self.filters.items() if query.lower() == key.lower()), None)
        return None

    def _unknown(self, key: Any, name: str | None, set_by: Mapping[str, str], api_names: bool) -> str:
        if name is not None:  # a filter, but the caller's own
            return f"the filter {name!r} of {self.name} is set by {set_by[name]}: use that instead"
        known = [n for n in self.filters if n not in set_by]
        listed = ", ".join(f"{n} ({self.filters[n]})" if api_names else n for n in known) or "none"
        guess = self._closest(str(key))
        hint = f"; did you mean {self.filters[guess] if api_names else guess!r}?" if guess else "."
        if guess in set_by:
            hint += f" That one is set by {set_by[guess]}."
        return f"unknown filter {key!r} for {self.name}{hint} The filters of {self.name} are: {listed}."

    def _closest(self, key: str) -> str:
        """The filter a misspelt name most likely meant ("" for none): by its python name or its query
        name, in any case."""
        spellings: dict[str, str] = {}
        for name, query in self.filters.items():
            for spelling in (name, name.replace("_", ""), query):
                spellings.setdefault(spelling.lower(), name)
        for candidate in (key.lower(), key.lower().replace("_", "")):
            close = difflib.get_close_matches(candidate, list(spellings), n=1, cutoff=0.75)
            if close:
                return spellings[close[0]]
        return ""


def is_template(value: Any) -> bool:
    """Whether a value is a Jinja template Airflow has not rendered yet."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _checked_value(kind: str, value: Any) -> Any:
    """The value as sent, or None when it is not of its filter's kind."""
    if kind == "flag":
        if isinstance(value, bool):
            return value
        from airflow_provider_simplestore.utils.booleans import boolean_word

        return boolean_word(value) if isinstance(value, str) else None
    if kind == "moment":
        if isinstance(value, dt.datetime):
            return value  # a naive one is UTC (protocol.format_value)
        if not isinstance(value, str):
            return None
        from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
        from airflow_provider_simplestore.utils.timestamps import parse_moment

        try:
            return parse_moment(value, "filter")
        except SimpleStoreConfigError:
            return None
    if kind == "ids":
        values = [value] if isinstance(value, str | int) else value
        if not isinstance(values, list | tuple | set | frozenset):
            return None
        ids = [_text(v) for v in values]
        return None if any(v is None or v == "" for v in ids) else ids
    return _text(value)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _filter_error(where: str, problem: str) -> Exception:
    # Imported here: this module stays free of Airflow (the sandbox reads the rows too).
    from airflow_provider_simplestore.exceptions import SimpleStoreFilterError

    return SimpleStoreFilterError(f"{where}: {problem}" if where else problem)


_CATALOG_FILTERS = {"slug": "slug", "name": "name", "is_active": "isActive"}
_SLUG = {"slug": "slug"}
_ACTIVE = {"is_active": "flag"}

# In the order the docs list them (the sync resource list keeps it).
RESOURCES: dict[str, Resource] = {r.name: r for r in (
    Resource("products", "product", "/v1/products", "/v1/products/{id}", "productId",
             filters={"slug": "slug", "sku": "sku", "category_id": "categoryId", "collection_id": "collectionId",
                      "is_active": "isActive"}, filter_kinds=_ACTIVE,
             natural_keys={"slug": "slug", "inventory.sku": "sku"}, importable=True),
    Resource("categories", "category", "/v1/categories", "/v1/categories/{id}", "categoryId",
             filters={**_CATALOG_FILTERS, "parent_id": "parentId"}, filter_kinds=_ACTIVE, natural_keys=_SLUG),
    Resource("collections", "collection", "/v1/collections", "/v1/collections/{id}", "collectionId",
             filters=_CATALOG_FILTERS, filter_kinds=_ACTIVE, natural_keys=_SLUG),
    Resource("specials", "special", "/v1/specials", "/v1/specials/{id}", "specialId",  # specials have no slug
             filters={"name": "name", "is_active": "isActive"}, filter_kinds=_ACTIVE),
    Resource("customers", "customer", "/v1/customers", "/v1/customers/{id}", "customerId",
             filters={"customer_ids": "customerId", "email": "emailAddress", "include_phones": "includePhones",
                      "include_addresses": "includeAddresses", "include_attributes": "includeAttributes"},
             filter_kinds={"customer_ids": "ids", "include_phones": "flag", "include_addresses": "flag",
                           "include_attributes": "flag"},
             natural_keys={"emailAddress": "email"}, importable=True),
    # orders are created by checkout only
    Resource("orders", "order", "/v1/orders", "/v1/orders/{id}", "orderId",
             filters={"order_ids": "orderId", "customer_id": "customerId", "status": "status",
                      "created_from": "createdFromUtc", "created_to": "createdToUtc"},
             filter_kinds={"order_ids": "ids"},
             created_field="createdOnUtc", calls=("list", "get")),
    # basket: one is read by its cart id (get_basket_by_cart, written out below)
    Resource("baskets", "basket", "/v1/basket", "/v1/basket/bycart/{id}", "basketId",
             filters={"cart_ids": "cartId", "include_items": "includeItems", "include_attributes": "includeAttributes"},
             filter_kinds={"cart_ids": "ids", "include_items": "flag", "include_attributes": "flag"}, calls=("list",)),
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
