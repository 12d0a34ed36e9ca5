"""A mapped export (`.partial().expand_kwargs(...)`) is built when its task runs, from the mapped
values: a destination known only then must not become an outlet asset, which the DAG never declared
(Airflow 3.0 then fails the task after its work: "inactive assets"). Its event goes through the alias."""

from __future__ import annotations

import datetime as dt

from airflow_provider_simplestore.compat import AssetAlias
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator


def test_a_mapped_export_emits_through_its_alias_and_a_plain_one_through_its_file() -> None:
    from airflow.providers.common.compat.sdk import DAG

    with DAG("mapped_outlets", schedule=None, start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)):
        mapped = SimpleStoreToObjectStorageOperator.partial(
            task_id="part", resource="orders", asset_alias="parts", outlets=[AssetAlias("parts")]
        ).expand_kwargs([{"destination": "file:///tmp/mapped/part-00.jsonl"}])
        plain = SimpleStoreToObjectStorageOperator(
            task_id="plain", resource="orders", destination="file:///tmp/plain.jsonl"
        )

    assert [getattr(o, "uri", None) for o in plain.outlets] == ["file:///tmp/plain.jsonl"]
    # What the task runner does with one map index's values.
    part = mapped.unmap({"destination": "file:///tmp/mapped/part-00.jsonl"})
    assert isinstance(part, SimpleStoreToObjectStorageOperator) and part.outlets == [AssetAlias("parts")]
    assert part.asset_alias == "parts" and part.static_asset is None
