"""The provider-info dict: schema-valid, and what the Airflow 3.3 UI and CLI really receive."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from airflow_provider_simplestore import __version__
from airflow_provider_simplestore.client.connection_fields import CONNECTION_EXTRA_DEFAULTS
from airflow_provider_simplestore.compat import AIRFLOW_V_3_0_PLUS
from airflow_provider_simplestore.get_provider_info import get_provider_info
from tests.support import airflow_cli, cli_json

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
    "share_across_processes",
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


def _imports(module: Any) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text())
    return {
        name
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }


def test_connection_defaults_live_in_a_module_that_imports_nothing_heavy():
    """The form table and defaults import only the standard library; the hook's settings and retry
    policy read them there, not from the discovery module (which only reads them too)."""
    from airflow_provider_simplestore import get_provider_info
    from airflow_provider_simplestore.client import connection_fields, retry, settings

    assert _imports(connection_fields) <= {"__future__", "dataclasses", "typing"}
    for module in (settings, retry):
        assert "airflow_provider_simplestore.get_provider_info" not in _imports(module), module.__name__
        assert "airflow_provider_simplestore.client.connection_fields" in _imports(module), module.__name__
    assert "airflow_provider_simplestore.client.connection_fields" in _imports(get_provider_info)


def _ui_form() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(standard fields, extra fields) of the `simplestore` form, as this Airflow's UI receives them.

    3.x: the API server's `HookMetaService` (3.2+ from conn-fields, 3.0-3.1 from the hook's form
    methods). 2.11: the webserver's ProvidersManager, which calls the hook's form methods.
    """
    if not AIRFLOW_V_3_0_PLUS:
        from airflow.providers_manager import ProvidersManager

        manager = ProvidersManager()
        behaviour = manager.field_behaviours["simplestore"]
        standard = {
            "host": {
                "title": behaviour["relabeling"]["host"],
                "hidden": False,
                "placeholder": behaviour["placeholders"]["host"],
            },
            "login": {"title": behaviour["relabeling"]["login"]},
            "password": {"title": behaviour["relabeling"]["password"]},
            "port": {"hidden": "port" in behaviour["hidden_fields"]},
            "schema": {"hidden": "schema" in behaviour["hidden_fields"]},
        }
        prefix = "extra__simplestore__"
        extras = {}
        for name, widget in manager.connection_form_widgets.items():
            if name.startswith(prefix):
                field = widget.field
                extras[widget.field_name] = {
                    "title": str(field.args[0]),
                    "description": str(field.kwargs["description"]),
                    "value": field.kwargs.get("default"),
                }
        return standard, extras

    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    (meta,) = [m for m in HookMetaService.hook_meta_data() if m.connection_type == "simplestore"]
    assert meta.hook_name == "SimpleStore"
    std = meta.standard_fields
    assert std is not None, "the UI received no field behaviour for simplestore"
    assert std.host and std.login and std.password and std.port and std.url_schema, std
    standard = {
        "host": {"title": std.host.title, "hidden": std.host.hidden, "placeholder": std.host.placeholder},
        "login": {"title": std.login.title},
        "password": {"title": std.password.title},
        "port": {"hidden": std.port.hidden},
        "schema": {"hidden": std.url_schema.hidden},
    }
    extras = {
        key: {"title": f["schema"]["title"], "description": f["description"], "value": f["value"]}
        for key, f in (meta.extra_fields or {}).items()
    }
    return standard, extras


def test_ui_receives_labels_hidden_fields_and_every_extra():
    # In a fresh interpreter, as a server starting up: in a process that already built hooks
    # (get_hook), Airflow 3.1's providers cache hands HookMetaService no field behaviour at all.
    code = "import json; from tests.test_provider_info import _ui_form; print(json.dumps(_ui_form()))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    standard, extras = json.loads(proc.stdout.strip().splitlines()[-1])
    assert standard["schema"]["hidden"] and standard["port"]["hidden"]
    assert standard["host"]["title"] == "API base URL" and not standard["host"]["hidden"]
    assert standard["host"]["placeholder"] == "https://api.simplestore.io"
    assert standard["login"]["title"] == "Client ID"
    assert standard["password"]["title"] == "Client Secret"
    declared = _connection_type()["conn-fields"]
    assert set(extras) == set(declared)
    for key, field in extras.items():
        assert field["title"] == declared[key]["label"]
        assert field["description"] == declared[key]["description"]
        default = CONNECTION_EXTRA_DEFAULTS[key]
        # Before 3.2 the form is built from wtforms fields, which carry decimals as text.
        assert field["value"] in (default, None if default is None else str(default)), key


def test_hook_form_methods_match_the_declared_fields():
    """The hook's form methods (2.11-3.1) and conn-fields (3.2+) are one declaration."""
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

    behaviour = SimpleStoreHook.get_ui_field_behaviour()
    declared = _connection_type()["ui-field-behaviour"]
    assert behaviour == {key.replace("-", "_"): value for key, value in declared.items()}
    assert "get_connection_form_widgets" in SimpleStoreHook.__dict__  # Airflow looks on the class itself
    assert "get_ui_field_behaviour" in SimpleStoreHook.__dict__


def test_hook_form_validates_numbers_typed_as_text():
    """2.11's webserver validates the hook's form on Save; decimals arrive as text ("30").

    NumberRange on such a field raised TypeError (Save answered 500). Where wtforms and
    Flask-AppBuilder are installed (2.11, or 3.0 with the FAB provider) the real form is validated.
    """
    # Installed, not merely importable: 3.x's HookMetaService leaves stand-ins for FAB in sys.modules.
    try:
        importlib.metadata.version("flask-appbuilder")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("Flask-AppBuilder is not installed: this Airflow's UI never validates the hook's form")
    from werkzeug.datastructures import MultiDict
    from wtforms import Form

    from airflow_provider_simplestore.hooks.connection_form import connection_form_widgets

    form_class = type("SimpleStoreForm", (Form,), connection_form_widgets())

    def errors(**data: str) -> dict[str, Any]:
        form = form_class(MultiDict(data))
        form.validate()
        return dict(form.errors)

    assert errors(timeout="30", connect_timeout="2.5", page_size="100", max_retry_wait="0") == {}
    assert errors(timeout="") == {}  # empty: the default applies
    assert set(errors(timeout="0.5", connect_timeout="soon", max_retry_wait="-1", page_size="0")) == {
        "timeout",
        "connect_timeout",
        "max_retry_wait",
        "page_size",
    }
    assert errors(max_requests_per_second="0.1") == errors(max_requests_per_second="10000") == {}
    assert (
        set(errors(max_requests_per_second="0.001"))
        == set(errors(max_requests_per_second="1e9"))
        == {"max_requests_per_second"}
    )


@pytest.mark.timeout(300)
def test_real_cli_lists_the_provider_and_its_hook(airflow_db):
    providers = airflow_cli("providers", "list", "--output", "json")
    names = {p["package_name"] for p in cli_json(providers)}
    assert "airflow-provider-simplestore" in names
    hooks = airflow_cli("providers", "hooks", "--output", "json")
    by_type = {h["connection_type"]: h for h in cli_json(hooks)}
    assert by_type["simplestore"]["class"].endswith("SimpleStoreHook")
    assert os.environ["AIRFLOW_HOME"] in str(airflow_db)
