"""The provider's exceptions: one hierarchy, every class a subclass of `SimpleStoreError`.

Every error carries what a user needs to act on it (method, path, status, the problem's title
and detail, the server's request id) and a short, redacted excerpt of the body. How a response
becomes one of them, and the redaction of what the server sent: `client/failures.py`,
`client/redaction.py`.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_simplestore.compat import AirflowException, AirflowFailException

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
