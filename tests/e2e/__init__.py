"""End-to-end tests: a real Airflow API server driven by headless Chromium, and a real deployment."""
