"""The `simplestore` connection's extras and defaults: one table, read by the hook and the form.

`settings.py` and `retry.py` take their defaults from here, and `get_provider_info.py` builds the
connection form (``conn-fields``) from it, so the form and the hook cannot disagree. This module
imports nothing (it is read at discovery, at DAG parse and by every hook).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_CONN_ID = "simplestore_default"
CONN_TYPE = "simplestore"
DEFAULT_API_URL = "https://api.simplestore.io"
DEFAULT_AUTH_URL = "https://auth.simplestore.io/connect/token"


@dataclass(frozen=True)
class ConnField:
    """One extra: its form label, JSON type and bounds, and the default the hook applies.

    Every field may be empty (null), which means the default.
    """

    label: str
    type: str  # JSON schema type: string, number, integer or boolean
    default: Any = None
    minimum: float | None = None
    exclusive_minimum: bool = False
    maximum: float | None = None
    format: str | None = None

    def schema(self) -> dict[str, Any]:
        """The field's JSON schema, as the `conn-fields` of the provider info declare it."""
        schema: dict[str, Any] = {"type": [self.type, "null"]}
        if self.format is not None:
            schema["format"] = self.format
        if self.minimum is not None:
            schema["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.default is not None:
            schema["default"] = self.default
        return schema


# No key may contain secret/password/token/key words: the UI would redact its value.
CONNECTION_FIELDS: dict[str, ConnField] = {
    "auth_url": ConnField("Token URL", "string", DEFAULT_AUTH_URL, format="url"),
    "timeout": ConnField("Request timeout (s)", "number", 30, minimum=1),
    "connect_timeout": ConnField("Connect timeout (s)", "number", 10, minimum=1),
    "max_retries": ConnField("Max retries", "integer", 5, minimum=0),
    "retry_deadline": ConnField("Retry deadline (s)", "number", 300, minimum=1),
    "max_retry_wait": ConnField("Max wait between retries (s)", "number", 60, minimum=0),
    "page_size": ConnField("Page size", "integer", 100, minimum=1),
    "verify": ConnField("Verify TLS certificates", "boolean", True),
    "ca_bundle": ConnField("CA bundle path", "string"),
    "allow_insecure_http": ConnField("Allow plain http://", "boolean", False),
    # At least one request every 10 s (each request waits 1/rate: 0.001 would be 17 minutes, outside
    # every deadline); at most 10,000/s, beyond which a cap means nothing (a typo, not a choice).
    "max_requests_per_second": ConnField("Max requests per second", "number", minimum=0.1, maximum=10_000),
    "share_across_processes": ConnField("Share the access grant across task processes", "boolean", True),
}

# The form's help text of each field (one line each; the form shows it under the field).
DESCRIPTIONS: dict[str, str] = {
    "auth_url": "OAuth2 client-credentials token endpoint.",
    "timeout": "Read timeout of each HTTP request, in seconds.",
    "connect_timeout": "Time allowed to open a TCP/TLS connection, in seconds.",
    "max_retries": "Retries of a transient failure (connection error, 429, 5xx) before giving up.",
    "retry_deadline": "Total time one call may spend in retries, in seconds.",
    "max_retry_wait": "Upper bound on one backoff or Retry-After wait, in seconds.",
    "page_size": "Records requested per page when listing; the server may apply less.",
    "verify": "Turn off only for a trusted test host.",
    "ca_bundle": "Path to a PEM file of trusted CAs, used instead of the system store.",
    "allow_insecure_http": "Allow http:// to a non-loopback host. The client secret would travel in clear.",
    "max_requests_per_second": "Client-side cap shared by the account (API URL and client id) in one worker "
    "process; the lowest of its connections' caps applies. 0.1 to 10000; empty for none.",
    "share_across_processes": "One grant per worker machine instead of one per task process: kept in a file that "
    "only this OS user can read, encrypted with the client secret.",
}

# key -> the default the hook applies when the extra is absent or empty.
CONNECTION_EXTRA_DEFAULTS: dict[str, Any] = {key: spec.default for key, spec in CONNECTION_FIELDS.items()}


def conn_fields() -> dict[str, dict[str, Any]]:
    """The `conn-fields` of the connection type: label, description and JSON schema per extra."""
    return {
        key: {"label": spec.label, "description": DESCRIPTIONS[key], "schema": spec.schema()}
        for key, spec in CONNECTION_FIELDS.items()
    }
