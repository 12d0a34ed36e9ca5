"""How a failed exchange becomes a typed exception: an HTTP error response, or no response at all.

Messages read `GET /v1/orders: <summary> (request id ...)`; what the server sent passes through
`redaction` first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from airflow_provider_simplestore.client.redaction import body_excerpt, redact_window
from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreConflictError,
    SimpleStoreError,
    SimpleStoreForbiddenError,
    SimpleStoreNotFoundError,
    SimpleStoreRateLimitError,
    SimpleStoreResponseError,
    SimpleStoreServerError,
    SimpleStoreTransportError,
    SimpleStoreValidationError,
)

PROBLEM_FIELD_CHARS = 1000  # title/detail kept in a message (after redaction)
# Headers that carry a server-side request/trace id, most specific first.
REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id", "request-id", "traceparent")

_STATUS_CLASSES: dict[int, type[SimpleStoreError]] = {
    400: SimpleStoreValidationError,
    401: SimpleStoreAuthError,
    403: SimpleStoreForbiddenError,
    404: SimpleStoreNotFoundError,
    409: SimpleStoreConflictError,
    410: SimpleStoreNotFoundError,
    412: SimpleStoreConflictError,
    422: SimpleStoreValidationError,
    429: SimpleStoreRateLimitError,
}


def error_class_for_status(status: int) -> type[SimpleStoreError]:
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return SimpleStoreServerError
    if 300 <= status < 400:
        return SimpleStoreResponseError
    return SimpleStoreError


def request_id_from(headers: Mapping[str, str], secrets: Iterable[str | None] = ()) -> str | None:
    """The server's request id, scrubbed: it goes into messages, and a server may echo anything."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = next((lowered[name] for name in REQUEST_ID_HEADERS if lowered.get(name)), None)
    return redact_window(value, secrets)[0] if value else None


def describe(
    method: str | None,
    path: str | None,
    summary: str,
    *,
    request_id: str | None = None,
) -> str:
    """`GET /v1/orders: <summary> (request id ...)`: the one message format of this module."""
    where = " ".join(part for part in (method, path) if part)
    text = f"{where}: {summary}" if where else summary
    return f"{text} (request id {request_id})" if request_id else text


_TRANSPORT_TEXT = {
    "dns": "cannot resolve the host name of {host}",
    "connect": "cannot connect to {host}",
    "connect_timeout": "timed out connecting to {host}",
    "tls": "TLS with {host} failed; check the certificate, or the verify/ca_bundle extras",
    "read_timeout": "no answer from {host} within the read timeout; the request may have been processed",
    "write_timeout": "timed out sending the request to {host}; it may have been processed",
    "connection_lost": "the connection to {host} was lost; the request may have been processed",
    "pool_timeout": "no free connection to {host} in the pool",
}


def transport_error(
    method: str,
    path: str,
    host: str,
    *,
    reason: str,
    request_sent: bool,
    cause: BaseException | None = None,
    secrets: Iterable[str | None] = (),
) -> SimpleStoreTransportError:
    """The error for a request that got no HTTP response (the hooks classify their library's errors)."""
    summary = _TRANSPORT_TEXT.get(reason, "request to {host} failed").format(host=host)
    if cause is not None:
        text = " ".join(redact_window(str(cause), secrets)[0].split())[:200]
        summary += f" ({type(cause).__name__}: {text})" if text else f" ({type(cause).__name__})"
    return SimpleStoreTransportError(
        describe(method, path, summary), reason=reason, request_sent=request_sent, method=method, path=path
    )


def _problem_fields(content: bytes | str | None) -> tuple[str | None, str | None]:
    """(title, detail) from an RFC 7807 problem or an OAuth `{"error": ...}` body, if any."""
    if not content:
        return None, None
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to be a problem body
        return None, None
    if not isinstance(data, dict):
        return None, None
    title = data.get("title") if isinstance(data.get("title"), str) else None
    detail = data.get("detail") if isinstance(data.get("detail"), str) else None
    if isinstance(data.get("error"), str):  # OAuth2 error response
        title = title or data["error"]
        description = data.get("error_description")
        detail = detail or (description if isinstance(description, str) else None)
    errors = data.get("errors")
    if isinstance(errors, dict) and errors:  # ASP.NET validation problem: {field: [messages]}
        listed = "; ".join(
            f"{field}: {', '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for field, msgs in errors.items()
        )
        detail = f"{detail} ({listed})" if detail else listed
    return title, detail


def _problem_text(text: str, secrets: tuple[str | None, ...]) -> str:
    """A title or detail for a message: its window redacted, then shortened."""
    text, cut = redact_window(text, secrets)
    if len(text) > PROBLEM_FIELD_CHARS:
        return text[:PROBLEM_FIELD_CHARS] + "..."
    return text + "..." if cut else text


def error_from_response(
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str],
    content: bytes | str | None,
    *,
    secrets: Iterable[str | None] = (),
    retry_after: float | None = None,
) -> SimpleStoreError:
    """The typed error for a non-2xx response (not raised: the caller decides)."""
    secrets = tuple(secrets)
    title, detail = _problem_fields(content)
    title = _problem_text(title, secrets) if title else None
    detail = _problem_text(detail, secrets) if detail else None
    excerpt = body_excerpt(content, secrets)
    request_id = request_id_from(headers, secrets)
    cls = error_class_for_status(status)
    summary = f"HTTP {status}"
    if 300 <= status < 400:
        location = redact_window(str(headers.get("location") or headers.get("Location") or "?"), secrets)[0]
        summary += f" redirect to {location}; set the connection's API URL to the final address"
    elif title or detail:
        summary += ": " + " - ".join(part for part in (title, detail) if part)
    elif excerpt:
        summary += f": {excerpt}"
    return cls(
        describe(method, path, summary, request_id=request_id),
        method=method,
        path=path,
        status=status,
        title=title,
        detail=detail,
        request_id=request_id,
        body_excerpt=excerpt,
        retry_after=retry_after,
    )
