"""The SQL operator's PostgreSQL fixtures: a throwaway cluster (tests/postgres_server.py) per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import PostgresServer, running_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster for the session, with an empty database `simplestore_test`.

    Missing PostgreSQL (or psycopg): skipped with the reason, but under CI=true the test fails.
    """
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_conn(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PostgresServer:
    """An empty `public` schema, and the Airflow connection `pg_sync` pointing at it (an env var URI)."""
    with postgres_server.connect(autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    monkeypatch.setenv("AIRFLOW_CONN_PG_SYNC", postgres_server.uri)
    return postgres_server
