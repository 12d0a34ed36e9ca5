"""Control routes, options, the `Sandbox` handle, the CLI and the subprocess mode."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests

from airflow_provider_simplestore.sandbox import SandboxOptions, run_sandbox
from tests.sandbox.helpers import SMALL, Client, token_for


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=1):
            return True
    except OSError:
        return False


def test_stats_shape_and_route_templates(small_sandbox):
    sb, client = small_sandbox()
    order = client.get("/v1/orders", params={"pageSize": 1}).json()["result"][0]
    client.get(f"/v1/orders/{order['orderId']}")
    client.get("/v1/orders/ord_missing")
    client.post("/v1/products", json={"title": "Counted"})
    stats = sb.stats()
    assert set(stats) == {
        "token_grants",
        "token_requests",
        "requests",
        "faults",
        "objects",
        "creations",
        "rate_limited",
        "unauthorized",
        "in_flight_peak",
    }
    assert stats["requests"] == {"GET /v1/orders": 1, "GET /v1/orders/{orderId}": 2, "POST /v1/products": 1}
    assert stats["faults"] == {"500": 0, "502": 0, "503": 0, "504": 0, "429": 0, "reset": 0, "slow": 0}
    assert stats["objects"]["products"] == 31 and stats["objects"]["orders"] == 20
    assert stats["creations"]["products"] == 1 and stats["creations"]["orders"] == 0


def test_reset_restores_the_seeded_state(small_sandbox):
    sb, client = small_sandbox(anchor="2024-01-01T00:00:00Z")
    listing = client.get("/v1/products", params={"pageSize": 100}).content
    first = client.get("/v1/products").json()["result"][0]
    client.delete(f"/v1/products/{first['productId']}")
    client.post("/v1/customers", json={"emailAddress": "gone@example.com"})
    sb.create_orders(2)
    sb.set_faults(rules=[{"kind": "503", "probability": 0.5}])
    after = sb.reset()
    assert after["objects"]["products"] == 30 and after["objects"]["orders"] == 20
    assert after["creations"]["customers"] == 0 and after["token_grants"] == 0
    assert client.get("/v1/products", params={"pageSize": 100}).content == listing  # tokens survive a reset
    assert requests.get(sb.url + "/_sandbox/faults", timeout=10).json()["rules"] == []


def test_connection_json(sandbox):
    conn = json.loads(sandbox.connection_json(timeout=5, page_size=50))
    assert conn == {
        "conn_type": "simplestore",
        "host": sandbox.url,
        "login": "sandbox-client",
        "password": "sandbox-secret",
        "extra": {"auth_url": sandbox.url + "/connect/token", "timeout": 5, "page_size": 50},
    }
    assert sandbox.url.startswith("http://127.0.0.1:") and sandbox.token_url == sandbox.url + "/connect/token"
    assert "sandbox-secret" not in repr(sandbox)


def test_thread_mode_stops_cleanly():
    with run_sandbox(**SMALL) as sb:
        url = sb.url
        assert _port_open(url)
    assert not _port_open(url)


def test_subprocess_mode():
    with run_sandbox(
        subprocess=True, seed=4, anchor="2024-01-01T00:00:00Z", faults=["503:1:routes=/v1/folders"], **SMALL
    ) as sb:
        url = sb.url
        with Client(sb) as client:
            assert client.get("/v1/orders").json()["totalRecordsFound"] == 20
            assert client.get("/v1/folders").status_code == 503
        assert sb.stats()["objects"]["products"] == 30
        with (
            run_sandbox(seed=4, anchor="2024-01-01T00:00:00Z", **SMALL) as twin,
            Client(twin) as other,
            Client(sb) as mine,
        ):
            assert mine.get("/v1/products").content == other.get("/v1/products").content
    assert not _port_open(url)


def test_options_are_validated():
    with pytest.raises(TypeError, match="colour"):
        SandboxOptions.build(colour="red")
    with pytest.raises(ValueError, match="products"):
        SandboxOptions(products=-1)
    with pytest.raises(ValueError, match="max_page_size"):
        SandboxOptions(max_page_size=0)
    with pytest.raises(ValueError, match="anchor"):
        SandboxOptions(anchor="last tuesday")  # type: ignore[arg-type]  # text is parsed (here: refused)
    with pytest.raises(ValueError, match="orders"):
        SandboxOptions(products=0, orders=5)
    with pytest.raises(ValueError, match="probability"):
        SandboxOptions(faults=["503:2"])  # type: ignore[arg-type]  # fault rules are parsed from text
    parsed = SandboxOptions(anchor="2024-01-01T10:30:00+10:00")  # type: ignore[arg-type]  # text is parsed
    assert parsed.anchor.isoformat() == "2024-01-01T00:30:00+00:00"


def test_cli_help_documents_the_fault_syntax():
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_simplestore.sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for words in ("--fault", "KIND:PROBABILITY", "phase=before|after", "--latency-ms", "--seed", "--products"):
        assert words in result.stdout


def test_cli_rejects_a_bad_fault():
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_simplestore.sandbox", "--fault", "teapot:0.1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "teapot" in result.stderr


def test_latency_is_added_to_api_responses(small_sandbox):
    sb, client = small_sandbox(latency_ms=150)
    elapsed = client.get("/v1/folders").elapsed.total_seconds()
    assert elapsed >= 0.15
    assert requests.get(sb.url + "/_sandbox/health", timeout=10).elapsed.total_seconds() < 0.15
    assert token_for(sb)
