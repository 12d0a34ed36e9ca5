"""The importer ignores case only where the platform does (natural keys): a text field changed
only in case is a change, and it is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.operator_support import context, listing
from tests.operators.test_importer import importer


@pytest.fixture
def store(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=11, products=6, customers=4, orders=0)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


def swapped(text: str) -> str:
    changed = text.swapcase()
    assert changed != text and changed.casefold() == text.casefold()
    return changed


def test_a_title_changed_only_in_case_is_written(store: Any, tmp_path: Path) -> None:
    product = listing(store, "/v1/products")[0]
    title = swapped(product["title"])
    source = tmp_path / "titles.jsonl"
    # The slug in other case still matches (natural keys ignore case) and is not a change.
    source.write_text(json.dumps({"slug": product["slug"].upper(), "title": title}) + "\n")

    result = importer(source).execute(context())

    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 0)
    after = {p["productId"]: p for p in listing(store, "/v1/products")}[product["productId"]]
    assert (after["title"], after["slug"]) == (title, product["slug"])
    assert importer(source).execute(context())["unchanged"] == 1


def test_customer_names_changed_only_in_case_are_written(store: Any, tmp_path: Path) -> None:
    customer = listing(store, "/v1/customers")[0]
    wanted = {"firstName": swapped(customer["firstName"]), "lastName": swapped(customer["lastName"])}
    source = tmp_path / "customers.csv"
    source.write_text(
        f"emailAddress,firstName,lastName\n{customer['emailAddress'].upper()},"
        f"{wanted['firstName']},{wanted['lastName']}\n"
    )

    result = importer(source, resource="customers").execute(context())

    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 0)
    after = {c["customerId"]: c for c in listing(store, "/v1/customers")}[customer["customerId"]]
    assert {k: after[k] for k in wanted} == wanted and after["emailAddress"] == customer["emailAddress"]
