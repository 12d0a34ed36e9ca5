"""What Airflow learns about this provider at discovery.

Airflow calls ``get_provider_info()`` through the ``apache_airflow_provider`` entry point. The
3.3 UI builds the connection form from ``connection-types`` alone (it never imports the hook
for that), so every label, default and extra field of the form is declared here. This module
imports nothing from the provider, Airflow, wtforms or flask.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_simplestore import __version__

DEFAULT_API_URL = "https://api.simplestore.io"
DEFAULT_AUTH_URL = "https://auth.simplestore.io/connect/token"

# Extras of the `simplestore` connection: key -> (label, description, JSON schema).
# The hook reads the same keys (airflow_provider_simplestore.settings); defaults are kept there
# and here in one table, CONNECTION_EXTRA_DEFAULTS, so the form and the hook cannot disagree.
# No key may contain secret/password/token/key words: the UI would redact its value.
CONNECTION_EXTRA_DEFAULTS: dict[str, Any] = {
    "auth_url": DEFAULT_AUTH_URL,
    "timeout": 30,
    "connect_timeout": 10,
    "max_retries": 5,
    "retry_deadline": 300,
    "max_retry_wait": 60,
    "page_size": 100,
    "verify": True,
    "ca_bundle": None,
    "allow_insecure_http": False,
    "max_requests_per_second": None,
    "share_across_processes": True,
}

_CONN_FIELDS: dict[str, dict[str, Any]] = {
    "auth_url": {
        "label": "Token URL",
        "description": "OAuth2 client-credentials token endpoint.",
        "schema": {"type": ["string", "null"], "format": "url"},
    },
    "timeout": {
        "label": "Request timeout (s)",
        "description": "Read timeout of each HTTP request, in seconds.",
        "schema": {"type": ["number", "null"], "minimum": 1},
    },
    "connect_timeout": {
        "label": "Connect timeout (s)",
        "description": "Time allowed to open a TCP/TLS connection, in seconds.",
        "schema": {"type": ["number", "null"], "minimum": 1},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries of a transient failure (connection error, 429, 5xx) before giving up.",
        "schema": {"type": ["integer", "null"], "minimum": 0},
    },
    "retry_deadline": {
        "label": "Retry deadline (s)",
        "description": "Total time one call may spend in retries, in seconds.",
        "schema": {"type": ["number", "null"], "minimum": 1},
    },
    "max_retry_wait": {
        "label": "Max wait between retries (s)",
        "description": "Upper bound on one backoff or Retry-After wait, in seconds.",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "page_size": {
        "label": "Page size",
        "description": "Records requested per page when listing; the server may apply less.",
        "schema": {"type": ["integer", "null"], "minimum": 1},
    },
    "verify": {
        "label": "Verify TLS certificates",
        "description": "Turn off only for a trusted test host.",
        "schema": {"type": ["boolean", "null"]},
    },
    "ca_bundle": {
        "label": "CA bundle path",
        "description": "Path to a PEM file of trusted CAs, used instead of the system store.",
        "schema": {"type": ["string", "null"]},
    },
    "allow_insecure_http": {
        "label": "Allow plain http://",
        "description": "Allow http:// to a non-loopback host. The client secret would travel in clear.",
        "schema": {"type": ["boolean", "null"]},
    },
    "max_requests_per_second": {
        "label": "Max requests per second",
        "description": "Client-side cap shared by every task of this connection in one worker process; "
        "empty for none.",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
    "share_across_processes": {
        "label": "Share the access grant across task processes",
        "description": "One grant per worker machine instead of one per task process: kept in a file that only "
        "this OS user can read, encrypted with the client secret.",
        "schema": {"type": ["boolean", "null"]},
    },
}


def _conn_fields() -> dict[str, dict[str, Any]]:
    fields = {}
    for key, spec in _CONN_FIELDS.items():
        schema = dict(spec["schema"])
        if CONNECTION_EXTRA_DEFAULTS[key] is not None:
            schema["default"] = CONNECTION_EXTRA_DEFAULTS[key]
        fields[key] = {**spec, "schema": schema}
    return fields


def connection_type_info() -> dict[str, Any]:
    """The `simplestore` connection type: its hook, form fields and standard-field behaviour."""
    return {
        "connection-type": "simplestore",
        "hook-class-name": "airflow_provider_simplestore.hooks.simplestore.SimpleStoreHook",
        "hook-name": "SimpleStore",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {
                "host": "API base URL",
                "login": "Client ID",
                "password": "Client Secret",
            },
            "placeholders": {
                "host": DEFAULT_API_URL,
                "login": "client id from the SimpleStore portal",
                "password": "client secret from the SimpleStore portal",
            },
        },
        "conn-fields": _conn_fields(),
    }


_SIMPLESTORE_URIS = {
    "schemes": ["simplestore"],
    "handler": None,
    "to_openlineage_converter": "airflow_provider_simplestore.lineage.asset_to_openlineage",
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-simplestore",
        "name": "SimpleStore",
        "description": "Sync SimpleStore catalog, customers and orders with Airflow, and push updates back.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "SimpleStore",
                "external-doc-url": "https://docs.simplestore.io",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "SimpleStore",
                "python-modules": ["airflow_provider_simplestore.hooks.simplestore"],
            }
        ],
        "operators": [
            {
                "integration-name": "SimpleStore",
                "python-modules": [
                    "airflow_provider_simplestore.operators.simplestore",
                    "airflow_provider_simplestore.transfers.simplestore_to_storage",
                    "airflow_provider_simplestore.transfers.simplestore_to_sql",
                    "airflow_provider_simplestore.operators.importer",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "SimpleStore",
                "python-modules": ["airflow_provider_simplestore.sensors.orders"],
            }
        ],
        # `simplestore://<api host>/<resource>` assets (what the hook reports to the hook lineage
        # collector) and their OpenLineage datasets; 2.11 reads the same under its Dataset name.
        "asset-uris": [_SIMPLESTORE_URIS],
        "dataset-uris": [_SIMPLESTORE_URIS],
        "triggers": [
            {
                "integration-name": "SimpleStore",
                "python-modules": ["airflow_provider_simplestore.triggers.orders"],
            }
        ],
        "connection-types": [connection_type_info()],
    }
