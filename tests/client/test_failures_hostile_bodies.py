"""Error bodies built to be expensive: the work stays bounded by a fixed window, not by the body.

A problem body with a 1 MiB `title` (or `detail`, or a 1 MiB text body) is redacted over at most
`REDACT_WINDOW_CHARS` characters before it is shortened, on both hooks (the async one runs on the
triggerer's event loop). The bound is checked by recording what `redact` is given, not by timing;
benchmarks/redaction.py measures the cost. A body nested too deeply for the JSON parser is an
ordinary unusable body, not a RecursionError.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_simplestore.client import failures, redaction
from airflow_provider_simplestore.client.failures import error_from_response
from airflow_provider_simplestore.exceptions import (
    SimpleStoreResponseError,
    SimpleStoreServerError,
    SimpleStoreValidationError,
)
from tests.local_server import LocalServer, Reply, Seen, token_reply

SECRET = "hostile-S3cret-4b1d"
MIB = 1024 * 1024
# Blanks and words: cheap for the regexes, so the old code (redact everything) fails fast here.
LONG = f"echo {SECRET} " + "word " * (MIB // 5)
BODIES = {
    "/v1/long-title": Reply(400, {"title": LONG, "detail": "short"}),
    "/v1/long-detail": Reply(400, {"title": "Bad", "detail": LONG}),
    "/v1/long-errors": Reply(400, {"title": "Bad", "errors": {"name": [LONG]}}),
    "/v1/long-text": Reply(500, LONG),
    "/v1/deep-problem": Reply(500, b"[" * 100_000),
    "/v1/deep-ok": Reply(200, b"[" * 100_000, {"Content-Type": "application/json"}),
}


@pytest.fixture
def hostile_conn(sandbox: Any, connect: Callable[..., str]) -> Iterator[str]:
    def respond(request: Seen) -> Reply:
        path = request.path.split("?")[0]
        return token_reply("tok-hostile-1") if path == "/connect/token" else BODIES[path]

    with LocalServer(respond) as server:
        yield connect(sandbox, host=server.url, password=SECRET, auth_url=server.url + "/connect/token", max_retries=0)


@pytest.fixture
def redacted_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every text `redact` is given (the real redact still runs)."""
    sizes: list[int] = []
    real = redaction.redact

    def recording(text: str, secrets: Any = ()) -> str:
        sizes.append(len(text))
        return real(text, secrets)

    monkeypatch.setattr(redaction, "redact", recording)
    return sizes


@pytest.mark.parametrize("route", ["/v1/long-title", "/v1/long-detail", "/v1/long-errors", "/v1/long-text"])
def test_a_huge_error_body_is_redacted_within_a_bounded_window(
    hostile_conn: str, client: Callable[..., Any], redacted_sizes: list[int], route: str
) -> None:
    c = client(hostile_conn)
    with pytest.raises((SimpleStoreValidationError, SimpleStoreServerError)) as caught:
        c.call("request", "GET", route)
    error = caught.value
    assert redacted_sizes and max(redacted_sizes) <= redaction.REDACT_WINDOW_CHARS, max(redacted_sizes)
    text = " ".join(str(v) for v in (error, error.title, error.detail, error.body_excerpt))
    assert SECRET not in text and "echo ***" in text
    for field in (error.title, error.detail):
        assert field is None or len(field) <= failures.PROBLEM_FIELD_CHARS + 3
    assert len(str(error)) < 3 * failures.PROBLEM_FIELD_CHARS


def test_a_problem_nested_too_deeply_is_an_unusable_body(hostile_conn: str, client: Callable[..., Any]) -> None:
    c = client(hostile_conn)
    with pytest.raises(SimpleStoreServerError) as caught:
        c.call("request", "GET", "/v1/deep-problem")
    assert caught.value.title is None and caught.value.body_excerpt is not None
    assert caught.value.body_excerpt.startswith("[[[")


def test_a_2xx_nested_too_deeply_is_a_response_error(hostile_conn: str, client: Callable[..., Any]) -> None:
    c = client(hostile_conn)
    with pytest.raises(SimpleStoreResponseError) as caught:
        c.call("request", "GET", "/v1/deep-ok")
    assert "nested too deeply" in str(caught.value)


@pytest.mark.parametrize("tail", [" ", ",", "\n"])
def test_a_run_cut_at_the_window_is_dropped_whatever_ends_it(tail: str) -> None:
    """The window's last run of token characters is dropped; the text before it is kept."""
    text = "kept, " + "a" * (redaction.REDACT_WINDOW_CHARS * 4) + tail
    window, cut = redaction.redact_window(text)
    assert (window, cut) == ("kept, ", True)
    body = json.dumps({"title": text}).encode()
    assert error_from_response("GET", "/v1/x", 400, {}, body).title == "kept, ..."
