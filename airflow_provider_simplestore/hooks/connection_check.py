"""`SimpleStoreHook.test_connection()` (the UI's Test button): `check_connection` and its messages.

A token fetch and one cheap read, with no retries and no writes, within ``BUDGET`` seconds
whatever the network does. Airflow shows the message to the user (the API server, or 3.3's
worker-side test), so each failure gets a specific, short message that names what to fix and
carries no secret and no raw body. (Named so that pytest, which collects ``*_test.py`` and ``test_*``
functions, never mistakes it for a test.)

`explain_failure` gives a task's failed call the same messages: the hooks' `request()` passes
every error through it, so a task log names the connection and the field to fix as the button does.
"""

from __future__ import annotations

import contextvars
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow_provider_simplestore.client import wire
from airflow_provider_simplestore.client.connection_fields import CONNECTION_EXTRA_DEFAULTS, DEFAULT_API_URL
from airflow_provider_simplestore.client.oauth import oauth_advice
from airflow_provider_simplestore.client.redaction import redact
from airflow_provider_simplestore.client.resources import ENDPOINTS, PROBE_ENDPOINT, RESOURCES
from airflow_provider_simplestore.exceptions import (
    SimpleStoreAuthError,
    SimpleStoreConfigError,
    SimpleStoreError,
    SimpleStoreForbiddenError,
    SimpleStoreNotFoundError,
    SimpleStoreResponseError,
    SimpleStoreTransportError,
)

if TYPE_CHECKING:
    from airflow_provider_simplestore.client.settings import SimpleStoreSettings
    from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook

BUDGET = 9.0  # seconds for the whole test_connection()
REQUEST_TIMEOUT = 4.0  # seconds for each of its two requests (connect, then read)


def check_connection(hook: SimpleStoreHook) -> tuple[bool, str]:
    """(ok, message) for the UI, within ``BUDGET`` seconds."""
    try:
        # Read here, not in the worker: Airflow may hand over an unsaved connection in a ContextVar.
        settings = hook.settings
    except Exception as exc:  # config errors, unknown connection: their messages name the problem
        return False, redact(str(exc))
    outcome: list[tuple[bool, str]] = []
    context = contextvars.copy_context()
    worker = threading.Thread(
        target=lambda: outcome.append(context.run(_check, hook, settings)),
        name="simplestore-test-connection",
        daemon=True,
    )
    worker.start()
    worker.join(BUDGET)
    if outcome:
        return outcome[0]
    return False, (f"No answer from SimpleStore within {BUDGET:g} s; check the API URL, the token URL and the network.")


def _check(hook: SimpleStoreHook, settings: SimpleStoreSettings) -> tuple[bool, str]:
    timeout = (min(settings.connect_timeout, REQUEST_TIMEOUT), min(settings.timeout, REQUEST_TIMEOUT))
    secrets = (settings.client_secret,)
    try:
        token = hook._fetch_token(timeout=timeout)
    except SimpleStoreError as exc:
        return False, _token_check_message(settings, exc)
    except Exception as exc:
        return False, redact(f"Token request failed: {type(exc).__name__}: {exc}", secrets)
    hook.token_cache.put(
        settings.token_key, token, fingerprint=settings.secret_fingerprint, secret=settings.token_share_secret
    )
    probe = ENDPOINTS[PROBE_ENDPOINT]
    call = wire.prepare(settings.base_url, probe.method, probe.path, wire.page_params(None, 0, 1))
    try:
        response = hook._send(call, token.value, timeout=timeout)
        data = wire.decode_response(call.method, call.path, response, secrets=(*secrets, token.value))
        page = wire.parse_page(call.path, data, requested_index=0)
    except SimpleStoreError as exc:
        return False, _api_check_message(settings, exc)
    except Exception as exc:
        return False, redact(f"API check failed: {type(exc).__name__}: {exc}", (*secrets, token.value))
    return True, (
        f"Connected to SimpleStore at {settings.base_url} as client {settings.client_id!r}: "
        f"{page.total_records} products visible."
    )


_REACH = {
    "dns": "its host name does not resolve",
    "connect": "the connection was refused or failed",
    "connect_timeout": "connecting timed out",
    "read_timeout": "it did not answer in time",
    "write_timeout": "sending timed out",
    "tls": "the TLS handshake failed (certificate, or the verify / ca_bundle extras)",
    "connection_lost": "the connection was dropped",
    "pool_timeout": "no connection was available",
}


def _token_check_message(settings: SimpleStoreSettings, exc: SimpleStoreError) -> str:
    return _token_failure(settings, exc) + _token_url_hint(settings)


def _token_failure(settings: SimpleStoreSettings, exc: SimpleStoreError) -> str:
    where = f"the token URL {settings.auth_url}"
    if isinstance(exc, SimpleStoreAuthError) and exc.title not in (None, "invalid_client") and oauth_advice(exc.title):
        return f"Token refused by {where}: {oauth_advice(exc.title)} ({exc.title})."
    if isinstance(exc, SimpleStoreAuthError):
        return (
            f"Credentials rejected: {where} says the client id or secret is wrong "
            f"({exc.title or f'HTTP {exc.status}'}). Check the Client ID and Client Secret."
        )
    if isinstance(exc, SimpleStoreTransportError):
        return (
            f"Cannot reach {where}: {_REACH.get(exc.reason, exc.reason)}. Check the Token URL (extra "
            "auth_url) and the network."
        )
    if isinstance(exc, SimpleStoreNotFoundError):
        return f"Wrong token URL: {where} answered 404. Check the Token URL extra."
    if isinstance(exc, SimpleStoreResponseError):
        return f"Wrong token URL: {where} did not answer like an OAuth2 token server ({_summary(exc)})."
    return f"The token request to {where} failed: {_summary(exc)}."


def _token_url_hint(settings: SimpleStoreSettings) -> str:
    """The commonest paste mistake: an API URL of one's own (the sandbox) with the default Token URL,
    the production one, which then gets the client id and secret meant for the other."""
    if settings.auth_url != CONNECTION_EXTRA_DEFAULTS["auth_url"] or settings.base_url == DEFAULT_API_URL:
        return ""
    local = urlsplit(settings.base_url).hostname in ("127.0.0.1", "localhost", "::1")
    sandbox = f" (for the sandbox: {settings.base_url}/connect/token)" if local else ""
    return (
        f" The Token URL is the production default while the API URL is {settings.base_url}: set the "
        f"extra auth_url{sandbox}."
    )


def _api_check_message(settings: SimpleStoreSettings, exc: SimpleStoreError) -> str:
    where = f"the API URL {settings.base_url}"
    if isinstance(exc, SimpleStoreAuthError):
        return (
            f"The API URL {settings.base_url} rejected the token from {settings.auth_url} (HTTP 401): "
            "do the API URL and the Token URL belong to the same SimpleStore environment?"
        )
    if isinstance(exc, SimpleStoreForbiddenError):
        return f"The credentials work, but {where} refused to list products (HTTP 403)."
    if isinstance(exc, SimpleStoreTransportError):
        return (
            f"Cannot reach {where}: {_REACH.get(exc.reason, exc.reason)}. Check the API base URL (the "
            "connection's host) and the network."
        )
    if isinstance(exc, (SimpleStoreNotFoundError, SimpleStoreResponseError)):
        return (
            f"Wrong API URL: {settings.base_url} does not look like the SimpleStore API "
            f"({_summary(exc)}). It should be the base URL, e.g. {DEFAULT_API_URL}."
        )
    return f"The API check at {where} failed: {_summary(exc)}."


# A list never answers 404 from the right API: on these paths a 404 means a wrong API URL.
_LIST_PATHS = frozenset(r.list_path for r in RESOURCES.values())


def explain_failure(
    settings: SimpleStoreSettings, exc: SimpleStoreError, *, attempts: int, seconds: float
) -> SimpleStoreError:
    """A task's failed call, said as the Test button says it: `exc` itself (its type and fields kept,
    so retries and callers see no difference) with a message that starts with the connection, then
    what failed and the field to change, how often it was tried, and the original message last.
    Configuration errors already name the connection and are left as they are."""
    if isinstance(exc, SimpleStoreConfigError) or getattr(exc, "conn_id", None):
        return exc
    if exc.token_request:
        advice: str | None = _token_check_message(settings, exc)
    elif isinstance(
        exc, (SimpleStoreAuthError, SimpleStoreForbiddenError, SimpleStoreTransportError, SimpleStoreResponseError)
    ) or (isinstance(exc, SimpleStoreNotFoundError) and exc.path in _LIST_PATHS):
        advice = _api_check_message(settings, exc)
    else:  # the call itself was refused (404 of an item, 409, 400, 5xx): the message says why
        advice = None
    tried = f"tried {attempts} times in {seconds:.1f} s" if attempts > 1 else ""
    if advice and tried:
        text = f"{advice} Tried {attempts} times in {seconds:.1f} s; last error: {exc}"
    elif advice:
        text = f"{advice} Error: {exc}"
    else:
        text = f"{exc} ({tried})" if tried else str(exc)
    exc.args = (f"SimpleStore connection {settings.conn_id!r}: {text}", *exc.args[1:])
    exc.conn_id = settings.conn_id
    return exc


def _summary(exc: SimpleStoreError) -> str:
    """The error's message without its `METHOD /path: ` prefix."""
    text = str(exc)
    prefix = " ".join(part for part in (exc.method, exc.path) if part) + ": "
    return text[len(prefix) :] if text.startswith(prefix) else text
