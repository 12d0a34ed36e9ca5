"""The provider's exceptions, and how an HTTP error response becomes one.

Every error carries what a user needs to act on it (method, path, status, the problem's title
and detail, the server's request id) and a short, redacted excerpt of the body. Nothing here ever
puts a client secret or an access token into a message: bodies and texts pass through `redact`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from airflow_provider_simplestore.compat import AirflowException, AirflowFailException

BODY_EXCERPT_CHARS = 300
# Redaction reads at most this much of a body, title or detail: far more than a message shows, so
# a secret is recognised before it is cut, and a bounded cost whatever a server sends.
REDACT_WINDOW_CHARS = 16 * 1024
PROBLEM_FIELD_CHARS = 1000  # title/detail kept in a message (after redaction)
# A run of characters that may be part of a token, matched at the start of the reversed window
# (a `\Z`-anchored search would retry from every position: quadratic). Dropped, never shown.
_RUN = re.compile(r"[^\s\"',;{}\[\]<>&]*")
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
    "redact_window",
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
# scheme://user:password@ (the scheme is at most 32 characters: an unbounded one made every
# position of a long `a.a.a...` run a candidate scanned to its end, quadratic)
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]{0,31}://[^\s/@:]*:)[^\s/@]+@")
_SECRET_FIELDS = re.compile(  # JSON, Python-repr and form encodings of a secret-bearing field
    r"(?i)([\"']?\b(?:access_token|refresh_token|id_token|client_secret|password)\b[\"']?\s*[:=]\s*[\"']?)"
    r"[^\"'&\s,;}]+"
)


def _char_pattern(char: str) -> str:
    """`char` as a server may echo it: as is, JSON-escaped (`\\"`, `\\u00e9`, `\\/`), percent-encoded
    (either hex case; `+` for a space, as forms encode it)."""
    escapes = {json.dumps(char)[1:-1], json.dumps(char, ensure_ascii=False)[1:-1], quote(char, safe="")}
    if char == "/":
        escapes.add("\\/")
    if char == " ":
        escapes.add("+")
    escapes.discard(char)
    if not escapes:
        return re.escape(char)
    return "(?:" + "|".join([re.escape(char), *(f"(?i:{re.escape(form)})" for form in sorted(escapes))]) + ")"


@functools.lru_cache(maxsize=64)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    """One pattern for every echo of `secret`, however each character was escaped (a server may
    escape some and not others: JavaScript leaves `!` alone where Python encodes it)."""
    return re.compile("".join(_char_pattern(char) for char in secret))


def _json_forms(secret: str) -> set[str]:
    """`secret` as is and JSON-escaped: the forms that may hold a delimiter at a cut."""
    escaped = (json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1])
    return {secret, *escaped, *(form.replace("/", "\\/") for form in escaped)}


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Scrub bearer tokens, URL passwords, token/secret fields (JSON or form) and the given secrets
    (4 characters or more), as is, JSON-escaped or percent-encoded. Linear in the text's length;
    callers holding server-sent text pass a bounded window (`redact_window`)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = _secret_pattern(secret).sub("***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _URL_PASSWORD.sub(r"\1***@", text)
    return _SECRET_FIELDS.sub(r"\1***", text)


def _drop_cut_secret(text: str, secrets: Iterable[str | None]) -> str:
    """`text` ends where a body was cut: drop whatever there may be the start of a secret or token."""
    run = _RUN.match(text[::-1])  # always matches (`*`), perhaps empty
    text = text[: len(text) - (run.end() if run else 0)]
    forms = sorted({form for secret in secrets if secret for form in _json_forms(secret)}, key=len, reverse=True)
    for form in forms:
        for length in range(len(form) - 1, 3, -1):
            if text.endswith(form[:length]):
                return text[:-length]
    return text


def redact_window(text: str, secrets: Iterable[str | None] = ()) -> tuple[str, bool]:
    """The first REDACT_WINDOW_CHARS of `text`, redacted (a secret across the cut dropped first),
    and whether it was cut: what every server-sent text goes through, so the cost is bounded."""
    secrets = tuple(secrets)
    if len(text) <= REDACT_WINDOW_CHARS:
        return redact(text, secrets), False
    return redact(_drop_cut_secret(text[:REDACT_WINDOW_CHARS], secrets), secrets), True


def body_excerpt(content: bytes | str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """A short, one-line, redacted excerpt of a body: redacted first, then cut (never the reverse)."""
    if not content:
        return None
    raw_limit = REDACT_WINDOW_CHARS * 4  # bytes enough for the window even in 4-byte UTF-8
    text = content[:raw_limit].decode("utf-8", "replace") if isinstance(content, bytes) else content
    text, cut = redact_window(text, secrets)
    cut = cut or len(content) > raw_limit
    text = " ".join(text.split())
    if len(text) > BODY_EXCERPT_CHARS:
        return text[:BODY_EXCERPT_CHARS] + "..."
    return text + "..." if cut else text or None


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
    return cls(describe(method, path, summary, request_id=request_id), method=method, path=path, status=status,
               title=title, detail=detail, request_id=request_id, body_excerpt=excerpt, retry_after=retry_after)
