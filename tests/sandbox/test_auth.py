"""Token server and bearer checks, exactly as the platform's seed documents them."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from tests.sandbox.helpers import Client, assert_problem, token_for


def _grant(sb, **fields):
    data = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    data.update(fields)
    return requests.post(sb.token_url, data={k: v for k, v in data.items() if v is not None}, timeout=10)


def test_client_credentials_grant(sandbox):
    response = _grant(sandbox)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"client_id": "someone-else"}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"client_secret": None}, "invalid_request"),
        ({"client_id": None}, "invalid_request"),
    ],
)
def test_token_errors(sandbox, fields, error):
    response = _grant(sandbox, **fields)
    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_json_token_request_is_invalid_request(sandbox):
    response = requests.post(
        sandbox.token_url,
        json={
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}


def test_http_basic_client_authentication_is_accepted(sandbox):
    basic = base64.b64encode(f"{sandbox.client_id}:{sandbox.client_secret}".encode()).decode()
    response = requests.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc", "bearer  "])
def test_v1_needs_a_live_bearer_token(sandbox, header):
    headers = {"Authorization": header} if header else {}
    response = requests.get(sandbox.url + "/v1/products", headers=headers, timeout=10)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_custom_credentials(small_sandbox):
    sb, _ = small_sandbox(client_id="me", client_secret="s3cret")
    assert (sb.client_id, sb.client_secret) == ("me", "s3cret")
    assert _grant(sb).status_code == 200
    assert _grant(sb, client_secret="sandbox-secret").json() == {"error": "invalid_client"}


def test_revoke_invalidates_every_issued_token(small_sandbox):
    sb, client = small_sandbox()
    other = Client(sb)
    assert client.get("/v1/orders").status_code == 200
    assert sb.revoke() >= 2
    for session in (client, other):
        assert_problem(session.get("/v1/orders"), 401, detail_contains="revoked")
    fresh = token_for(sb)
    ok = requests.get(sb.url + "/v1/orders", headers={"Authorization": f"Bearer {fresh}"}, timeout=10)
    assert ok.status_code == 200


def test_token_expires_after_its_ttl(small_sandbox):
    _, client = small_sandbox(token_ttl=0.3)
    assert client.get("/v1/folders").status_code == 200
    deadline = time.monotonic() + 5
    while (response := client.get("/v1/folders")).status_code == 200:
        assert time.monotonic() < deadline, "token never expired"
        time.sleep(0.05)
    assert_problem(response, 401, detail_contains="expired")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_control_routes_need_no_token(sandbox):
    for path in ("/_sandbox/health", "/_sandbox/stats", "/_sandbox/faults"):
        assert requests.get(sandbox.url + path, timeout=10).status_code == 200


def test_stats_count_token_grants_and_requests(small_sandbox):
    sb, _ = small_sandbox()
    _grant(sb, client_secret="nope")
    stats = sb.stats()
    assert stats["token_requests"] == 2  # the client's grant and the failed one
    assert stats["token_grants"] == 1


def test_stats_count_each_refused_token_by_reason(small_sandbox):
    sb, client = small_sandbox()
    assert sb.stats()["unauthorized"] == {"missing": 0, "revoked": 0, "unknown": 0, "expired": 0}
    assert requests.get(sb.url + "/v1/orders", timeout=10).status_code == 401
    bogus = requests.get(sb.url + "/v1/orders", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert bogus.status_code == 401
    sb.revoke()
    assert client.get("/v1/orders").status_code == 401
    assert client.get("/v1/orders").status_code == 401
    assert sb.stats()["unauthorized"] == {"missing": 1, "revoked": 2, "unknown": 1, "expired": 0}
