"""Connection -> SimpleStoreSettings: defaults, coercion of UI/URI strings, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import Connection

from airflow_provider_simplestore.client.connection_fields import CONNECTION_EXTRA_DEFAULTS, DEFAULT_API_URL
from airflow_provider_simplestore.client.retry import RetrySettings
from airflow_provider_simplestore.client.settings import SimpleStoreConfigError, SimpleStoreSettings
from airflow_provider_simplestore.hooks.simplestore import SimpleStoreHook


def conn(extra: dict[str, Any] | None = None, **fields: Any) -> Connection:
    return Connection(conn_id="shop", extra=json.dumps(extra) if extra is not None else None, **conn_fields(**fields))


def conn_fields(**fields: Any) -> dict[str, Any]:
    return {"conn_type": "simplestore", "login": "client-1", "password": "s3cret-value", **fields}


def test_defaults_come_from_the_connection_form_table() -> None:
    settings = SimpleStoreSettings.from_connection(conn())
    assert settings.base_url == DEFAULT_API_URL
    assert settings.auth_url == CONNECTION_EXTRA_DEFAULTS["auth_url"]
    assert settings.timeout == CONNECTION_EXTRA_DEFAULTS["timeout"]
    assert settings.connect_timeout == CONNECTION_EXTRA_DEFAULTS["connect_timeout"]
    assert settings.page_size == CONNECTION_EXTRA_DEFAULTS["page_size"]
    assert settings.verify is True and settings.allow_insecure_http is False
    assert settings.retry == RetrySettings(
        max_retries=CONNECTION_EXTRA_DEFAULTS["max_retries"],
        deadline=CONNECTION_EXTRA_DEFAULTS["retry_deadline"],
        max_wait=CONNECTION_EXTRA_DEFAULTS["max_retry_wait"],
    )
    assert settings.token_key == (settings.auth_url, "client-1")


def test_strings_from_the_ui_or_a_uri_are_coerced() -> None:
    extra = {
        "timeout": "12.5",
        "connect_timeout": "3",
        "max_retries": "2",
        "retry_deadline": "40",
        "max_retry_wait": "0",
        "page_size": "50",
        "verify": "false",
        "allow_insecure_http": "TRUE",
        "auth_url": " https://auth.example.com/connect/token ",
    }
    settings = SimpleStoreSettings.from_connection(conn(extra, host="http://api.example.com/"))
    assert (settings.timeout, settings.connect_timeout, settings.page_size) == (12.5, 3.0, 50)
    assert settings.retry == RetrySettings(max_retries=2, deadline=40.0, max_wait=0.0)
    assert settings.verify is False and settings.allow_insecure_http is True
    assert settings.base_url == "http://api.example.com"
    assert settings.auth_url == "https://auth.example.com/connect/token"


def test_a_port_kept_apart_from_a_full_url_is_used() -> None:
    # As Airflow parses simplestore://https%3A%2F%2Fapi.example.com:8443 (host and port apart).
    assert SimpleStoreSettings.from_connection(conn(host="https://api.example.com", port=8443)).base_url == (
        "https://api.example.com:8443"
    )
    assert SimpleStoreSettings.from_connection(conn(host="api.example.com", port=8443)).base_url == (
        "https://api.example.com:8443"
    )
    assert SimpleStoreSettings.from_connection(conn(host="https://api.example.com:8443", port=8443)).base_url == (
        "https://api.example.com:8443"
    )
    with pytest.raises(SimpleStoreConfigError, match="'host' names port 9000 and the connection's port is 8443"):
        SimpleStoreSettings.from_connection(conn(host="https://api.example.com:9000", port=8443))


def test_empty_extras_mean_defaults() -> None:
    settings = SimpleStoreSettings.from_connection(conn({"timeout": "", "max_retries": None, "verify": ""}))
    assert settings.timeout == CONNECTION_EXTRA_DEFAULTS["timeout"]
    assert settings.retry.max_retries == CONNECTION_EXTRA_DEFAULTS["max_retries"]
    assert settings.verify is True


def test_prefixed_extras_of_the_2_11_form_are_read_and_the_plain_key_wins(caplog: pytest.LogCaptureFixture) -> None:
    # 2.11's Test button sends each extra plain and as extra__simplestore__<key>; old connections store the latter.
    extra = {"extra__simplestore__timeout": "12", "extra__simplestore__page_size": "7", "page_size": "9"}
    with caplog.at_level("WARNING"):
        settings = SimpleStoreSettings.from_connection(conn(extra))
    assert settings.timeout == 12.0 and settings.page_size == 9
    assert "unknown extra" not in caplog.text


def test_a_connection_from_a_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = "simplestore://client-1:s3cret-value@api.example.com:8443?timeout=7&verify=true&max_retries=1"
    monkeypatch.setenv("AIRFLOW_CONN_SHOP", uri)  # as users give a URI, on every Airflow version
    settings = SimpleStoreHook("shop").settings
    assert settings.base_url == "https://api.example.com:8443"
    assert settings.timeout == 7.0 and settings.retry.max_retries == 1


def test_a_bare_host_gets_https_and_the_port() -> None:
    settings = SimpleStoreSettings.from_connection(conn(host="api.example.com", port=9443))
    assert settings.base_url == "https://api.example.com:9443"


def test_overrides_win_and_none_means_not_overridden() -> None:
    settings = SimpleStoreSettings.from_connection(
        conn({"timeout": 30, "page_size": 10}), timeout=5, max_retries=0, page_size=None
    )
    assert settings.timeout == 5 and settings.retry.max_retries == 0 and settings.page_size == 10


def test_unknown_override_is_an_error() -> None:
    with pytest.raises(SimpleStoreConfigError, match=r"'shop'.*unknown setting.*colour"):
        SimpleStoreSettings.from_connection(conn(), colour="red")


def test_the_secret_is_not_in_the_repr() -> None:
    settings = SimpleStoreSettings.from_connection(conn())
    assert "s3cret-value" not in repr(settings)
    assert "s3cret-value" not in settings.secret_fingerprint


@pytest.mark.parametrize(
    ("fields", "extra", "field", "problem"),
    [
        ({"login": None}, None, "login", "client id"),
        ({"login": "  "}, None, "login", "client id"),
        ({"password": None}, None, "password", "client secret"),
        ({"host": "ftp://api.example.com"}, None, "host", "http"),
        ({"host": "https://"}, None, "host", "with a host"),
        ({"host": "https://api.example.com:99999"}, None, "host", "not a valid URL"),
        ({"host": "https://user:pw@api.example.com"}, None, "host", "credentials"),
        ({"host": "https://api.example.com/?x=1"}, None, "host", "query"),
        ({}, {"timeout": "abc"}, "timeout", "must be a number"),
        ({}, {"timeout": 0}, "timeout", "greater than 0"),
        ({}, {"timeout": [1]}, "timeout", "not list"),
        ({}, {"timeout": True}, "timeout", "not bool"),
        ({}, {"timeout": "nan"}, "timeout", "greater than 0"),
        ({}, {"connect_timeout": "-1"}, "connect_timeout", "greater than 0"),
        ({}, {"max_retries": -1}, "max_retries", "at least 0"),
        ({}, {"max_retries": "2.5"}, "max_retries", "whole number"),
        ({}, {"retry_deadline": 0}, "retry_deadline", "greater than 0"),
        ({}, {"max_retry_wait": "-3"}, "max_retry_wait", "at least 0"),
        ({}, {"page_size": 0}, "page_size", "at least 1"),
        ({}, {"page_size": {"a": 1}}, "page_size", "not dict"),
        ({}, {"allow_insecure_http": "maybe"}, "allow_insecure_http", "true or false"),
        ({}, {"verify": 5}, "verify", "true or false"),
        ({}, {"auth_url": 42}, "auth_url", "must be a string"),
        ({}, {"auth_url": "not a url"}, "auth_url", "with a host"),
        ({}, {"ca_bundle": "/no/such/bundle.pem"}, "ca_bundle", "no readable file"),
        ({}, {"verify": False, "ca_bundle": "/etc/hostname"}, "ca_bundle", "verify is false"),
    ],
)
def test_bad_settings_name_the_connection_and_the_field(
    fields: dict[str, Any], extra: dict[str, Any] | None, field: str, problem: str
) -> None:
    with pytest.raises(SimpleStoreConfigError) as info:
        SimpleStoreSettings.from_connection(conn(extra, **fields))
    message = str(info.value)
    assert "'shop'" in message and f"'{field}'" in message and problem in message
    assert "s3cret-value" not in message


@pytest.mark.parametrize(
    "url",
    [
        "ftp://client:url-pw-123@api.example.com",
        "https://client:url-pw-123@bad_host!",
        "client:url-pw-123@api.example.com",
    ],
)
@pytest.mark.parametrize("field", ["host", "auth_url"])
def test_a_password_in_a_url_is_never_echoed(field: str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever else is wrong with the URL, the error (and test_connection's message) hides its password."""
    fields = {"host": url} if field == "host" else {}
    extra = {"auth_url": url} if field == "auth_url" else {}
    with pytest.raises(SimpleStoreConfigError, match=f"'{field}' must not carry credentials") as info:
        SimpleStoreSettings.from_connection(conn(extra, **fields))
    assert "url-pw-123" not in str(info.value)
    monkeypatch.setenv("AIRFLOW_CONN_URL_PW", json.dumps({**conn_fields(**fields), "extra": extra}))
    ok, message = SimpleStoreHook("url_pw").test_connection()
    assert not ok and "credentials" in message and "url-pw-123" not in message


@pytest.mark.parametrize("field", ["host", "auth_url"])
def test_plain_http_to_a_remote_host_is_refused_because_the_secret_travels_in_clear(field: str) -> None:
    fields = {"host": "http://api.example.com"} if field == "host" else {}
    extra = {"auth_url": "http://auth.example.com/connect/token"} if field == "auth_url" else {}
    with pytest.raises(SimpleStoreConfigError, match=rf"'shop'.*'{field}'.*in clear.*allow_insecure_http"):
        SimpleStoreSettings.from_connection(conn(extra, **fields))
    allowed = SimpleStoreSettings.from_connection(conn({**extra, "allow_insecure_http": True}, **fields))
    assert allowed.allow_insecure_http


@pytest.mark.parametrize("host", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:80", "http://127.8.9.1"])
def test_plain_http_to_loopback_is_fine(host: str) -> None:
    extra = {"auth_url": host + "/connect/token"}
    assert SimpleStoreSettings.from_connection(conn(extra, host=host)).base_url == host


def test_verify_may_name_a_ca_bundle(tmp_path: Any) -> None:
    import certifi

    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())  # a real bundle: it is loaded to check it
    assert SimpleStoreSettings.from_connection(conn({"verify": str(bundle)})).verify == str(bundle)
    assert SimpleStoreSettings.from_connection(conn({"ca_bundle": str(bundle)})).verify == str(bundle)


def test_the_hook_does_no_io_until_used_then_names_the_bad_field(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = SimpleStoreHook("nowhere_conn")  # no such connection: fine until first use
    assert hook.simplestore_conn_id == "nowhere_conn"
    monkeypatch.setenv(
        "AIRFLOW_CONN_BAD_TIMEOUT",
        json.dumps({"conn_type": "simplestore", "login": "a", "password": "b-secret", "extra": {"timeout": "soon"}}),
    )
    with pytest.raises(SimpleStoreConfigError, match=r"'bad_timeout'.*'timeout'.*'soon'"):
        SimpleStoreHook("bad_timeout").request("GET", "/v1/configuration")


def test_hook_keyword_overrides_reach_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_X", json.dumps({"conn_type": "simplestore", "login": "a", "password": "b"}))
    hook = SimpleStoreHook("shop_x", timeout=3, max_retries=1, retry_deadline=9, page_size=7)
    settings = hook.settings
    assert (settings.timeout, settings.retry.max_retries, settings.retry.deadline, settings.page_size) == (3, 1, 9, 7)
    with pytest.raises(SimpleStoreConfigError, match=r"'shop_x'.*'max_retries'"):
        _ = SimpleStoreHook("shop_x", max_retries=-2).settings
