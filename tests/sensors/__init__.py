"""Tests of airflow_provider_simplestore/sensors."""
