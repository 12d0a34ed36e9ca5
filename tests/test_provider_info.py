"""The provider-info dict: schema-valid, and what the Airflow 3.3 UI and CLI really receive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from airflow_provider_simplestore import __version__
from airflow_provider_simplestore.get_provider_info import (
    CONNECTION_EXTRA_DEFAULTS,
    get_provider_info,
)
from tests.support import airflow_cli

EXPECTED_EXTRAS = {
    "auth_url",
    "timeout",
    "connect_timeout",
    "max_retries",
    "retry_deadline",
    "max_retry_wait",
    "page_size",
    "verify",
    "ca_bundle",
    "allow_insecure_http",
    "max_requests_per_second",
}
# The UI redacts extras whose key contains one of these words (see shared airflow notes).
SENSITIVE_WORDS = ("secret", "password", "token", "api_key", "private_key", "authorization", "bearer")


def _connection_type() -> dict:
    (conn_type,) = get_provider_info()["connection-types"]
    return conn_type


def test_provider_info_validates_against_airflows_own_schema():
    import airflow

    schema_path = Path(airflow.__file__).parent / "provider_info.schema.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_provider_info_identity_and_module_lists_are_importable():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-simplestore"
    assert info["versions"] == [__version__]
    for section in ("hooks", "operators", "sensors", "triggers"):
        modules = [m for entry in info[section] for m in entry["python-modules"]]
        assert modules, section
        for module in modules:
            __import__(module)  # each listed module must exist and import


def test_connection_type_declared_the_33_way():
    conn = _connection_type()
    assert conn["connection-type"] == "simplestore"
    assert "_" not in conn["connection-type"]
    assert conn["hook-name"] == "SimpleStore"
    module, _, cls = conn["hook-class-name"].rpartition(".")
    assert cls == "SimpleStoreHook"
    assert getattr(__import__(module, fromlist=[cls]), cls).conn_type == "simplestore"
    assert set(conn["conn-fields"]) == EXPECTED_EXTRAS
    for key, field in conn["conn-fields"].items():
        assert field["label"] and field["description"], key
        assert not any(word in key for word in SENSITIVE_WORDS), f"{key} would be redacted by the UI"
        if CONNECTION_EXTRA_DEFAULTS[key] is not None:
            assert field["schema"]["default"] == CONNECTION_EXTRA_DEFAULTS[key]


def test_discovery_imports_no_hook_or_web_framework():
    code = (
        "import sys\n"
        "from airflow_provider_simplestore.get_provider_info import get_provider_info\n"
        "get_provider_info()\n"
        "bad = [m for m in sys.modules if m.startswith(('airflow_provider_simplestore.hooks', "
        "'airflow_provider_simplestore.sandbox', 'wtforms', 'flask', 'fastapi', 'uvicorn', 'requests'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ui_receives_labels_hidden_fields_and_every_extra():
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "simplestore"]
    assert meta.hook_name == "SimpleStore"
    std = meta.standard_fields
    assert std.url_schema.hidden and std.port.hidden
    assert std.host.title == "API base URL" and not std.host.hidden
    assert std.host.placeholder == "https://api.simplestore.io"
    assert std.login.title == "Client ID"
    assert std.password.title == "Client Secret"
    declared = _connection_type()["conn-fields"]
    assert set(meta.extra_fields) == set(declared)
    for key, field in meta.extra_fields.items():
        assert field["schema"]["title"] == declared[key]["label"]
        assert field["description"] == declared[key]["description"]
        assert field["value"] == CONNECTION_EXTRA_DEFAULTS[key]


@pytest.mark.timeout(300)
def test_real_cli_lists_the_provider_and_its_hook(airflow_db):
    providers = airflow_cli("providers", "list", "--output", "json")
    names = {p["package_name"] for p in json.loads(providers.stdout)}
    assert "airflow-provider-simplestore" in names
    hooks = airflow_cli("providers", "hooks", "--output", "json")
    by_type = {h["connection_type"]: h for h in json.loads(hooks.stdout)}
    assert by_type["simplestore"]["class"].endswith("SimpleStoreHook")
    assert os.environ["AIRFLOW_HOME"] in str(airflow_db)
