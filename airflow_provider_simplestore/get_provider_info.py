"""What Airflow learns about this provider at discovery.

Airflow calls ``get_provider_info()`` through the ``apache_airflow_provider`` entry point. The
3.3 UI builds the connection form from ``connection-types`` alone (it never imports the hook
for that): its extras, labels and defaults come from the one table in ``connection_fields``, which
the hook reads too. This module imports nothing from Airflow, wtforms or flask.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_simplestore import __version__
from airflow_provider_simplestore.client.connection_fields import CONN_TYPE, DEFAULT_API_URL, conn_fields


def connection_type_info() -> dict[str, Any]:
    """The `simplestore` connection type: its hook, form fields and standard-field behaviour."""
    return {
        "connection-type": CONN_TYPE,
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
        "conn-fields": conn_fields(),
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
