"""What one export task loads on top of Airflow: a local file needs no provider's filesystem, and a
deployment without a hook lineage reader does not build Airflow's collector (which discovers every
provider's asset factories: with the amazon provider that imports boto3, 0.2-0.4 s of each task)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_simplestore import compat
from tests.operator_support import listing

# A fresh interpreter, as a task process is: what executing the export imported, and what it wrote.
CHILD = """
import json, sys
if sys.argv[2:] == ["--as-before"]:  # collector built without a reader, local filesystem resolved
    from airflow_provider_simplestore import compat
    from airflow.providers.common.compat.sdk import ObjectStoragePath
    compat.hook_lineage_has_readers = lambda: True
    ObjectStoragePath(sys.argv[1]).fs
from airflow_provider_simplestore.transfers.simplestore_to_storage import SimpleStoreToObjectStorageOperator
operator = SimpleStoreToObjectStorageOperator(
    task_id="export", resource="{resource}", destination=sys.argv[1], incremental=False, page_size=7
)
before = set(sys.modules)
result = operator.execute({{}})
print(json.dumps({{"imported": sorted(set(sys.modules) - before), "records": result["records"]}}))
"""
# What resolving a filesystem or building the lineage collector pulls in.
HEAVY = ("boto3", "botocore", "s3fs", "aiobotocore", "fsspec.implementations.local")


def heavy(module: str) -> bool:
    parts = module.split(".")
    # The providers manager's discovery: asset factories, filesystems, every provider's metadata.
    discovery = {"assets", "fs", "get_provider_info"}
    provider_assets_or_fs = parts[:2] == ["airflow", "providers"] and not discovery.isdisjoint(parts)
    return provider_assets_or_fs or any(module == name or module.startswith(name + ".") for name in HEAVY)


def run_export(sb: Any, destination: str, *options: str, resource: str = "categories") -> dict[str, Any]:
    env = {**os.environ, "AIRFLOW_CONN_SIMPLESTORE_DEFAULT": sb.connection_json()}
    code = CHILD.format(resource=resource)
    done = subprocess.run(
        [sys.executable, "-c", code, destination, *options], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_local_export_loads_no_filesystem_and_no_lineage_collector(
    fresh_sandbox: Callable[..., Any], tmp_path: Path
) -> None:
    sb = fresh_sandbox(seed=4, categories=30)
    target = tmp_path / "out" / "categories.jsonl"
    seen = run_export(sb, f"file://{target}")
    assert [module for module in seen["imported"] if heavy(module)] == []
    # ... and it still wrote the file whole, through a temporary sibling that is gone.
    expected = listing(sb, "/v1/categories")
    lines = target.read_text().splitlines()
    assert seen["records"] == len(expected) == len(lines) == 30
    assert [json.loads(line) for line in lines] == expected
    assert sorted(p.name for p in target.parent.iterdir()) == ["categories.jsonl"]


@pytest.mark.skipif(
    compat.AIRFLOW_RELEASE < (3, 0, 0),
    reason="Airflow 2.11 has loaded every provider's metadata before the task runs, and its collector "
    "discovers no asset factories: there is nothing for the task to spare, so nothing to observe",
)
def test_the_check_sees_what_the_collector_and_the_filesystem_load(
    fresh_sandbox: Callable[..., Any], tmp_path: Path
) -> None:
    """The observation above can fail: the same export, with the collector built regardless of
    readers and the local filesystem resolved, loads modules `heavy` names (else the test above
    would prove nothing)."""
    sb = fresh_sandbox(seed=4, categories=3)
    seen = run_export(sb, f"file://{tmp_path / 'categories.jsonl'}", "--as-before")
    assert any(heavy(module) for module in seen["imported"]), seen["imported"]
