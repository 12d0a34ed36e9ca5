"""Names that moved keep working for one release, each with a deprecation warning that says where
they went: the modules of the package root that became client/ and exceptions.py, and the export's
former class name."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from airflow_provider_simplestore.compat import AirflowProviderDeprecationWarning

MOVED_MODULES = {
    "airflow_provider_simplestore.errors": "airflow_provider_simplestore.exceptions",
    "airflow_provider_simplestore.resources": "airflow_provider_simplestore.client.resources",
    "airflow_provider_simplestore.settings": "airflow_provider_simplestore.client.settings",
    "airflow_provider_simplestore.connection_fields": "airflow_provider_simplestore.client.connection_fields",
    "airflow_provider_simplestore.protocol": "airflow_provider_simplestore.client.wire",
}
# A name users imported from each old path, and the module it now lives in.
SAMPLES = {
    "airflow_provider_simplestore.errors": [
        ("SimpleStoreError", "airflow_provider_simplestore.exceptions"),
        ("redact", "airflow_provider_simplestore.client.redaction"),
        ("error_from_response", "airflow_provider_simplestore.client.failures"),
    ],
    "airflow_provider_simplestore.resources": [("RESOURCES", "airflow_provider_simplestore.client.resources")],
    "airflow_provider_simplestore.settings": [("SimpleStoreSettings", "airflow_provider_simplestore.client.settings")],
    "airflow_provider_simplestore.connection_fields": [
        ("DEFAULT_CONN_ID", "airflow_provider_simplestore.client.connection_fields")
    ],
    "airflow_provider_simplestore.protocol": [("ListingCheck", "airflow_provider_simplestore.client.wire")],
}


@pytest.mark.parametrize("old", sorted(MOVED_MODULES))
def test_an_old_module_path_warns_and_gives_the_same_objects(old: str) -> None:
    sys.modules.pop(old, None)  # a fresh import: the warning is given on import
    with pytest.warns(AirflowProviderDeprecationWarning, match=f"{old} moved to {MOVED_MODULES[old]}"):
        module = importlib.import_module(old)
    for name, home in SAMPLES[old]:
        assert getattr(module, name) is getattr(importlib.import_module(home), name), name


def test_no_module_of_the_package_is_named_like_a_standard_library_module() -> None:
    package = Path(importlib.import_module("airflow_provider_simplestore").__file__ or "").parent
    names = {path.stem for path in package.rglob("*.py")} - {"__init__", "__main__"}
    assert sorted(names & sys.stdlib_module_names) == []


def test_the_export_s_former_name_warns_and_builds_the_same_operator(tmp_path: Path) -> None:
    from airflow_provider_simplestore.transfers.simplestore_to_storage import (
        SimpleStoreExportOperator,
        SimpleStoreToObjectStorageOperator,
    )

    with pytest.warns(AirflowProviderDeprecationWarning, match="SimpleStoreToObjectStorageOperator"):
        old = SimpleStoreExportOperator(task_id="export", resource="products", destination=str(tmp_path / "p.csv"))
    assert isinstance(old, SimpleStoreToObjectStorageOperator)
    assert (old.resource, old.destination) == ("products", str(tmp_path / "p.csv"))
