"""Deprecated: moved to `airflow_provider_simplestore.client.resources`; removed in 2.0 (CHANGELOG.md)."""

from airflow_provider_simplestore.client.resources import *  # noqa: F403
from airflow_provider_simplestore.utils.deprecation import warn_moved

warn_moved(__name__, "airflow_provider_simplestore.client.resources")
