"""An Airflow Connection, checked and typed: `SimpleStoreSettings`.

Everything a hook needs is validated here, before any request, and a bad value raises
`SimpleStoreConfigError` naming the connection and the field. Extras may come from the UI, a
URI or JSON, so "30" and "true" are accepted where 30 and True are. Defaults come from the one
table the connection form also uses (`connection_fields.CONNECTION_EXTRA_DEFAULTS`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import math
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_simplestore.client.connection_fields import (
    CONNECTION_EXTRA_DEFAULTS,
    CONNECTION_FIELDS,
    DEFAULT_API_URL,
)
from airflow_provider_simplestore.client.retry import RetrySettings
from airflow_provider_simplestore.exceptions import SimpleStoreConfigError
from airflow_provider_simplestore.utils.booleans import boolean_word

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Connection

log = logging.getLogger(__name__)

__all__ = ["SimpleStoreConfigError", "SimpleStoreSettings"]

_HOST = re.compile(r"[A-Za-z0-9._~-]+|[0-9A-Fa-f:.]+")  # a DNS name, IPv4, or an IPv6 without brackets
_LEGACY_EXTRA_PREFIX = "extra__simplestore__"


@dataclass(frozen=True)
class SimpleStoreSettings:
    """Validated settings of one SimpleStore connection (the secret stays out of `repr`)."""

    conn_id: str
    client_id: str
    client_secret: str = field(repr=False)
    base_url: str = DEFAULT_API_URL
    auth_url: str = CONNECTION_EXTRA_DEFAULTS["auth_url"]
    timeout: float = CONNECTION_EXTRA_DEFAULTS["timeout"]
    connect_timeout: float = CONNECTION_EXTRA_DEFAULTS["connect_timeout"]
    page_size: int = CONNECTION_EXTRA_DEFAULTS["page_size"]
    verify: bool | str = True  # False, True, or the path of a CA bundle
    allow_insecure_http: bool = False
    retry: RetrySettings = field(default_factory=RetrySettings)
    max_requests_per_second: float | None = None  # client-side cap, shared in the process (pacing.py)
    share_across_processes: bool = True  # one token per worker machine (token_share.py)

    @property
    def token_key(self) -> tuple[str, str]:
        """Key of the process-wide token cache."""
        return (self.auth_url, self.client_id)

    @property
    def token_share_secret(self) -> str | None:
        """What opens the worker-wide token share (token_share.py); None keeps tokens in the process."""
        return self.client_secret if self.share_across_processes else None

    @property
    def secret_fingerprint(self) -> str:
        """Identifies the secret without revealing it (a changed secret must not reuse a token)."""
        return hashlib.sha256(self.client_secret.encode()).hexdigest()[:16]

    @classmethod
    def from_connection(
        cls, conn: Connection, extras: Mapping[str, Any] | None = None, **overrides: Any
    ) -> SimpleStoreSettings:
        """Build from a Connection; `extras` lets async callers pass `await conn.aextra_dejson()`.

        `overrides` (any extra's key, e.g. timeout=5, max_retries=0) win over the connection;
        None means "not overridden".
        """
        conn_id = conn.conn_id
        _check_extra_is_object(conn_id, conn.extra)
        values: dict[str, Any] = dict(conn.extra_dejson if extras is None else extras)
        unknown_overrides = sorted(set(overrides) - set(CONNECTION_EXTRA_DEFAULTS))
        if unknown_overrides:
            raise SimpleStoreConfigError(
                f"SimpleStore connection {conn_id!r}: unknown setting(s) {', '.join(unknown_overrides)}"
            )
        # The pre-2.3 style `extra__simplestore__<key>`: old connections may store it, and 2.11's
        # Test button sends every form extra in both styles. The plain key wins.
        for key in [k for k in values if k.startswith(_LEGACY_EXTRA_PREFIX)]:
            values.setdefault(key.removeprefix(_LEGACY_EXTRA_PREFIX), values.pop(key))
        values.update({k: v for k, v in overrides.items() if v is not None})
        ignored = sorted(set(values) - set(CONNECTION_EXTRA_DEFAULTS))
        if ignored:
            log.warning("SimpleStore connection %r: ignoring unknown extra(s) %s", conn_id, ", ".join(ignored))
        return _Reader(conn_id, values).settings(conn)


def _check_extra_is_object(conn_id: str, extra: Any) -> None:
    """Airflow reads a broken `extra` as {} with a mere warning: every default (the production URLs!)
    would then be used with this connection's secret. Refuse it instead."""
    if extra is None or isinstance(extra, dict) or (isinstance(extra, str) and not extra.strip()):
        return
    try:
        value = json.loads(extra)
    except (TypeError, ValueError) as exc:
        problem = f"is not valid JSON ({exc.msg if isinstance(exc, json.JSONDecodeError) else exc})"
    else:
        if isinstance(value, dict):
            return
        problem = f"must be a JSON object of settings, not a JSON {type(value).__name__}"
    raise SimpleStoreConfigError(
        f"SimpleStore connection {conn_id!r}: field 'extra' {problem}; nothing was sent. Fix the connection's extra."
    )


class _Reader:
    """Reads one field at a time, so every error names the connection and the field."""

    def __init__(self, conn_id: str, extras: Mapping[str, Any]) -> None:
        self.conn_id = conn_id
        self.extras = extras

    def error(self, name: str, problem: str) -> SimpleStoreConfigError:
        return SimpleStoreConfigError(f"SimpleStore connection {self.conn_id!r}: field {name!r} {problem}")

    def raw(self, name: str) -> Any:
        value = self.extras.get(name)
        if isinstance(value, str) and not value.strip():
            value = None
        return CONNECTION_EXTRA_DEFAULTS[name] if value is None else value

    def number(self, name: str, *, minimum: float, exclusive: bool = False, maximum: float | None = None) -> float:
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.error(name, f"must be a number, not {type(value).__name__}")
        try:
            number = float(value)
        except ValueError:
            raise self.error(name, f"must be a number, got {value!r}") from None
        low = number < minimum or (exclusive and number == minimum)
        if not math.isfinite(number) or low or (maximum is not None and number > maximum):
            bound = f"greater than {minimum:g}" if exclusive else f"at least {minimum:g}"
            if maximum is not None:
                bound = f"between {minimum:g} and {maximum:g}"
            raise self.error(name, f"must be {bound}, got {value!r}")
        return number

    def bounded(self, name: str) -> float | None:
        """An optional number within the bounds the connection form declares for it (None: not set)."""
        if self.raw(name) is None:
            return None
        spec = CONNECTION_FIELDS[name]
        return self.number(name, minimum=spec.minimum or 0.0, exclusive=spec.exclusive_minimum, maximum=spec.maximum)

    def integer(self, name: str, *, minimum: int) -> int:
        number = self.number(name, minimum=minimum)
        if not number.is_integer():
            raise self.error(name, f"must be a whole number, got {self.raw(name)!r}")
        return int(number)

    def boolean(self, name: str) -> bool:
        value = self.raw(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        flag = boolean_word(value) if isinstance(value, str) else None
        if flag is None:
            raise self.error(name, f"must be true or false, got {value!r}")
        return flag

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is not None and not isinstance(value, str):
            raise self.error(name, f"must be a string, not {type(value).__name__}")
        return value.strip() if value else None

    def url(self, name: str, value: str, *, allow_insecure_http: bool, port: int | None = None) -> str:
        if "://" not in value:  # a bare host name, as the UI's host field invites
            value = f"https://{value}" + (f":{port}" if port and ":" not in value else "")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise self.error(name, f"is not a valid URL ({exc})") from None
        if parts.username or parts.password:  # first: the messages below show the URL
            raise self.error(name, "must not carry credentials; use the login and password fields")
        if port and parts.port is None:  # a URI or JSON connection may keep the port apart from a full URL
            value = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))
            parts = urlsplit(value)
        elif port and parts.port != port:
            raise self.error(name, f"names port {parts.port} and the connection's port is {port}; keep one of them")
        if parts.scheme not in ("http", "https") or not parts.hostname or not _HOST.fullmatch(parts.hostname):
            raise self.error(name, f"must be an http(s) URL with a host, got {value!r}")
        if parts.query or parts.fragment:
            raise self.error(name, f"must not have a query or fragment, got {value!r}")
        if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
            named = (
                " (a name under .localhost may resolve to any host; use localhost or 127.0.0.1)"
                if parts.hostname.lower().rstrip(".").endswith(".localhost")
                else ""
            )
            raise self.error(
                name,
                f"uses plain http:// to {parts.hostname!r}{named}: the client secret and access token would "
                "travel in clear. Use https://, or set the extra allow_insecure_http to true for a trusted network.",
            )
        return value.rstrip("/")

    def verify(self) -> bool | str:
        verify = self.raw("verify")
        ca_bundle = self.text("ca_bundle")
        field = "ca_bundle"  # the field a bad bundle is blamed on
        if isinstance(verify, str) and boolean_word(verify) is None:
            if not os.path.isfile(verify.strip()):  # `verify` may name a CA bundle, and nothing else
                raise self.error("verify", f"must be true, false or the path of a CA bundle file, got {verify!r}")
            if ca_bundle and ca_bundle != verify.strip():
                raise self.error("verify", "names a CA bundle and so does ca_bundle; keep one of them")
            ca_bundle, field = verify.strip(), "verify"
        elif not self.boolean("verify"):
            if ca_bundle:
                raise self.error("ca_bundle", "is set while verify is false; remove one of them")
            return False
        if ca_bundle is None:
            return True
        if not os.path.isfile(ca_bundle):
            raise self.error(field, f"names no readable file: {ca_bundle!r}")
        try:  # both hooks load it later; a file that is not PEM must fail here, named, not as ssl.SSLError
            ssl.create_default_context(cafile=ca_bundle)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise self.error(field, f"{ca_bundle!r} holds no usable PEM CA certificate ({exc})") from None
        return ca_bundle

    def settings(self, conn: Connection) -> SimpleStoreSettings:
        client_id = (conn.login or "").strip()
        client_secret = conn.password or ""
        if not client_id:
            raise self.error("login", "(client id) is missing")
        if not client_secret:
            raise self.error("password", "(client secret) is missing")
        insecure = self.boolean("allow_insecure_http")
        base_url = self.url(
            "host", (conn.host or "").strip() or DEFAULT_API_URL, allow_insecure_http=insecure, port=conn.port
        )
        auth_url = self.url("auth_url", self.text("auth_url") or "", allow_insecure_http=insecure)
        retry = RetrySettings(
            max_retries=self.integer("max_retries", minimum=0),
            deadline=self.number("retry_deadline", minimum=0, exclusive=True),
            max_wait=self.number("max_retry_wait", minimum=0),
        )
        return SimpleStoreSettings(
            conn_id=self.conn_id,
            client_id=client_id,
            client_secret=client_secret,
            base_url=base_url,
            auth_url=auth_url,
            timeout=self.number("timeout", minimum=0, exclusive=True),
            connect_timeout=self.number("connect_timeout", minimum=0, exclusive=True),
            page_size=self.integer("page_size", minimum=1),
            verify=self.verify(),
            allow_insecure_http=insecure,
            retry=retry,
            max_requests_per_second=self.bounded("max_requests_per_second"),
            share_across_processes=self.boolean("share_across_processes"),
        )


def _is_loopback(hostname: str) -> bool:
    """`localhost` itself or a loopback address. Not a name under `.localhost`: what it resolves to
    is up to the machine's resolver (a hosts file, DNS search domains), so it may be any host."""
    if hostname.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return address.is_loopback or (mapped is not None and mapped.is_loopback)
