"""The documented fields of each listable resource, with their types: the one typed schema.

`FIELDS[resource]` lists every field of the platform's object (docs/simplestore-api: the product,
category, collection, special, customer, order, basket and folder objects), in the docs' order, each
with a kind from `KINDS`. Nested objects list their fields; lists are lists of documented objects
and list the fields of each item; `map` is a free-form object keyed by data (attributes, locale ->
text), which has no fixed fields. Where the docs give no shape, the sandbox's is followed and the
row says so in a comment.

Derived from it: the SQL load's typed columns (utils/sql_statements.py) and the Parquet export's
schema (utils/parquet.py). `typed_values()` is the one check of a record against the table: what
fits, and what does not (an unknown field, a value of another type). tests/client/test_fields.py pins the
table to what the sandbox returns, both ways. Standard library only: the sandbox and DAG parsing
read it (utils/formats.py, whose JSON text it writes, is standard library too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from airflow_provider_simplestore.utils.formats import dumps

KINDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a JSON number (money, quantities and weights have decimal semantics)",
    "boolean": "true or false",
    "timestamp": "ISO-8601 UTC text such as 2020-04-29T10:02:03.212Z (the `...Utc` fields)",
    "object": "a documented object, with the fields listed",
    "list": "a list of documented objects, each with the fields listed",
    "map": "a free-form object keyed by data (attributes, locale -> text); no fixed fields",
}
NESTED = ("object", "list")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # a KINDS key
    fields: tuple[Field, ...] = ()  # an object's fields, or the fields of each item of a list

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: unknown kind {self.kind!r}")
        if bool(self.fields) != (self.kind in NESTED):
            raise ValueError(f"field {self.name}: objects and lists list their fields, other kinds none")

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)


def _fields(*specs: str | Field) -> tuple[Field, ...]:
    """Fields from ``"name kind"`` strings; objects and lists come as Field values."""
    return tuple(spec if isinstance(spec, Field) else Field(*_name_kind(spec)) for spec in specs)


def _name_kind(spec: str) -> tuple[str, str]:
    name, kind = spec.split()
    return name, kind


def _object(name: str, *specs: str | Field) -> Field:
    return Field(name, "object", _fields(*specs))


def _list(name: str, *specs: str | Field) -> Field:
    return Field(name, "list", _fields(*specs))


# Shapes embedded in several resources (docs section 3 and 6.x).
_FILE_REF = (
    "fileId string",
    "contentType string",
    "accessPermission string",
    "accessUrl string",
    "attributes map",
    "edgeUrl string",
)
_ENTITY_REF = ("key string", "value string", "slug string")
_PRICING = ("currencyCode string", "sellPrice number", "retailPrice number", "attributes map")
_REWARDS = ("isEnabled boolean", "points integer", "minPayAmount number", "minPointsAmount number")
_CATEGORY_BRIEF = ("categoryId string", "name string", "slug string", "names map")
_CART_ITEM = (
    "productId string",
    "slug string",
    "title string",
    "description string",
    "quantity integer",
    "paymentMethod string",
    "totalCurrency number",
    "totalPoints number",
    _list("files", *_FILE_REF),
    "attributes map",
)

FIELDS: dict[str, tuple[Field, ...]] = {
    "products": _fields(
        "productId string", "version string", "slug string", "shortUrl string", "title string",
        "description string", "titles map", "descriptions map", "isActive boolean", "status string",
        "attributes map", _list("categories", *_ENTITY_REF), _list("collections", *_ENTITY_REF),
        _list("files", *_FILE_REF), "paymentMethod string", _object("basePrice", *_PRICING),
        _object("price", *_PRICING),  # docs: "shape assumed equal to basePrice" (inferred); the sandbox's
        _object("baseRewards", *_REWARDS),
        _object("rewards", *_REWARDS),  # docs give no shape; the sandbox's: that of baseRewards
        _object("inventory", "sku string", "availableQuantity number", "minActiveQuantity number",
                "grossWeight number", "trackInventory boolean"),
    ),
    "categories": _fields(
        "categoryId string", "version string", "slug string", "name string", "description string", "names map",
        "descriptions map", "parentId string", "parentName string", "itemCount integer", "attributes map",
        _list("children", *_CATEGORY_BRIEF), "totalChildren integer",
        _list("sibling", *_CATEGORY_BRIEF),  # singular, as documented
        "totalSibling integer", "isActive boolean", _list("files", *_FILE_REF),
    ),
    "collections": _fields(
        "collectionId string", "version string", "name string", "slug string", "description string", "names map",
        "descriptions map", "isActive boolean", "totalItems integer", "attributes map",
    ),
    "specials": _fields(
        "specialId string", "version string", "name string", "description string", "isActive boolean",
        "startOnUtc timestamp", "endOnUtc timestamp", "specialType string", "amount number",
        _list("rules", "key string", "entityType string", "entityId string"), "attributes map",
    ),
    "customers": _fields(
        "customerId string", "version string", "firstName string", "lastName string", "displayName string",
        "emailAddress string",
        _list("phones", "key string", "type string", "country string", "numberLocal string",
              "numberInternational string"),
        _list("addresses", "key string", "address1 string", "address2 string", "suburb string", "postcode string",
              "state string", "country string"),
        "attributes map",
    ),
    "orders": _fields(
        "orderId string", "version string", "status string", "createdOnUtc timestamp", "customerId string",
        "purchaserName string", "purchaserContactNumberLocal string", "purchaserEmail string",
        "receiverName string", "receiverContactNumberLocal string", "receiverEmail string",
        _list("items", "productId string", "title string", "quantity integer", "sellPrice number", "total number"),
        "currencyCode string", "shippingFee number", "subtotal number", "total number",
        _list("payments", "paymentId string", "paidOnUtc timestamp", "type string", "status string",
              "paidAmount number", "cancellationReason string", "refundId string", "refundReason string",
              "attributes map"),
        "totalPaid number", "attributes map",
    ),
    # the cart's fields plus basketId, version, customerId, orderId and status; no cartId. The docs type
    # version "int" here and "string" in the sample: a string, as everywhere else (and in the sandbox).
    "baskets": _fields(
        "basketId string", "version string", "customerId string", "orderId string", "status string",
        _list("items", *_CART_ITEM), "currencyCode string", "shippingFee number", "subTotalCurrency number",
        "totalCurrency number", "totalPoints number", "attributes map",
    ),
    # the search leaves attributes out (as documented); GET /v1/folder/{id} has them
    "folders": _fields("folderId string", "version string", "name string", "parentId string", "attributes map"),
}  # fmt: skip

SCHEMAS: dict[str, Field] = {name: Field(name, "object", fields) for name, fields in FIELDS.items()}


def leaves(fields: tuple[Field, ...], prefix: str = "") -> list[tuple[str, Field]]:
    """``(dotted path, field)`` of every field that is not an object: objects are walked into;
    lists and maps are leaves (one value each)."""
    found: list[tuple[str, Field]] = []
    for field in fields:
        path = prefix + field.name
        if field.kind == "object":
            found.extend(leaves(field.fields, path + "."))
        else:
            found.append((path, field))
    return found


# --- a record against the table --------------------------------------------------------------------

_MISSING: Any = object()  # what of a value fits nothing: none
# The JSON types that fit a scalar kind as they are (exact types: a bool is no integer here).
_EXACT: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}


def typed_values(record: Mapping[str, Any], resource: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A record's documented fields as typed values, and what of it does not fit the table.

    Typed: every field of the table (None where absent or of another type); timestamps as UTC
    datetimes, maps as JSON text, objects as dicts of their fields, lists as lists of those.
    Left over (None when nothing is): fields the table does not list and values of another type,
    in the record's own shape (a list's items by position, None for an item that fits whole), so
    that the two together hold the whole record."""
    typed, extra = _fit_object(SCHEMAS[resource], record)
    return typed, None if extra is _MISSING else extra


def _fit_object(field: Field, value: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    typed: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for child in field.fields:
        item = value.get(child.name)
        if item is None or type(item) in _EXACT.get(child.kind, ()):  # the common case, without a call
            typed[child.name] = item
            continue
        typed[child.name], left = _fit(child, item)
        if left is not _MISSING:
            extra[child.name] = left
    if len(value) > len(typed) or not field.names.issuperset(value):
        extra.update((key, item) for key, item in value.items() if key not in field.names)
    return typed, extra or _MISSING


def _fit(field: Field, value: Any) -> tuple[Any, Any]:
    """``(typed value, what is left over)`` of one non-null value; `_MISSING` when nothing is."""
    kind = field.kind
    if kind == "string":
        return (value, _MISSING) if isinstance(value, str) else (None, value)
    if kind == "number" or kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int if kind == "integer" else (int, float)):
            return None, value
        return value, _MISSING
    if kind == "boolean":
        return (value, _MISSING) if isinstance(value, bool) else (None, value)
    if kind == "timestamp":
        moment = _moment(value)
        return (moment, _MISSING) if moment is not None else (None, value)
    if kind == "map":
        return (dumps(value), _MISSING) if isinstance(value, Mapping) else (None, value)
    if kind == "object":
        return _fit_object(field, value) if isinstance(value, Mapping) else (None, value)
    # a list of objects
    if not isinstance(value, list):
        return None, value
    items, lefts, any_left = [], [], False
    for item in value:
        typed, left = _fit_object(field, item) if isinstance(item, Mapping) else (None, item)
        items.append(typed)
        lefts.append(None if left is _MISSING else left)
        any_left = any_left or left is not _MISSING
    return items, (lefts if any_left else _MISSING)


def _moment(value: Any) -> dt.datetime | None:
    """An ISO-8601 text as a UTC datetime (no zone: UTC, as the `...Utc` names say); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    try:
        return moment.astimezone(dt.timezone.utc)
    except OverflowError:
        return None
