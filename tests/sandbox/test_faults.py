"""Fault injection: seeded rates, filters, before/after phases, resets, slow answers, token faults."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.sandbox.helpers import assert_problem


def _statuses(client, n, path="/v1/folders"):
    return [client.get(path).status_code for _ in range(n)]


def test_rate_is_within_tolerance_and_seeded(small_sandbox):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": "503", "probability": 0.25}], seed=3)
    first = _statuses(client, 400)
    failures = first.count(503)
    assert set(first) == {200, 503}
    assert 65 <= failures <= 135  # 100 expected; ~4 standard deviations either side
    assert sb.stats()["faults"]["503"] == failures
    sb.set_faults(rules=[{"kind": "503", "probability": 0.25}], seed=3)
    assert _statuses(client, 400) == first  # the same seed draws the same faults
    sb.set_faults(rules=[{"kind": "503", "probability": 0.25}], seed=4)
    assert _statuses(client, 400) != first


def test_same_seed_same_faults_across_sandboxes(small_sandbox):
    runs = []
    for _ in range(2):
        _, client = small_sandbox(faults=["500:0.3", "429:0.2"], fault_seed=9)
        runs.append(_statuses(client, 60))
    assert runs[0] == runs[1] and {500, 429, 200} == set(runs[0])


@pytest.mark.parametrize("kind", ["429", "503"])
def test_retry_after_on_429_and_503(small_sandbox, kind):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": kind, "probability": 1, "retry_after": 2}])
    response = client.get("/v1/orders")
    assert_problem(response, int(kind), detail_contains="injected")
    assert response.headers["retry-after"] == "2"


@pytest.mark.parametrize("kind", ["500", "502", "504"])
def test_server_error_kinds(small_sandbox, kind):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": kind, "probability": 1}])
    response = client.get("/v1/orders")
    assert_problem(response, int(kind))
    assert "retry-after" not in response.headers


def test_methods_and_routes_filters(small_sandbox):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": "500", "probability": 1, "methods": ["post"], "routes": ["/v1/products"]}])
    assert client.get("/v1/products").status_code == 200
    assert client.post("/v1/customers", json={"emailAddress": "f@example.com"}).status_code == 201
    assert client.post("/v1/products", json={"title": "Blocked"}).status_code == 500
    assert client.get("/v1/products", params={"Slug": "blocked"}).json()["result"] == []  # before: not processed


def test_after_phase_commits_the_write(small_sandbox):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": "503", "probability": 1, "phase": "after", "methods": ["POST"]}])
    response = client.post("/v1/products", json={"title": "Committed Anyway", "slug": "committed-anyway"})
    assert_problem(response, 503)
    found = client.get("/v1/products", params={"Slug": "committed-anyway"}).json()["result"]
    assert [p["title"] for p in found] == ["Committed Anyway"]
    retry = client.post("/v1/products", json={"title": "Committed Anyway", "slug": "committed-anyway"})
    assert retry.status_code == 503  # the duplicate was refused (409) before the fault replaced it
    assert client.get("/v1/products", params={"Slug": "committed-anyway"}).json()["totalRecordsFound"] == 1
    assert sb.stats()["creations"]["products"] == 1


def _raw_get(url: str, path: str) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            return b"<reset>"
        return b"".join(chunks)


def test_reset_closes_the_socket_without_a_response(small_sandbox):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": "reset", "probability": 1, "routes": ["/v1/orders"]}])
    assert _raw_get(sb.url, "/v1/orders") in (b"<reset>", b"")
    with pytest.raises(requests.ConnectionError):
        client.get("/v1/orders")
    assert client.get("/v1/folders").status_code == 200  # the server lives on
    assert sb.stats()["faults"]["reset"] == 2


def test_reset_after_a_write_commits_it(small_sandbox):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": "reset", "probability": 1, "phase": "after", "methods": ["POST"]}])
    with pytest.raises(requests.ConnectionError):
        client.post("/v1/folder/", json={"name": "Survivor"})
    assert client.get("/v1/folders", params={"Name": "Survivor"}).json()["totalRecordsFound"] == 1


def test_slow_answers_outlast_the_client_timeout(small_sandbox):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": "slow", "probability": 1, "delay": 0.6, "methods": ["POST"], "phase": "after"}])
    with pytest.raises(requests.ReadTimeout):
        client.post("/v1/folder/", json={"name": "Late"}, timeout=0.15)
    assert client.get("/v1/folders", params={"Name": "Late"}).json()["totalRecordsFound"] == 1  # after: committed
    sb.set_faults(rules=[{"kind": "slow", "probability": 1, "delay": 0.3}])
    started = time.monotonic()
    assert client.get("/v1/folders").status_code == 200  # a patient client gets the real answer
    assert time.monotonic() - started >= 0.3


def test_slow_before_drops_a_request_whose_client_left(small_sandbox):
    sb, client = small_sandbox()
    sb.set_faults(rules=[{"kind": "slow", "probability": 1, "delay": 0.4, "methods": ["POST"]}])
    with pytest.raises(requests.ReadTimeout):
        client.post("/v1/folder/", json={"name": "Abandoned"}, timeout=0.1)
    sb.clear_faults()
    deadline = time.monotonic() + 1.0  # well past the delay: it must never appear
    while time.monotonic() < deadline:
        assert client.get("/v1/folders", params={"Name": "Abandoned"}).json()["totalRecordsFound"] == 0
        time.sleep(0.1)


def test_token_faults_are_separate(small_sandbox):
    sb, client = small_sandbox()
    sb.set_faults(token_rules=[{"kind": "429", "probability": 1, "retry_after": 3}])
    grant = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    response = requests.post(sb.token_url, data=grant, timeout=10)
    assert_problem(response, 429)
    assert response.headers["retry-after"] == "3"
    assert client.get("/v1/orders").status_code == 200  # API rules are empty
    sb.set_faults(rules=[{"kind": "500", "probability": 1}])
    assert requests.post(sb.token_url, data=grant, timeout=10).status_code == 200
    stats = sb.stats()
    assert stats["faults"]["429"] == 1 and stats["token_grants"] == 2


def test_faults_from_options_and_reset_clears_them(small_sandbox):
    sb, client = small_sandbox(faults=["503:1:routes=/v1/orders,retry_after=5"])
    response = client.get("/v1/orders")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert client.get("/v1/products").status_code == 200
    sb.reset()
    assert client.get("/v1/orders").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"rules": [{"kind": "418", "probability": 1}]},
        {"rules": [{"kind": "503", "probability": 1.5}]},
        {"rules": [{"kind": "503", "probability": 0.1, "phase": "during"}]},
        {"rules": [{"kind": "503", "probability": 0.1, "colour": "red"}]},
        {"rules": [{"kind": "503"}]},
        {"rules": [{"kind": "503", "probability": 0.1, "methods": "GET"}]},
        {"rulez": []},
    ],
)
def test_invalid_fault_rules_are_400(small_sandbox, payload):
    sb, _ = small_sandbox()
    response = requests.post(sb.url + "/_sandbox/faults", json=payload, timeout=10)
    assert_problem(response, 400)
    assert requests.get(sb.url + "/_sandbox/faults", timeout=10).json()["rules"] == []
