"""client/fields.py, the typed table of every documented field, against what the sandbox returns.

Both ways, so the table cannot drift: no sandbox record has a field the table does not list or a
value of another type than the table's, and every field the table lists is returned somewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests

from airflow_provider_simplestore.client.fields import FIELDS, Field, leaves, typed_values
from airflow_provider_simplestore.client.resources import RESOURCES
from airflow_provider_simplestore.utils.formats import CSV_COLUMNS
from tests.operator_support import listing


def table_paths(fields: tuple[Field, ...], prefix: str = "") -> Iterator[str]:
    """Every field of the table as a path: `basePrice.sellPrice`, `items[].quantity`."""
    for field in fields:
        path = prefix + field.name
        yield path
        if field.kind in ("object", "list"):
            yield from table_paths(field.fields, path + ("[]." if field.kind == "list" else "."))


def record_paths(record: Mapping[str, Any], fields: tuple[Field, ...], prefix: str = "") -> Iterator[str]:
    """The paths of the table a record has (null or not), walking the table's objects and lists."""
    for field in fields:
        if field.name not in record:
            continue
        value = record[field.name]
        path = prefix + field.name
        yield path
        if field.kind == "object" and isinstance(value, Mapping):
            yield from record_paths(value, field.fields, path + ".")
        if field.kind == "list" and isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    yield from record_paths(item, field.fields, path + "[].")


@pytest.fixture(scope="module")
def records(sandbox: Any) -> dict[str, list[dict[str, Any]]]:
    return {name: listing(sandbox, spec.list_path) for name, spec in RESOURCES.items()}


def test_there_is_a_table_for_every_resource_led_by_its_id() -> None:
    assert set(FIELDS) == set(RESOURCES), "client/fields.py FIELDS needs one entry per resource"
    for name, spec in RESOURCES.items():
        assert [f.name for f in FIELDS[name][:2]] == [spec.id_field, "version"], name


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_the_sandbox_returns_no_unlisted_field_and_no_value_of_another_type(
    resource: str, records: dict[str, list[dict[str, Any]]]
) -> None:
    assert records[resource], f"the sandbox has no {resource}"
    for record in records[resource]:
        _, left_over = typed_values(record, resource)
        assert left_over is None, f"{resource} {record[RESOURCES[resource].id_field]}: not in the table: {left_over}"


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_every_field_of_the_table_is_returned_by_the_sandbox(
    resource: str, records: dict[str, list[dict[str, Any]]], sandbox: Any
) -> None:
    returned = {path for record in records[resource] for path in record_paths(record, FIELDS[resource])}
    if resource == "folders":  # the search leaves attributes out, as documented; one folder has them
        token = requests.post(
            sandbox.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": sandbox.client_id,
                "client_secret": sandbox.client_secret,
            },
            timeout=10,
        ).json()["access_token"]
        folder = requests.get(
            f"{sandbox.url}/v1/folder/{records['folders'][0]['folderId']}",
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert typed_values(folder, "folders")[1] is None
        returned |= set(record_paths(folder, FIELDS["folders"]))
    missing = sorted(set(table_paths(FIELDS[resource])) - returned)
    assert not missing, f"{resource}: fields of the table the sandbox never returns (a typo?): {missing}"


ORDER = {
    "orderId": "ord_1",
    "version": "3",
    "status": "Paid",
    "createdOnUtc": "2026-03-04T05:06:07.890Z",
    "items": [
        {"productId": "p1", "quantity": 2, "sellPrice": 1.5, "total": 3},
        {"productId": "p2", "quantity": "two", "giftWrap": True},
    ],
    "payments": [{"paymentId": "pay1", "paidOnUtc": "yesterday", "attributes": {"card": "visa"}}],
    "total": True,
    "attributes": {},
    "loyaltyTier": "gold",
}


def test_typed_values_split_a_record_into_what_fits_and_what_is_left_over() -> None:
    typed, left_over = typed_values(ORDER, "orders")
    assert list(typed) == [f.name for f in FIELDS["orders"]]  # every field, absent ones None
    assert typed["createdOnUtc"] == dt.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=dt.timezone.utc)
    assert typed["items"] == [
        {"productId": "p1", "title": None, "quantity": 2, "sellPrice": 1.5, "total": 3},
        {"productId": "p2", "title": None, "quantity": None, "sellPrice": None, "total": None},
    ]
    assert typed["payments"][0]["paidOnUtc"] is None and typed["payments"][0]["attributes"] == '{"card":"visa"}'
    assert (typed["total"], typed["attributes"], typed["customerId"]) == (None, "{}", None)
    # What does not fit, in the record's shape: list items by position, None for an item that fits.
    assert left_over == {
        "items": [None, {"quantity": "two", "giftWrap": True}],
        "payments": [{"paidOnUtc": "yesterday"}],
        "total": True,
        "loyaltyTier": "gold",
    }
    assert typed_values({"orderId": "o", "items": "none", "createdOnUtc": "2026-03-04T05:06:07"}, "orders")[1] == {
        "items": "none"
    }  # a timestamp without a zone is UTC, as the field's name says


def test_the_csv_columns_are_documented_fields() -> None:
    for resource, columns in CSV_COLUMNS.items():
        documented = {path for path, _ in leaves(FIELDS[resource])}
        assert not set(columns) - documented, f"CSV_COLUMNS[{resource!r}] names fields the table does not list"
