"""client/failures.py: status -> class, problem/OAuth parsing, request ids, excerpts, transport errors."""

from __future__ import annotations

import json

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_simplestore.client import failures, redaction
from airflow_provider_simplestore.client.failures import error_from_response
from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreConflictError,
    SimpleStoreError,
    SimpleStoreForbiddenError,
    SimpleStoreNotFoundError,
    SimpleStoreRateLimitError,
    SimpleStoreResponseError,
    SimpleStoreServerError,
    SimpleStoreValidationError,
)

PROBLEM = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "product 'p1' was not found"}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, SimpleStoreValidationError),
        (401, SimpleStoreAuthError),
        (403, SimpleStoreForbiddenError),
        (404, SimpleStoreNotFoundError),
        (409, SimpleStoreConflictError),
        (412, SimpleStoreConflictError),
        (422, SimpleStoreValidationError),
        (429, SimpleStoreRateLimitError),
        (500, SimpleStoreServerError),
        (502, SimpleStoreServerError),
        (503, SimpleStoreServerError),
        (504, SimpleStoreServerError),
        (302, SimpleStoreResponseError),
        (418, SimpleStoreError),
    ],
)
def test_each_status_gets_its_class(status: int, cls: type[SimpleStoreError]) -> None:
    error = error_from_response("GET", "/v1/products/p1", status, {}, b"")
    assert type(error) is cls
    assert isinstance(error, AirflowException)
    assert (error.method, error.path, error.status) == ("GET", "/v1/products/p1", status)


def test_a_problem_body_fills_title_detail_and_the_message() -> None:
    error = error_from_response("GET", "/v1/products/p1", 404, {"X-Request-Id": "req-42"}, json.dumps(PROBLEM).encode())
    assert (error.title, error.detail, error.request_id) == ("Not Found", PROBLEM["detail"], "req-42")
    assert str(error) == "GET /v1/products/p1: HTTP 404: Not Found - product 'p1' was not found (request id req-42)"
    assert error.body_excerpt is not None and "was not found" in error.body_excerpt


def test_an_oauth_error_body_and_a_traceparent() -> None:
    body = b'{"error": "invalid_client", "error_description": "unknown client"}'
    error = error_from_response("POST", "/connect/token", 400, {"traceparent": "00-abc-def-01"}, body)
    assert (error.title, error.detail, error.request_id) == ("invalid_client", "unknown client", "00-abc-def-01")


def test_validation_problem_lists_the_fields() -> None:
    body = {"title": "One or more validation errors occurred.", "errors": {"slug": ["is taken"], "title": ["required"]}}
    error = error_from_response("POST", "/v1/products", 400, {}, json.dumps(body))
    assert error.detail == "slug: is taken; title: required"


def test_a_redirect_says_where_to() -> None:
    error = error_from_response("GET", "/v1/products", 301, {"Location": "https://api.example.com/v1/products"}, b"")
    assert "redirect to https://api.example.com/v1/products" in str(error)


def test_a_non_json_body_is_excerpted_truncated_and_redacted() -> None:
    # One token inside the excerpt (redaction must catch it), one past the cut (truncation drops it).
    html = "<html>Authorization: Bearer early.tok.en " + "x" * 2000 + " Authorization: Bearer abc.def.ghi </html>"
    error = error_from_response("GET", "/v1/orders", 502, {}, html.encode())
    assert error.title is None and error.detail is None
    assert error.body_excerpt is not None and len(error.body_excerpt) <= redaction.BODY_EXCERPT_CHARS + 3
    assert str(error).startswith("GET /v1/orders: HTTP 502: <html>Authorization: Bearer *** xxx")
    assert "early.tok.en" not in str(error) and "abc.def" not in str(error)


def test_secrets_never_reach_the_error() -> None:
    body = json.dumps(
        {"title": "Bad", "detail": "client_secret=hunter22 rejected; token abc123token", "access_token": "abc123token"}
    )
    error = error_from_response("POST", "/connect/token", 400, {}, body, secrets=["hunter22", "abc123token"])
    text = " ".join(str(v) for v in (error, error.title, error.detail, error.body_excerpt))
    assert "hunter22" not in text and "abc123token" not in text


def test_transport_error_text() -> None:
    error = failures.transport_error(
        "GET", "/v1/orders", "127.0.0.1:9", reason="connect", request_sent=False, cause=OSError("refused")
    )
    assert str(error) == "GET /v1/orders: cannot connect to 127.0.0.1:9 (OSError: refused)"
