"""The provider's exceptions, and how an HTTP error response becomes one.

Every error carries what a user needs to act on it (method, path, status, the problem's title
and detail, the server's request id) and a short, redacted excerpt of the body. Nothing here ever
puts a client secret or an access token into a message: bodies and texts pass through `redact`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_simplestore.compat import AirflowException, AirflowFailException

BODY_EXCERPT_CHARS = 300
# Redaction runs over this much of a body, far more than an excerpt shows: a secret must never be
# cut before it is recognised (the regexes are not linear on hostile input, so not the whole body).
REDACT_WINDOW_CHARS = 16 * 1024
PROBLEM_FIELD_CHARS = 1000  # title/detail kept in a message (after redaction)
# A run of characters that may be part of a token at the window's cut: dropped, never shown.
_TRAILING_RUN = re.compile(r"[^\s\"',;{}\[\]<>&]*\Z")
# Headers that carry a server-side request/trace id, most specific first.
REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id", "request-id", "traceparent")

__all__ = [
    "SimpleStoreAuthError",
    "SimpleStoreConfigError",
    "SimpleStoreConflictError",
    "SimpleStoreCredentialsError",
    "SimpleStoreError",
    "SimpleStoreFilterError",
    "SimpleStoreForbiddenError",
    "SimpleStoreListingIncompleteError",
    "SimpleStoreNotFoundError",
    "SimpleStorePathError",
    "SimpleStoreRateLimitError",
    "SimpleStoreResponseError",
    "SimpleStoreServerError",
    "SimpleStoreTransportError",
    "SimpleStoreValidationError",
    "error_from_response",
    "redact",
]


class SimpleStoreError(AirflowException):
    """Base of every SimpleStore error; also raised as is for an unexpected HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        body_excerpt: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.method, self.path, self.status = method, path, status  # the request, and the answer's status
        self.title, self.detail = title, detail  # the problem the server described (redacted, shortened)
        self.request_id, self.body_excerpt = request_id, body_excerpt
        # Seconds the server asked us to wait (Retry-After), already parsed; used by retry.py.
        self.retry_after = retry_after
        # Set by token.py on errors of the token request: that POST is safe to repeat.
        self.token_request = False
        # Set by the hook once its message names the connection (hooks/connection_check.explain_failure).
        self.conn_id: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields would be lost by Exception's default pickling (args only).
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[SimpleStoreError], args: tuple[Any, ...], state: dict[str, Any]) -> SimpleStoreError:
    error = cls(*args)
    error.__dict__.update(state)
    return error


class SimpleStoreConfigError(SimpleStoreError, AirflowFailException):
    """The connection or the hook's arguments are invalid; raised before any request.

    An ``AirflowFailException``: the task fails at once, since no retry can fix a setup step."""


class SimpleStorePathError(SimpleStoreConfigError, ValueError):
    """A path that is not a plain path under the API base (dot segments, a scheme, a host)."""


class SimpleStoreFilterError(SimpleStoreConfigError, TypeError):
    """A list filter its resource does not have, or a value of the wrong kind (resources.Resource.query)."""


class SimpleStoreAuthError(SimpleStoreError):
    """401 from the API (twice), or the token server rejected the client credentials."""


class SimpleStoreCredentialsError(SimpleStoreAuthError, AirflowFailException):
    """The token server rejected the client (invalid_client, unauthorized_client, ...): the task
    fails at once, without using its retries."""


class SimpleStoreForbiddenError(SimpleStoreError):
    """403: the credentials are valid but may not do this."""


class SimpleStoreNotFoundError(SimpleStoreError):
    """404 (or 410): no such object or route."""


class SimpleStoreConflictError(SimpleStoreError):
    """409 (or 412): a stale `version` or a duplicate natural key."""


class SimpleStoreValidationError(SimpleStoreError):
    """400 or 422: the request was refused as invalid."""


class SimpleStoreRateLimitError(SimpleStoreError):
    """429, still there after the retries."""


class SimpleStoreServerError(SimpleStoreError):
    """5xx, still there after the retries; for a POST the outcome may be unknown."""


class SimpleStoreTransportError(SimpleStoreError):
    """No HTTP response: DNS, connection, TLS, timeout or a dropped connection.

    `reason` is one of dns, connect, connect_timeout, tls, read_timeout, write_timeout,
    connection_lost, pool_timeout. `request_sent` is False only where the request provably
    never reached the server, so that a POST may be repeated.
    """

    def __init__(self, message: str, *, reason: str = "connect", request_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason
        self.request_sent = request_sent


class SimpleStoreListingIncompleteError(SimpleStoreError):
    """A listing gave fewer records than its first page promised, or changed while it was read."""


class SimpleStoreResponseError(SimpleStoreError):
    """A response we cannot use: not JSON, not the documented envelope, or a redirect."""


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


_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s/@:]*:)[^\s/@]+@")  # scheme://user:password@
_SECRET_FIELDS = re.compile(  # JSON, Python-repr and form encodings of a secret-bearing field
    r"(?i)([\"']?\b(?:access_token|refresh_token|id_token|client_secret|password)\b[\"']?\s*[:=]\s*[\"']?)"
    r"[^\"'&\s,;}]+"
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Scrub bearer tokens, URL passwords, token/secret fields (JSON or form) and the given literal secrets."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _BEARER.sub(r"\1***", text)
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _SECRET_FIELDS.sub(r"\1***", text)


def _drop_cut_secret(text: str, secrets: Iterable[str | None]) -> str:
    """`text` ends where a body was cut: drop whatever there may be the start of a secret or token."""
    text = _TRAILING_RUN.sub("", text)
    for secret in secrets:
        for length in range(len(secret or "") - 1, 3, -1):
            if text.endswith(secret[:length]):  # type: ignore[index]
                return text[:-length]
    return text


def body_excerpt(content: bytes | str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """A short, one-line, redacted excerpt of a body: redacted first, then cut (never the reverse)."""
    if not content:
        return None
    secrets = tuple(secrets)
    raw_limit = REDACT_WINDOW_CHARS * 4  # bytes enough for the window even in 4-byte UTF-8
    text = content[:raw_limit].decode("utf-8", "replace") if isinstance(content, bytes) else content
    cut = len(content) > raw_limit or len(text) > REDACT_WINDOW_CHARS
    if cut:
        text = _drop_cut_secret(text[:REDACT_WINDOW_CHARS], secrets)
    text = " ".join(redact(text, secrets).split())
    if len(text) > BODY_EXCERPT_CHARS:
        return text[:BODY_EXCERPT_CHARS] + "..."
    return text + "..." if cut else text or None


def request_id_from(headers: Mapping[str, str], secrets: Iterable[str | None] = ()) -> str | None:
    """The server's request id, scrubbed: it goes into messages, and a server may echo anything."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = next((lowered[name] for name in REQUEST_ID_HEADERS if lowered.get(name)), None)
    return redact(value, secrets) if value else None


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
        text = redact(" ".join(str(cause).split()), secrets)[:200]
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
    except ValueError:
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


def _shorten(text: str) -> str:
    return text if len(text) <= PROBLEM_FIELD_CHARS else text[:PROBLEM_FIELD_CHARS] + "..."


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
    title = _shorten(redact(title, secrets)) if title else None
    detail = _shorten(redact(detail, secrets)) if detail else None
    excerpt = body_excerpt(content, secrets)
    request_id = request_id_from(headers, secrets)
    cls = error_class_for_status(status)
    summary = f"HTTP {status}"
    if 300 <= status < 400:
        location = redact(str(headers.get("location") or headers.get("Location") or "?"), secrets)
        summary += f" redirect to {location}; set the connection's API URL to the final address"
    elif title or detail:
        summary += ": " + " - ".join(part for part in (title, detail) if part)
    elif excerpt:
        summary += f": {excerpt}"
    return cls(describe(method, path, summary, request_id=request_id), method=method, path=path, status=status,
               title=title, detail=detail, request_id=request_id, body_excerpt=excerpt, retry_after=retry_after)
