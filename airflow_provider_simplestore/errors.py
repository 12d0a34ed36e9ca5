"""Deprecated: moved to `airflow_provider_simplestore.exceptions`; removed in 2.0 (CHANGELOG.md)."""

from airflow_provider_simplestore.client.failures import error_from_response  # noqa: F401
from airflow_provider_simplestore.client.redaction import redact, redact_window  # noqa: F401
from airflow_provider_simplestore.exceptions import *  # noqa: F403
from airflow_provider_simplestore.utils.deprecation import warn_moved

warn_moved(__name__, "airflow_provider_simplestore.exceptions")
