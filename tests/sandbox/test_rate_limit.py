"""The sandbox's optional rate limit: a token bucket per client id, 429 with Retry-After, headers, stats."""

from __future__ import annotations

import math
import subprocess
import sys
import time

import pytest
import requests

from airflow_provider_simplestore.sandbox.options import SandboxOptions
from tests.sandbox.helpers import assert_problem


def test_off_by_default(small_sandbox):
    sb, client = small_sandbox()
    statuses = [client.get("/v1/folders") for _ in range(30)]
    assert {r.status_code for r in statuses} == {200}
    assert "x-ratelimit-limit" not in statuses[0].headers
    assert sb.stats()["rate_limited"] == 0


def test_burst_then_429_with_retry_after_and_headers(small_sandbox):
    sb, client = small_sandbox(rate_limit=2, burst=3)
    answers = [client.get("/v1/folders") for _ in range(5)]
    assert [r.status_code for r in answers[:3]] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in answers[:3]] == ["2", "1", "0"]
    assert all(r.headers["x-ratelimit-limit"] == "2" for r in answers)
    refused = answers[3]
    assert_problem(refused, 429, detail_contains="rate limit")
    wait = float(refused.headers["retry-after"])
    assert 0 < wait <= 0.5  # seconds until the next token: at most 1/rate
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert sb.stats()["rate_limited"] == sum(r.status_code == 429 for r in answers)
    assert sb.stats()["faults"]["429"] == 0  # the limit is not a fault


def test_waiting_retry_after_is_enough(small_sandbox):
    _, client = small_sandbox(rate_limit=5, burst=1)
    assert client.get("/v1/folders").status_code == 200
    refused = client.get("/v1/folders")
    assert refused.status_code == 429
    time.sleep(float(refused.headers["retry-after"]))
    assert client.get("/v1/folders").status_code == 200


def test_unauthenticated_requests_take_no_token(small_sandbox):
    sb, client = small_sandbox(rate_limit=1, burst=1)
    assert requests.get(sb.url + "/v1/folders", timeout=10).status_code == 401
    assert client.get("/v1/folders").status_code == 200


def test_set_at_runtime_through_the_control_route(small_sandbox):
    sb, client = small_sandbox()
    assert sb.set_rate_limit(1, burst=1) == {"rate_limit": 1.0, "burst": 1}
    assert requests.get(sb.url + "/_sandbox/rate-limit", timeout=10).json() == {"rate_limit": 1.0, "burst": 1}
    assert [client.get("/v1/folders").status_code for _ in range(2)] == [200, 429]
    assert sb.set_rate_limit(None) == {"rate_limit": None, "burst": None}
    assert {client.get("/v1/folders").status_code for _ in range(10)} == {200}
    assert sb.set_rate_limit(10.5)["burst"] == math.ceil(10.5)  # default burst: one second's worth


@pytest.mark.parametrize(
    "body, words",
    [
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit": -3}, "rate_limit"),
        ({"rate_limit": 5, "burst": 0}, "burst"),
        ({"burst": 4}, "burst needs rate_limit"),
        ({"rate_limit": "fast"}, "rate_limit"),
        ({"rps": 5}, "rps"),
        # Bounded: 1e-300 made every answer a 429 with a 300-digit Retry-After.
        ({"rate_limit": 1e-300}, "from 0.01 to 1000000"),
        ({"rate_limit": 0.009}, "from 0.01 to 1000000"),
        ({"rate_limit": 1e308}, "from 0.01 to 1000000"),
        ({"rate_limit": 5, "burst": 10**308}, "burst=10000000000000000000... must be a whole number from 1 to 1000000"),
        ({"rate_limit": 5, "burst": 1_000_001}, "from 1 to 1000000"),
    ],
)
def test_bad_control_values_are_refused(small_sandbox, body, words):
    sb, _ = small_sandbox()
    assert_problem(requests.post(sb.url + "/_sandbox/rate-limit", json=body, timeout=10), 400, detail_contains=words)
    assert requests.get(sb.url + "/_sandbox/rate-limit", timeout=10).json()["rate_limit"] is None


def test_the_slowest_limit_asks_for_a_bounded_wait(small_sandbox):
    sb, client = small_sandbox()
    assert sb.set_rate_limit(0.01, burst=1) == {"rate_limit": 0.01, "burst": 1}
    assert client.get("/v1/folders").status_code == 200
    refused = client.get("/v1/folders")
    assert refused.status_code == 429 and 0 < float(refused.headers["retry-after"]) <= 100


def test_reset_restores_the_start_up_limit_with_full_buckets(small_sandbox):
    sb, client = small_sandbox(rate_limit=1, burst=2)
    sb.set_rate_limit(None)
    sb.reset()
    assert [client.get("/v1/folders").status_code for _ in range(3)] == [200, 200, 429]
    assert sb.stats()["rate_limited"] == 1


def test_options_validate_and_reach_the_child_process():
    with pytest.raises(ValueError, match="rate_limit"):
        SandboxOptions(rate_limit=0)
    with pytest.raises(ValueError, match="burst"):
        SandboxOptions(rate_limit=5, burst=-1)
    with pytest.raises(ValueError, match="burst needs rate_limit"):
        SandboxOptions(burst=5)
    with pytest.raises(ValueError, match=r"rate_limit=1e-300 must be a number of requests per second from 0\.01"):
        SandboxOptions(rate_limit=1e-300)
    with pytest.raises(ValueError, match=r"burst=10000000000000000000\.\.\. must be"):
        SandboxOptions(rate_limit=5, burst=10**308)
    args = SandboxOptions(rate_limit=12.5, burst=4).to_cli_args()
    assert args[args.index("--rate-limit") + 1] == "12.5" and args[args.index("--burst") + 1] == "4"
    assert "--rate-limit" not in SandboxOptions().to_cli_args()


def test_cli_documents_and_checks_the_flags():
    run = [sys.executable, "-m", "airflow_provider_simplestore.sandbox"]
    help_text = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "--rate-limit RPS" in help_text and "--burst N" in help_text
    bad = subprocess.run([*run, "--rate-limit", "-1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "rate_limit" in bad.stderr


def test_in_flight_peak_is_counted(small_sandbox):
    sb, client = small_sandbox(latency_ms=200)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: client.get("/v1/folders").status_code, range(3)))
    assert sb.stats()["in_flight_peak"] == 3
