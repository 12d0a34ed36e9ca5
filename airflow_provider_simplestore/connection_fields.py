"""Deprecated: moved to `airflow_provider_simplestore.client.connection_fields`; removed in 2.0 (CHANGELOG.md)."""

from airflow_provider_simplestore.client.connection_fields import *  # noqa: F403
from airflow_provider_simplestore.utils.deprecation import warn_moved

warn_moved(__name__, "airflow_provider_simplestore.client.connection_fields")
