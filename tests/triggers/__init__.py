"""Tests of airflow_provider_simplestore/triggers."""
