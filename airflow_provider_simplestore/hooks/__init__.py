"""SimpleStore hooks: `airflow_provider_simplestore.hooks.simplestore`."""
