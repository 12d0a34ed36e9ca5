"""One refused row never aborts an import, and its report survives a failed task."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_simplestore.operators.importer import (
    MAX_UNKNOWN_IN_A_ROW,
    SimpleStoreImportOperator,
)
from tests.operator_support import context, listing


@pytest.fixture
def shop(fresh_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    sb = fresh_sandbox(seed=5, products=4, customers=1, orders=0, max_body_bytes=4096)
    monkeypatch.setenv("AIRFLOW_CONN_SIMPLESTORE_DEFAULT", sb.connection_json())
    return sb


def no_retries(sb: Any) -> None:
    import os

    os.environ["AIRFLOW_CONN_SIMPLESTORE_DEFAULT"] = sb.connection_json(max_retries=0)  # monkeypatch restores


def run(source: Path, **kwargs: Any) -> dict[str, Any]:
    operator = SimpleStoreImportOperator(
        task_id="import",
        resource="products",
        source=str(source),
        max_error_ratio=kwargs.pop("max_error_ratio", 1.0),
        **kwargs,
    )
    return operator.execute(context())


def report(source: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(f"{source}.rejected.jsonl").read_text().splitlines()]


def new(i: int, **fields: Any) -> str:
    return json.dumps({"slug": f"new-{i}", "title": f"New {i}", "inventory": {"sku": f"NEW-{i}"}, **fields}) + "\n"


def slugs(sb: Any) -> set[str]:
    return {p["slug"] for p in listing(sb, "/v1/products")}


def test_a_row_answered_413_is_rejected_and_later_rows_still_go(shop: Any, tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text(new(1) + new(2, description="x" * 8000) + new(3))
    result = run(source)
    assert (result["created"], result["rejected"]) == (2, 1)
    [entry] = report(source)
    assert (entry["line"], entry["status"]) == (2, 413) and "HTTP 413" in entry["reason"]
    assert {"new-1", "new-3"} <= slugs(shop) and "new-2" not in slugs(shop)


def test_an_unknown_outcome_is_rejected_then_reconciled_by_the_next_run(shop: Any, tmp_path: Path) -> None:
    existing = listing(shop, "/v1/products")[0]
    source = tmp_path / "rows.jsonl"
    source.write_text(new(1) + json.dumps({"slug": existing["slug"], "title": "Renamed"}) + "\n" + new(2))
    # Every read and create of products is answered 503 (creates after committing): no row's
    # outcome can be confirmed; the hook does not retry (max_retries=0), so the test does not wait.
    no_retries(shop)
    shop.set_faults(
        rules=[
            {"kind": "503", "probability": 1, "methods": ["POST", "GET"], "routes": ["/v1/products"], "phase": "after"}
        ]
    )
    first = run(source)
    assert first["rejected"] == 3 and [e["line"] for e in report(source)] == [1, 2, 3]
    assert all("outcome unknown" in e["reason"] for e in report(source))
    shop.clear_faults()
    second = run(source)
    assert second["rejected"] == 0 and second["created"] + second["unchanged"] + second["updated"] == 3
    products = listing(shop, "/v1/products")
    assert sorted(p["slug"] for p in products if p["slug"].startswith("new-")) == ["new-1", "new-2"]


def test_the_report_is_written_when_the_task_stops(shop: Any, tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(new(i) for i in range(MAX_UNKNOWN_IN_A_ROW + 3)))
    shop.set_faults(
        rules=[
            {"kind": "503", "probability": 1, "methods": ["POST", "GET"], "routes": ["/v1/products"], "phase": "before"}
        ]
    )
    no_retries(shop)
    with pytest.raises(AirflowException, match=rf"{MAX_UNKNOWN_IN_A_ROW} rows in a row"):
        run(source)
    assert [e["line"] for e in report(source)] == list(range(1, MAX_UNKNOWN_IN_A_ROW + 1))


def test_a_later_duplicate_natural_key_is_rejected_not_renaming_the_first(shop: Any, tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("slug,title,inventory.sku\nfirst-mug,First Mug,MUG-1\nsecond-mug,Second Mug,mug-1\n")
    result = run(source)
    assert (result["created"], result["rejected"]) == (1, 1)
    [entry] = report(source)
    assert entry["line"] == 3 and entry["reason"].startswith("duplicate inventory.sku 'mug-1': line 2")
    assert "first-mug" in slugs(shop) and "second-mug" not in slugs(shop)


def test_a_huge_bad_line_is_kept_only_in_part(shop: Any, tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text(new(1) + '{"slug": "' + "y" * 2_000_000 + "\n" + new(2))
    result = run(source)
    assert (result["created"], result["rejected"]) == (2, 1)
    line = Path(f"{source}.rejected.jsonl").read_text().splitlines()[0]
    assert len(line) < 8 * 1024 and json.loads(line)["line"] == 2
